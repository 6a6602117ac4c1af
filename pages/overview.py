"""Overview: the active cohort at a glance."""

import streamlit as st

from core import figures, summary
from ui import state

cohort = state.active_cohort()
data = cohort.data

st.title("PDAC with synchronous liver metastases")
st.markdown(
    "Does resecting both the pancreatic tumour and the liver metastases after chemotherapy help patients "
    "live longer than chemotherapy alone, and for whom?"
)
counts = summary.arm_counts(data)
cols = st.columns(4)
cols[0].metric("Patients", int(counts.loc["Total", "Patients"]))
cols[1].metric("Surgery group", int(counts.loc["Surgery", "Patients"]))
cols[2].metric("Chemotherapy group", int(counts.loc["Chemotherapy", "Patients"]))
cols[3].metric("Centres", int(counts.loc["Total", "Centres"]))

left, right = st.columns([3, 2])
with left:
    st.subheader("Patients per centre")
    st.plotly_chart(figures.patients_by_centre(data), width="stretch", config={"displaylogo": False})
with right:
    st.subheader("By arm")
    st.dataframe(counts, width="stretch")
    st.subheader("By centre")
    st.dataframe(summary.centre_table(data), width="stretch", height=260)
if state.is_demo():
    st.info(
        "You are looking at the synthetic demo cohort: simulated patients with a known true effect of surgery "
        "(hazard ratio 0.70 from the day of surgery on). Upload a study export on the *Data & upload* page "
        "to analyse real data; it stays in this browser session only."
    )
