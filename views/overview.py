"""Overview: the flow of patients and the headline matched comparison."""

import streamlit as st

from core import figures
from core.format import fmt_ci, fmt_months, fmt_p
from ui import compute, controls, layout

spec = controls.current_spec()
res = compute.result(spec)
large = layout.presentation()

layout.header("Overview", spec, subtitle="Resection of pancreas and liver metastases after chemotherapy vs chemotherapy alone")
layout.copy_link(spec)

cols = st.columns(4)
for col, curve in zip(cols[:2], res.curves, strict=False):
    col.metric(f"Median OS, {figures.ARM_LABELS[curve.arm].lower()}", fmt_months(curve.median, curve.median_lower, curve.median_upper),
               help=f"{curve.n} matched patients, {curve.events} deaths")
if res.hr is not None:
    cols[2].metric("Hazard ratio (95% CI)", fmt_ci(res.hr.hr, res.hr.lower, res.hr.upper),
                   help=res.hr.method + ("" if res.hr.reliable else f" — unreliable: {res.hr.reason}"))
    cols[3].metric("p (robust Wald)", fmt_p(res.hr.p), help="Exploratory unless pre-specified.")
st.caption(f"Method: {res.hr.method if res.hr else '—'}. {res.population_description}.")

layout.warnings(res.warnings)

left, right = st.columns([3, 2])
with left:
    st.subheader("Matched overall survival")
    if res.curves:
        fig = figures.km_figure(
            {c.arm: c.km for c in res.curves}, res.risk_table, medians={c.arm: c.median for c in res.curves},
            min_at_risk=spec.min_at_risk, x_title=res.time_label, large=large, height=620 if large else 520,
        )
        st.plotly_chart(fig, width="stretch", config={"displaylogo": False}, key="overview_km")
    else:
        st.info("No curves: there is no matched comparison for these filters. Widen the filters or the caliper.")
with right:
    st.subheader("Patients at each step")
    st.plotly_chart(figures.flow_figure(res.flow, large=large), width="stretch", config={"displayModeBar": False},
                    key="overview_flow")
    st.dataframe(res.methods[["method", "HR", "lower", "upper", "p", "patients", "events", "note"]], hide_index=True,
                 width="stretch", column_config={"HR": st.column_config.NumberColumn(format="%.2f"),
                                                 "lower": st.column_config.NumberColumn(format="%.2f"),
                                                 "upper": st.column_config.NumberColumn(format="%.2f"),
                                                 "p": st.column_config.NumberColumn(format="%.3f")})
layout.provenance_card(spec)
