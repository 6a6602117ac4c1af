"""Overview: the flow of patients and the headline matched comparison."""

import streamlit as st

from core import export_tables, figures, synthetic, tables
from core.dictionary import Arm
from core.format import fmt_interval, fmt_median, fmt_num, fmt_p
from core.spec import ENDPOINT_ABBREVIATIONS, ENDPOINT_NAMES, EVENT_WORDS
from ui import compute, controls, downloads, layout, state

STUDY = "Registry NCT06980792 (ISLS pancreas study group)"

spec = controls.current_spec()
res = compute.result(spec)
large = layout.presentation()

layout.header("Overview", spec, subtitle=f"{STUDY} — resection of the pancreas and the liver metastases after "
              "chemotherapy vs chemotherapy alone")
if not large:
    layout.copy_link(spec)

abbrev, event_word = ENDPOINT_ABBREVIATIONS[spec.endpoint], EVENT_WORDS[spec.endpoint]
if large:  # projector: the curve and the headline numbers on one 1280 x 720 screen
    figure_col, numbers_col = st.columns([5, 2])
    hr_box, p_box, s_box, c_box = (numbers_col.container() for _ in range(4))
    cols = [s_box, c_box, hr_box, p_box]  # the hazard ratio first, beside the curve
else:
    figure_col = numbers_col = None
    cols = st.columns(4)
for col, curve in zip(cols[:2], res.curves, strict=False):
    n, events = downloads.count(curve.n), downloads.count(curve.events)
    patients = f"{n} patient{'' if n == '1' else 's'}, {events} {event_word}{'' if events == '1' else 's'}"
    col.metric(f"Median {abbrev}, {figures.arm_label(res, curve.arm).lower()}", fmt_median(curve.median),
               help=f"Matched: {patients}")
    col.caption(f"95% CI {fmt_interval(curve.median_lower, curve.median_upper, 1)} · {patients}")
if res.hr is not None and res.hr.estimated:
    cols[2].metric("Hazard ratio", fmt_num(res.hr.hr, 2), help="Surgery vs chemotherapy alone. " + res.hr.method)
    cols[2].caption(f"95% CI {fmt_interval(res.hr.lower, res.hr.upper, 2)}")
    cols[3].metric("p-value", fmt_p(res.hr.p), help="Robust Wald test of the Cox model. Exploratory unless pre-specified.")
    cols[3].caption("robust Wald test, exploratory")
elif res.hr is not None and res.hr.counts is not None:
    c = res.hr.counts
    cols[2].metric("Operated / chemotherapy only", f"{downloads.count(c.n_surgery)} / {downloads.count(c.n_chemotherapy)}",
                   help=f"Patients per arm in {res.hr.counted_in or 'this selection'}.")
    cols[3].metric(f"{event_word.capitalize()}s", f"{downloads.count(c.events_surgery)} / "
                   f"{downloads.count(c.events_chemotherapy)}", help="Operated / chemotherapy only.")
if large:
    with figure_col:
        if res.curves:
            fig = compute.figure(("overview_km", large), spec, lambda: downloads.km_figure(figures.matched_km_figure(
                res, risk_table=downloads.suppress(res.risk_table), large=True, height=470)))
            st.plotly_chart(fig, width="stretch", theme=None, config={"displaylogo": False}, key="overview_km")
st.caption(f"Method: {res.hr.method if res.hr else '—'}. {res.population_description}.")
if state.is_demo() and res.hr is not None and res.hr.estimated:
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(f"Synthetic demo: the true hazard ratio is {synthetic.TRUE_HR:.2f}. These 90 patients are one random "
                   "sample; at this size an estimate far from the truth is expected, in either direction.")
        st.page_link("views/method_check.py", label="How far? Method check", icon=":material/verified:")

layout.warnings([downloads.text(w) for w in res.warnings])
layout.notes([downloads.text(n) for n in res.notes])

left, right = st.columns([3, 2])
with left:
    st.subheader(f"Matched {ENDPOINT_NAMES[spec.endpoint].lower()}")
    if res.curves:
        risk = downloads.suppress(res.risk_table)
        if not large:
            fig = compute.figure(("overview_km", large), spec, lambda: downloads.km_figure(
                figures.matched_km_figure(res, risk_table=risk, height=520)))
            st.plotly_chart(fig, width="stretch", theme=None, config={"displaylogo": False}, key="overview_km")
        downloads.figure("overall_survival", downloads.deferred(figures.matched_km_figure, res, risk_table=risk),
                         key="dl_ov_km", slide_height=900, journal_height=560)
    else:
        st.info("No curves: no patients could be matched for these filters.")
with right:
    st.subheader("Patients at each step")
    flow = compute.figure(("overview_flow", large), spec,
                          lambda: figures.flow_figure(downloads.suppress(res.flow, list(Arm.ALL)), large=large))
    st.plotly_chart(flow, width="stretch", theme=None, config={"displayModeBar": False}, key="overview_flow")
    st.markdown("**Immortal-time methods**")
    st.dataframe(downloads.shown(tables.methods_compact(res)), hide_index=True, width="stretch",
                 column_config={"Method": st.column_config.TextColumn(help="Estimands in words: Survival page")})
    st.caption("Patients and events per method, and each estimand in words: Survival page.")
small_k = downloads.suppression_k()
downloads.tables("overview", {
    "Flow": export_tables.flow(res, k=small_k),
    "Estimates": export_tables.estimates(res, k=small_k),
    "Comparison": export_tables.comparison(res, k=small_k),
    "Immortal-time methods": export_tables.immortal_time_methods(res, k=small_k),
}, spec, key="dl_overview")
layout.provenance_card(spec)
