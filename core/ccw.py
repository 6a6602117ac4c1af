"""Target-trial emulation by cloning, censoring and weighting (Maringe et al., Int J Epidemiol 2020).

The question, as a trial would ask it: *among the eligible patients at time zero (chemotherapy
start or diagnosis, the spec's origin), how long do they live if the plan is "resect within G
months" rather than "do not resect"?* Nobody is randomised, so every patient is **cloned** into
both strategies at time zero; the two clones share the same history until it tells them apart:

* **"Resect within G months"**: the clone is followed as long as the patient is operated by G.
  A patient not operated by G (and still alive and followed at G) has deviated: the clone is
  **censored at G**. A patient who dies (or is lost) before G without an operation has not
  deviated (they could still have been operated): their death counts in this arm, and also in
  the other one (Maringe's rule). An operated patient stays in this arm for good.
* **"Do not resect"**: the clone is **censored on the day of surgery**, whenever it comes (this
  is "never resect", not Maringe's "no surgery within G": patients operated after G are censored
  too, so both strategies are sustained).

Censoring by deviation is informative (fitter patients are operated), so the uncensored clones
are **weighted by the inverse of their probability of remaining uncensored** (IPCW), from a Cox
model of the time to censoring on the spec's propensity covariates, fitted in each arm, exactly
as the tutorial's R code: ``coxph(Surv(Tstart, Tstop, censoring) ~ covariates)``, its baseline
cumulative hazard ``basehaz(fit, centered = FALSE)`` and the weight ``1 / exp(-H0(Tstart) *
exp(lp))`` of each interval. The weight changes only where the censoring hazard jumps, so the
clones are split there (the tutorial splits at every event time; the curves and the Cox model
are the same, ``tests/r/make_ccw_fixtures.R`` checks it).

The weighted Kaplan-Meier curves give survival and restricted mean survival time (RMST) at 12,
24 and 36 months per strategy; a weighted Cox model of the arm gives one hazard ratio with a
robust (sandwich) standard error clustered on the patient (each patient has two clones). The
intervals of the differences come from a nonparametric bootstrap of patients (the whole
procedure, censoring models included, is repeated :data:`N_BOOT` times with seed :data:`SEED`).

Examples
--------
>>> from core import cohort
>>> from core.spec import AnalysisSpec
>>> res = run(cohort.demo(), AnalysisSpec(), n_boot=20)
>>> res.arms
('resect', 'no_resect')
>>> bool(res.estimated), res.n_boot
(True, 20)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import survival
from core.covariates import model_adjustments, propensity_frame, term_label
from core.design import MIN_LEVEL_COUNT, build_design
from core.dictionary import C, label
from core.filters import apply_filters
from core.format import fmt_num
from core.guards import ArmCounts, comparison_reason
from core.population import EVENT, SURGERY_TIME, TIME, naive_population
from core.spec import ENDPOINT_NAMES, EVENT_WORDS, ORIGINS, AnalysisSpec

__all__ = [
    "ARM_LABELS", "CcwResult", "CensoringModel", "DEFAULT_GRACE", "GRACE_RANGE", "HORIZONS", "N_BOOT", "SEED",
    "StrategyFit", "clone", "censoring_model", "counts_in_words", "display_table", "estimand", "estimate",
    "estimates_table", "fit_strategies", "headline", "run", "weighted_cox", "weighted_km", "weighted_rows",
]

#: Default grace period G (months after time zero within which the "resect" strategy operates).
DEFAULT_GRACE = 9.0
#: The grace periods a user may choose (months).
GRACE_RANGE = (1.0, 24.0)
#: Times (months from time zero) of the survival and RMST differences.
HORIZONS = (12.0, 24.0, 36.0)
#: Bootstrap replicates and seed of the intervals of the differences (stated on screen).
N_BOOT = 200
SEED = 20240101
#: Covariates measured at restaging, after time zero (said on screen when the censoring models use them).
AFTER_TIME_ZERO = (C.RECIST, C.CA19_9_RESTAGING, C.CA19_9_RESPONSE)
#: A bootstrap interval needs at least this share of replicates that give a number.
MIN_BOOT_SHARE = 0.8

RESECT, NO_RESECT = "resect", "no_resect"
#: Strategy keys in display order: 1 = "resect within G", 0 = "do not resect".
ARM_CODE = {RESECT: 1, NO_RESECT: 0}


def ARM_LABELS(grace: float) -> dict[str, str]:  # noqa: N802 (a table of labels that depends on G)
    """Names of the two strategies.

    Examples
    --------
    >>> ARM_LABELS(9.0)[RESECT]
    'Resect within 9 months'
    """
    return {RESECT: f"Resect within {grace:g} months", NO_RESECT: "Do not resect"}


# ============================================================================ cloning
def clone(time: np.ndarray, event: np.ndarray, surgery: np.ndarray, grace: float) -> pd.DataFrame:
    """Clone each patient into both strategies and censor the clones that deviate.

    Parameters
    ----------
    time, event : array-like
        Follow-up (months from time zero, > 0) and the 0/1 event.
    surgery : array-like
        Months from time zero to surgery, NaN when never operated.
    grace : float
        G, the grace period of the "resect" strategy (months).

    Returns
    -------
    pandas.DataFrame
        Two rows per patient (``row`` = position of the patient): ``arm`` (1 = resect within G,
        0 = do not resect), ``fup`` (end of the clone's follow-up), ``outcome`` (event at
        ``fup``) and ``censored`` (1 = censored at ``fup`` for deviating from the strategy).

    Examples
    --------
    >>> c = clone([20.0, 5.0, 30.0, 14.0], [1, 1, 0, 1], [4.0, np.nan, 12.0, np.nan], grace=9.0)
    >>> c[["row", "arm", "fup", "outcome", "censored"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [[0.0, 1.0, 20.0, 1.0, 0.0], [1.0, 1.0, 5.0, 1.0, 0.0], [2.0, 1.0, 9.0, 0.0, 1.0], [3.0, 1.0, 9.0, 0.0, 1.0],
     [0.0, 0.0, 4.0, 0.0, 1.0], [1.0, 0.0, 5.0, 1.0, 0.0], [2.0, 0.0, 12.0, 0.0, 1.0], [3.0, 0.0, 14.0, 1.0, 0.0]]
    """
    t = np.asarray(time, dtype=float)
    d = np.asarray(event, dtype=float)
    s = np.asarray(surgery, dtype=float)
    if not (t.shape == d.shape == s.shape):
        raise ValueError("time, event and surgery must have the same length")
    if not grace > 0:
        raise ValueError("the grace period must be a positive number of months")
    operated = ~np.isnan(s) & (s < t)
    in_time = operated & (s <= grace)
    # resect within G: operated by G -> followed to the end; alive and followed at G without surgery -> censored at G
    deviates = ~in_time & (t > grace)
    r_fup = np.where(deviates, grace, t)
    r_out = np.where(deviates, 0.0, d)
    # do not resect: censored on the day of surgery
    n_fup = np.where(operated, s, t)
    n_out = np.where(operated, 0.0, d)
    rows = np.arange(len(t), dtype=float)
    return pd.DataFrame({
        "row": np.concatenate([rows, rows]),
        "arm": np.concatenate([np.ones(len(t)), np.zeros(len(t))]),
        "fup": np.concatenate([r_fup, n_fup]),
        "outcome": np.concatenate([r_out, n_out]),
        "censored": np.concatenate([deviates, operated]).astype(float),
    })


# ============================================================================ censoring weights
@dataclass(frozen=True)
class CensoringModel:
    """The censoring model of one strategy: where the censoring hazard jumps and each clone's risk.

    ``times`` are the distinct censoring times and ``cumhaz`` the baseline (all covariates 0)
    cumulative hazard just after each (R's ``basehaz(fit, centered = FALSE)``, Efron's
    correction for ties as ``survfit.coxph`` after an Efron fit); ``risk`` is ``exp(lp)`` per
    clone. A clone's probability of remaining uncensored through ``t`` is
    ``exp(-H0(t) * risk)``.
    """

    times: np.ndarray
    cumhaz: np.ndarray
    risk: np.ndarray
    covariates: tuple[str, ...]
    coefficients: pd.Series
    marginal: bool = False  # no covariates (the fallback)
    reason: str = ""  # why the covariates were not used

    def cumhaz_at(self, t: np.ndarray) -> np.ndarray:
        """Baseline cumulative hazard at ``t`` (right-continuous: jumps at ``t`` included).

        Examples
        --------
        >>> m = CensoringModel(np.array([2.0, 5.0]), np.array([0.1, 0.3]), np.ones(1), (), pd.Series(dtype=float))
        >>> m.cumhaz_at(np.array([0.0, 2.0, 4.9, 5.0, 9.0])).tolist()
        [0.0, 0.1, 0.1, 0.3, 0.3]
        """
        idx = np.searchsorted(self.times, np.asarray(t, dtype=float), side="right")
        return np.concatenate([[0.0], self.cumhaz])[idx]


def _efron_cumhaz(fup: np.ndarray, cens: np.ndarray, risk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Efron-corrected baseline cumulative hazard at the censoring times (R's ``agsurv``, survtype 3)."""
    times = np.unique(fup[cens == 1])
    haz = np.empty(len(times))
    for i, u in enumerate(times):
        at_risk = risk[fup >= u].sum()
        dead = (fup == u) & (cens == 1)
        m = int(dead.sum())
        erisk = risk[dead].sum()
        haz[i] = sum(1.0 / (at_risk - k / m * erisk) for k in range(m))  # = nevent * mean_k 1 / (...)
    return times, np.cumsum(haz)


def censoring_model(fup: np.ndarray, cens: np.ndarray, X: pd.DataFrame | None) -> CensoringModel:
    """Cox model of the time to censoring (deviation) on baseline covariates, with a marginal fallback.

    Parameters
    ----------
    fup, cens : array-like
        The clones' follow-up and deviation indicator (one strategy).
    X : pandas.DataFrame or None
        Numeric design columns (one row per clone); None or no column: no covariates.

    Returns
    -------
    CensoringModel
        With ``marginal`` true (and ``reason``) when the Cox model could not use the covariates:
        a covariate constant among these clones is left out first; a model that cannot be fitted
        (separation, collinearity) falls back to no covariates, which corrects for censoring that
        depends on time only.

    Examples
    --------
    >>> m = censoring_model(np.array([1.0, 2.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.0, 0.0]), None)
    >>> m.times.tolist(), [round(float(h), 4) for h in m.cumhaz]  # R: basehaz(coxph(Surv(fup, cens) ~ 1))
    ([1.0, 2.0], [0.25, 0.5833])
    """
    fup = np.asarray(fup, dtype=float)
    cens = np.asarray(cens, dtype=float)
    empty = pd.Series(dtype=float)
    ones = np.ones(len(fup))
    if cens.sum() == 0:
        return CensoringModel(np.array([]), np.array([]), ones, (), empty, marginal=True, reason="no clone deviates")
    reason = ""
    if X is not None and X.shape[1]:
        keep = [c for c in X.columns if np.ptp(X[c].to_numpy(float)) > 0]
        if keep:
            frame = X[keep].reset_index(drop=True).assign(_fup=fup, _cens=cens)
            try:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # separation ends in ValueError
                    fit = survival.cox(frame, "_fup", "_cens", keep)
            except ValueError as exc:
                reason = ("the Cox model of deviation cannot be fitted with the covariates (one of them may "
                          f"separate who deviates: {str(exc).split(':')[0].lower()}); censoring weights use time only")
            else:
                beta = fit.table["coef"]
                risk = np.exp(X[keep].to_numpy(float) @ beta.to_numpy(float))
                times, cumhaz = _efron_cumhaz(fup, cens, risk)
                return CensoringModel(times, cumhaz, risk, tuple(keep), beta)
        else:
            reason = "every covariate is constant among these clones; censoring weights use time only"
    times, cumhaz = _efron_cumhaz(fup, cens, ones)
    return CensoringModel(times, cumhaz, ones, (), empty, marginal=True, reason=reason)


def weighted_rows(clones: pd.DataFrame, model: CensoringModel) -> pd.DataFrame:
    """Split one strategy's clones where the censoring hazard jumps and attach the IPC weights.

    Each (start, stop] interval carries ``1 / exp(-H0(start) * risk)``, the inverse
    probability of remaining uncensored up to the start of the interval (the tutorial's
    ``weight_Cox``).

    Returns
    -------
    pandas.DataFrame
        Columns ``row``, ``arm``, ``start``, ``stop``, ``event``, ``weight``.

    Examples
    --------
    >>> cl = pd.DataFrame({"row": [0.0, 1.0], "arm": [1.0, 1.0], "fup": [2.0, 5.0], "outcome": [1.0, 0.0]})
    >>> m = CensoringModel(np.array([3.0]), np.array([0.5]), np.ones(2), (), pd.Series(dtype=float))
    >>> weighted_rows(cl, m).round(3).values.tolist()
    [[0.0, 1.0, 0.0, 2.0, 1.0, 1.0], [1.0, 1.0, 0.0, 3.0, 0.0, 1.0], [1.0, 1.0, 3.0, 5.0, 0.0, 1.649]]
    """
    fup = clones["fup"].to_numpy(float)
    cuts = model.times
    # interval bounds per clone: 0, the cuts below fup, fup
    n_cut = np.searchsorted(cuts, fup, side="left")  # cuts strictly below fup
    reps = n_cut + 1
    idx = np.repeat(np.arange(len(fup)), reps)
    pos = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)  # interval number within a clone
    padded = np.concatenate([[0.0], cuts])
    start = padded[pos]
    last = pos == n_cut[idx]
    stop = np.where(last, fup[idx], padded[np.minimum(pos + 1, len(padded) - 1)])
    event = np.where(last, clones["outcome"].to_numpy(float)[idx], 0.0)
    weight = np.exp(model.cumhaz_at(start) * model.risk[idx])
    return pd.DataFrame({"row": clones["row"].to_numpy(float)[idx], "arm": clones["arm"].to_numpy(float)[idx],
                         "start": start, "stop": stop, "event": event, "weight": weight})


def weighted_km(start: np.ndarray, stop: np.ndarray, event: np.ndarray, weight: np.ndarray) -> pd.DataFrame:
    """Weighted Kaplan-Meier estimate on (start, stop] rows, as R ``survfit(Surv(start, stop, event) ~ 1, weights = )``.

    Returns
    -------
    pandas.DataFrame
        One row per distinct event time: ``time``, ``n_risk`` and ``n_event`` (weighted sums),
        ``survival``.

    Examples
    --------
    >>> km = weighted_km(np.zeros(3), np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 1.0]), np.array([1.0, 2.0, 1.0]))
    >>> km.round(3).values.tolist()
    [[1.0, 4.0, 1.0, 0.75], [3.0, 1.0, 1.0, 0.0]]
    """
    start, stop, event, weight = (np.asarray(a, dtype=float) for a in (start, stop, event, weight))
    times = np.unique(stop[event == 1])
    if len(times) == 0:
        return pd.DataFrame({"time": [], "n_risk": [], "n_event": [], "survival": []})
    # weighted number at risk at u: rows with start < u <= stop
    order_stop = np.argsort(stop)
    cum_stop = np.concatenate([[0.0], np.cumsum(weight[order_stop])])
    order_start = np.argsort(start)
    cum_start = np.concatenate([[0.0], np.cumsum(weight[order_start])])
    left_before = cum_stop[np.searchsorted(stop[order_stop], times, side="left")]  # stop < u
    entered = cum_start[np.searchsorted(start[order_start], times, side="left")]  # start < u
    n_risk = entered - left_before
    ev = event == 1
    d = np.bincount(np.searchsorted(times, stop[ev]), weights=weight[ev], minlength=len(times))
    # the last patients at risk all die: exactly 0 (sums of weights in two orders differ in the last bits)
    factor = np.where(d >= n_risk * (1 - 1e-12), 0.0, 1.0 - d / n_risk)
    surv = np.cumprod(factor)
    return pd.DataFrame({"time": times, "n_risk": n_risk, "n_event": d, "survival": surv})


def _survival_at(km: pd.DataFrame, t: float, last: float) -> float:
    if t > last:
        return np.nan
    i = np.searchsorted(km["time"].to_numpy(float), t, side="right")
    return float(np.concatenate([[1.0], km["survival"].to_numpy(float)])[i])


def _rmst(km: pd.DataFrame, tau: float, last: float) -> float:
    if tau > last:
        return np.nan
    x = np.concatenate([[0.0], km["time"].to_numpy(float)])
    y = np.concatenate([[1.0], km["survival"].to_numpy(float)])
    keep = x < tau
    x, y = x[keep], y[keep]
    widths = np.diff(np.concatenate([x, [tau]]))
    return float((widths * y).sum())


# ============================================================================ one fit
@dataclass(frozen=True, eq=False)
class StrategyFit:
    """Clones, weighted rows, curves and censoring models of both strategies (one fit, no bootstrap)."""

    clones: pd.DataFrame  # one row per clone (see :func:`clone`)
    rows: pd.DataFrame  # weighted (start, stop] rows of both strategies
    km: dict[str, pd.DataFrame]
    last: dict[str, float]  # end of follow-up per strategy
    models: dict[str, CensoringModel]
    values: np.ndarray  # survival r, n, diff per horizon, then rmst r, n, diff per horizon


def fit_strategies(t: np.ndarray, d: np.ndarray, s: np.ndarray, X: pd.DataFrame | None, grace: float) -> StrategyFit:
    """Clone, censor, weight and draw the weighted curves once.

    Parameters
    ----------
    t, d, s : numpy.ndarray
        Follow-up (months from time zero), event (0/1) and months to surgery (NaN: not operated).
    X : pandas.DataFrame or None
        Numeric covariates of the censoring models, one row per patient.
    grace : float
        G in months.

    Returns
    -------
    StrategyFit
        ``values`` holds, per horizon of :data:`HORIZONS`, survival under "resect", under "do not
        resect" and their difference, then the same for the RMST.

    Examples
    --------
    >>> f = fit_strategies(np.array([20.0, 5.0, 30.0, 14.0, 40.0]), np.array([1.0, 1.0, 0.0, 1.0, 1.0]),
    ...                    np.array([4.0, np.nan, 12.0, np.nan, 6.0]), None, 9.0)
    >>> sorted(f.km), round(float(f.km["resect"]["survival"].iloc[0]), 3)
    (['no_resect', 'resect'], 0.8)
    """
    clones = clone(t, d, s, grace)
    parts, km, last, models = [], {}, {}, {}
    for key, code in ARM_CODE.items():
        part = clones[clones["arm"] == code].reset_index(drop=True)
        Xa = None if X is None else X.iloc[part["row"].to_numpy(int)].reset_index(drop=True)
        model = censoring_model(part["fup"].to_numpy(float), part["censored"].to_numpy(float), Xa)
        rows = weighted_rows(part, model)
        parts.append(rows)
        models[key] = model
        km[key] = weighted_km(rows["start"], rows["stop"], rows["event"], rows["weight"])
        last[key] = float(part["fup"].max())
    vals = []
    for fn in (_survival_at, _rmst):
        for h in HORIZONS:
            a, b = fn(km[RESECT], h, last[RESECT]), fn(km[NO_RESECT], h, last[NO_RESECT])
            vals += [a, b, a - b]
    return StrategyFit(clones, pd.concat(parts, ignore_index=True), km, last, models, np.array(vals))


# ============================================================================ result
@dataclass(frozen=True)
class CcwResult:
    """Clone-censor-weight comparison of "resect within G months" vs "do not resect".

    Attributes
    ----------
    grace : float
        G (months).
    estimand : str
        The question answered, in words a surgeon reads.
    counts : ArmCounts
        Patients who followed each strategy beyond the grace period (operated by G; never
        operated) and their events: the small-numbers rule is applied to these.
    n_patients, n_missing : int
        Patients cloned; patients left out for a missing covariate or no follow-up.
    km : pandas.DataFrame
        Weighted Kaplan-Meier curves: ``strategy``, ``time``, ``n_risk``, ``n_event``, ``survival``.
    table : pandas.DataFrame
        Survival and RMST per strategy and their difference at :data:`HORIZONS`, with bootstrap
        95% intervals of the difference (see :func:`estimates_table`).
    hr, hr_lower, hr_upper, hr_p, hr_se : float
        Weighted Cox hazard ratio (resect vs do not resect) with its robust 95% interval.
    clones : pandas.DataFrame
        Per strategy: clones, deviating (censored) clones, events, weights (min, median, max).
    censoring : dict of str to str
        The censoring model of each strategy in words.
    n_boot, seed, n_boot_ok : int
        Bootstrap replicates asked for, seed, and replicates that gave every number.
    reason : str
        Why there is no comparison ('' when there is one).
    notes : tuple of str
        Design choices to read beside the numbers.
    """

    grace: float
    origin: str
    endpoint: str
    estimand: str
    counts: ArmCounts
    n_patients: int
    n_missing: int
    km: pd.DataFrame
    table: pd.DataFrame
    hr: float
    hr_lower: float
    hr_upper: float
    hr_p: float
    hr_se: float
    clones: pd.DataFrame
    censoring: dict[str, str]
    n_boot: int
    seed: int
    n_boot_ok: int
    reason: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    arms: tuple[str, str] = (RESECT, NO_RESECT)

    @property
    def estimated(self) -> bool:
        """Whether the comparison gives numbers (both strategies pass the small-numbers rule)."""
        return not self.reason

    @property
    def labels(self) -> dict[str, str]:
        """Display names of the two strategies."""
        return ARM_LABELS(self.grace)


def estimand(spec: AnalysisSpec, grace: float) -> str:
    """The question the clone-censor-weight comparison answers, in a surgeon's words.

    Examples
    --------
    >>> estimand(AnalysisSpec(), 9.0).startswith("For patients eligible at chemotherapy start")
    True
    """
    outcome = "alive" if spec.endpoint == "os" else "alive without progression or recurrence"
    return (f"For patients eligible at {ORIGINS[spec.origin]}: the chance of being {outcome} at 1, 2 and 3 years, and "
            f"the months gained, if the plan is to resect within {grace:g} months of {ORIGINS[spec.origin]}, against "
            "a plan never to resect, as a trial randomising at that moment would compare them. Patients who die "
            f"before {grace:g} months without an operation count in both plans.")


_MEASURES = [("Survival", h) for h in HORIZONS] + [("RMST (months)", h) for h in HORIZONS]


def _no_result(spec, grace, counts, n, n_missing, reason, *, km=None, clones=None, censoring=None, notes=(),
               n_boot=N_BOOT, seed=SEED) -> CcwResult:
    empty_km = pd.DataFrame(columns=["strategy", "time", "n_risk", "n_event", "survival"])
    return CcwResult(grace, spec.origin, spec.endpoint, estimand(spec, grace), counts, n, n_missing,
                     empty_km if km is None else km, _table(np.full(18, np.nan), np.full((0, 18), np.nan), 0),
                     np.nan, np.nan, np.nan, np.nan, np.nan, clones if clones is not None else pd.DataFrame(),
                     censoring or {}, n_boot, seed, 0, reason, tuple(notes))


def _table(values: np.ndarray, boot: np.ndarray, n_boot: int) -> pd.DataFrame:
    """Estimates and percentile intervals; an interval needs :data:`MIN_BOOT_SHARE` of the replicates."""
    rows = []
    for i, (measure, h) in enumerate(_MEASURES):
        a, b, diff = values[3 * i: 3 * i + 3]
        col = boot[:, 3 * i + 2] if len(boot) else np.array([])
        col = col[np.isfinite(col)]
        lo = hi = np.nan
        if n_boot and np.isfinite(diff) and len(col) >= MIN_BOOT_SHARE * n_boot:
            lo, hi = (float(x) for x in np.quantile(col, [0.025, 0.975]))
        rows.append({"measure": measure, "months": h, "resect": a, "no_resect": b, "difference": diff,
                     "lower": lo, "upper": hi, "replicates": int(len(col))})
    return pd.DataFrame(rows)


def estimate(data: pd.DataFrame, spec: AnalysisSpec, *, grace: float = DEFAULT_GRACE, n_boot: int = N_BOOT,
             seed: int = SEED) -> CcwResult:
    """Clone, censor and weight the patients of ``data`` (already filtered) and compare the strategies.

    Parameters
    ----------
    data : pandas.DataFrame
        The filtered cohort (eligibility and filters of ``spec`` applied).
    spec : AnalysisSpec
        Origin (time zero), endpoint and the covariates of the censoring models.
    grace : float
        G in months (:data:`GRACE_RANGE`).
    n_boot, seed : int
        Bootstrap replicates (0: no intervals) and seed.

    Returns
    -------
    CcwResult

    Examples
    --------
    >>> from core import cohort
    >>> res = estimate(cohort.demo().data, AnalysisSpec(), n_boot=0)
    >>> res.counts.n_surgery > 0, bool(res.table["lower"].isna().all())
    (True, True)
    """
    lo, hi = GRACE_RANGE
    if not (isinstance(grace, int | float) and lo <= grace <= hi):
        raise ValueError(f"the grace period must be between {lo:g} and {hi:g} months (got {grace!r})")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 0:
        raise ValueError("n_boot must be a whole number >= 0")
    event_word = EVENT_WORDS[spec.endpoint]
    pop = naive_population(data, origin=spec.origin, endpoint=spec.endpoint).data
    pop = pop[pop[TIME] > 0]
    pf, names = propensity_frame(pop, spec.covariates)
    operated = pf[SURGERY_TIME].notna().to_numpy()
    try:
        design = build_design(pf, names, missing="drop", drop_constant=True, min_level_count=MIN_LEVEL_COUNT,
                              arm=operated)
        X = design.matrix.reset_index(drop=True).astype(float)
        rows = design.rows
        adjustments = model_adjustments(design.dropped, design.pooled).replace("Propensity model",
                                                                              "Censoring models")
    except ValueError:
        X, rows, adjustments = None, np.arange(len(pf)), ""
    pf = pf.iloc[rows]
    n_missing = int(len(data) - len(pf))
    t = pf[TIME].to_numpy(float)
    d = pf[EVENT].to_numpy(float)
    s = pf[SURGERY_TIME].to_numpy(float)
    followed_r = ~np.isnan(s) & (s <= grace) & (s < t)
    followed_n = np.isnan(s) | (s >= t)
    counts = ArmCounts(int(followed_r.sum()), int(followed_n.sum()), int((followed_r & (d == 1)).sum()),
                       int((followed_n & (d == 1)).sum()), event_word)
    notes = [n for n in (adjustments,) if n]
    later = [label(c) for c in spec.covariates if c in AFTER_TIME_ZERO]
    if later:
        notes.append(f"{', '.join(later)} {'is' if len(later) == 1 else 'are'} measured at restaging, after time zero: "
                     "the censoring models use it as if known from time zero (the registry has no restaging date).")
    if n_missing:
        notes.append(f"{n_missing} patient(s) left out: a covariate of the censoring models is missing, or there is "
                     "no follow-up.")
    if len(pf) == 0:
        return _no_result(spec, grace, counts, 0, n_missing, "no patient to clone in this selection")
    fit = fit_strategies(t, d, s, X, grace)
    labels = ARM_LABELS(grace)
    km = pd.concat([k.assign(strategy=key) for key, k in fit.km.items()], ignore_index=True)
    km = km[["strategy", "time", "n_risk", "n_event", "survival"]]
    clones = _clone_table(fit, labels)
    censoring = {labels[key]: _model_words(m, key, grace) for key, m in fit.models.items()}
    notes += [f"{labels[key]}: {m.reason}." for key, m in fit.models.items() if m.reason and m.reason != "no clone deviates"]
    reason = comparison_reason(counts)
    if reason:
        reason = re.sub(r"operated patient(s?)", rf"patient\1 operated within {grace:g} months", reason)
        reason = re.sub(r"chemotherapy-only patient(s?)", r"never-operated patient\1", reason)
        return _no_result(spec, grace, counts, len(pf), n_missing, reason, km=km, clones=clones, censoring=censoring,
                          notes=notes, n_boot=n_boot, seed=seed)
    hr = weighted_cox(fit.rows)
    boot = _bootstrap(t, d, s, X, grace, n_boot, seed)
    ok = int(np.isfinite(boot).all(axis=1).sum()) if len(boot) else 0
    table = _table(fit.values, boot, n_boot)
    short = table[np.isfinite(table["difference"]) & table["lower"].isna()] if n_boot else table.iloc[:0]
    if len(short):
        notes.append("No bootstrap interval at " + ", ".join(f"{m:g}" for m in sorted(set(short["months"])))
                     + f" months: fewer than {MIN_BOOT_SHARE:.0%} of the replicates reach that time in both strategies.")
    return CcwResult(grace, spec.origin, spec.endpoint, estimand(spec, grace), counts, len(pf), n_missing, km, table,
                     *hr, clones, censoring, n_boot, seed, ok, "", tuple(notes))


def weighted_cox(rows: pd.DataFrame) -> tuple[float, float, float, float, float]:
    """Weighted Cox model of the strategy (resect = 1) on the weighted rows, robust SE clustered on the patient.

    As R ``coxph(Surv(start, stop, event) ~ arm, weights = weight, cluster = row)``.

    Returns
    -------
    tuple of float
        Hazard ratio, lower and upper 95% limits, p and robust SE of log HR (NaN when it cannot be fitted).

    Examples
    --------
    >>> f = fit_strategies(np.array([20.0, 5.0, 30.0, 14.0, 40.0, 8.0]), np.array([1.0, 1.0, 0.0, 1.0, 1.0, 1.0]),
    ...                    np.array([4.0, np.nan, 12.0, np.nan, 6.0, np.nan]), None, 9.0)
    >>> hr, lower, upper, p, se = weighted_cox(f.rows)
    >>> bool(lower < hr < upper), bool(se > 0)
    (True, True)
    """
    try:
        fit = survival.cox_time_varying(rows, "start", "stop", "event", ["arm"], weights="weight", cluster="row")
    except ValueError:
        return (np.nan,) * 5
    r = fit.table.loc["arm"]
    return float(r["hr"]), float(r["lower"]), float(r["upper"]), float(r["p"]), float(r["se"])


def _bootstrap(t, d, s, X, grace, n_boot, seed) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = len(t)
    out = np.full((n_boot, 3 * len(_MEASURES)), np.nan)
    for b in range(n_boot):
        i = rng.integers(0, n, n)
        Xb = None if X is None else X.iloc[i].reset_index(drop=True)
        try:
            out[b] = fit_strategies(t[i], d[i], s[i], Xb, grace).values
        except (ValueError, FloatingPointError, ZeroDivisionError):
            continue
    return out


def _clone_table(fit: StrategyFit, labels: dict[str, str]) -> pd.DataFrame:
    out = []
    for key, code in ARM_CODE.items():
        c = fit.clones[fit.clones["arm"] == code]
        w = fit.rows.loc[fit.rows["arm"] == code, "weight"].to_numpy(float)
        out.append({"strategy": labels[key], "clones": len(c), "censored_deviating": int(c["censored"].sum()),
                    "events": int(c["outcome"].sum()), "weight_min": float(w.min()),
                    "weight_median": float(np.median(w)), "weight_max": float(w.max())})
    return pd.DataFrame(out)


#: Headings of the clone table on screen (the download keeps the column names, defined in core.export_notes).
CLONE_HEADINGS = {"strategy": "Strategy", "clones": "Clones", "censored_deviating": "Censored on deviating",
                  "events": "Events", "weight_min": "Smallest weight", "weight_median": "Median weight",
                  "weight_max": "Largest weight"}


def clones_display(clones: pd.DataFrame) -> pd.DataFrame:
    """The clone table with headings in words and weights to 2 decimals (for a page or the report).

    Examples
    --------
    >>> clones_display(pd.DataFrame({"strategy": ["Do not resect"], "weight_max": [5.8712]})).to_dict("records")
    [{'Strategy': 'Do not resect', 'Largest weight': 5.87}]
    """
    return clones.round(2).rename(columns=CLONE_HEADINGS)


def _model_words(m: CensoringModel, key: str, grace: float) -> str:
    when = (f"not operated by {grace:g} months (all censored at {grace:g} months)" if key == RESECT
            else "operated (censored on the day of surgery)")
    if len(m.times) == 0:
        return f"no clone deviates ({when}): weights 1"
    if m.marginal:
        return f"deviation = {when}; Cox model without covariates (time only)"
    return f"deviation = {when}; Cox model on " + ", ".join(term_label(c) for c in m.covariates)


def estimates_table(result: CcwResult) -> pd.DataFrame:
    """The numbers of the comparison as a download/report table (survival in %, RMST in months).

    Examples
    --------
    >>> from core import cohort
    >>> t = estimates_table(run(cohort.demo(), AnalysisSpec(), n_boot=0))
    >>> t.columns.tolist()[:3]
    ['measure', 'months', 'Resect within 9 months']
    """
    labels = result.labels
    t = result.table.rename(columns={RESECT: labels[RESECT], NO_RESECT: labels[NO_RESECT],
                                     "lower": "difference_lower", "upper": "difference_upper"})
    hr = pd.DataFrame([{"measure": "Hazard ratio (weighted Cox, robust SE)", "months": np.nan,
                        labels[RESECT]: np.nan, labels[NO_RESECT]: np.nan, "difference": result.hr,
                        "difference_lower": result.hr_lower, "difference_upper": result.hr_upper}])
    out = pd.concat([t, hr], ignore_index=True)
    out["interval"] = [f"bootstrap percentile, {result.n_boot} replicates, seed {result.seed}"] * len(t) + [
        "robust (sandwich) 95% CI clustered on the patient"]
    return out


def headline(result: CcwResult) -> str:
    """The comparison in one sentence (or why there is none).

    Examples
    --------
    >>> from core import cohort
    >>> headline(run(cohort.demo(), AnalysisSpec(), n_boot=0)).startswith("At 2 years")
    True
    """
    if not result.estimated:
        return f"No comparison: {result.reason}."
    row = result.table[(result.table["measure"] == "Survival") & (result.table["months"] == 24.0)].iloc[0]
    if not np.isfinite(row["difference"]):
        return "No 2-year comparison: follow-up ends before 2 years in one strategy."
    ci = ("" if not np.isfinite(row["lower"]) else
          f" (95% CI {100 * row['lower']:+.0f} to {100 * row['upper']:+.0f} points)")
    name = ENDPOINT_NAMES[result.endpoint].lower()
    return (f"At 2 years, {name} is {100 * row['resect']:.0f}% with a plan to resect within {result.grace:g} months "
            f"and {100 * row['no_resect']:.0f}% with a plan not to resect: a difference of "
            f"{100 * row['difference']:+.0f} percentage points{ci}.")


def run(cohort, spec: AnalysisSpec, *, grace: float = DEFAULT_GRACE, n_boot: int = N_BOOT,
        seed: int = SEED) -> CcwResult:
    """:func:`estimate` on the cohort filtered by ``spec`` (filters and eligibility at time zero).

    Examples
    --------
    >>> from core import cohort
    >>> run(cohort.demo(), AnalysisSpec(), n_boot=0).grace
    9.0
    """
    filtered = apply_filters(cohort.data, spec)
    return estimate(filtered.data, spec, grace=grace, n_boot=n_boot, seed=seed)



def display_table(result: CcwResult) -> pd.DataFrame:
    """The estimates as a page shows them: survival in %, RMST in months, the difference with its interval.

    Examples
    --------
    >>> from core import cohort
    >>> t = display_table(run(cohort.demo(), AnalysisSpec(), n_boot=0))
    >>> t.columns.tolist()
    ['Measure', 'Resect within 9 months', 'Do not resect', 'Difference (95% CI)']
    >>> t["Difference (95% CI)"].iloc[1].endswith(" pts")  # survival: percentage points
    True
    """
    labels = result.labels
    rows = []

    def one(x: float, pct: bool, signed: bool = False) -> str:
        if not np.isfinite(x):
            return fmt_num(np.nan)
        sign = "+" if signed else ""
        if pct:  # a level in %, a difference in percentage points
            return f"{100 * x:{sign}.0f} pts" if signed else f"{100 * x:.0f}%"
        return f"{x:{sign}.1f}"

    for r in result.table.itertuples(index=False):
        pct = r.measure == "Survival"
        diff = one(r.difference, pct, signed=True)
        if np.isfinite(r.lower):
            diff += f" ({one(r.lower, pct, True)} to {one(r.upper, pct, True)})"
        name = f"Survival at {r.months:g} months" if pct else f"Mean months alive of the first {r.months:g} (RMST)"
        rows.append({"Measure": name, labels[RESECT]: one(r.resect, pct), labels[NO_RESECT]: one(r.no_resect, pct),
                     "Difference (95% CI)": diff})
    return pd.DataFrame(rows)


def counts_in_words(result: CcwResult) -> str:
    """Who followed each strategy beyond the grace period, with their events.

    Examples
    --------
    >>> from core import cohort
    >>> counts_in_words(run(cohort.demo(), AnalysisSpec(), n_boot=0)).startswith("88 patients cloned")
    True
    """
    c = result.counts
    w = c.event_word
    return (f"{result.n_patients} patients cloned into both strategies: {c.n_surgery} patients operated within "
            f"{result.grace:g} months ({c.events_surgery} {w}s) and {c.n_chemotherapy} patients never operated "
            f"({c.events_chemotherapy} {w}s).")
