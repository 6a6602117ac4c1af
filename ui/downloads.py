"""Download controls: every table and figure on a page, with provenance, generated on click.

The files are built by ``core.export`` / ``core.report`` only when the user clicks (Streamlit's
deferred ``download_button``), in memory, for this session.

Two rules, both because of how Streamlit serves downloads:

* **A file made on click reads nothing from the session.** Streamlit runs the generator in a
  worker thread without the session: ``st.session_state`` there is empty, so the small-cell
  setting would read as off and the active cohort as the demo. Everything a file needs (cohort,
  spec, k, provenance, a figure's inputs) is computed while the page is drawn and bound into the
  generator by :func:`deferred`, which accepts only functions of ``core`` (never Streamlit) or
  the pure helpers of this module; the slow part (rendering, the report) still runs on click.
* **Every download gets a name unique to this session and its content** (:func:`button`, see
  ``ui/media.py``): Streamlit's media ids of files over 1 MiB are sampled, not a full hash.

:func:`button` is the only place that calls ``st.download_button`` (``tests/test_downloads.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import pandas as pd
import streamlit as st

from core import export
from core import provenance as prov_mod
from core.dictionary import DICTIONARY_VERSION
from core.spec import AnalysisSpec
from ui import layout, media, primary, state, url

_PURE: set[Callable] = set()


def _pure(fn: Callable) -> Callable:
    """Mark a helper of this module as usable in :func:`deferred` (it uses only its arguments and ``core``)."""
    _PURE.add(fn)
    return fn


def _allowed(fn: object) -> bool:
    if isinstance(fn, functools.partial):
        return _allowed(fn.func) and all(_allowed_value(v) for v in (*fn.args, *fn.keywords.values()))
    return fn in _PURE or str(getattr(fn, "__module__", "")).startswith("core.")


def _allowed_value(value: object) -> bool:
    return _allowed(value) if callable(value) and not isinstance(value, type) else True


def deferred(fn: Callable, /, *args, **kwargs) -> functools.partial:
    """A file (or figure) made on click by ``fn(*args, **kwargs)``, the arguments fixed now.

    Parameters
    ----------
    fn : callable
        A function of ``core`` (which never imports Streamlit) or a pure helper of this module.
    *args, **kwargs
        Its arguments, evaluated in the script run that draws the button. Callables among them
        (a figure to render) must be made by :func:`deferred` as well.

    Raises
    ------
    TypeError
        If ``fn`` (or a callable argument) could read the session when run on click.
    """
    made = functools.partial(fn, *args, **kwargs)
    if not _allowed(made):
        raise TypeError(f"{getattr(fn, '__qualname__', fn)!r} may not run on click: use a function of core, with "
                        "every value it needs computed now (never read the session in a download)")
    return made


def button(label: str, data: bytes | str | functools.partial, *, file_name: str, mime: str, key: str,
           where=None, **kwargs) -> None:
    """Offer a download (Streamlit's ``download_button``) under a name unique to this session and content.

    Parameters
    ----------
    label : str
        Button label.
    data : bytes, str or functools.partial
        The file, or its generator made by :func:`deferred` (run on click).
    file_name : str
        The name the user sees, before the session and content tag is added.
    mime : str
        MIME type.
    key : str
        Widget key.
    where : DeltaGenerator, optional
        Container or column to draw in (default: the current one).
    **kwargs
        Passed to ``st.download_button`` (``icon``, ``help``...).
    """
    if callable(data) and not (isinstance(data, functools.partial) and _allowed(data)):
        raise TypeError("a file made on click must come from downloads.deferred(...)")
    name = media.unique_name(file_name, None if callable(data) else data)
    (where or st).download_button(label, data=data, file_name=name, mime=mime, key=key, **kwargs)


_SUPPRESS = "suppress_small"
_K = "suppress_k"


def provenance(spec: AnalysisSpec) -> dict[str, str]:
    """Provenance of the current view (URL, filters and settings, data hash, versions, date)."""
    cohort = state.active_cohort()
    return prov_mod.provenance(
        spec, cohort_sha256=cohort.sha256, dictionary_version=DICTIONARY_VERSION,
        url=layout.view_url(spec).split("?")[0],
        source_name="synthetic demo cohort" if state.is_demo() else cohort.source_name,
        primary=primary.provenance_entry(spec),
    )


def suppression_k() -> int | None:
    """The small-cell threshold k when suppression is on, else None."""
    return int(st.session_state.get(_K, 11)) if st.session_state.get(_SUPPRESS) else None


def suppression_controls() -> None:
    """The one switch (off by default) for small-cell suppression, in the sidebar."""
    with st.sidebar.expander("Small-cell suppression", icon=":material/visibility_off:"):
        st.toggle("Suppress small counts", key=_SUPPRESS,
                  help="Counts from 1 to k-1 show as <k in aggregate tables, risk tables and exports; a second cell "
                       "is hidden where a total would reveal the first.")
        st.number_input("k", min_value=2, max_value=50, value=11, key=_K,
                        help="11 is the rule of US Medicare (CMS) data use agreements.")


def suppress(table: pd.DataFrame, count_columns: list[str] | None = None, *, total_row: str | None = None,
             total_column: str | None = None) -> pd.DataFrame:
    """Apply the session's small-cell suppression to an aggregate table (unchanged when off).

    Counts quoted in its text cells (reliability notes) are hidden as well.
    """
    k = suppression_k()
    if k is None:
        return table
    cols = count_columns or [c for c in table.columns if pd.api.types.is_integer_dtype(table[c])]
    out = export.suppress_small_counts(table, cols, k=k, total_row=total_row, total_column=total_column)
    return export.suppress_text_counts(out, k=k)  # counts quoted in notes ("only 7 surgery patients ...")


def shown(table: pd.DataFrame, *, bare_counts: bool = False) -> pd.DataFrame:
    """A formatted table as it may be shown: small counts hidden when suppression is on.

    ``bare_counts=True`` also hides text cells that are a bare count (``"8"``: the estimates'
    patients and deaths, the matching card), as the one-click report does.
    """
    k = suppression_k()
    out = export.suppress_formatted(table, k=k)
    return export.hide_bare_counts(out, k=k) if bare_counts else out


def text(value: str) -> str:
    """Free text (headline, warning, reliability note) with small quoted counts ("only 7 patients") hidden when on."""
    return export.suppress_in_text(value, k=suppression_k())


def count(n: int) -> str:
    """One count as text for a caption: ``"<k"`` when small and suppression is on."""
    return export.count_text(n, k=suppression_k())


def balance(table: pd.DataFrame) -> pd.DataFrame:
    """The covariate balance table as it may be shown: means of binary terms (proportions) blanked when on."""
    return export.blank_binary_means(table, k=suppression_k())


def km_figure(fig):
    """A Kaplan-Meier figure as it may be shown: small numbers at risk in the hover text hidden when on."""
    return export.hide_hover_at_risk(fig, k=suppression_k())


def life_tables_withheld() -> str | None:
    """Why event-level Kaplan-Meier tables are not shown or exported (None when suppression is off)."""
    k = suppression_k()
    if k is None:
        return None
    return (f"Kaplan-Meier tables withheld: with small-cell suppression on (k = {k}), the event-level life tables "
            "are neither shown nor exported, because their numbers at risk, deaths and censored patients at each "
            "event time are small counts by nature. The curves, the estimates and the suppressed numbers at risk "
            "remain.")


def table_one(table: pd.DataFrame) -> pd.DataFrame:
    """Table 1 (from ``core.table1.table_one_before_after``) as it may be shown and exported.

    With suppression on: small counts and complementary cells hidden in the table and in
    ``attrs["long"]`` (the numeric export), and a footnote explaining the marks added to
    ``attrs["footnotes"]``; unchanged when off.
    """
    from core import table1

    k = suppression_k()
    return table if k is None else table1.suppress_table_one(table, k=k)


def suppression_note() -> None:
    """Under a table with complementary suppression: what "<k" and "*" mean (nothing when off)."""
    k = suppression_k()
    if k is not None:
        st.caption(f"Small-cell suppression (k = {k}): <{k} is a count from 1 to {k - 1}; {export.COMPLEMENTARY} a "
                   "count hidden only so that a hidden count cannot be recovered by subtraction from a known total.")


def subgroup_counts(table: pd.DataFrame) -> pd.DataFrame:
    """The numeric subgroup table as it may be exported: counts with complementary suppression when on."""
    from core import subgroups

    k = suppression_k()
    if k is None:
        return table
    return export.suppress_text_counts(subgroups.suppress_subgroup_counts(table, k=k), k=k)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name).strip("_") or "table"


@_pure
def _csv_zip(frames: Mapping[str, pd.DataFrame], prov: Mapping[str, str]) -> bytes:
    files = {f"{_safe(k)}.csv": export.csv_bytes(v) for k, v in frames.items()}
    return export.zip_bytes(files, prov)


def tables(name: str, sheets: Mapping[str, pd.DataFrame], spec: AnalysisSpec, *, key: str,
           parquet: bool = False, index: bool = False) -> None:
    """Download buttons for one or more tables: CSV (zip with provenance), Excel (+ Methods), Parquet.

    Parameters
    ----------
    name : str
        Base file name.
    sheets : mapping of str to DataFrame
        The tables (one sheet / CSV file each), as shown (suppression already applied).
    spec : AnalysisSpec
        The view, for provenance.
    key : str
        Widget key prefix (unique per page).
    parquet : bool
        Offer Parquet too (cohort tables).
    index : bool
        Keep the index as a column.
    """
    prov = provenance(spec)
    frames = {k: (v.reset_index() if index else v) for k, v in sheets.items()}
    base = _safe(name)
    cols = st.columns(3 if parquet else 2)
    button("CSV", deferred(_csv_zip, frames, prov), file_name=f"{base}.zip", mime="application/zip",
           key=f"{key}_csv", where=cols[0], icon=":material/download:", help="CSV file(s) with provenance, zipped")
    button("Excel", deferred(export.xlsx_bytes, frames, prov), file_name=f"{base}.xlsx",
           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"{key}_xlsx",
           where=cols[1], icon=":material/download:", help="One sheet per table plus 'Methods'")
    if parquet:
        button("Parquet", deferred(export.parquet_bytes, next(iter(frames.values()))), file_name=f"{base}.parquet",
               mime="application/octet-stream", key=f"{key}_parquet", where=cols[2], icon=":material/download:")


@_pure
def _png(build: Callable[[], object], width: int, height: int, scale: float, synthetic: bool = False) -> bytes:
    fig = build()
    return export.figure_png(export.mark_synthetic(fig) if synthetic else fig, width=width, height=height, scale=scale)


@_pure
def _svg(build: Callable[[], object], width: int, height: int, synthetic: bool = False) -> bytes:
    fig = build()
    return export.figure_svg(export.mark_synthetic(fig) if synthetic else fig, width=width, height=height)


def figure(name: str, build: functools.partial, *, key: str, slide_height: int | None = None,
           journal_height: int | None = None) -> None:
    """PNG (slide and journal column) and SVG downloads of a figure, rendered on click.

    Parameters
    ----------
    name : str
        Base file name.
    build : functools.partial
        ``deferred(figures.some_figure, inputs...)``: the figure's builder with every input
        (suppressed tables included) computed now; it runs on click only.
    key : str
        Widget key prefix.
    slide_height, journal_height : int, optional
        Heights in CSS pixels when the presets' are too small (e.g. a KM plot with its risk table).
    """
    if not (isinstance(build, functools.partial) and _allowed(build)):
        raise TypeError("figure(): build must be downloads.deferred(<a core.figures function>, inputs...)")
    base = _safe(name)
    synthetic = state.is_demo()  # decided now: the click runs without the session
    cols = st.columns(3)
    slide_w, slide_h, slide_s = export.FIGURE_PRESETS["slide"]
    col_w, col_h, col_s = export.FIGURE_PRESETS["journal column"]
    button("PNG (slide)", deferred(_png, build, slide_w, slide_height or slide_h, slide_s, synthetic),
           file_name=f"{base}_slide.png", mime="image/png", key=f"{key}_png_slide", where=cols[0],
           icon=":material/image:", help="1600 x 900 pixels")
    button("PNG (journal)", deferred(_png, build, col_w, journal_height or col_h, col_s, synthetic),
           file_name=f"{base}_column.png", mime="image/png", key=f"{key}_png_col", where=cols[1],
           icon=":material/image:", help="One journal column: 85 mm wide at 300 dpi")
    button("SVG", deferred(_svg, build, slide_w, slide_height or slide_h, synthetic), file_name=f"{base}.svg",
           mime="image/svg+xml", key=f"{key}_svg", where=cols[2], icon=":material/image:")


@_pure
def _report_html(cohort, spec: AnalysisSpec, prov: Mapping[str, str], k: int | None, main=None,
                 grace: float | None = None) -> bytes:
    from core import analysis, ccw, speccurve, study_report, subgroups
    from core import primary as primary_mod

    curve = speccurve.run(cohort, spec, primary=main.spec if main is not None else None)
    return study_report.study_report_html(cohort, spec, analysis.run(cohort, spec), subgroups.subgroup_table(cohort, spec),
                                          provenance=prov, k=k, speccurve=curve,
                                          primary_status=primary_mod.status_line(spec, main),
                                          ccw_result=ccw.run(cohort, spec, grace=ccw.DEFAULT_GRACE if grace is None else grace),
                                          ).encode("utf-8")


@_pure
def _report_pdf(cohort, spec: AnalysisSpec, prov: Mapping[str, str], k: int | None, main=None,
                grace: float | None = None) -> bytes:
    from core import report

    return report.report_pdf(_report_html(cohort, spec, prov, k, main, grace).decode("utf-8"))


def ccw_grace() -> float:
    """The Target trial page's grace period from the URL (``tgr``), else the default."""
    from core import ccw

    try:
        value = float(url.get("tgr") or ccw.DEFAULT_GRACE)
    except ValueError:
        return ccw.DEFAULT_GRACE
    lo, hi = ccw.GRACE_RANGE
    return value if lo <= value <= hi else ccw.DEFAULT_GRACE


def report_buttons(spec: AnalysisSpec) -> None:
    """One-click report of the current view (HTML with interactive figures, and its PDF rendering).

    The cohort, spec, provenance and small-cell threshold are fixed when the buttons are drawn;
    the analysis and the report are made on click from them alone.
    """
    inputs = (state.active_cohort(), spec, provenance(spec), suppression_k(), primary.current(), ccw_grace())
    with st.sidebar.expander("Report of this view", icon=":material/description:"):
        st.caption("Everything on the pages for the current filters and settings, with the methods paragraph and "
                   "provenance. Small-cell suppression, when on, applies to the report too.")
        c1, c2 = st.columns(2)
        button("HTML", deferred(_report_html, *inputs), file_name="pdac_lm_report.html", mime="text/html",
               key="dl_report_html", where=c1, icon=":material/download:")
        button("PDF", deferred(_report_pdf, *inputs), file_name="pdac_lm_report.pdf", mime="application/pdf",
               key="dl_report_pdf", where=c2, icon=":material/download:")
