"""Display tables built from an :class:`~core.analysis.AnalysisResult` (formatted text, ready to show).

The numeric versions of the same numbers live on the result itself (for exports).
"""

from __future__ import annotations

import pandas as pd

from core.analysis import AnalysisResult
from core.dictionary import Arm
from core.export_tables import comparison as export_comparison
from core.export_tables import time_origin
from core.figures import arm_label
from core.format import fmt_ci, fmt_interval, fmt_num, fmt_p, fmt_p_eq, fmt_pct
from core.spec import EVENT_WORDS

_YEARS = ((12.0, "1-year survival"), (24.0, "2-year survival"), (36.0, "3-year survival"),
          (60.0, "5-year survival"))


def estimates_table(result: AnalysisResult) -> pd.DataFrame:
    """Per arm: patients, events (deaths for OS), median with CI and 1/2/3-year survival, one column per arm.

    Examples
    --------
    >>> from core import analysis, cohort
    >>> from core.spec import AnalysisSpec
    >>> t = estimates_table(analysis.run(cohort.demo(), AnalysisSpec()))
    >>> list(t.columns), t.index[0]
    (['Operated by 6 months', 'Not operated by 6 months'], 'Patients')
    """
    events = EVENT_WORDS[result.spec.endpoint].capitalize() + "s"
    cols = {}
    for c in result.curves:
        at = c.at_times.set_index("time") if len(c.at_times) else pd.DataFrame(columns=["n_risk", "survival"])
        values = {
            "Patients": str(c.n),
            events: str(c.events),
            "Median, months (95% CI)": fmt_ci(c.median, c.median_lower, c.median_upper, 1),
        }
        for t, name in _YEARS:
            row = at.loc[t] if t in at.index else None
            if row is not None and row["n_risk"] >= 1:
                values[name] = f"{fmt_pct(row['survival'])} ({fmt_pct(row['lower'])}–{fmt_pct(row['upper'])})"
            else:
                values[name] = "—"
        if not c.reliable:
            values["Note"] = c.reason
        cols[arm_label(result, c.arm)] = values
    return pd.DataFrame(cols).fillna("")


def methods_table(result: AnalysisResult) -> pd.DataFrame:
    """The three immortal-time methods side by side, formatted.

    Examples
    --------
    >>> from core import analysis, cohort
    >>> from core.spec import AnalysisSpec
    >>> list(methods_table(analysis.run(cohort.demo(), AnalysisSpec())).columns)
    ['Method', 'HR (95% CI)', 'p', 'Patients (S / C)', 'Deaths (S / C)', 'Note']
    """
    m = result.methods
    events = EVENT_WORDS[result.spec.endpoint].capitalize() + "s"
    return pd.DataFrame({
        "Method": m["method"],
        "HR (95% CI)": [fmt_ci(h, lo, up) for h, lo, up in zip(m["HR"], m["lower"], m["upper"], strict=True)],
        "p": [fmt_p(p) for p in m["p"]],
        "Patients (S / C)": [f"{s} / {c}" for s, c in zip(m["patients_surgery"], m["patients_chemotherapy"], strict=True)],
        f"{events} (S / C)": [f"{s} / {c}" for s, c in zip(m["events_surgery"], m["events_chemotherapy"], strict=True)],
        "Note": m["note"],
    })


#: Short names of the estimators, for a narrow table (the full estimand is in :func:`methods_table`).
SHORT_METHOD_NAMES: dict[str, str] = {"naive": "Naive (biased)", "landmark": "Landmark", "time_dependent": "Time-dependent Cox"}


def methods_compact(result: AnalysisResult) -> pd.DataFrame:
    """The immortal-time methods in three short columns (method, HR with CI, p), for a narrow column.

    Examples
    --------
    >>> from core import analysis, cohort
    >>> from core.spec import AnalysisSpec
    >>> methods_compact(analysis.run(cohort.demo(), AnalysisSpec()))["Method"].tolist()
    ['Naive (biased)', 'Landmark 6 mo', 'Time-dependent Cox']
    """
    full = methods_table(result)
    names = []
    for c in result.comparisons:
        name = SHORT_METHOD_NAMES.get(c.key, c.label)
        names.append(f"{name} {fmt_num(result.spec.landmark_months, 0)} mo" if c.key == "landmark" else name)
    if len(names) != len(full):  # comparisons and methods come from the same registry; never mislabel rows
        names = full["Method"].tolist()
    return pd.DataFrame({"Method": names, "HR (95% CI)": full["HR (95% CI)"], "p": full["p"]})


