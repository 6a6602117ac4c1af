"""The numeric tables behind the Overview and Survival pages, as they are downloaded and reported.

One row per estimate, numbers as numbers (never formatted text), units in the column names
(``months_since_landmark``, ``median_months``, ``survival_at_12_months``) or in a ``unit``
column, and every column defined inside the download itself (:mod:`core.export_notes`).
With a small-cell threshold ``k`` the counts are suppressed as on the pages (``"<k"``).

Examples
--------
>>> from core import analysis, cohort
>>> from core.spec import AnalysisSpec
>>> res = analysis.run(cohort.demo(), AnalysisSpec())
>>> comparison(res)["quantity"].tolist()[1:]
['log-rank test', 'restricted mean survival time, surgery', 'restricted mean survival time, chemotherapy', \
'restricted mean survival time difference, surgery minus chemotherapy']
>>> time_column(res), time_origin(res)
('months_since_landmark', 'landmark at 6 months after the start of chemotherapy')
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core import export
from core.analysis import REPORT_TIMES, AnalysisResult, km_table
from core.dictionary import Arm

_ORIGIN = {"chemo_start": "the start of chemotherapy", "diagnosis": "diagnosis"}
_TIME_COLUMNS = ("months_since_landmark", "months_since_chemotherapy_start", "months_since_diagnosis")


def time_column(result: AnalysisResult) -> str:
    """Name of the time column of the curves' tables: ``months_since_<start of the clock>``.

    Read from ``result.time_label`` ("Months since the landmark" -> ``months_since_landmark``).
    """
    name = result.time_label.lower().replace(" the ", " ").strip().replace(" ", "_")
    if name not in _TIME_COLUMNS:
        raise ValueError(f"unexpected time label {result.time_label!r}")
    return name


def time_origin(result: AnalysisResult) -> str:
    """Where the clock of the curves starts, in words (the landmark or the time origin)."""
    spec = result.spec
    origin = _ORIGIN[spec.origin]
    if time_column(result) == "months_since_landmark":
        return f"landmark at {spec.landmark_months:g} months after {origin}"
    return origin


def _suppressed(table: pd.DataFrame, k: int | None) -> pd.DataFrame:
    """Primary suppression of the integer (count) columns and of counts quoted in text (as the pages)."""
    return export.suppress_formatted(table, k=k)


def flow(result: AnalysisResult, *, k: int | None = None) -> pd.DataFrame:
    """Patients per arm at each step: ``step``, ``patients_surgery``, ``patients_chemotherapy``.

    Examples
    --------
    >>> from core import analysis, cohort
    >>> from core.spec import AnalysisSpec
    >>> flow(analysis.run(cohort.demo(), AnalysisSpec())).columns.tolist()
    ['step', 'patients_surgery', 'patients_chemotherapy']
    """
    out = result.flow.rename(columns={Arm.SURGERY: "patients_surgery", Arm.CHEMOTHERAPY: "patients_chemotherapy"})
    return _suppressed(out, k)


def km_estimates(result: AnalysisResult) -> pd.DataFrame:
    """The Kaplan-Meier life tables of both arms (event-level: withheld by the pages under suppression).

    Columns ``arm``, the time column (:func:`time_column`), ``n_risk``, ``n_event``,
    ``n_censor``, ``survival``, ``se_neg_log_survival`` (the standard error of -log S, see
    :data:`core.export_notes.COLUMN_NOTES`), ``survival_lower_95``, ``survival_upper_95``.
    """
    return km_table(result).rename(columns={
        "time": time_column(result), "std_err": "se_neg_log_survival", "lower": "survival_lower_95",
        "upper": "survival_upper_95",
    })


def number_at_risk(result: AnalysisResult, *, k: int | None = None) -> pd.DataFrame:
    """Numbers at risk under the curves, one row per time: the time column, ``n_at_risk_surgery``,
    ``n_at_risk_chemotherapy``.
    """
    risk = result.risk_table
    out = pd.DataFrame({time_column(result): pd.Series(risk.columns, dtype=float)})
    for arm in Arm.ALL:
        out[f"n_at_risk_{arm}"] = (risk.loc[arm].to_numpy(dtype=np.int64) if arm in risk.index
                                   else np.zeros(len(out), dtype=np.int64))
    return _suppressed(out, k)


def estimates(result: AnalysisResult, *, k: int | None = None) -> pd.DataFrame:
    """Per arm: patients, events, median survival and survival at 12, 24 and 36 months, with 95% limits.

    Survival at a time nobody was still followed is left empty (as "—" on the page).

    Examples
    --------
    >>> from core import analysis, cohort
    >>> from core.spec import AnalysisSpec
    >>> t = estimates(analysis.run(cohort.demo(), AnalysisSpec()))
    >>> t.columns.tolist()[:5], t["arm"].tolist()
    (['arm', 'time_origin', 'patients', 'events', 'median_months'], ['surgery', 'chemotherapy'])
    """
    rows = []
    for c in result.curves:
        row: dict[str, object] = {"arm": c.arm, "time_origin": time_origin(result), "patients": int(c.n),
                                  "events": int(c.events), "median_months": c.median,
                                  "median_lower_95": c.median_lower, "median_upper_95": c.median_upper}
        at = c.at_times.set_index("time") if len(c.at_times) else pd.DataFrame()
        for t in REPORT_TIMES:
            name = f"survival_at_{t:g}_months"
            ok = t in at.index and at.loc[t, "n_risk"] >= 1
            row[name] = float(at.loc[t, "survival"]) if ok else math.nan
            row[f"{name}_lower_95"] = float(at.loc[t, "lower"]) if ok else math.nan
            row[f"{name}_upper_95"] = float(at.loc[t, "upper"]) if ok else math.nan
            row[f"n_risk_at_{t:g}_months"] = int(at.loc[t, "n_risk"]) if t in at.index else 0
        row["note"] = "" if c.reliable else c.reason
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out = out.astype({"patients": np.int64, "events": np.int64,
                      **{f"n_risk_at_{t:g}_months": np.int64 for t in REPORT_TIMES}})
    return _suppressed(out, k)


def _not_computed(result: AnalysisResult, what: str) -> str:
    said = [w for w in (*result.warnings, *getattr(result, "notes", ())) if what.lower() in w.lower()]
    return said[0] if said else f"{what} not computed"


def comparison(result: AnalysisResult, *, k: int | None = None) -> pd.DataFrame:
    """Surgery vs chemotherapy alone: the hazard ratio, the log-rank test and the restricted mean
    survival times (each arm and the difference), one row each.

    Columns ``quantity``, ``estimate``, ``lower_95``, ``upper_95``, ``p``, ``unit``,
    ``tau_months`` (RMST horizon), ``time_origin`` and ``note`` (how the number was obtained,
    or why it is missing).
    """
    origin = time_origin(result) if result.curves else ""
    nan = math.nan
    hr = result.hr
    if hr is None:
        hr_row = ("hazard ratio, surgery vs chemotherapy", nan, nan, nan, nan, "ratio", nan, origin,
                  "no comparison was possible")
    else:
        note = hr.method + ("" if hr.reliable or not hr.reason else f"; unreliable: {hr.reason}")
        # the time-dependent model runs on all patients from the time origin, not from the landmark
        hr_origin = _ORIGIN[result.spec.origin] if result.spec.method == "time_dependent" else origin
        hr_row = ("hazard ratio, surgery vs chemotherapy", hr.hr, hr.lower, hr.upper, hr.p, "ratio", nan, hr_origin,
                  note)
    rows = [hr_row]
    p = result.logrank_p
    rows.append(("log-rank test", nan, nan, nan, p, "", nan, origin,
                 "matched sample, unweighted (R: survdiff)" if p == p else _not_computed(result, "log-rank")))
    r = result.rmst
    if r is not None:
        by = dict(zip(r.groups, r.by_group, strict=True))
        for treated, arm in ((1.0, Arm.SURGERY), (0.0, Arm.CHEMOTHERAPY)):
            g = by.get(treated)
            if g is not None:
                rows.append((f"restricted mean survival time, {arm}", g.rmst, g.lower, g.upper, nan, "months", g.tau,
                             origin, "area under the Kaplan-Meier curve up to the horizon tau"))
        rows.append(("restricted mean survival time difference, surgery minus chemotherapy", r.difference, r.lower,
                     r.upper, r.p, "months", r.tau, origin,
                     "standard error from the sum of the two variances (as survRM2::rmst2)"))
    else:
        why = _not_computed(result, "RMST")
        rows.append(("restricted mean survival time difference, surgery minus chemotherapy", nan, nan, nan, nan,
                     "months", nan, origin, why))
    out = pd.DataFrame(rows, columns=["quantity", "estimate", "lower_95", "upper_95", "p", "unit", "tau_months",
                                      "time_origin", "note"])
    return _suppressed(out, k)


def immortal_time_methods(result: AnalysisResult, *, k: int | None = None) -> pd.DataFrame:
    """The three immortal-time methods side by side: ``method``, ``hr``, ``hr_lower_95``,
    ``hr_upper_95``, ``p``, the counts (``patients``, ``events``, and per arm when the result has them)
    and ``note``.
    """
    out = result.methods.rename(columns={"HR": "hr", "lower": "hr_lower_95", "upper": "hr_upper_95"})
    counts = [c for c in out.columns if c.startswith(("patients", "events"))]
    out = out.astype(dict.fromkeys(counts, np.int64))
    return _suppressed(out, k)


def time_dependent_model(result: AnalysisResult) -> pd.DataFrame:
    """Every term of the time-dependent Cox model: ``term``, ``label``, ``compared_with``,
    ``hazard_ratio`` with ``hazard_ratio_lower_95``/``hazard_ratio_upper_95``, ``p``,
    ``log_hazard_ratio`` and ``robust_se_log_hazard_ratio`` (no counts: nothing to suppress).
    Empty (same columns) when the model has no estimate.

    Examples
    --------
    >>> from core import analysis, cohort
    >>> from core.spec import AnalysisSpec
    >>> t = time_dependent_model(analysis.run(cohort.demo(), AnalysisSpec()))
    >>> t.loc[0, "label"], t["term"].tolist()[1]
    ('Surgery (from the day of the operation on)', 'age_at_diagnosis')
    """
    columns = ["term", "label", "compared_with", "hazard_ratio", "hazard_ratio_lower_95", "hazard_ratio_upper_95",
               "p", "log_hazard_ratio", "robust_se_log_hazard_ratio"]
    model = next((c.model for c in result.comparisons if c.key == "time_dependent"), None)
    if model is None:
        return pd.DataFrame(columns=columns)
    return model.table.rename(columns={"hr": "hazard_ratio", "lower": "hazard_ratio_lower_95",
                                       "upper": "hazard_ratio_upper_95", "coef": "log_hazard_ratio",
                                       "se": "robust_se_log_hazard_ratio"})[columns]
