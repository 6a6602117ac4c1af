"""Cached analysis runs.

* Demo cohort (synthetic, identical for everyone): one process-wide cache keyed on
  (cohort hash, spec).
* Uploaded cohorts: a cache scoped to the browser session (``scope="session"``), dropped when
  the session ends; results from one user's upload are never served to another session.
"""

from __future__ import annotations

import streamlit as st

from core import analysis
from core.cohort import Cohort
from core.spec import AnalysisSpec
from ui import state


@st.cache_resource(max_entries=256, show_spinner=False)
def _run_shared(sha256: str, spec: AnalysisSpec, _cohort: Cohort) -> analysis.AnalysisResult:
    return analysis.run(_cohort, spec)


@st.cache_resource(max_entries=32, show_spinner=False, scope="session")
def _run_session(sha256: str, spec: AnalysisSpec, _cohort: Cohort) -> analysis.AnalysisResult:
    return analysis.run(_cohort, spec)


def result(spec: AnalysisSpec) -> analysis.AnalysisResult:
    """The analysis of the active cohort under ``spec`` (cached as described above)."""
    cohort = state.active_cohort()
    run = _run_shared if state.is_demo() else _run_session
    return run(cohort.sha256, spec, cohort)


@st.cache_resource(max_entries=64, show_spinner=False)
def _subgroups_shared(sha256: str, spec: AnalysisSpec, _cohort: Cohort):
    from core import subgroups

    return subgroups.subgroup_table(_cohort, spec)


@st.cache_resource(max_entries=16, show_spinner=False, scope="session")
def _subgroups_session(sha256: str, spec: AnalysisSpec, _cohort: Cohort):
    from core import subgroups

    return subgroups.subgroup_table(_cohort, spec)


def subgroup_result(spec: AnalysisSpec):
    """Matched hazard ratios across subgroups for the active cohort (cached like :func:`result`)."""
    cohort = state.active_cohort()
    run = _subgroups_shared if state.is_demo() else _subgroups_session
    return run(cohort.sha256, spec, cohort)
