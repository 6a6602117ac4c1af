"""Real browser (Playwright + Debian's headless Chromium) against a running server.

Screenshots of every page are kept under test-artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.browser import screenshot, wait_for_app
from tests.waits import BROWSER_MS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["", "survival", "target-trial", "subgroups", "robustness", "surgical", "cohort", "matching", "method-check", "data",
         "dictionary"]
HR_LABEL = "Hazard ratio"


def metrics(page) -> dict[str, str]:
    """Metric label -> value as shown."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-testid="stMetric"]')].map(m => [
            m.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
            m.querySelector('[data-testid="stMetricValue"]').innerText.trim()]))"""
    )


KM_SIGNATURE_JS = """() => { const p = document.querySelector('.js-plotly-plot');
    if (!p || !p.data) return null;
    return JSON.stringify(p.data.map(t => { const y = Array.from(t.y || []); return [t.name, y.length, y.slice(-3)]; })); }"""


def km_signature(page) -> str:
    """A fingerprint of the first Kaplan-Meier figure's plotted data."""
    return page.evaluate(KM_SIGNATURE_JS)


def wait_metrics(page, n: int = 4) -> dict[str, str]:
    """Wait until the overview's ``n`` metrics are drawn and the run has finished, and return them."""
    page.get_by_text(HR_LABEL, exact=True).first.wait_for(timeout=BROWSER_MS)
    page.get_by_text("p-value", exact=True).wait_for(timeout=BROWSER_MS)
    page.wait_for_function(f"() => document.querySelectorAll('[data-testid=\"stMetric\"]').length >= {n}",
                           timeout=BROWSER_MS)
    wait_for_app(page, settle_ms=200)
    return metrics(page)


def download_button(page, label: str):
    """The first visible download button whose label is exactly ``label``."""
    return (page.locator('[data-testid="stMain"] [data-testid="stDownloadButton"] button')
            .filter(has=page.locator("p", has_text=re.compile(f"^{re.escape(label)}$"))).first)


def choose(page, label: str, option: str) -> None:
    """Pick the option whose words start with ``option`` in the sidebar multiselect labelled ``label``.

    The box is scrolled to the top of the sidebar first, so that its option list opens on screen, and the
    option itself is clicked: options read "Words (S n · C n)", the search is fuzzy, and Enter would take
    Streamlit's "Select all matches".
    """
    box = page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name=label, exact=True)
    box.evaluate("e => e.scrollIntoView({block: 'start'})")
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=re.compile(rf"^{re.escape(option)} \(", re.IGNORECASE)).first.click()
    page.keyboard.press("Escape")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_without_errors(page, app_url, path):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{app_url}/{path}")
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator("h1").count() >= 1
    # st.navigation's sidebar (not Streamlit's auto-discovered page list) is shown on deep links
    assert page.locator('[data-testid="stSidebarNav"]').get_by_text("Surgical outcomes").count() == 1
    assert page.get_by_text("PDAC-LM explorer").count() >= 1
    screenshot(page, f"page-{path or 'overview'}")
    assert errors == []


