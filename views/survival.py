"""Survival: publication-grade Kaplan-Meier curves of the matched comparison and their statistics."""

import streamlit as st

from core import export_tables, figures, tables
from core.format import fmt_ci, fmt_num, fmt_p_eq
from ui import compute, controls, downloads, layout

spec = controls.current_spec()
res = compute.result(spec)
large = layout.presentation()

layout.header("Survival", spec, subtitle="Kaplan-Meier estimates in the propensity-matched sample")
layout.warnings([downloads.text(w) for w in res.warnings])
layout.notes([downloads.text(n) for n in res.notes])

plot_col, stats_col = st.columns([3, 2])
with plot_col:
    show_ci = st.toggle("Confidence bands", value=True, key="km_ci")
    if res.curves:
        risk = downloads.suppress(res.risk_table)
        fig = compute.figure(("survival_km", show_ci, large), spec, lambda: downloads.km_figure(
            figures.matched_km_figure(res, risk_table=risk, show_ci=show_ci, large=large,
                                      height=680 if large else 580)))
        st.plotly_chart(fig, width="stretch", theme=None, config={"displaylogo": False}, key="survival_km")
        downloads.figure("kaplan_meier", downloads.deferred(figures.matched_km_figure, res, risk_table=risk,
                                                            show_ci=show_ci),
                         key="dl_km_fig", slide_height=900, journal_height=560)
        st.caption(
            f"Curves stop when fewer than {spec.min_at_risk} patients remain at risk. Numbers at risk count patients "
            "with follow-up of at least that time (as R's survival package). Ticks mark censored patients; dashed "
            "lines mark medians; bands are 95% log-log confidence intervals."
        )
    else:
        st.info("No curves: no patients could be matched for these filters.")

with stats_col:
    st.subheader("Estimates")
    st.dataframe(downloads.shown(tables.estimates_table(res), bare_counts=True), width="stretch")
    if res.hr is not None and res.hr.estimated:
        st.markdown("**" + downloads.text(tables.headline(res)) + "**")
        st.caption(res.hr.method + (" — robust SE clustered on matched pairs" if spec.method != "time_dependent" else ""))
        st.markdown(f"**Log-rank** p {fmt_p_eq(res.logrank_p)} (exploratory)")
    if res.rmst is not None:
        r = res.rmst
        st.markdown(
            f"**RMST difference** at {fmt_num(r.tau, 0)} months: {fmt_ci(r.difference, r.lower, r.upper, 1)} months, "
            f"p {fmt_p_eq(r.p)}"
        )
        st.caption("Restricted mean survival time: surgery minus chemotherapy, area under the curves up to the horizon.")
    elif res.curves:
        st.caption(downloads.text(tables.comparison_text(res)))

st.subheader("Immortal time: three methods side by side")
st.caption("The naive comparison counts the months before surgery as surgery time and is biased in favour of surgery.")
st.dataframe(downloads.shown(tables.methods_table(res)), hide_index=True, width="stretch")
withheld = downloads.life_tables_withheld()
if withheld:
    st.caption(withheld)
else:
    with st.expander("Kaplan-Meier tables"):
        life = export_tables.km_estimates(res)
        st.caption("se_neg_log_survival is the standard error of -log S(t) (R's survfit std.err for unweighted "
                   "curves), not of the survival itself.")
        for c in res.curves:
            st.markdown(f"**{figures.arm_label(res, c.arm)}**")
            st.dataframe(life[life["arm"] == c.arm].drop(columns="arm"), hide_index=True, width="stretch")
        st.markdown("**Number at risk**")
        st.dataframe(res.risk_table, width="stretch")
st.subheader("Download the numbers")
st.caption("Numbers as numbers, one row per estimate; the README (CSV) or the Methods sheet (Excel) defines every "
           "column (units, time origin) and every small-cell mark.")
small_k = downloads.suppression_k()
downloads.tables("survival", {
    **({} if withheld else {"KM estimates": export_tables.km_estimates(res)}),
    "Number at risk": export_tables.number_at_risk(res, k=small_k),
    "Estimates": export_tables.estimates(res, k=small_k),
    "Comparison": export_tables.comparison(res, k=small_k),
    "Immortal-time methods": export_tables.immortal_time_methods(res, k=small_k),
}, spec, key="dl_survival")
layout.provenance_card(spec)
