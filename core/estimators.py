"""Estimators of the surgery-vs-chemotherapy comparison, all returning one shape: :class:`AdjustedComparison`.

An estimator answers one question (its *estimand*, stated in words on screen) on one population,
from one time zero. Each returns an :class:`AdjustedComparison`: who is compared, the analysed
sample with its weights and cluster column (when there is one), the hazard ratio (or why there is
none), the diagnostics of its adjustment (e.g. the match) and the notes a page shows.

:data:`ESTIMATORS` lists them in the order the dashboard shows them; :func:`core.analysis.run`
runs every one, pages, exports, the report and the method check read only this shape. Adding an
estimator means writing its function, registering it here and naming it in
:data:`core.spec.METHODS`.

Examples
--------
>>> from core import cohort
>>> from core.spec import AnalysisSpec
>>> ctx = Context(cohort.demo().data, AnalysisSpec())
>>> [ESTIMATORS[k](ctx).key for k in ESTIMATORS]
['naive', 'landmark', 'time_dependent']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from core import imputed, matching, ph, survival
from core.covariates import (
    LOG_CA19_9,
    LOG_CA19_9_RESTAGING,
    OBJECTIVE_RESPONSE,
    PROGRESSIVE,
    model_adjustments,
    propensity_frame,
    term_label,
)
from core.design import MIN_LEVEL_COUNT, Design, build_design
from core.dictionary import C, Recist, value_label
from core.guards import ArmCounts, comparison_reason
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
from core.propensity import estimate_propensity
from core.spec import EVENT_WORDS, ORIGINS, AnalysisSpec

#: Standard errors clustered by centre need at least this many centres in the analysed sample (the
#: sandwich variance is estimated from the centres' score sums; with very few it is meaningless).
MIN_CENTRES_FOR_CLUSTER = 5


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
    centre_note: str = ""  # how the centre entered the model (AnalysisSpec.centre_model), in words

    @property
    def estimated(self) -> bool:
        """Whether there is a hazard ratio (a finite number) to show."""
        return bool(np.isfinite(self.hr))





#: Columns of :attr:`ModelTable.table`.
MODEL_COLUMNS = ["term", "label", "compared_with", "hr", "lower", "upper", "p", "coef", "se"]

#: The surgery term of the time-dependent model, in words, and what it is compared with.
SURGERY_TERM_LABEL = "Surgery (from the day of the operation on)"
SURGERY_COMPARED_WITH = "vs chemotherapy alone (months before an operation, or without one)"


@dataclass(frozen=True, eq=False)
class ModelTable:
    """Every term of a multivariable Cox model: the surgery row and each adjustment covariate.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model term, columns :data:`MODEL_COLUMNS`: ``term`` (design column),
        ``label`` (in words), ``compared_with`` (reference level, or the unit of a number),
        hazard ratio ``hr`` with its 95% limits ``lower``/``upper`` and ``p`` (robust Wald),
        log hazard ratio ``coef`` and its robust standard error ``se``.
    n_patients, n_events : int
        Patients and events in the model.
    note : str
        How the model was fitted, in one line.
    """

    table: pd.DataFrame
    n_patients: int
    n_events: int
    note: str = ""


#: What one unit of a numeric covariate is, in words (default: "per 1 unit higher").
PER_UNIT: dict[str, str] = {
    C.AGE: "per year older", C.ECOG: "per ECOG grade higher", C.LIVER_METS_N: "per additional metastasis",
    C.TUMOUR_SIZE: "per mm larger", C.LIVER_METS_MAX: "per mm larger", C.DIAGNOSIS_YEAR: "per calendar year later",
    LOG_CA19_9: "per 1 unit of log(1 + CA19-9 in U/mL)", LOG_CA19_9_RESTAGING: "per 1 unit of log(1 + CA19-9 in U/mL)",
}


def _compared_with(covariate: str, design: Design, values: pd.Series) -> str:
    levels = design.levels.get(covariate)
    if levels:
        return f"vs {value_label(covariate, levels[0])}"
    if covariate in PER_UNIT:
        return PER_UNIT[covariate]
    if set(pd.unique(values.dropna())) <= {0.0, 1.0}:
        return "yes vs no"
    return "per 1 unit higher"


def model_table(fit: survival.CoxResult, design: Design, labels: dict[str, tuple[str, str]] | None = None, *,
                prefix: str = "x_", note: str = "", n_patients: int | None = None,
                n_events: int | None = None) -> ModelTable:
    """Every term of a fitted Cox model in words, with HR, 95% CI and p.

    Parameters
    ----------
    fit : core.survival.CoxResult
        The fitted model; its covariate terms are ``prefix`` + the design column names.
    design : core.design.Design
        The design of the covariates (reference levels, values).
    labels : dict of str to (str, str), optional
        Words and what they are compared with, for terms that are not design columns (e.g.
        ``{"treated": ("Surgery", "vs chemotherapy alone")}``).
    prefix : str
        Prefix of the design columns in the model.
    note : str
        One line on how the model was fitted.
    n_patients, n_events : int, optional
        Patients and events (default: the fit's rows and events; pass them for episode data).

    Returns
    -------
    ModelTable

    Examples
    --------
    >>> from core.design import build_design
    >>> df = pd.DataFrame({"time": [5, 8, 3, 9, 4, 7, 6, 2], "event": [1, 1, 1, 0, 1, 1, 0, 1],
    ...                    C.AGE: [60, 70, 55, 65, 72, 58, 61, 69]})
    >>> d = build_design(df, [C.AGE], missing="raise")
    >>> fit = survival.cox(pd.concat([df[["time", "event"]], d.matrix.add_prefix("x_")], axis=1), "time", "event",
    ...                    ["x_" + n for n in d.names])
    >>> model_table(fit, d).table[["label", "compared_with"]].values.tolist()
    [['Age (years)', 'per year older']]
    """
    column_of = {c: cov for cov, cols in design.columns.items() for c in cols}
    rows = []
    for term, r in fit.table.iterrows():
        name = str(term)[len(prefix):] if str(term).startswith(prefix) else str(term)
        cov = column_of.get(name)
        if cov is None:
            label, versus = (labels or {}).get(str(term), (str(term), ""))
        else:
            label = term_label(name)
            versus = _compared_with(cov, design, design.matrix[name])
        rows.append({"term": name, "label": label, "compared_with": versus, "hr": float(r["hr"]),
                     "lower": float(r["lower"]), "upper": float(r["upper"]), "p": float(r["p"]),
                     "coef": float(r["coef"]), "se": float(r["se"])})
    return ModelTable(pd.DataFrame(rows, columns=MODEL_COLUMNS), int(fit.n if n_patients is None else n_patients),
                      int(fit.n_events if n_events is None else n_events), note)


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


def _no_estimate(method: str, counts: ArmCounts, reason: str, *, biased: bool = False, where: str = "",
                 centre_note: str = "") -> Estimate:
    return Estimate(method, np.nan, np.nan, np.nan, np.nan, counts.n, counts.events, False, reason, biased, counts,
                    where, centre_note)


def cox_estimate(frame: pd.DataFrame, *, method: str, cluster: str | None, weights: str | None,
                 counts: ArmCounts, biased: bool = False, centre_model: str = "none",
                 where: str = "the matched sample") -> Estimate:
    """The Cox hazard ratio of ``treated`` in a matched sample, with the spec's centre choice applied.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per matched patient (a control matched twice with replacement: once, weighted):
        ``time``, ``event``, ``treated``, the centre and the cluster / weight columns.
    method : str
        Label of the estimate.
    cluster, weights : str or None
        Cluster column of the robust variance without the centre choice, and case-weight column.
    counts : ArmCounts
        Patients and events per arm of ``frame`` (recounted when centres are left out).
    biased : bool
        The naive comparison.
    centre_model : {"none", "strata", "cluster"}
        See :func:`centre_use`.
    where : str
        The analysed sample in a few words (for "In <where>: ..." when there is no estimate).

    Returns
    -------
    Estimate
        With the reason in words when the small-numbers rule or the model refuses.

    Examples
    --------
    >>> df = pd.DataFrame({TIME: [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], EVENT: 1.0,
    ...                    TREATED: [1, 0] * 6, "subclass": np.repeat(np.arange(6), 2),
    ...                    C.CENTRE_ID: ["A"] * 6 + ["B"] * 6})
    >>> est = cox_estimate(df, method="x", cluster="subclass", weights=None, counts=arm_counts(df),  # R: 1.8815
    ...                    centre_model="strata")
    >>> round(est.hr, 4), est.centre_note.split(":")[0]
    (1.8815, 'Stratified by centre (2 centres)')
    """
    frame, use = _apply_centre(frame, centre_model, cluster)
    if use.left_out:
        counts = arm_counts(frame, event_word=counts.event_word)
        where = f"{where}, in centres with patients of both arms"
    reason = use.reason or comparison_reason(counts)
    if reason:
        return _no_estimate(method, counts, reason, biased=biased, where=where, centre_note=use.note)
    try:
        table = survival.cox(frame, TIME, EVENT, [TREATED], cluster=use.cluster, weights=weights,
                             strata=use.strata).table
    except ValueError as exc:
        return _no_estimate(method, counts, cox_failure_reason(exc, counts.event_word), biased=biased, where=where,
                            centre_note=use.note)
    row = table.loc[TREATED]
    return Estimate(method, float(row["hr"]), float(row["lower"]), float(row["upper"]), float(row["p"]), counts.n,
                    counts.events, True, "", biased, counts, where, use.note)


def _apply_centre(frame: pd.DataFrame, centre_model: str, cluster: str | None) -> tuple[pd.DataFrame, CentreUse]:
    """The rows of a matched (or weighted) sample that the centre choice keeps, and how it enters the Cox model."""
    ids = frame[C.PATIENT_ID].to_numpy() if C.PATIENT_ID in frame.columns else None
    use = centre_use(frame, centre_model, arm=frame[TREATED].to_numpy(float) == 1, cluster=cluster, ids=ids)
    return (frame.loc[use.keep] if use.left_out else frame), use


@dataclass(frozen=True)
class CentreUse:
    """How the centre enters one Cox model: the rows kept, the strata and cluster columns, and why.

    Attributes
    ----------
    keep : numpy.ndarray
        Boolean mask of the rows analysed (all True unless centres with one arm only are left out).
    strata, cluster : str or None
        Columns for :func:`core.survival.cox` (``strata=``, ``cluster=``).
    left_out : tuple of (str, int)
        Centres left out (one arm only, stratified model) with their number of patients.
    n_centres : int
        Centres in the analysed rows.
    reason : str
        Why there is no estimate ('' when there is one).
    note : str
        The choice in one plain sentence, for the page.
    """

    keep: np.ndarray
    strata: str | None
    cluster: str | None
    left_out: tuple[tuple[str, int], ...] = ()
    n_centres: int = 0
    reason: str = ""
    note: str = ""


def centre_use(frame: pd.DataFrame, centre_model: str, *, arm: np.ndarray, cluster: str | None,
               ids: np.ndarray | None = None, time_dependent: bool = False) -> CentreUse:
    """Apply the spec's centre choice to the rows of one Cox model.

    * ``"none"``: rows, strata and cluster unchanged.
    * ``"strata"``: a baseline hazard per centre (R ``strata(centre)``); the cluster of the robust
      variance is kept (matched pair, or patient). A centre whose rows all belong to one arm
      (``arm`` constant) compares nothing within itself: it adds nothing to the estimate or to the
      robust variance, so it is left out and named, and the small-numbers rule counts only the
      centres kept. A centre with few patients of both arms stays in: it adds
      little, but what it adds is a within-centre comparison (there is no minimum per centre).
    * ``"cluster"``: the robust variance is clustered by centre (R ``cluster = centre``) instead of
      ``cluster``; with fewer than :data:`MIN_CENTRES_FOR_CLUSTER` centres there is no estimate.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of the model, with the centre column (``C.CENTRE_ID``).
    centre_model : {"none", "strata", "cluster"}
        ``AnalysisSpec.centre_model``.
    arm : numpy.ndarray
        Boolean, per row: in the surgery arm (for a time-dependent model: operated in this episode).
    cluster : str or None
        The cluster column without the centre choice.
    ids : numpy.ndarray, optional
        Patient per row (rows of one patient: episodes, or a control matched twice), so that the
        patients of a centre left out are counted once; default: one row per patient.
    time_dependent : bool
        One row per patient of a time-dependent model, ``arm`` = operated during follow-up: a centre
        is left out only when nobody in it is operated (where everyone is, each patient's time
        before the operation is compared with the others' time after it).

    Returns
    -------
    CentreUse

    Examples
    --------
    >>> df = pd.DataFrame({C.CENTRE_ID: ["A", "A", "B", "B", "C"], "pair": [1, 2, 1, 2, 3]})
    >>> use = centre_use(df, "strata", arm=np.array([1, 0, 1, 0, 0]) == 1, cluster="pair")
    >>> use.keep.tolist(), use.strata, use.cluster, use.left_out
    ([True, True, True, True, False], 'centre_id', 'pair', (('C', 1),))
    >>> centre_use(df, "cluster", arm=np.array([1, 0, 1, 0, 0]) == 1, cluster="pair").reason[:25]
    'only 3 centres in these p'
    """
    keep = np.ones(len(frame), dtype=bool)
    if centre_model == "none":
        return CentreUse(keep, None, cluster)
    centre = frame[C.CENTRE_ID].astype("object").fillna("(no centre)").astype(str).to_numpy()
    names, codes = np.unique(centre, return_inverse=True)
    if centre_model == "cluster":
        n = len(names)
        if n < MIN_CENTRES_FOR_CLUSTER:
            return CentreUse(keep, None, C.CENTRE_ID, n_centres=n, reason=(
                f"only {n} centre{'s' if n != 1 else ''} in these patients: standard errors clustered by centre need "
                f"at least {MIN_CENTRES_FOR_CLUSTER} centres; choose 'not used' or 'stratified by centre'"))
        return CentreUse(keep, None, C.CENTRE_ID, n_centres=n, note=(
            f"Standard errors clustered by centre ({n} centres) instead of the "
            f"{'patient' if cluster == C.PATIENT_ID else 'matched pair' if cluster == 'subclass' else 'patient'}: "
            "patients of one centre are not taken as independent. With this few centres the interval can be "
            "too narrow."))
    arm = np.asarray(arm, dtype=bool)
    n_arm = np.bincount(codes, weights=arm.astype(float), minlength=len(names))
    size = np.bincount(codes, minlength=len(names))
    one_arm = (n_arm == 0) if time_dependent else (n_arm == 0) | (n_arm == size)
    keep = ~one_arm[codes]
    who = np.arange(len(frame)) if ids is None else np.asarray(ids)
    left = tuple((str(names[i]), int(len(pd.unique(who[codes == i])))) for i in np.flatnonzero(one_arm))
    kept = int((~one_arm).sum())
    note = (f"Stratified by centre ({kept} centre{'s' if kept != 1 else ''}): operated and chemotherapy-only patients "
            "are compared within the same centre.")
    if left:
        note += (f" Centres {'where nobody is operated' if time_dependent else 'with patients of one arm only'} "
                 "compare nothing and are left out: "
                 + ", ".join(f"{c} ({k} patient{'s' if k != 1 else ''})" for c, k in left) + ".")
    reason = "" if kept else "no centre has patients of both arms, so a comparison within centres is not possible"
    return CentreUse(keep, C.CENTRE_ID, cluster, left, kept, reason, note)


def cox_failure_reason(exc: ValueError, event_word: str) -> str:
    """A Cox model's refusal in plain words."""
    if "monotone" in str(exc):
        return (f"the {event_word}s of one arm all come before those of the other, so the data cannot say how "
                "large the difference is (the estimate is not finite)")
    return "the Cox model cannot be fitted on these patients"


def _match(pop: pd.DataFrame, spec: AnalysisSpec, names: list[str]) -> matching.MatchResult:
    return matching.match_nearest(
        pop, TREATED, names, caliper=spec.caliper, ratio=spec.ratio, replace=spec.replace, order=spec.order,
        exact=[C.CENTRE_ID] if spec.exact_centre else None, distance=spec.propensity, drop_constant=True,
        min_level_count=MIN_LEVEL_COUNT,
    )





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


def matched_comparison(population: Population, spec: AnalysisSpec, *, key: str, label: str, estimand: str,
                       arm_labels: dict[str, str] | None = None, biased: bool = False) -> AdjustedComparison:
    """Match ``population`` as ``spec`` says and estimate the hazard ratio in the matched sample.

    The one place where the propensity model, the match, the weights and the clustering of the
    robust variance are decided; the landmark and naive estimators and the subgroups use it.

    Examples
    --------
    >>> from core import cohort
    >>> from core.population import landmark_population
    >>> pop = landmark_population(cohort.demo().data, origin="chemo_start", landmark=6.0)
    >>> mc = matched_comparison(pop, AnalysisSpec(), key="landmark", label="landmark", estimand="...")
    >>> mc.estimate.estimated, mc.estimate.counts.n_surgery == mc.match.n_treated_matched
    (True, True)
    >>> mc.weights, mc.cluster
    (None, 'subclass')
    """
    imputed_note = ""
    if spec.missing == "impute":
        m, sample, est, imputed_note = _imputed_comparison(population, spec, label, biased=biased)
    else:
        m, sample, est = _matched_comparison(population, spec, label, biased=biased)
        imputed_note = _complete_case_note(population, spec) if m is not None else ""
    notes = (model_adjustments(m.dropped, m.pooled),) if m is not None else ()
    return AdjustedComparison(
        key=key, label=label, estimand=estimand, estimate=est, population=population, sample=sample,
        weights="weights" if is_weighted(spec) else None,
        cluster=C.CENTRE_ID if spec.centre_model == "cluster" else cluster_column(spec),
        strata=C.CENTRE_ID if spec.centre_model == "strata" else None, match=m,
        arm_labels=arm_labels or {}, biased=biased,
        notes=tuple(n for n in (*notes, est.centre_note, imputed_note) if n),
    )


def _complete_case_note(population: Population, spec: AnalysisSpec) -> str:
    """Who the complete-case match left out, per covariate and arm ('' when nobody)."""
    table = imputed.missing_by_arm(population, spec.covariates)
    if table.empty:
        return ""
    parts = [f"{v}: {o} operated, {c} chemotherapy only" for v, o, c in table.itertuples(index=False)]
    return ("Complete cases: patients with a missing covariate value are left out (" + "; ".join(parts)
            + "). Settings > Missing covariate values > multiple imputation keeps them.")


def _imputed_comparison(population: Population, spec: AnalysisSpec, label: str, *, biased: bool = False):
    """The matched comparison with missing covariates imputed (:mod:`core.imputed`): (match, sample, estimate, note)."""
    event_word = EVENT_WORDS[spec.endpoint]
    before = arm_counts(population.data, event_word=event_word)
    where = population.counted_in
    reason = comparison_reason(before)  # also says so when an arm is empty
    if reason:
        return None, None, _no_estimate(label, before, reason, biased=biased, where=where), ""
    weights = "weights" if is_weighted(spec) else None

    def fit(sample: pd.DataFrame) -> survival.CoxResult:
        sample, use = _apply_centre(sample, spec.centre_model, cluster_column(spec))
        why = use.reason or comparison_reason(arm_counts(sample, event_word=event_word))
        if why:
            raise ValueError(why)
        return survival.cox(sample, TIME, EVENT, [TREATED], cluster=use.cluster, weights=weights, strata=use.strata)

    try:
        res = imputed.imputed_matches(population, spec.covariates, match=lambda f, names: _match(f, spec, names),
                                      fit=fit)
    except ValueError as exc:
        return None, None, _no_estimate(label, before, f"multiple imputation: {exc}", biased=biased, where=where), ""
    if res is None:  # nothing missing: the ordinary match is the answer
        m, sample, est = _matched_comparison(population, spec, label, biased=biased)
        return m, sample, est, "Multiple imputation: no covariate value is missing here, so nothing was imputed."
    first = res.matches[0]
    row = res.pooled.table.loc[TREATED]
    counts = arm_counts(first.matched, event_word=event_word)
    est = Estimate(label, float(row["hr"]), float(row["hr_lower"]), float(row["hr_upper"]), float(row["p"]),
                   counts.n, counts.events, True, "", biased, counts, "the matched sample (first imputed data set)")
    return first, first.matched, est, res.note()


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
    est = cox_estimate(matched, method=label, cluster=cluster_column(spec),
                       weights="weights" if is_weighted(spec) else None,
                       counts=arm_counts(matched, event_word=event_word), biased=biased,
                       centre_model=spec.centre_model)
    return m, matched, est





@dataclass(frozen=True)
class AdjustedComparison:
    """One estimator's answer: who is compared, from when, how, and the hazard ratio.

    Attributes
    ----------
    key : str
        The estimator (a key of :data:`ESTIMATORS` and of :data:`core.spec.METHODS`).
    label : str
        Short name of the method, as tables show it.
    estimand : str
        The question answered, in words a surgeon understands.
    estimate : Estimate
        The hazard ratio of surgery vs chemotherapy alone, or why there is none.
    population : Population or None
        The patients compared and their time zero.
    sample : pandas.DataFrame or None
        The analysed rows (``time``, ``event``, ``treated`` plus the weight and cluster columns),
        from which curves are drawn; None when the estimator has no sample of its own.
    weights, cluster, strata : str or None
        Columns of ``sample`` with the case weights (None: unweighted), the cluster of the
        robust variance and the strata of the Cox model (the spec's centre choice).
    match : MatchResult or None
        Diagnostics of a matching adjustment.
    arm_labels : dict of str to str
        How the two arms are named for this estimand (e.g. "Operated by 6 months").
    curves_from : str or None
        Key of the comparison whose sample draws the curves when this one has none.
    biased : bool
        Shown only to show a bias (the naive comparison).
    notes : tuple of str
        What a page says under the numbers (model adjustments, design remarks).
    model : ModelTable or None
        Every term of a multivariable outcome model (the time-dependent Cox model), when there is one.
    """

    key: str
    label: str
    estimand: str
    estimate: Estimate
    population: Population | None = None
    sample: pd.DataFrame | None = None
    weights: str | None = None
    cluster: str | None = None
    strata: str | None = None
    match: matching.MatchResult | None = None
    arm_labels: dict[str, str] = field(default_factory=dict)
    curves_from: str | None = None
    biased: bool = False
    notes: tuple[str, ...] = ()
    model: ModelTable | None = None


class Context:
    """What every estimator of one view shares: the filtered rows, the spec and the populations (built once)."""

    def __init__(self, data: pd.DataFrame, spec: AnalysisSpec) -> None:
        self.data = data
        self.spec = spec

    @cached_property
    def naive(self) -> Population:
        return naive_population(self.data, origin=self.spec.origin, endpoint=self.spec.endpoint)

    @cached_property
    def landmark(self) -> Population:
        s = self.spec
        return landmark_population(self.data, origin=s.origin, landmark=s.landmark_months, endpoint=s.endpoint)


def _origin(spec: AnalysisSpec) -> str:
    return ORIGINS[spec.origin]


def naive(ctx: Context) -> AdjustedComparison:
    """Everyone from time zero, by the arm they ended up in, matched (biased by immortal time)."""
    s = ctx.spec
    return matched_comparison(
        ctx.naive, s, key="naive", label="Naive, propensity-matched (biased)", biased=True,
        estimand=(f"Operated vs never-operated patients, each followed from {_origin(s)}, matched on the propensity "
                  "score. The months an operated patient had to survive before the operation count as surgery "
                  "time, so this favours surgery (immortal-time bias): shown only to show the bias."),
        arm_labels={"surgery": "Operated (ever)", "chemotherapy": "Never operated"},
    )


def landmark(ctx: Context) -> AdjustedComparison:
    """Patients alive at the landmark, by surgery before it, matched."""
    s = ctx.spec
    lm = f"{s.landmark_months:g}"
    alive = "alive" if s.endpoint == "os" else "alive without progression or recurrence"
    return matched_comparison(
        ctx.landmark, s, key="landmark", label=f"Landmark at {lm} months, propensity-matched",
        estimand=(f"Patients {alive} {lm} months after {_origin(s)}: those operated by then vs those not operated by "
                  "then (some of whom are operated later), matched on the propensity score, followed from the "
                  "landmark. The effect in patients like those operated."),
        arm_labels={"surgery": f"Operated by {lm} months", "chemotherapy": f"Not operated by {lm} months"},
    )


def time_dependent(ctx: Context) -> AdjustedComparison:
    """Every patient from time zero, surgery as a time-dependent covariate (curves: the landmark match)."""
    s = ctx.spec
    label = "Time-dependent Cox, adjusted for the propensity covariates and restaging response"
    est, model = _time_dependent_estimate(ctx.naive.data, s, label)
    return AdjustedComparison(
        key="time_dependent", label=label, estimate=est, population=ctx.naive, curves_from="landmark", model=model,
        estimand=(f"All patients from {_origin(s)}: each patient's months count as chemotherapy-only until the "
                  "operation and as operated from the day of surgery on; the hazard ratio is adjusted for the "
                  "propensity covariates and the restaging response."),
        notes=("Curves show the landmark-matched comparison; the hazard ratio comes from the time-dependent Cox "
               "model on all filtered patients.",) + ((est.centre_note,) if est.centre_note else ()),
    )


#: The estimators in the order the dashboard shows them (keys = :data:`core.spec.METHODS`).
ESTIMATORS: dict[str, Callable[[Context], AdjustedComparison]] = {
    "naive": naive,
    "landmark": landmark,
    "time_dependent": time_dependent,
}



def att_weighting(ctx: Context) -> AdjustedComparison:
    """Patients alive at the landmark, by surgery before it, weighted to resemble the operated (ATT weights).

    The same population and propensity model as the landmark estimator (``spec.propensity`` on
    ``spec.covariates``, constant covariates left out and rare levels pooled), but instead of
    matching every patient is kept: operated patients with weight 1, the others with the odds
    of their propensity score, e / (1 - e). The hazard ratio comes from a weighted Cox model with
    a robust (sandwich) variance, as R's ``coxph(Surv(time, event) ~ treated, weights = w,
    robust = TRUE)``. Not a view setting: the specification curve (:mod:`core.speccurve`) uses it
    as the alternative to matching.

    Examples
    --------
    >>> from core import cohort
    >>> att = att_weighting(Context(cohort.demo().data, AnalysisSpec()))
    >>> att.key, att.weights, att.cluster, att.estimate.estimated
    ('att_weighting', 'weights', 'patient_id', True)
    >>> bool((att.sample.loc[att.sample["treated"] == 1, "weights"] == 1).all())
    True
    """
    s = ctx.spec
    population = ctx.landmark
    lm = f"{s.landmark_months:g}"
    label = f"Landmark at {lm} months, propensity-weighted (ATT)"
    event_word = EVENT_WORDS[s.endpoint]
    where = "the weighted patients (complete covariates)"

    def answer(est: Estimate, sample: pd.DataFrame | None = None, notes: tuple[str, ...] = ()) -> AdjustedComparison:
        return AdjustedComparison(
            key="att_weighting", label=label, estimate=est, population=population, sample=sample,
            weights="weights", cluster=C.PATIENT_ID, notes=notes,
            estimand=(f"Patients alive {lm} months after {_origin(s)}: those operated by then vs those not operated by "
                      "then, every patient kept and the non-operated weighted by the odds of their propensity score so "
                      "that they resemble the operated. The effect in patients like those operated."),
            arm_labels={"surgery": f"Operated by {lm} months", "chemotherapy": f"Not operated by {lm} months"})

    before = arm_counts(population.data, event_word=event_word)
    if before.n_surgery == 0 or before.n_chemotherapy == 0:
        return answer(_no_estimate(label, before, comparison_reason(before), where=population.counted_in))
    pf, names = propensity_frame(population.data, s.covariates)
    try:
        model = estimate_propensity(pf, TREATED, names, method=s.propensity, drop_constant=True,
                                    min_level_count=MIN_LEVEL_COUNT)
    except ValueError:
        return answer(_no_estimate(label, before, comparison_reason(before)
                                   or "the propensity model cannot be fitted for these patients; choose fewer covariates",
                                   where=population.counted_in))
    rows = pf.iloc[model.rows]
    treated = model.treated
    odds = np.exp(np.asarray(model.logit, dtype=float))
    sample = rows[[C.PATIENT_ID, TIME, EVENT, TREATED]].assign(weights=np.where(treated, 1.0, odds))
    sample = sample.assign(**{C.CENTRE_ID: rows[C.CENTRE_ID].to_numpy()})
    est = cox_estimate(sample, method=label, cluster=C.PATIENT_ID, weights="weights",
                       counts=arm_counts(sample, event_word=event_word), where=where, centre_model=s.centre_model)
    return answer(est, sample, (model_adjustments(model.dropped, model.pooled),))


def _time_dependent_frame(pop: pd.DataFrame, spec: AnalysisSpec) -> tuple[pd.DataFrame, list[str], np.ndarray, str]:
    """Patients with complete covariates, the covariate names, who is operated during follow-up, and a note on the
    centre covariate ('' unless the strata replace it)."""
    pf, names = propensity_frame(pop, spec.covariates)
    if OBJECTIVE_RESPONSE in names:
        # In the outcome model progression (PD, or not evaluable: died before restaging) is its own
        # level; it cannot enter the propensity model (no progressing patient is operated).
        rec = pf[C.RECIST].astype("object")
        pf[PROGRESSIVE] = np.where(rec.isna(), np.nan, rec.isin([Recist.PD, Recist.NE]).astype(float))
        names = names + [PROGRESSIVE]
    pf = pf.dropna(subset=names)
    extra = ""
    if spec.centre_model == "strata" and C.CENTRE_ID in names:
        names = [n for n in names if n != C.CENTRE_ID]  # the strata absorb it (collinear with them)
        extra = " The centre covariate is left out of this model: the strata take its place."
    # Arms of a time-dependent comparison: patients operated during follow-up contribute their
    # events after surgery to the surgery arm; never-operated patients are the chemotherapy arm.
    operated = pf[SURGERY_TIME].notna().to_numpy() & (pf[SURGERY_TIME].to_numpy(float) < pf[TIME].to_numpy(float))
    return pf, names, operated, extra


def _time_dependent_estimate(pop: pd.DataFrame, spec: AnalysisSpec, label: str) -> tuple[Estimate, ModelTable | None]:
    pf, names, operated, extra = _time_dependent_frame(pop, spec)
    where = "the filtered patients with complete covariates"
    # Stratified: a centre where nobody is operated during follow-up compares nothing within itself
    # (a centre where everyone is operated does: time before vs after each operation).
    use = centre_use(pf, spec.centre_model, arm=operated, cluster="row", time_dependent=True)
    if use.left_out:
        pf, operated = pf.loc[use.keep], operated[use.keep]
        where = "the filtered patients with complete covariates, in centres with an operated patient"
    note = use.note + extra if use.note else ""
    event = pf[EVENT].to_numpy(float) == 1
    counts = ArmCounts(int(operated.sum()), int((~operated).sum()), int((operated & event).sum()),
                       int((~operated & event).sum()), EVENT_WORDS[spec.endpoint])
    reason = use.reason or comparison_reason(counts)
    if reason:
        return _no_estimate(label, counts, reason, where=where, centre_note=note), None
    try:
        # the same repairs as the propensity model: constant covariates left out, rare levels pooled
        design, cp, terms = _time_dependent_episodes(pf, names, operated, spec)
        fit = survival.cox_time_varying(cp, "start", "stop", "event", terms, cluster=use.cluster, strata=use.strata)
    except ValueError as exc:
        return _no_estimate(label, counts, cox_failure_reason(exc, counts.event_word).replace("Cox model", "time-dependent "
                            "Cox model"), where=where, centre_note=note), None
    row = fit.table.loc[TREATED]
    if not np.isfinite(row["hr"]) or not np.isfinite(row["upper"]):
        return _no_estimate(label, counts, "the time-dependent Cox model does not converge on these patients",
                            where=where, centre_note=note), None
    variance = {"none": "robust variance clustered on the patient",
                "strata": "stratified by centre, robust variance clustered on the patient",
                "cluster": "robust variance clustered by centre"}[spec.centre_model]
    model = model_table(fit, design, {TREATED: (SURGERY_TERM_LABEL, SURGERY_COMPARED_WITH)}, note=(
        f"Cox model on (start, stop] episodes of {counts.n} patients ({counts.events} {counts.event_word}s): surgery "
        f"as a time-dependent covariate, Efron ties, {variance}; hazard ratios adjusted for every other row."),
        n_patients=counts.n, n_events=counts.events)
    return Estimate(label, float(row["hr"]), float(row["lower"]), float(row["upper"]), float(row["p"]), counts.n,
                    counts.events, True, "", False, counts, where, note), model


def _time_dependent_episodes(pf: pd.DataFrame, names: list[str], operated: np.ndarray,
                             spec: AnalysisSpec) -> tuple[Design, pd.DataFrame, list[str]]:
    """Design (the propensity model's repairs: constant covariates left out, rare levels pooled), episodes, terms."""
    design = build_design(pf, names, missing="raise", arm=operated, drop_constant=True, min_level_count=MIN_LEVEL_COUNT)
    cp, terms = time_dependent_data(pf, design, keep=(C.CENTRE_ID,) if spec.centre_model != "none" else ())
    return design, cp, terms


def time_dependent_ph(pop: pd.DataFrame, spec: AnalysisSpec) -> ph.ZphResult:
    """Proportional-hazards test (R ``cox.zph``) of the time-dependent Cox model that :func:`time_dependent` fits.

    Parameters
    ----------
    pop : pandas.DataFrame
        The estimator's population (``time_dependent(ctx).population.data``).
    spec : AnalysisSpec

    Raises
    ------
    ValueError
        When the model cannot be fitted (the estimate then says why).

    Examples
    --------
    >>> from core import cohort
    >>> ctx = Context(cohort.demo().data, AnalysisSpec(method="time_dependent"))
    >>> z = time_dependent_ph(ctx.naive.data, ctx.spec)
    >>> z.terms[0], "GLOBAL" in z.table.index
    ('treated', True)
    """
    pf, names, operated, _ = _time_dependent_frame(pop, spec)
    use = centre_use(pf, spec.centre_model, arm=operated, cluster="row", time_dependent=True)
    if use.reason:
        raise ValueError(use.reason)
    if use.left_out:
        pf, operated = pf.loc[use.keep], operated[use.keep]
    _, cp, terms = _time_dependent_episodes(pf, names, operated, spec)
    return ph.cox_zph_time_varying(cp, "start", "stop", "event", terms, cluster=use.cluster, strata=use.strata)


def time_dependent_data(frame: pd.DataFrame, design: Design, *,
                        keep: tuple[str, ...] = ()) -> tuple[pd.DataFrame, list[str]]:
    """The (start, stop] episodes of the time-dependent Cox model and its terms.

    Each patient is split at surgery (:func:`core.population.counting_process`); the design
    columns enter with the prefix ``x_``. R: ``coxph(Surv(start, stop, event) ~ treated + x_...,
    cluster = row)``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Patients with ``time``, ``event``, ``surgery_time`` and the covariates of ``design``.
    design : core.design.Design
        Design of the adjustment covariates on ``frame``.
    keep : tuple of str
        Other columns of ``frame`` carried into every episode (e.g. the centre, for strata or clusters).

    Returns
    -------
    (pandas.DataFrame, list of str)
        Episodes (``row``, ``start``, ``stop``, ``event``, ``treated``, ``x_...``) and the model terms.

    Examples
    --------
    >>> df = pd.DataFrame({TIME: [10.0, 5.0], EVENT: [1.0, 0.0], SURGERY_TIME: [4.0, np.nan], C.AGE: [60.0, 70.0]})
    >>> cp, terms = time_dependent_data(df, build_design(df, [C.AGE], missing="raise"))
    >>> terms, cp[["start", "stop", "treated", "x_age_at_diagnosis"]].values.tolist()
    (['treated', 'x_age_at_diagnosis'], [[0.0, 4.0, 0.0, 60.0], [4.0, 10.0, 1.0, 60.0], [0.0, 5.0, 0.0, 70.0]])
    """
    model = pd.concat([frame[[TIME, EVENT, SURGERY_TIME, *keep]], design.matrix.add_prefix("x_")], axis=1)
    return counting_process(model), [TREATED] + ["x_" + c for c in design.names]
