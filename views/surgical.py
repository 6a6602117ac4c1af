"""Surgical outcomes: within the surgery group only (RFS does not exist without surgery)."""

import pandas as pd
import streamlit as st

from core import analysis, figures, outcomes
from core.dictionary import Arm, C, label
from core.filters import apply_filters
from ui import controls, downloads, layout, state, url

spec = controls.current_spec()
large = layout.presentation()
layout.header("Surgical outcomes", spec, subtitle="Operated patients only: long-term outcomes and safety")

data = apply_filters(state.active_cohort().data, spec).data
operated = data[data[C.TREATMENT_GROUP] == Arm.SURGERY]
if operated.empty:
    st.info("No operated patients with these filters: widen the filters in the sidebar.")
    st.stop()

ENDPOINTS = {"rfs": "Recurrence-free survival", "os_from_surgery": "Overall survival from surgery"}
left, right = st.columns(2)
endpoint = left.segmented_control("Endpoint", list(ENDPOINTS), format_func=ENDPOINTS.get,
                                  key="surg_endpoint", default=url.page_value("sep", list(ENDPOINTS), "rfs"))
endpoint = endpoint or "rfs"
groupings = list(outcomes.GROUPINGS)
grouping = right.selectbox("By", groupings, format_func=label, key="surg_group",
                           index=groupings.index(url.page_value("sgr", groupings, C.METS_GROUP)))
grouping = grouping or C.METS_GROUP
url.keep({"sep": endpoint, "sgr": grouping})
st.caption("RFS is measured from surgery and exists only for operated patients: it is never compared with the "
           "progression-free survival of the chemotherapy group.")

by = outcomes.survival_by(operated, endpoint, grouping, min_at_risk=spec.min_at_risk)
max_t = max((float(k["time"].max()) for k in by.curves.values() if len(k)), default=0.0)
risk = by.risk_table(analysis.risk_times(max_t))
plot, stats = st.container(), st.container()  # one below the other: every column of the table fits at 1280 px
with plot:
    km_inputs = {"medians": by.medians, "min_at_risk": spec.min_at_risk, "show_ci": False,
                 "x_title": "Months since surgery", "y_title": ENDPOINTS[endpoint],
                 "labels": {k: f"{label(grouping)}: {k}" for k in by.curves}}
    risk_shown = downloads.suppress(risk)
    fig = figures.km_figure(by.curves, risk_shown, large=large, **km_inputs)
    st.plotly_chart(fig, width="stretch", theme=None, config={"displaylogo": False}, key="surgical_km")
    downloads.figure(f"{endpoint}_by_{grouping}", downloads.deferred(figures.km_figure, by.curves, risk_shown,
                                                                     **km_inputs),
                     key="dl_surg_km", slide_height=900, journal_height=600)
with stats:
    st.dataframe(downloads.shown(by.display()), hide_index=True, width="stretch")
    layout.notes([by.logrank_note + (f" p = {by.logrank_p:.3f}." if by.logrank_p == by.logrank_p else "")])
    layout.notes(by.notes)

st.subheader("Prognostic factors (multivariable Cox model)")
cox = outcomes.prognostic_cox(operated, endpoint)
if cox.fitted:
    c1, c2 = st.container(), st.container()  # the whole Cox table below its forest plot, readable at 1280 px
    with c1:
        st.plotly_chart(figures.forest_plot(cox.table, large=large), width="stretch", theme=None, config={"displaylogo": False},
                        key="surgical_forest")
    with c2:
        st.dataframe(cox.display(), hide_index=True, width="stretch")
        st.caption(f"{cox.n} patients, {cox.n_events} events; {cox.n_dropped} left out for missing values.")
    if cox.warnings:
        with st.expander(f"{len(cox.warnings)} caution(s) about this model", expanded=False, icon=":material/warning:"):
            layout.notes(cox.warnings)
else:
    st.info(layout.escape_md(f"The model cannot be fitted: {cox.reason}"))

st.subheader("Short-term outcomes by pancreatic procedure")
threshold = st.radio("Major morbidity from", ["IIIa", "IIIb"], horizontal=True, key="cd_threshold")
small_k = downloads.suppression_k()
st.dataframe(downloads.shown(outcomes.short_term_outcomes(operated, major_threshold=threshold, k=small_k)), width="stretch",
             height=600)
downloads.suppression_note()
short_long = outcomes.short_term_outcomes(operated, major_threshold=threshold, long=True, k=small_k)
downloads.tables("surgical_outcomes", {
    "Survival by group": downloads.suppress(by.summary, ["n", "events"]),
    "Number at risk": downloads.suppress(risk.reset_index()),
    "Prognostic Cox": cox.table if cox.fitted else pd.DataFrame({"reason": [cox.reason]}),
    "Short-term outcomes": short_long,
}, spec, key="dl_surgical")
layout.provenance_card(spec)
