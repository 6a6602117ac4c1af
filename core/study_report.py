"""The one-click report of the current view: every section of the dashboard in one HTML file.

With a small-cell threshold ``k`` (the app's suppression switch), every table and figure of the
report is suppressed as on the pages: counts from 1 to k-1 show as ``"<k"``, with complementary
suppression (:data:`core.export.COMPLEMENTARY`) where a shown total would give them away (see
:func:`sections`).

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

from core import analysis, centre, export, figures, outcomes, pathology, table1, tables
from core import speccurve as speccurve_mod
from core.cohort import optional_columns_recorded
from core.dictionary import Arm, C
from core.report import methods_paragraph, report_html
from core.speccurve import SpecCurve

TITLE = "PDAC with synchronous liver metastases: surgery after chemotherapy vs chemotherapy alone"


def _check_k(k: int | None) -> int | None:
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise ValueError("k must be an integer of at least 2, or None (no suppression)")
    return k


def suppression_sentence(k: int) -> str:
    """The report's statement that small-cell suppression with threshold ``k`` was applied.

    Examples
    --------
    >>> suppression_sentence(11).startswith("Small-cell suppression (k = 11) was applied")
    True
    """
    return (f"Small-cell suppression (k = {k}) was applied to every table and figure of this report: <{k} is a "
            f"count from 1 to {k - 1}; {export.COMPLEMENTARY} is a count hidden only so that a hidden count cannot "
            "be recovered by subtraction from a known total.")


def _balance(balance: pd.DataFrame, k: int | None) -> pd.DataFrame:
    """The balance table as a report table; with ``k``, the means of binary terms blanked."""
    return export.blank_binary_means(balance.reset_index(names="covariate").round(3), k=k)


def _time_dependent_model(result: analysis.AnalysisResult, k: int | None) -> list:
    """The whole time-dependent Cox model (every term), with how it was fitted; nothing without a model."""
    model = tables.time_dependent_model_display(result)
    if model is None:
        return []
    return ["Time-dependent Cox model, every term (each hazard ratio adjusted for the other rows):", model,
            export.suppress_in_text(tables.time_dependent_model_note(result), k=k)]


#: Caption of the table of the dictionary 1.1 columns recorded (section Table 1).
RECORDED_1_1 = ("Patients with a value in the columns new in data dictionary 1.1 (optional: restaging, "
                "multidisciplinary decision, exploration and end-of-chemotherapy dates, CEA; a 1.0 file has none). "
                "A chemotherapy-group patient with an exploration date was explored but not resected.")


def sections(cohort, spec, result: analysis.AnalysisResult, subgroup_result, *,
             k: int | None = None, speccurve: SpecCurve | None = None,
             primary_status: str | None = None, ccw_result=None) -> list[tuple[str, list]]:
    """The report's sections as ``(heading, items)`` for :func:`core.report.report_html`.

    Parameters
    ----------
    cohort : core.cohort.Cohort
        The active cohort.
    spec : AnalysisSpec
        The view's settings.
    result : AnalysisResult
        ``core.analysis.run(cohort, spec)``.
    subgroup_result : SubgroupResult or None
        ``core.subgroups.subgroup_table(cohort, spec)``, or None to leave the section out.
    k : int, optional
        Small-cell threshold (None: no suppression). As on the pages: the flow (table and
        figure) and the numbers at risk of the KM figure (as ``ui.downloads.suppress``); the
        estimates, RFS-by-group and subgroup tables (as ``ui.downloads.shown``); Table 1
        (:func:`core.table1.suppress_table_one`); subgroup counts and forest labels
        (``k=`` of :func:`core.tables.subgroup_display` and :func:`core.tables.subgroup_forest_frame`);
        short-term outcomes (``k=`` of :func:`core.outcomes.short_term_outcomes`); counts quoted
        in notes and warnings (:func:`core.export.suppress_text_counts`); bare counts in text cells
        (estimates' patients and deaths, matching card: :func:`core.export.hide_bare_counts`),
        the immortal-time methods table, the numbers at risk in the KM hover text
        (:func:`core.export.hide_hover_at_risk`) and the means of binary terms in the balance
        table (proportions: :func:`core.export.blank_binary_means`); the specification curve's
        counts per arm and reasons (``ui.downloads.shown`` of its table).
    speccurve : SpecCurve, optional
        ``core.speccurve.run(cohort, spec, primary=...)``: adds the section "Robustness:
        specification curve" (None leaves it out).
    primary_status : str, optional
        :func:`core.primary.status_line` of the view: the summary says whether it is the
        pre-specified primary analysis or an exploration.
    ccw_result : CcwResult, optional
        ``core.ccw.run(cohort, spec, grace=...)``: the target-trial section (clone-censor-weight);
        None leaves it out. With ``k``, its counts in text and its clone table are suppressed as well.

    Returns
    -------
    list of (str, list)

    Examples
    --------
    >>> from core import cohort as cohort_mod
    >>> from core.spec import AnalysisSpec
    >>> c = cohort_mod.demo(); spec = AnalysisSpec(); res = analysis.run(c, spec)
    >>> [h for h, _ in sections(c, spec, res, None)][:2]
    ['Summary', 'Overall survival']
    >>> dict(sections(c, spec, res, None, k=11))["Summary"][-1].startswith("Small-cell suppression (k = 11)")
    True
    """
    k = _check_k(k)
    out: list[tuple[str, list]] = []
    summary = [export.suppress_in_text(tables.headline(result), k=k)]
    if result.curves:
        summary.append(export.suppress_in_text(tables.comparison_text(result), k=k))
    summary.append("Filters and settings:\n\n" + spec.describe())
    if primary_status:
        summary.append(primary_status)
    if result.warnings:
        summary.append(export.suppress_in_text("Warnings: " + " ".join(result.warnings), k=k))
    flow = result.flow
    if k is not None:
        flow = export.suppress_text_counts(export.suppress_small_counts(flow, list(Arm.ALL), k=k), k=k)
    summary_items = summary + [figures.flow_figure(flow), flow]
    if k is not None:
        summary_items.append(suppression_sentence(k))
    out.append(("Summary", summary_items))
    if result.curves:
        risk = export.suppress_formatted(result.risk_table, k=k)
        km = export.hide_hover_at_risk(figures.matched_km_figure(result, risk_table=risk), k=k)
        estimates = export.hide_bare_counts(export.suppress_formatted(tables.estimates_table(result), k=k), k=k)
        comparison = export.suppress_formatted(tables.comparison_table(result), k=k)
        out.append(("Overall survival", [km, estimates.reset_index(names=""),
                                         "Surgery vs chemotherapy alone (log-rank test and restricted mean survival "
                                         "time: exploratory):", comparison,
                                         "Immortal-time methods side by side:", export.suppress_formatted(tables.methods_table(result), k=k),
                                         *_time_dependent_model(result, k)]))
    if ccw_result is not None:
        out.append(("Target trial: resect within G months vs do not resect", _ccw_items(ccw_result, k)))
    if result.balance is not None and len(result.balance):
        card = analysis.matching_card(result)
        card_table = pd.DataFrame({"item": list(card), "value": list(card.values())})
        if k is not None:
            card_table = export.hide_bare_counts(export.suppress_text_counts(card_table, k=k), k=k)
        out.append(("Propensity-score matching", [figures.love_plot(result.balance), _balance(result.balance, k),
                                                  card_table]))
        t1 = table1.table_one_before_after(result)
        if k is not None:
            t1 = table1.suppress_table_one(t1, k=k)
        shown = t1.drop(columns=["variable", "level"])
        shown.attrs = {}
        recorded = export.suppress_formatted(optional_columns_recorded(cohort.data), k=k)
        out.append(("Table 1", [shown, "\n\n".join(t1.attrs.get("footnotes", ())), RECORDED_1_1, recorded]))
    centre_items = _centres(cohort, spec, k)
    if centre_items:
        out.append(("Centres", centre_items))
    if subgroup_result is not None and not subgroup_result.table.empty:
        interactions = tables.interaction_display(subgroup_result)
        if k is not None:
            interactions = export.suppress_text_counts(interactions, k=k)  # notes only: df is not a count
        out.append(("Subgroups (exploratory)", [
            figures.forest_plot(tables.subgroup_forest_frame(subgroup_result, k=k),
                                overall=subgroup_result.overall.hr if subgroup_result.overall else None),
            *subgroup_result.flags,
            export.suppress_formatted(tables.subgroup_display(subgroup_result, k=k), k=k), interactions,
            *(export.suppress_in_text(n, k=k) for n in subgroup_result.notes),
        ]))
    if speccurve is not None:
        out.append(("Robustness: specification curve", _speccurve_items(speccurve, primary_status, k)))
    operated = result.filtered.data[result.filtered.data[C.TREATMENT_GROUP] == Arm.SURGERY]
    if len(operated):
        items: list = []
        rfs = outcomes.survival_by(operated, "rfs", C.METS_GROUP, min_at_risk=spec.min_at_risk)
        items += ["Recurrence-free survival after surgery by metastasis group:", export.suppress_formatted(rfs.display(), k=k)]
        items += ["Short-term outcomes by pancreatic procedure:",
                  export.suppress_formatted(outcomes.short_term_outcomes(operated, k=k), k=k).reset_index(names="")]
        items += _operated_items(result.filtered.data, operated, spec, k)
        out.append(("Surgical outcomes (operated patients)", items))
    return out


def _km(by: outcomes.GroupedSurvival, x_title: str, spec, k: int | None):
    """A Kaplan-Meier figure of grouped curves with its (suppressed) numbers at risk, as on the page."""
    max_t = max((float(c["time"].max()) for c in by.curves.values() if len(c)), default=0.0)
    risk = export.suppress_formatted(by.risk_table(analysis.risk_times(max_t)), k=k)
    fig = figures.km_figure(by.curves, risk, medians=by.medians, min_at_risk=spec.min_at_risk, show_ci=False,
                            x_title=x_title, y_title=by.endpoint_label, labels={g: g for g in by.curves})
    return export.hide_hover_at_risk(fig, k=k)


def _operated_items(data: pd.DataFrame, operated: pd.DataFrame, spec, k: int | None) -> list:
    """Pathology, OS by pathology, adjuvant chemotherapy (3-month post-operative landmark) and the whole prognostic
    Cox model of the operated, as on the Surgical outcomes page with its default choices."""
    items: list = []
    path = pathology.pathology_table(operated, k=k)
    items += ["Pathology of the operated patients (percent of the patients with an assessed value). "
              + path.definition, path.display()]
    by_path = pathology.survival_by_pathology(data, origin=spec.origin, landmark=spec.landmark_months,
                                              min_at_risk=spec.min_at_risk)
    items += [f"Overall survival by pathology of the resected liver metastases, from the {spec.landmark_months:g}-month "
              "landmark. " + by_path.design,
              _km(by_path.by, f"Months since the {spec.landmark_months:g}-month landmark", spec, k),
              export.suppress_formatted(by_path.by.display(), k=k),
              export.suppress_in_text(" ".join(by_path.by.notes), k=k)]
    adj = outcomes.adjuvant_landmark(operated, outcomes.DEFAULT_ADJUVANT_LANDMARK, "os_from_surgery",
                                     min_at_risk=spec.min_at_risk)
    flow = adj.exclusions()
    if k is not None:
        flow = export.suppress_small_counts(flow, ["patients"], k=k)
    items += [f"Adjuvant chemotherapy, from {outcomes.DEFAULT_ADJUVANT_LANDMARK} months after surgery (overall "
              "survival; Cox model, Efron ties). " + adj.estimand,
              _km(adj.by, f"Months since {outcomes.DEFAULT_ADJUVANT_LANDMARK} months after surgery", spec, k),
              export.suppress_formatted(adj.by.display(), k=k), export.suppress_in_text(adj.in_words(), k=k), flow,
              *([adj.ph_reading()] if adj.estimated else [])]
    cox = outcomes.prognostic_cox(operated, "os_from_surgery")
    missing = cox.missing_display()
    if k is not None:
        missing = export.suppress_small_counts(missing, [c for c in missing.columns if c != "Variable"], k=k)
    items += ["Prognostic factors of overall survival from surgery (multivariable Cox model, Efron ties, complete "
              "cases; every term). A Lewis-negative patient's CA19-9 is treated as missing.",
              cox.display() if cox.fitted else str(cox.reason), *([cox.ph_reading()] if cox.fitted else []),
              "Patients left out for missing values, per variable:", missing]
    return items


def _speccurve_items(curve: SpecCurve, primary_status: str | None, k: int | None) -> list:
    """The report's specification-curve section: what it shows, the summary, the figure, the table."""
    items: list = [speccurve_mod.WHAT_IT_SHOWS]
    if primary_status:
        items.append(primary_status)
    items.append(curve.summary())
    if curve.table["estimable"].any():
        items.append(figures.speccurve_figure(curve.table, dimensions=speccurve_mod.DIMENSIONS, median=curve.median_hr))
    items += [export.suppress_in_text(n, k=k) for n in curve.notes]
    items.append(export.suppress_formatted(speccurve_mod.display_table(curve), k=k))
    return items


def _centres(cohort, spec, k: int | None) -> list:
    """The Centres section: leave-one-centre-out forest plot and table, patients and SMD per centre
    (empty when no patient is left)."""
    loco = centre.leave_one_centre_out(cohort, spec)
    if loco.table.empty:
        return []
    balance = centre.centre_balance(cohort, spec)

    def suppressed(table: pd.DataFrame) -> pd.DataFrame:
        if k is None:
            return table
        ints = [c for c in table.columns if pd.api.types.is_integer_dtype(table[c])]
        return export.suppress_text_counts(export.suppress_small_counts(table, ints, k=k), k=k)

    items: list = [
        f"Leave one centre out: the comparison ({loco.method}) re-run with each centre left out in turn; the dashed "
        "line is the hazard ratio with every centre.",
        export.suppress_in_text(loco.reading, k=k),
        figures.forest_plot(loco.forest_frame(), overall=loco.full.hr if loco.full.estimated else None),
        suppressed(centre.loco_display(loco, k=k)),
    ]
    if balance.reason:
        items.append(f"No balance per centre: {balance.reason}.")
    else:
        items += [f"Patients per arm and centre. {balance.sample}", suppressed(centre.counts_display(balance)),
                  "Standardised mean difference after matching within each centre (difference in means divided by "
                  "the SD of the whole surgery group before matching):",
                  balance.smd_wide("after").round(2).reset_index()]
    return items


def _ccw_items(res, k: int | None) -> list:
    """The target-trial section: question, headline, weighted curves, estimates, censoring models, clones."""
    from core import ccw

    items: list = ["Question answered: " + res.estimand,
                   export.suppress_in_text(ccw.headline(res), k=k),
                   export.suppress_in_text(ccw.counts_in_words(res), k=k)]
    items += [export.suppress_in_text(n, k=k) for n in res.notes]
    if len(res.km):
        items.append(figures.ccw_figure(res.km, res.labels, grace=res.grace))
    if res.estimated:
        items.append(ccw.display_table(res))
        items.append(f"Hazard ratio (weighted Cox, robust SE clustered on the patient): "
                     f"{res.hr:.2f} ({res.hr_lower:.2f}-{res.hr_upper:.2f}). Intervals of the differences: bootstrap "
                     f"of patients, {res.n_boot} replicates, seed {res.seed} (percentile).")
    items += [f"{strategy}: {words}." for strategy, words in res.censoring.items()]
    if len(res.clones):
        clones = res.clones.round(2)
        if k is not None:
            clones = export.suppress_small_counts(clones, ["clones", "censored_deviating", "events"], k=k)
        items.append(clones)
    return items


def study_report_html(cohort, spec, result: analysis.AnalysisResult, subgroup_result, *,
                      provenance: Mapping[str, str], k: int | None = None, speccurve: SpecCurve | None = None,
                      primary_status: str | None = None, ccw_result=None) -> str:
    """The self-contained HTML report of the view (figures interactive, tables, provenance, methods).

    Parameters
    ----------
    cohort, spec, result, subgroup_result, ccw_result
        As :func:`sections`.
    provenance : mapping of str to str
        Provenance of the view (see :func:`core.provenance.provenance`).
    k : int, optional
        Small-cell threshold (None: no suppression): every table and figure is suppressed as in
        :func:`sections`, the patient counts of the methods paragraph as well, and the summary
        says that suppression was applied.
    speccurve, primary_status : optional
        As :func:`sections`; with a specification curve the methods paragraph describes it.

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> from core import cohort as cohort_mod
    >>> from core.spec import AnalysisSpec
    >>> c = cohort_mod.demo(); spec = AnalysisSpec(); res = analysis.run(c, spec)
    >>> "Small-cell suppression (k = 11)" in study_report_html(c, spec, res, None, provenance={}, k=11)
    True
    """
    k = _check_k(k)
    methods = methods_paragraph(spec, result=result, k=k)
    if speccurve is not None:
        methods += " " + speccurve_mod.methods_sentence(speccurve)
    parts = sections(cohort, spec, result, subgroup_result, k=k, speccurve=speccurve, primary_status=primary_status,
                     ccw_result=ccw_result)
    title = TITLE
    if is_synthetic(cohort):  # every copy of the demo says so, on its first line
        title = f"{TITLE} (SYNTHETIC DEMO DATA)"
        parts = [("Synthetic demo data", [SYNTHETIC_NOTE]), *parts]
    return report_html(title, parts, provenance, methods)


#: What a report or figure made from the embedded demo cohort says about itself.
SYNTHETIC_NOTE = ("Synthetic demo data: simulated patients with a known true hazard ratio of surgery (0.70). These "
                  "are not study results and must not be cited as such.")


def is_synthetic(cohort) -> bool:
    """True for the embedded synthetic demo cohort (also when its file was uploaded again).

    Examples
    --------
    >>> from core import cohort as cohort_mod
    >>> is_synthetic(cohort_mod.demo())
    True
    """
    from core import cohort as cohort_mod

    return cohort.sha256 == cohort_mod.demo().sha256
