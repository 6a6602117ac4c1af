"""Provenance of an export: which data, which view, which settings, which software, when.

Examples
--------
>>> import datetime as dt
>>> from core.spec import AnalysisSpec
>>> prov = provenance(AnalysisSpec(ratio=2), cohort_sha256="0" * 64, dictionary_version="1.0.0",
...                   url="https://example.org/app", source_name="demo.csv",
...                   now=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
>>> prov["View URL"], prov["Generated (UTC)"]
('https://example.org/app?ratio=2', '2026-01-02T03:04:05Z')
"""

from __future__ import annotations

import datetime as dt
import functools
import platform
import re
import tomllib
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from core.spec import AnalysisSpec

#: Keys of :func:`provenance`, in order (the package versions follow).
GENERATED_KEY = "Generated (UTC)"
URL_KEY = "View URL"
SOURCE_KEY = "Data source"
SHA_KEY = "Cohort SHA-256"
DICTIONARY_KEY = "Data dictionary version"
ANALYSIS_KEY = "Filters and settings"
PRIMARY_KEY = "Primary analysis"
#: Name of this project's distribution (``[project] name`` in pyproject.toml).
APP_NAME = "pdac-lm-explorer"
#: Runtime distributions whose versions are recorded (looked up with importlib.metadata, never
#: imported). Only what the analysis and the exports run on: lifelines and scikit-learn are
#: test-only independent checks (requirements-test.txt) and are not listed.
PACKAGES: tuple[str, ...] = (
    "pandas", "numpy", "scipy", "plotly", "streamlit", "pyarrow", "openpyxl",
)
_SHA = re.compile(r"[0-9a-f]{64}")
_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@functools.cache
def app_version() -> str:
    """Version of this package (``[project] version`` of pyproject.toml; installed metadata as fallback).

    Examples
    --------
    >>> import re
    >>> bool(re.fullmatch(r"\\d+\\.\\d+\\.\\d+.*", app_version()))
    True
    """
    try:
        project = tomllib.loads(_PYPROJECT.read_text(encoding="utf-8"))["project"]
        if project.get("name") == APP_NAME and project.get("version"):
            return str(project["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        return metadata.version(APP_NAME)
    except metadata.PackageNotFoundError:
        return "unknown"


def package_versions() -> dict[str, str]:
    """This package's version, then Python's and the runtime packages' (``"not installed"`` when missing).

    Examples
    --------
    >>> list(package_versions())[:4]
    ['pdac-lm-explorer', 'Python', 'pandas', 'numpy']
    """
    return dict(_package_versions())


@functools.cache
def _package_versions() -> tuple[tuple[str, str], ...]:
    # Looked up once per process: reading package metadata costs ~5 ms, and every page shows it.
    out = [(APP_NAME, app_version()), ("Python", platform.python_version())]
    for name in PACKAGES:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return tuple(out)


def view_url(spec: AnalysisSpec, url: str) -> str:
    """The shareable URL of a view: ``url`` + ``?`` + the spec's query string (if any).

    Examples
    --------
    >>> view_url(AnalysisSpec(), "http://localhost:8501/Survival")
    'http://localhost:8501/Survival'
    >>> view_url(AnalysisSpec(method="naive"), "http://localhost:8501/Survival")
    'http://localhost:8501/Survival?meth=naive'
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError("url must be an http(s) base URL")
    if "?" in url or "#" in url:
        raise ValueError("url must be the base URL without a query string or fragment")
    query = spec.to_query_string()
    return f"{url}?{query}" if query else url


def provenance(
    spec: AnalysisSpec,
    *,
    cohort_sha256: str,
    dictionary_version: str,
    url: str,
    source_name: str,
    now: dt.datetime | None = None,
    primary: str | None = None,
) -> dict[str, str]:
    """Everything needed to reproduce an export, as ordered text key/value pairs.

    Parameters
    ----------
    spec : AnalysisSpec
        Filters and settings of the view.
    cohort_sha256 : str
        SHA-256 (64 lower-case hex digits) of the cohort file.
    dictionary_version : str
        Version of the data dictionary (``core.dictionary.DICTIONARY_VERSION``).
    url : str
        Base URL of the page (``http(s)://host/page``), without query string.
    source_name : str
        Name of the data source (e.g. the uploaded file's name).
    now : datetime, optional
        Time of the export, time-zone aware (default: now). Written in UTC.
    primary : str, optional
        Whether the view is the pre-specified primary analysis or an exploration, and how it
        differs (:func:`core.primary.provenance_entry`); written after the settings when given.

    Returns
    -------
    dict of str to str
        Generated (UTC), View URL, Data source, Cohort SHA-256, Data dictionary version,
        Filters and settings (``spec.describe()``), Primary analysis (when given), then Python
        and package versions.
    """
    if not isinstance(spec, AnalysisSpec):
        raise ValueError("spec must be an AnalysisSpec")
    if not isinstance(cohort_sha256, str) or not _SHA.fullmatch(cohort_sha256):
        raise ValueError("cohort_sha256 must be 64 lower-case hexadecimal digits")
    if not dictionary_version or not isinstance(dictionary_version, str):
        raise ValueError("dictionary_version must be a non-empty string")
    if not source_name or not isinstance(source_name, str):
        raise ValueError("source_name must be a non-empty string")
    if now is None:
        now = dt.datetime.now(dt.UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be time-zone aware")
    stamp = now.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = {
        GENERATED_KEY: stamp,
        URL_KEY: view_url(spec, url),
        SOURCE_KEY: source_name,
        SHA_KEY: cohort_sha256,
        DICTIONARY_KEY: dictionary_version,
        ANALYSIS_KEY: spec.describe(),
    }
    if primary is not None:
        out[PRIMARY_KEY] = str(primary)
    out.update(package_versions())
    return out


def provenance_text(prov: Mapping[str, str]) -> str:
    """Provenance as plain text: ``Key: value`` lines, multi-line values indented below the key.

    Examples
    --------
    >>> print(provenance_text({"Data source": "demo.csv", "Notes": "line 1\\nline 2"}), end="")
    Provenance
    ==========
    Data source: demo.csv
    Notes:
      line 1
      line 2
    """
    if not isinstance(prov, Mapping):
        raise ValueError("prov must be a mapping of str to str")
    lines = ["Provenance", "=========="]
    for key, value in prov.items():
        text = "" if value is None else str(value)
        if "\n" in text:
            lines.append(f"{key}:")
            lines.extend(f"  {line}" for line in text.splitlines())
        else:
            lines.append(f"{key}: {text}")
    return "\n".join(lines) + "\n"
