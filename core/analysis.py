"""The study analysis as one pure function: ``run(cohort, spec) -> AnalysisResult``.

The same frozen :class:`~core.spec.AnalysisSpec` is the dashboard's URL state, the cache key
and the provenance of every export; the result is frozen too.

Examples
--------
>>> from core import cohort
>>> from core.spec import EVENT_WORDS, PROPENSITY_MODELS, AnalysisSpec
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
from core.design import MIN_LEVEL_COUNT, POOLED_LEVEL, DroppedCovariate, PooledLevels, build_design
from core.dictionary import COLUMNS_BY_NAME, PRE_SURGERY_COVARIATES, Arm, C, Recist, label, value_label
from core.filters import FilterResult, apply_filters
from core.guards import ArmCounts, comparison_reason, unreliable_reason
from core.population import (
    EVENT,
    SURGERY_TIME,
    TIME,
    TREATED,
    Population,
    counting_process,
    landmark_population,
    naive_population,
)
from core.spec import EVENT_WORDS, PROPENSITY_MODELS, AnalysisSpec
from core.table1 import TABLE1_VARIABLES

#: Times (months) at which survival is reported.
REPORT_TIMES = (12.0, 24.0, 36.0)
#: RMST horizon (months), shortened to the shorter follow-up of the two arms.
RMST_TAU = 36.0
#: Name of the log-transformed CA19-9 covariate used in propensity models.
LOG_CA19_9 = "log_ca19_9_baseline"
LOG_CA19_9_RESTAGING = "log_ca19_9_restaging"
#: RECIST response enters models as objective response (CR or PR = 1; SD, PD or not evaluable = 0):
#: no operated patient progressed, so the PD level alone would separate the arms perfectly.
OBJECTIVE_RESPONSE = "objective_response"
PROGRESSIVE = "progressive_or_not_evaluable"

ARM_OF_TREATED = {1: Arm.SURGERY, 0: Arm.CHEMOTHERAPY}


@dataclass(frozen=True)
class Estimate:
    """A hazard ratio with its confidence interval and the facts needed to judge it.

    ``hr``, ``lower``, ``upper`` and ``p`` are NaN when there is no estimate: an arm below the
    small-numbers rule (:func:`core.guards.comparison_reason`) or a model that cannot be fitted;
    ``reason`` then says why in plain words, with the counts per arm (``counts``).
    """

    method: str
    hr: float
    lower: float
    upper: float
    p: float
    n: int
    events: int
    reliable: bool = True
    reason: str = ""
    biased: bool = False
    counts: ArmCounts | None = None
    counted_in: str = ""  # where ``counts`` were counted, e.g. "the matched sample"

    @property
    def estimated(self) -> bool:
        """Whether there is a hazard ratio (a finite number) to show."""
        return bool(np.isfinite(self.hr))


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


def propensity_frame(data: pd.DataFrame, covariates: tuple[str, ...]) -> tuple[pd.DataFrame, list[str]]:
    """Covariates ready for the propensity model: CA19-9 on the log scale, booleans as 0/1.

    Parameters
    ----------
    data : pandas.DataFrame
        Population rows.
    covariates : tuple of str
        Dictionary column names (pre-surgery variables).

    Returns
    -------
    (pandas.DataFrame, list of str)
        ``data`` with model columns added, and the model column names in order.
    """
    out = data.copy(deep=False)  # new and converted columns only: the caller's frame is never modified
    names: list[str] = []
    for cov in covariates:
        if cov == C.CA19_9_BASELINE:
            out[LOG_CA19_9] = np.log1p(pd.to_numeric(out[cov], errors="coerce").astype(float))
            names.append(LOG_CA19_9)
        elif cov == C.RECIST:
            rec = out[cov].astype("object")
            out[OBJECTIVE_RESPONSE] = np.where(rec.isna(), np.nan, rec.isin([Recist.CR, Recist.PR]).astype(float))
            names.append(OBJECTIVE_RESPONSE)
        elif cov == C.CA19_9_RESTAGING:
            out[LOG_CA19_9_RESTAGING] = np.log1p(pd.to_numeric(out[cov], errors="coerce").astype(float))
            names.append(LOG_CA19_9_RESTAGING)
        else:
            kind = COLUMNS_BY_NAME[cov].kind if cov in COLUMNS_BY_NAME else "number"
            if kind == "boolean":
                out[cov] = out[cov].astype("Float64").astype(float)
            elif kind in ("integer", "number"):
                out[cov] = pd.to_numeric(out[cov], errors="coerce").astype(float)
            else:
                out[cov] = out[cov].astype("object").where(out[cov].notna(), None)
            names.append(cov)
    return out, names


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


def arm_counts(frame: pd.DataFrame, *, event_word: str = "death") -> ArmCounts:
    """Patients and events per arm of a frame with ``treated`` and ``event`` columns (one row per patient).

    Examples
    --------
    >>> arm_counts(pd.DataFrame({"treated": [1, 1, 0], "event": [1, 0, 1]})).in_words()
    '2 operated (1 death) and 1 chemotherapy-only patients (1 death)'
    """
    treated = frame[TREATED].to_numpy(float) == 1
    event = frame[EVENT].to_numpy(float) == 1
    return ArmCounts(int(treated.sum()), int((~treated).sum()), int((event & treated).sum()),
                     int((event & ~treated).sum()), event_word)


def _no_estimate(method: str, counts: ArmCounts, reason: str, *, biased: bool = False, where: str = "") -> Estimate:
    return Estimate(method, np.nan, np.nan, np.nan, np.nan, counts.n, counts.events, False, reason, biased, counts,
                    where)


def _cox_estimate(frame: pd.DataFrame, *, method: str, cluster: str | None, weights: str | None,
                  counts: ArmCounts, biased: bool = False) -> Estimate:
    where = "the matched sample"
    reason = comparison_reason(counts)
    if reason:
        return _no_estimate(method, counts, reason, biased=biased, where=where)
    try:
        table = survival.cox(frame, TIME, EVENT, [TREATED], cluster=cluster, weights=weights).table
    except ValueError as exc:
        return _no_estimate(method, counts, cox_failure_reason(exc, counts.event_word), biased=biased, where=where)
    row = table.loc[TREATED]
    return Estimate(method, float(row["hr"]), float(row["lower"]), float(row["upper"]), float(row["p"]), counts.n,
                    counts.events, True, "", biased, counts, where)


def cox_failure_reason(exc: ValueError, event_word: str) -> str:
    """A Cox model's refusal in plain words."""
    if "monotone" in str(exc):
        return (f"the hazard ratio is not finite: the {event_word}s of one arm all come before those of the other, "
                "so the data cannot say how large the difference is")
    return "the Cox model cannot be fitted on these patients"


