"""AppTest: every page runs on the demo cohort without exceptions, uploads work and fail safely."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["views/overview.py", "views/data.py", "views/dictionary.py"]


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    return at.run()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_demo(page):
    at = _app()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "page has a title"


def test_overview_shows_the_arms_of_the_demo():
    at = _app()
    labels = {m.label: m.value for m in at.metric}
    assert labels["Patients"] == "90"
    assert labels["Surgery group"] == "45"
    assert labels["Chemotherapy group"] == "45"


def _upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.switch_page("views/data.py").run()
    at.file_uploader(key="upload").set_value((name, content, "text/csv")).run()
    return at


def test_failed_upload_lists_problems_and_keeps_the_demo():
    at = _app()
    _upload(at, "broken.csv", b"patient_id,centre_id\nP1,A\n")
    assert not at.exception
    assert any("was not loaded" in e.value for e in at.error)
    assert any("still active" in e.value for e in at.error)
    problems = at.dataframe[0].value
    assert "treatment_group" in " ".join(map(str, problems.astype(str).values.ravel()))
    at.switch_page("views/overview.py").run()
    assert {m.label: m.value for m in at.metric}["Patients"] == "90"


def test_valid_upload_becomes_the_active_cohort():
    demo_csv = (ROOT / "data" / "demo_cohort.csv").read_bytes()
    # keep the first 30 patients: a smaller but valid cohort
    lines = demo_csv.splitlines(keepends=True)
    small = b"".join(lines[:31])
    at = _app()
    _upload(at, "small.csv", small)
    assert not at.exception
    assert any("small.csv loaded: 30 patients" in s.value for s in at.success)
    at.switch_page("views/overview.py").run()
    assert {m.label: m.value for m in at.metric}["Patients"] == "30"


def test_dictionary_page_offers_csv_download():
    at = _app()
    at.switch_page("views/dictionary.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert "patient_id" in set(table["column"])
