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

from core import matching, survival
from core.covariates import OBJECTIVE_RESPONSE, PROGRESSIVE, model_adjustments, propensity_frame
from core.design import MIN_LEVEL_COUNT, build_design
from core.dictionary import C, Recist
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
                 counts: ArmCounts, biased: bool = False, centre_model: str = "none") -> Estimate:
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
    where = "the matched sample"
    ids = frame[C.PATIENT_ID].to_numpy() if C.PATIENT_ID in frame.columns else None
    use = centre_use(frame, centre_model, arm=frame[TREATED].to_numpy(float) == 1, cluster=cluster, ids=ids)
    if use.left_out:
        frame = frame.loc[use.keep]
        counts = arm_counts(frame, event_word=counts.event_word)
        where = "the matched sample, in centres with patients of both arms"
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
    m, sample, est = _matched_comparison(population, spec, label, biased=biased)
    return AdjustedComparison(
        key=key, label=label, estimand=estimand, estimate=est, population=population, sample=sample,
        weights="weights" if is_weighted(spec) else None,
        cluster=C.CENTRE_ID if spec.centre_model == "cluster" else cluster_column(spec),
        strata=C.CENTRE_ID if spec.centre_model == "strata" else None, match=m,
        arm_labels=arm_labels or {}, biased=biased,
        notes=tuple(n for n in ((model_adjustments(m.dropped, m.pooled),) if m is not None else ())
                    + ((est.centre_note,) if est.centre_note else ()) if n),
    )


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
    est = _time_dependent_estimate(ctx.naive.data, s, label)
    return AdjustedComparison(
        key="time_dependent", label=label, estimate=est, population=ctx.naive, curves_from="landmark",
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



def _time_dependent_estimate(pop: pd.DataFrame, spec: AnalysisSpec, label: str) -> Estimate:
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
        return _no_estimate(label, counts, reason, where=where, centre_note=note)
    try:
        # the same repairs as the propensity model: constant covariates left out, rare levels pooled
        design = build_design(pf, names, missing="raise", arm=operated, drop_constant=True,
                              min_level_count=MIN_LEVEL_COUNT)
        model = pd.concat([pf[[TIME, EVENT, SURGERY_TIME, C.CENTRE_ID]], design.matrix.add_prefix("x_")], axis=1)
        cp = counting_process(model)
        terms = ["x_" + c for c in design.names]
        table = survival.cox_time_varying(cp, "start", "stop", "event", ["treated"] + terms, cluster=use.cluster,
                                          strata=use.strata).table
    except ValueError as exc:
        return _no_estimate(label, counts, cox_failure_reason(exc, counts.event_word).replace("Cox model", "time-dependent "
                            "Cox model"), where=where, centre_note=note)
    row = table.loc["treated"]
    if not np.isfinite(row["hr"]) or not np.isfinite(row["upper"]):
        return _no_estimate(label, counts, "the time-dependent Cox model does not converge on these patients",
                            where=where, centre_note=note)
    return Estimate(label, float(row["hr"]), float(row["lower"]), float(row["upper"]), float(row["p"]), counts.n,
                    counts.events, True, "", False, counts, where, note)
