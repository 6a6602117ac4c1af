"""Tests of core.provenance (expected values written by hand)."""

from __future__ import annotations

import datetime as dt
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from core.dictionary import DICTIONARY_VERSION, Regimen
from core.provenance import provenance, provenance_text, view_url
from core.spec import AnalysisSpec

ROOT = Path(__file__).resolve().parent.parent
SHA = "ab" * 32
NOW = dt.datetime(2026, 3, 4, 10, 20, 30, 999, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def make(spec=None, **kw):
    args = {"cohort_sha256": SHA, "dictionary_version": DICTIONARY_VERSION, "url": "https://h.example/Survival",
            "source_name": "registry.xlsx", "now": NOW}
    args.update(kw)
    return provenance(spec or AnalysisSpec(), **args)


def test_provenance_keys_and_values():
    spec = AnalysisSpec(regimens=(Regimen.GEM,), caliper=0.3)
    prov = make(spec)
    assert list(prov)[:6] == [
        "Generated (UTC)", "View URL", "Data source", "Cohort SHA-256", "Data dictionary version", "Filters and settings",
    ]
    assert prov["Generated (UTC)"] == "2026-03-04T09:20:30Z"
    assert prov["View URL"] == "https://h.example/Survival?reg=GEM&cal=0.3"
    assert prov["Data source"] == "registry.xlsx"
    assert prov["Cohort SHA-256"] == SHA
    assert prov["Data dictionary version"] == DICTIONARY_VERSION
    assert prov["Filters and settings"].splitlines()[:2] == ["Filters:", "- Regimen: Gemcitabine alone"]
    assert "caliper 0.3 SD" in prov["Filters and settings"]
    assert prov["Python"] == platform.python_version()
    for name in ("pandas", "numpy", "scipy", "plotly", "streamlit"):
        assert prov[name] == metadata.version(name)
    assert all(isinstance(v, str) for v in prov.values())


def _pyproject() -> tuple[str, str]:
    """``[project]`` name and version of pyproject.toml, read with a regular expression (not tomllib)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = text.split("[project]", 1)[1].split("\n[", 1)[0]
    name = re.search(r'^name = "([^"]+)"', project, re.M).group(1)
    version = re.search(r'^version = "([^"]+)"', project, re.M).group(1)
    return name, version


def test_provenance_names_this_package_and_not_the_test_only_tools():
    name, version = _pyproject()
    assert name == "pdac-lm-explorer"
    prov = make()
    assert prov[name] == version
    # the analysis never imports lifelines or scikit-learn: they are test-only checks, not provenance
    assert "lifelines" not in prov and "scikit-learn" not in prov


def test_view_url_round_trips_the_spec():
    spec = AnalysisSpec(ratio=3, replace=True, order="smallest")
    url = make(spec)["View URL"]
    base, query = url.split("?")
    assert base == "https://h.example/Survival"
    assert AnalysisSpec.from_query_string(query) == spec
    assert view_url(AnalysisSpec(), "http://localhost:8501") == "http://localhost:8501"


def test_provenance_does_not_import_streamlit():
    code = ("import sys, datetime as dt; from core.provenance import provenance; from core.spec import AnalysisSpec;"
            "provenance(AnalysisSpec(), cohort_sha256='0'*64, dictionary_version='1', url='http://x', source_name='s');"
            "assert 'streamlit' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"cohort_sha256": "xyz"}, "64"),
        ({"cohort_sha256": "AB" * 32}, "lower-case"),
        ({"url": "ftp://x"}, "http"),
        ({"url": "http://x/?a=1"}, "query"),
        ({"source_name": ""}, "source_name"),
        ({"dictionary_version": ""}, "dictionary_version"),
        ({"now": dt.datetime(2026, 1, 1)}, "time-zone"),
    ],
)
def test_provenance_validation(kw, message):
    with pytest.raises(ValueError, match=message):
        make(**kw)


def test_provenance_text_layout():
    prov = make(AnalysisSpec(regimens=(Regimen.GEM,)))
    text = provenance_text(prov)
    lines = text.splitlines()
    assert lines[:4] == ["Provenance", "==========", "Generated (UTC): 2026-03-04T09:20:30Z",
                         "View URL: https://h.example/Survival?reg=GEM"]
    i = lines.index("Filters and settings:")
    assert lines[i + 1: i + 3] == ["  Filters:", "  - Regimen: Gemcitabine alone"]
    assert text.endswith("\n")
