"""Shared fixtures."""

from __future__ import annotations

import pytest

from tests.browser import CHROMIUM_ARGS, chromium_path, streamlit_server


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
    page = context.new_page()
    yield page
    context.close()
