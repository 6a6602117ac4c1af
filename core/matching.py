"""Propensity-score nearest-neighbour matching that reproduces R's ``MatchIt``.

:func:`match_nearest` does what

``MatchIt::matchit(f, method = "nearest", distance = "glm", link = "linear.logit", ...)``

(version 4.7.2) does for ``caliper``, ``ratio``, ``replace``, ``exact`` and
``m.order`` in {"largest", "smallest", "data"}, and returns what ``match.data()`` returns:

* the propensity score is an unpenalised logistic regression of the treatment on an
  intercept and the covariates' model matrix (numeric columns as they are, categorical
  columns as treatment contrasts with the first level as reference), fitted by R's own
  IRLS path so the logits agree with R's ``glm`` to ~1e-14; units are matched on its
  linear predictor (the logit). The reference level only changes coefficient names, not
  the logits; note that R sorts character levels by its locale (R 4.2 in C.UTF-8 put
  ">3" before "1"), Python by code point: pass a Categorical to fix the order;
* the caliper is in standard deviations (n - 1) of the logit over all analysed units, and
  a distance equal to the caliper is accepted;
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

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "MatchSettings",
    "MatchResult",
    "match_nearest",
    "balance",
    "balance_table",
    "design_matrix",
    "fit_propensity",
    "PropensityFit",
]

Order = Literal["largest", "smallest", "data"]
_ORDERS = ("largest", "smallest", "data")
_OUT_COLUMNS = ("subclass", "weights", "distance")
#: |logit| above this means fitted probabilities of ~1e-13: treated as separation.
_MAX_ABS_LOGIT = 30.0


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchSettings:
    """The settings a match was made with (validated)."""

    treatment: str
    covariates: tuple[str, ...]
    caliper: float | None
    ratio: int
    replace: bool
    order: Order
    exact: tuple[str, ...]


@dataclass(frozen=True)
class PropensityFit:
    """An unpenalised logistic regression fitted by Newton-Raphson.

    Attributes
    ----------
    coefficients : pd.Series
        Named as R names them (``(Intercept)``, ``age``, ``regimenGEM``, ...).
    logit : np.ndarray
        Linear predictor of every row of the design matrix.
    iterations : int
        Newton iterations used.
    """

    coefficients: pd.Series
    logit: np.ndarray = field(repr=False)
    iterations: int


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
        Logit of every input row (NaN for rows dropped for missing values).
    coefficients : pd.Series
        Propensity model coefficients (R's names); empty if no model was fitted.
    n_treated, n_control : int
        Analysed units per arm (after dropping rows with missing values).
    n_treated_matched, n_control_matched : int
        Matched units per arm (a control used several times counts once).
    n_dropped_missing : int
        Rows dropped for a missing treatment, covariate or ``exact`` value.
    caliper_logit : float or None
        The caliper in logit units (``caliper`` times the SD of the logit).
    settings : MatchSettings
    reason : str or None
        Why the match is empty (None when some units were matched).
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


_BLAS_CONTROLLER: object | None = None


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Run BLAS on one thread: the p x p products here are small, and on a busy 2-core
    machine OpenBLAS threads made the fit 2-4 times slower. No-op without threadpoolctl
    (installed with scikit-learn)."""
    global _BLAS_CONTROLLER
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover
        yield
        return
    if _BLAS_CONTROLLER is None:
        _BLAS_CONTROLLER = ThreadpoolController()
    with _BLAS_CONTROLLER.limit(limits=1, user_api="blas"):  # type: ignore[attr-defined]
        yield


# ---------------------------------------------------------------------------------------
# Design matrix and propensity model
# ---------------------------------------------------------------------------------------


def _is_categorical(s: pd.Series) -> bool:
    return (
        isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)
    )


