"""Downloads stay in their session, deferred downloads use the session's data, log-in comes first:
against a real server, with the protocol client (``scripts/st_client.py``) as the browser.

* Streamlit names media files over 1 MiB by their length and three 64 KiB samples: two exports
  that differ only outside those samples must still download as themselves, in two sessions and
  after a corrected re-upload in one.
* Deferred downloads (generated on click, in a worker thread without the session) must show the
  session's own upload and its small-cell suppression.
* With access control on: a wrong-password delay holds no run slot, uploads are refused before
  log-in, Streamlit's clear-cache message is ignored, ``/_stcore/metrics`` is not served, and log
  out (and the idle timeout) drop the upload and its download files at once.
* Frame-ancestors protection on every page, ``Cache-Control: no-store`` on downloads.
"""

from __future__ import annotations

import asyncio
import html
import io
import re
import secrets
import socket
import zipfile
from urllib.parse import urlsplit

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.memory_media_file_storage import _calculate_file_id

from core import analysis, export, synthetic
from core import cohort as cohort_mod
from core.dictionary import IMPORTED_NAMES, C
from core.spec import AnalysisSpec
from core.study_report import suppression_sentence
from scripts.st_client import ProtocolError, StreamlitClient
from tests.browser import streamlit_server

TOKEN = secrets.token_hex(3).upper()
PASSWORD = "plum-heron-8812"
WINDOW = 64 * 1024  # Streamlit's sample size for media ids of files over 1 MiB
K = 11


# --- data ------------------------------------------------------------------------------------------

def _data_page_csv(data: bytes) -> bytes:
    """What the Data page's "Download this table (CSV)" holds for an upload of ``data``."""
    cohort = cohort_mod.load(data, filename="export.csv")
    return export.csv_bytes(cohort.data[[c for c in IMPORTED_NAMES if c in cohort.data.columns]])


@pytest.fixture(scope="module")
def colliding() -> dict:
    """Three 6,000-patient exports, identical but for one patient id (same length) outside the
    first, middle and last 64 KiB of the CSV the Data page offers: one Streamlit media id for all three."""
    base = synthetic.generate(n_surgery=1500, n_chemotherapy=4500, seed=21)
    row = len(base) // 4  # a quarter into the file: after the first window, before the middle one
    markers = {who: f"P{who}-{TOKEN}" for who in "ABC"}
    uploads = {}
    for who, marker in markers.items():
        df = base.copy()
        df.loc[row, C.PATIENT_ID] = marker
        uploads[who] = df.to_csv(index=False).encode()
    csv_a = _data_page_csv(uploads["A"])
    offered = {who: csv_a.replace(markers["A"].encode(), m.encode()) for who, m in markers.items()}
    # the test has teeth: the three downloads differ, but Streamlit gives them one id
    assert len(csv_a) > 1024 * 1024
    at = csv_a.index(markers["A"].encode())
    assert WINDOW < at < (len(csv_a) - WINDOW) // 2 - len(markers["A"])
    ids = {_calculate_file_id(offered[w], "text/csv", "cohort.csv") for w in "ABC"}
    assert len(ids) == 1 and len(set(offered.values())) == 3
    return {"uploads": uploads, "offered": offered, "markers": markers}


