"""The one-click report of the current view: every section of the dashboard in one HTML file.

Examples
--------
>>> from core import analysis, cohort, subgroups
>>> from core.spec import AnalysisSpec
>>> c = cohort.demo(); spec = AnalysisSpec()
>>> html = study_report_html(c, spec, analysis.run(c, spec), subgroups.subgroup_table(c, spec),
...                          provenance={"View URL": "http://localhost:8501/"})
>>> html.count('class="plotly-graph-div') >= 4
True
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from core import analysis, figures, outcomes, table1, tables
from core.dictionary import Arm, C
from core.report import methods_paragraph, report_html

TITLE = "PDAC with synchronous liver metastases: surgery after chemotherapy vs chemotherapy alone"


def sections(cohort, spec, result: analysis.AnalysisResult, subgroup_result) -> list[tuple[str, list]]:
    """The report's sections as ``(heading, items)`` for :func:`core.report.report_html`."""
    out: list[tuple[str, list]] = []
    summary = [tables.headline(result), "Filters and settings:\n\n" + spec.describe()]
    if result.warnings:
        summary.append("Warnings: " + " ".join(result.warnings))
    out.append(("Summary", summary + [figures.flow_figure(result.flow), result.flow]))
    if result.curves:
        km = figures.matched_km_figure(result)
        out.append(("Overall survival", [km, tables.estimates_table(result).reset_index(names=""),
                                         "Immortal-time methods side by side:", tables.methods_table(result)]))
    if result.balance is not None and len(result.balance):
        out.append(("Propensity-score matching", [
            figures.love_plot(result.balance),
            result.balance.reset_index(names="covariate").round(3),
            pd.DataFrame({"item": list(analysis.matching_card(result)),
                          "value": list(analysis.matching_card(result).values())}),
        ]))
        t1 = table1.table_one_before_after(result)
        shown = t1.drop(columns=["variable", "level"])
        shown.attrs = {}
        out.append(("Table 1", [shown, "\n\n".join(t1.attrs.get("footnotes", ()))]))
    if subgroup_result is not None and not subgroup_result.table.empty:
        out.append(("Subgroups (exploratory)", [
            figures.forest_plot(tables.subgroup_forest_frame(subgroup_result),
                                overall=subgroup_result.overall.hr if subgroup_result.overall else None),
            tables.subgroup_display(subgroup_result), tables.interaction_display(subgroup_result),
        ]))
    operated = result.filtered.data[result.filtered.data[C.TREATMENT_GROUP] == Arm.SURGERY]
    if len(operated):
        items: list = []
        rfs = outcomes.survival_by(operated, "rfs", C.METS_GROUP, min_at_risk=spec.min_at_risk)
        items += ["Recurrence-free survival after surgery by metastasis group:", rfs.display()]
        items += ["Short-term outcomes by pancreatic procedure:", outcomes.short_term_outcomes(operated).reset_index(names="")]
        out.append(("Surgical outcomes (operated patients)", items))
    return out


def study_report_html(cohort, spec, result: analysis.AnalysisResult, subgroup_result, *,
                      provenance: Mapping[str, str]) -> str:
    """The self-contained HTML report of the view (figures interactive, tables, provenance, methods)."""
    pairs = result.match.n_treated_matched if result.match is not None else None
    methods = methods_paragraph(spec, n_surgery=result.filtered.n_surgery, n_chemotherapy=result.filtered.n_chemotherapy,
                                n_matched_pairs=pairs, tau=result.rmst.tau if result.rmst is not None else None)
    return report_html(TITLE, sections(cohort, spec, result, subgroup_result), provenance, methods)
