"""Survival: publication-grade Kaplan-Meier curves of the matched comparison and their statistics."""

import streamlit as st

from core import checks, export_tables, figures, tables
from core.format import fmt_ci, fmt_num, fmt_p_eq
from core.spec import EVENT_WORDS
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
st.table(downloads.shown(tables.methods_table(res)).set_index("Method"))  # wraps: every column readable at 1280 px
td_model = tables.time_dependent_model_display(res)
with st.expander("Time-dependent Cox model: every term"):
    if td_model is None:
        st.caption("No time-dependent model: it gave no hazard ratio (the methods table above says why).")
    else:
        st.caption("Each hazard ratio is adjusted for all the other rows: the surgery row compares the months after "
                   "an operation with the months without one; the other rows say how each patient characteristic "
                   "goes with the risk of the endpoint. Below 1: lower risk.")
        st.table(td_model.set_index("Term"))
        st.caption(layout.escape_md(downloads.text(tables.time_dependent_model_note(res))))
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
st.subheader("Checks a reviewer asks for")
review = checks.reviewer_checks(res)
ph_tab, e_tab, n_tab = st.tabs(["Proportional hazards", "Unmeasured confounding (E-value)",
                                f"What {res.filtered.n_surgery + res.filtered.n_chemotherapy} patients can show"])
with ph_tab:
    if review.ph is None:
        st.info(layout.escape_md(f"No proportional-hazards test: {review.ph_reason}."))
    else:
        row = review.ph.table.loc["GLOBAL"]
        st.caption(layout.escape_md(
            f"Test of a constant hazard ratio over time (scaled Schoenfeld residuals, as R's cox.zph) in the Cox model "
            f"of the {review.comparison.lower()} comparison: chi-square {fmt_num(row['chisq'], 2)} on "
            f"{int(row['df'])} df, p {fmt_p_eq(row['p'])}. A small p, or a smooth that leaves the dotted line, means "
            "the benefit of surgery changes with time: read the curves and the RMST rather than one hazard ratio."))
        st.plotly_chart(figures.zph_figure(review.ph_plot, large=large), width="stretch", theme=None,
                        config={"displaylogo": False}, key="survival_zph")
        if review.ph_plot.note:
            st.caption(layout.escape_md(review.ph_plot.note))
with e_tab:
    if review.evalue is None:
        st.info(layout.escape_md(f"No E-value: there is no hazard ratio ({review.reason})."))
    else:
        st.markdown(layout.escape_md(review.evalue.reading))
        st.caption("E-value (VanderWeele & Ding 2017), hazard ratio converted to the risk-ratio scale for a common "
                   "outcome. It says how strong a confounder missing from the propensity model would have to be, "
                   "not whether one exists.")
with n_tab:
    if review.precision is None or review.bayes is None:
        st.info(layout.escape_md(f"Nothing to read: there is no hazard ratio ({review.reason})."))
    else:
        pr = review.precision
        st.markdown(layout.escape_md(
            f"With {downloads.count(int(pr.events))} {EVENT_WORDS[spec.endpoint]}s, any 95% interval of the hazard "
            f"ratio spans a factor of about {fmt_num(pr.width_ratio, 1)} (upper / lower limit); the hazard ratio "
            f"this comparison detects with 80% power is {fmt_num(pr.detectable_hr, 2)}."))
        st.markdown(layout.escape_md(review.bayes.reading))
        st.caption("Both are aids to interpretation, not analyses: expected precision from the number of events "
                   "(Schoenfeld 1983); Bayesian reading with a normal sceptical prior on log HR, centred on no effect "
                   "with a 5% prior probability of HR < 0.70 (Spiegelhalter, Freedman & Parmar 1994).")

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
    "Time-dependent Cox model": export_tables.time_dependent_model(res),
    **checks.checks_tables(review, k=small_k),
}, spec, key="dl_survival")
layout.provenance_card(spec)