def headline(result: AnalysisResult) -> str:
    """One sentence with the main estimate, e.g. for a report or a caption.

    Examples
    --------
    >>> from core import analysis, cohort
    >>> from core.spec import AnalysisSpec
    >>> headline(analysis.run(cohort.demo(), AnalysisSpec())).startswith("Hazard ratio")
    True
    """
    hr = result.hr
    if hr is None or not hr.estimated:
        return "No hazard ratio: " + (hr.reason if hr is not None else "no comparison was possible") + "."
    return (f"Hazard ratio {fmt_num(hr.hr, 2)} (95% CI {fmt_num(hr.lower, 2)}–{fmt_num(hr.upper, 2)}), "
            f"p {fmt_p_eq(hr.p)}; {hr.method}.")


def comparison_text(result: AnalysisResult) -> str:
    """The log-rank test and the restricted mean survival times in words (or why they are missing).

    Examples
    --------
    >>> from core import analysis, cohort
    >>> from core.spec import AnalysisSpec
    >>> comparison_text(analysis.run(cohort.demo(), AnalysisSpec())).startswith("Log-rank test p ")
    True
    """
    parts = []
    p = result.logrank_p
    if p == p:
        parts.append(f"Log-rank test p {fmt_p_eq(p)} (exploratory).")
    r = result.rmst
    if r is not None:
        by = dict(zip(r.groups, r.by_group, strict=True))
        arms = ", ".join(f"{arm_label(result, arm).lower()} {fmt_num(by[g].rmst, 1)}"
                         for g, arm in ((1.0, "surgery"), (0.0, "chemotherapy")) if g in by)
        origin = time_origin(result)
        parts.append(f"Restricted mean survival time up to {fmt_num(r.tau, 0)} months from "
                     f"{'the ' if origin.startswith('landmark') else ''}{origin}: {arms} months; difference ("
                     f"{arm_label(result, Arm.SURGERY).lower()} minus {arm_label(result, Arm.CHEMOTHERAPY).lower()}) {fmt_num(r.difference, 1)} months (95% CI "
                     f"{fmt_interval(r.lower, r.upper, 1)}), p {fmt_p_eq(r.p)}.")
    if p != p or r is None:
        said = [w for w in (*result.warnings, *getattr(result, "notes", ())) if "log-rank" in w.lower()]
        missing = " and ".join(x for x, gone in (("Log-rank test", p != p), ("RMST", r is None)) if gone)
        parts.append(f"{missing} not computed" + (f": {said[0]}" if said else "."))
    return " ".join(parts)


def comparison_table(result: AnalysisResult) -> pd.DataFrame:
    """The hazard ratio, log-rank test and restricted mean survival times formatted for display
    (the numbers of :func:`core.export_tables.comparison`).

    Examples
    --------
    >>> from core import analysis, cohort
    >>> from core.spec import AnalysisSpec
    >>> t = comparison_table(analysis.run(cohort.demo(), AnalysisSpec()))
    >>> list(t.columns), t["Comparison"].tolist()[:2]
    (['Comparison', 'Estimate (95% CI)', 'p', 'Note'], ['hazard ratio, surgery vs chemotherapy', 'log-rank test'])
    """
    t = export_comparison(result)
    digits = [2 if unit == "ratio" else 1 for unit in t["unit"]]
    estimate = [
        "—" if est != est else fmt_ci(est, lo, up, d) + (f" {unit}" if unit and unit != "ratio" else "")
        for est, lo, up, d, unit in zip(t["estimate"], t["lower_95"], t["upper_95"], digits, t["unit"], strict=True)
    ]
    quantity = [q if tau != tau else f"{q}, up to {tau:g} months" for q, tau in zip(t["quantity"], t["tau_months"],
                                                                                     strict=True)]
    return pd.DataFrame({"Comparison": quantity, "Estimate (95% CI)": estimate, "p": [fmt_p(p) for p in t["p"]],
                         "Note": t["note"]})


def _subgroup_counts(sub, k: int | None) -> pd.DataFrame:
    from core.subgroups import suppress_subgroup_counts

    return sub.table if k is None else suppress_subgroup_counts(sub.table, k=k)


