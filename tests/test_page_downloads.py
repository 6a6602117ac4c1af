"""AppTest: the tables each page hands to its CSV/Excel downloads (captured at ``ui.downloads.tables``).

What the files then hold (notes, marks, number cells) is tested in test_export.py and
test_export_tables.py; a real download in Chromium in test_browser.py.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import analysis, cohort, survival
from core.export_notes import column_note
from core.population import EVENT, TIME, TREATED
from core.spec import AnalysisSpec
from tests.waits import APP_RUN_S
from ui import downloads

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def captured(monkeypatch):
    """Page key -> {sheet name: table} of every ``downloads.tables`` call during the runs."""
    out: dict[str, dict[str, pd.DataFrame]] = {}

    def tables(name, sheets, spec, *args, key, index=False, **kwargs):
        out[key] = {k: (v.reset_index() if index else v) for k, v in sheets.items()}

    monkeypatch.setattr(downloads, "tables", tables)
    return out


def _run(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_RUN_S).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(scope="module")
def demo_result():
    return analysis.run(cohort.demo(), AnalysisSpec())


def test_survival_and_overview_downloads_carry_the_log_rank_test_and_rmst(captured, demo_result):
    _run("views/survival.py")
    _run("views/overview.py")
    m = demo_result.match.matched
    p = survival.logrank(m[TIME], m[EVENT], m[TREATED]).p
    for key in ("dl_survival", "dl_overview"):
        sheets = captured[key]
        assert {"Estimates", "Comparison", "Immortal-time methods"} <= set(sheets), key
        comparison = sheets["Comparison"].set_index("quantity")
        assert comparison.loc["log-rank test", "p"] == pytest.approx(p)
        assert comparison.loc["restricted mean survival time difference, surgery minus chemotherapy",
                              "unit"] == "months"
    assert "KM estimates" in captured["dl_survival"] and "Flow" in captured["dl_overview"]


def test_survival_download_has_every_term_of_the_time_dependent_model(captured, demo_result):
    _run("views/survival.py")
    model = captured["dl_survival"]["Time-dependent Cox model"]
    td = demo_result.methods.set_index("method").loc[next(c.label for c in demo_result.comparisons
                                                          if c.key == "time_dependent")]
    assert model.loc[0, "term"] == "treated" and model.loc[0, "hazard_ratio"] == pytest.approx(td["HR"])
    assert len(model) > 5 and model["label"].str.len().gt(0).all()


def test_survival_and_overview_downloads_are_numeric_and_every_column_is_defined(captured):
    _run("views/survival.py")
    _run("views/overview.py")
    text_columns = {"arm", "time_origin", "note", "quantity", "unit", "method", "step", "term", "distribution",
                    "label", "compared_with"}
    for key in ("dl_survival", "dl_overview"):
        for sheet, table in captured[key].items():
            undefined = [c for c in table.columns if column_note(str(c)) is None]
            assert not undefined, (key, sheet, undefined)
            for col in table.columns:
                if col not in text_columns:
                    assert pd.api.types.is_numeric_dtype(table[col]), (key, sheet, col, table[col].dtype)


def test_matching_balance_download_keeps_the_term_names(captured, demo_result):
    _run("views/matching.py")
    balance = captured["dl_matching"]["Balance"]
    assert balance["term"].tolist() == list(demo_result.balance.index)
    assert "CA19-9 baseline (log)" in balance["term"].tolist()
    expected = demo_result.balance.loc["CA19-9 baseline (log)", "smd_after"]
    assert balance.loc[balance["term"] == "CA19-9 baseline (log)", "smd_after"].item() == pytest.approx(expected)


def test_surgical_download_carries_pathology_adjuvant_landmark_and_the_whole_model(captured):
    from core import outcomes, pathology
    from core.dictionary import Arm, C

    _run("views/surgical.py")
    sheets = captured["dl_surgical"]
    assert {"Pathology", "OS by pathology", "OS by pathology at risk", "Adjuvant landmark", "Adjuvant landmark flow",
            "Adjuvant at risk", "Prognostic Cox", "Prognostic Cox missing"} <= set(sheets)
    data = cohort.demo().data
    operated = data[data[C.TREATMENT_GROUP] == Arm.SURGERY]
    assert sheets["Pathology"]["n"].tolist() == pathology.pathology_table(operated).table["n"].tolist()
    adj = outcomes.adjuvant_landmark(operated, 3, "rfs")  # the page's defaults: 3 months, RFS
    assert sheets["Adjuvant landmark"]["hr"].iloc[0] == pytest.approx(adj.hr)
    cox = outcomes.prognostic_cox(operated, "rfs")
    assert sheets["Prognostic Cox"]["term"].tolist() == list(cox.table.index)  # every term, not the surgery row only
    assert sheets["Prognostic Cox missing"]["missing"].sum() == sum(cox.dropped_by.values())
    by_path = sheets["OS by pathology"]
    assert set(by_path["group"]) == {pathology.YPM0, pathology.YPM1, pathology.NOT_RESECTED}
    assert pd.api.types.is_numeric_dtype(by_path["median_months"])


def test_robustness_download_is_the_specification_curve_with_the_primary_pinned(captured):
    from core import primary, speccurve

    _run("views/robustness.py")
    table = captured["dl_speccurve"]["Specification curve"]
    curve = speccurve.run(cohort.demo(), AnalysisSpec(), primary=primary.demo_primary().spec)
    assert len(table) == 63 and table["primary_analysis"].sum() == 1 and table["this_view"].sum() == 1
    assert table["hr"].tolist() == pytest.approx(curve.table["HR"].tolist(), nan_ok=True)
    assert table.loc[table["this_view"], "hr"].item() == analysis.run(cohort.demo(), AnalysisSpec()).hr.hr


def test_exports_provenance_says_whether_the_view_is_the_primary_analysis(monkeypatch):
    from core.provenance import PRIMARY_KEY

    made: dict[str, object] = {}
    real = downloads.button

    def button(label, data, *, key, **kwargs):
        made[key] = data
        return real(label, data, key=key, **kwargs)

    monkeypatch.setattr(downloads, "button", button)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_RUN_S)
    at.query_params["lm"] = "9"
    at.run()
    at.switch_page("views/survival.py").run()
    assert not at.exception, [e.value for e in at.exception]
    frames, prov = made["dl_survival_csv"].args
    assert prov[PRIMARY_KEY].splitlines()[0] == ("Exploration: differs from the primary analysis in landmark (9 months "
                                                 "here, 6 months in the primary).")
    report_prov = made["dl_report_html"].args[2]
    assert report_prov[PRIMARY_KEY] == prov[PRIMARY_KEY]


def test_matching_centre_download_holds_the_leave_one_centre_out_numbers(captured, demo_result):
    from core import centre

    _run("views/matching.py")
    sheets = captured["dl_centres"]
    assert set(sheets) == {"Leave one centre out", "Patients per centre", "SMD per centre"}
    loco = centre.leave_one_centre_out(cohort.demo(), AnalysisSpec())
    table = sheets["Leave one centre out"]
    assert table["centre"].tolist() == loco.table["centre"].tolist()
    assert table["hr"].to_numpy() == pytest.approx(loco.table["hr"].to_numpy())
    assert pd.api.types.is_numeric_dtype(table["hr"]) and pd.api.types.is_integer_dtype(table["n_surgery"])
    counts = sheets["Patients per centre"]
    assert counts["Operated, before matching"].sum() + counts["Chemotherapy-only, before matching"].sum() == len(
        demo_result.population)
    assert counts["Operated, matched"].sum() == demo_result.match.n_treated_matched
