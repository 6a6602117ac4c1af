"""Tests of core.study_report: every section present, methods paragraph matching the spec."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from core import analysis, centre, cohort, figures, outcomes, pathology, report, study_report, subgroups, table1, tables
from core.cohort import optional_columns_recorded
from core.dictionary import Arm, C, Regimen
from core.spec import AnalysisSpec
from core.study_report import TITLE, sections, study_report_html


@pytest.fixture(scope="module")
def demo():
    return cohort.demo()


def _html(c, spec):
    result = analysis.run(c, spec)
    return result, study_report_html(c, spec, result, subgroups.subgroup_table(c, spec),
                                     provenance={"View URL": "http://localhost:8501/?x=1", "Generated (UTC)": "now"})


def test_every_section_heading_is_in_the_html(demo):
    _, page = _html(demo, AnalysisSpec())
    for heading in ("Methods", "Summary", "Overall survival", "Propensity-score matching", "Table 1", "Centres",
                    "Subgroups (exploratory)", "Surgical outcomes (operated patients)"):
        assert f"<h2>{html.escape(heading)}</h2>" in page, heading
    assert f"<h1>{html.escape(TITLE)} (SYNTHETIC DEMO DATA)</h1>" in page  # the demo says what it is
    assert html.escape("http://localhost:8501/?x=1") in page
    # flow, KM, love plot, leave-one-centre-out, forest plot; OS by pathology and adjuvant chemotherapy (operated)
    assert page.count('class="plotly-graph-div') == 7
    for item in ("Complete pathological response: no residual tumour", "ypM0 (no viable tumour)",
                 "Overall survival by pathology of the resected liver metastases, from the 6-month landmark",
                 "Adjuvant chemotherapy, from 3 months after surgery", "Hazard ratio, adjuvant chemotherapy vs none",
                 "Patients left out for missing values, per variable", "Of which Lewis-negative (CA19-9)"):
        assert html.escape(item) in page, item


@pytest.mark.parametrize("spec", [
    AnalysisSpec(),
    AnalysisSpec(regimens=(Regimen.FOLFIRINOX, Regimen.MFOLFIRINOX), caliper=0.5, ratio=2, landmark_months=4.5),
    AnalysisSpec(method="naive", caliper=None, replace=True),
])
def test_methods_paragraph_matches_the_spec(demo, spec):
    result, page = _html(demo, spec)
    data = demo.data
    if spec.regimens:
        data = data[data[C.CHEMO_REGIMEN].isin(spec.regimens)]
    n_s = int((data[C.TREATMENT_GROUP] == Arm.SURGERY).sum())
    n_c = int((data[C.TREATMENT_GROUP] == Arm.CHEMOTHERAPY).sum())
    expected = report.methods_paragraph(spec, result=result)
    assert f"<p>{html.escape(expected)}</p>" in page
    if result.match is not None:
        n_m = result.match.n_treated_matched
        assert f"This yielded {n_m} matched {'pairs' if spec.ratio == 1 else 'sets'}." in expected
    else:
        assert "This yielded" not in expected
    assert f"included {n_s} patients who underwent resection" in expected
    assert f"and {n_c} patients who received chemotherapy alone" in expected
    caliper = "without a caliper" if spec.caliper is None else f"within a caliper of {spec.caliper:g} standard deviations"
    assert caliper in expected and f"matched 1:{spec.ratio}" in expected
    if spec.method == "landmark":
        assert f"landmark analysis at {spec.landmark_months:g} months" in expected
    else:
        assert "naive comparison does not account for immortal time" in expected
    if spec.regimens:
        assert "Regimen: FOLFIRINOX, Modified FOLFIRINOX" in expected


def test_report_carries_the_log_rank_test_and_the_rmst(demo):
    from core import survival
    from core.population import EVENT, TIME, TREATED

    result, page = _html(demo, AnalysisSpec())
    m = result.match.matched
    lr = survival.logrank(m[TIME], m[EVENT], m[TREATED])
    tau = min(36.0, m.loc[m[TREATED] == 1, TIME].max(), m.loc[m[TREATED] == 0, TIME].max())
    rm = survival.rmst_difference(m[TIME], m[EVENT], m[TREATED], tau)
    parsed = _parse(page)
    summary = " ".join(parsed["Summary"]["text"])
    def p_text(p):  # as journals print it: "< 0.001" below 0.001, else three decimals
        return "< 0.001" if p < 0.001 else f"= {p:.3f}"

    assert f"Log-rank test p {p_text(lr.p)} (exploratory)." in summary
    assert (f"Restricted mean survival time up to {tau:.0f} months from the landmark at 6 months after the start of "
            "chemotherapy: operated by 6 months ") in summary
    assert (f"difference (operated by 6 months minus not operated by 6 months) {rm.difference:.1f} months (95% CI {rm.lower:.1f}–"
            f"{rm.upper:.1f}), p {p_text(rm.p)}.") in summary
    table = next(t for t in parsed["Overall survival"]["tables"] if t[0][0] == "Comparison")
    rows = {r[0]: r for r in table[1:]}
    assert rows["log-rank test"][2] == p_text(lr.p).replace("= ", "").replace("< ", "<")
    diff = rows[f"restricted mean survival time difference, surgery minus chemotherapy, up to {tau:g} months"]
    assert diff[1] == f"{rm.difference:.1f} ({rm.lower:.1f}–{rm.upper:.1f}) months"
    assert diff[2] == p_text(rm.p).replace("= ", "").replace("< ", "<")


def test_report_says_why_log_rank_and_rmst_are_missing_with_weights(demo):
    _, page = _html(demo, AnalysisSpec(ratio=2))
    summary = " ".join(_parse(page)["Summary"]["text"])
    assert "Log-rank test and RMST not computed: With k:1 matching or replacement the curves are weighted" in summary


def test_sections_without_a_match(demo):
    spec = AnalysisSpec(centres=("nowhere",))
    result = analysis.run(demo, spec)
    got = [h for h, _ in sections(demo, spec, result, None)]
    assert got == ["Summary"]
    summary = dict(sections(demo, spec, result, None))["Summary"]
    assert summary[0].startswith("No hazard ratio")
    assert any(isinstance(x, str) and x.startswith("Warnings: ") for x in summary)


# -- small-cell suppression ---------------------------------------------------------------------------
# Everything below reads the rendered HTML (standard-library parser, no lxml/bs4 in the environment)
# and the figures' JSON in it, and recognises counts by their printed form, independently of
# core.export / core.study_report.
K = 11
PROV = {"View URL": "http://localhost:8501/", "Generated (UTC)": "2026-01-01T00:00:00Z"}
#: A view with small counts everywhere, the flow and the numbers at risk included.
SMALL_SPEC = AnalysisSpec(regimens=(Regimen.GEM, Regimen.GEM_NABPAC), caliper=0.1)
#: Columns whose cells are labels or statistics, not counts (Table 1's "Variable" holds levels such as
#: ECOG "1", the RFS table's "Group" metastasis groups, "df" the interaction tests' degrees of freedom).
LABEL_COLUMNS = {"", "Variable", "Group", "Subgroup", "Subgroup variable", "step", "item", "covariate", "Method", "df"}
_BARE = re.compile(r"^(\d+)$")
_N_PCT = re.compile(r"^(\d+) \(\d+(?:\.\d+)?%\)$")
_N_OF = re.compile(r"^(\d+)/\d+ \(")  # n/N (x%): n is the count (N, the group size, is left by core.outcomes)
_PAIR = re.compile(r"^(\d+) / (\d+)$")
_IN_TEXT = (re.compile(r"\(n=(\d+)\)"), re.compile(r"\bonly (\d+) "), re.compile(r"\bincluded (\d+) patients"),
            re.compile(r"\band (\d+) patients who received"), re.compile(r"\byielded (\d+) matched"),
            re.compile(r"\b(\d+) in the surgery group and (\d+) in the chemotherapy group"),
            re.compile(r"\bin (\d+) patients \((\d+) deaths\)"))
_FOREST = re.compile(r"\(S ([^/]+)/([^,]+), C ([^/]+)/([^)]+)\)")


class _Report(HTMLParser):
    """Sections of the report: heading -> tables (rows of cell texts) and paragraphs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections: dict[str, dict[str, list]] = {"(header)": {"tables": [], "text": []}}
        self._heading = "(header)"
        self._in_h2 = False
        self._cell: list[str] | None = None
        self._para: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._in_h2, self._heading = True, ""
        elif tag == "table":
            self.sections[self._heading]["tables"].append([])
        elif tag == "tr":
            self.sections[self._heading]["tables"][-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "p":
            self._para = []

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False
            self.sections[self._heading] = {"tables": [], "text": []}
        elif tag in ("td", "th"):
            self.sections[self._heading]["tables"][-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "p" and self._para is not None:
            self.sections[self._heading]["text"].append("".join(self._para))
            self._para = None

    def handle_data(self, data):
        if self._in_h2:
            self._heading += data
        elif self._cell is not None:
            self._cell.append(data)
        elif self._para is not None:
            self._para.append(data)


def _parse(page: str) -> dict[str, dict[str, list]]:
    parser = _Report()
    parser.feed(page)
    return parser.sections


def _small(numbers) -> list[int]:
    flat = [n for item in numbers for n in (item if isinstance(item, tuple) else (item,))]  # findall: groups
    return [int(n) for n in flat if 1 <= int(n) < K]


def _cell_counts(text: str) -> list[int]:
    for pattern in (_BARE, _N_PCT, _N_OF, _PAIR):
        m = pattern.match(text)
        if m:
            return _small(m.groups())
    return _small(n for p in _IN_TEXT for n in p.findall(text))


def _small_cells(sections) -> dict[str, set[tuple[int, int, int]]]:
    """Section -> (table, row, column) of the table cells printing a count from 1 to k-1."""
    out: dict[str, set[tuple[int, int, int]]] = {}
    for heading, content in sections.items():
        if heading == "Provenance":
            continue
        cells = set()
        for t, rows in enumerate(content["tables"]):
            header = rows[0]
            for r, row in enumerate(rows[1:], start=1):
                for c, text in enumerate(row):
                    if c < len(header) and header[c] in LABEL_COLUMNS:
                        continue
                    if _cell_counts(text):
                        cells.add((t, r, c))
        out[heading] = cells
    return out


def _small_in_text(sections) -> dict[str, list[int]]:
    return {h: [n for p in s["text"] for pat in _IN_TEXT for n in _small(pat.findall(p))]
            for h, s in sections.items()}


def _figures(page: str) -> dict[str, tuple[list, dict]]:
    """Figure div id -> (data, layout) decoded from the ``Plotly.newPlot`` calls."""
    decoder = json.JSONDecoder()
    out = {}
    for m in re.finditer(r'Plotly\.newPlot\(\s*"(figure-\d+)",\s*', page):
        data, end = decoder.raw_decode(page, m.end())
        layout, _ = decoder.raw_decode(page, page.index("{", end))
        out[m.group(1)] = (data, layout)
    return out


@pytest.fixture(scope="module", params=["default", "small"])
def reports(request, demo):
    spec = AnalysisSpec() if request.param == "default" else SMALL_SPEC
    result = analysis.run(demo, spec)
    sub = subgroups.subgroup_table(demo, spec)
    plain = study_report_html(demo, spec, result, sub, provenance=PROV)
    hidden = study_report_html(demo, spec, result, sub, provenance=PROV, k=K)
    return request.param, (demo, spec, result, sub), plain, hidden


def _td_model(result):
    model = tables.time_dependent_model_display(result)
    return [] if model is None else [
        "Time-dependent Cox model, every term (each hazard ratio adjusted for the other rows):", model,
        tables.time_dependent_model_note(result)]


def _legacy_sections(cohort_, spec, result, subgroup_result):
    """``sections`` as it was before suppression existed (verbatim copy, plus the log-rank / RMST items of
    issue 10 and, of issue 13, the whole time-dependent Cox model, the after-surgery subgroup flags and the
    subgroup notes),
    the reference for k=None."""
    out = []
    summary = [tables.headline(result)] + ([tables.comparison_text(result)] if result.curves else []) + [
        "Filters and settings:\n\n" + spec.describe()]
    if result.warnings:
        summary.append("Warnings: " + " ".join(result.warnings))
    out.append(("Summary", summary + [figures.flow_figure(result.flow), result.flow]))
    if result.curves:
        km = figures.matched_km_figure(result)
        out.append(("Overall survival", [km, tables.estimates_table(result).reset_index(names=""),
                                         "Surgery vs chemotherapy alone (log-rank test and restricted mean survival "
                                         "time: exploratory):", tables.comparison_table(result),
                                         "Immortal-time methods side by side:", tables.methods_table(result),
                                         *_td_model(result)]))
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
        out.append(("Table 1", [shown, "\n\n".join(t1.attrs.get("footnotes", ())), study_report.RECORDED_1_1,
                                optional_columns_recorded(cohort_.data)]))
    loco, balance = centre.leave_one_centre_out(cohort_, spec), centre.centre_balance(cohort_, spec)
    out.extend([] if loco.table.empty else [("Centres", [
        f"Leave one centre out: the comparison ({loco.method}) re-run with each centre left out in turn; the dashed "
        "line is the hazard ratio with every centre.", loco.reading,
        figures.forest_plot(loco.forest_frame(), overall=loco.full.hr if loco.full.estimated else None),
        centre.loco_display(loco),
        *([f"No balance per centre: {balance.reason}."] if balance.reason else [
            f"Patients per arm and centre. {balance.sample}", centre.counts_display(balance),
            "Standardised mean difference after matching within each centre (difference in means divided by the SD "
            "of the whole surgery group before matching):", balance.smd_wide("after").round(2).reset_index()]),
    ])])
    if subgroup_result is not None and not subgroup_result.table.empty:
        out.append(("Subgroups (exploratory)", [
            figures.forest_plot(tables.subgroup_forest_frame(subgroup_result),
                                overall=subgroup_result.overall.hr if subgroup_result.overall else None),
            *subgroup_result.flags,
            tables.subgroup_display(subgroup_result), tables.interaction_display(subgroup_result),
            *subgroup_result.notes,
        ]))
    operated = result.filtered.data[result.filtered.data[C.TREATMENT_GROUP] == Arm.SURGERY]
    if len(operated):
        rfs = outcomes.survival_by(operated, "rfs", C.METS_GROUP, min_at_risk=spec.min_at_risk)
        items = ["Recurrence-free survival after surgery by metastasis group:", rfs.display(),
                 "Short-term outcomes by pancreatic procedure:", outcomes.short_term_outcomes(operated).reset_index(names="")]
        items += _legacy_operated_items(result.filtered.data, operated, spec)
        out.append(("Surgical outcomes (operated patients)", items))
    return out


def _legacy_km(by, x_title, spec):
    max_t = max((float(c["time"].max()) for c in by.curves.values() if len(c)), default=0.0)
    return figures.km_figure(by.curves, by.risk_table(analysis.risk_times(max_t)), medians=by.medians,
                             min_at_risk=spec.min_at_risk, show_ci=False, x_title=x_title, y_title=by.endpoint_label,
                             labels={g: g for g in by.curves})


def _legacy_operated_items(data, operated, spec):
    """The items of issue 13 (pathology, OS by pathology, adjuvant landmark, whole prognostic model), unsuppressed."""
    path = pathology.pathology_table(operated)
    by_path = pathology.survival_by_pathology(data, origin=spec.origin, landmark=spec.landmark_months,
                                              min_at_risk=spec.min_at_risk)
    adj = outcomes.adjuvant_landmark(operated, 3, "os_from_surgery", min_at_risk=spec.min_at_risk)
    cox = outcomes.prognostic_cox(operated, "os_from_surgery")
    lm = f"{spec.landmark_months:g}"
    return [
        "Pathology of the operated patients (percent of the patients with an assessed value). " + path.definition,
        path.display(),
        f"Overall survival by pathology of the resected liver metastases, from the {lm}-month landmark. " + by_path.design,
        _legacy_km(by_path.by, f"Months since the {lm}-month landmark", spec), by_path.by.display(),
        " ".join(by_path.by.notes),
        "Adjuvant chemotherapy, from 3 months after surgery (overall survival; Cox model, Efron ties). " + adj.estimand,
        _legacy_km(adj.by, "Months since 3 months after surgery", spec), adj.by.display(), adj.in_words(),
        adj.exclusions(), *([adj.ph_reading()] if adj.estimated else []),
        "Prognostic factors of overall survival from surgery (multivariable Cox model, Efron ties, complete cases; "
        "every term). A Lewis-negative patient's CA19-9 is treated as missing.",
        cox.display() if cox.fitted else str(cox.reason), *([cox.ph_reading()] if cox.fitted else []),
        "Patients left out for missing values, per variable:",
        cox.missing_display(),
    ]


def test_without_k_the_report_is_unchanged(reports):
    _, (c, spec, result, sub), plain, _ = reports
    methods = report.methods_paragraph(spec, result=result)
    demo_banner = [("Synthetic demo data", [study_report.SYNTHETIC_NOTE])]  # the demo cohort's first section
    assert plain == report.report_html(f"{TITLE} (SYNTHETIC DEMO DATA)", demo_banner + _legacy_sections(c, spec, result, sub),
                                       PROV, methods)
    assert "Small-cell suppression" not in plain


#: Sections printing small counts without suppression (demo cohort): the check below is not vacuous.
EXPECTED_SMALL = {
    "default": {"Propensity-score matching", "Table 1", "Centres", "Subgroups (exploratory)",
                "Surgical outcomes (operated patients)"},
    "small": {"Summary", "Overall survival", "Propensity-score matching", "Table 1", "Centres",
              "Subgroups (exploratory)", "Surgical outcomes (operated patients)"},
}


def test_no_small_count_in_any_table_with_k(reports):
    name, _, plain, hidden = reports
    before, after = _parse(plain), _parse(hidden)
    small_before, small_after = _small_cells(before), _small_cells(after)
    assert {h for h, cells in small_before.items() if cells} == EXPECTED_SMALL[name]
    assert list(after) == list(before)
    for heading, cells in small_after.items():
        assert not cells, (heading, [after[heading]["tables"][t][r][c] for t, r, c in sorted(cells)])
    # section by section, table by table: every cell that printed a small count now hides it
    for heading, cells in small_before.items():
        for t, r, c in cells:
            assert len(after[heading]["tables"][t]) == len(before[heading]["tables"][t]), heading
            got = after[heading]["tables"][t][r][c]
            assert f"<{K}" in got or got == "*", (heading, before[heading]["tables"][t][r][c], got)


def test_no_small_count_in_the_text_with_k(reports):
    name, _, plain, hidden = reports
    before, after = _small_in_text(_parse(plain)), _small_in_text(_parse(hidden))
    assert not any(after.values()), after
    if name == "small":  # the methods paragraph quotes 7 matched pairs; a warning "only 7 patients"
        assert before["Methods"]
        assert f"yielded <{K} matched pairs" in " ".join(_parse(hidden)["Methods"]["text"])


def test_suppression_is_stated_in_the_report(reports):
    _, _, _, hidden = reports
    summary = " ".join(_parse(hidden)["Summary"]["text"])
    assert f"Small-cell suppression (k = {K}) was applied" in summary
    assert f"<{K} is a count from 1 to {K - 1}" in summary and "* is a count hidden only" in summary


def _risk_texts(data) -> list[list[str]]:
    return [t["text"] for t in data if "text" in (t.get("mode") or "") and isinstance(t.get("text"), list)]


def test_km_figure_risk_table_and_hover_hide_small_numbers_at_risk(reports):
    name, _, plain, hidden = reports
    km_plain, km_hidden = _figures(plain)["figure-2"][0], _figures(hidden)["figure-2"][0]
    rows_plain, rows_hidden = _risk_texts(km_plain), _risk_texts(km_hidden)
    assert len(rows_plain) == 2 and len(rows_hidden) == 2  # one line of numbers at risk per arm
    n_small = 0
    for a, b in zip(rows_plain, rows_hidden, strict=True):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            if 1 <= int(x) < K:
                n_small += 1
                assert y == f"<{K}", (x, y)
            else:
                assert y == x
    assert n_small > 0
    hover_small = 0
    for a, b in zip(km_plain, km_hidden, strict=True):
        if "At risk" not in (a.get("hovertemplate") or ""):
            continue
        for x, y in zip(a["customdata"], b["customdata"], strict=True):
            if 1 <= x[2] < K:
                hover_small += 1
                assert y[2] == f"<{K}"
            else:
                assert y == x
    assert hover_small > 0


def test_flow_figure_and_forest_labels_hide_small_counts(reports):
    name, _, plain, hidden = reports
    figs_plain, figs_hidden = _figures(plain), _figures(hidden)
    flow = [re.fullmatch(r"<b>(\d+)</b>", a.get("text") or "") for a in figs_hidden["figure-1"][1]["annotations"]]
    assert not _small(m.group(1) for m in flow if m)
    if name == "small":
        flow_plain = [re.fullmatch(r"<b>(\d+)</b>", a.get("text") or "") for a in figs_plain["figure-1"][1]["annotations"]]
        assert _small(m.group(1) for m in flow_plain if m)
    forest_id = "figure-5"  # flow, KM, love plot, leave-one-centre-out, forest plot (then the operated patients' KM figures)
    labels = [s for trace in figs_hidden[forest_id][0] for s in (trace.get("text") or []) if isinstance(s, str)]
    labels += [s for trace in figs_hidden[forest_id][0] for s in (trace.get("y") or []) if isinstance(s, str)]
    found = [m.groups() for s in labels for m in _FOREST.finditer(s)]
    assert found
    assert not [g for g in found if _small(x for x in g if x.isdigit())]
    plain_labels = [s for trace in figs_plain[forest_id][0] for s in (trace.get("y") or []) if isinstance(s, str)]
    assert [g for s in plain_labels for m in _FOREST.finditer(s) for g in [m.groups()] if _small(x for x in g if x.isdigit())]


def test_k_must_be_an_integer_of_at_least_two(demo):
    spec = AnalysisSpec(centres=("nowhere",))
    result = analysis.run(demo, spec)
    for bad in (1, 0, True, 11.0, "11"):
        with pytest.raises(ValueError, match="k must be an integer"):
            sections(demo, spec, result, None, k=bad)


def test_balance_table_hides_proportions_of_binary_terms_only(reports):
    """Means of 0/1 terms are proportions (count / arm size): blank with k; continuous means kept."""
    _, _, plain, hidden = reports
    t_plain, t_hidden = (_parse(p)["Propensity-score matching"]["tables"][0] for p in (plain, hidden))
    header = t_plain[0]
    means = [i for i, h in enumerate(header) if h.startswith("mean_")]
    assert len(means) == 4 and t_hidden[0] == header
    # the spec's covariates: four continuous (ECOG and the number of metastases as numbers), the rest
    # dummies of categories ("Regimen: GEM") or a yes/no term ("Objective response (CR/PR)")
    continuous = {"Age (years)", "ECOG", "Liver metastases (n)", "CA19-9 baseline (log)"}
    terms = [row[0] for row in t_plain[1:]]
    assert continuous <= set(terms) and "Objective response (CR/PR)" in terms
    binary = {t for t in terms if ": " in t or t == "Objective response (CR/PR)"}
    assert binary | continuous == set(terms)
    for a, b in zip(t_plain[1:], t_hidden[1:], strict=True):
        assert a[0] == b[0]
        if a[0] in binary:
            assert [b[i] for i in means] == [""] * 4, a[0]
        else:
            assert [float(b[i]) for i in means] == [float(a[i]) for i in means], a[0]
        assert [b[i] for i in range(len(a)) if i not in means] == [a[i] for i in range(len(a)) if i not in means]


def test_a_report_of_the_demo_says_synthetic_and_an_upload_does_not(demo):
    from core import synthetic

    _, page = _html(demo, AnalysisSpec())
    assert "SYNTHETIC DEMO DATA" in page and "not study results" in page
    other = cohort.load(synthetic.to_csv_bytes(synthetic.generate(n_surgery=40, n_chemotherapy=40, seed=5)),
                            filename="centre.csv")
    _, page = _html(other, AnalysisSpec())
    assert "SYNTHETIC DEMO DATA" not in page and "not study results" not in page


def test_specification_curve_section_and_methods_sentence(demo):
    from core import primary, speccurve

    spec = AnalysisSpec(regimens=(Regimen.GEM, Regimen.GEM_NABPAC))
    result = analysis.run(demo, spec)
    curve = speccurve.run(demo, spec, primary=primary.demo_primary().spec)
    status = primary.status_line(spec, primary.demo_primary())
    got = dict(sections(demo, spec, result, None, speccurve=curve, primary_status=status))
    assert status in got["Summary"]
    items = got["Robustness: specification curve"]
    assert items[0] == speccurve.WHAT_IT_SHOWS and items[1] == status and items[2] == curve.summary()
    table = items[-1]
    assert len(table) == 63
    pairs = table["Patients (operated / chemotherapy only)"].str.extract(r"^(\d+) / (\d+)$").astype(float)
    assert ((pairs > 0) & (pairs < K)).any().any()  # small counts without suppression: the check below is not vacuous
    hidden = dict(sections(demo, spec, result, None, k=K, speccurve=curve, primary_status=status))
    shown = hidden["Robustness: specification curve"][-1]
    for column in ("Patients (operated / chemotherapy only)", "Events (operated / chemotherapy only)"):
        numbers = shown[column].str.findall(r"(?<![<\d])(\d+)").explode().dropna().astype(int)
        assert not ((numbers > 0) & (numbers < K)).any(), column
    page = study_report_html(demo, spec, result, None, provenance=PROV, speccurve=curve, primary_status=status)
    assert "<h2>Robustness: specification curve</h2>" in page
    assert html.escape(speccurve.methods_sentence(curve)) in page


def test_the_centres_section_holds_the_leave_one_centre_out_hazard_ratios(demo):
    spec = AnalysisSpec(centre_model="strata")
    result = analysis.run(demo, spec)
    items = dict(sections(demo, spec, result, None))["Centres"]
    loco = centre.leave_one_centre_out(demo, spec)
    table = next(i for i in items if isinstance(i, pd.DataFrame) and "Centre left out" in i.columns)
    assert table["HR (95% CI)"].iloc[0].startswith(f"{result.hr.hr:.2f} (")  # the pinned row is the headline
    assert table["Centre left out"].tolist()[1:] == loco.table["centre"].tolist()
    assert loco.reading in items
    hidden = dict(sections(demo, spec, result, None, k=11))["Centres"]
    table = next(i for i in hidden if isinstance(i, pd.DataFrame) and "Centre left out" in i.columns)
    # the counts of each comparison would give each centre's counts away by subtraction
    assert (table["Operated compared"] == "*").all() and (table["Events, chemotherapy-only"] == "*").all()


@pytest.fixture(scope="module")
def ccw_demo(demo):
    from core import ccw

    return ccw.run(demo, AnalysisSpec(), n_boot=10)


def test_target_trial_section_is_in_the_report_when_given(demo, ccw_demo):
    from core import ccw

    spec = AnalysisSpec()
    result = analysis.run(demo, spec)
    parts = dict(sections(demo, spec, result, None, ccw_result=ccw_demo))
    items = parts["Target trial: resect within G months vs do not resect"]
    assert items[0] == "Question answered: " + ccw_demo.estimand
    assert ccw.headline(ccw_demo) in items
    assert any(isinstance(i, pd.DataFrame) and "Difference (95% CI)" in i.columns for i in items)
    assert "Target trial: resect within G months vs do not resect" not in dict(sections(demo, spec, result, None))


def test_target_trial_section_suppresses_small_counts(demo, ccw_demo):
    spec = AnalysisSpec()
    parts = dict(sections(demo, spec, analysis.run(demo, spec), None, k=50, ccw_result=ccw_demo))
    items = parts["Target trial: resect within G months vs do not resect"]
    counts = next(i for i in items if isinstance(i, str) and "cloned into both strategies" in i)
    assert f"{ccw_demo.counts.n_surgery} patients operated" not in counts  # 44 < 50: hidden
    assert "<50 patients operated" in counts
    clones = next(i for i in items if isinstance(i, pd.DataFrame) and "censored_deviating" in i.columns)
    assert clones["events"].astype(str).str.startswith("<").any()


def test_table_1_section_says_which_dictionary_1_1_columns_are_recorded(demo):
    spec = AnalysisSpec()
    items = dict(sections(demo, spec, analysis.run(demo, spec), None, k=11))["Table 1"]
    i = next(j for j, x in enumerate(items) if isinstance(x, str) and x == study_report.RECORDED_1_1)
    recorded = items[i + 1].set_index("Column")
    assert recorded.loc["Exploration date", "Chemotherapy alone"] == "<11/45"  # 2 of 45: hidden with k = 11
    assert recorded.loc["Restaging date", "All"] == "80/90 (88.9%)"
