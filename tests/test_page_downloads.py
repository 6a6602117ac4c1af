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


def test_survival_and_overview_downloads_are_numeric_and_every_column_is_defined(captured):
    _run("views/survival.py")
    _run("views/overview.py")
    text_columns = {"arm", "time_origin", "note", "quantity", "unit", "method", "step", "term", "distribution"}
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
