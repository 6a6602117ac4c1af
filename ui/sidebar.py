"""The shared sidebar: which cohort is active, and the way back to the demo."""

from __future__ import annotations

import streamlit as st

from core.dictionary import DICTIONARY_VERSION
from ui import state


def render() -> None:
    """Draw the sidebar card of the active cohort."""
    cohort = state.active_cohort()
    with st.sidebar:
        st.markdown("### PDAC-LM explorer")
        st.caption("Synchronous liver metastases of pancreatic cancer: resection after chemotherapy vs chemotherapy alone.")
        with st.container(border=True):
            if state.is_demo():
                st.markdown("**Synthetic demo cohort**")
                st.caption("Simulated patients with a known true effect (HR 0.70). No real patient data.")
            else:
                st.markdown("**Uploaded cohort**")
                st.text(cohort.source_name)
            st.caption(
                f"{len(cohort.data)} patients: {cohort.n_surgery} surgery, {cohort.n_chemotherapy} chemotherapy  \n"
                f"SHA-256 {cohort.sha256[:12]}…  \nDictionary v{DICTIONARY_VERSION}"
            )
            if not state.is_demo() and st.button("Back to the demo cohort", key="back_to_demo"):
                state.use_demo()
                st.rerun()
