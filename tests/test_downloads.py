"""Downloads: files made on click read nothing from the session; every name is unique per session and
content; one place calls ``st.download_button``. (Against a real server: tests/test_web_security.py.)"""

from __future__ import annotations

import doctest
import functools
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st

from core import export, figures
from ui import downloads, hardening, layout, media

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("module", [media, hardening, layout])
def test_examples_in_the_docstrings(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_a_file_made_on_click_must_be_a_core_function_of_values_fixed_now():
    table = pd.DataFrame({"n": [1, 2]})
    made = downloads.deferred(export.csv_bytes, table)
    assert isinstance(made, functools.partial) and made() == export.csv_bytes(table)
    balance = pd.DataFrame({"before": [0.3], "after": [0.05]}, index=["age"])
    build = downloads.deferred(figures.love_plot, balance)
    downloads.deferred(downloads._svg, build, 800, 600)  # a figure rendered on click from a fixed builder
    for bad in (lambda: export.csv_bytes(table), st.session_state.get, downloads.suppression_k):
        with pytest.raises(TypeError, match="may not run on click"):
            downloads.deferred(bad)
    with pytest.raises(TypeError, match="may not run on click"):
        downloads.deferred(downloads._svg, lambda: figures.love_plot(balance), 800, 600)


def test_names_carry_the_session_mark_and_the_content():
    a, b = media.tagged("cohort.csv", "0a1b2c3d", media.content_tag(b"x")), media.tagged(
        "cohort.csv", "0a1b2c3d", media.content_tag(b"y"))
    assert a != b and a.startswith("cohort_0a1b2c3d") and a.endswith(".csv")
    assert media.mark_of(a) == media.mark_of(b) == "0a1b2c3d"
    assert media.content_tag(None) != media.content_tag(None)  # made on click: a fresh value per button and run
    assert media.mark_of("pdac_lm_report.html") is None


def _calls(path: Path, name: str) -> int:
    import ast

    tree = ast.parse(path.read_text(), filename=str(path))
    return sum(1 for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == name)


def test_only_ui_downloads_calls_download_button():
    files = [ROOT / "app.py", *(ROOT / "ui").glob("*.py"), *(ROOT / "views").glob("*.py")]
    offenders = [str(p.relative_to(ROOT)) for p in files
                 if _calls(p, "download_button") and p.name != "downloads.py"]
    assert offenders == []
    assert _calls(ROOT / "ui" / "downloads.py", "download_button") == 1
