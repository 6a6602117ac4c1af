"""What the columns of exported tables mean, and what the small-cell suppression marks mean.

Every download (CSV zip and Excel, see :func:`core.export.zip_bytes` and
:func:`core.export.xlsx_bytes`) carries its own notes, built here from the table itself:

* the definition of each column whose name is listed in :data:`COLUMN_NOTES` (exact names) or
  matched by :data:`COLUMN_PATTERNS` (e.g. ``survival_at_12_months``): units, time origin,
  the confidence-interval method, what R calls the same number;
* the meaning of every suppression mark found in the cells: ``<k`` (a count from 1 to k-1)
  and :data:`COMPLEMENTARY` (``*``, a count hidden only to protect another one).

The notes are derived from the column names and cells, so they follow whatever table a page
exports (and say nothing about columns they do not know).

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"arm": ["surgery"], "patients": ["<11"], "events": ["*"]})
>>> for line in table_notes(list(t.columns), t.to_numpy().ravel()): print(line.split(":")[0])
arm
patients
events
<11
*
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

#: Marker of a cell suppressed only to protect another cell (its true value is >= k).
COMPLEMENTARY = "*"
#: Months are days / 30.4375 (core.dictionary.DAYS_PER_MONTH), written out for the notes.
_MONTHS = "months (days / 30.4375)"
_SETTINGS = "see 'Filters and settings' in the provenance"
_CI = ("95% confidence limit; Kaplan-Meier limits use the log-log transformation (R: survfit(conf.type = "
       "\"log-log\"); R's default is \"log\")")

#: Definitions of exported column names (exact match).
COLUMN_NOTES: dict[str, str] = {
    "arm": ("treatment arm: surgery = resection of the pancreatic tumour and the liver metastases after "
            "chemotherapy, chemotherapy = chemotherapy alone (landmark analyses: the arm at the landmark)."),
    "step": "step of the patient flow (filters, analysis population, matching).",
    "patients_surgery": "patients in the surgery arm (a count; in the patient flow: after this step).",
    "patients_chemotherapy": "patients in the chemotherapy arm (a count; in the patient flow: after this step).",
    "events_surgery": "events of the endpoint in the surgery arm (a count).",
    "events_chemotherapy": "events of the endpoint in the chemotherapy arm (a count).",
    "time_origin": "where the clock of this table's times starts (the time origin or the landmark).",
    "months_since_landmark": (f"time in {_MONTHS} since the landmark, i.e. since L months after the time origin "
                              f"(L and the origin: {_SETTINGS}, 'Immortal time' and 'Endpoint')."),
    "months_since_chemotherapy_start": f"time in {_MONTHS} since the start of chemotherapy.",
    "months_since_diagnosis": f"time in {_MONTHS} since diagnosis.",
    "n_risk": ("number at risk: patients with follow-up of at least this time (as R's survfit n.risk); for "
               "weighted curves (k:1 matching or matching with replacement) the sum of the matching weights."),
    "n_event": ("events at this time: deaths for overall survival; progression, recurrence or death for event-free "
                "survival (sum of the matching weights for weighted curves)."),
    "n_censor": "patients censored at this time (sum of the matching weights for weighted curves).",
    "n_at_risk_surgery": "number at risk in the surgery arm: patients with follow-up of at least this time (a count).",
    "n_at_risk_chemotherapy": ("number at risk in the chemotherapy arm: patients with follow-up of at least this "
                               "time (a count)."),
    "survival": ("Kaplan-Meier estimate S(t) of the endpoint (overall or event-free survival: 'Endpoint' under "
                 "'Filters and settings'), a proportion from 0 to 1."),
    "se_neg_log_survival": (
        "standard error of -log S(t) (the cumulative-hazard scale), NOT of S(t). Unweighted curves: Greenwood's "
        "formula, equal to R's survfit()$std.err. Weighted curves (k:1 matching or replacement, non-integer "
        "weights): the infinitesimal-jackknife (robust) variance, as R's survfit(weights = , robust = TRUE), "
        "whose $std.err then holds the standard error of S(t) itself = se_neg_log_survival x survival."),
    "survival_lower_95": f"lower {_CI}.",
    "survival_upper_95": f"upper {_CI}.",
    "patients": "patients in the analysis (a count).",
    "events": ("events of the endpoint (a count): deaths for overall survival; progression, recurrence or death "
               "for event-free survival."),
    "median_months": ("median survival time of the endpoint in months from the start of this table's clock "
                      "(time_origin): the first time the curve is at or below 0.5 (as R's print.survfit); empty when "
                      "not reached."),
    "median_lower_95": f"lower {_CI}, read where the limit crosses 0.5; empty when not reached.",
    "median_upper_95": f"upper {_CI}, read where the limit crosses 0.5; empty when not reached.",
    "quantity": "what the row estimates (surgery vs chemotherapy unless it names one arm).",
    "estimate": "the estimate, in the row's unit.",
    "unit": "unit of estimate, lower_95 and upper_95 in this row.",
    "lower_95": "lower 95% confidence limit of the estimate (same unit).",
    "upper_95": "upper 95% confidence limit of the estimate (same unit).",
    "tau_months": ("horizon of the restricted mean survival time in months from the start of the clock: 36 "
                   "months, or the last follow-up time of the arm followed for the shorter time."),
    "p": "two-sided p-value (exploratory unless pre-specified); empty when not computed.",
    "method": "how the hazard ratio was estimated (the naive comparison is biased by immortal time).",
    "hr": "hazard ratio, surgery vs chemotherapy alone (below 1 favours surgery); empty when not estimated (note).",
    "hr_lower_95": "lower 95% confidence limit of the hazard ratio (robust, sandwich, standard error).",
    "hr_upper_95": "upper 95% confidence limit of the hazard ratio (robust, sandwich, standard error).",
    "note": "why a value is missing or should be read with care.",
    # covariate balance and the match (Matching page)
    "term": ("model term: a numeric covariate, or one level of a categorical covariate (CA19-9 on the log(1 + x) "
             "scale; RECIST response as objective response, CR/PR = 1)."),
    "distance": "logit of the propensity score (the linear predictor of the logistic regression; MatchIt's distance).",
    "treated": "1 = surgery arm, 0 = chemotherapy arm (at the landmark in landmark analyses).",
    "matched": "whether the patient is in the matched sample.",
    "pair": "matched set number (MatchIt's subclass).",
    "round": "1 for the first control of an operated patient, 2 for its second (k:1 matching), and so on.",
    "surgery_logit": "logit of the propensity score of the operated patient of the pair.",
    "chemotherapy_logit": "logit of the propensity score of the chemotherapy patient of the pair.",
    "difference": "absolute difference of the two logits (compared with the caliper in logit units).",
    # reviewer checks (Survival page: core/checks.py)
    "chisq": ("chi-square statistic of the proportional-hazards test (scaled Schoenfeld residuals against "
              "Kaplan-Meier-transformed time, as R's cox.zph); GLOBAL = all terms together."),
    "df": "degrees of freedom of the chi-square test.",
    "value": "the value of the quantity named in the same row.",
    "rr": "the hazard ratio converted to the risk-ratio scale for a common outcome (VanderWeele 2017).",
    "evalue": ("E-value: the risk ratio an unmeasured confounder would need with both surgery and the outcome to "
               "explain the estimate (point estimate row) or to move the interval to 1 (confidence limit row)."),
    "distribution": ("prior (sceptical: centred on HR 1, 5% probability of HR < 0.70), data (the estimate alone, "
                     "flat prior) or posterior, all normal on log HR; an aid to interpretation."),
    "lower": "lower limit of the 95% interval of the hazard ratio under this distribution.",
    "upper": "upper limit of the 95% interval of the hazard ratio under this distribution.",
    "sd_log_hr": "standard deviation of log HR under this distribution.",
    "p_below_threshold": "probability that the hazard ratio is below 0.80 under this distribution.",
    "p_below_1": "probability that the hazard ratio is below 1 under this distribution.",
    # every term of the time-dependent Cox model (Survival page)
    "label": "the model term in words.",
    "compared_with": ("what the term's hazard ratio compares: the reference level of a categorical covariate, "
                      "'yes vs no' for a 0/1 covariate, or the step of a number (e.g. per year older)."),
    "hazard_ratio": ("hazard ratio of the term, adjusted for every other term of the model (below 1: lower hazard); "
                     "the surgery row is surgery vs chemotherapy alone."),
    "hazard_ratio_lower_95": "lower 95% confidence limit of the term's hazard ratio (robust, sandwich, standard error).",
    "hazard_ratio_upper_95": "upper 95% confidence limit of the term's hazard ratio (robust, sandwich, standard error).",
    "log_hazard_ratio": "the model coefficient: natural logarithm of the term's hazard ratio (R: coef(fit)).",
    "robust_se_log_hazard_ratio": ("robust (sandwich) standard error of log_hazard_ratio, clustered on the patient "
                                   "(R: sqrt(diag(vcov(fit))) with cluster = patient)."),
    # specification curve (Robustness page: core/speccurve.py)
    "rank": "position of the specification on the curve, sorted by hazard ratio; 0 when there is no estimate.",
    "grid_index": "order of the specification in the grid (then this view and the primary analysis when outside it).",
    "immortal_time": ("how immortal time is handled: landmark analysis (propensity-matched, patients alive at the "
                      "landmark) or Cox model with surgery as a time-dependent covariate."),
    "landmark": "landmark in months after the time origin ('not used' by the time-dependent Cox model).",
    "covariate_set": ("propensity covariate set: Core (4), Default (7) or Extended (10) as listed in covariate_list; "
                      "Other when this view or the primary analysis uses another set."),
    "covariate_list": "the propensity (or time-dependent model) covariates of the specification.",
    "caliper": "caliper in SD of the logit of the propensity score ('none': no caliper; 'not used' without matching).",
    "adjustment": ("how the arms are made comparable: k:1 nearest-neighbour matching on the propensity score (with or "
                   "without replacement), ATT weighting (operated patients weight 1, the others the odds of their "
                   "propensity score; weighted Cox model, robust variance) or Cox regression on the covariates "
                   "(time-dependent model)."),
    "estimable": "whether the specification gives a hazard ratio (else note says why).",
    "in_grid": ("whether the specification belongs to the grid; the share below 1 and the median count the grid's "
                "estimable specifications only."),
    "primary_analysis": "the pre-specified primary analysis's settings, applied to the patients of this view.",
    "this_view": "the settings of the view the table was downloaded from.",
    "view_settings": ("the specification as the query string of a view: open the app with ?<this> to see it (empty "
                      "for ATT weighting, which is not a view setting)."),
}
for _when in ("before", "after"):
    _WHEN = "before matching" if _when == "before" else "after matching (weighted by the matching weights)"
    COLUMN_NOTES[f"mean_treated_{_when}"] = f"mean in the surgery arm {_WHEN}; a proportion for binary terms."
    COLUMN_NOTES[f"mean_control_{_when}"] = f"mean in the chemotherapy arm {_WHEN}; a proportion for binary terms."
    COLUMN_NOTES[f"smd_{_when}"] = (
        f"standardised mean difference {_WHEN}: (mean surgery - mean chemotherapy) divided by the standard deviation "
        "of the surgery arm before matching, sqrt(p(1 - p)) for binary terms (MatchIt's summary() for the treated; "
        "cobalt and tableone standardise differently); |SMD| < 0.1 is the usual threshold.")
    COLUMN_NOTES[f"var_ratio_{_when}"] = (f"variance surgery / variance chemotherapy {_WHEN}; empty for binary "
                                          "terms (as MatchIt).")
del _when, _WHEN

#: Definitions of exported column names matched by a pattern (``{0}`` is the first group).
COLUMN_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"survival_at_(\d+)_months"),
     "Kaplan-Meier survival {0} months after the start of this table's clock (time_origin), a proportion."),
    (re.compile(r"survival_at_(\d+)_months_lower_95"), f"lower {_CI} of the survival {{0}} months after the start."),
    (re.compile(r"survival_at_(\d+)_months_upper_95"), f"upper {_CI} of the survival {{0}} months after the start."),
    (re.compile(r"n_risk_at_(\d+)_months"),
     "number at risk {0} months after the start of this table's clock (patients followed at least that long); "
     "the survival at that time is empty when it is 0 (follow-up too short)."),
)

#: A small-count mark inside a cell ("<11", "<11/45", "only <11 patients"), not "<0.001".
_SMALL_MARK = re.compile(r"<(\d+)(?![\d.])")


def column_note(name: str) -> str | None:
    """The definition of an exported column, or None when the name is not known.

    Examples
    --------
    >>> column_note("survival_at_24_months_upper_95").startswith("upper 95% confidence limit")
    True
    >>> column_note("something else") is None
    True
    """
    if name in COLUMN_NOTES:
        return COLUMN_NOTES[name]
    for pattern, text in COLUMN_PATTERNS:
        m = pattern.fullmatch(name)
        if m:
            return text.format(*m.groups())
    return None


def suppression_marks(cells: Iterable[Any]) -> tuple[list[int], bool]:
    """The thresholds k of the ``<k`` marks and whether a :data:`COMPLEMENTARY` mark occurs in ``cells``.

    Examples
    --------
    >>> suppression_marks(["<11", "only <11 patients", 5, "*", "<0.001", "12 (40%)"])
    ([11], True)
    """
    ks: set[int] = set()
    star = False
    for value in cells:
        if not isinstance(value, str):
            continue
        text = value.strip()
        if text == COMPLEMENTARY:
            star = True
        elif "<" in text:
            ks.update(int(m) for m in _SMALL_MARK.findall(text))
    return sorted(k for k in ks if k >= 2), star


def legend(ks: Sequence[int], star: bool) -> list[str]:
    """Lines explaining the marks: one per threshold k, and one for ``*`` when it occurs.

    Examples
    --------
    >>> legend([11], True)[0]
    '<11: a count from 1 to 10, hidden by small-cell suppression (k = 11).'
    """
    lines = [f"<{k}: a count from 1 to {k - 1}, hidden by small-cell suppression (k = {k})." for k in ks]
    if star:
        lines.append(f"{COMPLEMENTARY}: a count hidden only so that a hidden count cannot be recovered by subtraction "
                     "from a known total (complementary suppression; its true value is not small).")
    return lines


def table_notes(columns: Sequence[Any], cells: Iterable[Any]) -> list[str]:
    """Notes of one exported table: ``column: definition`` for the known columns, then the legend of
    the suppression marks found in ``cells`` (empty when nothing is known or marked).

    Parameters
    ----------
    columns : sequence
        Column names (non-text names are ignored).
    cells : iterable
        The table's cell values (only text cells can hold a mark).

    Returns
    -------
    list of str
    """
    out = []
    for name in columns:
        note = column_note(name) if isinstance(name, str) else None
        if note is not None:
            out.append(f"{name}: {note}")
    return out + legend(*suppression_marks(cells))
