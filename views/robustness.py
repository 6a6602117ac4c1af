"""Robustness: the pre-specified primary analysis, and the specification curve of the current selection."""

import pandas as pd
import streamlit as st

from core import figures, speccurve
from core import primary as primary_mod
from ui import compute, controls, downloads, layout, primary

spec = controls.current_spec()
large = layout.presentation()
layout.header("Robustness", spec, subtitle="Forking paths: the pre-specified primary analysis and how much the hazard "
              "ratio depends on the analysis choices")

st.subheader("Primary analysis")
main = primary.current()
if main is not None:
    differences = primary_mod.compare(spec, main)
    if not differences:
        st.markdown("**This view is the primary analysis.**")
    else:
        st.markdown("**How this view differs from the primary analysis**")
        st.table(pd.DataFrame({"Setting": [d.setting for d in differences],
                               "Primary analysis": [d.primary for d in differences],
                               "This view": [d.current for d in differences]}).set_index("Setting"))
    st.caption(layout.escape_md(
        f"Source: {main.source}" + (f", declared {main.declared}" if main.declared else "") + ". "
        + ("It ships with the demo data and cannot be changed here." if primary.shipped()
           else "It is locked for this session: to declare another, start a new session with the data.")))
    if main.rationale:
        with st.expander("Why these choices (rationale)"):
            st.markdown(layout.escape_md(main.rationale))
    with st.expander("Its settings in full"):
        st.text(main.spec.describe())
    downloads.button("Primary analysis spec file (JSON)", primary_mod.to_json(main), file_name="primary_analysis.json",
                     mime="application/json", key="dl_primary_json", icon=":material/download:")
else:
    st.info("No primary analysis has been pre-specified for this uploaded cohort, so every view is exploratory. "
            "Declare it before exploring: upload the spec file written before the data were examined, or set the "
            "current view as the primary analysis. Once set, it is locked for this session.",
            icon=":material/flag:")
    left, right = st.columns(2)
    with left:
        spec_file = st.file_uploader("Primary analysis spec file (JSON)", type=["json"], key="primary_upload")
        if spec_file is not None:
            problem = primary.upload(spec_file.getvalue(), spec_file.name)
            if problem:
                st.error(layout.escape_md(problem))
            else:
                st.rerun()
    with right:
        why = st.text_area("Rationale (optional)", key="primary_rationale", max_chars=2000,
                           placeholder="Why these filters and settings, decided before looking at the outcomes.")
        if st.button("Set the current view as the primary analysis", key="primary_declare",
                     icon=":material/lock:"):
            primary.declare(spec, why)
            st.rerun()
downloads.button("This view as a spec file (JSON)",
                 primary_mod.to_json(primary_mod.PrimaryAnalysis(spec)), file_name="view_spec.json",
                 mime="application/json", key="dl_view_json", icon=":material/download:",
                 help="Every filter and setting of this view, for a protocol or a statistical analysis plan.")

st.subheader("Specification curve")
st.caption(speccurve.WHAT_IT_SHOWS)
bar = st.progress(0.0, text="Running the specifications")
curve = compute.speccurve(spec, main.spec if main is not None else None,
                          progress=lambda done, total: bar.progress(done / total,
                                                                    text=f"Specification {done} of {total}"))
bar.empty()
st.markdown("**" + layout.escape_md(curve.summary()) + "**")
st.caption("Each hazard ratio compares surgery with chemotherapy alone as its method says: landmark, patients alive "
           "at the landmark who were operated by then vs those who were not, made comparable by propensity-score "
           "matching or weighting and followed from the landmark; time-dependent Cox, every patient counted as "
           "chemotherapy-only until the operation and as operated after it. Below 1 favours surgery. The filters, "
           "endpoint, time origin and propensity model are those of this view.")
if curve.table["estimable"].any():
    fig = compute.figure(("speccurve", large, main.spec if main is not None else None), spec,
                         lambda: figures.speccurve_figure(curve.table, dimensions=speccurve.DIMENSIONS,
                                                          median=curve.median_hr, large=large))
    st.plotly_chart(fig, width="stretch", theme=None, config={"displaylogo": False}, key="speccurve_fig")
    downloads.figure("specification_curve", downloads.deferred(figures.speccurve_figure, curve.table,
                                                               dimensions=speccurve.DIMENSIONS,
                                                               median=curve.median_hr),
                     key="dl_speccurve_fig", slide_height=900, journal_height=900)
layout.notes(curve.notes)
with st.expander(f"All {len(curve.table)} specifications", icon=":material/table_rows:"):
    # a static table wraps its cells: every column stays readable at 1280 px
    st.table(downloads.shown(speccurve.display_table(curve)).set_index("#"))
downloads.suppression_note()
downloads.tables("specification_curve",
                 {"Specification curve": speccurve.export_table(curve, k=downloads.suppression_k())}, spec,
                 key="dl_speccurve")
layout.provenance_card(spec)