def test_a_filter_change_updates_curves_and_numbers(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot")
    before_numbers, before_curve = wait_metrics(page), km_signature(page)
    choose(page, "Chemotherapy regimen", "FOLFIRINOX")
    page.wait_for_function(f"() => ({KM_SIGNATURE_JS})() !== {json.dumps(before_curve)}", timeout=BROWSER_MS)
    wait_for_app(page)
    assert metrics(page)[HR_LABEL] != before_numbers[HR_LABEL]
    assert "reg=FOLFIRINOX" in page.url
    screenshot(page, "filter-folfirinox")


def test_shared_link_restores_the_same_numbers_in_a_new_browser(chromium, app_url):
    first = chromium.new_context(viewport={"width": 1440, "height": 900})
    first.set_default_timeout(BROWSER_MS)
    page = first.new_page()
    page.goto(f"{app_url}/?meth=naive&cal=0.3")
    wait_for_app(page)
    page.locator('[data-testid="stSidebar"]').get_by_text("More filters", exact=True).click()  # Resectability is there
    choose(page, "Resectability", "resectable")
    page.wait_for_url(re.compile(r"res=resectable"))  # the rerun of the filter change has written the URL
    wait_for_app(page)
    page.get_by_text("Share this view").click()
    link = page.locator('[data-testid="stPopoverBody"] code').inner_text().strip()
    assert "res=resectable" in link and "meth=naive" in link
    shown = wait_metrics(page)
    first.close()

    second = chromium.new_context(viewport={"width": 1440, "height": 900})
    second.set_default_timeout(BROWSER_MS)
    other = second.new_page()
    other.goto(link.replace("http://localhost:8501", app_url))
    wait_for_app(other)
    assert wait_metrics(other) == shown
    second.close()


def test_shared_link_of_an_uploaded_cohort_asks_for_that_file(chromium, app_url, tmp_path):
    """The link names the upload by its SHA-256: a new browser sees no numbers until it gives the same file."""
    lines = (ROOT / "data" / "demo_cohort.csv").read_text().splitlines(keepends=True)
    mine, other = tmp_path / "mine.csv", tmp_path / "other.csv"
    mine.write_text("".join(lines[:71]))  # 70 patients
    other.write_text("".join(lines[:61]))  # 60 patients: another cohort
    first = chromium.new_context(viewport={"width": 1440, "height": 900})
    first.set_default_timeout(BROWSER_MS)
    page = first.new_page()
    page.goto(f"{app_url}/data")
    wait_for_app(page)
    page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(mine))
    page.get_by_text("mine.csv loaded: 70 patients").wait_for(timeout=BROWSER_MS)
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Overview").click()
    wait_for_app(page)
    page.locator('[data-testid="stSidebar"]').get_by_text("More filters", exact=True).click()
    choose(page, "Resectability", "resectable")
    page.wait_for_url(re.compile(r"res=resectable"))  # the rerun of the filter change has written the URL
    wait_for_app(page)
    shown = wait_metrics(page)
    page.get_by_text("Share this view").click()
    link = page.locator('[data-testid="stPopoverBody"] code').inner_text().strip()
    assert "res=resectable" in link and re.search(r"[?&]data=[0-9a-f]{64}", link), link
    assert "patient" not in link.lower()
    first.close()

    second = chromium.new_context(viewport={"width": 1440, "height": 900})
    second.set_default_timeout(BROWSER_MS)
    other_page = second.new_page()
    other_page.goto(link)
    wait_for_app(other_page)
    other_page.get_by_text("This link is for an uploaded cohort").wait_for()
    assert other_page.locator('[data-testid="stMetric"]').count() == 0, "no numbers before the file is given"
    screenshot(other_page, "shared_upload_link_asks")
    uploader = '[data-testid="stFileUploaderDropzoneInput"]'
    other_page.set_input_files(uploader, str(other))
    other_page.get_by_text("other.csv is not the cohort this link was made from").wait_for()
    assert other_page.locator('[data-testid="stMetric"]').count() == 0, "another file is refused, not shown"
    other_page.set_input_files(uploader, str(mine))
    assert wait_metrics(other_page) == shown
    assert "70 patients" in other_page.inner_text('[data-testid="stSidebar"]')
    assert "res=resectable" in other_page.url
    screenshot(other_page, "shared_upload_link_restored")
    second.close()

    third = chromium.new_context(viewport={"width": 1440, "height": 900})
    third.set_default_timeout(BROWSER_MS)
    demo_page = third.new_page()
    demo_page.goto(link)
    wait_for_app(demo_page)
    demo_page.get_by_text("Open the synthetic demo cohort instead").click()
    wait_metrics(demo_page)
    assert "data=" not in demo_page.url and "synthetic demo cohort" in demo_page.inner_text('[data-testid="stMain"]')
    third.close()

def test_presentation_mode_hides_controls_and_keeps_numbers(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    shown = wait_metrics(page)
    page.get_by_text("Present", exact=True).click()
    wait_for_app(page)
    assert "present=1" in page.url
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert wait_metrics(page) == shown
    size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('[data-testid=\"stMetricValue\"]')).fontSize)")
    assert size >= 40
    screenshot(page, "presentation")


def test_upload_replaces_the_cohort_and_a_bad_file_keeps_it(page, app_url, tmp_path):
    lines = (ROOT / "data" / "demo_cohort.csv").read_text().splitlines(keepends=True)
    small = tmp_path / "small.csv"
    small.write_text("".join(lines[:61]))
    bad = tmp_path / "bad.csv"
    bad.write_text("patient_id,centre_id\nP1,A\n")
    page.goto(f"{app_url}/data")
    wait_for_app(page)
    page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(small))
    page.get_by_text("small.csv loaded: 60 patients").wait_for(timeout=BROWSER_MS)
    wait_for_app(page)
    assert page.get_by_text("Uploaded cohort").count() >= 1
    page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(bad))
    page.get_by_text("bad.csv was not loaded").wait_for(timeout=BROWSER_MS)
    wait_for_app(page)
    assert page.get_by_text("still active").count() >= 1
    assert page.locator('[data-testid="stSidebar"]').get_by_text("60 patients").count() >= 1
    screenshot(page, "upload-report")


def _sheets(path: str) -> dict[str, pd.DataFrame]:
    return pd.read_excel(io.BytesIO(Path(path).read_bytes()), sheet_name=None)


def _methods_sheet(path: str) -> dict[str, str]:
    book = openpyxl.load_workbook(io.BytesIO(Path(path).read_bytes()))
    return {row[0].value: row[1].value for row in book["Methods"].iter_rows() if row[0].value}


