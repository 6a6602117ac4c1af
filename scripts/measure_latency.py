"""Measure, in a real browser, the time from changing a filter to the updated KM figure on screen.

Usage: python scripts/measure_latency.py [--changes N] [--out docs/benchmarks.md]

Starts the app on a free port, opens it in Debian's headless Chromium (Playwright), and for the
demo cohort and for an uploaded 10,000-patient synthetic cohort alternately adds and removes a
regimen filter, timing each change from the key press to the moment the Kaplan-Meier figure's
plotted data differ from before. Writes the "## Browser" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from benchmarks.__main__ import _machine  # noqa: E402
from core import synthetic  # noqa: E402
from scripts.doc_sections import replace_section  # noqa: E402
from tests.browser import CHROMIUM_ARGS, chromium_path, streamlit_server, wait_for_app  # noqa: E402

SIGNATURE = """() => { const p = document.querySelector('.js-plotly-plot');
    if (!p || !p.data) return null;
    return JSON.stringify(p.data.map(t => { const y = Array.from(t.y || []); return [t.name, y.length, y.slice(-3)]; })); }"""
GOALS = {"demo": 0.5, "10k": 1.5}


def _change_and_time(page, add: bool) -> float:
    before = page.evaluate(SIGNATURE)
    box = page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Chemotherapy regimen", exact=True)
    box.click()
    if add:  # options read "Gemcitabine + nab-paclitaxel (S n · C n)"; click it (Enter would select every match)
        page.keyboard.type("nab-paclitaxel")
        option = page.get_by_role("option").filter(has_text="nab-paclitaxel (").first
        option.wait_for()
        start = time.perf_counter()
        option.click()
    else:
        start = time.perf_counter()
        page.keyboard.press("Backspace")
    page.wait_for_function(f"() => ({SIGNATURE})() !== {json.dumps(before)}", timeout=60_000, polling="raf")
    elapsed = time.perf_counter() - start
    page.keyboard.press("Escape")
    wait_for_app(page, settle_ms=100)
    return elapsed


def _set_min_at_risk(page, value: int) -> None:
    """Change a setting that is part of the cache key, so the next filter change is computed afresh."""
    box = page.locator('[data-testid="stSidebar"]').get_by_label("Stop curves below n at risk")
    if not box.is_visible():
        page.locator('[data-testid="stSidebar"] summary').filter(has_text="Settings").click()
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page, settle_ms=100)


def _series(page, changes: int, first: int) -> list[float]:
    times = []
    for i in range(changes):
        _set_min_at_risk(page, first + i)  # never a cached (filter, setting) pair: every change recomputes
        times.append(_change_and_time(page, add=i % 2 == 0))
    return times


def _first_chart(page, url: str) -> float:
    """Seconds from opening ``url`` to the first Plotly chart drawn."""
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=120_000)
    return time.perf_counter() - start


def _page_switch(page, title: str) -> float:
    """Seconds from a click on a sidebar page link to that page's first chart."""
    start = time.perf_counter()
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=title).click()
    page.wait_for_selector(f'[data-testid="stMain"] h1:has-text("{title}")', timeout=60_000)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    elapsed = time.perf_counter() - start
    wait_for_app(page, settle_ms=100)
    return elapsed


