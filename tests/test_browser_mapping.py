"""Real browser: the full mapping round trip for an export with other column names and codes.

An Italian centre's export is uploaded, the proposal confirmed (one unknown code decided), the
cohort loads, the mapping file is downloaded; in a new session the export and the mapping file are
uploaded again and the cohort loads at once, with no step. The export carries a random marker: it
must not reach the server log or any file on disk. Screenshots of the step at 1440x900 and 1280x720
go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from pathlib import Path

import pytest

from tests.browser import ROOT, screenshot, streamlit_server, wait_for_app
from ui.layout import escape_md

pytestmark = pytest.mark.browser

EXPORT = ROOT / "tests" / "exports" / "modena_it.csv"
UPLOADERS = '[data-testid="stFileUploaderDropzoneInput"]'
STEP = "Map the export to the data dictionary"
MARKER = f"CENTRO-{secrets.token_hex(4).upper()}"
T0 = time.time()


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mapping")


@pytest.fixture(scope="module")
def server(work):
    log = work / "server.log"
    with streamlit_server(log_path=log) as url:
        yield url, log


def _export(work: Path) -> Path:
    """The Italian export with the centre name replaced by a marker (written in the test's own folder)."""
    path = work / "modena_it.csv"
    path.write_bytes(EXPORT.read_bytes().replace(b"Modena", MARKER.encode()))
    return path


def _page(chromium, width: int = 1440, height: int = 900):
    context = chromium.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    return context, context.new_page()


def _open_data(page, url: str) -> None:
    page.goto(f"{url}/data")
    wait_for_app(page)


def _combobox(page, label: str):
    """A selectbox by its label (Streamlit puts the Markdown-escaped label in aria-label)."""
    return page.locator('[data-testid="stMain"]').get_by_role("combobox", name=escape_md(label), exact=True)


def _choose(page, label: str, option: str) -> None:
    box = _combobox(page, label)
    box.scroll_into_view_if_needed()
    box.click()
    page.keyboard.type(option)
    page.keyboard.press("Enter")
    wait_for_app(page)


def _download(page, label: str, target: Path) -> Path:
    button = page.locator('[data-testid="stMain"] [data-testid="stDownloadButton"] button').filter(has_text=label)
    with page.expect_download(timeout=30_000) as info:
        button.first.click()
    info.value.save_as(target)
    return target


def test_full_mapping_round_trip(server, chromium, work):
    url, log = server
    export = _export(work)
    ctx, page = _page(chromium)
    try:
        _open_data(page, url)
        page.locator(UPLOADERS).first.set_input_files(str(export))
        page.get_by_text(STEP).wait_for(timeout=90_000)
        wait_for_app(page)
        assert page.get_by_text("modena_it.csv uses other column names or codes").count() == 1
        screenshot(page, "mapping-step-1440")
        # the proposal: the Italian headers are matched, 'Whipple' is PD, 'GnP' is for the user to decide
        main = page.locator('[data-testid="stMain"]')
        assert _combobox(page, "Sesso").input_value() == "sex"
        main.get_by_text("codes recognised from other spellings", exact=False).click()  # open them to check
        assert _combobox(page, "'Whipple' (1 row)").input_value() == "PD"
        assert _combobox(page, "'GnP' (1 row)").input_value() == "? (not decided)"
        _choose(page, "'GnP' (1 row)", "GEM_NABPAC")
        page.get_by_role("button", name="Load with this mapping").click()
        page.get_by_text("modena_it.csv loaded: 6 patients (3 surgery, 3 chemotherapy)").wait_for(timeout=90_000)
        wait_for_app(page)
        assert page.get_by_text(STEP).count() == 0
        assert page.locator('[data-testid="stSidebar"]').get_by_text("6 patients").count() >= 1
        assert MARKER in page.content()  # the cohort shown is the uploaded one
        saved = _download(page, "Download the mapping used (JSON)", work / "downloads" / "modena-mapping.json")
        mapping = json.loads(saved.read_text(encoding="utf-8"))
        assert mapping["columns"]["Codice paziente"] == "patient_id"
        assert mapping["values"]["chemo_regimen"]["GnP"] == "GEM_NABPAC" and mapping["date_order"] == "dmy"
        assert MARKER not in saved.read_text(encoding="utf-8")  # column names and codes only
        screenshot(page, "mapping-loaded-1440")
    finally:
        ctx.close()

    # A new session: the next export with its mapping file loads at once.
    ctx, page = _page(chromium)
    try:
        _open_data(page, url)
        page.locator(UPLOADERS).nth(1).set_input_files(str(saved))
        wait_for_app(page)
        page.locator(UPLOADERS).first.set_input_files(str(export))
        page.get_by_text("modena_it.csv loaded: 6 patients (3 surgery, 3 chemotherapy)").wait_for(timeout=90_000)
        wait_for_app(page)
        assert page.get_by_text(STEP).count() == 0
        assert page.get_by_text("Read with a column mapping").count() == 1
        assert page.locator('[data-testid="stSidebar"]').get_by_text("6 patients").count() >= 1
    finally:
        ctx.close()
    _assert_no_marker_at_rest(log, work)


def test_the_step_fits_a_projector_screen(server, chromium, work):
    """At 1280x720 every control of the step is inside the main column (nothing cut off on the right)."""
    ctx, page = _page(chromium, 1280, 720)
    try:
        _open_data(page, url := server[0])
        assert url
        page.locator(UPLOADERS).first.set_input_files(str(_export(work)))
        page.get_by_text(STEP).wait_for(timeout=90_000)
        wait_for_app(page)
        screenshot(page, "mapping-step-1280")
        overflow = page.evaluate("""() => {
            const main = document.querySelector('[data-testid="stMain"] .block-container').getBoundingClientRect();
            const bad = [];
            for (const el of document.querySelectorAll(
                    '[data-testid="stMain"] [data-testid="stSelectbox"], [data-testid="stMain"] button, '
                    + '[data-testid="stMain"] [data-testid="stRadio"]')) {
                const r = el.getBoundingClientRect();
                if (r.width > 0 && (r.right > main.right + 1 || r.left < main.left - 1)) bad.push(el.innerText.slice(0, 40));
            }
            return bad; }""")
        assert overflow == []
        clipped = page.evaluate("""() => [...document.querySelectorAll(
                '[data-testid="stMain"] [data-testid="stSelectbox"] input[role="combobox"]')]
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.value)""")
        assert clipped == [], f"selectbox values cut off: {clipped}"
    finally:
        ctx.close()


def _assert_no_marker_at_rest(log: Path, work: Path) -> None:
    text = log.read_text(encoding="utf-8", errors="replace")
    assert MARKER not in text, "marker in the server log"
    needle = MARKER.encode()
    skip = work.resolve()
    hits = []
    for root in {Path("/tmp"), Path(tempfile.gettempdir()), ROOT}:
        for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: None):
            d = Path(dirpath).resolve()
            if d == skip or skip in d.parents:
                dirnames[:] = []
                continue
            dirnames[:] = [n for n in dirnames if not n.startswith(("playwright", ".venv", ".git", "chromium"))]
            for name in filenames:
                p = d / name
                try:
                    st = p.lstat()
                    if not p.is_file() or p.is_symlink() or st.st_mtime < T0 - 1 or st.st_size > 50_000_000:
                        continue
                    if needle in p.read_bytes():
                        hits.append(str(p))
                except OSError:
                    continue
    assert not hits, hits
