"""Load test of the real server: concurrent browser sessions changing a sidebar filter.

Usage (``make loadtest``; not part of ``make test``)::

    python -m scripts.loadtest                       # both scenarios, writes docs/loadtest.md
    python -m scripts.loadtest --scenario demo --sessions 20 --duration 60

Scenarios

* ``demo``: N sessions (default 20) on the demo cohort;
* ``upload``: N sessions (default 10), each uploading its own 10,000-patient synthetic cohort
  (a different seed per session, so every session has different correct numbers).

Each session opens the Overview page and, for the given duration, toggles the "Liver metastases"
filter between "1" and all. One update is timed from the key press to the moment the filter strip
shows the new filter and the script has finished; the hazard ratio on screen is then compared
with the one computed offline by ``core.analysis.run`` for that session's cohort and filter.
Memory is the server process's VmRSS (``/proc/<pid>/status``): warm baseline after one session
has loaded the page, peak during the run, and after all sessions have closed and Streamlit has
dropped them (``server.disconnectedSessionTTL`` is set to 10 s here; 120 s by default).
All sessions run in one headless Chromium on the same machine as the server.
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
from core.dictionary import MetsGroup  # noqa: E402
from core.format import fmt_num  # noqa: E402
from core.spec import AnalysisSpec  # noqa: E402
from tests.browser import CHROMIUM_ARGS, chromium_path, free_port  # noqa: E402

HR_LABEL = "Hazard ratio"  # the Overview metric label
UPLOAD = '[data-testid="stFileUploaderDropzoneInput"]'
SPECS = (AnalysisSpec(), AnalysisSpec(mets_groups=(MetsGroup.ONE,)))
SESSION_TTL_S = 10


def _strip_text(spec: AnalysisSpec) -> str:
    words = spec.filters_in_words()
    return words[0] if words else "No filters: whole cohort"


def _expected_hr(cohort) -> tuple[str, str]:
    out = []
    for spec in SPECS:
        res = analysis.run(cohort, spec)
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


async def _wait_ready(page, timeout=120_000):
    await page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


async def _hr_on_screen(page) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=HR_LABEL)
    if not await metric.count():
        return ""
    return (await metric.locator('[data-testid="stMetricValue"]').inner_text()).strip()


async def _session(browser, url: str, log: SessionLog, *, upload: Path | None, expected: tuple[str, str],
                   until: float, start_gate: asyncio.Event, ready: list) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(180_000)
    context.set_default_navigation_timeout(180_000)
    page = await context.new_page()
    page.on("pageerror", lambda exc: log.errors.append(f"page error: {exc}"))
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
        ready.append(log.name)
        print(f"  {log.name} ready ({len(ready)})", flush=True)
        await start_gate.wait()
        box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
            has_text="Liver metastases").first.locator("input").first
        state = 0
        while time.monotonic() < until:
            target = 1 - state
            want = _strip_text(SPECS[target])
            await box.click()
            t0 = time.perf_counter()
            if target == 1:
                await box.press_sequentially(MetsGroup.ONE)
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
            if shown != expected[target]:
                log.wrong.append(f"filter {target}: shown {shown!r}, expected {expected[target]!r}")
            state = target
    except Exception as exc:  # noqa: BLE001
        log.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        print(f"  {log.name} failed: {log.errors[-1]}", flush=True)
    finally:
        await context.close()


def _start_server(log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.disconnectedSessionTTL", str(SESSION_TTL_S)]
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
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


async def _scenario(name: str, sessions: int, duration: float, patients: int, workdir: Path) -> dict:
    from playwright.async_api import async_playwright

    uploads: list[Path | None] = [None] * sessions
    if name == "upload":
        expected = []
        for i in range(sessions):
            path = workdir / f"cohort_{i}.csv"
            n_s = patients // 4
            synthetic.generate(n_surgery=n_s, n_chemotherapy=patients - n_s, seed=1000 + i).to_csv(path, index=False)
            uploads[i] = path
            expected.append(_expected_hr(cohort_mod.load(path)))
    else:
        expected = [_expected_hr(cohort_mod.demo())] * sessions

    proc, url = _start_server(workdir / f"server_{name}.log")
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
            # warm baseline: one session loads the overview (imports, demo cache), then leaves
            warm = await browser.new_context()
            page = await warm.new_page()
            await page.goto(url + "/")
            await _wait_ready(page)
            await page.wait_for_selector('[data-testid="stMetric"]', timeout=120_000)
            await warm.close()
            await asyncio.sleep(SESSION_TTL_S + 5)
            baseline = rss_mb(proc.pid)

            logs = [SessionLog(f"s{i}") for i in range(sessions)]
            gate, ready = asyncio.Event(), []
            peak = [baseline]

            async def sample():
                while True:
                    peak[0] = max(peak[0], rss_mb(proc.pid))
                    await asyncio.sleep(0.5)

            sampler = asyncio.create_task(sample())
            setup_t0 = time.monotonic()
            holder: dict[str, float] = {}  # the deadline, fixed once every session is ready
            tasks = [asyncio.create_task(_session_deferred(browser, url, logs[i], uploads[i], expected[i],
                                                           holder, gate, ready)) for i in range(sessions)]
            # wait until every session is ready or has failed (a failed one is reported, not waited for)
            while len(ready) + sum(t.done() for t in tasks) < sessions:
                await asyncio.sleep(0.5)
            setup_s = time.monotonic() - setup_t0
            holder["until"] = time.monotonic() + duration
            gate.set()
            await asyncio.gather(*tasks)
            sampler.cancel()
            healthy = urllib.request.urlopen(f"{url}/_stcore/health", timeout=10).status == 200
            await asyncio.sleep(SESSION_TTL_S + 10)
            after_20 = rss_mb(proc.pid)
            # Streamlit expires disconnected sessions lazily (a TTL cache touched when sessions come and
            # go): one new short session lets it drop the expired ones, as any real traffic would.
            probe = await browser.new_context()
            page = await probe.new_page()
            await page.goto(url + "/")
            await _wait_ready(page)
            await probe.close()
            await asyncio.sleep(SESSION_TTL_S + 5)
            probe = await browser.new_context()
            await (await probe.new_page()).goto(url + "/")
            await probe.close()
            await asyncio.sleep(10)
            after = rss_mb(proc.pid)
            await browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)

    times = sorted(t for log in logs for t in log.times)
    return {
        "scenario": name, "sessions": sessions, "duration_s": duration, "patients": patients if name == "upload" else 90,
        "ready": len(ready), "setup_s": setup_s, "updates": len(times),
        "p50": statistics.median(times) if times else float("nan"),
        "p95": times[min(len(times) - 1, int(0.95 * len(times)))] if times else float("nan"),
        "max": times[-1] if times else float("nan"),
        "errors": [f"{log.name}: {e}" for log in logs for e in log.errors],
        "wrong": [f"{log.name}: {w}" for log in logs for w in log.wrong],
        "sessions_without_updates": [log.name for log in logs if not log.times],
        "rss_baseline": baseline, "rss_peak": peak[0], "rss_after": after, "rss_after_20s": after_20, "healthy": healthy,
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX", "default"),
        "expected_hr": sorted({e for pair in expected for e in pair}),
    }


async def _session_deferred(browser, url, log, upload, expected, holder, gate, ready):
    """Like :func:`_session`, reading the deadline only once the start gate opens."""

    class _Deadline:
        def __gt__(self, other):
            return holder["until"] > other

    await _session(browser, url, log, upload=upload, expected=expected, until=_Deadline(),  # type: ignore[arg-type]
                   start_gate=gate, ready=ready)


GOALS = {"demo": 2.0, "upload": 5.0}


def _markdown(results: list[dict], command: str) -> str:
    lines = [
        "## Load test",
        "",
        f"Command: `{command}` (also `make loadtest`; not part of `make test`). "
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; server and one headless Chromium "
        "holding every session share the machine.",
        "",
        "Each session toggles the \"Liver metastases\" filter on the Overview page; an update is timed from the "
        "key press to the updated filter strip with the script finished. The hazard ratio on screen is checked "
        "against `core.analysis.run` on that session's own cohort after every update (upload scenario: every "
        "session has its own 10,000-patient cohort, different seed). Memory: VmRSS of the server process.",
        "",
        "| scenario | sessions | patients | updates | p50 s | p95 s | goal p95 | max s | errors | wrong numbers "
        "| RSS warm MB | RSS peak MB | RSS 20 s after close / after expiry MB | after vs warm |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = r["rss_after"] / r["rss_baseline"] - 1
        lines.append(
            f"| {r['scenario']} | {r['sessions']} | {r['patients']:,} | {r['updates']} | {r['p50']:.2f} | "
            f"{r['p95']:.2f} | <= {GOALS[r['scenario']]:.0f} | {r['max']:.2f} | {len(r['errors'])} | {len(r['wrong'])} | "
            f"{r['rss_baseline']:.0f} | {r['rss_peak']:.0f} | {r['rss_after_20s']:.0f} / {r['rss_after']:.0f} | {ratio:+.0%} |"
        )
    lines.append("")
    for r in results:
        ok_time = r["p95"] <= GOALS[r["scenario"]]
        ok_mem = r["rss_after"] <= 1.2 * r["rss_baseline"]
        lines.append(
            f"* {r['scenario']}: p95 goal {'met' if ok_time else 'NOT met'}; memory goal (within 20% of warm) "
            f"{'met' if ok_mem else 'NOT met'}; {r['ready']}/{r['sessions']} sessions ready after "
            f"{r['setup_s']:.0f} s; health endpoint {'answered' if r['healthy'] else 'FAILED'}; "
            f"MALLOC_ARENA_MAX={r['malloc_arena_max']}."
        )
        for e in (r["errors"] + r["wrong"] + [f"no update: {s}" for s in r["sessions_without_updates"]])[:8]:
            lines.append(f"  * {e}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", choices=["demo", "upload", "both"], default="both")
    ap.add_argument("--sessions", type=int, default=None, help="default 20 (demo) / 10 (upload)")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "loadtest.md")
    args = ap.parse_args(argv)
    chromium_path()
    scenarios = ["demo", "upload"] if args.scenario == "both" else [args.scenario]
    results = []
    with tempfile.TemporaryDirectory(prefix="pdac-loadtest-") as tmp:
        for name in scenarios:
            n = args.sessions or (20 if name == "demo" else 10)
            print(f"{name}: {n} sessions for {args.duration:.0f} s ...", flush=True)
            r = asyncio.run(_scenario(name, n, args.duration, args.patients, Path(tmp)))
            print({k: v for k, v in r.items() if k not in ("errors", "wrong")}, flush=True)
            results.append(r)
    text = "# Load test\n\n" + _markdown(results, "python -m scripts.loadtest " + " ".join(argv or sys.argv[1:])).split(
        "\n", 1)[1]
    args.out.write_text(text, encoding="utf-8")
    print(text)
    bad = any(r["errors"] or r["wrong"] or r["p95"] > GOALS[r["scenario"]] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
