"""Subgroup hazard ratios of surgery vs chemotherapy for the forest plot (exploratory).

Method (decided here, shown to the user in :attr:`SubgroupResult.notes`):

1. **Match once.** The population (landmark or naive, from the spec) and the propensity match
   are exactly those of :func:`core.analysis.run` for the same spec, so the *Overall* row equals
   the main matched hazard ratio. Subgroups are *not* re-matched: each subgroup is a part of the
   one matched sample, which keeps every subgroup on the same footing and avoids a separate
   (and unstable) propensity model per subgroup of a few patients.
2. **Subgroup membership.** For patient characteristics known in both arms (metastasis group,
   oligometastatic disease, tumour location, regimen, CA19-9 response, resectability, RECIST
   response) every matched patient belongs to the subgroup of *its own* value; a pair whose two members differ is split across two subgroups, and the
   robust variance is still clustered on the matched pair (``subclass``; on the patient when
   matching with replacement, as in the main analysis). Matching weights are kept.
3. **Pancreatic procedure, chemotherapy before surgery, ypM** exist only for operated patients.
   As with the dashboard's
   procedure filter (operated patients with that procedure against *all* controls), a matched
   set belongs to the procedure subgroup of its *operated* patient: its controls follow it.
   With replacement, a control matched to operated patients of several procedures is split
   into one row per procedure, its matching weight shared out in proportion to the matches
   (the split rows add up to its weight in the main analysis; clustered on the patient). Such
   a control then appears twice in the interaction model, and Efron's tie correction counts
   its two rows as two tied deaths (R does the same with the same rows).
   In a landmark population some controls are patients operated *after* the landmark; their
   own procedure is ignored. ypM (viable tumour in the resected metastases) is known only after
   the operation: it describes the operated patient, not a choice made before it, and the page
   says so (:data:`AFTER_SURGERY`).

   Levels and thresholds: oligometastatic = up to :attr:`core.dictionary.Oligo.MAX_METS` liver
   metastases at diagnosis; long chemotherapy = at least
   :attr:`core.dictionary.ChemoDuration.LONG_MONTHS` months from chemotherapy start to surgery
   (Ushida 2022); CA19-9 response = fall of 50% or more, Lewis-negative patients not evaluable
   (never a level); ypM0 = no viable tumour, ypM1 = viable tumour, "not assessed" left out.
   Rows without a level are left out of that variable's subgroups (the notes count them).
4. **Estimate per subgroup**: Cox model ``Surv(time, event) ~ treated`` within the subgroup,
   Efron ties, robust variance clustered as in the main analysis.
5. **Small numbers**: the one rule of every between-arm comparison
   (:func:`core.guards.comparison_reason`): a subgroup with fewer than
   :data:`core.guards.MIN_PATIENTS_PER_ARM` patients or :data:`core.guards.MIN_EVENTS_PER_ARM`
   events in either arm gets **no estimate**: HR, limits and p are NaN, ``reliable`` is False
   and ``reason`` says why (patient and event counts stay visible). The *Overall* row follows
   the same rule as the main view's headline.
6. **Interaction test** (exploratory, labelled so): Cox model on the matched sample with
   ``treated * subgroup`` terms, robust variance clustered as above, Wald chi-square of the
   interaction terms ``b' V^-1 b`` with ``V`` the robust covariance (R: ``coxph(Surv(time,
   event) ~ treated * group, cluster = subclass)``, then the Wald test from ``vcov(fit)``;
   checked in ``tests/test_subgroups.py``). Only subgroups that have an estimate (rule 5) enter
   the test, so it never rests on a subgroup of 3 patients; fewer than two such subgroups, no
   test. The left-out subgroups are listed in the note. The
   interaction model has one baseline hazard with proportional subgroup effects, so its
   per-subgroup hazard ratios can differ slightly from the separate fits of the table.

Examples
--------
>>> from core import cohort
>>> from core.spec import EVENT_WORDS, AnalysisSpec
>>> res = subgroup_table(cohort.demo(), AnalysisSpec())
>>> res.table.loc[0, "dimension"]
'Overall'
>>> [d.label for d in DIMENSIONS][:4]
['Metastasis group', 'Liver metastases', 'Tumour location', 'Regimen']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from core import survival
from core.dictionary import (
    C,
    Ca19Response,
    ChemoDuration,
    Location,
    MetsGroup,
    Oligo,
    Pancreatic,
    Recist,
    Regimen,
    Resectability,
    Viable,
    value_label,
)
from core.estimators import ESTIMATORS, Context, Estimate, cox_failure_reason, is_weighted
from core.filters import apply_filters
from core.guards import COMPARISON_RULE, ArmCounts, comparison_reason
from core.population import EVENT, TIME, TREATED
from core.spec import CENTRE_MODELS, EVENT_WORDS, AnalysisSpec

#: Column of the analysis frames holding the subgroup level.
GROUP = "subgroup"
#: Column of the analysis frames holding the cluster id and the case weight.
CLUSTER = "cluster"
WEIGHT = "weight"

#: How a subgroup is assigned: the patient's own value, or the value of the matched set's operated patient.
OWN = "own"
TREATED_UNIT = "treated_unit"


@dataclass(frozen=True)
class Dimension:
    """One subgroup variable of the forest plot.

    Attributes
    ----------
    column : str
        Dictionary column the subgroups come from (level words: :func:`core.dictionary.value_label`).
    label : str
        Name of the variable in the forest plot and the tables.
    levels : tuple of str
        Level codes in forest-plot order.
    assign : {"own", "treated_unit"}
        Each patient's own value, or the value of the matched set's operated patient.
    level_of : callable, optional
        Maps the analysis frame to the level code of every row (None: not evaluable, left out);
        default: the column itself.
    missing : str
        What a row without a level is, in words (for the note).
    after_surgery : bool
        Known only after the operation: describes the operated patient, not a choice before it.
    definition : str
        How the levels are defined, in words (for the notes and the report); '' when plain.
    """

    column: str
    label: str
    levels: tuple[str, ...]
    assign: str = OWN
    level_of: Callable[[pd.DataFrame], pd.Series] | None = field(default=None, compare=False)
    missing: str = "without a value"
    after_surgery: bool = False
    definition: str = ""

    def level(self, frame: pd.DataFrame) -> pd.Series:
        """The level code of every row of ``frame`` (None where not evaluable).

        Examples
        --------
        >>> DIMENSIONS_BY_COLUMN[C.LIVER_METS_N].level(pd.DataFrame({C.LIVER_METS_N: [1, 3, 4, None]})).tolist()
        ['oligometastatic', 'oligometastatic', 'more_than_oligo', None]
        """
        raw = self.level_of(frame) if self.level_of is not None else frame[self.column]
        out = raw.astype("object")
        return out.where(out.notna(), None)


#: Shown beside a subgroup variable known only after surgery.
AFTER_SURGERY = "defined after surgery: describes the operated patient, not a choice before it"


def _coded(frame: pd.DataFrame, condition: np.ndarray, known: np.ndarray, yes: str, no: str) -> pd.Series:
    return pd.Series(np.where(known, np.where(condition, yes, no), None), index=frame.index, dtype="object")


def oligometastatic(frame: pd.DataFrame) -> pd.Series:
    """Up to :attr:`Oligo.MAX_METS` liver metastases (oligometastatic) or more, from :attr:`C.LIVER_METS_N`.

    Examples
    --------
    >>> oligometastatic(pd.DataFrame({C.LIVER_METS_N: [3, 4]})).tolist()
    ['oligometastatic', 'more_than_oligo']
    """
    n = pd.to_numeric(frame[C.LIVER_METS_N], errors="coerce").to_numpy(float)
    return _coded(frame, n <= Oligo.MAX_METS, ~np.isnan(n), Oligo.OLIGO, Oligo.MORE)


def chemotherapy_duration(frame: pd.DataFrame) -> pd.Series:
    """Chemotherapy start to surgery of at least :attr:`ChemoDuration.LONG_MONTHS` months, or less.

    Examples
    --------
    >>> chemotherapy_duration(pd.DataFrame({C.TIME_TO_SURGERY: [7.99, 8.0, None]})).tolist()
    ['short', 'long', None]
    """
    m = pd.to_numeric(frame[C.TIME_TO_SURGERY], errors="coerce").to_numpy(float)
    return _coded(frame, m >= ChemoDuration.LONG_MONTHS, ~np.isnan(m), ChemoDuration.LONG, ChemoDuration.SHORT)


def ca19_9_response(frame: pd.DataFrame) -> pd.Series:
    """CA19-9 response (fall of 50% or more) or not; Lewis-negative patients are not evaluable (None).

    Examples
    --------
    >>> df = pd.DataFrame({C.CA19_9_RESPONSE: [True, False, True, None], C.LEWIS_NEGATIVE: [False, False, True, False]})
    >>> ca19_9_response(df).tolist()
    ['responded', 'not_responded', None, None]
    """
    resp = frame[C.CA19_9_RESPONSE].astype("object")
    known = resp.notna().to_numpy()
    if C.LEWIS_NEGATIVE in frame:
        known &= ~frame[C.LEWIS_NEGATIVE].astype("object").eq(True).to_numpy()
    return _coded(frame, resp.eq(True).to_numpy(), known, Ca19Response.YES, Ca19Response.NO)


def ypm(frame: pd.DataFrame) -> pd.Series:
    """ypM0 (no viable tumour in the resected metastases) or ypM1; not assessed is None.

    Examples
    --------
    >>> ypm(pd.DataFrame({C.LIVER_METS_VIABLE: ["no", "yes", "not_assessed", None]})).tolist()
    ['no', 'yes', None, None]
    """
    v = frame[C.LIVER_METS_VIABLE].astype("object")
    return v.where(v.isin([Viable.NO, Viable.YES]), None)


#: Subgroup variables in forest-plot order.
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(C.METS_GROUP, "Metastasis group", MetsGroup.ALL),
    Dimension(C.LIVER_METS_N, "Liver metastases", Oligo.ALL, level_of=oligometastatic,
              definition=f"oligometastatic = up to {Oligo.MAX_METS} liver metastases at diagnosis"),
    Dimension(C.TUMOUR_LOCATION, "Tumour location", Location.ALL),
    Dimension(C.CHEMO_REGIMEN, "Regimen", Regimen.ALL),
    Dimension(C.CA19_9_RESPONSE, "CA19-9 response", Ca19Response.ALL, level_of=ca19_9_response,
              missing="not evaluable (Lewis-negative) or without CA19-9 at baseline and restaging",
              definition="a fall of 50% or more from baseline to restaging; Lewis-negative patients are not "
                         "evaluable"),
    Dimension(C.TIME_TO_SURGERY, "Chemotherapy before surgery", ChemoDuration.ALL, TREATED_UNIT,
              level_of=chemotherapy_duration,
              definition=f"months from the start of chemotherapy to the operation of the matched set's operated "
                         f"patient, {ChemoDuration.LONG_MONTHS:g} or more vs fewer (Ushida 2022)"),
    Dimension(C.PANCREATIC_PROCEDURE, "Pancreatic procedure", Pancreatic.ALL, TREATED_UNIT),
    Dimension(C.LIVER_METS_VIABLE, "Resected metastases (ypM)", (Viable.NO, Viable.YES), TREATED_UNIT,
              level_of=ypm, missing="not assessed or not recorded (with the patients matched to them)", after_surgery=True,
              definition="ypM0 = no viable tumour in the resected liver metastases of the matched set's operated "
                         "patient, ypM1 = viable tumour; not assessed: left out"),
    Dimension(C.RESECTABILITY, "Resectability", Resectability.ALL),
    Dimension(C.RECIST, "RECIST response", Recist.ALL),
)
DIMENSIONS_BY_COLUMN: dict[str, Dimension] = {d.column: d for d in DIMENSIONS}

TABLE_COLUMNS = [
    "dimension", "subgroup", "label", "n_surgery", "n_chemotherapy", "events_surgery", "events_chemotherapy",
    "hr", "lower", "upper", "p", "reliable", "reason",
]
INTERACTION_COLUMNS = ["dimension", "chi2", "df", "p", "levels", "note"]

EXPLORATORY = ("Subgroup hazard ratios and interaction tests are exploratory: many comparisons on few patients, "
               "no adjustment for multiplicity.")


@dataclass(frozen=True, eq=False)
class InteractionTest:
    """Robust Wald test that the treatment effect is the same in every level of a subgroup variable.

    Attributes
    ----------
    chi2, df, p : float, int, float
        Wald chi-square of the interaction terms, its degrees of freedom and p-value (NaN when
        not computable, see ``note``).
    levels : tuple of str
        Levels in the model, the first being the reference.
    terms : tuple of str
        Interaction term names (``treated:<level>``), in model order.
    coef : numpy.ndarray
        Interaction coefficients (log hazard-ratio differences from the reference level).
    var : numpy.ndarray
        Their robust covariance matrix.
    fit : core.survival.CoxResult
        The whole interaction model (terms ``treated``, ``group:<level>``, ``treated:<level>``).
    """

    chi2: float
    df: int
    p: float
    levels: tuple[str, ...]
    terms: tuple[str, ...]
    coef: np.ndarray = field(repr=False)
    var: np.ndarray = field(repr=False)
    fit: survival.CoxResult = field(repr=False)


@dataclass(frozen=True, eq=False)
class SubgroupResult:
    """Forest-plot table of one analysis spec.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per subgroup (first row ``Overall``), columns :data:`TABLE_COLUMNS`.
    overall : core.analysis.Estimate or None
        The matched hazard ratio of the whole matched sample (as in :func:`core.analysis.run`).
    interactions : pandas.DataFrame
        One row per subgroup variable, columns :data:`INTERACTION_COLUMNS` (exploratory).
    notes : tuple of str
        How the estimates were made, and anything the reader must know.
    flags : tuple of str
        Lines shown beside the forest plot: subgroup variables defined after surgery
        (:data:`AFTER_SURGERY`).
    """

    table: pd.DataFrame
    overall: Estimate | None
    interactions: pd.DataFrame
    notes: tuple[str, ...]
    flags: tuple[str, ...] = ()


# ============================================================================ estimation helpers
def _estimate_row(frame: pd.DataFrame, *, weighted: bool, event_word: str = "death") -> dict[str, object]:
    """Counts and the within-subgroup matched HR of one subgroup frame (see module notes)."""
    treated = frame[TREATED].to_numpy(float) == 1
    event = frame[EVENT].to_numpy(float) == 1
    # A control split over several procedure rows (replacement) is counted once.
    ids = frame[C.PATIENT_ID].to_numpy()
    n_s, n_c = len(pd.unique(ids[treated])), len(pd.unique(ids[~treated]))
    ev = frame.loc[event, [C.PATIENT_ID, TREATED]].drop_duplicates()
    e_s, e_c = int((ev[TREATED] == 1).sum()), int((ev[TREATED] == 0).sum())
    row: dict[str, object] = {"n_surgery": n_s, "n_chemotherapy": n_c, "events_surgery": e_s,
                              "events_chemotherapy": e_c, "hr": np.nan, "lower": np.nan, "upper": np.nan,
                              "p": np.nan}
    reason = comparison_reason(ArmCounts(n_s, n_c, e_s, e_c, event_word))
    if not reason:
        try:
            fit = survival.cox(frame, TIME, EVENT, [TREATED], cluster=CLUSTER, weights=WEIGHT if weighted else None,
                               robust=True)
        except ValueError as exc:
            reason = cox_failure_reason(exc, event_word)
        else:
            r = fit.table.loc[TREATED]
            row.update(hr=float(r["hr"]), lower=float(r["lower"]), upper=float(r["upper"]), p=float(r["p"]))
    row["reliable"] = not reason
    row["reason"] = reason
    return row


def interaction_wald(
    frame: pd.DataFrame,
    *,
    group: str,
    cluster: str,
    time: str = TIME,
    event: str = EVENT,
    treated: str = TREATED,
    weights: str | None = None,
    levels: Sequence[str] | None = None,
) -> InteractionTest:
    """Robust Wald test of the ``treated x group`` interaction in a Cox model.

    Fits ``Surv(time, event) ~ treated * group`` (Efron ties, robust variance clustered on
    ``cluster``, optional case weights) and tests that all interaction coefficients are zero:
    ``chi2 = b' V^-1 b`` with ``V`` their robust covariance, ``df`` = number of terms. This is
    what R gives with ``coxph(..., cluster = )`` and the Wald test computed from ``vcov(fit)``
    (``anova`` would not use the robust variance).

    Parameters
    ----------
    frame : pandas.DataFrame
        Matched sample, one row per patient (or per patient and subgroup, see the module notes).
    group : str
        Column of subgroup levels (rows with a missing level must be removed first).
    cluster : str
        Column of cluster ids (matched pair, or patient).
    time, event, treated : str
        Follow-up time, 0/1 event and 0/1 treatment columns.
    weights : str, optional
        Column of case weights.
    levels : sequence of str, optional
        Levels in model order (first = reference); default: sorted distinct values.

    Returns
    -------
    InteractionTest

    Raises
    ------
    ValueError
        Fewer than two levels, missing levels, or a model that cannot be fitted.

    Examples
    --------
    >>> df = pd.DataFrame({"time": [5, 8, 3, 9, 2, 7, 4, 6, 1, 10, 12, 11],
    ...                    "event": [1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1],
    ...                    "treated": [1, 0] * 6, "g": ["a"] * 6 + ["b"] * 6, "pair": np.repeat(np.arange(6), 2)})
    >>> res = interaction_wald(df, group="g", cluster="pair")
    >>> res.terms, res.df, round(res.chi2, 4)
    (('treated:b',), 1, 0.9419)
    """
    for col in (time, event, treated, group, cluster) + ((weights,) if weights else ()):
        if col not in frame.columns:
            raise ValueError(f"column {col!r} is not in the frame")
    g = frame[group].astype("object")
    if g.isna().any():
        raise ValueError(f"{int(g.isna().sum())} row(s) have no {group!r} level; remove them first")
    present = sorted(pd.unique(g)) if levels is None else [lv for lv in levels if (g == lv).any()]
    if levels is not None and not g.isin(list(levels)).all():
        raise ValueError(f"{group!r} has levels outside `levels`")
    if len(present) < 2:
        raise ValueError("an interaction test needs at least two subgroup levels")
    data = pd.DataFrame({"t": frame[time].to_numpy(float), "e": frame[event].to_numpy(float),
                         "treated": frame[treated].to_numpy(float), "cl": frame[cluster].to_numpy()})
    if weights:
        data["w"] = frame[weights].to_numpy(float)
    main = [f"group:{lv}" for lv in present[1:]]
    inter = [f"treated:{lv}" for lv in present[1:]]
    for lv, m, i in zip(present[1:], main, inter, strict=True):
        ind = (g == lv).to_numpy(float)
        data[m] = ind
        data[i] = ind * data["treated"].to_numpy()
    fit = survival.cox(data, "t", "e", ["treated", *main, *inter], cluster="cl", weights="w" if weights else None,
                       robust=True)
    k = 1 + len(main)
    b = np.asarray(fit.coef, float)[k:]
    v = np.asarray(fit.var, float)[k:, k:]
    chi2 = float(b @ np.linalg.solve(v, b))
    df = len(b)
    return InteractionTest(chi2, df, float(stats.chi2.sf(chi2, df)), tuple(present), tuple(inter), b, v, fit)


# ============================================================================ subgroup frames
def _by_treated_unit(matched: pd.DataFrame, pairs: pd.DataFrame, column: str, *, replace: bool) -> pd.DataFrame:
    """Matched rows labelled with the value of ``column`` of their matched set's operated patient.

    Without replacement each control belongs to one matched set (``subclass``). With
    replacement a control is split into one row per level of its operated matches, its weight
    shared in proportion to the sum of ``1/k`` (k = controls of that operated patient) over
    its matches, as MatchIt's ATT weights are built.
    """
    value = matched[column].astype("object")
    treated = matched[TREATED].to_numpy(float) == 1
    t_rows = matched.loc[treated].copy()
    t_rows[GROUP] = value[treated]
    c_rows = matched.loc[~treated]
    if not replace:
        level_of_set = pd.Series(t_rows[GROUP].to_numpy(), index=t_rows["subclass"].to_numpy())
        c = c_rows.copy()
        c[GROUP] = level_of_set.reindex(c["subclass"].to_numpy()).to_numpy()
        return pd.concat([t_rows, c])
    p = pairs[["treated_id", "control_id"]].copy()
    p["share"] = 1.0 / p.groupby("treated_id")["treated_id"].transform("size")
    p[GROUP] = value.reindex(p["treated_id"]).to_numpy()
    p = p.groupby(["control_id", GROUP], sort=False, dropna=False)["share"].sum().reset_index()
    p["share"] /= p.groupby("control_id")["share"].transform("sum")
    c = c_rows.loc[p["control_id"]].copy()
    c[WEIGHT] = c[WEIGHT].to_numpy() * p["share"].to_numpy()
    c[GROUP] = p[GROUP].to_numpy()
    return pd.concat([t_rows, c])


def dimension_frame(frame: pd.DataFrame, dim: Dimension, pairs: pd.DataFrame, *,
                    replace: bool) -> tuple[pd.DataFrame, int]:
    """The rows of the matched sample that enter ``dim``'s subgroups, with their level in :data:`GROUP`.

    Parameters
    ----------
    frame : pandas.DataFrame
        Matched sample with the :data:`CLUSTER` and :data:`WEIGHT` columns (one row per patient).
    dim : Dimension
        The subgroup variable.
    pairs : pandas.DataFrame
        ``treated_id``, ``control_id`` of the match (``MatchResult.pairs()``), for ``treated_unit`` variables.
    replace : bool
        Whether the match was with replacement (a shared control is split, see the module notes).

    Returns
    -------
    (pandas.DataFrame, int)
        The rows with a level, and the number of matched patients left out (no level).

    Examples
    --------
    >>> f = pd.DataFrame({C.PATIENT_ID: ["a", "b"], TREATED: [1.0, 0.0], C.TUMOUR_LOCATION: ["head", None]})
    >>> rows, n_out = dimension_frame(f, DIMENSIONS_BY_COLUMN[C.TUMOUR_LOCATION], pd.DataFrame(), replace=False)
    >>> rows[GROUP].tolist(), n_out
    (['head'], 1)
    """
    framed = frame.assign(**{GROUP: dim.level(frame)})
    if dim.assign == TREATED_UNIT:
        framed = _by_treated_unit(framed, pairs, GROUP, replace=replace)
    missing = framed[GROUP].isna() | ~framed[GROUP].isin(dim.levels)
    n_miss = int(pd.unique(framed.loc[missing, C.PATIENT_ID]).size)
    return framed.loc[~missing], n_miss


def _analysis_frame(matched: pd.DataFrame, *, replace: bool) -> pd.DataFrame:
    out = matched.copy()
    out[CLUSTER] = out[C.PATIENT_ID] if replace else out["subclass"]
    out[WEIGHT] = out["weights"].astype(float)
    return out


# ============================================================================ public entry point
def subgroup_table(cohort, spec: AnalysisSpec, *, dimensions: Sequence[str] | None = None) -> SubgroupResult:
    """Matched hazard ratios of surgery vs chemotherapy by subgroup, for the forest plot.

    See the module docstring for the method (match once, estimate within subgroups of the
    matched sample, robust variance clustered on the pair, reliability rule, interaction test).

    Parameters
    ----------
    cohort : core.cohort.Cohort
        Validated cohort.
    spec : AnalysisSpec
        Filters and settings; the same population and match as :func:`core.analysis.run`.
        With ``method="time_dependent"`` the landmark-matched sample is used (as for the
        curves of the main view).
    dimensions : sequence of str, optional
        Dictionary columns of the subgroup variables to show (default: all of
        :data:`DIMENSIONS`, in that order).

    Returns
    -------
    SubgroupResult

    Raises
    ------
    ValueError
        If ``spec`` is not an :class:`AnalysisSpec` or a dimension is unknown.

    Examples
    --------
    >>> from core import cohort
    >>> res = subgroup_table(cohort.demo(), AnalysisSpec(), dimensions=[C.RESECTABILITY])
    >>> res.table["subgroup"].tolist()
    ['All matched patients', 'resectable', 'borderline']
    >>> bool(res.table.loc[0, "hr"] == res.overall.hr)
    True
    """
    if not isinstance(spec, AnalysisSpec):
        raise ValueError("spec must be an AnalysisSpec")
    dims = DIMENSIONS if dimensions is None else tuple(_dimension(d) for d in dimensions)
    notes = [EXPLORATORY]
    empty = SubgroupResult(pd.DataFrame(columns=TABLE_COLUMNS), None, pd.DataFrame(columns=INTERACTION_COLUMNS), ())
    ctx = Context(apply_filters(cohort.data, spec).data, spec)
    chosen = ESTIMATORS[spec.method](ctx)
    if chosen.curves_from:  # an estimator without a sample of its own: subgroups of the sample the curves show
        notes.append(f"Subgroups use the sample the curves show ({ESTIMATORS[chosen.curves_from](ctx).label}); the "
                     "main view's hazard ratio comes from another model.")
        chosen = ESTIMATORS[chosen.curves_from](ctx)
    if chosen.biased:
        notes.append("Naive population: the time before surgery counts as surgery time (immortal time), so every "
                     "hazard ratio here favours surgery.")
    m, matched, overall = chosen.match, chosen.sample, chosen.estimate
    if matched is None:
        notes.append(f"No matched comparison: {overall.reason}.")
        return SubgroupResult(empty.table, overall, empty.interactions, tuple(notes))

    weighted = is_weighted(spec)
    event_word = EVENT_WORDS[spec.endpoint]
    frame = _analysis_frame(matched, replace=spec.replace)
    notes.append(
        "Matched once in the whole filtered population; each subgroup is part of that matched sample (no "
        "re-matching). Patients belong to the subgroup of their own value; robust variance clustered on the "
        + ("patient (matching with replacement)" if spec.replace else "matched set") + ".")
    if spec.centre_model != "none":
        notes.append(f"The centre choice of the main view ({CENTRE_MODELS[spec.centre_model]}) is not applied here: "
                     "within a subgroup most centres hold a handful of patients of one arm, so the subgroup hazard "
                     "ratios and interaction tests stay unstratified, clustered as stated above.")
    by_set = [d.label for d in dims if d.assign == TREATED_UNIT]
    if by_set:
        notes.append(", ".join(by_set) + ": a matched set belongs to the subgroup of its operated patient; its "
                     "controls (who had no operation, or one after the landmark) follow it.")
    defined = [f"{d.label}: {d.definition}" for d in dims if d.definition]
    if defined:
        notes.append("Definitions. " + "; ".join(defined) + ".")
    flags = tuple(f"{d.label}: {AFTER_SURGERY}." for d in dims if d.after_surgery)
    notes.extend(flags)
    notes.append(COMPARISON_RULE)

    rows = [{"dimension": "Overall", "subgroup": "All matched patients", "label": "All matched patients",
             **_estimate_row(frame, weighted=weighted, event_word=event_word)}]
    tests = []
    for dim in dims:
        framed, n_miss = dimension_frame(frame, dim, m.pairs(), replace=spec.replace)
        if n_miss:
            notes.append(f"{dim.label}: {n_miss} matched patient(s) {dim.missing} are left out of its subgroups.")
        present = [lv for lv in dim.levels if (framed[GROUP] == lv).any()]
        absent = _absent_note(dim, present, spec, chosen.key)
        if absent:
            notes.append(absent)
        dim_rows = [{"dimension": dim.label, "subgroup": lv, "label": f"{dim.label}: {value_label(dim.column, lv)}",
                     **_estimate_row(framed.loc[framed[GROUP] == lv], weighted=weighted, event_word=event_word)}
                    for lv in present]
        rows.extend(dim_rows)
        tests.append(_interaction_row(dim, framed, dim_rows, weighted=weighted))
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    table["reliable"] = table["reliable"].astype(bool)
    interactions = pd.DataFrame(tests, columns=INTERACTION_COLUMNS)
    return SubgroupResult(table, overall, interactions, tuple(notes), flags)


def _absent_note(dim: Dimension, present: list[str], spec: AnalysisSpec, key: str) -> str:
    """One line on a level of a two-level variable that no matched patient has ('' when none is absent)."""
    if len(dim.levels) != 2 or len(present) != 1:
        return ""
    gone = next(lv for lv in dim.levels if lv not in present)
    line = f"{dim.label}: no matched patient in '{value_label(dim.column, gone)}'"
    if dim.column == C.TIME_TO_SURGERY and key == "landmark" and spec.landmark_months < ChemoDuration.LONG_MONTHS:
        line += (f": with a landmark at {spec.landmark_months:g} months every operated patient in the comparison "
                 f"was operated within {spec.landmark_months:g} months of starting chemotherapy (a landmark of "
                 f"{ChemoDuration.LONG_MONTHS:g} months or more, or the naive comparison, shows this subgroup)")
    return line + "; no interaction test."


def _dimension(name: str) -> Dimension:
    if name not in DIMENSIONS_BY_COLUMN:
        raise ValueError(f"unknown subgroup variable {name!r}; choose from {', '.join(DIMENSIONS_BY_COLUMN)}")
    return DIMENSIONS_BY_COLUMN[name]


def _interaction_row(dim: Dimension, framed: pd.DataFrame, rows: list[dict[str, object]], *,
                     weighted: bool) -> dict[str, object]:
    usable = [str(r["subgroup"]) for r in rows if r["reliable"]]
    left_out = [str(r["subgroup"]) for r in rows if not r["reliable"]]
    notes = ["exploratory"]
    if left_out:
        notes.append("subgroups without an estimate left out: "
                     + ", ".join(value_label(dim.column, lv) for lv in left_out))
    row: dict[str, object] = {"dimension": dim.label, "chi2": np.nan, "df": 0, "p": np.nan,
                              "levels": ", ".join(usable)}
    if len(usable) < 2:
        notes.append("not computed: fewer than two subgroups with an estimate")
    else:
        part = framed.loc[framed[GROUP].isin(usable)]
        try:
            test = interaction_wald(part, group=GROUP, cluster=CLUSTER, weights=WEIGHT if weighted else None,
                                    levels=usable)
        except (ValueError, np.linalg.LinAlgError) as exc:
            notes.append(f"not computed: {exc}")
        else:
            row.update(chi2=test.chi2, df=test.df, p=test.p)
    row["note"] = "; ".join(notes)
    return row


__all__ = ["AFTER_SURGERY", "DIMENSIONS", "Dimension", "InteractionTest", "SubgroupResult", "ca19_9_response",
           "chemotherapy_duration", "dimension_frame", "interaction_wald", "oligometastatic", "subgroup_table", "ypm",
           "suppress_subgroup_counts", "COUNT_COLUMNS"]


#: Count columns of the subgroup table.
COUNT_COLUMNS = ("n_surgery", "n_chemotherapy", "events_surgery", "events_chemotherapy")


#: Levels of one subgroup variable that are unions of another's levels, as
#: ``(variable, level, other variable, its levels)``: the counts are linked across the two variables.
NESTED: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Liver metastases", Oligo.OLIGO, "Metastasis group", (MetsGroup.ONE, MetsGroup.TWO_THREE)),
    ("Liver metastases", Oligo.MORE, "Metastasis group", (MetsGroup.MORE,)),
)


def suppress_subgroup_counts(table: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """Small-cell suppression of the subgroup table's counts, with complementary cells.

    Within one subgroup variable the rows of one count column add up to the *Overall* row
    minus the patients without a value (which the notes give). So per variable and count column,
    :func:`core.export.linked_suppression` hides counts from 1 to ``k - 1`` (``"<k"``) and,
    where exactly one row is hidden, the smallest other non-zero row (``"*"``), so that no
    hidden count is the known total minus the shown ones. A level that is the union of levels of
    another variable (:data:`NESTED`: up to 3 metastases = 1 plus 2-3) links those rows too.

    Parameters
    ----------
    table : pandas.DataFrame
        ``SubgroupResult.table`` (first row ``Overall``).
    k : int
        Threshold.

    Returns
    -------
    pandas.DataFrame
        A copy whose count columns are ``object`` (int or mark).

    Examples
    --------
    >>> t = pd.DataFrame({"dimension": ["Overall", "R", "R"], "n_surgery": [24, 15, 9], "n_chemotherapy": [24, 14, 10],
    ...                   "events_surgery": [19, 13, 6], "events_chemotherapy": [23, 13, 10]})
    >>> suppress_subgroup_counts(t, k=11)[["n_surgery", "events_surgery"]].values.tolist()
    [[24, 19], ['*', '*'], ['<11', '<11']]
    """
    from core import export

    missing = [c for c in ("dimension", *COUNT_COLUMNS) if c not in table.columns]
    if missing:
        raise ValueError(f"the subgroup table has no column(s) {missing}")
    out = table.copy()
    overall = table.index[table["dimension"] == "Overall"]
    for col in COUNT_COLUMNS:
        values = {i: table.at[i, col] for i in table.index}
        lines = []
        for dim, rows in table.groupby("dimension", sort=False).groups.items():
            if dim == "Overall" or len(overall) != 1:
                continue
            rows = list(rows)
            known = ("total", dim)
            # rows + patients without a value (given in the notes) = Overall: the sum of the rows is known
            values[known] = float(sum(table.loc[rows, col]))
            lines.append([*rows, known])
        for dim, level, other, parts in NESTED if "subgroup" in table.columns else ():
            whole = table.index[(table["dimension"] == dim) & (table["subgroup"] == level)]
            pieces = table.index[(table["dimension"] == other) & table["subgroup"].isin(parts)]
            if len(whole) == 1 and len(pieces):
                lines.append([*pieces, whole[0]])
        marks = export.linked_suppression(values, lines, k=k)
        out[col] = pd.Series([marks.get(i, v) for i, v in zip(table.index, table[col].tolist(), strict=True)],
                             index=table.index, dtype=object)
    return out