def test_survival_downloads_contain_what_the_screen_shows(page, app_url):
    page.goto(f"{app_url}/survival")
    wait_for_app(page)
    headline = page.get_by_text("Hazard ratio 0.").first.inner_text()
    main = page.locator('[data-testid="stMain"]').inner_text()
    log_rank = re.search(r"Log-rank p ([=<]) (0\.\d{3})", main).groups()
    rmst = re.search(r"RMST difference at (\d+) months: (\d+\.\d) \((\d+\.\d)–(\d+\.\d)\) months", main).groups()
    with page.expect_download() as dl:
        download_button(page, "Excel").click()
    book = openpyxl.load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
    assert "Methods" in book.sheetnames and "KM estimates" in book.sheetnames
    methods = _methods_sheet(dl.value.path())
    assert "View URL" in methods and "Cohort SHA-256" in methods
    sheets = _sheets(dl.value.path())
    shown = sheets["Immortal-time methods"]
    landmark_hr = shown.loc[shown["method"].str.startswith("Landmark"), "hr"].item()
    assert f"Hazard ratio {landmark_hr:.2f}" in headline
    # issue 10: the log-rank test and the RMST difference are in the download, as numbers
    comparison = sheets["Comparison"].set_index("quantity")
    p = comparison.loc["log-rank test", "p"]
    assert p < float(log_rank[1]) if log_rank[0] == "<" else f"{p:.3f}" == log_rank[1]
    diff = comparison.loc["restricted mean survival time difference, surgery minus chemotherapy"]
    assert (f"{diff['tau_months']:.0f}", f"{diff['estimate']:.1f}", f"{diff['lower_95']:.1f}",
            f"{diff['upper_95']:.1f}") == rmst
    estimates = sheets["Estimates"]
    assert all(pd.api.types.is_numeric_dtype(estimates[c]) for c in estimates.columns
               if c not in ("arm", "time_origin", "note")), estimates.dtypes
    assert methods["KM estimates: se_neg_log_survival"].startswith("standard error of -log S(t)")
    assert methods["KM estimates: months_since_landmark"].startswith("time in months (days / 30.4375) since the landmark")
    with page.expect_download() as dl:
        download_button(page, "CSV").click()
    with zipfile.ZipFile(io.BytesIO(Path(dl.value.path()).read_bytes())) as z:
        names = z.namelist()
        assert "provenance.json" in names and "Comparison.csv" in names
        km = pd.read_csv(z.open("KM_estimates.csv"), encoding="utf-8-sig")
        readme = z.read("README.txt").decode("utf-8")
    assert set(km["arm"]) == {"surgery", "chemotherapy"}
    assert "months_since_landmark" in km.columns and "se_neg_log_survival" in km.columns
    assert "KM_estimates.csv\n  arm: " in readme and "  se_neg_log_survival: standard error of -log S(t)" in readme


def test_downloads_under_suppression_explain_their_marks(page, app_url):
    page.goto(f"{app_url}/")
    wait_for_app(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Small-cell suppression", exact=True).click()
    sidebar.get_by_text("Suppress small counts", exact=True).click()
    wait_for_app(page)
    with page.expect_download() as dl:
        download_button(page, "Excel").click()
    sheets = _sheets(dl.value.path())
    assert {"Flow", "Estimates", "Comparison", "Immortal-time methods"} <= set(sheets)
    flow = sheets["Flow"]
    assert flow.columns.tolist() == ["step", "patients_surgery", "patients_chemotherapy"]
    methods = _methods_sheet(dl.value.path())
    assert methods["Comparison: p"].startswith("two-sided p-value")
    assert sheets["Comparison"].set_index("quantity").loc["log-rank test", "p"] > 0
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Survival", exact=True).click()  # same session
    page.locator('[data-testid="stMain"] h1:has-text("Survival")').wait_for()
    wait_for_app(page)
    with page.expect_download() as dl:
        download_button(page, "CSV").click()
    with zipfile.ZipFile(io.BytesIO(Path(dl.value.path()).read_bytes())) as z:
        risk = pd.read_csv(z.open("Number_at_risk.csv"), encoding="utf-8-sig", dtype=str)
        readme = z.read("README.txt").decode("utf-8")
        assert "KM_estimates.csv" not in z.namelist()  # event-level life tables are withheld under suppression
    assert "<11" in set(risk["n_at_risk_chemotherapy"])  # the demo's numbers at risk fall below 11
    assert "Number_at_risk.csv\n" in readme
    assert "  <11: a count from 1 to 10, hidden by small-cell suppression (k = 11)." in readme


def test_km_png_download_is_an_image(page, app_url):
    page.goto(f"{app_url}/survival")
    wait_for_app(page)
    with page.expect_download(timeout=BROWSER_MS) as dl:
        download_button(page, "PNG (journal)").click()
    data = Path(dl.value.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    assert width == 1004
