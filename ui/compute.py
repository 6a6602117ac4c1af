"""Cached analysis runs.

* Demo cohort (synthetic, identical for everyone): one process-wide cache keyed on
  (cohort hash, spec).
* Uploaded cohorts: a cache scoped to the browser session (``scope="session"``), dropped when
  the session ends; results from one user's upload are never served to another session.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import streamlit as st

from core import analysis
from core.cohort import Cohort
from core.spec import AnalysisSpec
from ui import downloads, state

T = TypeVar("T")


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


@st.cache_resource(max_entries=64, show_spinner=False)
def _ccw_shared(sha256: str, spec: AnalysisSpec, grace: float, _cohort: Cohort):
    from core import ccw

    return ccw.run(_cohort, spec, grace=grace)


@st.cache_resource(max_entries=16, show_spinner=False, scope="session")
def _ccw_session(sha256: str, spec: AnalysisSpec, grace: float, _cohort: Cohort):
    from core import ccw

    return ccw.run(_cohort, spec, grace=grace)


def ccw_result(spec: AnalysisSpec, grace: float):
    """Clone-censor-weight comparison of the active cohort with grace period ``grace`` (cached like :func:`result`)."""
    cohort = state.active_cohort()
    run = _ccw_shared if state.is_demo() else _ccw_session
    return run(cohort.sha256, spec, float(grace), cohort)


@st.cache_resource(max_entries=256, show_spinner=False)
def _figure_shared(sha256: str, spec: AnalysisSpec, key: tuple, _build: Callable[[], T]) -> T:
    return _build()


@st.cache_resource(max_entries=32, show_spinner=False, scope="session")
def _figure_session(sha256: str, spec: AnalysisSpec, key: tuple, _build: Callable[[], T]) -> T:
    return _build()


def figure(key: tuple[Hashable, ...], spec: AnalysisSpec, build: Callable[[], T]) -> T:
    """A figure of the active cohort under ``spec``, built once and then reused (scoped like :func:`result`).

    Building a Plotly figure costs more server time than a cached analysis (Plotly validates every
    property), and every rerun of a page redraws it; reusing it keeps many sessions responsive.

    Parameters
    ----------
    key : tuple
        Names the figure and every input of ``build`` other than the cohort and ``spec``
        (figure kind, presentation mode, toggles...). The small-cell suppression setting is
        added here.
    spec : AnalysisSpec
        The spec the figure shows.
    build : callable
        Makes the figure (called on a cache miss only). The returned figure is shared: callers
        must not modify it.
    """
    cohort = state.active_cohort()
    cached = _figure_shared if state.is_demo() else _figure_session
    return cached(cohort.sha256, spec, (*key, downloads.suppression_k()), build)


@st.cache_resource(max_entries=64, show_spinner=False)
def _speccurve_box_shared(sha256: str, spec: AnalysisSpec, primary: AnalysisSpec | None) -> dict:
    return {}


@st.cache_resource(max_entries=8, show_spinner=False, scope="session")
def _speccurve_box_session(sha256: str, spec: AnalysisSpec, primary: AnalysisSpec | None) -> dict:
    return {}


def speccurve(spec: AnalysisSpec, primary: AnalysisSpec | None, progress: Callable[[int, int], None] | None = None):
    """The specification curve of the active cohort under ``spec`` (cached like :func:`result`).

    The cache holds an empty box per key and the curve is computed outside it, so that ``progress``
    (a page's progress bar, drawn outside any cached function) is called on a miss and never replayed.
    """
    from core import speccurve as speccurve_mod

    cohort = state.active_cohort()
    box = (_speccurve_box_shared if state.is_demo() else _speccurve_box_session)(cohort.sha256, spec, primary)
    if "curve" not in box:
        box["curve"] = speccurve_mod.run(cohort, spec, primary=primary, progress=progress)
    return box["curve"]


def _centre_panel(cohort: Cohort, spec: AnalysisSpec):
    from core import centre

    return centre.centre_balance(cohort, spec), centre.leave_one_centre_out(cohort, spec)


@st.cache_resource(max_entries=64, show_spinner=False)
def _centre_shared(sha256: str, spec: AnalysisSpec, _cohort: Cohort):
    return _centre_panel(_cohort, spec)


@st.cache_resource(max_entries=16, show_spinner=False, scope="session")
def _centre_session(sha256: str, spec: AnalysisSpec, _cohort: Cohort):
    return _centre_panel(_cohort, spec)


def centre_panel(spec: AnalysisSpec):
    """Balance per centre and leave-one-centre-out HR of the active cohort (cached like :func:`result`).

    Returns
    -------
    (core.centre.CentreBalance, core.centre.LeaveOneCentreOut)
    """
    cohort = state.active_cohort()
    run = _centre_shared if state.is_demo() else _centre_session
    return run(cohort.sha256, spec, cohort)
