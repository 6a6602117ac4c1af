"""Overview: the flow of patients and the headline matched comparison."""

import streamlit as st

from core import figures, tables
from core.dictionary import Arm
from core.format import fmt_interval, fmt_median, fmt_num, fmt_p
from ui import compute, controls, downloads, layout

spec = controls.current_spec()
res = compute.result(spec)
large = layout.presentation()

layout.header("Overview", spec, subtitle="Resection of pancreas and liver metastases after chemotherapy vs chemotherapy alone")
layout.copy_link(spec)

cols = st.columns(4)
for col, curve in zip(cols[:2], res.curves, strict=False):
    n, events = downloads.count(curve.n), downloads.count(curve.events)
    col.metric(f"Median OS, {figures.ARM_LABELS[curve.arm].lower()}", fmt_median(curve.median),
               help=f"{n} matched patients, {events} deaths")
    col.caption(f"95% CI {fmt_interval(curve.median_lower, curve.median_upper, 1)} · {n} patients, {events} deaths")
if res.hr is not None:
    cols[2].metric("Hazard ratio", fmt_num(res.hr.hr, 2),
                   help="Surgery vs chemotherapy alone. " + res.hr.method + ("" if res.hr.reliable else f" — unreliable: {downloads.text(res.hr.reason)}"))
    cols[2].caption(f"95% CI {fmt_interval(res.hr.lower, res.hr.upper, 2)}" + ("" if res.hr.reliable else " · unreliable"))
    cols[3].metric("p-value", fmt_p(res.hr.p), help="Robust Wald test of the Cox model. Exploratory unless pre-specified.")
    cols[3].caption("robust Wald test, exploratory")
st.caption(f"Method: {res.hr.method if res.hr else '—'}. {res.population_description}.")

layout.warnings([downloads.text(w) for w in res.warnings])

left, right = st.columns([3, 2])
with left:
    st.subheader("Matched overall survival")
    if res.curves:
        risk = downloads.suppress(res.risk_table)
        fig = compute.figure(("overview_km", large), spec, lambda: downloads.km_figure(figures.matched_km_figure(
            res, risk_table=risk, large=large, height=620 if large else 520)))
        st.plotly_chart(fig, width="stretch", config={"displaylogo": False}, key="overview_km")
        downloads.figure("overall_survival", downloads.deferred(figures.matched_km_figure, res, risk_table=risk),
                         key="dl_ov_km", slide_height=900, journal_height=560)
    else:
        st.info("No curves: there is no matched comparison for these filters. Widen the filters or the caliper.")
with right:
    st.subheader("Patients at each step")
    flow = compute.figure(("overview_flow", large), spec,
                          lambda: figures.flow_figure(downloads.suppress(res.flow, list(Arm.ALL)), large=large))
    st.plotly_chart(flow, width="stretch", config={"displayModeBar": False}, key="overview_flow")
    st.markdown("**Immortal-time methods**")
    st.dataframe(downloads.shown(tables.methods_table(res)[["Method", "HR (95% CI)", "p"]]), hide_index=True,
                 width="stretch")
downloads.tables("overview", {"Flow": downloads.suppress(res.flow, list(Arm.ALL)),
                              "Immortal-time methods": downloads.shown(res.methods)}, spec, key="dl_overview")
layout.provenance_card(spec)