def _match(pop: pd.DataFrame, spec: AnalysisSpec, names: list[str]) -> matching.MatchResult:
    return matching.match_nearest(
        pop, TREATED, names, caliper=spec.caliper, ratio=spec.ratio, replace=spec.replace, order=spec.order,
        exact=[C.CENTRE_ID] if spec.exact_centre else None, distance=spec.propensity, drop_constant=True,
        min_level_count=MIN_LEVEL_COUNT,
    )


def model_adjustments(dropped: tuple[DroppedCovariate, ...], pooled: tuple[PooledLevels, ...]) -> str:
    """What the propensity model left out or pooled in this selection, in one plain line ('' when nothing).

    Examples
    --------
    >>> from core.design import DroppedCovariate, PooledLevels
    >>> model_adjustments((DroppedCovariate("chemo_regimen", "constant", "FOLFIRINOX", 47),),
    ...                   (PooledLevels("resectability", ("locally_advanced",), "borderline", (1,), (2,), 5),))
    'Propensity model for this selection: Regimen left out (FOLFIRINOX for all 47 patients); Resectability: Locally advanced (1 operated, 2 chemotherapy-only) counted with Borderline resectable (fewer than 5 patients in an arm).'
    """
    parts = []
    for d in dropped:
        name = term_label(d.covariate)
        if d.reason == "constant":
            parts.append(f"{name} left out ({d.value} for all {d.n} patients)")
        elif d.reason == "all missing":
            parts.append(f"{name} left out (not recorded for any patient)")
        else:
            parts.append(f"{name} left out (one group left after pooling rare categories)")
    for p in pooled:
        levels = ", ".join(f"{value_label(p.covariate, lev)} ({t} operated, {c} chemotherapy-only)"
                           for lev, t, c in zip(p.levels, p.n_treated, p.n_control, strict=True))
        into = (f"pooled as '{p.into}'" if str(p.into).startswith(POOLED_LEVEL)
                else f"counted with {value_label(p.covariate, p.into)}")
        parts.append(f"{term_label(p.covariate)}: {levels} {into} (fewer than {p.min_count} patients in an arm)")
    return ("Propensity model for this selection: " + "; ".join(parts) + ".") if parts else ""


