"""ui/linked.py in AppTest: a link that names an uploaded cohort shows no numbers of other data.

The upload itself (the right file, a wrong file) is driven in a real browser:
tests/test_browser.py::test_shared_link_of_an_uploaded_cohort_asks_for_that_file.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import cohort
from tests.waits import APP_RUN_S

ROOT = Path(__file__).resolve().parent.parent


def _app(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_RUN_S)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def test_a_link_to_another_cohort_asks_for_its_file_and_shows_no_numbers():
    wanted = "ab" * 32
    at = _app({"data": wanted, "reg": "FOLFIRINOX"})
    assert not at.exception
    assert [t.value for t in at.title] == ["This link is for an uploaded cohort"]
    assert len(at.metric) == 0 and any(wanted[:12] in m.value for m in at.markdown)
    at.button(key="linked_demo").click().run()
    assert not at.exception
    assert "data" not in at.query_params and at.query_params["reg"] == "FOLFIRINOX"
    assert [m.label for m in at.metric if m.label == "Hazard ratio"] == ["Hazard ratio"]


def test_the_demo_cohort_never_answers_a_link_to_an_upload():
    """Even the demo's own fingerprint: a link with a data key was made from an upload."""
    at = _app({"data": cohort.demo().sha256})
    assert [t.value for t in at.title] == ["This link is for an uploaded cohort"] and len(at.metric) == 0


def test_a_malformed_key_is_ignored_with_a_notice():
    at = _app({"data": "not-a-hash"})
    assert not at.exception
    assert any("not a SHA-256" in w.value for w in at.warning)
    assert "data" not in at.query_params and any(m.label == "Hazard ratio" for m in at.metric)
