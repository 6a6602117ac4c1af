"""Sidebar filters and analysis settings -> one :class:`~core.spec.AnalysisSpec`, kept in the URL.

The widgets are drawn in ``app.py`` on every run, so they keep their state across pages. On the
first run of a session the widgets are initialised from the query string (``ui.url``), so a
shared link restores the identical view; afterwards every change is written back to it.

The three filters the study is about (resection, liver metastases, regimen) come first, where
they are seen without scrolling. Every option of a category filter shows how many patients per
arm it leaves (S = operated, C = chemotherapy only), counted with all the other filters applied.
Numeric widgets offer exactly the range the spec accepts (``core.spec.field_range``).
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from core.dictionary import PRE_SURGERY_COVARIATES, C, label, value_help, value_label
from core.eligibility import CRITERIA, PRESET_NAMES, PRESETS, preset_of, removed_per_arm
from core.estimators import MIN_CENTRES_FOR_CLUSTER
from core.filters import CATEGORY_FILTERS, OptionCount, option_counts
from core.spec import (
    CENTRE_MODELS,
    ENDPOINT_ABBREVIATIONS,
    ENDPOINTS,
    METHODS,
    MISSING,
    ORIGINS,
    PROPENSITY_MODELS,
    AnalysisSpec,
    field_range,
)
from ui import layout, url

_PREFIX = "f_"
_INIT = "controls_initialised"
_SPEC = "current_spec"
_COUNTS = "option_counts"

#: Spec fields that no sidebar widget sets, with the reason (a test checks every other field has a widget).
API_ONLY: dict[str, str] = {}

COUNT_HELP = "S = operated patients, C = chemotherapy-only patients, counted with all the other filters applied."


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


def _options(data: pd.DataFrame, name: str) -> list[str]:
    """Options of a category filter: those present in the cohort, plus any already chosen (e.g. from a link)."""
    column, options, _ = CATEGORY_FILTERS[name]
    present = {str(v) for v in data[column].dropna().unique()}
    chosen = st.session_state.get(_key(name)) or []
    if not options:
        return sorted(present | set(chosen))
    return [o for o in options if o in present or o in chosen]


def _multiselect(data: pd.DataFrame, counts: dict[str, dict[str, OptionCount]], name: str, title: str,
                 placeholder: str = "All") -> tuple[str, ...]:
    column = CATEGORY_FILTERS[name][0]
    per_option = counts.get(name, {})

    def fmt(option: str) -> str:
        c = per_option.get(option)
        return f"{value_label(column, option)} ({c.short() if c else 'S 0 · C 0'})"

    help_text = COUNT_HELP + (f" Codes: {value_help(column)}." if value_help(column) else "")
    return tuple(st.multiselect(title, _options(data, name), format_func=fmt, key=_key(name),
                                placeholder=placeholder, help=help_text))


def _use_preset() -> None:
    """Callback of the preset box: its criteria become the chosen ones (a custom set keeps them)."""
    preset = st.session_state.get(_key("eligibility_preset"))
    if preset in PRESETS:
        st.session_state[_key("eligibility")] = list(PRESETS[preset])
    elif preset == "none":
        st.session_state[_key("eligibility")] = []


def _eligibility(data: pd.DataFrame) -> tuple[str, ...]:
    """Eligibility criteria applied to both arms: a named preset or a custom set, each with what it removes."""
    chosen = tuple(st.session_state.get(_key("eligibility")) or ())
    st.session_state[_key("eligibility_preset")] = preset_of(chosen) or ("custom" if chosen else "none")
    st.caption("Compare only patients who could have been operated: each criterion removes patients from both arms "
               "(the Overview's flow shows how many at each step).")
    names = {"none": "None (all patients)", **PRESET_NAMES, "custom": "Custom set (below)"}
    st.selectbox("Preset", list(names), format_func=names.get, key=_key("eligibility_preset"), on_change=_use_preset,
                 help="Named after the trials and consensus they follow; the registry does not record every "
                      "criterion of a trial.")
    removed = removed_per_arm(data)
    return tuple(st.multiselect(
        "Criteria", list(CRITERIA), key=_key("eligibility"), placeholder="None",
        format_func=lambda k: f"{CRITERIA[k].words} (removes S {removed[k][0]} · C {removed[k][1]})",
        help="S / C: operated / chemotherapy-only patients who do not meet the criterion on its own "
             "(a missing value does not meet it)."))


def _limits(spec_lo: int, spec_hi: int, data_lo: int, data_hi: int) -> tuple[int, int]:
    lo, hi = max(spec_lo, data_lo), min(spec_hi, data_hi)
    return (lo, hi) if lo < hi else (spec_lo, spec_hi)


def _between(title: str, lo_name: str, hi_name: str, bounds: tuple[int, int], help_text: str) -> tuple[int | None, int | None]:
    """A range slider for an optional (min, max) pair of spec fields; the bounds mean "no limit"."""
    lo, hi = bounds
    cur = (st.session_state.get(_key(lo_name)) or lo, st.session_state.get(_key(hi_name)) or hi)
    cur = (min(max(cur[0], lo), hi), max(min(cur[1], hi), lo))
    chosen = st.slider(title, lo, hi, cur, key=_key(f"{lo_name}_{hi_name}"), help=help_text)
    return (None if chosen[0] <= lo else int(chosen[0]), None if chosen[1] >= hi else int(chosen[1]))


def _pending_spec(data: pd.DataFrame) -> AnalysisSpec:
    """The spec the widgets' current state describes, read before they are drawn (for the option counts).

    Keyed widgets hold their new value in the session state when a run starts, so the counts shown
    next to each option already follow the change that triggered the run.
    """
    ss = st.session_state
    spec = current_spec()
    changes = {}
    for name in CATEGORY_FILTERS:
        if _key(name) in ss:
            changes[name] = tuple(ss[_key(name)] or ())
    if _key("hepatectomy") in ss:
        changes["hepatectomy"] = ss[_key("hepatectomy")] or "any"
    if _key("eligibility") in ss:
        changes["eligibility"] = tuple(ss[_key("eligibility")] or ())
    for lo_name, hi_name, bounds in _range_fields(data):
        chosen = ss.get(_key(f"{lo_name}_{hi_name}"))
        if chosen is not None:
            changes[lo_name] = None if chosen[0] <= bounds[0] else int(chosen[0])
            changes[hi_name] = None if chosen[1] >= bounds[1] else int(chosen[1])
    if _key("ca_max_input") in ss:
        changes["ca19_9_max"] = ss[_key("ca_max_input")]
    try:
        return spec.replace_(**changes)
    except ValueError:
        return spec


def _range_fields(data: pd.DataFrame) -> list[tuple[str, str, tuple[int, int]]]:
    """The (min, max) filter pairs drawn as range sliders, with the bounds that mean "no limit"."""
    m_lo, m_hi = field_range("mets_min")
    a_lo, a_hi = field_range("age_min")
    out = [("mets_min", "mets_max", _limits(int(m_lo), int(m_hi), *_range(data, C.LIVER_METS_N, 1, 50))),
           ("age_min", "age_max", (int(a_lo), int(a_hi)))]
    y_lo, y_hi = _range(data, C.DIAGNOSIS_YEAR, 2000, 2024)
    if y_lo < y_hi:
        out.append(("year_min", "year_max", (y_lo, y_hi)))
    return out


def _cached_counts(data: pd.DataFrame, spec: AnalysisSpec) -> dict[str, dict[str, OptionCount]]:
    """Option counts for ``spec``, recomputed only when the cohort or the filters change."""
    key = (id(data), len(data), spec)
    cached = st.session_state.get(_COUNTS)
    if cached is None or cached[0] != key:
        cached = (key, option_counts(data, spec))
        st.session_state[_COUNTS] = cached
    return cached[1]


def render(data: pd.DataFrame) -> AnalysisSpec:
    """Draw the sidebar controls and return the spec they describe.

    Parameters
    ----------
    data : pandas.DataFrame
        The active cohort (for the options, their counts and the ranges of the widgets).
    """
    if not st.session_state.get(_INIT):
        _initialise_from_url(url.spec_from_url())
        st.session_state[_INIT] = True
    else:
        st.session_state.setdefault(_key("caliper_on"), True)

    counts = _cached_counts(data, _pending_spec(data))
    ranges = {lo: (lo, hi, bounds) for lo, hi, bounds in _range_fields(data)}
    s = st.sidebar
    present = layout.presentation()
    if present:
        # Presentation mode hides the sidebar: the study's filters and the endpoint stay on screen in one strip.
        strip = st.container(key="presentation_strip")
        cols = strip.columns([3, 4, 3, 3, 2])
        places = {"pancreatic": cols[0], "hepatectomy": cols[1], "mets": cols[2], "regimen": cols[3],
                  "endpoint": cols[4], "mets_range": s}
    else:
        s.markdown("#### Study filters", help=COUNT_HELP)
        places = dict.fromkeys(("pancreatic", "hepatectomy", "mets", "mets_range", "regimen", "endpoint"), s)
        places["endpoint"] = None  # drawn with the other settings
    with places["pancreatic"]:
        pancreatic = _multiselect(data, counts, "pancreatic_procedures",
                                  "Pancreatic procedure" if present else "Resection: pancreatic procedure (surgery arm)")
    with places["hepatectomy"]:
        hep_counts = counts.get("hepatectomy", {})
        hep_words = {"minor": "Minor" if present else "Minor (<3 segments)",
                     "major": "Major" if present else "Major (3+ segments)"}
        hepatectomy = st.segmented_control(
            "Liver resection" if present else "Resection: liver (surgery arm)", ["any", "minor", "major"],
            key=_key("hepatectomy"),
            format_func=lambda v: "Any" if v == "any" else
            f"{hep_words[v]} · {hep_counts[v].n_surgery}" if v in hep_counts else v,
            help="Surgery arm. Minor: fewer than 3 Couinaud segments removed; major: 3 or more. " + COUNT_HELP,
        ) or "any"
    with places["mets"]:
        mets = _multiselect(data, counts, "mets_groups", "Liver metastases", placeholder="All (1, 2-3, >3)")
    with places["mets_range"]:
        mets_min, mets_max = _between("Number of liver metastases", *ranges["mets_min"],
                                      "Number of liver metastases at diagnosis (both arms).")
    with places["regimen"]:
        regimens = _multiselect(data, counts, "regimens", "Regimen" if present else "Chemotherapy regimen")
    with s.expander("Eligible at time zero (both arms)", icon=":material/how_to_reg:",
                    expanded=bool(st.session_state.get(_key("eligibility")))):
        eligibility = _eligibility(data)
    endpoint_help = ("Both endpoints run from the same time zero in both arms. Recurrence-free survival exists only "
                     "after surgery: it is on the Surgical outcomes page.")
    if places["endpoint"] is not None:
        with places["endpoint"]:
            endpoint = st.segmented_control("Endpoint", list(ENDPOINTS), format_func=ENDPOINT_ABBREVIATIONS.get,
                                            key=_key("endpoint"),
                                            help="OS: overall survival; EFS: event-free survival. " + endpoint_help
                                            ) or AnalysisSpec().endpoint

    with s.expander("More filters", expanded=False, icon=":material/filter_list:"):
        st.caption("Surgery-arm filters select operated patients and leave the chemotherapy pool untouched.")
        liver = _multiselect(data, counts, "liver_procedures", "Liver procedure (surgery arm)")
        timing = _multiselect(data, counts, "liver_timings", "Simultaneous / staged (surgery arm)")
        settings = _multiselect(data, counts, "chemo_settings", "Chemotherapy setting")
        recist = _multiselect(data, counts, "recist", "RECIST response")
        resect = _multiselect(data, counts, "resectability_levels", "Resectability")
        centres = _multiselect(data, counts, "centres", "Centre")
        age = _between("Age at diagnosis", *ranges["age_min"], "Years, inclusive.")
        years = (None, None)
        if "year_min" in ranges:
            years = _between("Year of diagnosis", *ranges["year_min"], "Inclusive.")
        ca_lo, ca_hi = field_range("ca19_9_max")
        ca_max = st.number_input("CA19-9 at baseline at most (U/mL)", min_value=ca_lo, max_value=ca_hi,
                                 value=st.session_state.get(_key("ca19_9_max")), step=100.0,
                                 key=_key("ca_max_input"), placeholder="No limit",
                                 help="Patients with a missing value are kept.")

    s.markdown("#### Analysis")
    with s.expander("Settings", expanded=False, icon=":material/tune:"):
        if places["endpoint"] is None:
            endpoint = st.radio("Endpoint (between arms)", list(ENDPOINTS), format_func=ENDPOINTS.get,
                                key=_key("endpoint"), help=endpoint_help)
        origin = st.radio("Time origin", list(ORIGINS), format_func=lambda o: f"From {ORIGINS[o]}", key=_key("origin"),
                          horizontal=True)
        method = st.radio("Immortal time", list(METHODS), format_func=METHODS.get, key=_key("method"))
        lm_lo, lm_hi = field_range("landmark_months")
        landmark = st.slider("Landmark L (months)", lm_lo, lm_hi, step=0.5, key=_key("landmark_months"))
        propensity = st.radio("Propensity model", list(PROPENSITY_MODELS), format_func=PROPENSITY_MODELS.get,
                              key=_key("propensity"),
                              help="Firth's penalty keeps the model estimable when a covariate (almost) separates "
                                   "the arms, as in small subgroups.")
        covariates = st.multiselect(
            "Propensity covariates (pre-surgery only)", PRE_SURGERY_COVARIATES, format_func=label, key=_key("covariates")
        )
        missing = st.radio("Missing covariate values", list(MISSING), format_func=lambda k: MISSING[k].capitalize(),
                           key=_key("missing"),
                           help="Complete cases leave out every patient with a missing covariate value. Multiple "
                                "imputation keeps them: 20 imputed data sets, the match and the Cox model in each, "
                                "pooled by Rubin's rules (about ten times slower).")
        caliper_on = st.toggle("Caliper", key=_key("caliper_on"))
        c_lo, c_hi = field_range("caliper")
        caliper = st.slider("Caliper (SD of the logit)", c_lo, c_hi, step=0.05, key=_key("caliper"),
                            disabled=not caliper_on)
        r_lo, r_hi = field_range("ratio")
        ratio = st.segmented_control("Controls per operated patient", list(range(int(r_lo), int(r_hi) + 1)),
                                     key=_key("ratio")) or 1
        replace = st.toggle("Match with replacement", key=_key("replace"))
        exact = st.toggle("Exact matching on centre", key=_key("exact_centre"))
        order = st.selectbox("Matching order", ["largest", "smallest", "data"], key=_key("order"))
        centre_model = st.radio(
            "Centre in the hazard ratio", list(CENTRE_MODELS), format_func=lambda v: CENTRE_MODELS[v].capitalize(),
            key=_key("centre_model"),
            help="Stratified: a separate baseline risk per centre, so operated and chemotherapy-only patients of the "
                 "same centre are compared (centres with one arm only add nothing and are left out). Clustered: the "
                 "same hazard ratio, with a confidence interval that does not take patients of one centre as "
                 f"independent (needs at least {MIN_CENTRES_FOR_CLUSTER} centres). Applies to every Cox model of the comparison.")
        mar_lo, mar_hi = field_range("min_at_risk")
        min_risk = st.number_input("Stop curves below n at risk", int(mar_lo), int(mar_hi), key=_key("min_at_risk"))
        tau_lo, tau_hi = field_range("rmst_months")
        tau = st.slider("RMST horizon (months)", tau_lo, tau_hi, step=6.0, key=_key("rmst_months"),
                        help="Restricted mean survival time: the area under each curve up to this time (shortened "
                             "to the shorter follow-up of the two arms).")

    values = dict(
        eligibility=eligibility, pancreatic_procedures=pancreatic, hepatectomy=hepatectomy, liver_procedures=liver, liver_timings=timing,
        mets_groups=mets, mets_min=mets_min, mets_max=mets_max, regimens=regimens, chemo_settings=settings,
        recist=recist, resectability_levels=resect, centres=centres, age_min=age[0], age_max=age[1],
        year_min=years[0], year_max=years[1], ca19_9_max=ca_max,
        endpoint=endpoint, origin=origin, method=method, landmark_months=float(landmark),
        covariates=tuple(covariates), propensity=propensity,
        caliper=float(caliper) if caliper_on else None, ratio=int(ratio), replace=bool(replace),
        exact_centre=bool(exact), order=order, centre_model=centre_model, min_at_risk=int(min_risk),
        rmst_months=float(tau), missing=missing,
    )
    try:
        spec = AnalysisSpec(**values)
    except ValueError as exc:
        s.error(str(exc))
        spec = current_spec()
    st.session_state[_SPEC] = spec
    url.write_spec(spec)
    return spec


#: The spec fields each widget sets (the contract test walks them).
WIDGET_FIELDS: tuple[str, ...] = (
    "eligibility", "pancreatic_procedures", "hepatectomy", "liver_procedures", "liver_timings", "mets_groups", "mets_min",
    "mets_max", "regimens", "chemo_settings", "recist", "resectability_levels", "centres", "age_min", "age_max",
    "year_min", "year_max", "ca19_9_max", "endpoint", "origin", "method", "landmark_months", "covariates",
    "propensity", "caliper", "ratio", "replace", "exact_centre", "order", "centre_model", "min_at_risk", "rmst_months",
    "missing",
)
