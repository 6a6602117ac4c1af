"""Matching: propensity-score overlap, covariate balance and the list of pairs."""

import pandas as pd
import streamlit as st

from core import analysis, figures
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
    words = {"smd_before": "SMD before", "smd_after": "SMD after", "mean_treated_before": "Surgery mean, before",
             "mean_control_before": "Chemotherapy mean, before", "mean_treated_after": "Surgery mean, after",
             "mean_control_after": "Chemotherapy mean, after", "var_ratio_before": "Variance ratio, before",
             "var_ratio_after": "Variance ratio, after"}
    st.dataframe(downloads.balance(res.balance), width="stretch",
                 column_order=[c for c in words if c in res.balance.columns],
                 column_config={c: st.column_config.NumberColumn(words.get(c, c), format="%.3f")
                                for c in res.balance.columns})
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
layout.provenance_card(spec)
