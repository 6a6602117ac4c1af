"""Take screenshots of every page in headless Chromium (for a human to look at).

Usage::

    python scripts/screenshots.py [--size 1440x900] [--query "reg=FOLFIRINOX"] [--pages overview,survival]
                                  [--full] [--present] [--tag name]

Without ``--full`` the screenshot is what one screen of that size shows (the fold); with it, the
whole page. Files go to ``test-artifacts/screenshots/`` (not committed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser import ARTIFACTS, CHROMIUM_ARGS, chromium_path, streamlit_server, wait_for_app  # noqa: E402

PAGES = ["overview", "survival", "target-trial", "subgroups", "robustness", "surgical", "cohort", "matching", "method-check",
         "data", "dictionary"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1440x900")
    parser.add_argument("--query", default="")
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--full", action="store_true", help="whole page instead of one screen")
    parser.add_argument("--present", action="store_true", help="presentation mode (present=1)")
    parser.add_argument("--tag", default="")
    args = parser.parse_args(argv)
    width, height = (int(x) for x in args.size.split("x"))
    query = "&".join(q for q in (args.query, "present=1" if args.present else "") if q)
    out = ARTIFACTS / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        for name in args.pages.split(","):
            path = "" if name == "overview" else name  # the default page lives at the root URL
            page.goto(f"{url}/{path}{'?' + query if query else ''}")
            wait_for_app(page)
            page.wait_for_timeout(1500)
            file = out / f"{name}_{width}x{height}{'_present' if args.present else ''}{args.tag}.png"
            page.screenshot(path=str(file), full_page=args.full)
            print(file)
        browser.close()


if __name__ == "__main__":
    main()
