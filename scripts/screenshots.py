"""Take full-page screenshots of every page in headless Chromium (for a human to look at).

Usage: python scripts/screenshots.py [out_dir] [query]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser import CHROMIUM_ARGS, chromium_path, screenshot, streamlit_server, wait_for_app  # noqa: E402

PAGES = sys.argv[3].split(",") if len(sys.argv) > 3 else ["overview", "survival", "subgroups", "surgical", "cohort", "matching", "method-check", "data", "dictionary"]


def main() -> None:
    query = sys.argv[2] if len(sys.argv) > 2 else ""
    with streamlit_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1800})
        for name in PAGES:
            path = "" if name == "overview" else name  # the default page lives at the root URL
            page.goto(f"{url}/{path}{'?' + query if query else ''}")
            wait_for_app(page)
            page.wait_for_timeout(1500)
            print(screenshot(page, f"{name}{'-q' if query else ''}"))
        browser.close()


if __name__ == "__main__":
    main()
