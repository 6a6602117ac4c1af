"""Shared fixtures, and the rules every test runs under.

* No wall-clock budgets: Hypothesis runs without its per-example deadline and without the
  "too slow" health check (both measure time, and fail on a loaded machine with nothing wrong);
  waits for servers, threads and pages are generous protocol timeouts (tests/waits.py).
* The ~100 s calibration tests are marked ``slow``: ``make test`` runs them, and they are
  listed with their outcome and duration at the end of the run (deselect them with
  ``-m "not slow"`` for a quick local run).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from tests.browser import CHROMIUM_ARGS, chromium_path, streamlit_server
from tests.waits import BROWSER_MS


@pytest.fixture(scope="session")
def app_url():
    """A real Streamlit server serving app.py on a free port."""
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium driven by Playwright, headless, background networking off.

    Module-scoped: Playwright's sync API cannot nest, and some test modules (reports, figure
    export) start their own Playwright.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(BROWSER_MS)  # every wait (goto, click, download) is a protocol wait: generous
    page = context.new_page()
    yield page
    context.close()


settings.register_profile("no_wall_clock", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("no_wall_clock")


def pytest_terminal_summary(terminalreporter):
    """List the tests marked ``slow`` that ran, with outcome and duration (visible in ``make test``)."""
    reports = [r for reps in terminalreporter.stats.values() for r in reps
               if getattr(r, "when", None) == "call" and "slow" in getattr(r, "keywords", {})]
    if not reports:
        return
    terminalreporter.section("slow tests (large-n calibration, run by make test)")
    for r in sorted(reports, key=lambda r: r.nodeid):
        terminalreporter.write_line(f"{r.outcome.upper():7} {r.duration:7.1f} s  {r.nodeid}")
