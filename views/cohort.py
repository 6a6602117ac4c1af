"""Cohort: Table 1 by arm, before and after matching."""

import pandas as pd
import streamlit as st

from core import figures, table1
from core.dictionary import Arm
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
operated, not_operated = (figures.arm_label(res, arm).lower() for arm in (Arm.SURGERY, Arm.CHEMOTHERAPY))
st.caption(f"Before matching: {downloads.count(before.n_surgery)} {operated}, {downloads.count(before.n_chemotherapy)} "
           f"{not_operated} ({res.population_description}). After: {downloads.count(after.n_surgery)} and "
           f"{downloads.count(after.n_chemotherapy)} in the propensity-matched sample.")
layout.notes([downloads.text(n) for n in res.notes])
shown = t1.drop(columns=["variable", "level"])
shown.attrs = {}
# two views of the same table, each readable without scrolling sideways at 1280 px
balance_cols = ["Variable", "Surgery (before)", "Chemotherapy (before)", "SMD (before)", "Surgery (after)",
                "Chemotherapy (after)", "SMD (after)"]
tests_cols = ["Variable", "Missing (before)", "p (before)", "Missing (after)", "p (after)"]
# st.table drops leading spaces (and reads a leading ">" as a quote): indent level rows with no-break spaces
on_screen = shown.assign(Variable=shown["Variable"].str.replace(r"^ +", lambda m: "\u00a0" * 2 * len(m.group(0)),
                                                            regex=True))
by_arm, tests = st.tabs(["Before and after matching", "Missing values and tests"])
for tab, cols in ((by_arm, balance_cols), (tests, tests_cols)):
    with tab:
        # a static table wraps its cells: every column is on screen, as in a journal's Table 1
        st.table(on_screen[[c for c in cols if c in on_screen.columns]].set_index("Variable"))
layout.notes(t1.attrs.get("footnotes", ()))
downloads.tables("table1", {"Table 1": shown, "Table 1 (numbers)": t1.attrs.get("long", pd.DataFrame())}, spec,
                 key="dl_table1")
layout.provenance_card(spec)
