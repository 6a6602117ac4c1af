"""The primary analysis of the active cohort, for this session (:mod:`core.primary` does the work).

* Demo cohort: the primary analysis shipped with it (``data/primary_analysis.json``), for everyone.
* Uploaded cohort: none until the user uploads a spec file or declares the current view; from
  then on it is **locked for this session** (per cohort, by its SHA-256), so a view that "works"
  cannot be made primary afterwards. It lives in the session only, like the upload.
"""

from __future__ import annotations

import streamlit as st

from core import primary as primary_mod
from core.primary import PrimaryAnalysis
from core.spec import AnalysisSpec
from ui import state

_KEY = "primary_by_cohort"


def current() -> PrimaryAnalysis | None:
    """The primary analysis of the active cohort (None: none declared for this uploaded cohort)."""
    if state.is_demo():
        return primary_mod.demo_primary()
    return st.session_state.get(_KEY, {}).get(state.active_cohort().sha256)


def shipped() -> bool:
    """Whether the primary analysis ships with the data (the demo cohort's) rather than being declared here."""
    return state.is_demo()


def locked() -> bool:
    """Whether the active cohort's primary analysis is fixed (always for the demo; once declared for an upload)."""
    return current() is not None


def status(spec: AnalysisSpec) -> str:
    """The one-line status of ``spec``: primary analysis, or exploration and how it differs."""
    return primary_mod.status_line(spec, current())


def is_primary(spec: AnalysisSpec) -> bool:
    """Whether ``spec`` is the active cohort's primary analysis (False when none is declared)."""
    main = current()
    return main is not None and not primary_mod.compare(spec, main)


def provenance_entry(spec: AnalysisSpec) -> str:
    """What the exports' provenance says about the primary analysis."""
    return primary_mod.provenance_entry(spec, current())


def _keep(primary: PrimaryAnalysis) -> None:
    table = dict(st.session_state.get(_KEY, {}))
    table[state.active_cohort().sha256] = primary
    st.session_state[_KEY] = table


def declare(spec: AnalysisSpec, rationale: str) -> None:
    """Declare ``spec`` the primary analysis of the uploaded cohort (refused once one is set)."""
    if locked():
        raise ValueError("The primary analysis is already fixed for this cohort in this session.")
    _keep(primary_mod.declare(spec, cohort_sha256=state.active_cohort().sha256, rationale=rationale))


def upload(content: bytes, filename: str) -> str | None:
    """Take an uploaded spec file as the primary analysis; the reason in words when it is refused."""
    if locked():
        return "The primary analysis is already fixed for this cohort in this session."
    try:
        primary = primary_mod.parse(content, source=f"uploaded spec file {filename}",
                                    cohort_sha256=state.active_cohort().sha256)
    except ValueError as exc:
        return str(exc)
    _keep(primary)
    return None


def forget() -> None:
    """Drop the primary analyses declared in this session (log out and the idle timeout end the session)."""
    st.session_state.pop(_KEY, None)
