"""Sidebar filters and analysis settings -> one :class:`~core.spec.AnalysisSpec`, kept in the URL.

The widgets are drawn in ``app.py`` on every run, so they keep their state across pages. On the
first run of a session the widgets are initialised from the query string, so a shared link
restores the identical view; afterwards every change is written back to the query string.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from core.dictionary import (
    PRE_SURGERY_COVARIATES,
    C,
    LiverProcedure,
    MetsGroup,
    Pancreatic,
    Recist,
    Regimen,
    Resectability,
    Setting,
    Timing,
    label,
)
from core.spec import ENDPOINTS, HEPATECTOMY, METHODS, ORIGINS, AnalysisSpec

_PREFIX = "f_"
_INIT = "controls_initialised"
_SPEC = "current_spec"
# Query keys that are not part of the spec (kept when rewriting the URL).
EXTRA_KEYS = ("present",)

_NONE_CALIPER = "none"


def _key(name: str) -> str:
    return _PREFIX + name


def _initialise_from_url(spec: AnalysisSpec) -> None:
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if isinstance(value, tuple):
            value = list(value)
        if f.name == "caliper":
            st.session_state[_key("caliper_on")] = value is not None
            value = 0.2 if value is None else value
        st.session_state[_key(f.name)] = value


def current_spec() -> AnalysisSpec:
    """The spec of the last run of :func:`render` (defaults before the first)."""
    return st.session_state.get(_SPEC, AnalysisSpec())


def _range(data: pd.DataFrame, column: str, lo_default: int, hi_default: int) -> tuple[int, int]:
    values = pd.to_numeric(data[column], errors="coerce").dropna()
    if values.empty:
        return lo_default, hi_default
    return int(values.min()), int(values.max())


def render(data: pd.DataFrame) -> AnalysisSpec:
    """Draw the sidebar controls and return the spec they describe.

    Parameters
    ----------
    data : pandas.DataFrame
        The active cohort (for the ranges and centre list of the widgets).
    """
    if not st.session_state.get(_INIT):
        query = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
        _initialise_from_url(AnalysisSpec.from_query(query))
        st.session_state[_INIT] = True
    else:
        st.session_state.setdefault(_key("caliper_on"), True)

    s = st.sidebar
    s.markdown("#### Cohort filters")
    with s.expander("Surgery arm only", expanded=False, icon=":material/content_cut:"):
        st.caption("These select operated patients; the chemotherapy pool is untouched.")
        pancreatic = st.multiselect("Pancreatic procedure", Pancreatic.ALL, key=_key("pancreatic_procedures"), placeholder="All")
        hepatectomy = st.radio(
            "Liver resection", list(HEPATECTOMY), format_func=HEPATECTOMY.get, key=_key("hepatectomy"), horizontal=True
        )
        liver = st.multiselect("Liver procedure", LiverProcedure.ALL, key=_key("liver_procedures"), placeholder="All")
        timing = st.multiselect("Simultaneous / staged", Timing.ALL, key=_key("liver_timings"), placeholder="All")

    with s.expander("Both arms", expanded=True, icon=":material/group:"):
        mets = st.multiselect("Liver metastases", MetsGroup.ALL, key=_key("mets_groups"), placeholder="All (1, 2-3, >3)")
        regimens = st.multiselect("Chemotherapy regimen", Regimen.ALL, key=_key("regimens"), placeholder="All")
        settings = st.multiselect("Chemotherapy setting", Setting.ALL, key=_key("chemo_settings"), placeholder="All")
        recist = st.multiselect("RECIST response", Recist.ALL, key=_key("recist"), placeholder="All")
        resect = st.multiselect("Resectability", Resectability.ALL, key=_key("resectability_levels"), placeholder="All")
        centre_options = sorted(map(str, data[C.CENTRE_ID].dropna().unique()))
        chosen = st.session_state.get(_key("centres")) or []
        st.session_state[_key("centres")] = [c for c in chosen if c in centre_options]
        centres = st.multiselect("Centre", centre_options, key=_key("centres"), placeholder="All")
        amin, amax = _range(data, C.AGE, 18, 100)
        age = st.slider("Age at diagnosis", 18, 100, (st.session_state.get(_key("age_min")) or 18, st.session_state.get(_key("age_max")) or 100), key=_key("age"))
        ymin, ymax = _range(data, C.DIAGNOSIS_YEAR, 2000, 2024)
        years = (None, None)
        if ymin < ymax:
            years = st.slider("Year of diagnosis", ymin, ymax, (st.session_state.get(_key("year_min")) or ymin, st.session_state.get(_key("year_max")) or ymax), key=_key("years"))
            years = (None if years[0] == ymin else years[0], None if years[1] == ymax else years[1])
        ca_max = st.number_input("CA19-9 at baseline at most (U/mL)", min_value=0.0, value=st.session_state.get(_key("ca19_9_max")), step=100.0, key=_key("ca_max_input"), placeholder="No limit")

    s.markdown("#### Analysis")
    with s.expander("Settings", expanded=False, icon=":material/tune:"):
        endpoint = st.radio("Endpoint", list(ENDPOINTS), format_func=ENDPOINTS.get, key=_key("endpoint"))
        origin = st.radio("Time origin", list(ORIGINS), format_func=lambda o: f"From {ORIGINS[o]}", key=_key("origin"), horizontal=True)
        method = st.radio("Immortal time", list(METHODS), format_func=METHODS.get, key=_key("method"))
        landmark = st.slider("Landmark L (months)", 1.0, 24.0, step=0.5, key=_key("landmark_months"))
        covariates = st.multiselect(
            "Propensity covariates (pre-surgery only)", PRE_SURGERY_COVARIATES, format_func=label, key=_key("covariates")
        )
        caliper_on = st.toggle("Caliper", key=_key("caliper_on"))
        caliper = st.slider("Caliper (SD of the logit)", 0.05, 1.0, step=0.05, key=_key("caliper"), disabled=not caliper_on)
        ratio = st.segmented_control("Controls per operated patient", [1, 2, 3, 4, 5], key=_key("ratio")) or 1
        replace = st.toggle("Match with replacement", key=_key("replace"))
        exact = st.toggle("Exact matching on centre", key=_key("exact_centre"))
        order = st.selectbox("Matching order", ["largest", "smallest", "data"], key=_key("order"))
        min_risk = st.number_input("Stop curves below n at risk", 1, 50, key=_key("min_at_risk"))

    values = dict(
        pancreatic_procedures=tuple(pancreatic), hepatectomy=hepatectomy, liver_procedures=tuple(liver),
        liver_timings=tuple(timing), mets_groups=tuple(mets), regimens=tuple(regimens), chemo_settings=tuple(settings),
        recist=tuple(recist), resectability_levels=tuple(resect), centres=tuple(centres),
        age_min=None if age[0] <= 18 else age[0], age_max=None if age[1] >= 100 else age[1],
        year_min=years[0], year_max=years[1], ca19_9_max=ca_max,
        endpoint=endpoint, origin=origin, method=method, landmark_months=float(landmark), covariates=tuple(covariates),
        caliper=float(caliper) if caliper_on else None, ratio=int(ratio), replace=bool(replace), exact_centre=bool(exact),
        order=order, min_at_risk=int(min_risk),
    )
    try:
        spec = AnalysisSpec(**values)
    except ValueError as exc:
        s.error(str(exc))
        spec = current_spec()
    st.session_state[_SPEC] = spec
    _write_url(spec)
    return spec


def _write_url(spec: AnalysisSpec) -> None:
    wanted = {**spec.to_query(), **{k: st.query_params[k] for k in EXTRA_KEYS if k in st.query_params}}
    current = {k: st.query_params[k] for k in st.query_params.keys()}
    if current != wanted:
        st.query_params.from_dict(wanted)