def is_weighted(spec: AnalysisSpec) -> bool:
    """Whether the matched sample carries weights other than 1 (k:1 matching or replacement).

    Examples
    --------
    >>> is_weighted(AnalysisSpec()), is_weighted(AnalysisSpec(ratio=2))
    (False, True)
    """
    return spec.replace or spec.ratio > 1


def cluster_column(spec: AnalysisSpec) -> str:
    """What the robust variance is clustered on: the matched set, or the patient with replacement."""
    return C.PATIENT_ID if spec.replace else "subclass"


@dataclass(frozen=True)
class MatchedComparison:
    """One propensity-matched comparison of a population: the match, the matched sample and its estimate.

    Attributes
    ----------
    match : MatchResult or None
        None when no match could be made (``estimate.reason`` says why).
    sample : pandas.DataFrame or None
        Matched patients with ``time``, ``event``, ``treated``, ``subclass``, ``weights``; None without a match.
    estimate : Estimate
        Matched hazard ratio (or why there is none).
    """

    match: matching.MatchResult | None
    sample: pd.DataFrame | None
    estimate: Estimate


def matched_comparison(population: Population, spec: AnalysisSpec, label: str, *,
                       biased: bool = False) -> MatchedComparison:
    """Match ``population`` as ``spec`` says and estimate the hazard ratio in the matched sample.

    The one place where the propensity model, the match, the weights and the clustering of the
    robust variance are decided; the main view and the subgroups both use it.

    Examples
    --------
    >>> from core import cohort
    >>> from core.population import landmark_population
    >>> pop = landmark_population(cohort.demo().data, origin="chemo_start", landmark=6.0)
    >>> mc = matched_comparison(pop, AnalysisSpec(), "landmark")
    >>> mc.estimate.estimated, mc.estimate.counts.n_surgery == mc.match.n_treated_matched
    (True, True)
    """
    return MatchedComparison(*_matched_comparison(population, spec, label, biased=biased))


