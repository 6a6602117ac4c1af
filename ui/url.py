"""The one owner of the query string.

The URL holds the :class:`~core.spec.AnalysisSpec` (its own keys, see :meth:`AnalysisSpec.to_query`)
plus a few keys that are not part of the spec, each registered here in :data:`PAGE_KEYS`: the
presentation mode and the page-level choices of a page (e.g. the Surgical outcomes endpoint).
Only this module reads or writes ``st.query_params`` (a test checks it), so a rewrite of the spec
keys never drops a page's own keys, and a shared link restores both.
"""

from __future__ import annotations

import streamlit as st

from core.spec import AnalysisSpec

#: Query keys that are not spec fields: key -> what it holds. Every other key is a spec key.
PAGE_KEYS: dict[str, str] = {
    "present": "presentation mode (1 = on)",
    "sep": "Surgical outcomes: endpoint",
    "sgr": "Surgical outcomes: grouping variable",
    "slm": "Surgical outcomes: post-operative landmark of the adjuvant comparison (months)",
    "pcov": "Surgical outcomes: covariates of the prognostic model (comma-separated columns)",
    "pcut": "Surgical outcomes: cut-offs of the prognostic model (column:value; '-' = continuous)",
    "tgr": "Target trial: grace period G in months (resect within G months of time zero)",
    "data": "SHA-256 of the uploaded cohort a shared link was made from (ui/linked.py; never patient data)",
    "fault": "tests only: fault injection (off unless PDAC_FAULT_INJECTION=1)",
}

_NOTICES = "url_notices"


def _check(key: str) -> None:
    if key not in PAGE_KEYS:
        raise KeyError(f"query key {key!r} is not registered in ui.url.PAGE_KEYS")


def query() -> dict[str, list[str]]:
    """The whole query string as ``{key: [values]}``."""
    return {k: st.query_params.get_all(k) for k in st.query_params.keys()}


def spec_from_url() -> AnalysisSpec:
    """The spec the URL describes; what it had to ignore is kept for :func:`notices`."""
    spec, notices = AnalysisSpec.parse_query(query())
    st.session_state[_NOTICES] = notices
    return spec


def notices() -> tuple[str, ...]:
    """One line per link setting that could not be used (shown once, on the first page of the session)."""
    return tuple(st.session_state.pop(_NOTICES, ()))


def write_spec(spec: AnalysisSpec) -> None:
    """Put ``spec`` into the URL, keeping every registered page key as it is."""
    kept = {k: st.query_params[k] for k in PAGE_KEYS if k in st.query_params}
    wanted = {**spec.to_query(), **kept}
    current = {k: st.query_params[k] for k in st.query_params.keys()}
    if current != wanted:
        st.query_params.from_dict(wanted)


def get(key: str) -> str | None:
    """The value of a registered page key (None when absent)."""
    _check(key)
    return st.query_params.get(key)


def page_value(key: str, options: list[str], default: str) -> str:
    """Initial value of a page-level choice from the URL (``default`` when absent or invalid)."""
    value = get(key)
    return value if value in options else default


def page_list(key: str, options: list[str], default: list[str]) -> list[str]:
    """Initial value of a page-level multiple choice from the URL (comma-separated; unknown entries ignored;
    ``default`` when absent or when nothing is left)."""
    value = get(key)
    chosen = [v for v in (value or "").split(",") if v in options]
    return list(dict.fromkeys(chosen)) or list(default)


#: Page keys that describe what a page shows (carried by "Share this view"); the others are session matters.
SHARED_PAGE_KEYS: tuple[str, ...] = ("sep", "sgr", "slm", "pcov", "pcut")


def page_items() -> dict[str, str]:
    """The page-level choices now in the URL (:data:`SHARED_PAGE_KEYS`), for the shared link."""
    return {k: st.query_params[k] for k in SHARED_PAGE_KEYS if k in st.query_params}


def keep(values: dict[str, str | None]) -> None:
    """Write page-level choices into the URL (None removes the key), so a shared link restores them."""
    for key, value in values.items():
        _check(key)
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != value:
            st.query_params[key] = value


def all_items() -> dict[str, str]:
    """The whole query string, last value per key (for remembering a deep link across log-in)."""
    return st.query_params.to_dict()


def replace_all(values: dict[str, str]) -> None:
    """Set the whole query string (restoring a remembered deep link after log-in)."""
    st.query_params.from_dict(values)
