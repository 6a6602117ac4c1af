"""The data dictionary: every column, its type, allowed values and meaning."""

import streamlit as st

from core.dictionary import DICTIONARY_VERSION, MIGRATION_TITLE, dictionary_frame, migration_note
from ui import downloads

st.title("Data dictionary")
st.caption(
    f"Version {DICTIONARY_VERSION}. One row per patient. Columns marked *surgery only* must be empty for the "
    "chemotherapy group; derived columns are computed by the software, never imported."
)
with st.expander(MIGRATION_TITLE):
    st.markdown(migration_note())
table = dictionary_frame()
kind = st.segmented_control("Show", ["All columns", "Imported", "Derived"], default="All columns", key="dict_kind")
if kind == "Imported":
    table = table[table["derived"] == "imported"]
elif kind == "Derived":
    table = table[table["derived"] != "imported"]
st.dataframe(table, width="stretch", hide_index=True, height=600)
downloads.button(
    "Download the dictionary (CSV)",
    dictionary_frame().to_csv(index=False).encode("utf-8"),
    file_name=f"pdac_lm_dictionary_v{DICTIONARY_VERSION}.csv",
    mime="text/csv",
    key="dl_dictionary",
)