def _small_cohort(seed: int, marker: str | None = None, n: int = 400) -> bytes:
    df = synthetic.generate(n_surgery=n // 2, n_chemotherapy=n - n // 2, seed=seed)
    if marker:
        df.loc[3, C.PATIENT_ID] = marker
    return df.to_csv(index=False).encode()


# --- servers -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("web") / "server.log"
    with streamlit_server(log_path=log) as url:
        yield url


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    """Access control on, one run slot (so a held slot shows), a fast password hash."""
    from ui import auth

    work = tmp_path_factory.mktemp("auth")
    secrets_file = work / "secrets.toml"
    secrets_file.write_text(f'[auth]\npassword_hash = "{auth.hash_password(PASSWORD, iterations=1000)}"\n')
    with streamlit_server(args=["--secrets.files", str(secrets_file)], env={"PDAC_RUN_SLOTS": "1"},
                          log_path=work / "server.log") as url:
        yield url, work / "server.log"


@pytest.fixture(scope="module")
def idle_server():
    with streamlit_server(env={"PDAC_IDLE_MINUTES": "0.5"}) as url:
        yield url


# --- helpers ---------------------------------------------------------------------------------------

async def _upload(s: StreamlitClient, name: str, data: bytes) -> str:
    """Upload on the Data page; return the page text (the upload's message)."""
    if not s.of_type("file_uploader"):
        s.page_script_hash = ""
        await s.rerun(page_name="data")
    await s.upload(s.of_type("file_uploader")[0], name, data)
    return s.text().replace("\\", "")


async def _goto(s: StreamlitClient, page: str) -> None:
    s.page_script_hash = ""
    await s.rerun(page_name=page)
    assert not s.exceptions(), (page, s.exceptions())


async def _log_in(s: StreamlitClient, password: str) -> None:
    box = s.widget("text_input", "Password")
    value = WidgetState(id=box.id)
    value.string_value = password
    await s.click(s.widget("button", "Log in"), with_values=[value])


def _logged_in(s: StreamlitClient) -> bool:
    return any(b.label == "Log out" for b in s.of_type("button"))


def _cohort_csv(s: StreamlitClient):
    return s.download_button("Download this table (CSV)")


# --- 1. one media id per content and session ----------------------------------------------------------

def test_colliding_exports_download_as_themselves_in_two_sessions_and_after_a_reupload(server, colliding):
    up, offered, markers = colliding["uploads"], colliding["offered"], colliding["markers"]

    async def run():
        async with StreamlitClient(server) as a, StreamlitClient(server) as b:
            await a.open("data")
            await b.open("data")
            assert "loaded: 6000 patients" in (await _upload(a, "export.csv", up["A"])).replace(",", "")
            got_a = await a.download(_cohort_csv(a))
            assert got_a.status == 200 and got_a.body == offered["A"]
            assert "loaded: 6000 patients" in (await _upload(b, "export.csv", up["B"])).replace(",", "")
            got_b = await b.download(_cohort_csv(b))
            assert got_b.status == 200
            assert markers["A"].encode() not in got_b.body, "session B downloaded session A's patients"
            assert got_b.body == offered["B"]
            assert (await a.download(_cohort_csv(a))).body == offered["A"], "A still gets its own file"

            # the same session, a corrected export of the same length
            await _upload(a, "export_corrected.csv", up["C"])
            got_c = await a.download(_cohort_csv(a))
            assert got_c.body == offered["C"], "the re-upload downloads the old file"

            # identical content in two sessions: still two files (each session's own, dropped with it)
            await _upload(b, "export_corrected.csv", up["C"])
            assert await b.file_url(_cohort_csv(b)) != await a.file_url(_cohort_csv(a))
            assert (await b.download(_cohort_csv(b))).body == offered["C"]

    asyncio.run(run())


# --- 2. deferred downloads are the session's ---------------------------------------------------------

def _zip_texts(body: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return {n: z.read(n).decode("utf-8-sig", errors="replace") for n in z.namelist()}


def _xlsx_text(body: bytes) -> str:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row
                     if v is not None)


#: Pages and the figure downloads whose number-at-risk table must show "<11".
RISK_FIGURES = {"overview": ["dl_ov_km"], "survival": ["dl_km_fig"], "surgical": ["dl_surg_km"]}
PAGES = ["overview", "survival", "subgroups", "surgical", "cohort", "matching", "data"]


def test_every_deferred_download_uses_the_sessions_upload_and_suppression(server):
    data = _small_cohort(seed=31, marker=f"DEF-{TOKEN}")
    uploaded, demo = cohort_mod.load(data, filename="mine.csv"), cohort_mod.demo()
    risk = analysis.run(uploaded, AnalysisSpec()).risk_table
    assert ((risk > 0) & (risk < K)).to_numpy().any(), "the upload has small numbers at risk to suppress"

    async def run():
        async with StreamlitClient(server) as s:
            await s.open("data")
            await _upload(s, "mine.csv", data)
            await s.set_value(s.widget("checkbox", "Suppress small counts"), bool_value=True)
            assert s.widget("number_input", "k").default == K
            checked = []
            for page in PAGES:
                await _goto(s, page)
                buttons = [b for b in s.download_buttons() if b.HasField("deferred_file_id")]
                assert buttons, page
                for button in buttons:
                    if button.label.startswith("PNG") and page != "overview":
                        continue  # PNG and SVG share the figure; PNGs are rendered on one page only (slow)
                    got = await s.download(button)
                    assert got.status == 200 and got.body, (page, button.id)
                    checked.append((page, button.label, button.id))
                    _check_deferred(page, button, got.body, uploaded, demo)
            return checked

    checked = asyncio.run(run())
    assert {p for p, _, _ in checked} == set(PAGES)


def test_the_report_of_this_view_is_of_the_sessions_upload_with_its_suppression(server):
    data = _small_cohort(seed=35, marker=f"REP-{TOKEN}")
    uploaded, demo = cohort_mod.load(data, filename="mine.csv"), cohort_mod.demo()

    async def run():
        async with StreamlitClient(server) as s:
            await s.open("data")
            await _upload(s, "mine.csv", data)
            await s.set_value(s.widget("checkbox", "Suppress small counts"), bool_value=True)
            html = (await s.download(s.download_button("HTML", key="dl_report_html"))).body.decode("utf-8")
            pdf = (await s.download(s.download_button("PDF", key="dl_report_pdf"))).body
            return html, pdf

    report, pdf = asyncio.run(run())
    assert uploaded.sha256 in report and demo.sha256 not in report
    assert "synthetic demo cohort" not in report and "mine.csv" in report
    assert html.escape(suppression_sentence(K), quote=False) in report
    assert pdf.startswith(b"%PDF")


def _check_deferred(page, button, body: bytes, uploaded, demo) -> None:
    where = (page, button.label, button.id)
    if button.label == "SVG":
        texts = [html.unescape(t) for t in re.findall(r">([^<>]*)</text>", body.decode("utf-8"))]
        if any(button.id.endswith(f"-{key}_svg") for key in RISK_FIGURES.get(page, ())):
            assert f"<{K}" in texts, f"{where}: numbers at risk not suppressed"
    elif button.label == "CSV":
        texts = _zip_texts(body)
        assert uploaded.sha256 in texts["provenance.json"] and demo.sha256 not in texts["provenance.json"], where
    elif button.label == "Excel":
        text = _xlsx_text(body)
        assert uploaded.sha256 in text and demo.sha256 not in text, where
    elif button.label.startswith("PNG"):
        assert body.startswith(b"\x89PNG"), where
    elif button.label == "Parquet":
        assert body.startswith(b"PAR1"), where


# --- 3. log-in comes first ----------------------------------------------------------------------------

def test_a_wrong_password_delay_holds_no_run_slot(auth_server):
    url, _ = auth_server

    async def run():
        async with StreamlitClient(url) as user, StreamlitClient(url) as guesser:
            await user.open("")
            await _log_in(user, PASSWORD)
            assert _logged_in(user)
            await guesser.open("")
            for _ in range(5):  # delays before the attempts: 0, 0.5, 1, 2 and 4 s
                await _log_in(guesser, "wrong")
                assert "Wrong password" in guesser.text()
            guess = asyncio.create_task(_log_in(guesser, "wrong"))  # waits 8 s before checking
            await asyncio.sleep(1.0)
            await user.rerun(page_name="")  # the only run slot must be free for the logged-in user
            assert not guess.done(), "the logged-in user's update waited for the wrong-password delay"
            assert _logged_in(user) and not user.exceptions()
            await guess

    asyncio.run(run())


def test_uploads_are_refused_before_log_in(auth_server):
    url, _ = auth_server
    data = _small_cohort(seed=32)

    async def run():
        async with StreamlitClient(url) as s:
            await s.open("data")
            assert not s.of_type("file_uploader")
            target = await s.upload_urls("export.csv")
            refused = s.put_file(target.upload_url, "export.csv", data)
            assert refused.status == 403, refused.status
            # refused before the body is read: announce 45 MB, send none, and still get the answer
            assert await asyncio.to_thread(_status_of_a_put_without_body, url, target.upload_url) == 403
            await _log_in(s, PASSWORD)
            target = await s.upload_urls("export.csv")
            assert s.put_file(target.upload_url, "export.csv", data).status == 204  # control: after log-in

    asyncio.run(run())


def _status_of_a_put_without_body(base: str, upload_url: str, announced: int = 45 * 1024 * 1024) -> int:
    """Send only the headers of a large upload and return the HTTP status the server answers with."""
    parts = urlsplit(base)
    path = upload_url if upload_url.startswith("/") else urlsplit(upload_url).path
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as conn:
        conn.sendall((f"PUT {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: multipart/form-data; "
                      f"boundary=x\r\nContent-Length: {announced}\r\n\r\n").encode())
        head = conn.recv(4096).decode("latin-1")  # blocks until the server answers (the body never comes)
    return int(head.split()[1])


def test_the_clear_cache_message_is_ignored(auth_server):
    url, log = auth_server

    async def run():
        async with StreamlitClient(url) as user, StreamlitClient(url) as guest:
            await user.open("")
            await _log_in(user, PASSWORD)
            await guest.open("")
            await guest.send(BackMsg(clear_cache=True))
            await user.send(BackMsg(clear_cache=True))  # Streamlit would also clear the sender's session state
            await user.rerun(page_name="")
            assert _logged_in(user), "the clear-cache message ran (it cleared the session and every cache)"
            await guest.rerun(page_name="")
            assert guest.widget("text_input", "Password")

    asyncio.run(run())
    assert "clear-cache request ignored" in log.read_text(encoding="utf-8", errors="replace")


def test_metrics_are_not_served(auth_server, server):
    async def run(url):
        async with StreamlitClient(url) as s:
            await s.open("")
            if s.of_type("text_input"):
                await _log_in(s, PASSWORD)
            return [s.get("/_stcore/metrics", cookies=c).status for c in (False, True)]

    assert asyncio.run(run(auth_server[0])) == [404, 404]
    assert asyncio.run(run(server)) == [404, 404]


async def _download_urls(s: StreamlitClient, marker: str) -> list[str]:
    """The media URLs of the Data page's cohort CSV (eager) and cohort zip (deferred), checked to hold ``marker``."""
    urls = [await s.file_url(_cohort_csv(s)), await s.file_url(s.download_button("CSV", key="dl_active_csv"))]
    csv, zipped = [await asyncio.to_thread(s.get, u, cookies=False) for u in urls]
    assert csv.status == 200 and marker.encode() in csv.body
    assert zipped.status == 200 and any(marker in t for t in _zip_texts(zipped.body).values())
    return urls


def test_log_out_drops_the_upload_and_its_download_files(auth_server):
    url, _ = auth_server
    marker = f"OUT-{TOKEN}"

    async def run():
        async with StreamlitClient(url) as s:
            await s.open("data")
            await _log_in(s, PASSWORD)
            await _upload(s, "mine.csv", _small_cohort(seed=33, marker=marker))
            urls = await _download_urls(s, marker)
            deferred = s.download_button("CSV", key="dl_active_csv")
            await s.click(s.widget("button", "Log out"))
            assert s.widget("text_input", "Password")
            for u in urls:
                assert (await asyncio.to_thread(s.get, u, cookies=False)).status == 404, u
            with pytest.raises(ProtocolError):
                await s.file_url(deferred)  # its generator (which held the cohort) is gone too
            await _log_in(s, PASSWORD)
            await _goto(s, "data")
            assert "Synthetic demo cohort: 90 patients" in s.text().replace("*", "")

    asyncio.run(run())


def test_back_to_the_demo_drops_the_upload_and_its_download_files(server):
    marker = f"DEMO-{TOKEN}"

    async def run():
        async with StreamlitClient(server) as s:
            await s.open("data")
            await _upload(s, "mine.csv", _small_cohort(seed=36, marker=marker))
            urls = await _download_urls(s, marker)
            deferred = s.download_button("CSV", key="dl_active_csv")
            await s.click(s.widget("button", "Back to the demo cohort"))
            assert "Synthetic demo cohort: 90 patients" in s.text().replace("*", "")
            for u in urls:
                assert (await asyncio.to_thread(s.get, u, cookies=False)).status == 404, u
            with pytest.raises(ProtocolError):
                await s.file_url(deferred)

    asyncio.run(run())


def test_idle_timeout_drops_the_upload_and_its_download_files(idle_server):
    marker = f"IDLE-{TOKEN}"

    async def run():
        async with StreamlitClient(idle_server) as s:
            await s.open("data")
            await _upload(s, "mine.csv", _small_cohort(seed=34, marker=marker))
            urls = await _download_urls(s, marker)
            await asyncio.sleep(31)  # past the 0.5-minute idle timeout
            await s.rerun(page_name="data")
            assert "idle for more than 0.5 minutes" in s.text()
            for u in urls:
                assert (await asyncio.to_thread(s.get, u, cookies=False)).status == 404, u

    asyncio.run(run())


# --- 5. headers -------------------------------------------------------------------------------------

def test_pages_cannot_be_framed_and_downloads_are_not_cached(server):
    async def run():
        async with StreamlitClient(server) as s:
            await s.open("data")
            page = s.get("/", cookies=False)
            eager = await s.download(_cohort_csv(s))
            deferred = await s.download(s.download_button("CSV", key="dl_active_csv"))
            return page, eager, deferred

    page, eager, deferred = asyncio.run(run())
    assert "frame-ancestors 'none'" in page.headers.get("content-security-policy", "")
    assert page.headers.get("x-frame-options") == "DENY"
    assert page.headers.get("x-content-type-options") == "nosniff"
    for got in (eager, deferred):
        assert got.status == 200
        assert "no-store" in got.headers.get("cache-control", ""), got.headers


def test_the_bare_app_shows_nothing_when_access_control_is_on(tmp_path):
    """``streamlit run app.py`` has no security layer (no upload refusal, no headers): with a password set it fails
    closed instead of serving (the deployed server is ``server.py``)."""
    from ui import auth

    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(f'[auth]\npassword_hash = "{auth.hash_password(PASSWORD, iterations=1000)}"\n')

    async def run(url):
        async with StreamlitClient(url) as s:
            await s.open("data")
            return s.text(), s.of_type("text_input"), s.of_type("file_uploader")

    with streamlit_server(args=["--secrets.files", str(secrets_file)], script="app.py") as url:
        text, inputs, uploaders = asyncio.run(run(url))
    assert "without its security layer" in text and not inputs and not uploaders


def test_the_default_page_by_name_redirects_to_the_base_url(server):
    """Streamlit answers the default page's own path with "Page not found": /overview?... goes to /?..."""
    import http.client
    from urllib.parse import urlsplit

    host = urlsplit(server)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    try:
        conn.request("GET", "/overview?reg=GEM&ep=efs")
        got = conn.getresponse()
        got.read()
        assert got.status == 307 and got.getheader("location") == "/?reg=GEM&ep=efs"
        conn.request("GET", "/survival?reg=GEM")  # other pages are served as they are
        other = conn.getresponse()
        other.read()
        assert other.status == 200
    finally:
        conn.close()