def _row(label: str, t: list[float], goal: float | None) -> str:
    t = sorted(t)
    med = statistics.median(t)
    ok = "" if goal is None else (" ✅" if med <= goal else " ❌")
    return (f"| {label} | {len(t)} | {med:.2f} s{ok} | {max(t):.2f} s | "
            f"{'—' if goal is None else f'<= {goal:g} s'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    results: dict[str, list[float]] = {}
    cold: dict[str, list[float]] = {}
    server_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, streamlit_server() as url, sync_playwright() as p:
        healthy = time.perf_counter() - server_start
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        first = browser.new_page(viewport={"width": 1440, "height": 900})
        cold["server start to first chart"] = [healthy + _first_chart(first, url)]
        first.close()
        cold["new tab to first chart, warm server"] = []
        for _ in range(5):
            tab = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            cold["new tab to first chart, warm server"].append(_first_chart(tab, url))
            tab.context.close()
        cold["new tab to first chart, same browser (scripts cached)"] = []
        same = browser.new_context(viewport={"width": 1440, "height": 900})
        _first_chart(same.new_page(), url)  # the browser has visited the app once
        for _ in range(5):
            tab = same.new_page()
            cold["new tab to first chart, same browser (scripts cached)"].append(_first_chart(tab, url))
            tab.close()
        same.close()
        nav = browser.new_page(viewport={"width": 1440, "height": 900})
        _first_chart(nav, url)
        wait_for_app(nav)
        cold["page switch (Overview <-> Survival) to its first chart"] = []
        for i in range(10):
            cold["page switch (Overview <-> Survival) to its first chart"].append(
                _page_switch(nav, "Survival" if i % 2 == 0 else "Overview"))
        nav.close()
        browser.close()
        big = Path(tmp) / "synthetic_10000.csv"
        big.write_bytes(synthetic.to_csv_bytes(synthetic.generate(n_surgery=1250, n_chemotherapy=8750, seed=11)))
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(url)
        wait_for_app(page)
        page.wait_for_selector(".js-plotly-plot")
        _series(page, 2, first=48)  # warm-up
        results["demo"] = _series(page, args.changes, first=1)
        page.goto(f"{url}/data")
        wait_for_app(page)
        page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(big))
        page.get_by_text("loaded: 10000 patients").wait_for(timeout=120_000)
        page.get_by_role("link", name="Overview").click()
        wait_for_app(page)
        page.wait_for_selector(".js-plotly-plot")
        _series(page, 2, first=48)
        results["10k"] = _series(page, args.changes, first=1)
        browser.close()
    lines = [
        "## Browser: filter change to updated figure",
        "",
        f"Measured {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} on {_machine()}, Debian Chromium headless "
        "driven by Playwright against `streamlit run server.py` on localhost.",
        "",
        f"Command: `python scripts/measure_latency.py --changes {args.changes}`",
        "",
        "Each change adds or removes a regimen filter in the sidebar; the time runs from the key press to the moment "
        "the Kaplan-Meier figure on the Overview page shows different data. Before each change an untimed change "
        "of another setting (the at-risk cut-off) makes the combination new, so every timed change is a cache "
        "miss: the full analysis reruns (naive and landmark matching, time-dependent Cox, curves). Two warm-up "
        "changes are not counted.",
        "",
        "| cohort | changes | median | p90 | max | goal (median) |",
        "|---|---|---|---|---|---|",
    ]
    for name, label in (("demo", "demo (90 patients)"), ("10k", "uploaded synthetic, 10,000 patients")):
        t = sorted(results[name])
        p90 = t[min(len(t) - 1, int(round(0.9 * (len(t) - 1))))]
        ok = "✅" if statistics.median(t) <= GOALS[name] else "❌"
        lines.append(f"| {label} | {len(t)} | {statistics.median(t) * 1000:.0f} ms {ok} | {p90 * 1000:.0f} ms | "
                     f"{max(t) * 1000:.0f} ms | <= {GOALS[name] * 1000:.0f} ms |")
    lines += [
        "",
        "Cold start, new tab and page switch (same run): from starting `streamlit run server.py` to the first "
        "chart drawn in Chromium; from opening the app in a new browser context (no cache: a first visit) on the "
        "running server to its first chart; the same in a new tab of a browser that has visited the app before (its "
        "content-hashed scripts come from the browser's cache); from a click on a sidebar page link to the first "
        "chart of that page.",
        "",
        "| what | runs | median | max | goal |",
        "|---|---|---|---|---|",
        _row("server start to first chart", cold["server start to first chart"], None),
        _row("new tab to first chart, warm server", cold["new tab to first chart, warm server"], 4.0),
        _row("new tab to first chart, same browser (scripts cached)",
             cold["new tab to first chart, same browser (scripts cached)"], 4.0),
        _row("page switch to its first chart", cold["page switch (Overview <-> Survival) to its first chart"], 1.0),
    ]
    section = "\n".join(lines) + "\n"
    replace_section(args.out, section, "\n## Browser: filter change")
    print(section)


if __name__ == "__main__":
    main()
