"""Surgical outcomes: within the surgery group only (RFS does not exist without surgery)."""

import pandas as pd
import streamlit as st

from core import analysis, figures, outcomes, pathology
from core.dictionary import Arm, C, label
from core.filters import apply_filters
from core.guards import COMPARISON_RULE
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
small_k = downloads.suppression_k()


def km(by: outcomes.GroupedSurvival, name: str, x_title: str, y_title: str, labels: dict[str, str] | None = None):
    """One Kaplan-Meier figure with its number-at-risk table, on the page and as a download; returns the risk table."""
    max_t = max((float(k["time"].max()) for k in by.curves.values() if len(k)), default=0.0)
    risk_shown = downloads.suppress(by.risk_table(analysis.risk_times(max_t)))
    inputs = {"medians": by.medians, "min_at_risk": spec.min_at_risk, "show_ci": False, "x_title": x_title,
              "y_title": y_title, "labels": labels or {k: k for k in by.curves}}
    st.plotly_chart(downloads.km_figure(figures.km_figure(by.curves, risk_shown, large=large, **inputs)),
                    width="stretch", theme=None, config={"displaylogo": False}, key=f"{name}_km")
    downloads.figure(name, downloads.deferred(figures.km_figure, by.curves, risk_shown, **inputs),
                     key=f"dl_{name}_km", slide_height=900, journal_height=600)
    return risk_shown


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
    fig = downloads.km_figure(figures.km_figure(by.curves, risk_shown, large=large, **km_inputs))
    st.plotly_chart(fig, width="stretch", theme=None, config={"displaylogo": False}, key="surgical_km")
    downloads.figure(f"{endpoint}_by_{grouping}", downloads.deferred(figures.km_figure, by.curves, risk_shown,
                                                                     **km_inputs),
                     key="dl_surg_km", slide_height=900, journal_height=600)
with stats:
    st.table(downloads.shown(by.display()).set_index("Group"))  # wraps: the note column stays readable at 1280 px
    layout.notes([by.logrank_note + (f" p = {by.logrank_p:.3f}." if by.logrank_p == by.logrank_p else "")])
    layout.notes(by.notes)

st.subheader("Pathology of the operated patients")
path = pathology.pathology_table(operated, k=small_k)
st.dataframe(path.display(), hide_index=True, width="stretch", height=560)
st.caption(layout.escape_md(f"{downloads.count(path.n_operated)} operated patients. Percentages are of the patients "
                            "with an assessed value; ypM0 = no viable tumour in the resected liver metastases. "
                            + path.definition))
downloads.suppression_note()

st.subheader("Overall survival by pathology of the liver metastases")
st.info(layout.escape_md(
    f"Question: how long do patients live after the {spec.landmark_months:g}-month landmark, if resected with no viable "
    "tumour in the liver metastases (ypM0), resected with viable tumour (ypM1), or not resected by then? "
    + pathology.DESIGN), icon=":material/schedule:")
by_path = pathology.survival_by_pathology(data, origin=spec.origin, landmark=spec.landmark_months,
                                          min_at_risk=spec.min_at_risk)
path_risk = km(by_path.by, "os_by_pathology", f"Months since the {spec.landmark_months:g}-month landmark",
               "Overall survival")
st.table(downloads.shown(by_path.by.display()).set_index("Group"))  # wraps: the note column stays readable at 1280 px
layout.notes([downloads.text(n) for n in (by_path.by.logrank_note, *by_path.by.notes)])

st.subheader("Adjuvant chemotherapy after resection (post-operative landmark)")
lm_options = [str(x) for x in outcomes.ADJUVANT_LANDMARKS]
adj_lm = st.select_slider("Landmark: months after surgery", lm_options, key="surg_adj_landmark",
                          value=url.page_value("slm", lm_options, str(outcomes.DEFAULT_ADJUVANT_LANDMARK)),
                          help="Only patients alive and recurrence-free at this time are compared; the clock starts there.")
adj = outcomes.adjuvant_landmark(operated, float(adj_lm), endpoint, min_at_risk=spec.min_at_risk)
st.info(layout.escape_md(adj.estimand), icon=":material/help:")
adj_risk = km(adj.by, f"adjuvant_{endpoint}", f"Months since {adj_lm} months after surgery", adj.by.endpoint_label)
st.table(downloads.shown(adj.by.display()).set_index("Group"))  # wraps: the note column stays readable at 1280 px
(st.success if adj.estimated else st.warning)(layout.escape_md(downloads.text(adj.in_words())))
if adj.estimated:
    st.caption(layout.escape_md(adj.ph_reading()))
st.caption(COMPARISON_RULE)
st.dataframe(downloads.suppress(adj.exclusions(), ["patients"]), hide_index=True, width="stretch")

