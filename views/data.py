"""Data: upload a study export, see the validation report, browse the active cohort."""

import streamlit as st

from core import analysis, export
from core.cohort import optional_columns_recorded
from core.dictionary import DICTIONARY_VERSION, IMPORTED_NAMES, dictionary_frame
from ui import compute, controls, downloads, layout, mapping_step, state

st.title("Data & upload")
layout.primary_line(controls.current_spec())

with st.container(border=True):
    st.markdown("#### Upload a study export")
    st.caption(
        "CSV (comma, semicolon or tab; decimal point or comma; UTF-8 or Latin-1), Excel (.xlsx) or Parquet, one row "
        "per patient. Other column names and codes (Italian or English headers, REDCap exports) are mapped to the "
        "data dictionary in a step below; a mapping saved from an earlier export applies at once. The file stays in "
        "this browser session only: it is not written to disk and other users cannot see it."
    )
    left, right = st.columns([3, 2])
    with left:
        uploaded = st.file_uploader("Study export", type=["csv", "txt", "tsv", "xlsx", "parquet"], key="upload")
    with right:
        mapping_file = st.file_uploader("Mapping file (optional)", type=["json"], key="upload_mapping",
                                        help="The mapping saved from an earlier export of the same form.")
    if mapping_step.handle(uploaded, mapping_file):
        st.rerun()
    mapping_step.template_button()

for notice in mapping_step.notices():
    st.warning(layout.escape_md(notice), icon=":material/rule:")
report = state.last_report()
if report is not None:
    if report.pending:
        st.info(layout.escape_md(report.message), icon=":material/rule:")
    elif report.ok:
        for warning in report.warnings:
            st.warning(layout.escape_md(warning) + " Remove direct identifiers before sharing or analysing the "
                       "data; pseudonymised study exports should not contain them.", icon=":material/badge:")
        st.success(layout.escape_md(report.message))
        used = mapping_step.used()
        if used is not None:
            downloads.button("Download the mapping used (JSON)", used[1], file_name=used[0],
                             mime="application/json", key="dl_mapping_used", icon=":material/download:",
                             help="Upload it together with the next export of the same form: it applies at once.")
        for note in report.notes:
            st.info(layout.escape_md(note))
    else:
        st.error(layout.escape_md(report.message))
        if report.problems is not None:
            st.markdown("**Validation report**: every problem found, by row as numbered in the file (header = row 1).")
            st.dataframe(report.problems, width="stretch", hide_index=True)

mapping_step.render()

cohort = state.active_cohort()
spec = controls.current_spec()
tab_active, tab_filtered, tab_matched, tab_dict = st.tabs(
    ["Active cohort", "Filtered cohort", "Matched cohort", "Data dictionary"])

with tab_active:
    st.markdown(f"**{'Synthetic demo cohort' if state.is_demo() else 'Uploaded cohort'}**: {len(cohort.data)} patients.")
    show_derived = st.toggle("Show derived columns", value=False, key="show_derived")
    table = cohort.data if show_derived else cohort.data[[c for c in IMPORTED_NAMES if c in cohort.data.columns]]
    st.dataframe(table, width="stretch", hide_index=True, height=420)
    downloads.button("Download this table (CSV)", export.csv_bytes(table), file_name="cohort.csv", mime="text/csv",
                     key="dl_cohort")
    downloads.tables("cohort", {"Cohort": table}, spec, key="dl_active", parquet=True)
    with st.expander("Columns new in data dictionary 1.1: patients with a value, per arm"):
        st.caption("Restaging, multidisciplinary decision, exploration and end-of-chemotherapy dates and CEA are "
                   "optional: a file made for dictionary 1.0 has none of them and loads unchanged. A chemotherapy-group "
                   "patient with an exploration date was explored with intent to resect but not resected.")
        recorded = downloads.shown(optional_columns_recorded(cohort.data))
        st.dataframe(recorded, width="stretch", hide_index=True)
        downloads.tables("dictionary_1_1_recorded", {"Recorded": recorded}, spec, key="dl_recorded_1_1")

with tab_filtered:
    res = compute.result(spec)
    filtered = res.filtered.data
    st.markdown(f"{len(filtered)} patients after the filters in the sidebar "
                f"({res.filtered.n_surgery} surgery, {res.filtered.n_chemotherapy} chemotherapy).")
    st.dataframe(filtered, width="stretch", hide_index=True, height=420)
    downloads.tables("filtered_cohort", {"Filtered cohort": filtered}, spec, key="dl_filtered", parquet=True)

with tab_matched:
    matched = analysis.matched_cohort(res)
    if matched.empty:
        st.info("No matched cohort for these filters and settings.")
    else:
        st.markdown(f"{len(matched)} matched patients: `subclass` is the pair (matched set), `weights` the matching "
                    "weight, `distance` the logit of the propensity score; `time`/`event` are the analysed survival.")
        st.dataframe(matched, width="stretch", hide_index=True, height=420)
        downloads.tables("matched_cohort", {"Matched cohort": matched}, spec, key="dl_matched", parquet=True)

with tab_dict:
    st.caption(f"Data dictionary version {DICTIONARY_VERSION}: see also the Data dictionary page.")
    st.dataframe(dictionary_frame(), width="stretch", hide_index=True, height=420)