def _matched_comparison(population: Population, spec: AnalysisSpec, label: str, *, biased: bool = False):
    event_word = EVENT_WORDS[spec.endpoint]
    before = arm_counts(population.data, event_word=event_word)
    where = population.counted_in
    if before.n_surgery == 0 or before.n_chemotherapy == 0:
        return None, None, _no_estimate(label, before, comparison_reason(before), biased=biased, where=where)
    pop, names = propensity_frame(population.data, spec.covariates)
    try:
        m = _match(pop, spec, names)
    except ValueError:
        return None, None, _no_estimate(
            label, before, comparison_reason(before)
            or "the propensity model cannot be fitted for these patients; choose fewer covariates", biased=biased,
            where=where)
    matched = m.matched
    if len(matched) == 0 or matched[TREATED].nunique() < 2:
        reason = ("no operated patient has a chemotherapy-only patient close enough in propensity score "
                  "(within the caliper); widen or remove the caliper")
        return m, None, _no_estimate(label, before, reason, biased=biased, where=where)
    est = _cox_estimate(matched, method=label, cluster=cluster_column(spec),
                        weights="weights" if is_weighted(spec) else None,
                        counts=arm_counts(matched, event_word=event_word), biased=biased)
    return m, matched, est


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
    notes: list[str] = []
    flow_rows = [(s.description, s.n_surgery, s.n_chemotherapy) for s in filtered.steps]
    data = filtered.select(analysis_columns(spec))

    naive = naive_population(data, origin=spec.origin, endpoint=spec.endpoint)
    landmark = landmark_population(data, origin=spec.origin, landmark=spec.landmark_months, endpoint=spec.endpoint)

    # -- the three immortal-time methods side by side ---------------------------------------
    lm_label = f"Landmark at {spec.landmark_months:g} months, propensity-matched"
    naive_label = "Naive, propensity-matched (biased)"
    naive_m, naive_matched, naive_est = _matched_comparison(naive, spec, naive_label, biased=True)
    lm_m, lm_matched, lm_est = _matched_comparison(landmark, spec, lm_label)
    td_est = _time_dependent(naive.data, spec)

    chosen = {"landmark": (landmark, lm_m, lm_matched, lm_est),
              "naive": (naive, naive_m, naive_matched, naive_est),
              "time_dependent": (landmark, lm_m, lm_matched, td_est)}[spec.method]
    population, m, matched, hr = chosen
    if spec.method == "time_dependent":
        notes.append("Curves show the landmark-matched comparison; the hazard ratio comes from the "
                     "time-dependent Cox model on all filtered patients.")
    if spec.method == "naive":
        notes.append("The naive comparison counts the time before surgery as 'surgery' time (immortal time) "
                     "and favours surgery: use it only to show the bias.")

    pop = population.data
    n_s = int((pop[TREATED] == 1).sum())
    n_c = int((pop[TREATED] == 0).sum())
    flow_rows.append((population.step or population.description, n_s, n_c))
    if m is not None:
        flow_rows.append(("Propensity-matched", int(m.n_treated_matched), int(m.n_control_matched)))

    balance = None
    curves: list[ArmCurve] = []
    risk = pd.DataFrame()
    logrank_p = np.nan
    rmst = None
    weighted = is_weighted(spec)
    if m is not None:
        adjusted = model_adjustments(m.dropped, m.pooled)
        if adjusted:
            notes.append(adjusted)
    if matched is not None and len(matched):
        pf, names = propensity_frame(pop, spec.covariates)
        left_out = {d.covariate for d in m.dropped}
        balance = matching.balance_table(pf, TREATED, [n for n in names if n not in left_out], m)
        balance.index = [term_label(str(t)) for t in balance.index]
        for treated in (1, 0):
            part = matched[matched[TREATED] == treated]
            w = part["weights"].to_numpy(float) if weighted else None
            curves.append(_arm_curve(part, ARM_OF_TREATED[treated], w))
        risk = _risk_table(matched, spec.min_at_risk)
        if weighted:
            notes.append("With k:1 matching or replacement the curves are weighted; log-rank test and RMST "
                         "are not shown (they would ignore the weights).")
        elif hr is not None and hr.estimated:
            try:
                logrank_p = float(survival.logrank(matched[TIME], matched[EVENT], matched[TREATED]).p)
            except ValueError:
                pass
            rmst = _rmst(matched)

    warnings = [] if hr is None or hr.estimated else [_no_hr_line(hr)]
    time_label = ("Months since the landmark" if spec.method != "naive"
                  else f"Months since {'chemotherapy start' if spec.origin == 'chemo_start' else 'diagnosis'}")
    return AnalysisResult(
        spec=spec, cohort_sha256=cohort.sha256, filtered=filtered,
        flow=pd.DataFrame(flow_rows, columns=["step", Arm.SURGERY, Arm.CHEMOTHERAPY]),
        population=pop, population_description=population.description, match=m, balance=balance,
        curves=tuple(curves), risk_table=risk, hr=hr, logrank_p=logrank_p, rmst=rmst,
        methods=methods_frame((naive_est, lm_est, td_est)), warnings=tuple(warnings), time_label=time_label,
        notes=tuple(notes),
    )


def _no_hr_line(hr: Estimate) -> str:
    """The one plain line a page shows when there is no hazard ratio."""
    if hr.counts is None:
        return f"No hazard ratio: {hr.reason}."
    where = hr.counted_in or "this selection"
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


