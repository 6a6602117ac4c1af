"""Load test of the real server: concurrent sessions changing a sidebar filter.

Usage (``make loadtest``; not part of ``make test``)::

    python -m scripts.loadtest                       # both scenarios, writes docs/loadtest.md
    python -m scripts.loadtest --scenario demo --sessions 20 --duration 60
    python -m scripts.loadtest --clients browser     # one headless Chromium page per session

Scenarios

* ``demo``: N sessions (default 20) on the demo cohort;
* ``upload``: N sessions (default 10), each uploading its own 10,000-patient synthetic cohort
  (a different seed per session, so every session has different correct numbers).

Each session opens the Overview page and, for the given duration, goes through a cycle of views
(:func:`steps_for`: leave one centre out at a time; browser clients toggle the "Liver metastases"
filter), each change sent as soon as the previous update has arrived (no think time: a harsher
load than people at a meeting). One update
is timed from sending the change to the end of the script run it triggers; the hazard ratio on
screen is then compared with the one computed offline by ``core.analysis.run`` for that
session's cohort and filter, and the filter strip with the filter sent.

Clients

* ``protocol`` (default): each session is a :class:`scripts.st_client.StreamlitClient`, which
  speaks Streamlit's websocket protocol and upload endpoint like the browser does, without
  rendering. This measures the server: in real use every user's browser runs on their own
  machine, not on the server's two cores.
* ``browser``: each session is a page of one headless Chromium on the same machine; the update is
  timed until the page shows it. Chromium rendering 10-20 pages then competes with the server for
  the same two cores, so these figures bound the worst case rather than the server.

Memory is the server process's VmRSS (``/proc/<pid>/status``): warm baseline after one session
has loaded the page, peak during the run, and after all sessions have closed and Streamlit has
dropped them (``server.disconnectedSessionTTL`` is set to 10 s here; 120 s by default).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import analysis, synthetic  # noqa: E402
from core import cohort as cohort_mod  # noqa: E402
from core.dictionary import C, MetsGroup  # noqa: E402
from core.format import fmt_num  # noqa: E402
from core.spec import AnalysisSpec  # noqa: E402
from scripts.doc_sections import replace_section  # noqa: E402
from scripts.st_client import StreamlitClient  # noqa: E402
from tests.browser import CHROMIUM_ARGS, chromium_path, free_port  # noqa: E402

HR_LABEL = "Hazard ratio"  # the Overview metric label
UPLOAD = '[data-testid="stFileUploaderDropzoneInput"]'


@dataclass(frozen=True)
class Step:
    """One change a session makes: a sidebar multiselect set to ``values``, i.e. the view ``spec``."""

    widget: str
    values: tuple[str, ...]
    spec: AnalysisSpec


def steps_for(cohort, clients: str) -> tuple[Step, ...]:
    """The cycle of views a session goes through.

    Protocol clients leave one centre out at a time, back to all centres in between (on the demo
    cohort every leave-one-out view has its own hazard ratio, so a number from the wrong view or
    the wrong session is caught). Browser clients type into the box, so they toggle one value of
    the "Liver metastases" filter instead (1, all, 2-3, all, >3, all).
    """
    if clients == "browser":
        cycle = [(MetsGroup.ONE,), (), (MetsGroup.TWO_THREE,), (), (MetsGroup.MORE,), ()]
        return tuple(Step("Liver metastases", v, AnalysisSpec(mets_groups=v)) for v in cycle)
    centres = sorted(cohort.data[C.CENTRE_ID].dropna().astype(str).unique())
    out = []
    for left_out in centres:
        kept = tuple(c for c in centres if c != left_out)
        out += [Step("Centre", kept, AnalysisSpec(centres=kept)), Step("Centre", (), AnalysisSpec())]
    return tuple(out)
SESSION_TTL_S = 10


def _strip_text(spec: AnalysisSpec) -> str:
    words = spec.filters_in_words()
    return words[0] if words else "No filters: whole cohort"


def _expected_hr(cohort, steps: tuple[Step, ...]) -> tuple[str, ...]:
    out = []
    for step in steps:
        res = analysis.run(cohort, step.spec)
        out.append(fmt_num(res.hr.hr, 2) if res.hr is not None else "")
    return tuple(out)


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (VmRSS of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@dataclass
class SessionLog:
    name: str
    times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """What every session of a scenario does, and the shared start gate and deadline."""

    url: str
    gate: asyncio.Event
    ready: list[str]
    until: list[float]  # one value, set when every session is ready


# -- protocol clients ---------------------------------------------------------------------------
async def _protocol_session(plan: Plan, log: SessionLog, upload: Path | None, steps: tuple[Step, ...],
                            expected: tuple[str, ...]) -> None:
    client = StreamlitClient(plan.url, timeout=300)
    try:
        if upload is not None:
            await client.open("data")
            uploader = client.of_type("file_uploader")[0]
            await client.upload(uploader, upload.name, upload.read_bytes())
            if " loaded: " not in client.text().replace("\\", ""):
                raise RuntimeError(f"upload not accepted: {client.text()[:300]!r}")
            client.page_script_hash = ""
            await client.rerun(page_name="overview")
        else:
            await client.open("")
        if client.exceptions():
            raise RuntimeError(f"exception on the first page: {client.exceptions()}")
        plan.ready.append(log.name)
        print(f"  {log.name} ready ({len(plan.ready)})", flush=True)
        await plan.gate.wait()
        k = -1
        while time.monotonic() < plan.until[0]:
            k = (k + 1) % len(steps)
            step = steps[k]
            box = client.widget("multiselect", step.widget)
            run = await client.set_widget(box, string_array=list(step.values))
            log.times.append(run.seconds)
            if run.status != 0 or client.exceptions():
                log.errors.append(f"update {k}: status {run.status}, {client.exceptions()}")
            shown = client.metric(HR_LABEL) or ""
            strip_ok = _strip_text(step.spec) in client.text().replace("\\", "")
            if shown != expected[k] or not strip_ok:
                log.wrong.append(f"step {k}: shown {shown!r} (filter strip {'ok' if strip_ok else 'WRONG'}), "
                                 f"expected {expected[k]!r}")
    except Exception as exc:  # noqa: BLE001 - recorded as an error of this session
        log.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
        print(f"  {log.name} failed: {log.errors[-1]}", flush=True)
    finally:
        await client.close()


async def _protocol_visit(url: str) -> None:
    """One short session on the Overview page (warm-up, or to let Streamlit prune expired sessions)."""
    async with StreamlitClient(url) as client:
        await client.open("")


# -- browser clients ----------------------------------------------------------------------------
async def _wait_ready(page, timeout=120_000):
    await page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


async def _hr_on_screen(page) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=HR_LABEL)
    if not await metric.count():
        return ""
    return (await metric.locator('[data-testid="stMetricValue"]').inner_text()).strip()


async def _browser_session(browser, plan: Plan, log: SessionLog, upload: Path | None, steps: tuple[Step, ...],
                           expected: tuple[str, ...]) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(180_000)
    context.set_default_navigation_timeout(180_000)
    page = await context.new_page()
    page.on("pageerror", lambda exc: log.errors.append(f"page error: {exc}"))
    url = plan.url
    try:
        if upload is not None:
            await page.goto(url + "/data")
            await _wait_ready(page)
            await page.set_input_files(UPLOAD, str(upload))
            await page.wait_for_selector('[data-testid="stAlertContentSuccess"]', timeout=300_000)
            await _wait_ready(page)
            await page.locator('[data-testid="stSidebarNavLink"]').first.click()
        else:
            await page.goto(url + "/")
        await _wait_ready(page)
        await page.wait_for_selector('[data-testid="stMetric"]', timeout=300_000)
        plan.ready.append(log.name)
        print(f"  {log.name} ready ({len(plan.ready)})", flush=True)
        await plan.gate.wait()
        box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
            has_text=steps[0].widget).first.locator("input").first
        k = -1
        while time.monotonic() < plan.until[0]:
            k = (k + 1) % len(steps)
            want = _strip_text(steps[k].spec)
            await box.click()
            t0 = time.perf_counter()
            if steps[k].values:  # the browser cycle alternates: add one value, then clear it
                await box.press_sequentially(steps[k].values[0])
                await page.keyboard.press("Enter")
            else:
                await page.keyboard.press("Backspace")
            try:
                await page.wait_for_function(
                    """(want) => {
                        const app = document.querySelector('[data-testid="stApp"]');
                        const main = document.querySelector('[data-testid="stMain"]');
                        return app && main && app.getAttribute('data-test-script-state') === 'notRunning'
                               && main.innerText.includes(want) && !document.querySelector('[data-testid="stSkeleton"]');
                    }""",
                    arg=want, timeout=60_000, polling=50,
                )
            except Exception as exc:  # noqa: BLE001 - recorded as an error of this session
                log.errors.append(f"update timed out: {type(exc).__name__}")
                await page.keyboard.press("Escape")
                break
            log.times.append(time.perf_counter() - t0)
            await page.keyboard.press("Escape")
            if await page.locator('[data-testid="stException"]').count():
                log.errors.append("exception shown")
            shown = await _hr_on_screen(page)
            if shown != expected[k]:
                log.wrong.append(f"step {k}: shown {shown!r}, expected {expected[k]!r}")
    except Exception as exc:  # noqa: BLE001
        log.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        print(f"  {log.name} failed: {log.errors[-1]}", flush=True)
    finally:
        await context.close()


async def _browser_visit(browser, url: str) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(url + "/")
    await _wait_ready(page)
    await page.wait_for_selector('[data-testid="stMetric"]', timeout=120_000)
    await context.close()


# -- the scenario -------------------------------------------------------------------------------
def _start_server(log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # Started as deployed (scripts/serve.sh: the allocator settings of `make run`), with the
    # interpreter running this script.
    cmd = ["sh", str(ROOT / "scripts" / "serve.sh"), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.disconnectedSessionTTL", str(SESSION_TTL_S)]
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHON": sys.executable})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start")


def _server_env(pid: int) -> str:
    """The allocator settings the server process runs with (from /proc/<pid>/environ)."""
    env = dict(item.split("=", 1) for item in Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
               .split("\0") if "=" in item)
    return ", ".join(f"{k}={env.get(k, 'unset')}" for k in ("PYTHONMALLOC", "MALLOC_ARENA_MAX"))


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as r:
            return r.status == 200
    except OSError:
        return False


async def _scenario(name: str, sessions: int, duration: float, patients: int, workdir: Path, clients: str) -> dict:
    uploads: list[Path | None] = [None] * sessions
    if name == "upload":
        cohorts = []
        for i in range(sessions):
            path = workdir / f"cohort_{i}.csv"
            n_s = patients // 4
            synthetic.generate(n_surgery=n_s, n_chemotherapy=patients - n_s, seed=1000 + i).to_csv(path, index=False)
            uploads[i] = path
            cohorts.append(cohort_mod.load(path))
    else:
        cohorts = [cohort_mod.demo()] * sessions
    steps = [steps_for(c, clients) for c in cohorts]
    expected = [_expected_hr(c, st) for c, st in zip(cohorts, steps, strict=True)]
    del cohorts

    proc, url = _start_server(workdir / f"server_{name}.log")
    allocator = _server_env(proc.pid)
    pw = browser = None
    try:
        if clients == "browser":
            from playwright.async_api import async_playwright

            pw = await async_playwright().start()
            browser = await pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)

            async def visit():
                await _browser_visit(browser, url)

            def session(plan, log, upload, steps, exp):
                return _browser_session(browser, plan, log, upload, steps, exp)
        else:
            async def visit():
                await _protocol_visit(url)

            session = _protocol_session

        # warm baseline: one session loads the overview (imports, demo cache), then leaves
        await visit()
        await asyncio.sleep(SESSION_TTL_S + 5)
        await visit()  # lets Streamlit drop the first (expired) session
        await asyncio.sleep(5)
        baseline = rss_mb(proc.pid)

        logs = [SessionLog(f"s{i}") for i in range(sessions)]
        plan = Plan(url=url, gate=asyncio.Event(), ready=[], until=[float("inf")])
        peak = [baseline]
        health: list[bool] = []

        async def sample():
            while True:
                peak[0] = max(peak[0], rss_mb(proc.pid))
                health.append(await asyncio.to_thread(_healthy, url))
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample())
        setup_t0 = time.monotonic()
        tasks = [asyncio.create_task(session(plan, logs[i], uploads[i], steps[i], expected[i])) for i in range(sessions)]
        # wait until every session is ready or has failed (a failed one is reported, not waited for)
        while len(plan.ready) + sum(t.done() for t in tasks) < sessions:
            await asyncio.sleep(0.5)
        setup_s = time.monotonic() - setup_t0
        plan.until[0] = time.monotonic() + duration
        plan.gate.set()
        await asyncio.gather(*tasks)
        sampler.cancel()
        healthy = bool(health) and all(health) and _healthy(url)
        await asyncio.sleep(SESSION_TTL_S + 10)
        after_20 = rss_mb(proc.pid)
        # Streamlit expires disconnected sessions lazily (a TTL cache touched when sessions come and
        # go): short new sessions let it drop the expired ones, as any real traffic would.
        await visit()
        await asyncio.sleep(SESSION_TTL_S + 5)
        await visit()
        await asyncio.sleep(10)
        after = rss_mb(proc.pid)
    finally:
        if browser is not None:
            await browser.close()
        if pw is not None:
            await pw.stop()
        proc.terminate()
        proc.wait(timeout=20)

    times = sorted(t for log in logs for t in log.times)
    return {
        "scenario": name, "clients": clients, "sessions": sessions, "duration_s": duration,
        "patients": patients if name == "upload" else 90,
        "ready": len(plan.ready), "setup_s": setup_s, "updates": len(times),
        "p50": statistics.median(times) if times else float("nan"),
        "p95": times[min(len(times) - 1, int(0.95 * len(times)))] if times else float("nan"),
        "max": times[-1] if times else float("nan"),
        "errors": [f"{log.name}: {e}" for log in logs for e in log.errors],
        "wrong": [f"{log.name}: {w}" for log in logs for w in log.wrong],
        "sessions_without_updates": [log.name for log in logs if not log.times],
        "rss_baseline": baseline, "rss_peak": peak[0], "rss_after": after, "rss_after_20s": after_20, "healthy": healthy,
        "health_checks": len(health),
        "allocator": allocator,
        "expected_hr": sorted({e for per_session in expected for e in per_session}),
        "views": len(steps[0]) if steps else 0,
    }


GOALS = {"demo": 2.0, "upload": 5.0}
MEMORY_GOAL = 0.20  # RSS after the sessions closed, relative to the warm baseline


def _verdicts(r: dict) -> tuple[bool, bool]:
    return r["p95"] <= GOALS[r["scenario"]], r["rss_after"] <= (1 + MEMORY_GOAL) * r["rss_baseline"]


def _markdown(results: list[dict], command: str) -> str:
    clients = sorted({r["clients"] for r in results})
    where = ("one protocol client per session (`scripts/st_client.py`: Streamlit's websocket protocol and upload "
             "endpoint, no rendering), on the same machine as the server" if clients == ["protocol"] else
             "one headless Chromium page per session, on the same machine as the server")
    lines = [
        "## Load test",
        "",
        f"Command: `{command}` (also `make loadtest`; not part of `make test`). "
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, one Streamlit process; clients: {where}.",
        "",
        ("Each session, on the Overview page, leaves one centre out at a time with the \"Centre\" filter, back to all "
         "centres in between (16 views, each with its own hazard ratio on the demo cohort), "
         if clients == ["protocol"] else
         "Each session cycles the \"Liver metastases\" filter on the Overview page through 1, all, 2-3, all, >3, all, ")
        + "sending each change as soon as the previous update arrived (no think time). An update is timed from "
        "sending the change to the end of the script run it triggers"
        + (" (protocol clients: the browser's own rendering is not included; a single user's end-to-end "
           "filter-to-curve time in Chromium is measured by `scripts/measure_latency.py`)" if clients == ["protocol"]
           else " and the page showing it") + ". "
        "After every update the hazard ratio on screen is checked against `core.analysis.run` on that session's own "
        "cohort, and the filter strip against the filter sent (upload scenario: every session uploads its own "
        "10,000-patient cohort, different seed). The health endpoint is polled every 0.5 s. Memory: VmRSS of the "
        "server process; warm = after one session has loaded the Overview and left.",
        "",
        "| scenario | clients | sessions | patients | updates | p50 s | p95 s | goal p95 | max s | errors | wrong numbers "
        "| RSS warm MB | RSS peak MB | RSS 20 s after close / after expiry MB | after vs warm (goal <= +20%) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = r["rss_after"] / r["rss_baseline"] - 1
        lines.append(
            f"| {r['scenario']} | {r['clients']} | {r['sessions']} | {r['patients']:,} | {r['updates']} | {r['p50']:.2f} | "
            f"{r['p95']:.2f} | <= {GOALS[r['scenario']]:.0f} | {r['max']:.2f} | {len(r['errors'])} | {len(r['wrong'])} | "
            f"{r['rss_baseline']:.0f} | {r['rss_peak']:.0f} | {r['rss_after_20s']:.0f} / {r['rss_after']:.0f} | {ratio:+.0%} |"
        )
    lines.append("")
    for r in results:
        ok_time, ok_mem = _verdicts(r)
        lines.append(
            f"* {r['scenario']} ({r['clients']}): p95 goal {'met' if ok_time else 'NOT met'}; memory goal "
            f"{'met' if ok_mem else 'NOT met'}; {r['ready']}/{r['sessions']} sessions ready after "
            f"{r['setup_s']:.0f} s; health endpoint {'answered all' if r['healthy'] else 'FAILED one of'} "
            f"{r['health_checks']} checks; server started by scripts/serve.sh ({r['allocator']})."
        )
        for e in (r["errors"] + r["wrong"] + [f"no update: {s}" for s in r["sessions_without_updates"]])[:8]:
            lines.append(f"  * {e}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", choices=["demo", "upload", "both"], default="both")
    ap.add_argument("--clients", choices=["protocol", "browser"], default="protocol")
    ap.add_argument("--sessions", type=int, default=None, help="default 20 (demo) / 10 (upload)")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "loadtest.md")
    ap.add_argument("--benchmarks", type=Path, default=ROOT / "docs" / "benchmarks.md",
                    help="its '## Load test' section is replaced by this run's results")
    args = ap.parse_args(argv)
    if args.clients == "browser":
        chromium_path()
    scenarios = ["demo", "upload"] if args.scenario == "both" else [args.scenario]
    results = []
    with tempfile.TemporaryDirectory(prefix="pdac-loadtest-") as tmp:
        for name in scenarios:
            n = args.sessions or (20 if name == "demo" else 10)
            print(f"{name}: {n} {args.clients} sessions for {args.duration:.0f} s ...", flush=True)
            r = asyncio.run(_scenario(name, n, args.duration, args.patients, Path(tmp), args.clients))
            print({k: v for k, v in r.items() if k not in ("errors", "wrong")}, flush=True)
            results.append(r)
    section = _markdown(results, " ".join(["python -m scripts.loadtest", *(argv or sys.argv[1:])]))
    text = "# Load test\n" + section.split("\n", 1)[1]
    args.out.write_text(text, encoding="utf-8")
    replace_section(args.benchmarks, section, "\n## Load test")
    print(text)
    bad = any(r["errors"] or r["wrong"] or not r["healthy"] or not all(_verdicts(r)) for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
