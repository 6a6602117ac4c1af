"""Session isolation, no patient data at rest, HTML escaping and fault tolerance, against a real server.

AppTest runs every test in one session, so isolation is proven here with several Chromium
contexts (separate browser sessions, separate websockets) talking to one ``streamlit run``:

* sessions A and B upload different cohorts carrying marker values (a centre id, a patient id;
  A also uploads a file whose marker value fails validation), drive every page and the CSV
  download, and each sees only its own markers;
* afterwards no marker is found in the server log, the temp directories or the working tree;
* a third session uploads ``<img src=x onerror=alert(1)>`` as a centre name, a column name and
  a file name: it is shown as text, never as an element, and no dialog fires;
* a session that disconnects mid-upload, one that disconnects during a fit and one whose run
  raises leave the other sessions and ``/_stcore/health`` working.

Markers carry a random token per run, so files from earlier runs cannot match.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core import synthetic
from tests.browser import ROOT, screenshot, streamlit_server, wait_for_app
from tests.waits import BROWSER_MS

pytestmark = pytest.mark.browser

TOKEN = secrets.token_hex(4).upper()
MARK = {
    "A": {"centre": f"MARKER-A-{TOKEN}", "patient": f"PATIENT-A-{TOKEN}", "n": 80},
    "B": {"centre": f"MARKER-B-{TOKEN}", "patient": f"PATIENT-B-{TOKEN}", "n": 70},
}
INVALID_PATIENT = f"PATIENT-BAD-{TOKEN}"
INVALID_VALUE = f"VALERR-{TOKEN}"
XSS = "<img src=x onerror=alert(1)>"
ALL_MARKERS = [MARK["A"]["centre"], MARK["A"]["patient"], MARK["B"]["centre"], MARK["B"]["patient"],
               INVALID_PATIENT, INVALID_VALUE]
PAGES = ["/", "/survival", "/subgroups", "/surgical", "/cohort", "/matching", "/method-check", "/data", "/dictionary"]
#: Pages whose numbers depend on the cohort (a result cached for one session and served to the other shows up here).
RESULT_PAGES = {"/", "/survival", "/subgroups", "/surgical", "/cohort", "/matching", "/data"}
UPLOAD = '[data-testid="stFileUploaderDropzoneInput"]'
T0 = time.time()


# --- marker cohorts --------------------------------------------------------------------------------

def _demo_rows() -> tuple[list[str], list[list[str]]]:
    lines = (ROOT / "data" / "demo_cohort.csv").read_text(encoding="utf-8").splitlines()
    return lines[0].split(","), [line.split(",") for line in lines[1:]]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def _marker_cohort(path: Path, who: str) -> Path:
    header, rows = _demo_rows()
    rows = rows[: MARK[who]["n"]]
    centre, pid = header.index("centre_id"), header.index("patient_id")
    for r in rows[:5]:
        r[centre] = MARK[who]["centre"]
    rows[0][pid] = MARK[who]["patient"]
    return _write(path, header, rows)


def _invalid_cohort(path: Path) -> Path:
    header, rows = _demo_rows()
    rows = rows[:50]
    rows[2][header.index("patient_id")] = INVALID_PATIENT
    rows[2][header.index("age_at_diagnosis")] = INVALID_VALUE
    return _write(path, header, rows)


def _xss_cohort(path: Path) -> Path:
    header, rows = _demo_rows()
    rows = rows[:60]
    for r in rows[:5]:
        r[header.index("centre_id")] = XSS
    return _write(path, [*header, XSS], [[*r, "x"] for r in rows])


def _large_cohort(path: Path, n: int = 10_000) -> Path:
    n_s = n // 4
    synthetic.generate(n_surgery=n_s, n_chemotherapy=n - n_s, seed=7).to_csv(path, index=False)
    return path


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("isolation")


@pytest.fixture(scope="module")
def server(work):
    log = work / "server.log"
    with streamlit_server(log_path=log, env={"PDAC_FAULT_INJECTION": "1"}) as url:
        yield url, log


def _session(chromium):
    context = chromium.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    context.set_default_timeout(BROWSER_MS)
    page = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.dialogs = dialogs  # type: ignore[attr-defined]
    return context, page


def _goto(page, url: str, path: str) -> None:
    """Switch page through the sidebar navigation (keeps the session), or open the URL first."""
    if page.url.startswith(url):
        page.locator(f'[data-testid="stSidebarNavLink"][href="{url}{path}"]').click()
        page.wait_for_url(lambda u: urlsplit(u).path == path)
    else:
        page.goto(url + path)
    wait_for_app(page, settle_ms=300)


def _upload(page, url: str, path: Path | dict, *, expect: str = "stAlertContentSuccess") -> None:
    _goto(page, url, "/data")
    page.set_input_files(UPLOAD, path)
    page.wait_for_selector(f'[data-testid="{expect}"]', timeout=BROWSER_MS)
    wait_for_app(page)


def _dom(page) -> str:
    return page.content()


def _assert_health(url: str) -> None:
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as r:
        assert r.status == 200
        assert r.read().strip() == b"ok"


def _download(page, work: Path, name: str) -> str:
    with page.expect_download(timeout=BROWSER_MS) as info:
        page.get_by_role("button", name="Download this table (CSV)").click()
    target = work / "downloads" / name
    info.value.save_as(target)
    return target.read_text(encoding="utf-8")


# --- the tests -----------------------------------------------------------------------------------

def test_sessions_see_only_their_own_data_and_nothing_reaches_disk_or_logs(server, chromium, work):
    url, log = server
    files = work / "uploads"
    files.mkdir()
    ctx_a, a = _session(chromium)
    ctx_b, b = _session(chromium)
    try:
        # A first uploads a file that fails validation on a marker value, then a valid cohort.
        _upload(a, url, _invalid_cohort(files / "invalid.csv"), expect="stAlertContentError")
        assert "was not loaded" in a.inner_text("body")
        assert INVALID_VALUE in _dom(a), "the uploader's own report names the value (own session only)"
        _upload(a, url, _marker_cohort(files / "cohort_a.csv", "A"))
        _upload(b, url, _marker_cohort(files / "cohort_b.csv", "B"))
        screenshot(a, "isolation_a_data")
        for own, other, page in (("A", "B", a), ("B", "A", b)):
            dom = _dom(page)
            assert MARK[own]["centre"] in dom and MARK[own]["patient"] in dom, f"{own} sees its own rows"
            text = _download(page, work, f"{own}.csv")
            assert MARK[own]["centre"] in text and MARK[own]["patient"] in text
            assert len(text.strip().splitlines()) == MARK[own]["n"] + 1
            for marker in (MARK[other]["centre"], MARK[other]["patient"], INVALID_PATIENT, INVALID_VALUE):
                assert marker not in text, f"{own}'s download holds {marker}"

        # Every page, alternating between the sessions so their runs interleave on the server.
        for path in PAGES:
            main = {}
            for own, other, page in (("A", "B", a), ("B", "A", b)):
                _goto(page, url, path)
                dom = _dom(page)
                main[own] = page.inner_text('[data-testid="stMain"]')
                assert not page.locator('[data-testid="stException"]').count(), f"{own} {path}"
                sidebar = page.inner_text('[data-testid="stSidebar"]')
                assert f"{MARK[own]['n']} patients" in sidebar, f"{own} {path}: not its own cohort"
                foreign = [MARK[other]["centre"], MARK[other]["patient"]]
                if own == "B":
                    foreign += [INVALID_PATIENT, INVALID_VALUE]
                leaked = [m for m in foreign if m in dom]
                assert not leaked, f"session {own} page {path} shows {leaked}"
            if path in RESULT_PAGES:  # numbers from different cohorts differ: no result served to the other
                assert main["A"] != main["B"], f"{path}: both sessions show the same results"
        screenshot(b, "isolation_b_dictionary")
    finally:
        ctx_a.close()
        ctx_b.close()
    _assert_no_marker_at_rest(log, work)


def _assert_no_marker_at_rest(log: Path, work: Path) -> None:
    log_text = log.read_text(encoding="utf-8", errors="replace")
    assert not [m for m in ALL_MARKERS if m in log_text], "marker in the server log"
    roots = {Path("/tmp"), Path(tempfile.gettempdir()), ROOT, Path.cwd()}
    skip = {work.resolve()}  # the test's own input files and saved downloads (client side)
    hits = []
    needles = [m.encode() for m in ALL_MARKERS]
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: None):
            d = Path(dirpath)
            if d.resolve() in skip or any(p in skip for p in d.resolve().parents):
                dirnames[:] = []
                continue
            # The browser's own profile and download folders are the client, not the server.
            dirnames[:] = [n for n in dirnames if not n.startswith(("playwright", ".venv", ".git", "chromium"))]
            for name in filenames:
                p = d / name
                try:
                    st = p.lstat()
                    if not p.is_file() or p.is_symlink() or st.st_mtime < T0 - 1 or st.st_size > 50_000_000:
                        continue
                    data = p.read_bytes()
                except OSError:
                    continue
                hits += [f"{p}: {n.decode()}" for n in needles if n in data]
    assert not hits, hits


def test_user_text_is_escaped_everywhere(server, chromium, work):
    url, _ = server
    ctx, page = _session(chromium)
    try:
        path = _xss_cohort(work / "xss.csv")
        _upload(page, url, {"name": f"{XSS}.csv", "mimeType": "text/csv", "buffer": path.read_bytes()})
        assert XSS in page.inner_text("body"), "the column name is shown literally in the upload notes"
        _goto(page, url, "/")  # the sidebar card is drawn before the page handles the upload
        assert page.locator('img[src="x"]').count() == 0 and page.dialogs == []  # type: ignore[attr-defined]
        assert XSS in page.inner_text('[data-testid="stSidebar"]'), "file name shown literally in the sidebar"
        # choose the centre named like an element: options and the filter strip show it as text
        page.locator('[data-testid="stSidebar"]').get_by_text("More filters", exact=True).click()  # Centre is there
        centre = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Centre")
        centre.evaluate("e => e.scrollIntoView({block: 'start'})")  # room below for the option list
        box = centre.locator("input")
        box.click()
        box.press_sequentially("<img")
        # click the option itself: Enter would take Streamlit's "Select all matches" (the search is fuzzy)
        page.get_by_role("option").filter(has_text="<img").first.click()
        wait_for_app(page)
        page.keyboard.press("Escape")
        for p in PAGES:
            _goto(page, url, p)
            assert page.locator('img[src="x"]').count() == 0, f"{p}: an <img> element was created from data"
            assert not page.locator('[data-testid="stException"]').count(), p
            if p == "/":
                assert XSS in page.inner_text('[data-testid="stMain"]'), "the filter strip names the centre as text"
        screenshot(page, "xss_overview_filtered")
        page.wait_for_timeout(300)
        assert page.dialogs == []  # type: ignore[attr-defined]
    finally:
        ctx.close()


URLS = {"column": f"https://col-{TOKEN.lower()}.example/x", "bare": f"www.bare-{TOKEN.lower()}.example",
        "mail": f"someone@mail-{TOKEN.lower()}.example", "centre": f"http://centre-{TOKEN.lower()}.example/c"}


def _url_cohort(path: Path) -> Path:
    header, rows = _demo_rows()
    rows = rows[:60]
    for r in rows[:5]:
        r[header.index("centre_id")] = URLS["centre"]
    extra = [URLS["column"], URLS["bare"], f"ask {URLS['mail']}"]
    return _write(path, [*header, *extra], [[*r, "x", "y", "z"] for r in rows])


def test_user_text_with_urls_never_becomes_a_link(server, chromium, work):
    """Column names, a centre and a file name that look like URLs or e-mail addresses show as text, not links."""
    url, _ = server
    ctx, page = _session(chromium)
    links = 'a[href*="example"]'
    try:
        path = _url_cohort(work / "urls.csv")
        _upload(page, url, {"name": f"{URLS['bare']}.csv", "mimeType": "text/csv", "buffer": path.read_bytes()})
        body = page.inner_text("body").replace("\u2060", "")
        assert URLS["column"] in body and URLS["bare"] in body and URLS["mail"] in body, "shown as text"
        screenshot(page, "urls_data")
        assert page.locator(links).count() == 0, page.eval_on_selector_all(links, "els => els.map(e => e.href)")
        _goto(page, url, "/")
        page.locator('[data-testid="stSidebar"]').get_by_text("More filters", exact=True).click()  # Centre is there
        centre = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Centre")
        centre.evaluate("e => e.scrollIntoView({block: 'start'})")  # room below for the option list
        box = centre.locator("input")
        box.click()
        box.press_sequentially("http")
        page.get_by_role("option").filter(has_text=URLS["centre"]).first.click()  # not Enter: "Select all matches"
        wait_for_app(page)
        page.keyboard.press("Escape")
        assert URLS["centre"] in page.inner_text('[data-testid="stMain"]').replace("\u2060", ""), "filter strip"
        for p in PAGES:
            _goto(page, url, p)
            assert not page.locator('[data-testid="stException"]').count(), p
            found = page.eval_on_selector_all(links, "els => els.map(e => e.href)")
            assert not found, f"{p}: user text rendered as links {found}"
    finally:
        ctx.close()


def test_faults_in_one_session_leave_the_others_working(server, chromium, work):
    url, _ = server
    big = _large_cohort(work / "big.csv")
    ctx_ok, ok = _session(chromium)
    try:
        _upload(ok, url, _marker_cohort(work / "ok.csv", "A"))

        # 1. disconnect in the middle of an upload of a 10,000-patient file
        ctx, page = _session(chromium)
        _goto(page, url, "/data")
        page.set_input_files(UPLOAD, big)
        page.wait_for_timeout(200)
        ctx.close()

        # 2. disconnect during a fit (matching page of the demo, left before it finishes)
        ctx, page = _session(chromium)
        page.goto(url + "/matching")
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]', timeout=BROWSER_MS)
        ctx.close()

        # 3. an exception inside one session: a generic message, no details, no traceback
        ctx, page = _session(chromium)
        page.goto(url + "/?fault=raise")
        page.wait_for_selector('[data-testid="stException"]', timeout=BROWSER_MS)
        shown = page.inner_text("body")
        assert "INJECTED-FAULT-DETAIL" not in shown and "Traceback" not in shown
        screenshot(page, "fault_exception")

        _assert_health(url)
        for path in ("/survival", "/data"):
            _goto(ok, url, path)
            assert not ok.locator('[data-testid="stException"]').count()
            assert f"{MARK['A']['n']} patients" in ok.inner_text('[data-testid="stSidebar"]')
        ctx.close()

        # a fresh session still works on the demo
        ctx, page = _session(chromium)
        page.goto(url + "/")
        wait_for_app(page)
        assert "90 patients" in page.inner_text('[data-testid="stSidebar"]')
        ctx.close()
        _assert_health(url)
    finally:
        ctx_ok.close()


def test_access_control_on_real_server_hides_every_page_until_login(chromium, tmp_path):
    from ui import auth

    password = "plum-heron-8812"
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(f'[auth]\npassword_hash = "{auth.hash_password(password, iterations=1000)}"\n')
    with streamlit_server(args=["--secrets.files", str(secrets_file)]) as url:
        ctx, page = _session(chromium)
        try:
            for path in ("/", "/data", "/survival", "/cohort"):  # deep links too
                page.goto(url + path)
                wait_for_app(page)
                assert page.locator('input[type="password"]').count() == 1, path
                for testid in ("stFileUploader", "stMetric", "stDataFrame", "stPlotlyChart", "stSidebarNavLink"):
                    assert page.locator(f'[data-testid="{testid}"]').count() == 0, f"{path}: {testid} before login"
            page.goto(url + "/survival?meth=naive")  # a shared deep link, opened before logging in
            wait_for_app(page)
            page.fill('input[type="password"]', "wrong-password")
            page.get_by_role("button", name="Log in").click()
            wait_for_app(page)
            assert "Wrong password" in page.inner_text("body")
            assert page.locator('[data-testid="stFileUploader"]').count() == 0
            page.fill('input[type="password"]', password)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_selector('[data-testid="stSidebarNavLink"]', timeout=BROWSER_MS)
            wait_for_app(page)
            screenshot(page, "auth_after_login")
            # the user lands on the page and view of the link they opened, not on the default page
            page.wait_for_selector('[data-testid="stMain"] h1:has-text("Survival")', timeout=BROWSER_MS)
            assert "/survival" in page.url and "meth=naive" in page.url, page.url
            assert "Naive" in page.inner_text('[data-testid="stMain"]') or "naive" in page.inner_text(
                '[data-testid="stMain"]')
            _goto(page, url, "/data")
            page.wait_for_selector(UPLOAD, state="attached", timeout=BROWSER_MS)
            assert page.locator('input[type="password"]').count() == 0
        finally:
            ctx.close()
