"""Proportional-hazards check: the Schoenfeld-residual test of R ``survival::cox.zph`` (survival 3.5).

:func:`cox_zph` and :func:`cox_zph_time_varying` fit the same Cox model as
:func:`core.survival.cox` / :func:`core.survival.cox_time_varying` (same arguments) and test,
for every term and globally, whether its coefficient changes with a transform ``g(t)`` of time
(default ``"km"``: one minus the left-continuous Kaplan-Meier curve of all patients). This is
R's score test for adding ``x * g(t)`` to the model, at the fitted coefficients:

* ``U_g = sum over deaths of g(t) w_i (x_i - mean_l(t))`` with Efron's means ``mean_l`` over the
  tied deaths, and the 2p x 2p information of ``(x, x g(t))`` (model-based, Efron);
* per term: ``chisq = U' I^-1 U`` on the rows/columns of all coefficients plus the term's
  time-interaction columns (df = the term's number of columns); ``GLOBAL`` uses all of them.

As R does, the test uses the model-based information even when the fit has a robust (cluster)
variance: ``cox.zph`` never reads ``fit$var`` (it recomputes the information in C, ``zph1`` /
``zph2``), so ``cluster`` and ``robust`` change nothing here. Case weights and strata enter as in
the fit; the Kaplan-Meier transform is unweighted and pooled over strata (as R).

The scaled Schoenfeld residuals (R's ``cox.zph(fit)$y``: ``beta + d I^-1 r_i`` per stratum, with
``d`` the number of deaths) and :func:`zph_plot_data` (the natural-spline smooth with +/- 2 se
band that ``plot(cox.zph(fit))`` draws) show *how* a coefficient changes with time.

Why a module of its own rather than code at the end of ``core/survival.py``: the test needs the
fit's internals (risk sets, Efron sums) but nothing in the fit needs the test; keeping it apart
keeps ``survival.py`` (already ~1,200 lines, edited by others) focused on fitting. It imports
survival's private helpers so that the model tested is exactly the model fitted.

Agreement with R is checked in ``tests/test_ph.py`` against ``tests/fixtures/ph/zph.json``
(written by ``tests/r/make_reviewer_fixtures.R``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from core.survival import (
    CoxResult,
    _as_float,
    _at_risk_sum,
    _column,
    _cox_common,
    _design,
    _efron,
    _risk_sets,
    _validate,
    cox,
    cox_time_varying,
)

__all__ = ["ZphPlotData", "ZphResult", "cox_zph", "cox_zph_time_varying", "reading", "zph_plot_data"]

TRANSFORMS = ("km", "rank", "identity", "log")
GLOBAL = "GLOBAL"


@dataclass(frozen=True, eq=False)
class ZphResult:
    """Result of the proportional-hazards test (R's ``cox.zph`` object).

    Attributes
    ----------
    table : pandas.DataFrame
        Index = term names then ``GLOBAL``; columns ``chisq, df, p``.
    y : pandas.DataFrame
        Scaled Schoenfeld residuals, one row per event (ordered by stratum then time, as R),
        one column per term; NaN where the term is constant within the event's stratum.
    x : numpy.ndarray
        Transformed event times (the plot's x axis).
    time : numpy.ndarray
        Event times.
    strata : numpy.ndarray or None
        Stratum of each event (None without strata).
    var : numpy.ndarray
        R's ``$var`` (inverse of the per-death information), used for the plot's band.
    transform : str
        ``"km"``, ``"rank"``, ``"identity"``, ``"log"`` or ``"user"`` (a callable).
    centre : pandas.Series
        Per term, the constant the residuals scatter around under proportional hazards: the
        coefficient for a one-column term, 1 for a multi-column (categorical) term, whose
        residuals are for its linear predictor (as R).
    fit : CoxResult
        The fitted Cox model that was tested.
    """

    table: pd.DataFrame
    y: pd.DataFrame
    x: np.ndarray = field(repr=False)
    time: np.ndarray = field(repr=False)
    strata: np.ndarray | None = field(repr=False)
    var: np.ndarray = field(repr=False)
    transform: str
    centre: pd.Series = field(repr=False)
    fit: CoxResult = field(repr=False)

    @property
    def terms(self) -> list[str]:
        """Term names (covariates; a categorical covariate is one term)."""
        return list(self.y.columns)


def reading(zph: ZphResult, *, labels: Mapping[str, str] | None = None, alpha: float = 0.05) -> str:
    """The test in one plain sentence: global chi-square and p, and the terms with p below ``alpha``.

    Parameters
    ----------
    zph : ZphResult
        :func:`cox_zph` or :func:`cox_zph_time_varying`.
    labels : mapping, optional
        Words for the terms (default: the term names).
    alpha : float
        Terms below this p are named.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "d": [1, 1, 0, 1, 1, 1, 0, 1, 1, 1],
    ...                    "x": [1, 0, 1, 1, 0, 0, 1, 0, 1, 0]})
    >>> reading(cox_zph(df, "t", "d", ["x"]), labels={"x": "Treated"})
    'Proportional hazards (scaled Schoenfeld residuals, as R cox.zph): chi-square 0.04 on 1 df, p = 0.844; no term has p < 0.05.'
    """
    from core.format import fmt_p_eq

    labels = labels or {}
    g = zph.table.loc[GLOBAL]
    head = (f"Proportional hazards (scaled Schoenfeld residuals, as R cox.zph): chi-square {g['chisq']:.2f} on "
            f"{int(g['df'])} df, p {fmt_p_eq(g['p'])}")
    low = [(t, r["p"]) for t, r in zph.table.drop(index=GLOBAL).iterrows() if r["p"] < alpha]
    if not low:
        return head + f"; no term has p < {alpha:g}."
    named = ", ".join(f"{labels.get(str(t), str(t))} (p {fmt_p_eq(p)})" for t, p in low)
    return head + f"; p < {alpha:g} for {named}: its hazard ratio may change with time."


# ============================================================================ helpers
def _term_groups(data: pd.DataFrame, covariates: Sequence[str], names: list[str], terms: bool) -> list[tuple[str, list[int]]]:
    """(term name, design columns) per term; one term per covariate as R's ``asgn``."""
    if not terms:
        return [(nm, [j]) for j, nm in enumerate(names)]
    groups: list[tuple[str, list[int]]] = []
    pos = 0
    for cov in covariates:
        k = len(_design(data, [cov])[1])
        groups.append((str(cov), list(range(pos, pos + k))))
        pos += k
    if pos != len(names):
        raise ValueError(f"internal error: covariates {list(covariates)} do not map onto the model terms {names}")
    return groups