def subgroup_forest_frame(sub, *, k: int | None = None) -> pd.DataFrame:
    """Rows of a :class:`core.subgroups.SubgroupResult` for :func:`core.figures.forest_plot`.

    The label carries patients and events per arm, so the plot says how much each row rests on.
    With a ``dimension`` column the rows of each subgroup variable follow a header row naming it
    (``header`` True, no marker) and carry only the level's words: short labels leave the plot its
    width at 1280 px. With a small-cell threshold ``k`` the label's counts are suppressed as by
    :func:`core.subgroups.suppress_subgroup_counts` and the totals (hover text) are left out.
    """
    t = _subgroup_counts(sub, k)
    counts = [f"  (S {ns}/{es}, C {nc}/{ec})" for ns, es, nc, ec in zip(
        t["n_surgery"], t["events_surgery"], t["n_chemotherapy"], t["events_chemotherapy"], strict=True)]
    frame = pd.DataFrame({"label": [lab + c for lab, c in zip(t["label"], counts, strict=True)], "hr": t["hr"],
                          "lower": t["lower"], "upper": t["upper"]})
    if k is None:
        frame["n"] = t["n_surgery"] + t["n_chemotherapy"]
        frame["events"] = t["events_surgery"] + t["events_chemotherapy"]
    if "dimension" not in t.columns:
        return frame
    rows, seen, last = [], set(), None
    for i, (dim, lab, c) in enumerate(zip(t["dimension"], t["label"], counts, strict=True)):
        row = frame.iloc[i].to_dict()
        if dim != "Overall" and dim != last:
            rows.append({"label": f"<b>{dim}</b>", "hr": float("nan"), "lower": float("nan"),
                         "upper": float("nan"), "header": True})
            seen.add(rows[-1]["label"])
        last = dim
        if dim != "Overall" and str(lab).startswith(f"{dim}: "):
            row["label"] = str(lab)[len(dim) + 2:] + c
        while row["label"] in seen:  # the same words under two variables: distinct categories on the axis
            row["label"] += "\u200b"
        seen.add(row["label"])
        rows.append({**row, "header": False})
    out = pd.DataFrame(rows)
    return out.astype({"header": bool})


def subgroup_display(sub, *, k: int | None = None, endpoint: str = "os") -> pd.DataFrame:
    """Subgroup table formatted for display: patients and events per arm, HR (CI), p, or why not.

    With a small-cell threshold ``k`` the counts are suppressed as by
    :func:`core.subgroups.suppress_subgroup_counts` (pass the result through
    :func:`core.export.suppress_text_counts` too, for the counts quoted in the notes).
    """
    t = _subgroup_counts(sub, k)
    events = EVENT_WORDS[endpoint] + "s"
    return pd.DataFrame({
        "Subgroup": t["label"],
        f"Surgery (patients / {events})": [f"{n} / {e}" for n, e in zip(t["n_surgery"], t["events_surgery"],
                                                                         strict=True)],
        f"Chemotherapy (patients / {events})": [f"{n} / {e}" for n, e in zip(t["n_chemotherapy"],
                                                                             t["events_chemotherapy"], strict=True)],
        "HR (95% CI)": [fmt_ci(h, lo, up) for h, lo, up in zip(t["hr"], t["lower"], t["upper"], strict=True)],
        "p (exploratory)": [fmt_p(p) for p in t["p"]],
        "Note": t["reason"],
    })


def interaction_display(sub) -> pd.DataFrame:
    """Interaction tests formatted for display."""
    t = sub.interactions
    return pd.DataFrame({
        "Subgroup variable": t["dimension"],
        "Wald chi-square": [fmt_num(x, 2) for x in t["chi2"]],
        "df": t["df"],
        "p (exploratory)": [fmt_p(p) for p in t["p"]],
        "Note": t["note"],
    })


def time_dependent_model_display(result: AnalysisResult) -> pd.DataFrame | None:
    """Every term of the time-dependent Cox model, formatted: term in words, compared with, HR (95% CI), p.

    None when the model gave no estimate (the methods table says why).

    Examples
    --------
    >>> from core import analysis, cohort
    >>> from core.spec import AnalysisSpec
    >>> t = time_dependent_model_display(analysis.run(cohort.demo(), AnalysisSpec()))
    >>> list(t.columns), t.loc[0, "HR (95% CI)"]
    (['Term', 'Compared with', 'HR (95% CI)', 'p'], '0.71 (0.36–1.41)')
    """
    model = next((c.model for c in result.comparisons if c.key == "time_dependent"), None)
    if model is None:
        return None
    t = model.table
    return pd.DataFrame({
        "Term": t["label"],
        "Compared with": t["compared_with"],
        "HR (95% CI)": [fmt_ci(h, lo, up) for h, lo, up in zip(t["hr"], t["lower"], t["upper"], strict=True)],
        "p": [fmt_p(p) for p in t["p"]],
    })


def time_dependent_model_note(result: AnalysisResult) -> str:
    """How the time-dependent Cox model was fitted, in one line ('' without a model)."""
    model = next((c.model for c in result.comparisons if c.key == "time_dependent"), None)
    return model.note if model is not None else ""