def _codes(s: pd.Series) -> tuple[np.ndarray, list]:
    """Level codes (-1 = missing) and the levels present, in R's factor order.

    Levels: categorical order for a Categorical, sorted otherwise; absent ones dropped.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        present = np.bincount(codes[codes >= 0], minlength=len(s.cat.categories)) > 0
        remap = np.cumsum(present) - 1
        new = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        return new, [c for c, k in zip(s.cat.categories, present, strict=True) if k]
    try:
        codes, uniques = pd.factorize(s, sort=True)
    except TypeError as exc:
        raise ValueError(f"Covariate {s.name!r} mixes value types ({exc}); convert it to one type.") from exc
    return codes, list(uniques)


def design_matrix(data: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Model matrix without intercept, as R's ``model.matrix`` builds it.

    Numeric and boolean columns are used as they are (booleans as 0/1). Categorical
    columns (``object``, ``string`` or ``category`` dtype) become one 0/1 column per level
    except the first (treatment contrasts), named ``<column><level>`` as R names them.
    The first level is the first category of a pandas Categorical, otherwise the first in
    sorted order (Python's order, R's in the C locale); levels absent from ``data`` are
    ignored. Missing values stay missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from core.dictionary import C, Regimen
    >>> df = pd.DataFrame({C.AGE: [60, 70, 65],
    ...                    C.CHEMO_REGIMEN: [Regimen.GEM, Regimen.FOLFIRINOX, Regimen.GEM]})
    >>> design_matrix(df, [C.AGE, C.CHEMO_REGIMEN]).columns.tolist()
    ['age_at_diagnosis', 'chemo_regimenGEM']
    """
    return _design(data, covariates)[0]


def _encode(data: pd.DataFrame, name: str) -> tuple[np.ndarray, list | None]:
    """One covariate as float values (levels None) or as level codes (-1 = missing) and levels."""
    s = data[name]
    if _is_categorical(s):
        return _codes(s)
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        col = s.to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(col).any():
            raise ValueError(
                f"Covariate {name!r} has infinite values (e.g. the log of 0); fix or drop those values first."
            )
        return col, None
    raise ValueError(
        f"Covariate {name!r} has dtype {s.dtype}, which cannot enter a propensity model; "
        "use a numeric, boolean or categorical column."
    )


def _encoded_missing(values: np.ndarray, levels: list | None) -> np.ndarray:
    return values < 0 if levels is not None else np.isnan(values)


def _design_from(
    encoded: dict[str, tuple[np.ndarray, list | None]], rows: np.ndarray | None, index: pd.Index
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Model matrix from :func:`_encode` output restricted to ``rows`` (levels re-derived)."""
    cols: dict[str, np.ndarray] = {}
    blocks: dict[str, list[str]] = {}
    for name, (values, levels) in encoded.items():
        before = len(cols)
        v = values if rows is None else values[rows]
        if levels is None:
            cols[name] = v
        else:
            present = np.bincount(v[v >= 0], minlength=len(levels)) > 0
            remap = np.cumsum(present) - 1
            codes = np.where(v >= 0, remap[np.maximum(v, 0)], -1)
            kept = [lev for lev, k in zip(levels, present, strict=True) if k]
            miss = codes < 0
            for k in range(1, len(kept)):
                col = (codes == k).astype(float)
                col[miss] = np.nan
                cols[f"{name}{kept[k]}"] = col
        blocks[name] = list(cols)[before:]
    return pd.DataFrame(cols, index=index), blocks


def _design(data: pd.DataFrame, covariates: Sequence[str]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """:func:`design_matrix` plus the design columns of each covariate."""
    return _design_from({name: _encode(data, name) for name in covariates}, None, data.index)


def _rowwise_linear(ZT: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``ZT.T @ b`` accumulated one design column at a time, so equal rows give
    bit-identical logits (BLAS kernels may round rows differently)."""
    eta = np.full(ZT.shape[1], b[0])
    for j in range(1, ZT.shape[0]):
        eta += ZT[j] * b[j]
    return eta


def _expit(eta: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * eta))