def _km_left(start: np.ndarray | None, stop: np.ndarray, event: np.ndarray) -> np.ndarray:
    """1 - S(t-) at each row's stop time: unweighted KM of all rows (R: survfitKM + findInterval)."""
    ev = event == 1
    ut = np.unique(stop[ev])
    d = np.bincount(np.searchsorted(ut, stop[ev]), minlength=len(ut)).astype(float)
    ss = np.sort(stop)
    n = len(stop) - np.searchsorted(ss, ut, side="left")  # stop >= t
    if start is not None:
        n = n - (len(start) - np.searchsorted(np.sort(start), ut, side="left"))  # minus start >= t
    surv = np.cumprod(1.0 - d / n)
    idx = np.searchsorted(ut, stop, side="left")  # event times strictly before t
    return 1.0 - np.concatenate([[1.0], surv])[idx]


def _transform_times(
    transform: str | Callable[[np.ndarray], np.ndarray], start: np.ndarray | None, stop: np.ndarray, event: np.ndarray
) -> tuple[np.ndarray, str]:
    if callable(transform):
        tt = np.asarray(transform(stop.copy()), dtype=float)
        if tt.shape != stop.shape or not np.isfinite(tt).all():
            raise ValueError("a transform function must return one finite number per row")
        return tt, "user"
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS} or a function of time, got {transform!r}")
    if transform == "identity":
        return stop.astype(float), transform
    if transform == "rank":
        return stats.rankdata(stop, method="average"), transform
    if transform == "log":
        if (stop <= 0).any():
            raise ValueError("transform='log' needs positive times")
        return np.log(stop), transform
    return _km_left(start, stop, event), transform


