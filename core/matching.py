"""Propensity-score nearest-neighbour matching that reproduces R's ``MatchIt``.

:func:`match_nearest` does what

``MatchIt::matchit(f, method = "nearest", distance = "glm", link = "linear.logit", ...)``

(version 4.7.2) does for ``caliper``, ``ratio``, ``replace``, ``exact`` and
``m.order`` in {"largest", "smallest", "data"}, and returns what ``match.data()`` returns:

* the propensity score is an unpenalised logistic regression of the treatment on an
  intercept and the covariates' model matrix (:func:`core.design.build_design`: numeric
  columns as they are, categorical columns as treatment contrasts with the first level as
  reference), computed as R's ``glm`` computes it, so the logits are R's to the last bit
  (:func:`core.propensity.fit_propensity`); units are matched on its linear predictor (the
  logit). The reference level only changes coefficient names, not the logits; note that R
  sorts character levels by its locale (R 4.2 in C.UTF-8 put ">3" before "1"), Python by
  code point: pass a Categorical to fix the order;
* ``distance="firth"`` fits Firth's penalised logistic regression instead (R's ``brglm2``;
  finite when a covariate separates the arms), and a vector ``distance`` is matched on as it
  is, as MatchIt does with a numeric ``distance``; ``drop_constant`` and
  ``min_level_count`` leave out constant covariates and pool rare levels (:mod:`core.design`);
* the caliper is in standard deviations (n - 1) of the distance over all analysed units
  (R's ``sd`` to the last bit), and a distance equal to the caliper is accepted;
* distances are compared exactly, as MatchIt compares them: units equally far in exact
  arithmetic but not in floating point are told apart by the same rounding as in R;
* treated units are matched greedily in the chosen order (ties in data order); each takes
  the closest eligible control; with ``ratio = k`` every treated unit gets its first control
  before any gets its second; two equally close controls are separated exactly as
  MatchIt's sorted scan separates them (the one its alternating left/right scan reaches
  first, the left one when both are equally far in sort positions); with replacement and
  ``ratio > 1`` ties are cut as MatchIt's ``std::partial_sort`` (libstdc++) cuts them;
* with replacement the order is irrelevant (MatchIt switches it to "data") and every
  treated unit takes its nearest control(s) among all controls;
* ``subclass`` numbers the matched sets 1..m in the data order of their treated unit and
  ``weights`` are MatchIt's ATT weights (treated 1, controls 1/k per set, rescaled to sum to
  the number of matched controls).

:func:`balance` and :func:`balance_table` give MatchIt's ``summary()`` balance statistics.

Examples
--------
>>> import pandas as pd
>>> from core.dictionary import C
>>> df = pd.DataFrame({C.AGE: [50, 60, 52, 61, 70, 40],
...                    C.SURGERY: [1, 1, 0, 0, 0, 0]})
>>> res = match_nearest(df, C.SURGERY, [C.AGE], caliper=None)
>>> res.n_treated_matched, res.n_control_matched, res.n_control_unmatched
(2, 2, 2)
>>> res.matched.index.tolist()   # the two treated and the controls aged 52 and 61
[0, 1, 2, 3]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from core.design import DroppedCovariate, PooledLevels, build_design, factor_codes
from core.design import is_categorical as _is_categorical
from core.propensity import (
    METHODS,
    PropensityFit,
    SeparationError,
    fit_design,
    fit_firth,
    fit_propensity,
    single_threaded_blas,
)
from core.propensity import treatment_vector as _treatment_vector

__all__ = [
    "MatchSettings",
    "MatchResult",
    "match_nearest",
    "balance",
    "balance_table",
    "design_matrix",
    "fit_propensity",
    "fit_firth",
    "PropensityFit",
    "SeparationError",
    "DroppedCovariate",
    "PooledLevels",
]

Order = Literal["largest", "smallest", "data"]
_ORDERS = ("largest", "smallest", "data")
_OUT_COLUMNS = ("subclass", "weights", "distance")


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchSettings:
    """The settings a match was made with (validated).

    ``distance`` is ``"glm"``, ``"firth"`` or ``"user"`` (a given vector);
    ``drop_constant`` and ``min_level_count`` are the design repairs asked for
    (:mod:`core.design`).
    """

    treatment: str
    covariates: tuple[str, ...]
    caliper: float | None
    ratio: int
    replace: bool
    order: Order
    exact: tuple[str, ...]
    distance: str = "glm"
    drop_constant: bool = False
    min_level_count: int | None = None


@dataclass(frozen=True, eq=False)
class MatchResult:
    """Outcome of :func:`match_nearest`.

    Attributes
    ----------
    matched : pd.DataFrame
        Matched rows of the input (same index labels, data order) plus ``subclass``
        (matched-set id 1..m, ``Int64``; ``<NA>`` when matching with replacement, as
        MatchIt gives none), ``weights`` (ATT weights) and ``distance`` (logit).
    distance : pd.Series
        Distance (the logit, or the given vector) of every input row (NaN for rows not
        analysed: missing values).
    coefficients : pd.Series
        Propensity model coefficients (R's names); empty if no model was fitted.
    n_treated, n_control : int
        Analysed units per arm (after dropping rows with missing values).
    n_treated_matched, n_control_matched : int
        Matched units per arm (a control used several times counts once).
    n_dropped_missing : int
        Rows dropped for a missing treatment, covariate, ``exact`` value or distance.
    caliper_logit : float or None
        The caliper in distance units (``caliper`` times the SD of the distance).
    settings : MatchSettings
    reason : str or None
        Why the match is empty (None when some units were matched).
    model_covariates : tuple of str
        Covariates in the propensity model (``settings.covariates`` minus ``dropped``; empty
        for a given distance vector).
    dropped : tuple of DroppedCovariate
        Covariates left out of the model (``drop_constant=True``), with the reason.
    pooled : tuple of PooledLevels
        Rare levels pooled (``min_level_count``), with the counts per arm.
    """

    matched: pd.DataFrame
    distance: pd.Series
    coefficients: pd.Series
    n_treated: int
    n_control: int
    n_treated_matched: int
    n_control_matched: int
    n_dropped_missing: int
    caliper_logit: float | None
    settings: MatchSettings
    reason: str | None = None
    model_covariates: tuple[str, ...] = ()
    dropped: tuple[DroppedCovariate, ...] = ()
    pooled: tuple[PooledLevels, ...] = ()
    _pair_treated: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp), repr=False)
    _pair_control: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp), repr=False)
    _pair_round: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp), repr=False)
    _pair_subclass: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp), repr=False)
    _index: pd.Index = field(default_factory=lambda: pd.RangeIndex(0), repr=False)

    @property
    def n_treated_unmatched(self) -> int:
        """Analysed treated units without a match."""
        return self.n_treated - self.n_treated_matched

    @property
    def n_control_unmatched(self) -> int:
        """Analysed control units never used as a match."""
        return self.n_control - self.n_control_matched

    @property
    def empty(self) -> bool:
        """True when nobody was matched (see :attr:`reason`)."""
        return self.n_treated_matched == 0

    def pairs(self) -> pd.DataFrame:
        """One row per (treated, control) match, for a "list of pairs" view.

        Returns
        -------
        pd.DataFrame
            Columns ``treated_id`` and ``control_id`` (index labels of the input),
            ``treated_distance``, ``control_distance``, ``difference`` (absolute logit
            difference), ``subclass`` (the treated unit's matched-set number; with
            replacement its rank among matched treated units) and ``round`` (1 for the
            first control of a treated unit, 2 for its second, ...), sorted by subclass
            and round.

        Examples
        --------
        >>> import pandas as pd
        >>> from core.dictionary import C
        >>> df = pd.DataFrame({C.AGE: [50, 60, 52, 61, 70, 40],
        ...                    C.SURGERY: [1, 1, 0, 0, 0, 0]}, index=list("abcdef"))
        >>> res = match_nearest(df, C.SURGERY, [C.AGE], caliper=None)
        >>> res.pairs()[["treated_id", "control_id", "subclass"]].to_dict("list")
        {'treated_id': ['a', 'b'], 'control_id': ['c', 'd'], 'subclass': [1, 2]}
        """
        d = self.distance.to_numpy()
        t, c = self._pair_treated, self._pair_control
        out = pd.DataFrame(
            {
                "treated_id": self._index[t],
                "control_id": self._index[c],
                "treated_distance": d[t],
                "control_distance": d[c],
                "difference": np.abs(d[t] - d[c]),
                "subclass": self._pair_subclass,
                "round": self._pair_round,
            }
        )
        return out.sort_values(["subclass", "round"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Design matrix (kept here for existing callers; the builder is core.design)
# ---------------------------------------------------------------------------------------


def design_matrix(data: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Model matrix without intercept, as R's ``model.matrix`` builds it.

    :func:`core.design.build_design` with missing values kept: numeric and boolean columns
    are used as they are (booleans as 0/1). Categorical columns (``object``, ``string`` or
    ``category`` dtype) become one 0/1 column per level except the first (treatment
    contrasts), named ``<column><level>`` as R names them. The first level is the first
    category of a pandas Categorical, otherwise the first in sorted order (Python's order,
    R's in the C locale); levels absent from ``data`` are ignored. Missing values stay missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from core.dictionary import C, Regimen
    >>> df = pd.DataFrame({C.AGE: [60, 70, 65],
    ...                    C.CHEMO_REGIMEN: [Regimen.GEM, Regimen.FOLFIRINOX, Regimen.GEM]})
    >>> design_matrix(df, [C.AGE, C.CHEMO_REGIMEN]).columns.tolist()
    ['age_at_diagnosis', 'chemo_regimenGEM']
    """
    return build_design(data, covariates, missing="propagate").matrix


# ---------------------------------------------------------------------------------------
# Matching engine (arrays)
# ---------------------------------------------------------------------------------------


def _find(parent: list[int], i: int) -> int:
    """Union-find root with path halving."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _heap_select(dists: list[float], k: int) -> list[int]:
    """The first ``k`` indices after libstdc++'s ``std::partial_sort(first, first + k, last)``.

    Reproduces its heap selection and ``sort_heap``, so ties come out as in MatchIt.
    """
    ind = list(range(len(dists)))

    def less(a: int, b: int) -> bool:
        return dists[a] < dists[b]

    def push_heap(hole: int, top: int, value: int) -> None:
        parent = (hole - 1) // 2
        while hole > top and less(ind[parent], value):
            ind[hole] = ind[parent]
            hole = parent
            parent = (hole - 1) // 2
        ind[hole] = value

    def adjust_heap(hole: int, length: int, value: int) -> None:
        top = hole
        child = hole
        while child < (length - 1) // 2:
            child = 2 * (child + 1)
            if less(ind[child], ind[child - 1]):
                child -= 1
            ind[hole] = ind[child]
            hole = child
        if (length & 1) == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            ind[hole] = ind[child - 1]
            hole = child - 1
        push_heap(hole, top, value)

    if k >= 2:
        parent = (k - 2) // 2
        while True:
            adjust_heap(parent, k, ind[parent])
            if parent == 0:
                break
            parent -= 1
    for i in range(k, len(ind)):
        if less(ind[i], ind[0]):
            value = ind[i]
            ind[i] = ind[0]
            adjust_heap(0, k, value)
    # std::sort_heap: the kept ones in the order partial_sort leaves them
    last = k
    while last > 1:
        last -= 1
        value = ind[last]
        ind[last] = ind[0]
        adjust_heap(0, last, value)
    return ind[:k]


def _take_closest(ids: list[int], dists: list[float], k: int) -> list[int]:
    """MatchIt's ``take_closest``: the ``k`` closest candidates, ties as libstdc++ breaks them."""
    n = len(ids)
    if n <= 1:
        return ids
    if n <= k:
        order = sorted(range(n), key=lambda i: dists[i])  # stable, as insertion sort is
        return [ids[i] for i in order]
    return [ids[i] for i in _heap_select(dists, k)]


def _scan_k(
    p: int,
    dt: float,
    lo: int,
    hi: int,
    j: int,
    cpos: np.ndarray,
    cdist: np.ndarray,
    k: int,
    cal: float,
) -> list[int]:
    """MatchIt's ``find_control_vec`` with ``ratio = k``, all controls eligible.

    Controls of the treated unit's stratum are ``lo..hi-1`` (sorted by position ``cpos``);
    ``j`` is the first of them to the right of the treated unit (position ``p``). The
    left/right alternation of MatchIt's scan over the whole sorted sample reaches a control
    ``a`` places to the left before one ``b`` places to the right exactly when a <= b.
    """
    il, ir = j - 1, j
    l_stop = il < lo
    r_stop = ir >= hi
    nl = nr = 0
    ids: list[int] = []
    ds: list[float] = []
    while not (l_stop and r_stop):
        if l_stop:
            left = False
        elif r_stop:
            left = True
        else:
            left = p - cpos[il] <= cpos[ir] - p
        c = il if left else ir
        d = abs(dt - cdist[c])
        stop = False
        if d > cal:
            stop = True
        elif len(ids) >= k and sum(1 for x in ds if x < d) >= k:
            stop = True
        else:
            ids.append(c)
            ds.append(d)
            if left:
                nl += 1
                stop = nl == k
            else:
                nr += 1
                stop = nr == k
        if left:
            il -= 1
            l_stop = stop or il < lo
        else:
            ir += 1
            r_stop = stop or ir >= hi
    return _take_closest(ids, ds, k)


def _match_arrays(
    dist: np.ndarray,
    treat: np.ndarray,
    strata: np.ndarray | None,
    caliper: float | None,
    ratio: int,
    replace: bool,
    order: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy nearest-neighbour matching as MatchIt's ``nn_matchC_vec``.

    Returns arrays (treated unit, control unit, round), unit numbers being positions in
    ``dist``, in the order the matches were made.
    """
    n = dist.shape[0]
    gorder = np.argsort(dist, kind="stable")  # R's order(): ties in data order
    gpos = np.empty(n, dtype=np.int64)
    gpos[gorder] = np.arange(n)
    idx_t = np.flatnonzero(treat)
    n1 = idx_t.size
    cal = math.inf if caliper is None else float(caliper)
    # controls sorted by (stratum, position); [lo, hi) = the treated unit's stratum's
    # controls, j = the first of them to its right
    is_c_sorted = ~treat[gorder]
    cunit = gorder[is_c_sorted]
    pt = gpos[idx_t]
    if strata is None:
        m = cunit.size
        lo_t = np.zeros(n1, dtype=np.int64)
        hi_t = np.full(n1, m, dtype=np.int64)
        j_t = (np.cumsum(is_c_sorted) - is_c_sorted)[pt]
    else:
        s = strata.astype(np.int64)
        cunit = cunit[np.argsort(s[cunit], kind="stable")]
        ckey = s[cunit] * (n + 1) + gpos[cunit]
        st = s[idx_t]
        lo_t = np.searchsorted(ckey, st * (n + 1), side="left")
        hi_t = np.searchsorted(ckey, (st + 1) * (n + 1), side="left")
        j_t = np.searchsorted(ckey, st * (n + 1) + pt, side="left")
    cpos = gpos[cunit]
    cdist = dist[cunit]
    m = cunit.size

    # Nearest control of every treated unit with all controls available (MatchIt's choice
    # and tie rule, vectorised): -1 when none within the caliper.
    if m:
        has_l = j_t - 1 >= lo_t
        has_r = j_t < hi_t
        jl = np.where(has_l, j_t - 1, 0)
        jr = np.where(has_r, j_t, 0)
        dt = dist[idx_t]
        dl = np.abs(dt - cdist[jl])
        dr = np.abs(dt - cdist[jr])
        ok_l = has_l & (dl <= cal)
        ok_r = has_r & (dr <= cal)
        take_l = ok_l & (~ok_r | (dl < dr) | ((dl == dr) & (pt - cpos[jl] <= cpos[jr] - pt)))
        take_r = ok_r & ~take_l
        first_pick = np.where(take_l, jl, np.where(take_r, jr, -1))
    else:
        first_pick = np.full(n1, -1, dtype=np.int64)

    reuse_one_shot = replace or n1 <= 1
    if reuse_one_shot:
        if ratio == 1:
            got = first_pick >= 0
            return idx_t[got], cunit[first_pick[got]], np.ones(int(got.sum()), dtype=np.int64)
        tt: list[int] = []
        cc: list[int] = []
        rr: list[int] = []
        pt_l = gpos[idx_t].tolist()
        dt_l = dist[idx_t].tolist()
        for i in range(n1):
            found = _scan_k(pt_l[i], dt_l[i], int(lo_t[i]), int(hi_t[i]), int(j_t[i]), cpos, cdist, ratio, cal)
            for r, c in enumerate(found, start=1):
                tt.append(int(idx_t[i]))
                cc.append(int(cunit[c]))
                rr.append(r)
        return np.asarray(tt, dtype=np.int64), np.asarray(cc, dtype=np.int64), np.asarray(rr, dtype=np.int64)

    # ---- without replacement: rounds, each treated unit takes the closest unused control
    if order == "largest":
        ord_t = np.argsort(-dist[idx_t], kind="stable")
    elif order == "smallest":
        ord_t = np.argsort(dist[idx_t], kind="stable")
    else:
        ord_t = np.arange(n1)
    # union-find "nearest unused at or left of i" (index -1 = none) and "at or right" (m = none)
    left_par = list(range(m + 1))  # slot i + 1 is control i; slot 0 is the sentinel (none)
    right_par = list(range(m + 1))
    cpos_l = cpos.tolist()
    cdist_l = cdist.tolist()
    pt_all = gpos[idx_t].tolist()
    dt_all = dist[idx_t].tolist()
    lo_l = lo_t.tolist()
    hi_l = hi_t.tolist()
    j_l = j_t.tolist()
    alive = np.ones(n1, dtype=bool).tolist()
    span_l = list(pt_all)  # leftmost global position of the treated unit and its matches
    span_r = list(pt_all)
    out_t: list[int] = []
    out_c: list[int] = []
    out_r: list[int] = []
    remaining = m
    ord_list = ord_t.tolist()
    idx_t_l = idx_t.tolist()

    def find_left(i: int) -> int:  # largest unused control index <= i, or -1
        x = i + 1
        while left_par[x] != x:
            left_par[x] = left_par[left_par[x]]
            x = left_par[x]
        return x - 1 if x > 0 else -1

    # Round 1 fast path: a treated unit whose first pick is still unused takes it (removing
    # controls never brings another one closer, nor changes the tie between the two sides).
    pick_l = first_pick.tolist()
    used = [False] * m
    for r in range(1, ratio + 1):
        if remaining == 0:
            break
        for ti in ord_list:
            if not alive[ti]:
                continue
            if remaining == 0:
                break
            if r == 1:
                c = pick_l[ti]
                if c < 0:
                    alive[ti] = False
                    continue
                if not used[c]:
                    used[c] = True
                    out_t.append(idx_t_l[ti])
                    out_c.append(c)
                    out_r.append(1)
                    pc = cpos_l[c]
                    if pc < span_l[ti]:
                        span_l[ti] = pc
                    else:
                        span_r[ti] = pc
                    left_par[c + 1] = c
                    right_par[c] = c + 1
                    remaining -= 1
                    continue
            lo = lo_l[ti]
            hi = hi_l[ti]
            j = j_l[ti]
            dt = dt_all[ti]
            cl = find_left(j - 1) if j - 1 >= lo else -1
            if cl < lo:
                cl = -1
            cr = _find(right_par, j) if j < hi else hi
            if cr >= hi:
                cr = -1
            dl = abs(dt - cdist_l[cl]) if cl >= 0 else math.inf
            dr = abs(dt - cdist_l[cr]) if cr >= 0 else math.inf
            if dl > cal:
                cl = -1
            if dr > cal:
                cr = -1
            if cl >= 0 and cr >= 0:
                if dl < dr:
                    c = cl
                elif dr < dl:
                    c = cr
                else:
                    c = cl if span_l[ti] - cpos_l[cl] <= cpos_l[cr] - span_r[ti] else cr
            elif cl >= 0:
                c = cl
            elif cr >= 0:
                c = cr
            else:
                alive[ti] = False
                continue
            used[c] = True
            out_t.append(idx_t_l[ti])
            out_c.append(c)
            out_r.append(r)
            pc = cpos_l[c]
            if pc < span_l[ti]:
                span_l[ti] = pc
            if pc > span_r[ti]:
                span_r[ti] = pc
            left_par[c + 1] = c  # points to slot of control c - 1
            right_par[c] = c + 1
            remaining -= 1
    out_c_units = cunit[np.asarray(out_c, dtype=np.int64)] if out_c else np.empty(0, dtype=np.int64)
    return np.asarray(out_t, dtype=np.int64), out_c_units, np.asarray(out_r, dtype=np.int64)


def _weights_and_subclass(n: int, tt: np.ndarray, cc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MatchIt's ATT weights and subclass numbers from the list of matches.

    Returns (weights per unit, subclass per unit (0 = none), subclass per match).
    """
    weights = np.zeros(n)
    subclass = np.zeros(n, dtype=np.int64)
    if tt.size == 0:
        return weights, subclass, np.empty(0, dtype=np.int64)
    matched_t = np.unique(tt)  # sorted = data order
    sub_of_t = np.zeros(n, dtype=np.int64)
    sub_of_t[matched_t] = np.arange(1, matched_t.size + 1)
    k_per_t = np.bincount(tt, minlength=n)
    weights[matched_t] = 1.0
    np.add.at(weights, cc, 1.0 / k_per_t[tt])
    ctrl = np.unique(cc)
    weights[ctrl] *= ctrl.size / weights[ctrl].sum()
    subclass[matched_t] = sub_of_t[matched_t]
    subclass[cc] = sub_of_t[tt]  # meaningful only without replacement
    return weights, subclass, sub_of_t[tt]


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def match_nearest(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    *,
    caliper: float | None = 0.2,
    ratio: int = 1,
    replace: bool = False,
    order: Order = "largest",
    exact: Sequence[str] | None = None,
    distance: str | np.ndarray | pd.Series | Sequence[float] = "glm",
    drop_constant: bool = False,
    min_level_count: int | None = None,
) -> MatchResult:
    """Nearest-neighbour matching on the logit of the propensity score, as MatchIt does.

    Parameters
    ----------
    data : pd.DataFrame
        One row per patient.
    treatment : str
        Column with the treatment indicator (0/1 or boolean; 1 = treated, the focal arm).
    covariates : sequence of str
        Propensity-model covariates: numeric or boolean columns as they are, categorical
        columns (object/string/category dtype) as treatment contrasts (see
        :func:`core.design.build_design`). Transformations (e.g. ``log(ca19_9)``) are the
        caller's. May be empty when ``distance`` is a vector.
    caliper : float or None, default 0.2
        Maximum distance in standard deviations (n - 1) of the distance over all analysed
        units; ``None`` for no caliper. A distance equal to the caliper is accepted.
    ratio : int, default 1
        Controls per treated unit (k:1; every treated unit gets its first control before
        any gets its second).
    replace : bool, default False
        Match with replacement (controls may be reused; no ``subclass`` then, as MatchIt).
    order : {"largest", "smallest", "data"}, default "largest"
        Order in which treated units choose (MatchIt's ``m.order``); ties in data order.
        Ignored with replacement, where it does not matter.
    exact : sequence of str, optional
        Columns whose values must be equal within a matched set (e.g. the centre).
    distance : {"glm", "firth"} or array-like, default "glm"
        As MatchIt's ``distance``: the propensity model whose linear predictor (logit) is
        matched on, ``"glm"`` (maximum likelihood, R's ``glm``; MatchIt's ``distance = "glm",
        link = "linear.logit"``) or ``"firth"`` (Firth's penalised likelihood, R's ``brglm2``;
        finite under separation), or a vector of distances, one per row of ``data`` (a Series
        is aligned on the index), used as it is: no model, no link transformation, the
        caliper in SDs of this vector, as MatchIt does with a numeric ``distance``. NaN
        entries are rows not analysed.
    drop_constant : bool, default False
        Leave out of the model covariates missing or constant in the analysed rows
        (``dropped``); otherwise they are an error. Model distances only.
    min_level_count : int, optional
        Pool rare levels of categorical covariates (fewer than this many patients in either
        arm; the rule is in :mod:`core.design`; ``pooled``). Model distances only.

    Returns
    -------
    MatchResult
        With ``reason`` set and an empty ``matched`` frame when nobody could be matched.

    Raises
    ------
    ValueError
        Bad settings, no treated or no control units, a covariate that is constant, all
        missing or collinear (without ``drop_constant``), or separation in the ``"glm"``
        model (:class:`SeparationError`). Messages say what to change.

    Notes
    -----
    Rows with a missing treatment, covariate, ``exact`` value or distance are dropped before
    anything else (``n_dropped_missing``), as MatchIt requires complete data.

    Ties: distances are compared exactly, as MatchIt compares them. Units equally distant in
    exact arithmetic but not in floating point (e.g. controls aged 17 and 37 around a treated
    unit aged 27, otherwise alike) are told apart by rounding; the ``"glm"`` logits are R's
    to the last bit (:func:`core.propensity.fit_propensity`), so the rounding, and the unit
    chosen, are MatchIt's. A ``"firth"`` or given vector is what MatchIt gets as ``distance``.

    Examples
    --------
    >>> import pandas as pd
    >>> from core.dictionary import C
    >>> df = pd.DataFrame({C.AGE: [50, 60, 52, 61, 70, 40, None],
    ...                    C.SURGERY: [1, 1, 0, 0, 0, 0, 0]})
    >>> res = match_nearest(df, C.SURGERY, [C.AGE], caliper=None)
    >>> res.matched[[C.SURGERY, "subclass", "weights"]].to_dict("list")
    {'surgery': [1, 1, 0, 0], 'subclass': [1, 2, 1, 2], 'weights': [1.0, 1.0, 1.0, 1.0]}
    >>> res.n_dropped_missing
    1

    A given distance vector (here the age itself) is matched on as it is:

    >>> res = match_nearest(df, C.SURGERY, [], distance=df[C.AGE], caliper=None)
    >>> res.pairs()[["treated_id", "control_id"]].values.tolist()
    [[0, 2], [1, 3]]
    """
    if isinstance(data, pd.DataFrame) and len(data) == 0:
        raise ValueError("The selection has no patients (0 treated, 0 controls); widen the selection.")
    user = _user_distance(data, distance)
    settings = _validate(data, treatment, covariates, caliper, ratio, replace, order, exact,
                         "user" if user is not None else distance, drop_constant, min_level_count)
    eligible = np.ones(len(data), dtype=bool)
    for c in (treatment, *settings.exact):
        eligible &= data[c].notna().to_numpy()
    if user is not None:
        eligible &= ~np.isnan(user)
    arm = np.zeros(len(data), dtype=bool)
    if eligible.any():
        arm[eligible] = _treatment_vector(data[treatment][eligible], treatment)
    design = build_design(
        data, settings.covariates, missing="drop", rows=eligible, arm=arm, drop_constant=settings.drop_constant,
        min_level_count=settings.min_level_count, on_constant="raise" if user is None else "keep",
    )
    positions = design.rows
    complete = np.zeros(len(data), dtype=bool)
    complete[positions] = True
    n_dropped = int(len(data) - positions.size)
    if positions.size == 0:
        raise ValueError("No patient has complete data for the treatment, covariates and exact columns.")
    treat = arm[positions]
    n1 = int(treat.sum())
    n0 = int(treat.size - n1)
    if n1 == 0 or n0 == 0:
        which = "treated" if n1 == 0 else "control"
        raise ValueError(
            f"There are no {which} patients ({treatment!r} = {0 if n1 else 1}) with complete data in the selection "
            f"({n1} treated, {n0} controls); widen the selection."
        )
    if user is None:
        with single_threaded_blas():
            fit = fit_design(design, treat, settings.distance, treatment)  # type: ignore[arg-type]
        dist = fit.logit
        coefficients = fit.coefficients
        model_covariates = design.covariates
    else:
        dist = user[positions]
        coefficients = pd.Series(dtype=float)
        model_covariates = ()
    distance_s = pd.Series(np.nan, index=data.index, name="distance")
    distance_s.iloc[positions] = dist

    caliper_logit: float | None = None
    if settings.caliper is not None:
        caliper_logit = settings.caliper * _r_sd(dist)

    strata = None
    if settings.exact:
        strata = data.loc[complete, list(settings.exact)].groupby(list(settings.exact), sort=True, observed=True).ngroup().to_numpy()

    tt, cc, rr = _match_arrays(dist, treat, strata, caliper_logit, settings.ratio, settings.replace, settings.order)
    n = treat.size
    weights, subclass, pair_sub = _weights_and_subclass(n, tt, cc)
    matched_mask = weights > 0
    common = dict(
        distance=distance_s,
        coefficients=coefficients,
        n_treated=n1,
        n_control=n0,
        n_dropped_missing=n_dropped,
        caliper_logit=caliper_logit,
        settings=settings,
        model_covariates=model_covariates,
        dropped=design.dropped,
        pooled=design.pooled,
    )
    pos = positions
    if tt.size == 0:
        matched = data.iloc[0:0].copy()
        matched["subclass"] = pd.Series(dtype="Int64")
        matched["weights"] = pd.Series(dtype=float)
        matched["distance"] = pd.Series(dtype=float)
        return MatchResult(
            matched=matched,
            n_treated_matched=0,
            n_control_matched=0,
            reason=_empty_reason(settings, caliper_logit, treat, strata),
            _index=data.index,
            **common,
        )
    matched = data.iloc[positions[np.flatnonzero(matched_mask)]].copy()
    if settings.replace:
        matched["subclass"] = pd.array([pd.NA] * matched_mask.sum(), dtype="Int64")
    else:
        matched["subclass"] = pd.array(subclass[matched_mask], dtype="Int64")
    matched["weights"] = weights[matched_mask]
    matched["distance"] = dist[matched_mask]
    return MatchResult(
        matched=matched,
        n_treated_matched=int(np.unique(tt).size),
        n_control_matched=int(np.unique(cc).size),
        _pair_treated=pos[tt],
        _pair_control=pos[cc],
        _pair_round=rr,
        _pair_subclass=pair_sub,
        _index=data.index,
        **common,
    )


def _r_sd(x: np.ndarray) -> float:
    """R's ``sd(x)`` to the last bit: two-pass mean and sum of squares accumulated sequentially in
    long double (R's ``cov.c``), the mean rounded to double in between. (MatchIt's caliper is
    ``caliper * sd(distance)``; a caliper off by one ulp could decide a match at its edge.)"""
    n = x.size
    if n < 2:
        return math.nan
    xl = x.astype(np.longdouble)
    tmp = np.cumsum(xl)[-1] / n
    if np.isfinite(tmp):
        tmp = tmp + np.cumsum(xl - tmp)[-1] / n
    dev = xl - np.longdouble(np.float64(tmp))
    return float(np.sqrt(np.float64(np.cumsum(dev * dev)[-1] / (n - 1))))


def _validate(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    caliper: float | None,
    ratio: int,
    replace: bool,
    order: str,
    exact: Sequence[str] | None,
    distance: object = "glm",
    drop_constant: bool = False,
    min_level_count: int | None = None,
) -> MatchSettings:
    if not isinstance(data, pd.DataFrame):
        raise ValueError("`data` must be a pandas DataFrame.")
    if not data.index.is_unique:
        raise ValueError("The index of `data` has duplicate labels; call reset_index() first.")
    if isinstance(covariates, str):
        raise ValueError("`covariates` must be a list of column names, not a single string.")
    covariates = tuple(covariates)
    exact_t = () if exact is None else ((exact,) if isinstance(exact, str) else tuple(exact))
    if distance != "user" and distance not in METHODS:
        raise ValueError(f"`distance` must be one of {METHODS} or a vector of distances (got {distance!r}).")
    if len(covariates) == 0 and distance != "user":
        raise ValueError("Give at least one covariate for the propensity model.")
    if not isinstance(drop_constant, (bool, np.bool_)):
        raise ValueError(f"`drop_constant` must be True or False (got {drop_constant!r}).")
    if min_level_count is not None and (
        isinstance(min_level_count, bool) or not isinstance(min_level_count, (int, np.integer)) or min_level_count < 1
    ):
        raise ValueError(f"`min_level_count` must be a whole number >= 1 or None (got {min_level_count!r}).")
    if distance == "user" and (drop_constant or min_level_count is not None):
        raise ValueError(
            "`drop_constant` and `min_level_count` change a propensity model; with a given distance vector no "
            "model is fitted: leave them at their defaults."
        )
    if len(set(covariates)) != len(covariates):
        raise ValueError(f"Covariates are listed twice: {covariates}.")
    missing = [c for c in (treatment, *covariates, *exact_t) if c not in data.columns]
    if missing:
        raise ValueError(f"Columns not in the data: {missing}.")
    if treatment in covariates or treatment in exact_t:
        raise ValueError(f"The treatment column {treatment!r} cannot also be a covariate or an exact column.")
    clash = [c for c in _OUT_COLUMNS if c in data.columns]
    if clash:
        raise ValueError(f"The data already has column(s) {clash}, which the matched data adds; rename them.")
    if caliper is not None:
        if (
            isinstance(caliper, bool)
            or not isinstance(caliper, (int, float))
            or not math.isfinite(caliper)
            or caliper <= 0
        ):
            raise ValueError(f"`caliper` must be a positive number of standard deviations or None (got {caliper!r}).")
        caliper = float(caliper)
    if isinstance(ratio, bool) or not isinstance(ratio, (int, np.integer)) or ratio < 1:
        raise ValueError(f"`ratio` must be a whole number >= 1 (got {ratio!r}).")
    if not isinstance(replace, (bool, np.bool_)):
        raise ValueError(f"`replace` must be True or False (got {replace!r}).")
    if order not in _ORDERS:
        raise ValueError(f"`order` must be one of {_ORDERS} (got {order!r}).")
    return MatchSettings(
        treatment=treatment,
        covariates=covariates,
        caliper=caliper,
        ratio=int(ratio),
        replace=bool(replace),
        order=order,  # type: ignore[arg-type]
        exact=exact_t,
        distance=str(distance),
        drop_constant=bool(drop_constant),
        min_level_count=None if min_level_count is None else int(min_level_count),
    )


def _user_distance(data: pd.DataFrame, distance: object) -> np.ndarray | None:
    """A distance vector given to :func:`match_nearest` as floats aligned with ``data`` (None for a
    model name)."""
    if isinstance(distance, str):
        return None
    if isinstance(distance, pd.Series):
        if not distance.index.equals(data.index):
            if not distance.index.is_unique or not data.index.isin(distance.index).all():
                raise ValueError("The `distance` Series must have a value for every index label of `data`.")
            distance = distance.reindex(data.index)
    try:
        d = np.asarray(distance, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`distance` must be 'glm', 'firth' or a vector of numbers ({exc}).") from exc
    if d.ndim != 1 or d.shape[0] != len(data):
        raise ValueError(
            f"A `distance` vector needs one value per row of `data` ({len(data)}); got shape {d.shape}."
        )
    if np.isinf(d).any():
        raise ValueError("The `distance` vector has infinite values.")
    return d


def _empty_reason(
    settings: MatchSettings, caliper_logit: float | None, treat: np.ndarray, strata: np.ndarray | None
) -> str:
    if strata is not None:
        common = np.intersect1d(strata[treat], strata[~treat])
        if common.size == 0:
            return (
                f"No exact-matching stratum ({', '.join(settings.exact)}) contains both treated and control "
                "patients; drop the exact matching or widen the selection."
            )
    if caliper_logit is not None:
        return (
            f"No treated patient has a control within the caliper ({settings.caliper:g} SD = "
            f"{caliper_logit:.3g} logit units); widen the caliper or set caliper=None."
        )
    return "No matches could be made."


# ---------------------------------------------------------------------------------------
# Balance
# ---------------------------------------------------------------------------------------


def _balance_matrix(data: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """All levels of categorical covariates as 0/1 columns (as MatchIt's summary shows them)."""
    cols: dict[str, np.ndarray] = {}
    for name in covariates:
        s = data[name]
        if _is_categorical(s):
            codes, levels = factor_codes(s)
            for k, lev in enumerate(levels):
                col = (codes == k).astype(float)
                col[codes < 0] = np.nan
                cols[f"{name}{lev}"] = col
        else:
            cols[name] = s.to_numpy(dtype=float, na_value=np.nan)
    return pd.DataFrame(cols, index=data.index)


def _wvar(x: np.ndarray, w: np.ndarray, binary: bool) -> float:
    sw = w.sum()
    if sw <= 0:
        return math.nan
    w = w / sw
    m = float(np.sum(w * x))
    if binary:
        return m * (1 - m)
    denom = 1 - float(np.sum(w * w))
    return float(np.sum(w * (x - m) ** 2)) / denom if denom > 0 else math.nan


def _ratio(a: float, b: float) -> float:
    """``a / b`` as R computes it: Inf for a positive number over 0, NaN for 0 / 0 (tiny matched subgroups)."""
    if b == 0:
        return math.inf if a > 0 else math.nan
    return a / b


def balance(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    weights: np.ndarray | pd.Series | None = None,
) -> pd.DataFrame:
    """Covariate balance between arms, standardised as MatchIt's ``summary()`` does (ATT).

    Rows: one per numeric covariate and one per level of each categorical covariate.
    Rows with a missing treatment or covariate value are ignored.

    Standardised mean difference = (weighted mean treated - weighted mean control) divided
    by the standard deviation of the **treated group in the whole (unweighted) data**: the
    sample SD (n - 1) for continuous variables and sqrt(p(1 - p)) for 0/1 variables. This is
    MatchIt's default for the ATT; cobalt/tableone standardise differently. When the
    difference is below 1.5e-8 the raw difference is shown, as MatchIt does. Variance ratio
    = weighted variance treated / weighted variance control (MatchIt's weighted variance
    with the 1 - sum(w^2) correction), NaN for 0/1 variables.

    Parameters
    ----------
    data : pd.DataFrame
    treatment : str
        0/1 or boolean treatment column.
    covariates : sequence of str
    weights : array-like, optional
        Matching weights aligned with ``data`` (0 for unmatched rows); None for the
        unweighted (before-matching) balance.

    Returns
    -------
    pd.DataFrame
        Indexed by term, columns ``mean_treated``, ``mean_control``, ``smd``,
        ``var_ratio``.

    Examples
    --------
    >>> import pandas as pd
    >>> from core.dictionary import C
    >>> df = pd.DataFrame({C.AGE: [60.0, 70, 50, 60], C.SURGERY: [1, 1, 0, 0]})
    >>> balance(df, C.SURGERY, [C.AGE]).round(4).to_dict("list")
    {'mean_treated': [65.0], 'mean_control': [55.0], 'smd': [1.4142], 'var_ratio': [1.0]}
    """
    cols = [treatment, *covariates]
    ok = data[cols].notna().all(axis=1).to_numpy()
    w_all = np.ones(len(data)) if weights is None else np.asarray(weights, dtype=float)
    if w_all.shape[0] != len(data):
        raise ValueError("`weights` must have one value per row of `data`.")
    sub = data.loc[ok]
    w_all = w_all[ok]
    treat = _treatment_vector(sub[treatment], treatment)
    M = _balance_matrix(sub, covariates)
    rows = []
    for name in M.columns:
        x = M[name].to_numpy()
        binary = bool(np.all((x == 0) | (x == 1)))
        xt, xc = x[treat], x[~treat]
        wt, wc = w_all[treat], w_all[~treat]
        mt = float(np.sum(wt * xt) / wt.sum()) if wt.sum() > 0 else math.nan
        mc = float(np.sum(wc * xc) / wc.sum()) if wc.sum() > 0 else math.nan
        diff = mt - mc
        sd = math.sqrt(_wvar(xt, np.ones(xt.size), binary)) if xt.size > 1 else math.nan
        if not (abs(diff) > math.sqrt(np.finfo(float).eps)):
            smd = diff
        elif math.isfinite(sd) and sd >= math.sqrt(np.finfo(float).eps):
            smd = diff / sd
        else:
            # MatchIt falls back to the pooled SD when the treated SD is zero
            vt = _wvar(xt, np.ones(xt.size), binary)
            vc = _wvar(xc, np.ones(xc.size), binary)
            smd = diff / math.sqrt((vt + vc) / 2) if (vt + vc) > 0 else math.nan
        vr = math.nan if binary else _ratio(_wvar(xt, wt, False), _wvar(xc, wc, False))
        rows.append((name, mt, mc, smd, vr))
    return (
        pd.DataFrame(rows, columns=["term", "mean_treated", "mean_control", "smd", "var_ratio"])
        .set_index("term")
        .rename_axis(None)
    )


def balance_table(data: pd.DataFrame, treatment: str, covariates: Sequence[str], result: MatchResult) -> pd.DataFrame:
    """Balance before and after matching side by side (see :func:`balance`).

    "Before" uses the rows the match analysed (complete treatment, covariate, exact values
    and distance); "after" weights them by the matching weights (0 for unmatched rows). Both
    standardise by the SD of the treated group before matching (MatchIt's ATT summary).
    Covariates the model left out (``result.dropped``: missing or constant in these rows)
    are not shown.

    Returns
    -------
    pd.DataFrame
        Columns ``<stat>_before`` and ``<stat>_after`` for ``mean_treated``,
        ``mean_control``, ``smd`` and ``var_ratio``.

    Examples
    --------
    >>> import pandas as pd
    >>> from core.dictionary import C
    >>> df = pd.DataFrame({C.AGE: [50, 60, 52, 61, 70, 40],
    ...                    C.SURGERY: [1, 1, 0, 0, 0, 0]})
    >>> res = match_nearest(df, C.SURGERY, [C.AGE], caliper=None)
    >>> # treated SD 7.071; control means 55.75 before, 56.5 after (52 and 61); treated mean 55
    >>> balance_table(df, C.SURGERY, [C.AGE], res)[["smd_before", "smd_after"]].round(3).to_dict("list")
    {'smd_before': [-0.106], 'smd_after': [-0.212]}
    """
    if result.distance.index.equals(data.index):
        ok = result.distance.notna().to_numpy()
    else:
        used = [result.settings.treatment, *result.settings.covariates, *result.settings.exact]
        ok = data[used].notna().all(axis=1).to_numpy()
    left_out = {d.covariate for d in result.dropped}
    covariates = [c for c in covariates if c not in left_out]
    sub = data.loc[ok]
    w = pd.Series(0.0, index=sub.index)
    w.loc[result.matched.index] = result.matched["weights"].to_numpy()
    before = balance(sub, treatment, covariates)
    after = balance(sub, treatment, covariates, weights=w.to_numpy())
    out = pd.concat([before.add_suffix("_before"), after.add_suffix("_after")], axis=1)
    order = [
        f"{s}_{when}" for s in ("mean_treated", "mean_control", "smd", "var_ratio") for when in ("before", "after")
    ]
    return out[order]