def fit_propensity(X: pd.DataFrame, y: np.ndarray, *, max_iter: int = 25, epsilon: float = 1e-8) -> PropensityFit:
    """Unpenalised logistic regression of ``y`` on an intercept and ``X`` (R's ``glm``).

    R's IRLS (``glm.fit`` with ``glm.control(epsilon = 1e-8, maxit = 25)``: same start,
    same stopping rule, so the same answer as R to ~1e-12), run on standardised columns so
    that badly scaled covariates (e.g. incomes beside 0/1 flags) stay well conditioned.
    Raises ``ValueError`` on collinear columns and on separation (no convergence, or
    fitted probabilities numerically 0 or 1).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6]})
    >>> fit = fit_propensity(X, np.array([0, 1, 0, 1, 1, 0]))
    >>> fit.coefficients.round(4).tolist()   # R: glm(y ~ x, binomial) gives -0.4022, 0.1149
    [-0.4022, 0.1149]
    """
    Xv = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = Xv.shape
    names = ["(Intercept)", *map(str, X.columns)]
    mean = Xv.mean(axis=0) if p else np.zeros(0)
    sd = Xv.std(axis=0) if p else np.ones(0)
    if p and np.any(sd == 0):
        bad = [str(c) for c, s in zip(X.columns, sd, strict=True) if s == 0]
        raise ValueError(f"Design column(s) {bad} are constant in the analysed rows; remove them from the covariates.")
    # standardised design, stored transposed (one contiguous row per column)
    ZT = np.empty((p + 1, n))
    ZT[0] = 1.0
    if p:
        ZT[1:] = ((Xv - mean) / sd).T
    # collinearity check on the correlation matrix
    if p > 1:
        corr = (ZT[1:] @ ZT[1:].T) / n
        ev = np.linalg.eigvalsh(corr)
        if ev[0] < 1e-10 * max(ev[-1], 1.0):
            raise ValueError(
                f"The covariates are collinear (design columns {list(map(str, X.columns))} are linearly "
                "dependent); remove a redundant covariate or merge categories."
            )
    # R's glm.fit: IRLS from mustart = (y + 0.5) / 2, stopping when the relative change
    # of the deviance is below epsilon = 1e-8 (maxit = 25). IRLS is Newton's method for
    # the logit link and is invariant to the column standardisation used here, so the
    # iterates (and the answer R returns) are reproduced, not just the exact MLE.
    mu = (y + 0.5) / 2.0
    eta = np.log(mu / (1.0 - mu))
    dev_old = _deviance(y, eta)
    b = np.zeros(p + 1)
    ZTw = np.empty_like(ZT)
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        w = mu * (1.0 - mu)
        if not np.all(w > 0):
            break  # fitted probabilities exactly 0 or 1: separation (reported below)
        z = eta + (y - mu) / w
        np.multiply(ZT, w, out=ZTw)
        H = ZTw @ ZT.T
        rhs = ZTw @ z
        try:
            L = np.linalg.cholesky(H)
            b = np.linalg.solve(L.T, np.linalg.solve(L, rhs))
        except np.linalg.LinAlgError:
            b = np.linalg.lstsq(H, rhs, rcond=None)[0]
        eta = _rowwise_linear(ZT, b)
        mu = _expit(eta)
        dev = _deviance(y, eta)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            converged = True
            break
        dev_old = dev
    diverging = False
    if converged and np.max(np.abs(eta)) > 10 and np.all(mu * (1.0 - mu) > 0):
        # one more IRLS step: at a true optimum eta hardly moves; under (quasi-)separation
        # the separated units' logits keep growing by about one per step
        w = mu * (1.0 - mu)
        ZTw = ZT * w
        b2 = np.linalg.lstsq(ZTw @ ZT.T, ZTw @ (eta + (y - mu) / w), rcond=None)[0]
        diverging = bool(np.max(np.abs(_rowwise_linear(ZT, b2) - eta)) > 0.25)
    if not converged or diverging or not np.all(np.isfinite(b)) or np.max(np.abs(eta)) > _MAX_ABS_LOGIT:
        big = names[int(np.argmax(np.abs(b[1:]))) + 1] if p else names[0]
        raise ValueError(
            "The propensity model cannot be estimated: the covariates predict treatment (almost) perfectly "
            f"(separation; fitted probabilities reach 0 or 1, largest coefficient: {big!r}). Remove or merge "
            "the covariate(s) concerned, or widen the selection."
        )
    coef = np.empty(p + 1)
    coef[1:] = b[1:] / sd if p else coef[1:]
    coef[0] = b[0] - float(np.sum(coef[1:] * mean)) if p else b[0]
    return PropensityFit(coefficients=pd.Series(coef, index=names), logit=eta, iterations=it)


