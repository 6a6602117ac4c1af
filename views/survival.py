"""Survival: publication-grade Kaplan-Meier curves of the matched comparison and their statistics."""

import streamlit as st

from core import analysis, figures, tables
from core.format import fmt_ci, fmt_num, fmt_p_eq
from ui import compute, controls, downloads, layout

spec = controls.current_spec()
res = compute.result(spec)
large = layout.presentation()

layout.header("Survival", spec, subtitle="Kaplan-Meier estimates in the propensity-matched sample")
layout.warnings([downloads.text(w) for w in res.warnings])

plot_col, stats_col = st.columns([3, 2])
with plot_col:
    show_ci = st.toggle("Confidence bands", value=True, key="km_ci")
    if res.curves:
        risk = downloads.suppress(res.risk_table)
        fig = compute.figure(("survival_km", show_ci, large), spec, lambda: downloads.km_figure(
            figures.matched_km_figure(res, risk_table=risk, show_ci=show_ci, large=large,
                                      height=680 if large else 580)))
        st.plotly_chart(fig, width="stretch", config={"displaylogo": False}, key="survival_km")
        downloads.figure("kaplan_meier", downloads.deferred(figures.matched_km_figure, res, risk_table=risk,
                                                            show_ci=show_ci),
                         key="dl_km_fig", slide_height=900, journal_height=560)
        st.caption(
            f"Curves stop when fewer than {spec.min_at_risk} patients remain at risk. Numbers at risk count patients "
            "with follow-up of at least that time (as R's survival package). Ticks mark censored patients; dashed "
            "lines mark medians; bands are 95% log-log confidence intervals."
        )
    else:
        st.info("No curves: there is no matched comparison for these filters. Widen the filters or the caliper.")

with stats_col:
    st.subheader("Estimates")
    st.dataframe(downloads.shown(tables.estimates_table(res), bare_counts=True), width="stretch")
    if res.hr is not None:
        st.markdown("**" + downloads.text(tables.headline(res)) + "**")
        st.caption(res.hr.method + (" — robust SE clustered on matched pairs" if spec.method != "time_dependent" else ""))
        if not res.hr.reliable:
            layout.warnings([downloads.text(f"Unreliable: {res.hr.reason}")])
    st.markdown(f"**Log-rank** p {fmt_p_eq(res.logrank_p)} (exploratory)")
    if res.rmst is not None:
        r = res.rmst
        st.markdown(
            f"**RMST difference** at {fmt_num(r.tau, 0)} months: {fmt_ci(r.difference, r.lower, r.upper, 1)} months, "
            f"p {fmt_p_eq(r.p)}"
        )
        st.caption("Restricted mean survival time: surgery minus chemotherapy, area under the curves up to the horizon.")

st.subheader("Immortal time: three methods side by side")
st.caption("The naive comparison counts the months before surgery as surgery time and is biased in favour of surgery.")
st.dataframe(downloads.shown(tables.methods_table(res)), hide_index=True, width="stretch")
withheld = downloads.life_tables_withheld()
if withheld:
    st.caption(withheld)
else:
    with st.expander("Kaplan-Meier tables"):
        for c in res.curves:
            st.markdown(f"**{figures.ARM_LABELS[c.arm]}**")
            st.dataframe(c.km, hide_index=True, width="stretch")
        st.markdown("**Number at risk**")
        st.dataframe(res.risk_table, width="stretch")
st.subheader("Download the numbers")
downloads.tables("survival", {
    **({} if withheld else {"KM estimates": analysis.km_table(res)}),
    "Number at risk": downloads.suppress(res.risk_table.reset_index().rename(columns={"index": "arm"})),
    "Estimates": downloads.shown(tables.estimates_table(res), bare_counts=True).reset_index(names="statistic"),
    "Immortal-time methods": downloads.shown(res.methods),
}, spec, key="dl_survival")
layout.provenance_card(spec)
