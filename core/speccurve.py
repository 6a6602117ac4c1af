"""Specification curve: the hazard ratio under every defensible combination of analysis choices.

With 90 patients, the hazard ratio of surgery moves with choices that have no single right
answer: when the landmark is set, which covariates enter the propensity model, matching or
weighting, whether a caliper is used, how immortal time is handled. A specification curve
(Simonsohn, Simmons & Nelson, Nat Hum Behav 2020) runs all of them on the same patients and
shows the distribution, with the pre-specified primary analysis pinned. It shows how fragile an
estimate is; it is **not a test**: the specifications share their patients, so their agreement
adds no evidence, and the share of hazard ratios below 1 is not a p-value.

The grid (:func:`grid`), on the current filtered cohort, with every other setting as in the view:

* immortal time: landmark analysis or time-dependent Cox model;
* landmark at :data:`LANDMARKS` months (landmark analysis only);
* propensity covariates: the sets of :data:`core.dictionary.PROPENSITY_COVARIATE_SETS`;
* adjustment (landmark analysis): 1:1 matching without replacement, 1:2 matching with
  replacement, or ATT weighting (:func:`core.estimators.att_weighting`); the time-dependent Cox
  model adjusts by regression;
* caliper: none or 0.2 SD of the logit (matching only).

That is 4 x 3 x (2 x 2 + 1) = 60 landmark specifications and 3 time-dependent ones. The naive
comparison is not a defensible specification (immortal-time bias) and is left out. The current
view and the primary analysis's settings are run too, as extra rows when they are outside the grid;
the share below 1 and the median count the grid only. Each matched or time-dependent row is
exactly what :func:`core.analysis.run` gives for that spec; the weighted rows are what
:func:`core.estimators.att_weighting` gives (weighting is not a view setting).

Examples
--------
>>> from core import cohort
>>> from core.spec import AnalysisSpec
>>> curve = run(cohort.demo(), AnalysisSpec())
>>> curve.n_grid, int(curve.table["in_grid"].sum())
(63, 63)
>>> bool(curve.table["current"].any()), 0 <= curve.share_below_one <= 1
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.analysis import analysis_columns
from core.dictionary import PROPENSITY_COVARIATE_SETS, label
from core.estimators import ESTIMATORS, Context, Estimate, att_weighting
from core.filters import apply_filters
from core.format import fmt_num
from core.spec import FILTER_FIELDS, SETTING_FIELDS, AnalysisSpec

#: Landmarks (months after the time origin) of the landmark analyses.
LANDMARKS: tuple[float, ...] = (3.0, 6.0, 9.0, 12.0)
#: Calipers (SD of the logit of the propensity score); None is no caliper.
CALIPERS: tuple[float | None, ...] = (None, 0.2)
#: Matching schemes: (controls per operated patient, with replacement).
MATCHINGS: tuple[tuple[int, bool], ...] = ((1, False), (2, True))
#: Immortal-time methods (keys of core.estimators.ESTIMATORS); the naive comparison is biased and left out.
IMMORTAL_TIME: tuple[str, ...] = ("landmark", "time_dependent")
#: The choices, as the table's columns and the indicator panel's groups.
DIMENSIONS: tuple[str, ...] = ("Immortal time", "Landmark", "Covariates", "Adjustment", "Caliper")
NOT_USED = "not used"
WEIGHTING = "ATT weighting"
#: What a specification curve shows, in one line (pages and report).
WHAT_IT_SHOWS = ("A specification curve runs the same comparison under every defensible combination of analysis "
                 "choices (landmark, propensity covariates, matching or weighting, caliper, immortal-time method) on "
                 "the same patients, and shows how much the hazard ratio depends on them. It is not a test: the "
                 "specifications share their patients, so their agreement adds no evidence, and the share below 1 "
                 "is not a p-value.")

_METHOD_WORDS = {"landmark": "Landmark", "time_dependent": "Time-dependent Cox", "naive": "Naive (biased)"}
_MATCHES = ("landmark", "naive")


@dataclass(frozen=True)
class Specification:
    """One specification: a view's spec, or (``weighting``) its landmark analysis with ATT weights instead of matching.

    Examples
    --------
    >>> Specification(AnalysisSpec(), weighting=True).choices()["Adjustment"]
    'ATT weighting'
    """

    spec: AnalysisSpec
    weighting: bool = False

    def choices(self) -> dict[str, str]:
        """The choice on each of :data:`DIMENSIONS`, in words ("not used" where it does not apply)."""
        return choices(self.spec, weighting=self.weighting)

    def key(self) -> tuple:
        """What determines the hazard ratio (two specifications with the same key give the same estimate)."""
        s = self.spec
        common = (tuple(getattr(s, f) for f in FILTER_FIELDS), s.endpoint, s.origin, s.method, frozenset(s.covariates))
        if s.method == "time_dependent":
            return common
        landmark = s.landmark_months if s.method == "landmark" else None
        if self.weighting:
            return (*common, landmark, s.propensity, WEIGHTING)
        return (*common, landmark, s.propensity, s.caliper, s.ratio, s.replace, s.exact_centre, s.order)


def grid(spec: AnalysisSpec) -> tuple[Specification, ...]:
    """The grid's specifications: ``spec`` with the choices of the module docstring changed.

    Examples
    --------
    >>> specs = grid(AnalysisSpec())
    >>> len(specs), sum(s.weighting for s in specs), sum(s.spec.method == "time_dependent" for s in specs)
    (63, 12, 3)
    """
    out: list[Specification] = []
    for covariates in PROPENSITY_COVARIATE_SETS.values():
        for landmark in LANDMARKS:
            base = spec.replace_(method="landmark", landmark_months=landmark, covariates=covariates)
            for caliper in CALIPERS:
                for ratio, replace in MATCHINGS:
                    out.append(Specification(base.replace_(caliper=caliper, ratio=ratio, replace=replace)))
            out.append(Specification(base, weighting=True))
    for covariates in PROPENSITY_COVARIATE_SETS.values():
        out.append(Specification(spec.replace_(method="time_dependent", covariates=covariates)))
    return tuple(out)


def same_estimate(a: AnalysisSpec, b: AnalysisSpec) -> bool:
    """Whether two views give the same hazard ratio (they differ only in settings the estimator does not use).

    Examples
    --------
    >>> same_estimate(AnalysisSpec(method="time_dependent"), AnalysisSpec(method="time_dependent", caliper=0.2))
    True
    >>> same_estimate(AnalysisSpec(), AnalysisSpec(caliper=0.2))
    False
    """
    return Specification(a).key() == Specification(b).key()


def _covariate_set(covariates: tuple[str, ...]) -> str:
    for name, chosen in PROPENSITY_COVARIATE_SETS.items():
        if set(chosen) == set(covariates):
            return f"{name} ({len(chosen)})"
    return f"Other ({len(covariates)})"


def choices(spec: AnalysisSpec, *, weighting: bool = False) -> dict[str, str]:
    """The specification's choice on each of :data:`DIMENSIONS`, in words ("not used" where it does not apply).

    Examples
    --------
    >>> choices(AnalysisSpec())
    {'Immortal time': 'Landmark', 'Landmark': '6 months', 'Covariates': 'Default (7)', 'Adjustment': '1:1 matching', 'Caliper': 'none'}
    >>> choices(AnalysisSpec(method="time_dependent"))["Adjustment"]
    'Cox regression'
    """
    matched = spec.method in _MATCHES and not weighting
    if weighting:
        adjustment = WEIGHTING
    elif matched:
        adjustment = f"1:{spec.ratio} matching" + (" with replacement" if spec.replace else "")
    else:
        adjustment = "Cox regression"
    return {
        "Immortal time": _METHOD_WORDS[spec.method],
        "Landmark": f"{spec.landmark_months:g} months" if spec.method == "landmark" else NOT_USED,
        "Covariates": _covariate_set(spec.covariates),
        "Adjustment": adjustment,
        "Caliper": ("none" if spec.caliper is None else f"{spec.caliper:g} SD") if matched else NOT_USED,
    }
@dataclass(frozen=True)
class SpecCurve:
    """Every specification's hazard ratio, sorted, with the primary analysis pinned.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per specification, estimable ones sorted by hazard ratio, then the others:
        ``rank`` (position on the curve, 0 when there is no estimate), ``grid_index`` (the order
        of :func:`grid`, then the current view and the primary when outside it), the :data:`DIMENSIONS`
        in words, ``covariate_list``, ``HR``, ``lower``, ``upper``, ``p``, ``patients``,
        ``events`` and the four per-arm counts, ``estimable``, ``reason`` (why there is no
        estimate, and in which patients it was counted), ``in_grid``, ``primary``, ``current``
        and ``settings`` (the spec's query string: the view that reproduces the row; empty for
        the weighted rows, weighting is not a view setting).
    n_grid : int
        Specifications in the grid.
    n_estimable : int
        Grid specifications with a hazard ratio.
    n_below_one : int
        Of those, how many have a hazard ratio below 1.
    median_hr : float
        Median hazard ratio over the estimable grid specifications (NaN when none).
    notes : tuple of str
        What the page and the report say under the curve (the primary row, rows outside the grid).
    """

    table: pd.DataFrame
    n_grid: int
    n_estimable: int
    n_below_one: int
    median_hr: float
    notes: tuple[str, ...] = ()

    @property
    def share_below_one(self) -> float:
        """Share of the estimable grid specifications with a hazard ratio below 1 (NaN when none)."""
        return self.n_below_one / self.n_estimable if self.n_estimable else math.nan

    def summary(self) -> str:
        """The curve in one sentence.

        Examples
        --------
        >>> SpecCurve(pd.DataFrame(), 51, 0, 0, math.nan).summary()
        'None of the 51 specifications gives a hazard ratio (too few patients or events in an arm).'
        """
        if not self.n_estimable:
            return (f"None of the {self.n_grid} specifications gives a hazard ratio (too few patients or events in "
                    "an arm).")
        grid = self.table[self.table["in_grid"] & self.table["estimable"]]
        return (f"{self.n_estimable} of {self.n_grid} specifications give a hazard ratio; {self.n_below_one} of them "
                f"({100 * self.share_below_one:.0f}%) are below 1; median {fmt_num(self.median_hr, 2)} "
                f"(range {fmt_num(float(grid['HR'].min()), 2)} to {fmt_num(float(grid['HR'].max()), 2)}).")


Progress = Callable[[int, int], None]


def _estimate(data: pd.DataFrame, sp: Specification) -> Estimate:
    try:
        ctx = Context(data, sp.spec)
        return (att_weighting(ctx) if sp.weighting else ESTIMATORS[sp.spec.method](ctx)).estimate
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):  # one failing specification never stops the curve
        return Estimate(sp.spec.method, math.nan, math.nan, math.nan, math.nan, 0, 0, False,
                        "the model cannot be fitted on these patients")


def run(cohort, spec: AnalysisSpec, *, primary: AnalysisSpec | None = None,
        progress: Progress | None = None) -> SpecCurve:
    """Run every specification of the grid on the patients ``spec`` selects.

    Parameters
    ----------
    cohort : core.cohort.Cohort
        Validated cohort.
    spec : AnalysisSpec
        The current view: its filters select the patients, its other settings (endpoint, time
        origin, propensity model, matching order, exact matching on centre) hold in every
        specification.
    primary : AnalysisSpec, optional
        The pre-specified primary analysis (:mod:`core.primary`). Its settings, applied to the
        patients of ``spec``, are pinned on the curve.
    progress : callable, optional
        Called as ``progress(done, total)`` after each specification (a page's progress bar).

    Returns
    -------
    SpecCurve

    Examples
    --------
    >>> from core import cohort
    >>> seen = []
    >>> curve = run(cohort.demo(), AnalysisSpec(), progress=lambda d, t: seen.append((d, t)))
    >>> seen[-1], len(curve.table)
    ((63, 63), 63)
    """
    if not isinstance(spec, AnalysisSpec):
        raise ValueError("spec must be an AnalysisSpec")
    specs = list(grid(spec))
    n_grid = len(specs)
    notes: list[str] = []
    current = Specification(spec)
    current_at = next((i for i, s in enumerate(specs) if s.key() == current.key()), None)
    if current_at is None:
        specs.append(current)
        current_at = len(specs) - 1
        notes.append("The current view is outside the grid: it is shown on the curve and in the table, but not "
                     "counted in the share below 1 or the median.")
    else:
        specs[current_at] = current  # the very spec of the view, so that the row is the page's hazard ratio
    primary_at = None
    if primary is not None:
        pinned = Specification(spec.replace_(**{f: getattr(primary, f) for f in SETTING_FIELDS}))
        if any(getattr(primary, f) != getattr(spec, f) for f in FILTER_FIELDS):
            notes.append("The primary analysis selects other patients than this view: its settings are pinned here "
                         "on the patients of this view.")
        primary_at = next((i for i, s in enumerate(specs) if s.key() == pinned.key()), None)
        if primary_at is None:
            specs.append(pinned)
            primary_at = len(specs) - 1
            notes.append("The primary analysis is outside the grid: it is pinned on the curve but not counted in the "
                         "share below 1 or the median.")
    filtered = apply_filters(cohort.data, spec)
    data = filtered.select(analysis_columns(spec))
    rows = []
    for i, sp in enumerate(specs):
        rows.append({"grid_index": i, **_row(_estimate(data, sp), sp, in_grid=i < n_grid, primary=i == primary_at,
                                             current=i == current_at)})
        if progress is not None:
            progress(i + 1, len(specs))
    table = _sorted(pd.DataFrame(rows))
    grid_ok = table[table["in_grid"] & table["estimable"]]
    median = float(np.median(grid_ok["HR"])) if len(grid_ok) else math.nan
    return SpecCurve(table=table, n_grid=n_grid, n_estimable=len(grid_ok), n_below_one=int((grid_ok["HR"] < 1).sum()),
                     median_hr=median, notes=tuple(notes))


def _row(est: Estimate, sp: Specification, *, in_grid: bool, primary: bool, current: bool) -> dict[str, object]:
    spec = sp.spec
    counts = est.counts
    reason = ""
    if not est.estimated:
        reason = f"in {est.counted_in}: {est.reason}" if est.counted_in else est.reason
    if spec.method == "naive":
        reason = "biased by immortal time: not a defensible specification" + (f"; {reason}" if reason else "")
    return {
        **sp.choices(),
        "covariate_list": ", ".join(label(c) for c in spec.covariates),
        "HR": est.hr, "lower": est.lower, "upper": est.upper, "p": est.p,
        "patients": est.n, "events": est.events,
        "patients_surgery": counts.n_surgery if counts else 0,
        "patients_chemotherapy": counts.n_chemotherapy if counts else 0,
        "events_surgery": counts.events_surgery if counts else 0,
        "events_chemotherapy": counts.events_chemotherapy if counts else 0,
        "estimable": bool(est.estimated), "reason": reason,
        "in_grid": in_grid, "primary": primary, "current": current,
        "settings": "" if sp.weighting else spec.to_query_string(full=True),
    }


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    ok = table["estimable"].to_numpy(bool)
    order = list(table.index[ok][np.argsort(table.loc[ok, "HR"].to_numpy(float), kind="stable")]) + list(table.index[~ok])
    out = table.loc[order].reset_index(drop=True)
    rank = np.zeros(len(out), dtype=int)
    rank[: int(ok.sum())] = np.arange(1, int(ok.sum()) + 1)
    out.insert(0, "rank", rank)
    return out


def display_table(curve: SpecCurve) -> pd.DataFrame:
    """The table as a page shows it: choices in words, HR (95% CI), patients and events, a mark for the pins.

    Examples
    --------
    >>> from core import cohort
    >>> list(display_table(run(cohort.demo(), AnalysisSpec())).columns)[:3]
    ['#', 'Pinned', 'Immortal time']
    """
    from core.format import fmt_ci

    t = curve.table
    pinned = [", ".join(w for w, on in (("primary", p), ("this view", c)) if on) for p, c in zip(t["primary"], t["current"],
                                                                                             strict=True)]
    return pd.DataFrame({
        "#": [str(r) if r else "—" for r in t["rank"]],
        "Pinned": pinned,
        **{d: t[d] for d in DIMENSIONS},
        "HR (95% CI)": [fmt_ci(h, lo, up, 2) if ok else "no estimate"
                        for h, lo, up, ok in zip(t["HR"], t["lower"], t["upper"], t["estimable"], strict=True)],
        "Patients (operated / chemotherapy only)": [f"{a} / {b}" for a, b in zip(t["patients_surgery"],
                                                                                  t["patients_chemotherapy"], strict=True)],
        "Events (operated / chemotherapy only)": [f"{a} / {b}" for a, b in zip(t["events_surgery"],
                                                                                t["events_chemotherapy"], strict=True)],
        "In the grid": ["yes" if g else "no" for g in t["in_grid"]],
        "Why no estimate": t["reason"],
    })


def methods_sentence(curve: SpecCurve) -> str:
    """The specification curve in the methods paragraph of a report.

    Examples
    --------
    >>> methods_sentence(SpecCurve(pd.DataFrame(), 51, 0, 0, math.nan)).startswith("As a check of robustness")
    True
    """
    lm = ", ".join(f"{v:g}" for v in LANDMARKS)
    sets = "; ".join(f"{name}: " + ", ".join(label(c) for c in cov) for name, cov in PROPENSITY_COVARIATE_SETS.items())
    return (f"As a check of robustness, a specification curve (Simonsohn, Simmons and Nelson 2020) re-estimated the "
            f"hazard ratio under {curve.n_grid} combinations of analysis choices on the same patients: a landmark "
            f"analysis at {lm} months with {len(PROPENSITY_COVARIATE_SETS)} propensity covariate sets ({sets}), "
            "adjusted by 1:1 matching without or 1:2 matching with replacement, each with or without a caliper of "
            "0.2 SD of the logit, or by weighting the patients not operated by the odds of their propensity score "
            "(average effect in the operated, ATT; weighted Cox model with a robust variance); and a Cox model with "
            "surgery as a time-dependent covariate with each covariate set. The naive comparison was not included. "
            "The share of specifications with a hazard ratio below 1 and their median are descriptive, not a test.")


#: Count columns of :attr:`SpecCurve.table`: each total, then its two arms.
COUNT_COLUMNS: dict[str, tuple[str, str]] = {
    "patients": ("patients_surgery", "patients_chemotherapy"),
    "events": ("events_surgery", "events_chemotherapy"),
}


def export_table(curve: SpecCurve, *, k: int | None = None) -> pd.DataFrame:
    """The numeric table for download: every column of :attr:`SpecCurve.table` (named as
    :data:`EXPORT_NAMES` says), numbers as numbers.

    With a small-cell threshold ``k``, counts from 1 to k-1 become ``"<k"``, with a second cell
    hidden where a total would give a hidden arm away, and counts quoted in the reasons too.

    Examples
    --------
    >>> t = pd.DataFrame({"patients": [12], "patients_surgery": [4], "patients_chemotherapy": [8],
    ...                   "events": [12], "events_surgery": [4], "events_chemotherapy": [8],
    ...                   "reason": ["only 4 operated patients"]})
    >>> out = export_table(SpecCurve(t, 1, 0, 0, math.nan), k=11)
    >>> [str(v) for v in out.loc[0, ["patients", "patients_surgery", "patients_chemotherapy", "note"]]]
    ['12', '<11', '<11', 'only <11 operated patients']
    """
    from core import export

    out = curve.table.copy()
    if k is not None:
        for total, arms in COUNT_COLUMNS.items():
            out = export.suppress_small_counts(out, list(arms), k=k, total_column=total)
        out = export.suppress_text_counts(out, k=k)
    return out.rename(columns=EXPORT_NAMES)


#: Column names of the download (each defined in :data:`core.export_notes.COLUMN_NOTES`).
EXPORT_NAMES: dict[str, str] = {
    "Immortal time": "immortal_time", "Landmark": "landmark", "Covariates": "covariate_set", "Caliper": "caliper",
    "Adjustment": "adjustment", "HR": "hr", "lower": "hr_lower_95", "upper": "hr_upper_95", "reason": "note",
    "primary": "primary_analysis", "current": "this_view", "settings": "view_settings",
}


__all__ = ["run", "grid", "choices", "same_estimate", "Specification", "SpecCurve", "display_table", "export_table", "methods_sentence",
           "LANDMARKS",
           "CALIPERS", "MATCHINGS", "IMMORTAL_TIME", "DIMENSIONS", "WHAT_IT_SHOWS"]