def _deviance(y: np.ndarray, eta: np.ndarray) -> float:
    # -2 loglik = 2 * sum(log(1 + exp(eta)) - y * eta), computed stably
    return float(2.0 * np.sum(np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta))) - y * eta))


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


def _treatment_vector(s: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=bool)
    vals = pd.to_numeric(s, errors="coerce")
    if vals.isna().any() or not vals.isin([0, 1]).all():
        raise ValueError(f"Treatment column {name!r} must be 0/1 or boolean (found {sorted(pd.unique(s))[:5]}).")
    return vals.to_numpy() == 1


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
        :func:`design_matrix`). Transformations (e.g. ``log(ca19_9)``) are the caller's.
    caliper : float or None, default 0.2
        Maximum logit distance in standard deviations (n - 1) of the logit over all analysed
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

    Returns
    -------
    MatchResult
        With ``reason`` set and an empty ``matched`` frame when nobody could be matched.

    Raises
    ------
    ValueError
        Bad settings, no treated or no control units, a covariate that is constant, all
        missing or collinear, or separation in the propensity model. Messages say what to
        change.

    Notes
    -----
    Rows with a missing treatment, covariate or ``exact`` value are dropped before anything
    else (``n_dropped_missing``), as MatchIt requires complete data.

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
    """
    settings = _validate(data, treatment, covariates, caliper, ratio, replace, order, exact)
    encoded = {c: _encode(data, c) for c in settings.covariates}
    complete = np.ones(len(data), dtype=bool)
    for c, (values, levels) in encoded.items():
        miss = _encoded_missing(values, levels)
        if miss.all():
            raise ValueError(f"Covariate {c!r} is missing for every patient in the selection; remove it.")
        complete &= ~miss
    for c in (treatment, *settings.exact):
        complete &= data[c].notna().to_numpy()
    n_dropped = int((~complete).sum())
    # Complete rows are addressed by position: no copy of the caller's (possibly wide) table.
    positions = np.flatnonzero(complete)
    index = data.index if n_dropped == 0 else data.index[complete]
    if positions.size == 0:
        raise ValueError("No patient has complete data for the treatment, covariates and exact columns.")
    treat = _treatment_vector(data[treatment] if n_dropped == 0 else data[treatment][complete], treatment)
    n1 = int(treat.sum())
    n0 = int(treat.size - n1)
    if n1 == 0 or n0 == 0:
        arm = "treated" if n1 == 0 else "control"
        raise ValueError(
            f"There are no {arm} patients ({treatment!r} = {0 if n1 else 1}) with complete data in the selection "
            f"({n1} treated, {n0} controls); widen the selection."
        )
    X, blocks = _design_from(encoded, None if n_dropped == 0 else complete, index)
    for c in settings.covariates:
        if not blocks[c] or all(np.ptp(X[k].to_numpy()) == 0 for k in blocks[c]):
            raise ValueError(f"Covariate {c!r} takes a single value in the selection; remove it from the covariates.")
    _check_separation(X, treat, treatment)
    with _single_threaded_blas():
        fit = fit_propensity(X, treat.astype(float))
    dist = fit.logit
    distance = pd.Series(np.nan, index=data.index, name="distance")
    distance.iloc[np.flatnonzero(complete)] = dist

    caliper_logit: float | None = None
    if settings.caliper is not None:
        lo_d, hi_d = float(dist.min()), float(dist.max())
        if lo_d != hi_d and bool(np.all((dist == lo_d) | (dist == hi_d))):
            raise ValueError(
                "The propensity score takes only two values, so a caliper in SD units is meaningless "
                "(MatchIt refuses it too); set caliper=None or add a covariate."
            )
        caliper_logit = settings.caliper * float(np.std(dist, ddof=1))

    strata = None
    if settings.exact:
        strata = data.loc[complete, list(settings.exact)].groupby(list(settings.exact), sort=True, observed=True).ngroup().to_numpy()

    tt, cc, rr = _match_arrays(dist, treat, strata, caliper_logit, settings.ratio, settings.replace, settings.order)
    n = treat.size
    weights, subclass, pair_sub = _weights_and_subclass(n, tt, cc)
    matched_mask = weights > 0
    common = dict(
        distance=distance,
        coefficients=fit.coefficients,
        n_treated=n1,
        n_control=n0,
        n_dropped_missing=n_dropped,
        caliper_logit=caliper_logit,
        settings=settings,
    )
    pos = np.flatnonzero(complete)
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


def _validate(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    caliper: float | None,
    ratio: int,
    replace: bool,
    order: str,
    exact: Sequence[str] | None,
) -> MatchSettings:
    if not isinstance(data, pd.DataFrame):
        raise ValueError("`data` must be a pandas DataFrame.")
    if not data.index.is_unique:
        raise ValueError("The index of `data` has duplicate labels; call reset_index() first.")
    if isinstance(covariates, str):
        raise ValueError("`covariates` must be a list of column names, not a single string.")
    covariates = tuple(covariates)
    exact_t = () if exact is None else ((exact,) if isinstance(exact, str) else tuple(exact))
    if len(covariates) == 0:
        raise ValueError("Give at least one covariate for the propensity model.")
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
    )


def _check_separation(X: pd.DataFrame, treat: np.ndarray, treatment: str) -> None:
    """Raise on a 0/1 design column one of whose values occurs in one arm only."""
    n1 = int(treat.sum())
    n0 = treat.size - n1
    for name in X.columns:
        col = X[name].to_numpy()
        if not np.all((col == 0) | (col == 1)):
            continue
        ones_t = int(col[treat].sum())
        ones_c = int(col[~treat].sum())
        for value, in_t, in_c in ((1, ones_t, ones_c), (0, n1 - ones_t, n0 - ones_c)):
            if (in_t == 0) != (in_c == 0):
                arm = "treated" if in_c == 0 else "control"
                raise ValueError(
                    f"Design column {name!r} = {value} occurs only in {arm} patients ({in_t + in_c} of them, "
                    f"{treatment!r}): the propensity model cannot be estimated (quasi-separation). Remove that "
                    "covariate, merge rare categories, or widen the selection."
                )


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
            codes, levels = _codes(s)
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
        vr = math.nan if binary else _wvar(xt, wt, False) / _wvar(xc, wc, False)
        rows.append((name, mt, mc, smd, vr))
    return (
        pd.DataFrame(rows, columns=["term", "mean_treated", "mean_control", "smd", "var_ratio"])
        .set_index("term")
        .rename_axis(None)
    )


def balance_table(data: pd.DataFrame, treatment: str, covariates: Sequence[str], result: MatchResult) -> pd.DataFrame:
    """Balance before and after matching side by side (see :func:`balance`).

    "Before" uses every row with complete treatment, covariate (and exact) values, as the
    match did; "after" weights them by the matching weights (0 for unmatched rows). Both
    standardise by the SD of the treated group before matching (MatchIt's ATT summary).

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
    used = [result.settings.treatment, *result.settings.covariates, *result.settings.exact]
    ok = data[used].notna().all(axis=1)
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
