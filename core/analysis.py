"""The study analysis as one pure function: ``run(cohort, spec) -> AnalysisResult``.

The same frozen :class:`~core.spec.AnalysisSpec` is the dashboard's URL state, the cache key
and the provenance of every export; the result is frozen too. Every estimator of
:data:`core.estimators.ESTIMATORS` runs on the filtered cohort; ``result.comparisons`` holds
their :class:`~core.estimators.AdjustedComparison` answers and the chosen one
(``spec.method``) provides the headline, the curves and the balance.

Examples
--------
>>> from core import cohort
>>> from core.spec import AnalysisSpec
>>> result = run(cohort.demo(), AnalysisSpec())
>>> result.hr.method
'Landmark at 6 months, propensity-matched'
>>> 0 < result.hr.hr < 5
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import matching, survival
from core.covariates import (  # noqa: F401 (re-exported: the covariate helpers used to live here)
    LOG_CA19_9,
    LOG_CA19_9_RESTAGING,
    OBJECTIVE_RESPONSE,
    PROGRESSIVE,
    model_adjustments,
    propensity_frame,
    term_label,
)
from core.design import MIN_LEVEL_COUNT
from core.dictionary import PRE_SURGERY_COVARIATES, Arm, C, label
from core.estimators import (  # noqa: F401 (re-exported)
    ESTIMATORS,
    AdjustedComparison,
    Context,
    Estimate,
    arm_counts,
    cluster_column,
    cox_failure_reason,
    is_weighted,
    matched_comparison,
)
from core.filters import FilterResult, apply_filters
from core.guards import MIN_EVENTS_PER_ARM, MIN_PATIENTS_PER_ARM, ArmCounts, comparison_reason, unreliable_reason
from core.population import EVENT, SURGERY_TIME, TIME, TREATED
from core.spec import PROPENSITY_MODELS, AnalysisSpec
from core.table1 import TABLE1_VARIABLES

#: Times (months) at which survival is reported.
REPORT_TIMES = (12.0, 24.0, 36.0, 60.0)
#: RMST horizon (months), shortened to the shorter follow-up of the two arms.
RMST_TAU = 36.0  # the default horizon (AnalysisSpec.rmst_months)
ARM_OF_TREATED = {1: Arm.SURGERY, 0: Arm.CHEMOTHERAPY}


@dataclass(frozen=True)
class ArmCurve:
    """Kaplan-Meier estimate of one arm."""

    arm: str
    n: int
    events: int
    km: pd.DataFrame
    median: float
    median_lower: float
    median_upper: float
    at_times: pd.DataFrame
    reliable: bool = True
    reason: str = ""


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one view of the dashboard shows, computed once from (cohort, spec)."""

    spec: AnalysisSpec
    cohort_sha256: str
    filtered: FilterResult
    flow: pd.DataFrame
    population: pd.DataFrame
    population_description: str
    match: matching.MatchResult | None
    balance: pd.DataFrame | None
    curves: tuple[ArmCurve, ...]
    risk_table: pd.DataFrame
    hr: Estimate | None
    logrank_p: float
    rmst: survival.RmstDifference | None
    methods: pd.DataFrame
    warnings: tuple[str, ...] = field(default_factory=tuple)
    time_label: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    comparisons: tuple[AdjustedComparison, ...] = field(default_factory=tuple)
    arm_labels: dict[str, str] = field(default_factory=dict)

    @property
    def chosen(self) -> AdjustedComparison | None:
        """The comparison of ``spec.method`` (the headline)."""
        return next((c for c in self.comparisons if c.key == self.spec.method), None)


def _arm_curve(part: pd.DataFrame, arm: str, weights: np.ndarray | None) -> ArmCurve:
    t = part[TIME].to_numpy(float)
    e = part[EVENT].to_numpy(float)
    n, events = len(part), int(e.sum())
    if n == 0:
        empty = pd.DataFrame(columns=["time", "n_risk", "n_event", "n_censor", "survival", "lower", "upper"])
        return ArmCurve(arm, 0, 0, empty, np.nan, np.nan, np.nan, pd.DataFrame(), False, "no patients")
    km = survival.kaplan_meier(t, e, weights=weights)
    med = survival.median_survival(t, e, weights=weights)
    at = survival.survival_at(t, e, list(REPORT_TIMES), weights=weights)
    reason = unreliable_reason(n, events)
    return ArmCurve(arm, n, events, km, float(med[0]), float(med[1]), float(med[2]), at, not reason, reason)