st.subheader("Prognostic factors (multivariable Cox model)")
st.info(f"Among the operated, from surgery ({ENDPOINTS[endpoint].lower()}): each hazard ratio compares patients with a "
        "factor with those without it (or per unit), the other factors in the model held equal. Above 1: a shorter "
        "expected survival. It describes prognosis, not the effect of a treatment.", icon=":material/help:")
choices = list(outcomes.PROGNOSTIC_CHOICES)
covs = st.multiselect("Covariates", choices, format_func=label, key="surg_cov",
                      default=url.page_list("pcov", choices, list(outcomes.DEFAULT_PROGNOSTIC_COVARIATES)))
url_cuts = outcomes.cutoffs_from_text(url.get("pcut"))
cuts: dict[str, float | None] = {}
cuttable = [c for c in covs if c in outcomes.CUTOFF_DEFAULTS]
for col, cov in zip(st.columns(max(len(cuttable), 1)), cuttable, strict=False):
    cuts[cov] = col.number_input(f"{label(cov)}: split at (empty = continuous)", min_value=0.1, step=1.0,
                                 value=url_cuts.get(cov, outcomes.CUTOFF_DEFAULTS[cov]), key=f"surg_cut_{cov}")
url.keep({"slm": adj_lm, "pcov": ",".join(covs), "pcut": outcomes.cutoffs_text(cuts) or None})
st.caption("A split covariate compares patients at or above the cut-off with those below. A Lewis-negative patient "
           "(who makes no CA19-9) never enters with a CA19-9 value: the value is treated as missing, so the patient "
           "leaves a model that includes CA19-9 and is counted below.")
if not covs:
    st.info("Choose at least one covariate.")
    cox = None
else:
    cox = outcomes.prognostic_cox(operated, endpoint, covs, {c: v for c, v in cuts.items() if v is not None})
    if cox.fitted:
        st.plotly_chart(figures.forest_plot(cox.forest_table(small_k), large=large), width="stretch", theme=None,
                        config={"displaylogo": False}, key="surgical_forest")
        st.dataframe(cox.display(), hide_index=True, width="stretch")
        st.caption(f"Every term of the model. {downloads.count(cox.n)} patients, {downloads.count(cox.n_events)} "
                   f"events; {downloads.count(cox.n_dropped)} left out for missing values (complete cases).")
        st.caption(layout.escape_md(cox.ph_reading()))
        if cox.warnings:
            with st.expander(f"{len(cox.warnings)} caution(s) about this model", expanded=False,
                             icon=":material/warning:"):
                layout.notes([downloads.text(w) for w in cox.warnings])
    else:
        reason = str(cox.reason)
        st.info(layout.escape_md(downloads.text(reason if reason.startswith("The model") else
                                                f"The model cannot be fitted: {reason}")))
    st.markdown("**Patients left out for missing values, per variable**")
    st.dataframe(downloads.suppress(cox.missing_display()), hide_index=True, width="stretch")

st.subheader("Short-term outcomes by pancreatic procedure")
threshold = st.radio("Major morbidity from", ["IIIa", "IIIb"], horizontal=True, key="cd_threshold")
st.dataframe(downloads.shown(outcomes.short_term_outcomes(operated, major_threshold=threshold, k=small_k)), width="stretch",
             height=600)
downloads.suppression_note()
short_long = outcomes.short_term_outcomes(operated, major_threshold=threshold, long=True, k=small_k)
downloads.tables("surgical_outcomes", {
    "Survival by group": downloads.suppress(by.summary, ["n", "events"]),
    "Number at risk": downloads.suppress(risk.reset_index()),
    "Pathology": path.table,
    "OS by pathology": downloads.suppress(by_path.summary(), ["patients", "deaths"]),
    "OS by pathology at risk": path_risk.reset_index(),
    "Adjuvant landmark": downloads.suppress(adj.table(), ["patients_adjuvant", "events_adjuvant",
                                                          "patients_no_adjuvant", "events_no_adjuvant"]),
    "Adjuvant landmark flow": downloads.suppress(adj.exclusions(), ["patients"]),
    "Adjuvant at risk": adj_risk.reset_index(),
    "Prognostic Cox": (downloads.suppress(cox.table.reset_index(names="term"), ["n", "events"])
                       if cox is not None and cox.fitted else
                       pd.DataFrame({"reason": [cox.reason if cox is not None else "no covariate chosen"]})),
    "Prognostic Cox missing": downloads.suppress(cox.missing) if cox is not None else pd.DataFrame(),
    "Prognostic Cox PH test": (cox.ph.table.reset_index(names="term") if cox is not None and cox.ph is not None
                               else pd.DataFrame()),
    "Adjuvant PH test": adj.ph.table.reset_index(names="term") if adj.ph is not None else pd.DataFrame(),
    "Short-term outcomes": short_long,
}, spec, key="dl_surgical")
layout.provenance_card(spec)
