"""Checks a statistical reviewer asks for, on the comparison a view shows.

One pure function, :func:`reviewer_checks`, reads an :class:`~core.analysis.AnalysisResult` and
returns a frozen :class:`ReviewerChecks`:

* the proportional-hazards test of the Cox model behind the hazard ratio (scaled Schoenfeld
  residuals, equal to R ``cox.zph``: :mod:`core.ph`), with the data of its plot;
* the E-value of the hazard ratio and of its confidence limit closest to 1 (:mod:`core.evalue`);
* what the number of events can show (expected precision, :mod:`core.precision`) and a Bayesian
  reading, P(HR < 0.8) under a stated sceptical prior. Both are aids to interpretation.

Examples
--------
>>> from core import analysis, cohort
>>> from core.spec import AnalysisSpec
>>> checks = reviewer_checks(analysis.run(cohort.demo(), AnalysisSpec()))
>>> list(checks.ph.table.index), checks.evalue.evalue > 1
(['treated', 'GLOBAL'], True)
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core import estimators, ph
from core.analysis import AnalysisResult
from core.evalue import EValueResult, evalue_hr
from core.population import EVENT, TIME, TREATED
from core.precision import BayesianReading, ExpectedPrecision, bayesian_reading, expected_precision, sceptical_prior
from core.spec import EVENT_WORDS

__all__ = ["ReviewerChecks", "checks_tables", "reviewer_checks", "THRESHOLD"]

#: The hazard ratio a surgeon would call a worthwhile benefit, for the Bayesian reading.
THRESHOLD = 0.8


@dataclass(frozen=True)
class ReviewerChecks:
    """The reviewer's checks of one view (each None with a reason when it cannot be computed).

    Attributes
    ----------
    comparison : str
        The comparison checked (the proportional-hazards test needs its own sample: for the
        time-dependent model, the matched landmark comparison whose curves are drawn).
    ph, ph_plot, ph_reason
        ``cox.zph`` of the Cox model of that comparison, the plot data of its surgery term, or why not.
    evalue, precision, bayes
        E-value, expected precision at the comparison's events, Bayesian reading (None when there
        is no hazard ratio; ``reason`` says why).
    reason : str
        Why there is no hazard ratio to read ('' when there is one).
    """

    comparison: str
    ph: ph.ZphResult | None
    ph_plot: ph.ZphPlotData | None
    ph_reason: str
    evalue: EValueResult | None
    precision: ExpectedPrecision | None
    bayes: BayesianReading | None
    reason: str


def reviewer_checks(result: AnalysisResult, *, threshold: float = THRESHOLD) -> ReviewerChecks:
    """Proportional hazards, E-value, expected precision and Bayesian reading of a view.

    Parameters
    ----------
    result : AnalysisResult
        What ``core.analysis.run`` returned for the view.
    threshold : float
        The hazard ratio of the Bayesian reading's P(HR < threshold).

    Returns
    -------
    ReviewerChecks
    """
    if not 0 < threshold < 1:
        raise ValueError("threshold must be a hazard ratio between 0 and 1")
    chosen = result.chosen
    tested = chosen if chosen is not None and chosen.sample is not None else next(
        (c for c in result.comparisons if chosen is not None and c.key == chosen.curves_from), None)
    zph = plot = None
    ph_reason = ""
    if chosen is not None and chosen.key == "time_dependent" and chosen.population is not None:
        tested = chosen  # the time-dependent model itself (its episodes, not the landmark match behind the curves)
        if not chosen.estimate.estimated:
            ph_reason = "the time-dependent Cox model gave no hazard ratio here"
        else:
            try:
                zph = estimators.time_dependent_ph(chosen.population.data, result.spec)
                plot = ph.zph_plot_data(zph, TREATED)
            except (ValueError, ArithmeticError) as exc:
                zph, ph_reason = None, f"the test cannot be computed here ({exc})"
    elif tested is None or tested.sample is None or not tested.estimate.estimated:
        ph_reason = "no Cox model was fitted on a sample of its own for this view"
    else:
        try:
            zph = ph.cox_zph(tested.sample, TIME, EVENT, [TREATED], cluster=tested.cluster, weights=tested.weights,
                             strata=tested.strata)
            plot = ph.zph_plot_data(zph, TREATED)
        except (ValueError, ArithmeticError) as exc:
            zph, ph_reason = None, f"the test cannot be computed here ({exc})"
    hr = result.hr
    event_word = EVENT_WORDS[result.spec.endpoint]
    if hr is None or not hr.estimated:
        reason = hr.reason if hr is not None else "no comparison was possible"
        return ReviewerChecks(tested.label if tested else "", zph, plot, ph_reason, None, None, None, reason)
    ev = evalue_hr(hr.hr, hr.lower, hr.upper, what=f"surgery and {event_word}")
    counts = hr.counts
    events = counts.events if counts is not None else hr.events
    allocation = counts.n_surgery / counts.n if counts is not None and counts.n else 0.5
    precision = expected_precision(events, min(max(allocation, 0.01), 0.99), hr=hr.hr) if events > 0 else None
    bayes = bayesian_reading(hr.hr, hr.lower, hr.upper, threshold=threshold, prior=sceptical_prior(),
                             what="surgery")
    return ReviewerChecks(tested.label if tested else "", zph, plot, ph_reason, ev, precision, bayes, "")


def checks_tables(checks: ReviewerChecks, *, k: int | None = None) -> dict[str, pd.DataFrame]:
    """The reviewer's checks as numeric tables for the downloads (sheet name -> table).

    Parameters
    ----------
    checks : ReviewerChecks
    k : int, optional
        Small-cell threshold: an event count from 1 to ``k - 1`` is left out of the precision table.

    Examples
    --------
    >>> from core import analysis, cohort
    >>> from core.spec import AnalysisSpec
    >>> sorted(checks_tables(reviewer_checks(analysis.run(cohort.demo(), AnalysisSpec()))))
    ['Bayesian reading', 'E-value', 'Expected precision', 'Proportional hazards']
    """
    out = {}
    if checks.ph is not None:
        t = checks.ph.table.rename(index={TREATED: "surgery"}).reset_index()
        t.insert(0, "method", checks.comparison)
        out["Proportional hazards"] = t
    if checks.evalue is not None:
        out["E-value"] = checks.evalue.table.reset_index()
    if checks.precision is not None:
        t = checks.precision.table.reset_index()
        if k is not None and 1 <= checks.precision.events < k:
            t = t[t["quantity"] != "events"]
        out["Expected precision"] = t
    if checks.bayes is not None:
        out["Bayesian reading"] = checks.bayes.table.reset_index()
    return out
