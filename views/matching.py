"""Matching: propensity-score overlap, covariate balance, the list of pairs, and the centres."""

import pandas as pd
import streamlit as st

from core import analysis, centre, figures
from ui import compute, controls, downloads, layout

spec = controls.current_spec()
res = compute.result(spec)
large = layout.presentation()

layout.header("Matching", spec, subtitle="Propensity-score model, overlap and balance of the matched comparison")
layout.warnings([downloads.text(w) for w in res.warnings])
layout.notes([downloads.text(n) for n in res.notes])

card = analysis.matching_card(res)
if not card:
    st.info("No propensity model for these filters and settings.")
    st.stop()

left, right = st.columns([1, 1])
with left:
    st.subheader("Provenance of the match")
    st.table(downloads.shown(pd.DataFrame({"value": list(card.values())}, index=list(card)), bare_counts=True))
with right:
    st.subheader("Overlap of propensity scores")
    scores = analysis.propensity_scores(res)
    st.plotly_chart(figures.overlap_plot(scores, large=large), width="stretch", theme=None, config={"displaylogo": False},
                    key="matching_overlap")
    downloads.figure("propensity_overlap", downloads.deferred(figures.overlap_plot, scores), key="dl_overlap")

st.subheader("Covariate balance")
if res.balance is not None and len(res.balance):
    st.plotly_chart(figures.love_plot(res.balance, large=large), width="stretch", theme=None, config={"displaylogo": False},
                    key="matching_love")
    downloads.figure("love_plot", downloads.deferred(figures.love_plot, res.balance), key="dl_love")
    st.caption(
        "Standardised mean difference: difference in means (proportions for categories) divided by the standard "
        "deviation in the surgery group before matching (MatchIt's default for the effect in the treated). "
        "|SMD| < 0.1 is the usual threshold for good balance."
    )
    words = {"smd_before": "SMD before", "smd_after": "SMD after", "var_ratio_before": "Variance ratio, before",
             "var_ratio_after": "Variance ratio, after", "mean_treated_before": "Surgery mean, before",
             "mean_control_before": "Chemotherapy mean, before", "mean_treated_after": "Surgery mean, after",
             "mean_control_after": "Chemotherapy mean, after"}
    shown = downloads.balance(res.balance)
    # two narrower tables, so that every column is readable at 1280 px
    for tab, cols in zip(st.tabs(["Standardised differences", "Means"]),
                         ([c for c in words if not c.startswith("mean_")], [c for c in words if c.startswith("mean_")]),
                         strict=True):
        with tab:
            tab.dataframe(shown, width="stretch", column_order=[c for c in cols if c in shown.columns],
                          column_config={c: st.column_config.NumberColumn(words.get(c, c), format="%.3f")
                                         for c in shown.columns})
else:
    st.info("No matched sample: balance cannot be assessed.")

st.subheader("Matched pairs")
pairs = analysis.pair_table(res)
st.dataframe(pairs, hide_index=True, width="stretch", height=320,
             column_config={"pair": "Pair", "round": "Round", "surgery_patient": "Operated patient",
                            "chemotherapy_patient": "Chemotherapy-only patient",
                            **{c: st.column_config.NumberColumn(name, format="%.3f") for c, name in (
                                ("surgery_logit", "Logit, operated"), ("chemotherapy_logit", "Logit, control"),
                                ("difference", "Difference"))}})
downloads.tables("matching", {
    # the terms are the balance table's index: keep them as a column (tables are exported without index)
    "Balance": downloads.balance(res.balance).reset_index(names="term") if res.balance is not None else pd.DataFrame(),
    "Pairs": pairs, "Propensity scores": scores,
    "Match": downloads.shown(pd.DataFrame({"item": list(card), "value": list(card.values())}), bare_counts=True),
}, spec, key="dl_matching", index=False)
st.subheader("Centres")
balance, loco = compute.centre_panel(spec)
st.caption(f"Leave one centre out: the comparison shown ({loco.method}) is re-run from the filters on with each "
           "centre left out in turn (new propensity model, new match). If one centre drives the result, its row "
           "moves away from the dashed line, the hazard ratio with every centre.")
st.markdown(downloads.text(loco.reading))
forest = loco.forest_frame()
st.plotly_chart(figures.forest_plot(forest, overall=loco.full.hr if loco.full.estimated else None, large=large),
                width="stretch", theme=None, config={"displaylogo": False}, key="matching_loco")
downloads.figure("leave_one_centre_out", downloads.deferred(
    figures.forest_plot, forest, overall=loco.full.hr if loco.full.estimated else None), key="dl_loco")
k = downloads.suppression_k()
st.dataframe(downloads.suppress(centre.loco_display(loco, k=k)), hide_index=True, width="stretch")
st.markdown("**Balance per centre**")
if balance.reason:
    st.info(f"No balance per centre: {balance.reason}.")
else:
    st.caption(balance.sample + " SMD: difference in means within the centre divided by the SD of the whole surgery "
               "group before matching (the scale of the balance table above); with a few patients per centre it is "
               "noisy, blank where the centre has patients of one arm only.")
    counts = downloads.suppress(centre.counts_display(balance))
    tab_n, tab_before, tab_after = st.tabs(["Patients per arm", "SMD before matching", "SMD after matching"])
    tab_n.dataframe(counts, hide_index=True, width="stretch")
    fmt = {c: st.column_config.NumberColumn(c, format="%.2f") for c in balance.smd["term"].unique()}
    tab_before.dataframe(balance.smd_wide("before"), width="stretch", column_config=fmt)
    tab_after.dataframe(balance.smd_wide("after"), width="stretch", column_config=fmt)
downloads.tables("centres", {
    "Leave one centre out": downloads.suppress(centre.loco_table(loco, k=k)), "Patients per centre": counts if not balance.reason else pd.DataFrame(),
    "SMD per centre": balance.smd,
}, spec, key="dl_centres", index=False)
layout.provenance_card(spec)