def _time_dependent(pop: pd.DataFrame, spec: AnalysisSpec) -> Estimate:
    label = "Time-dependent Cox, adjusted for the propensity covariates and restaging response"
    pf, names = propensity_frame(pop, spec.covariates)
    if OBJECTIVE_RESPONSE in names:
        # In the outcome model progression (PD, or not evaluable: died before restaging) is its own
        # level; it cannot enter the propensity model (no progressing patient is operated).
        rec = pf[C.RECIST].astype("object")
        pf[PROGRESSIVE] = np.where(rec.isna(), np.nan, rec.isin([Recist.PD, Recist.NE]).astype(float))
        names = names + [PROGRESSIVE]
    pf = pf.dropna(subset=names)
    # Arms of a time-dependent comparison: patients operated during follow-up contribute their
    # events after surgery to the surgery arm; never-operated patients are the chemotherapy arm.
    operated = pf[SURGERY_TIME].notna().to_numpy() & (pf[SURGERY_TIME].to_numpy(float) < pf[TIME].to_numpy(float))
    event = pf[EVENT].to_numpy(float) == 1
    counts = ArmCounts(int(operated.sum()), int((~operated).sum()), int((operated & event).sum()),
                       int((~operated & event).sum()), EVENT_WORDS[spec.endpoint])
    where = "the filtered patients with complete covariates"
    reason = comparison_reason(counts)
    if reason:
        return _no_estimate(label, counts, reason, where=where)
    try:
        # the same repairs as the propensity model: constant covariates left out, rare levels pooled
        design = build_design(pf, names, missing="raise", arm=operated, drop_constant=True,
                              min_level_count=MIN_LEVEL_COUNT)
        model = pd.concat([pf[[TIME, EVENT, SURGERY_TIME]], design.matrix.add_prefix("x_")], axis=1)
        cp = counting_process(model)
        terms = ["x_" + c for c in design.names]
        table = survival.cox_time_varying(cp, "start", "stop", "event", ["treated"] + terms, cluster="row").table
    except ValueError as exc:
        return _no_estimate(label, counts, cox_failure_reason(exc, counts.event_word).replace("Cox model", "time-dependent "
                            "Cox model"), where=where)
    row = table.loc["treated"]
    if not np.isfinite(row["hr"]) or not np.isfinite(row["upper"]):
        return _no_estimate(label, counts, "the time-dependent Cox model does not converge on these patients",
                            where=where)
    return Estimate(label, float(row["hr"]), float(row["lower"]), float(row["upper"]), float(row["p"]), counts.n,
                    counts.events, True, "", False, counts, where)


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


def _rmst(matched: pd.DataFrame) -> survival.RmstDifference | None:
    tmax = [matched.loc[matched[TREATED] == g, TIME].max() for g in (1, 0)]
    tau = float(min(RMST_TAU, *tmax))
    if not tau > 0:
        return None
    try:
        return survival.rmst_difference(matched[TIME], matched[EVENT], matched[TREATED], tau)
    except ValueError:
        return None


_MODEL_LABELS = {
    LOG_CA19_9: "CA19-9 baseline (log)",
    LOG_CA19_9_RESTAGING: "CA19-9 restaging (log)",
    OBJECTIVE_RESPONSE: "Objective response (CR/PR)",
    PROGRESSIVE: "Progression at restaging (PD/NE)",
}


def term_label(term: str) -> str:
    """Readable label of a model or balance term (``chemo_regimenGEM`` -> ``Regimen: GEM``).

    Examples
    --------
    >>> term_label("chemo_regimenGEM"), term_label("log_ca19_9_baseline"), term_label("age_at_diagnosis")
    ('Regimen: GEM', 'CA19-9 baseline (log)', 'Age (years)')
    """
    if term in _MODEL_LABELS:
        return _MODEL_LABELS[term]
    if term in COLUMNS_BY_NAME:
        return label(term)
    for name in sorted(COLUMNS_BY_NAME, key=len, reverse=True):
        if term.startswith(name) and len(term) > len(name):
            return f"{label(name)}: {term[len(name):]}"
    return term


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
