"""Cohort: Table 1 by arm, before and after matching."""

import pandas as pd
import streamlit as st

from core import figures, table1
from core.estimators import arm_counts
from ui import compute, controls, downloads, layout

spec = controls.current_spec()
res = compute.result(spec)

layout.header("Cohort (Table 1)", spec, subtitle="Patient characteristics by arm, before and after matching")
layout.warnings(res.warnings)
if res.match is None:
    st.info("No matched sample for these filters: Table 1 before and after matching needs one.")
    st.stop()
t1 = downloads.table_one(table1.table_one_before_after(res))
before, after = arm_counts(res.population), arm_counts(res.match.matched)
operated, not_operated = (figures.arm_label(res, arm).lower() for arm in ("surgery", "chemotherapy"))
st.caption(f"Before matching: {downloads.count(before.n_surgery)} {operated}, {downloads.count(before.n_chemotherapy)} "
           f"{not_operated} ({res.population_description}). After: {downloads.count(after.n_surgery)} and "
           f"{downloads.count(after.n_chemotherapy)} in the propensity-matched sample.")
layout.notes([downloads.text(n) for n in res.notes])
shown = t1.drop(columns=["variable", "level"])
shown.attrs = {}
st.dataframe(shown, hide_index=True, width="stretch", height=760,
             column_config={"Variable": st.column_config.TextColumn(pinned=True, width="medium")})
layout.notes(t1.attrs.get("footnotes", ()))
downloads.tables("table1", {"Table 1": shown, "Table 1 (numbers)": t1.attrs.get("long", pd.DataFrame())}, spec,
                 key="dl_table1")
layout.provenance_card(spec)
