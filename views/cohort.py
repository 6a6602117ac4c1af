"""Cohort: Table 1 by arm, before and after matching."""

import streamlit as st

from core import table1
from ui import compute, controls, layout

spec = controls.current_spec()
res = compute.result(spec)

layout.header("Cohort (Table 1)", spec, subtitle="Patient characteristics by arm, before and after matching")
layout.warnings(res.warnings)
t1 = table1.table_one_before_after(res)
st.dataframe(t1.table, hide_index=True, width="stretch", height=760)
for note in t1.footnotes:
    st.caption(note)
layout.provenance_card(spec)
