"""AppTest: every page and every filter run on the demo cohort without exceptions; uploads fail safely;
the URL restores the view."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.spec import AnalysisSpec
from tests.waits import APP_RUN_S

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["views/overview.py", "views/survival.py", "views/target_trial.py", "views/subgroups.py",
         "views/robustness.py", "views/surgical.py", "views/cohort.py", "views/matching.py",
         "views/method_check.py", "views/data.py", "views/dictionary.py"]


def _app(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_RUN_S)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def _plain(markdown: str) -> str:
    """Markdown source without the escapes the app adds to data-derived text."""
    return markdown.replace("\\", "")


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_demo(page):
    at = _app()
    at.switch_page(page).run()
    _no_exception(at)
    assert at.title, "page has a title"


def test_overview_shows_the_headline_of_the_demo():
    at = _app()
    metrics = _metrics(at)
    assert metrics["Median OS, operated by 6 months"].endswith(" mo")
    assert float(metrics["Hazard ratio"]) > 0
    assert any("Landmark at 6 months" in c.value for c in at.caption)


def test_sidebar_shows_the_demo_card():
    at = _app()
    assert any("45 surgery, 45 chemotherapy" in c.value for c in at.sidebar.caption)


def _widgets(at: AppTest):
    """(kind, key) of every keyed sidebar filter and setting."""
    out = []
    for kind in ("multiselect", "radio", "toggle", "selectbox", "slider", "segmented_control", "number_input"):
        for w in getattr(at.sidebar, kind):
            if w.key and w.key.startswith("f_"):
                out.append((kind, w.key))
    return out


#: Raw values for widgets that show formatted labels (AppTest sets raw values).
RAW = {
    "f_hepatectomy": "major", "f_endpoint": "efs", "f_propensity": "glm", "f_origin": "diagnosis", "f_method": "naive",
    "f_covariates": ["age_at_diagnosis", "ecog_baseline"], "f_ratio": 2, "f_order": "smallest",
    "f_ca_max_input": 500.0, "f_min_at_risk": 5, "f_pancreatic_procedures": ["PD"], "f_liver_procedures": ["wedge"],
    "f_liver_timings": ["staged"], "f_mets_groups": ["1"], "f_regimens": ["FOLFIRINOX"],
    "f_chemo_settings": ["perioperative"], "f_recist": ["PR"], "f_resectability_levels": ["resectable"],
    "f_centres": ["C02"], "f_eligibility_preset": "sonar",
}


def _change(widget, kind: str) -> None:
    if widget.key in RAW:
        widget.set_value(RAW[widget.key])
    elif kind == "multiselect":
        widget.set_value([widget.options[0]])
    elif kind in ("radio", "selectbox", "segmented_control"):
        current = widget.value
        other = [o for o in widget.options if str(o) != str(current)]
        widget.set_value(type(current)(other[-1]) if current is not None and not isinstance(current, str) else other[-1])
    elif kind == "toggle":
        widget.set_value(not widget.value)
    elif kind == "slider":
        value = widget.value
        if isinstance(value, tuple):
            lo, hi = value
            widget.set_value((lo + 1, hi - 1) if hi - lo > 2 else value)
        else:
            widget.set_value(widget.min + (widget.max - widget.min) / 2)
    elif kind == "number_input":
        widget.set_value(500.0 if widget.value is None else widget.value + 1)


def _changed_fields(spec: AnalysisSpec) -> set[str]:
    import dataclasses

    default = AnalysisSpec()
    return {f.name for f in dataclasses.fields(spec) if getattr(spec, f.name) != getattr(default, f.name)}


def test_every_control_changes_its_own_spec_field_and_reruns_every_page():
    from ui.controls import API_ONLY, WIDGET_FIELDS

    at = _app()
    kinds = _widgets(at)
    assert len(kinds) >= 25, kinds
    set_by_some_widget: set[str] = set()
    for kind, key in kinds:
        fresh = _app()
        widget = getattr(fresh.sidebar, kind)(key=key)
        if widget.disabled:  # the caliper slider is live once the caliper is on (the toggle is walked too)
            assert key == "f_caliper"
            fresh.sidebar.toggle(key="f_caliper_on").set_value(True).run()
            widget = getattr(fresh.sidebar, kind)(key=key)
            widget.set_value(0.5)
        else:
            _change(widget, kind)
        fresh.run()
        _no_exception(fresh)
        changed = _changed_fields(fresh.session_state["current_spec"])
        assert changed, f"{key} changes no setting"
        # a widget changes its own field(s) only, and the field is named after the widget
        assert all(name in key or key == "f_ca_max_input" for name in changed), (key, changed)
        set_by_some_widget |= changed
        assert AnalysisSpec.from_query({k: v for k, v in fresh.query_params.items()}) == fresh.session_state[
            "current_spec"], f"{key}: the URL does not carry the change"
        for page in ("views/survival.py", "views/subgroups.py", "views/surgical.py", "views/cohort.py"):
            fresh.switch_page(page).run()
            _no_exception(fresh)
    import dataclasses

    every = {f.name for f in dataclasses.fields(AnalysisSpec)}
    assert set(WIDGET_FIELDS) | set(API_ONLY) == every
    assert set_by_some_widget == set(WIDGET_FIELDS), every - set_by_some_widget


def test_a_filter_change_changes_the_numbers_and_the_url():
    at = _app()
    before = _metrics(at)["Hazard ratio"]
    at.sidebar.multiselect(key="f_regimens").set_value(["FOLFIRINOX"]).run()
    _no_exception(at)
    assert at.query_params["reg"] == "FOLFIRINOX"
    assert _metrics(at)["Hazard ratio"] != before


def test_url_restores_the_view():
    spec = AnalysisSpec(regimens=("FOLFIRINOX",), caliper=0.3, method="naive", landmark_months=9.0)
    at = _app(spec.to_query())
    _no_exception(at)
    assert at.sidebar.multiselect(key="f_regimens").value == ["FOLFIRINOX"]
    assert at.sidebar.slider(key="f_caliper").value == pytest.approx(0.3)
    assert at.sidebar.radio(key="f_method").value == "naive"
    same = _app()
    same.sidebar.multiselect(key="f_regimens").set_value(["FOLFIRINOX"])
    same.sidebar.toggle(key="f_caliper_on").set_value(True).run()
    same.sidebar.slider(key="f_caliper").set_value(0.3)
    same.sidebar.radio(key="f_method").set_value("naive")
    same.sidebar.slider(key="f_landmark_months").set_value(9.0)
    same.run()
    assert _metrics(same) == _metrics(at)


def test_invalid_url_values_fall_back_to_defaults():
    at = _app({"ratio": "many", "reg": "NOT_A_REGIMEN", "cal": "-1"})
    _no_exception(at)
    assert at.sidebar.multiselect(key="f_regimens").value == []


def test_presentation_mode_hides_controls_and_keeps_numbers():
    at = _app()
    numbers = _metrics(at)
    at.toggle(key="present_Overview").set_value(True).run()
    _no_exception(at)
    assert at.query_params["present"] == "1"
    assert _metrics(at) == numbers


def _upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.switch_page("views/data.py").run()
    at.file_uploader(key="upload").set_value((name, content, "text/csv")).run()
    return at


def test_data_page_counts_the_dictionary_1_1_columns_of_the_active_cohort():
    at = _app()
    at.switch_page("views/data.py").run()
    _no_exception(at)
    assert any(e.label.startswith("Columns new in data dictionary 1.1") for e in at.expander)
    tables = [df.value for df in at.dataframe if "Column" in getattr(df.value, "columns", [])]
    recorded = next(t for t in tables if "Restaging date" in set(t["Column"])).set_index("Column")
    assert recorded.loc["Exploration date", "Chemotherapy alone"] == "2/45 (4.4%)"  # explored, not resected


def test_failed_upload_lists_problems_and_keeps_the_demo():
    at = _app()
    _upload(at, "broken.csv", b"patient_id,centre_id\nP1,A\n")
    _no_exception(at)
    assert any("was not loaded" in _plain(e.value) for e in at.error)
    assert any("still active" in _plain(e.value) for e in at.error)
    problems = at.dataframe[0].value
    assert "treatment_group" in " ".join(map(str, problems.astype(str).values.ravel()))
    assert any("45 surgery, 45 chemotherapy" in c.value for c in at.sidebar.caption)


def test_valid_upload_becomes_the_active_cohort_on_every_page():
    lines = (ROOT / "data" / "demo_cohort.csv").read_bytes().splitlines(keepends=True)
    at = _app()
    _upload(at, "small.csv", b"".join(lines[:61]))  # header + 60 patients
    _no_exception(at)
    assert any("small.csv loaded: 60 patients" in _plain(s.value) for s in at.success)
    assert not any("45 surgery, 45 chemotherapy" in c.value for c in at.sidebar.caption)
    for page in PAGES:
        at.switch_page(page).run()
        _no_exception(at)


def test_method_check_is_only_for_the_synthetic_cohort():
    at = _app()
    at.switch_page("views/method_check.py").run()
    assert at.dataframe, "the demo shows the comparison with the truth"
    lines = (ROOT / "data" / "demo_cohort.csv").read_bytes().splitlines(keepends=True)
    _upload(at, "small.csv", b"".join(lines[:61]))
    at.switch_page("views/method_check.py").run()
    assert any("synthetic demo cohort only" in i.value for i in at.info)


def test_dictionary_page_lists_every_column():
    at = _app()
    at.switch_page("views/dictionary.py").run()
    _no_exception(at)
    table = at.dataframe[0].value
    assert "patient_id" in set(table["column"])
    assert table.loc[table["column"] == "restaging_date", "since"].item() == "1.1"
    assert any(e.label.startswith("Version 1.1 and migration") for e in at.expander)
    assert any("A 1.0 file loads unchanged" in md.value for md in at.markdown)


def test_small_cell_suppression_hides_small_counts_on_screen():
    at = _app()
    at.switch_page("views/subgroups.py").run()
    shown = at.table[0].value.reset_index().astype(str)
    assert not shown.apply(lambda col: col.str.contains("<11")).any().any()
    at.sidebar.toggle(key="suppress_small").set_value(True).run()
    _no_exception(at)
    shown = at.table[0].value.reset_index().astype(str)
    assert shown.apply(lambda col: col.str.contains("<11")).any().any()
    # the reliability notes quote counts ("only 7 surgery patients"): small ones are hidden there too
    assert not shown.apply(lambda col: col.str.contains(r"only (?:[1-9]|10) ", regex=True)).any().any()
    assert shown.apply(lambda col: col.str.contains("only <11 ")).any().any()
    for page in PAGES:
        at.switch_page(page).run()
        _no_exception(at)


def _table_one(at: AppTest) -> pd.DataFrame:
    """Table 1 as the Cohort page shows it: its two tabs side by side again, as text."""
    by_arm, tests = (t.value.reset_index() for t in at.table[:2])
    assert (by_arm["Variable"] == tests["Variable"]).all()
    return pd.concat([by_arm, tests.drop(columns="Variable")], axis=1).astype(str)


def test_cohort_table_one_suppression_leaves_no_block_with_one_hidden_cell():
    at = _app()
    at.switch_page("views/cohort.py").run()
    _no_exception(at)
    off = _table_one(at)
    hidden_marks = {"<11", "*"}
    assert not off.isin(hidden_marks).any().any()
    at.sidebar.toggle(key="suppress_small").set_value(True).run()
    _no_exception(at)
    table = _table_one(at)
    assert table.shape == off.shape and (table["Variable"] == off["Variable"]).all()
    assert table.isin(["<11"]).any().any() and table.isin(["*"]).any().any()
    assert any("Small-cell suppression (k = 11)" in _plain(c.value) for c in at.caption)
    # blocks: a header row "<variable>, n (%)" followed by its indented level rows; per arm column the
    # levels plus that arm's side of the Missing pair add up to the arm's size, so never exactly one hidden
    blocks: list[tuple[int, list[int]]] = []
    for i, name in enumerate(table["Variable"]):
        if name.startswith(("   ", "\u00a0")):  # level rows are indented (no-break spaces on the page)
            blocks[-1][1].append(i)
        else:
            blocks.append((i, []))
    checked = 0
    for sample in ("before", "after"):
        for side, arm in enumerate(("Surgery", "Chemotherapy")):
            col = f"{arm} ({sample})"
            for header, levels in blocks:
                if not levels:
                    continue
                cells = table[col].iloc[levels].tolist()
                cells.append(table[f"Missing ({sample})"].iloc[header].split(" / ")[side])
                n_hidden = sum(c in hidden_marks for c in cells)
                assert n_hidden != 1, (col, table["Variable"].iloc[header], cells)
                checked += n_hidden > 0
    assert checked >= 4


def test_subgroup_counts_suppression_leaves_no_dimension_with_one_hidden_cell():
    at = _app()
    at.sidebar.toggle(key="suppress_small").set_value(True).run()
    at.switch_page("views/subgroups.py").run()
    _no_exception(at)
    table = at.table[0].value.reset_index().astype(str)
    dimension = table["Subgroup"].str.split(": ").str[0]
    hidden_any = False
    for col in ("Surgery (patients / deaths)", "Chemotherapy (patients / deaths)"):
        for side in (0, 1):  # patients, deaths: per subgroup variable the rows add up to the overall row
            cells = table[col].str.split(" / ").str[side]
            for dim, group in cells[table.index > 0].groupby(dimension[table.index > 0]):
                n_hidden = int(group.isin(["<11", "*"]).sum())
                assert n_hidden != 1, (col, dim, group.tolist())
                hidden_any |= n_hidden > 0
    assert hidden_any


def _plotly_specs(at: AppTest) -> list[dict]:
    import json

    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_reused_figures_follow_suppression_and_presentation_mode():
    # Figures are built once per (cohort, spec, options) and reused: every option must be part of the key.
    at = _app()
    risk_text = [str(t) for fig in _plotly_specs(at) for trace in fig["data"] if trace.get("mode") == "text"
                 for t in trace["text"]]
    assert risk_text and not any(t.startswith("<") for t in risk_text)
    at.sidebar.toggle(key="suppress_small").set_value(True).run()
    risk_text = [str(t) for fig in _plotly_specs(at) for trace in fig["data"] if trace.get("mode") == "text"
                 for t in trace["text"]]
    assert "<11" in risk_text, risk_text

    plain = {fig["layout"]["font"]["size"] for fig in _plotly_specs(_app())}
    large = {fig["layout"]["font"]["size"] for fig in _plotly_specs(_app({"present": "1"}))}
    assert plain == {14} and large == {20}, (plain, large)


# -- small-cell suppression on the pages: what the one-click report hides --------------------------------
_BARE = r"^\s*(\d+)\s*$"


def _suppress(at: AppTest, k: int = 11) -> AppTest:
    at.sidebar.toggle(key="suppress_small").set_value(True)
    at.sidebar.number_input(key="suppress_k").set_value(k)
    return at.run()


def _small_cells(table: pd.DataFrame, k: int) -> list[str]:
    """Cells of a table that are, or contain as "a / b", a count from 1 to k-1 (each cell parsed alone)."""
    import re

    found = []
    for value in table.astype(str).to_numpy().ravel():
        parts = value.split(" / ") if re.fullmatch(r"\s*\d+ / \d+\s*", value) else [value]
        found += [value for p in parts if (m := re.fullmatch(_BARE, p)) and 1 <= int(m.group(1)) < k]
    return found


def _quoted_counts(text: str, k: int) -> list[int]:
    """Counts quoted as "n patients" / "n deaths" / "n matched patients" from 1 to k-1."""
    import re

    return [int(n) for n in re.findall(r"(?<![<\d])(?<!fewer than )(?<!at least )(\d+) "
                                       r"(?:matched )?(?:patients|deaths|operated|chemotherapy-only)\b", text)
            if 1 <= int(n) < k]


def _overview_texts(at: AppTest) -> list[str]:
    return [c.value for c in at.caption] + [m.proto.help for m in at.metric]


def test_overview_hides_small_patient_and_death_counts_under_suppression():
    at = _app()
    _no_exception(at)
    texts = _overview_texts(at)
    assert any("37 patients" in t for t in texts) and any("Matched: 37 patients" in t for t in texts)
    # k = 11 (default): nothing from 1 to 10; k = 40: the demo's 37 patients and 25/34 deaths are small too
    for k in (11, 40):
        _suppress(at, k)
        _no_exception(at)
        texts = _overview_texts(at)
        assert not [n for t in texts for n in _quoted_counts(t, k)], texts
    assert any("<40 patients, <40 deaths" in t for t in texts)
    assert any("Matched: <40 patients, <40 deaths" in t for t in texts)


def _km_hover_at_risk(at: AppTest) -> list:
    return [row[2] for fig in _plotly_specs(at) for trace in fig["data"]
            if "At risk %{customdata[2]}" in str(trace.get("hovertemplate", "")) for row in trace["customdata"]]


def test_survival_tables_and_km_hover_hide_small_counts_under_suppression():
    at = _app()
    at.switch_page("views/survival.py").run()
    _no_exception(at)
    estimates, methods = at.dataframe[0].value, at.table[0].value
    assert estimates.loc["Patients"].tolist() == ["37", "37"] and estimates.loc["Deaths"].tolist() == ["25", "34"]
    assert methods["Deaths (S / C)"].tolist() == ["32 / 40", "25 / 34", "32 / 40"]
    assert methods["Patients (S / C)"].tolist() == ["44 / 44", "37 / 37", "44 / 44"]
    hover = _km_hover_at_risk(at)
    assert any(isinstance(n, (int, float)) and 1 <= n < 11 for n in hover), hover
    assert [e.label for e in at.expander].count("Kaplan-Meier tables") == 1
    assert not any("Kaplan-Meier tables withheld" in c.value for c in at.caption)
    # k = 11: no count from 1 to 10 anywhere; k = 50: the demo's estimates (37, 25, 34) and methods counts
    # (44 and 37 patients per arm; 25 to 40 deaths) are small enough for every suppression to bite
    for k in (11, 50):
        _suppress(at, k)
        _no_exception(at)
        estimates, methods = at.dataframe[0].value, at.table[0].value
        assert not _small_cells(estimates, k), estimates
        assert not _small_cells(methods[["Patients (S / C)", "Deaths (S / C)"]], k), methods
        hover = _km_hover_at_risk(at)
        assert hover and not [n for n in hover if isinstance(n, (int, float)) and 1 <= n < k], hover
        assert f"<{k}" in hover
        assert "Kaplan-Meier tables" not in [e.label for e in at.expander]
        assert any(f"Kaplan-Meier tables withheld: with small-cell suppression on (k = {k})" in c.value
                   for c in at.caption)
    assert estimates.loc["Patients"].tolist() == ["<50", "<50"] and estimates.loc["Deaths"].tolist() == ["<50", "<50"]
    assert methods["Deaths (S / C)"].tolist() == ["<50 / <50"] * 3
    assert methods["Patients (S / C)"].tolist() == ["<50 / <50"] * 3


def test_matching_card_and_balance_hide_small_counts_under_suppression():
    at = _app()
    at.switch_page("views/matching.py").run()
    _no_exception(at)
    card = at.table[0].value
    assert card.loc["Dropped for missing covariates", "value"] == "2"
    balance = at.dataframe[0].value  # both tabs hold the whole table; each shows some of its columns
    assert at.tabs[0].label == "Standardised differences" and at.tabs[1].label == "Means"
    binary = balance["var_ratio_after"].isna()
    means = [c for c in balance.columns if c.startswith("mean_")]
    assert binary.sum() == 6 and balance.loc[binary, means].notna().all().all()
    for k in (11, 40):
        _suppress(at, k)
        _no_exception(at)
        card = at.table[0].value
        assert not _small_cells(card, k), card
        # proportions of binary terms give counts away: blanked; continuous terms and SMDs stay
        balance = at.dataframe[0].value
        assert balance.loc[binary, means].isna().all().all(), balance
        assert balance.loc[~binary, means].notna().all().all() and balance["smd_after"].notna().all()
    assert card.loc["Dropped for missing covariates", "value"] == "<40"
    assert card.loc["Surgery: matched / unmatched", "value"] == "<40 / <40"


def test_subgroups_page_shows_the_papers_subgroups_and_flags_ypm_as_after_surgery():
    at = _app()
    at.switch_page("views/subgroups.py").run()
    _no_exception(at)
    rows = at.table[0].value.index.tolist()
    for words in ("Tumour location: Head", "Liver metastases: Up to 3 (oligometastatic)",
                  "CA19-9 response: Fell by 50% or more", "Chemotherapy before surgery: Under 8 months",
                  "Resected metastases (ypM): ypM0 (no viable tumour)"):
        assert words in rows, words
    assert any("defined after surgery: describes the operated patient, not a choice before it" in _plain(c.value)
               for c in at.caption)


def test_survival_page_shows_every_term_of_the_time_dependent_model():
    at = _app()
    at.switch_page("views/survival.py").run()
    _no_exception(at)
    model = next(t.value for t in at.table if "Compared with" in t.value.columns)
    assert model.index[0] == "Surgery (from the day of the operation on)"
    assert "Regimen: Gemcitabine + nab-paclitaxel" in model.index
    assert model.loc["Age (years)", "Compared with"] == "per year older"


def _frame_with(at: AppTest, column: str) -> pd.DataFrame:
    frames = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(frames) == 1, column
    return frames[0]


def test_surgical_page_operated_items_follow_their_widgets_and_the_url():
    at = _app()
    at.switch_page("views/surgical.py").run()
    _no_exception(at)
    assert {"Pathology of the operated patients", "Overall survival by pathology of the liver metastases",
            "Adjuvant chemotherapy after resection (post-operative landmark)",
            "Prognostic factors (multivariable Cox model)"} <= {s.value for s in at.subheader}
    assert "Complete pathological response" in _frame_with(at, "Category")["Variable"].tolist()
    assert at.query_params["slm"] == "3"
    flow = _frame_with(at, "step")
    assert flow["step"].iloc[-1] == "Analysed from 3 months after surgery"
    # the post-operative landmark: the URL and the analysed patients follow
    at.select_slider(key="surg_adj_landmark").set_value("1").run()
    _no_exception(at)
    assert at.query_params["slm"] == "1"
    assert _frame_with(at, "step")["patients"].iloc[-1] == 45  # demo: nobody dies or recurs within 1 month
    # covariates and a cut-off: every term of the chosen model, the cut-off in the URL
    at.multiselect(key="surg_cov").set_value(["age_at_diagnosis", "ca19_9_baseline"]).run()
    assert at.number_input(key="surg_cut_ca19_9_baseline").value == 100.0
    at.number_input(key="surg_cut_ca19_9_baseline").set_value(200.0).run()
    _no_exception(at)
    assert at.query_params["pcov"] == "age_at_diagnosis,ca19_9_baseline"
    assert at.query_params["pcut"] == "age_at_diagnosis:-;ca19_9_baseline:200"
    assert _frame_with(at, "Factor")["Factor"].tolist() == ["Age (per 10 years)", "CA19-9 baseline >= 200 U/mL vs below"]
    drops = _frame_with(at, "Of which Lewis-negative (CA19-9)")
    assert drops["Variable"].tolist() == ["Follow-up (time or event)", "Age (years)", "CA19-9 baseline (U/mL)"]


def test_surgical_page_restores_the_operated_choices_from_the_url():
    at = _app({"slm": "5", "pcov": "tumour_size_mm,resection_margin", "pcut": "tumour_size_mm:-"})
    at.switch_page("views/surgical.py").run()
    _no_exception(at)
    assert at.select_slider(key="surg_adj_landmark").value == "5"
    assert at.multiselect(key="surg_cov").value == ["tumour_size_mm", "resection_margin"]
    assert at.number_input(key="surg_cut_tumour_size_mm").value is None  # continuous
    assert _frame_with(at, "Factor")["Factor"].tolist() == ["Tumour size (mm)", "Margin R1/R2 vs R0"]


def test_share_link_carries_the_surgical_page_choices():
    at = _app({"slm": "5", "pcov": "tumour_size_mm,resection_margin", "pcut": "tumour_size_mm:-"})
    at.switch_page("views/surgical.py").run()  # writes its own keys (sep, sgr) into the URL too
    at.switch_page("views/overview.py").run()  # the page with "Share this view"
    _no_exception(at)
    link = [c.value for c in at.code if c.value.startswith("http")]
    assert link and "slm=5" in link[0] and "pcov=tumour_size_mm,resection_margin" in link[0], link
    assert "pcut=tumour_size_mm:-" in link[0] and "sep=rfs" in link[0]


def _status(at: AppTest) -> list[str]:
    """The primary-analysis status line(s) of the page (header caption)."""
    return [_plain(c.value) for c in at.caption if "rimary analysis" in c.value and c.value.startswith(":material/")]


def test_every_page_says_whether_it_shows_the_primary_analysis():
    at = _app()
    assert _status(at) == [":material/verified: Primary analysis (pre-specified, shipped with the demo cohort in "
                           "data/primary_analysis.json)."]
    at.sidebar.slider(key="f_landmark_months").set_value(9.0).run()
    for page in ("views/overview.py", "views/survival.py", "views/robustness.py", "views/data.py"):
        at.switch_page(page).run()
        _no_exception(at)
        assert _status(at) == [":material/explore: Exploration: differs from the primary analysis in landmark "
                               "(9 months here, 6 months in the primary). See the Robustness page."], page


def test_robustness_page_shows_the_curve_with_the_primary_pinned():
    at = _app()
    at.switch_page("views/robustness.py").run()
    _no_exception(at)
    summary = [_plain(m.value) for m in at.markdown if "specifications give a hazard ratio" in m.value]
    assert len(summary) == 1 and summary[0].startswith("**") and " of 63 specifications" in summary[0]
    assert any("It is not a test" in c.value for c in at.caption)
    table = at.table[0].value
    assert len(table) == 63
    assert list(table["Pinned"]).count("primary, this view") == 1
    assert "primary_declare" not in [b.key for b in at.button]  # the demo's primary is fixed
    assert "primary_upload" not in [e.key for e in at.get("file_uploader")]


def test_an_uploaded_cohort_declares_its_primary_once_and_it_stays_locked():
    lines = (ROOT / "data" / "demo_cohort.csv").read_bytes().splitlines(keepends=True)
    at = _app()
    _upload(at, "small.csv", b"".join(lines[:61]))
    at.switch_page("views/robustness.py").run()
    _no_exception(at)
    assert _status(at)[0].startswith(":material/explore: Exploration: no primary analysis has been pre-specified")
    assert "primary_upload" in [e.key for e in at.get("file_uploader")]
    at.button(key="primary_declare").click().run()
    _no_exception(at)
    assert _status(at)[0].startswith(":material/verified: Primary analysis (pre-specified, declared in this session")
    assert "primary_declare" not in [b.key for b in at.button]  # locked for this session
    assert "primary_upload" not in [e.key for e in at.get("file_uploader")]
    at.sidebar.toggle(key="f_replace").set_value(True).run()
    assert _status(at) == [":material/explore: Exploration: differs from the primary analysis in matching with "
                           "replacement (yes here, no in the primary). See the Robustness page."]


def test_an_uploaded_spec_file_becomes_the_primary_and_a_bad_one_is_refused_in_words():
    lines = (ROOT / "data" / "demo_cohort.csv").read_bytes().splitlines(keepends=True)
    at = _app()
    _upload(at, "small.csv", b"".join(lines[:61]))
    at.switch_page("views/robustness.py").run()
    at.file_uploader(key="primary_upload").set_value(("bad.json", b"not json", "application/json")).run()
    _no_exception(at)
    assert any("not valid JSON" in _plain(e.value) for e in at.error)
    good = b'{"format": "pdac-lm-primary-analysis", "spec": "lm=9"}'
    at.file_uploader(key="primary_upload").set_value(("plan.json", good, "application/json")).run()
    _no_exception(at)
    assert _status(at) == [":material/explore: Exploration: differs from the primary analysis in landmark "
                           "(6 months here, 9 months in the primary). See the Robustness page."]
    assert any("uploaded spec file plan.json" in _plain(c.value) for c in at.caption)


def test_matching_page_shows_the_centre_panel_for_the_chosen_centre_model():
    from core import centre, cohort

    at = _app({"ctrm": "strata"})
    at.switch_page("views/matching.py").run()
    _no_exception(at)
    spec = AnalysisSpec(centre_model="strata")
    loco = centre.leave_one_centre_out(cohort.demo(), spec)
    assert any(_plain(m.value) == loco.reading for m in at.markdown)
    shown = next(d.value for d in at.dataframe if "Centre left out" in d.value.columns)
    assert shown["Centre left out"].tolist() == ["none (every centre)", *loco.table["centre"]]
    assert shown["HR (95% CI)"].iloc[0].startswith(f"{loco.full.hr:.2f} (")
    assert [t.label for t in at.tabs][-3:] == ["Patients per arm", "SMD before matching", "SMD after matching"]
    _suppress(at, 11)
    _no_exception(at)
    shown = next(d.value for d in at.dataframe if "Centre left out" in d.value.columns)
    expected = ["<11" if 1 <= n < 11 else str(n) for n in loco.table["left_out_surgery"]]
    assert "<11" in expected and "13" in expected  # C02 has 13 operated patients
    assert shown["Operated left out"].iloc[1:].astype(str).tolist() == expected


def test_target_trial_grace_period_is_kept_in_the_url_and_restored():
    at = _app({"tgr": "6"})
    at.switch_page("views/target_trial.py").run()
    _no_exception(at)
    assert at.slider(key="tt_grace").value == 6.0
    assert any("resect within 6 months" in _plain(i.value) for i in at.info)
    at.slider(key="tt_grace").set_value(4.0).run()
    _no_exception(at)
    assert at.query_params["tgr"] == "4"
    assert any("No comparison: only 4 patients operated within 4 months" in _plain(w.value) for w in at.warning)
