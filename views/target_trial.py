"""Target trial: "resect within G months" vs "do not resect", emulated by cloning, censoring and weighting."""

import streamlit as st

from core import ccw, figures
from core.format import fmt_ci, fmt_p_eq
from core.spec import ENDPOINT_NAMES, ORIGINS
from ui import compute, controls, downloads, layout, url

spec = controls.current_spec()
large = layout.presentation()
layout.header("Target trial", spec, subtitle="Resect within G months vs do not resect, from time zero "
                                              "(clone, censor, weight)")

lo, hi = ccw.GRACE_RANGE
grace = st.slider("Grace period G: months after time zero within which the operation must happen", lo, hi,
                  value=downloads.ccw_grace(), step=0.5, key="tt_grace",
                  help="The 'resect' strategy allows the operation any time up to G months after "
                       f"{ORIGINS[spec.origin]} (restaging and planning take time).")
url.keep({"tgr": None if grace == ccw.DEFAULT_GRACE else f"{grace:g}"})
with st.spinner(f"Cloning, weighting and {ccw.N_BOOT} bootstrap replicates..."):
    res = compute.ccw_result(spec, grace)

st.info(layout.escape_md("Question answered: " + res.estimand))
if res.estimated:
    st.markdown("**" + layout.escape_md(downloads.text(ccw.headline(res))) + "**")
else:
    layout.warnings([downloads.text(f"No comparison: {res.reason}.")])
st.caption(layout.escape_md(downloads.text(ccw.counts_in_words(res))))
layout.notes([downloads.text(n) for n in res.notes])

if len(res.km):  # one below the other: every column of the estimates fits at 1280 px
    build = downloads.deferred(figures.ccw_figure, res.km, res.labels, grace=res.grace,
                               y_title=ENDPOINT_NAMES[spec.endpoint], x_title=f"Months since {ORIGINS[spec.origin]}")
    st.plotly_chart(build(large=large), width="stretch", theme=None, config={"displaylogo": False}, key="ccw_km")
    downloads.figure("target_trial_curves", build, key="dl_ccw_fig")
    st.caption("Weighted Kaplan-Meier curves of the clones (inverse-probability-of-censoring weights). Before G "
               "both strategies share the same patients; they part where operations and deviations happen.")
st.subheader("Estimates")
if res.estimated:
    st.table(ccw.display_table(res).set_index("Measure"))
    st.markdown(f"**Hazard ratio** (weighted Cox, resect vs do not resect): "
                f"{fmt_ci(res.hr, res.hr_lower, res.hr_upper)}, p {fmt_p_eq(res.hr_p)}")
    st.caption(f"Intervals of the differences: bootstrap of patients, {res.n_boot} replicates, seed {res.seed} "
               "(percentile). Hazard ratio: robust standard error clustered on the patient (each patient has "
               "two clones). Survival at 1, 2 and 3 years and the months gained read more safely than one "
               "hazard ratio here: the hazards cross at G by design.")
else:
    st.caption("No estimates: see the reason above. The curves are shown for description only.")

st.subheader("How the trial is emulated")
st.markdown(layout.escape_md(
    f"Every patient is cloned at {ORIGINS[spec.origin]} into both strategies. A clone in 'resect within "
    f"{res.grace:g} months' is censored at {res.grace:g} months if the patient has not been operated by then; a clone "
    "in 'do not resect' is censored on the day of surgery. A patient who dies before G without an operation has not "
    "deviated and counts in both strategies (Maringe et al., Int J Epidemiol 2020). Censoring by deviation is not at "
    "random (fitter patients are operated), so each remaining clone is weighted by the inverse of its probability of "
    "remaining uncensored, from a Cox model of deviation on the covariates of the sidebar's propensity model."))
for strategy, words in res.censoring.items():
    st.markdown(f"- **{layout.escape_md(strategy)}**: {layout.escape_md(words)}")
clones = downloads.suppress(res.clones, ["clones", "censored_deviating", "events"])
if len(clones):
    st.table(ccw.clones_display(clones).set_index("Strategy"))
    st.caption("Weights far above 10 mean a few clones stand for many: read the numbers with care.")

st.subheader("Download the numbers")
withheld = downloads.life_tables_withheld()
downloads.tables("target_trial", {
    "Estimates": ccw.estimates_table(res),
    "Clones and weights": clones,
    **({} if withheld or not len(res.km) else {"Weighted curves": res.km}),
}, spec, key="dl_ccw")
if withheld:
    st.caption(withheld)
layout.provenance_card(spec)
