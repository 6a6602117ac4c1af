"""Data: upload a study export, see the validation report, browse the active cohort."""

import streamlit as st

from core.dictionary import IMPORTED_NAMES
from ui import layout, state

st.title("Data & upload")

with st.container(border=True):
    st.markdown("#### Upload a study export")
    st.caption(
        "CSV (comma, semicolon or tab; decimal point or comma; UTF-8 or Latin-1), Excel (.xlsx) or Parquet, one row "
        "per patient, columns as in the data dictionary. The file stays in this browser session only: it is not "
        "written to disk and other users cannot see it."
    )
    uploaded = st.file_uploader("Study export", type=["csv", "txt", "tsv", "xlsx", "parquet"], key="upload")
    state.handle_upload(uploaded)

report = state.last_report()
if report is not None:
    if report.ok:
        st.success(report.message)
        for note in report.notes:
            st.info(layout.escape_md(note))
    else:
        st.error(report.message)
        if report.problems is not None:
            st.markdown("**Validation report**: every problem found, by row as numbered in the file (header = row 1).")
            st.dataframe(report.problems, width="stretch", hide_index=True)

cohort = state.active_cohort()
st.markdown(f"#### Active cohort: {'synthetic demo' if state.is_demo() else 'uploaded file'}")
show_derived = st.toggle("Show derived columns", value=False, key="show_derived")
table = cohort.data if show_derived else cohort.data[[c for c in IMPORTED_NAMES if c in cohort.data.columns]]
st.dataframe(table, width="stretch", hide_index=True, height=420)
st.download_button(
    "Download this table (CSV)",
    data=table.to_csv(index=False).encode("utf-8"),
    file_name="cohort.csv",
    mime="text/csv",
    key="dl_cohort",
)
