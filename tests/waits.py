"""How long tests wait for something to happen: a server to start, a script run, a thread, a page.

These are protocol timeouts, generous so that a loaded machine (2 shared cores, other suites
running) only makes a test slower, never makes it fail; no test asserts on how long anything
took. Speed is measured by ``make bench`` (docs/benchmarks.md) and ``make loadtest``.
"""

#: ``streamlit run`` until ``/_stcore/health`` answers.
SERVER_START_S = 180
#: One script run of ``streamlit.testing.v1.AppTest`` (``default_timeout``).
APP_RUN_S = 300
#: A helper thread reaching the state a test waits for.
THREAD_S = 60
#: A Playwright wait for the page (a selector, a text, a download), in milliseconds.
BROWSER_MS = 120_000