#: Columns every analysis population carries (besides the propensity covariates): identifiers,
#: survival times, and what Table 1 and the subgroup table describe. The full rows stay in the
#: cohort (``result.filtered.data``), so a population never copies the whole table.
POPULATION_COLUMNS: tuple[str, ...] = (
    C.PATIENT_ID, C.CENTRE_ID, C.TREATMENT_GROUP, C.OS_FROM_CHEMO, C.OS_FROM_DIAGNOSIS, C.OS_EVENT,
    C.EFS_FROM_CHEMO, C.EFS_FROM_DIAGNOSIS, C.EFS_EVENT,
    C.TIME_TO_SURGERY, C.TIME_DIAGNOSIS_TO_SURGERY, C.RECIST, C.METS_GROUP, C.CHEMO_REGIMEN,
    C.PANCREATIC_PROCEDURE, C.RESECTABILITY,
)


def analysis_columns(spec: AnalysisSpec) -> list[str]:
    """The columns an analysis needs from the cohort: population columns, propensity covariates,
    the pre-surgery variables of Table 1.

    Examples
    --------
    >>> "age_at_diagnosis" in analysis_columns(AnalysisSpec())
    True
    """
    return list(dict.fromkeys([*POPULATION_COLUMNS, *spec.covariates, *PRE_SURGERY_COVARIATES, *TABLE1_VARIABLES]))


def run(cohort, spec: AnalysisSpec) -> AnalysisResult:
    """Run the analysis described by ``spec`` on ``cohort`` (a :class:`core.cohort.Cohort`).

    Parameters
    ----------
    cohort : core.cohort.Cohort
        Validated cohort.
    spec : AnalysisSpec
        Filters and settings.

    Returns
    -------
    AnalysisResult
        ``warnings`` holds at most one plain line (why there is no hazard ratio, with the counts
        per arm); ``notes`` explains the design choices behind the numbers.
    """
    filtered = apply_filters(cohort.data, spec)
    flow_rows = [(s.description, s.n_surgery, s.n_chemotherapy) for s in filtered.steps]
    ctx = Context(filtered.select(analysis_columns(spec)), spec)
    comparisons = {key: estimator(ctx) for key, estimator in ESTIMATORS.items()}
    chosen = comparisons[spec.method]
    drawn = comparisons[chosen.curves_from] if chosen.curves_from else chosen  # whose sample draws the curves
    hr = chosen.estimate
    notes = [n for n in dict.fromkeys((*chosen.notes, *(drawn.notes if drawn is not chosen else ()))) if n]
    if chosen.biased:
        notes.insert(0, "The naive comparison counts the time before surgery as 'surgery' time (immortal time) "
                        "and favours surgery: use it only to show the bias.")

    population, m, matched = drawn.population, drawn.match, drawn.sample
    pop = population.data
    flow_rows.append((population.step or population.description, int((pop[TREATED] == 1).sum()),
                      int((pop[TREATED] == 0).sum())))
    if m is not None:
        flow_rows.append(("Propensity-matched", int(m.n_treated_matched), int(m.n_control_matched)))

    balance = None
    curves: list[ArmCurve] = []
    risk = pd.DataFrame()
    logrank_p = np.nan
    rmst = None
    if matched is not None and len(matched):
        if m is not None:
            pf, names = propensity_frame(pop, spec.covariates)
            left_out = {d.covariate for d in m.dropped}
            balance = matching.balance_table(pf, TREATED, [n for n in names if n not in left_out], m)
            balance.index = [term_label(str(t)) for t in balance.index]
        for treated in (1, 0):
            part = matched[matched[TREATED] == treated]
            w = part[drawn.weights].to_numpy(float) if drawn.weights else None
            curves.append(_arm_curve(part, ARM_OF_TREATED[treated], w))
        risk = _risk_table(matched, spec.min_at_risk)
        if drawn.weights:
            notes.append("With k:1 matching or replacement the curves are weighted; log-rank test and RMST "
                         "are not shown (they would ignore the weights).")
        elif hr.estimated:
            try:
                logrank_p = float(survival.logrank(matched[TIME], matched[EVENT], matched[TREATED]).p)
            except ValueError:
                pass
            rmst = _rmst(matched, spec.rmst_months)

    warnings = [] if hr.estimated else [_no_hr_line(hr)]
    time_label = ("Months since the landmark" if spec.method != "naive"
                  else f"Months since {'chemotherapy start' if spec.origin == 'chemo_start' else 'diagnosis'}")
    return AnalysisResult(
        spec=spec, cohort_sha256=cohort.sha256, filtered=filtered,
        flow=pd.DataFrame(flow_rows, columns=["step", Arm.SURGERY, Arm.CHEMOTHERAPY]),
        population=pop, population_description=population.description, match=m, balance=balance,
        curves=tuple(curves), risk_table=risk, hr=hr, logrank_p=logrank_p, rmst=rmst,
        methods=methods_frame(tuple(c.estimate for c in comparisons.values())), warnings=tuple(warnings),
        time_label=time_label, notes=tuple(notes), comparisons=tuple(comparisons.values()),
        arm_labels=dict(drawn.arm_labels),
    )


