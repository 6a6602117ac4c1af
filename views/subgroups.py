"""Subgroups: matched hazard ratio across subgroups, with interaction tests (exploratory)."""

import streamlit as st

from core import figures, tables
from ui import compute, controls, downloads, layout

spec = controls.current_spec()
res = compute.result(spec)
sub = compute.subgroup_result(spec)
large = layout.presentation()

layout.header("Subgroups", spec, subtitle="Matched hazard ratio of surgery vs chemotherapy alone, by subgroup")
st.warning("Exploratory: many comparisons on few patients, no correction for multiplicity. "
           "Rows without a marker had too few patients or events for an estimate.", icon=":material/science:")

if sub.table.empty:
    for note in sub.notes:
        st.info(layout.escape_md(note))
    st.stop()

k = downloads.suppression_k()
forest = tables.subgroup_forest_frame(sub, k=k)
overall = sub.overall.hr if sub.overall is not None else None
st.plotly_chart(figures.forest_plot(forest, overall=overall, large=large), width="stretch", theme=None,
                config={"displaylogo": False}, key="subgroup_forest")
for flag in sub.flags:  # a subgroup known only after the operation is not a choice before it
    st.caption(layout.escape_md(flag))
downloads.figure("subgroup_forest", downloads.deferred(figures.forest_plot, forest, overall=overall), key="dl_forest",
                 slide_height=max(900, 24 * len(forest) + 140), journal_height=max(700, 30 * len(forest) + 160))
# a static table wraps long subgroup names: the hazard ratio and p columns stay on screen at 1280 px
st.table(downloads.shown(tables.subgroup_display(sub, k=k, endpoint=spec.endpoint)).set_index("Subgroup"))
downloads.suppression_note()
st.subheader("Interaction tests")
st.dataframe(tables.interaction_display(sub), hide_index=True, width="stretch")
layout.notes(sub.notes)
downloads.tables("subgroups", {
    "Subgroups": downloads.subgroup_counts(sub.table),
    "Interactions": sub.interactions}, spec, key="dl_subgroups")
layout.provenance_card(spec)
