"""PDAC liver-metastasis outcomes explorer: entry point, navigation and shared sidebar."""

import streamlit as st

from ui import sidebar

st.set_page_config(
    page_title="PDAC liver-metastasis outcomes explorer",
    page_icon=":material/monitoring:",
    layout="wide",
    initial_sidebar_state="expanded",
)

PAGES = {
    "Study": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    ],
    "Data": [
        st.Page("pages/data.py", title="Data & upload", icon=":material/upload_file:", url_path="data"),
        st.Page("pages/dictionary.py", title="Data dictionary", icon=":material/menu_book:", url_path="dictionary"),
    ],
}

navigation = st.navigation(PAGES)
sidebar.render()
navigation.run()