def _no_hr_line(hr: Estimate) -> str:
    """The one plain line a page shows when there is no hazard ratio."""
    if hr.counts is None:
        return f"No hazard ratio: {hr.reason}."
    where = hr.counted_in or "this selection"
    if hr.reason == comparison_reason(hr.counts):  # too few patients or events in an arm: counts, then the rule
        return (f"No hazard ratio: in {where}, {hr.counts.in_words()}; each arm needs at least "
                f"{MIN_PATIENTS_PER_ARM} patients and {MIN_EVENTS_PER_ARM} {hr.counts.event_word}s.")
    return f"No hazard ratio: {hr.reason}. In {where}: {hr.counts.in_words()}."


def methods_frame(estimates: tuple[Estimate, ...]) -> pd.DataFrame:
    """The immortal-time methods side by side, with patients and events per arm.

    Returns
    -------
    pandas.DataFrame
        One row per method: ``method``, ``HR``, ``lower``, ``upper``, ``p``, ``patients``,
        ``events``, the four per-arm counts and ``note`` (biased, or why there is no estimate).
    """
    rows = []
    for e in estimates:
        c = e.counts or ArmCounts(0, 0, 0, 0)
        rows.append({"method": e.method, "HR": e.hr, "lower": e.lower, "upper": e.upper, "p": e.p, "patients": e.n,
                     "events": e.events, "patients_surgery": c.n_surgery, "patients_chemotherapy": c.n_chemotherapy,
                     "events_surgery": c.events_surgery, "events_chemotherapy": c.events_chemotherapy,
                     "note": "biased by immortal time" if e.biased and e.estimated else (e.reason or "")})
    return pd.DataFrame(rows)


def risk_times(max_time: float) -> list[float]:
    """Tick times (months) of a number-at-risk table: every 6 months, every 3 up to 24 months.

    Examples
    --------
    >>> risk_times(14.0)
    [0.0, 3.0, 6.0, 9.0, 12.0]
    """
    step = 6.0 if max_time > 24 else 3.0
    return [float(t) for t in np.arange(0.0, max(max_time, 0.0) + 1e-9, step)]


def _risk_table(matched: pd.DataFrame, min_at_risk: int) -> pd.DataFrame:
    times = risk_times(float(matched[TIME].max()) if len(matched) else 0.0)
    rows = {}
    for treated in (1, 0):
        t = matched.loc[matched[TREATED] == treated, TIME].to_numpy(float)
        rows[ARM_OF_TREATED[treated]] = [int((t >= x).sum()) for x in times]
    return pd.DataFrame(rows, index=pd.Index(times, name="time")).T


def _rmst(matched: pd.DataFrame, horizon: float = RMST_TAU) -> survival.RmstDifference | None:
    tmax = [matched.loc[matched[TREATED] == g, TIME].max() for g in (1, 0)]
    tau = float(min(horizon, *tmax))
    if not tau > 0:
        return None
    try:
        return survival.rmst_difference(matched[TIME], matched[EVENT], matched[TREATED], tau)
    except ValueError:
        return None


def km_table(result: AnalysisResult) -> pd.DataFrame:
    """Kaplan-Meier estimates of both arms in one long table (for export).

    Returns
    -------
    pandas.DataFrame
        Columns ``arm``, ``time``, ``n_risk``, ``n_event``, ``n_censor``, ``survival``,
        ``std_err``, ``lower``, ``upper`` (95% log-log limits).
    """
    parts = [c.km.assign(arm=c.arm) for c in result.curves if len(c.km)]
    if not parts:
        return pd.DataFrame(columns=["arm", "time", "n_risk", "n_event", "n_censor", "survival", "lower", "upper"])
    out = pd.concat(parts, ignore_index=True)
    return out[["arm"] + [c for c in out.columns if c != "arm"]]