def _used(X: np.ndarray, event: np.ndarray, strata: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """R's ``used``: deaths in the stratum if the column varies in it, else 0 (strata x p)."""
    st = np.zeros(len(event), dtype=np.intp) if strata is None else strata.astype(np.intp)
    ns = int(st.max()) + 1
    deaths = np.bincount(st, weights=event, minlength=ns)
    used = np.zeros((ns, X.shape[1]))
    for s in range(ns):
        rows = X[st == s]
        if len(rows):
            varies = (rows != rows[0]).any(axis=0)
            used[s] = np.where(varies, deaths[s], 0.0)
    return used, st


def _zph(
    start: np.ndarray | None,
    stop: np.ndarray,
    event: np.ndarray,
    X: np.ndarray,
    w: np.ndarray,
    strata: np.ndarray | None,
    strata_labels: np.ndarray | None,
    fit: CoxResult,
    groups: list[tuple[str, list[int]]],
    transform: str | Callable[[np.ndarray], np.ndarray],
) -> ZphResult:
    n, p = X.shape
    beta = np.asarray(fit.coef, dtype=float)
    ttimes, tname = _transform_times(transform, start, stop, event)
    gtime = ttimes - ttimes[event == 1].mean()

    Xc = X - X.mean(axis=0)
    rs = _risk_sets(start, stop, event, strata)
    st = _efron(rs, Xc, w, beta)
    K, dead, dk = rs.K, rs.dead, rs.dk
    r = w * st.risk
    rd = r[dead]
    Xd = Xc[dead]
    g = np.zeros(K)
    g[dk] = gtime[dead]
    # per event time information M_k = mw sum_l V_l (Efron), then the blocks with g and g^2
    M = np.empty((K, p, p))
    for j in range(p):
        for m in range(j, p):
            s2 = _at_risk_sum(rs, r * Xc[:, j] * Xc[:, m])
            e2 = np.bincount(dk, weights=rd * Xd[:, j] * Xd[:, m], minlength=K)
            S1j, S1m, e1j, e1m = st.S1[:, j], st.S1[:, m], st.e1[:, j], st.e1[:, m]
            outer = S1j * S1m * st.c0 - (S1j * e1m + e1j * S1m) * st.c1 + e1j * e1m * st.c2
            M[:, j, m] = M[:, m, j] = st.mw * (s2 * st.a - e2 * st.b - outer)
    i11 = M.sum(axis=0)
    i12 = np.einsum("k,kjm->jm", g, M)
    i22 = np.einsum("k,kjm->jm", g * g, M)
    imat = np.block([[i11, i12], [i12.T, i22]])
    sum_means = st.S1 * st.a[:, None] - st.e1 * st.b[:, None]  # sum_l mean_l per event time
    ug = np.einsum("i,ij->j", gtime[dead] * w[dead], Xd) - np.einsum("k,kj->j", g * st.mw, sum_means)

    # score tests: per term (all coefficients + the term's time columns) and global
    rows, chisq, dfs = [], [], []
    for name, cols in groups:
        kk = list(range(p)) + [p + c for c in cols]
        u = np.concatenate([np.zeros(p), ug[cols]])
        chisq.append(float(u @ np.linalg.solve(imat[np.ix_(kk, kk)], u)))
        dfs.append(len(cols))
        rows.append(name)
    u = np.concatenate([np.zeros(p), ug])
    chisq.append(float(u @ np.linalg.solve(imat, u)))
    dfs.append(p)
    rows.append(GLOBAL)
    table = pd.DataFrame(
        {"chisq": chisq, "df": dfs, "p": stats.chi2.sf(chisq, dfs)}, index=pd.Index(rows, name="term")
    )

    # Schoenfeld residuals of the deaths, in R's order (stratum, time; ties: row order for
    # right-censored data, reverse row order for counting-process data, as zph1/zph2 fill them)
    mbar = sum_means / np.maximum(rs.nd, 1)[:, None]
    raw = Xd - mbar[dk]
    sd = np.zeros(len(dead), dtype=np.intp) if strata is None else strata[dead].astype(np.intp)
    tie = dead if start is None else -dead
    order = np.lexsort((tie, stop[dead], sd))
    raw, sd, dead_o = raw[order], sd[order], dead[order]

    used, _ = _used(X, event, strata)
    for _, cols in groups:
        if len(cols) > 1:
            sub = used[:, cols]
            if (sub == 0).any():
                used[:, cols] = sub.max(axis=1, keepdims=True)
    wtmat = np.zeros((p, p))
    for s in range(used.shape[0]):
        wtmat += np.minimum.outer(used[s], used[s])
    vmean = i11 / np.where(wtmat == 0, 1.0, wtmat)
    nterm = len(groups)
    T = np.zeros((p, nterm))
    for i, (_, cols) in enumerate(groups):
        if len(cols) == 1:
            T[cols[0], i] = 1.0
        else:
            T[cols, i] = beta[cols]
    sres = raw @ T
    vmean = T.T @ vmean @ T
    used_t = used[:, [cols[0] for _, cols in groups]]
    for s in range(used_t.shape[0]):
        sel = sd == s
        if not sel.any():
            continue
        k = np.flatnonzero(used_t[s] > 0)
        block = sres[sel]
        out = np.full_like(block, np.nan)
        if len(k):
            out[:, k] = np.linalg.solve(vmean[np.ix_(k, k)], block[:, k].T).T
        sres[sel] = out
    for i, (_, cols) in enumerate(groups):
        sres[:, i] += beta[cols[0]] if len(cols) == 1 else 1.0
    y = pd.DataFrame(sres, columns=pd.Index([nm for nm, _ in groups], name="term"))
    return ZphResult(
        table=table,
        y=y,
        x=ttimes[dead_o],
        time=stop[dead_o].astype(float),
        strata=None if strata_labels is None else strata_labels[strata[dead_o]],
        var=np.linalg.inv(vmean),
        transform=tname,
        centre=pd.Series([beta[c[0]] if len(c) == 1 else 1.0 for _, c in groups], index=y.columns, name="centre"),
        fit=fit,
    )


def _strata_labels(data: pd.DataFrame, strata: str | None) -> np.ndarray | None:
    if strata is None:
        return None
    return np.asarray(pd.factorize(data[strata], sort=True)[1])


# ============================================================================ public API
def cox_zph(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    *,
    cluster: str | None = None,
    weights: str | None = None,
    strata: str | None = None,
    robust: bool | None = None,
    transform: str | Callable[[np.ndarray], np.ndarray] = "km",
    terms: bool = True,
) -> ZphResult:
    """Proportional-hazards test of a Cox model, equal to R ``cox.zph(coxph(...))``.

    Parameters
    ----------
    data, duration, event, covariates, cluster, weights, strata, robust
        As :func:`core.survival.cox` (the model is fitted with exactly these arguments).
    transform : {"km", "rank", "identity", "log"} or callable
        Function of time the coefficients are tested against (R's ``transform``); a callable
        receives the follow-up times and returns one number per row.
    terms : bool
        True (R's default): one test per covariate (a categorical covariate with k levels is
        one term with k - 1 df). False: one test per model column.

    Returns
    -------
    ZphResult
        ``.table`` (``chisq, df, p`` per term and ``GLOBAL``), the scaled Schoenfeld residuals
        ``.y`` with ``.x`` / ``.time``, and the fit.

    Raises
    ------
    ValueError
        Everything :func:`core.survival.cox` rejects, and an unknown transform.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "d": [1, 1, 0, 1, 1, 1, 0, 1, 1, 1],
    ...                    "x": [1, 0, 1, 1, 0, 0, 1, 0, 1, 0]})
    >>> z = cox_zph(df, "t", "d", ["x"])
    >>> z.table.round(6).to_numpy().tolist()  # R cox.zph: chisq 0.03873307409, p 0.8439784163
    [[0.038733, 1.0, 0.843978], [0.038733, 1.0, 0.843978]]
    """
    fit = cox(data, duration, event, covariates, cluster=cluster, weights=weights, strata=strata, robust=robust)
    X, names, w, _cl, st, _rob = _cox_common(data, covariates, cluster, weights, strata, robust, fit.conf_level)
    t, e, _ = _validate(_column(data, duration, "duration"), _column(data, event, "event"))
    groups = _term_groups(data, [covariates] if isinstance(covariates, str) else covariates, names, terms)
    return _zph(None, t, e, X, w, st, _strata_labels(data, strata), fit, groups, transform)


def cox_zph_time_varying(
    data: pd.DataFrame,
    start: str,
    stop: str,
    event: str,
    covariates: Sequence[str],
    *,
    cluster: str | None = None,
    weights: str | None = None,
    strata: str | None = None,
    robust: bool | None = None,
    transform: str | Callable[[np.ndarray], np.ndarray] = "km",
    terms: bool = True,
) -> ZphResult:
    """Proportional-hazards test of a counting-process Cox model, as R ``cox.zph`` on ``Surv(start, stop, event)``.

    The time transform is applied to the episodes' stop times; the Kaplan-Meier transform uses
    the risk sets ``start < t <= stop`` (R's ``survfitKM`` on the same ``Surv`` object).

    Parameters
    ----------
    data, start, stop, event, covariates, cluster, weights, strata, robust
        As :func:`core.survival.cox_time_varying`.
    transform, terms
        As :func:`cox_zph`.

    Returns
    -------
    ZphResult

    Examples
    --------
    >>> from core.survival import split_at_surgery
    >>> ep = split_at_surgery([5, 8, 3, 9, 4, 7, 6, 2], [1, 1, 1, 0, 1, 1, 1, 1],
    ...                       [2, float("nan"), float("nan"), 4, 1, 6, float("nan"), float("nan")])
    >>> z = cox_zph_time_varying(ep, "start", "stop", "event", ["surgery"], cluster="id")
    >>> z.terms, int(z.table.loc["GLOBAL", "df"]), len(z.y)
    (['surgery'], 1, 7)
    """
    fit = cox_time_varying(
        data, start, stop, event, covariates, cluster=cluster, weights=weights, strata=strata, robust=robust
    )
    X, names, w, _cl, st, _rob = _cox_common(data, covariates, cluster, weights, strata, robust, fit.conf_level)
    t0 = _as_float(_column(data, start, "start"), "start")
    t1, e, _ = _validate(_column(data, stop, "stop"), _column(data, event, "event"))
    groups = _term_groups(data, [covariates] if isinstance(covariates, str) else covariates, names, terms)
    return _zph(t0, t1, e, X, w, st, _strata_labels(data, strata), fit, groups, transform)


# ============================================================================ plot data
@dataclass(frozen=True)
class ZphPlotData:
    """What ``plot(cox.zph(fit)[term])`` draws, as tables.

    ``points``: one row per event with a residual (``x`` transformed time, ``time``,
    ``residual`` = scaled Schoenfeld residual, an estimate of beta(t)). ``table``: the smooth
    (``x, fit, lower, upper``; R's natural spline with ``df`` degrees of freedom and a band of
    +/- 2 standard errors), empty when the spline cannot be fitted (``note`` says why).
    ``ticks``: x-axis positions and labels in original time units, as R labels a
    transformed axis (empty for the identity and log transforms, whose axis is time itself).
    ``centre`` is the model's coefficient (the constant beta a flat smooth would show; 1 for a
    categorical term, whose residuals are for its linear predictor).
    """

    term: str
    points: pd.DataFrame
    table: pd.DataFrame
    ticks: pd.DataFrame
    centre: float
    note: str


def _ns_basis(x: np.ndarray, knots: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """A basis of the natural cubic splines with interior ``knots`` and boundary ``lo, hi``,
    intercept included (the column space of R's ``ns(x, knots, Boundary.knots, intercept=TRUE)``).
    """
    span = hi - lo if hi > lo else 1.0
    u = (x - lo) / span
    kn = np.concatenate([[0.0], (knots - lo) / span, [1.0]])
    K = len(kn)

    def d(k: int) -> np.ndarray:
        return (np.maximum(u - kn[k], 0) ** 3 - np.maximum(u - kn[K - 1], 0) ** 3) / (kn[K - 1] - kn[k])

    cols = [np.ones_like(u), u] + [d(k) - d(K - 2) for k in range(K - 2)]
    return np.column_stack(cols)


def _signif(v: np.ndarray, digits: int) -> np.ndarray:
    out = np.full_like(v, np.nan)
    ok = np.isfinite(v) & (v != 0)
    mag = np.floor(np.log10(np.abs(v[ok])))
    scale = 10.0 ** (digits - 1 - mag)
    out[ok] = np.round(v[ok] * scale) / scale
    out[np.isfinite(v) & (v == 0)] = 0.0
    return out


def _ticks(x: np.ndarray, time: np.ndarray) -> pd.DataFrame:
    """R's 8 axis labels for a transformed time axis (plot.cox.zph)."""
    keep = ~pd.Series(x).duplicated().to_numpy()
    xu, tu = x[keep], time[keep]
    o = np.argsort(xu, kind="stable")
    xu, tu = xu[o], tu[o]
    if len(xu) < 2:
        return pd.DataFrame({"x": [], "label": []})
    targets = np.linspace(x.min(), x.max(), 17)[1::2]
    at_time = _signif(np.interp(targets, xu, tu), 2)
    ot = np.argsort(tu, kind="stable")
    pos = np.interp(at_time, tu[ot], xu[ot])
    pos[(at_time < tu.min()) | (at_time > tu.max())] = np.nan
    ok = np.isfinite(pos)
    return pd.DataFrame({"x": pos[ok], "label": [f"{v:g}" for v in at_time[ok]]})


def zph_plot_data(zph: ZphResult, term: str, *, df: int = 4, nsmo: int = 40) -> ZphPlotData:
    """Scaled Schoenfeld residuals of one term against transformed time, with R's smooth.

    As ``plot.cox.zph``: a least-squares natural cubic spline (``ns(df = 4, intercept = TRUE)``,
    interior knots at the 1/3 and 2/3 quantiles of the ``nsmo`` grid points and the event
    times together) evaluated at ``nsmo`` equally spaced points, with a band of
    ``+/- 2 sqrt(var[term] * diag(P (X'X)^-1 P'))``. A flat smooth means a constant
    coefficient (proportional hazards); a trend means the effect changes with time.

    Parameters
    ----------
    zph : ZphResult
        From :func:`cox_zph` or :func:`cox_zph_time_varying`.
    term : str
        One of ``zph.terms``.
    df : int
        Degrees of freedom of the spline (>= 2; R's default 4).
    nsmo : int
        Number of points of the smooth (R's default 40).

    Returns
    -------
    ZphPlotData

    Examples
    --------
    >>> df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "d": [1, 1, 0, 1, 1, 1, 0, 1, 1, 1],
    ...                    "x": [1, 0, 1, 1, 0, 0, 1, 0, 1, 0]})
    >>> pdata = zph_plot_data(cox_zph(df, "t", "d", ["x"]), "x")
    >>> len(pdata.points), list(pdata.table.columns), len(pdata.table)
    (8, ['x', 'fit', 'lower', 'upper'], 40)
    """
    if not isinstance(zph, ZphResult):
        raise ValueError("zph must be the result of cox_zph or cox_zph_time_varying")
    if term not in zph.terms:
        raise ValueError(f"term {term!r} is not one of the tested terms {zph.terms}")
    if isinstance(df, bool) or not isinstance(df, (int, np.integer)) or df < 2:
        raise ValueError(f"df must be an integer >= 2, got {df!r}")
    if isinstance(nsmo, bool) or not isinstance(nsmo, (int, np.integer)) or nsmo < 2:
        raise ValueError(f"nsmo must be an integer >= 2, got {nsmo!r}")
    i = zph.terms.index(term)
    xx = np.asarray(zph.x, dtype=float)
    yy = zph.y[term].to_numpy()
    keep = ~np.isnan(yy)
    points = pd.DataFrame({"x": xx[keep], "time": zph.time[keep], "residual": yy[keep]})
    centre = float(zph.centre[term])
    ticks = (
        pd.DataFrame({"x": [], "label": []}) if zph.transform in ("identity", "log") else _ticks(xx, zph.time)
    )
    empty = pd.DataFrame({"x": [], "fit": [], "lower": [], "upper": []})
    if len(xx) == 0:
        return ZphPlotData(term, points, empty, ticks, centre, "no events")
    pred = np.linspace(xx.min(), xx.max(), int(nsmo))
    allx = np.concatenate([pred, xx])
    n_inner = int(df) - 2  # ns(df, intercept = TRUE): df - 1 - 1 interior knots
    knots = np.quantile(allx, np.linspace(0, 1, n_inner + 2)[1:-1]) if n_inner > 0 else np.array([])
    B = _ns_basis(allx, knots, allx.min(), allx.max())
    P, Xm = B[: len(pred)], B[len(pred) :][keep]
    if len(Xm) < df or np.linalg.matrix_rank(Xm) < df:
        return ZphPlotData(term, points, empty, ticks, centre, "too few distinct event times for the spline smooth")
    q, rr = np.linalg.qr(Xm)
    beta = np.linalg.solve(rr, q.T @ yy[keep])
    fitv = P @ beta
    rinv = np.linalg.solve(rr, np.eye(df))
    seval = np.sum((P @ rinv) ** 2, axis=1)
    half = 2.0 * np.sqrt(zph.var[i, i] * seval)
    table = pd.DataFrame({"x": pred, "fit": fitv, "lower": fitv - half, "upper": fitv + half})
    return ZphPlotData(term, points, table, ticks, centre, "")