def matched_cohort(result: AnalysisResult) -> pd.DataFrame:
    """The matched patients with pair id (``subclass``), ``weights`` and propensity score (for export).

    Returns
    -------
    pandas.DataFrame
        Imported and derived columns of the matched patients plus ``time``, ``event``,
        ``treated`` (the analysis variables), ``subclass``, ``weights`` and ``distance`` (logit).
    """
    if result.match is None or result.match.empty:
        return pd.DataFrame()
    matched = result.match.matched
    added = [c for c in matched.columns if c not in result.filtered.source.columns]
    full = result.filtered.source.loc[matched.index]
    return pd.concat([full, matched[added]], axis=1).reset_index(drop=True)


def propensity_scores(result: AnalysisResult) -> pd.DataFrame:
    """Logit of the propensity score per patient of the analysis population, with arm and match status.

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id``, ``distance``, ``treated``, ``matched`` (empty when there was no
        match); patients dropped for missing covariates are left out.
    """
    if result.match is None:
        return pd.DataFrame(columns=[C.PATIENT_ID, "distance", TREATED, "matched"])
    pop = result.population
    out = pd.DataFrame({
        C.PATIENT_ID: pop[C.PATIENT_ID],
        "distance": result.match.distance.reindex(pop.index),
        TREATED: pop[TREATED].astype(int),
        "matched": pop.index.isin(result.match.matched.index),
    })
    return out.dropna(subset=["distance"]).reset_index(drop=True)


def pair_table(result: AnalysisResult) -> pd.DataFrame:
    """Matched pairs with patient ids and propensity scores (logit), one row per treated-control link.

    Returns
    -------
    pandas.DataFrame
        Columns ``pair``, ``round``, ``surgery_patient``, ``chemotherapy_patient``,
        ``surgery_logit``, ``chemotherapy_logit``, ``difference``.
    """
    if result.match is None or result.match.empty:
        return pd.DataFrame(columns=["pair", "round", "surgery_patient", "chemotherapy_patient", "surgery_logit",
                                     "chemotherapy_logit", "difference"])
    pairs = result.match.pairs()
    ids = result.population[C.PATIENT_ID]
    return pd.DataFrame({
        "pair": pairs["subclass"].to_numpy(),
        "round": pairs["round"].to_numpy(),
        "surgery_patient": ids.loc[pairs["treated_id"]].to_numpy(),
        "chemotherapy_patient": ids.loc[pairs["control_id"]].to_numpy(),
        "surgery_logit": pairs["treated_distance"].to_numpy(),
        "chemotherapy_logit": pairs["control_distance"].to_numpy(),
        "difference": pairs["difference"].to_numpy(),
    })


def matching_card(result: AnalysisResult) -> dict[str, str]:
    """The facts of the match in words: model, caliper (SD and logit units), order, counts.

    Returns
    -------
    dict of str to str
        Ordered label -> value, empty when there was no match.
    """
    m = result.match
    if m is None:
        return {}
    s = result.spec
    cal = "none" if s.caliper is None else f"{s.caliper:g} SD of the logit = {m.caliper_logit:.4f} logit units"
    used = [term_label(c) for c in m.model_covariates] if m.model_covariates else [label(c) for c in s.covariates]
    r_fit = ("glm(..., family = binomial, method = 'brglmFit', type = 'AS_mean') of brglm2" if s.propensity == "firth"
             else "glm(..., family = binomial)")
    return {
        "Propensity model": f"{PROPENSITY_MODELS[s.propensity]} on " + ", ".join(used),
        "Left out or pooled": model_adjustments(m.dropped, m.pooled).removeprefix(
            "Propensity model for this selection: ") or "nothing",
        "Pooling rule": (f"a category with fewer than {MIN_LEVEL_COUNT} patients in either arm is pooled into "
                         "'other' (or, if still rare, counted with the most common category)"),
        "Distance": f"logit of the propensity score, R: {r_fit}; MatchIt: distance = that logit vector",
        "Method": f"nearest neighbour 1:{s.ratio}, {'with' if s.replace else 'without'} replacement",
        "Caliper": cal,
        "Order": {"largest": "descending score", "smallest": "ascending score", "data": "data order"}[s.order],
        "Exact matching": "centre" if s.exact_centre else "none",
        "Surgery: matched / unmatched": f"{m.n_treated_matched} / {m.n_treated_unmatched}",
        "Chemotherapy: matched / unmatched": f"{m.n_control_matched} / {m.n_control_unmatched}",
        "Dropped for missing covariates": str(m.n_dropped_missing),
    }


__all__ = ["run", "km_table", "matched_cohort", "propensity_scores", "pair_table", "matching_card", "AnalysisResult", "ArmCurve", "Estimate", "propensity_frame", "SURGERY_TIME"]
