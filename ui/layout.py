"""Page furniture shared by all pages: header with the active-filter strip, presentation mode,
warnings, the copy-link control and the provenance card."""

from __future__ import annotations

import re
from urllib.parse import quote

import streamlit as st

from core import provenance as prov_mod
from core.dictionary import DICTIONARY_VERSION
from core.spec import AnalysisSpec
from ui import primary, state, url

PRESENT_KEY = "present"

# Static CSS only (no user-supplied text is ever placed in HTML).
_PRESENTATION_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 19px; }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] { display: none; }
[data-testid="stMetricValue"] { font-size: 2.4rem; line-height: 1.15; }
[data-testid="stMetricLabel"] p { font-size: 1.05rem; }
[data-testid="stMetric"] { padding-bottom: 0.2rem; }
.block-container { padding-top: 0.6rem; padding-bottom: 1rem; max-width: 100%; }
h1 { font-size: 1.9rem !important; padding: 0 !important; }
[data-testid="stCaptionContainer"] { color: #1B1F24; }
.st-key-presentation_strip { border-bottom: 1px solid #D5DAE1; padding-bottom: 0.3rem; }
</style>
"""
_BASE_CSS = """
<style>
[data-testid="stMetricValue"] { font-variant-numeric: tabular-nums; }
.block-container { padding-top: 2.2rem; }
</style>
"""


_MD_SPECIAL = "\\`*_{}[]()#+-.!|>~<$:"
#: Where Markdown's autolinks start: ``http://``, ``https://``, ``www.``, ``mailto:``/``xmpp:`` and an
#: e-mail address's ``@``. Streamlit's Markdown (GitHub's dialect) turns these into links even when
#: every character is escaped; an invisible WORD JOINER (U+2060) at that point keeps the text a text.
_AUTOLINK = re.compile(r"(?<=[a-z])(?=://)|(?<=\bwww)(?=\.)|(?<=\bmailto)(?=:)|(?<=\bxmpp)(?=:)|(?=@)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def escape_md(text: str) -> str:
    r"""Escape Markdown so that data-derived text (centre names, column and file names, labels such as ``>3``)
    shows literally: no formatting, and no link even where it looks like a URL or an e-mail address.

    Examples
    --------
    >>> print(escape_md(">3 mets"))
    \>3 mets
    >>> print(escape_md("see https://x.example").replace(WORD_JOINER, "|"))
    see https|\://x\.example
    >>> print(escape_md("www.x.example a@b.example").replace(WORD_JOINER, "|"))
    www|\.x\.example a|@b\.example
    """
    text = _AUTOLINK.sub(WORD_JOINER, str(text))
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)


def presentation() -> bool:
    """Whether presentation mode is on (kept in the URL as ``present=1``)."""
    return url.get(PRESENT_KEY) == "1"


def set_presentation(on: bool) -> None:
    url.keep({PRESENT_KEY: "1" if on else None})


def apply_style() -> None:
    """Inject the house CSS, and the projector CSS in presentation mode."""
    st.markdown(_BASE_CSS, unsafe_allow_html=True)
    if presentation():
        st.markdown(_PRESENTATION_CSS, unsafe_allow_html=True)


def header(title: str, spec: AnalysisSpec, *, subtitle: str | None = None) -> None:
    """Page title, the presentation toggle and a strip of the active filters."""
    present = presentation()
    left, right = st.columns([6, 1], vertical_alignment="center")
    with left:
        st.title(title)
        if subtitle and not present:
            st.caption(subtitle)
    with right:
        on = st.toggle("Present", value=present, key=f"present_{title}",
                       help="Presentation mode: large fonts and lines for a projector; the study's filters stay on "
                            "screen, the other controls are hidden.")
        if on != present:
            set_presentation(on)
            st.rerun()
    for notice in url.notices():
        st.warning(escape_md(notice), icon=":material/link_off:")
    filters = spec.filters_in_words()
    strip = " · ".join(filters) if filters else "No filters: whole cohort"
    cohort_name = "synthetic demo cohort" if state.is_demo() else "uploaded cohort"
    text = f"**{cohort_name}** · {escape_md(strip)} · {escape_md(spec.settings_in_words()[1])}"
    if present:
        st.caption(text)
    else:
        st.info(text, icon=":material/filter_alt:")
    primary_line(spec)


def primary_line(spec: AnalysisSpec) -> None:
    """One compact line: this view is the pre-specified primary analysis, or an exploration and how it differs."""
    line = primary.status(spec)
    if primary.is_primary(spec):
        st.caption(":material/verified: " + escape_md(line))
    else:
        st.caption(":material/explore: " + escape_md(line) + " See the Robustness page.")


def warnings(items: tuple[str, ...] | list[str]) -> None:
    """Plain-language warnings of an analysis."""
    for w in items:
        st.warning(escape_md(w), icon=":material/warning:")


def notes(items: tuple[str, ...] | list[str]) -> None:
    """Small print under a table or figure (escaped)."""
    for n in items:
        st.caption(escape_md(n))


def view_url(spec: AnalysisSpec) -> str:
    """The shareable URL of the current view."""
    base = str(st.context.url or "").split("?")[0]
    if not base.startswith(("http://", "https://")):
        base = "http://localhost:8501/"  # AppTest and bare runs have no browser URL
    query = prov_mod.view_url(spec, base)
    extra = dict(url.page_items())  # a page's own choices (e.g. the Surgical outcomes landmark) travel too
    if not state.is_demo():
        extra["data"] = state.active_cohort().sha256  # names the cohort, never carries it (ui/linked.py)
    if presentation():
        extra[PRESENT_KEY] = "1"
    for key, value in extra.items():
        query += ("&" if "?" in query else "?") + f"{key}={quote(str(value), safe=',:-_.')}"
    return query


def copy_link(spec: AnalysisSpec) -> None:
    """A copy-link control: the full URL of this view, in a code box with a copy button."""
    with st.popover("Share this view", icon=":material/link:"):
        if state.is_demo():
            st.caption("Anyone with access to the app who opens this link sees the same filters, settings and numbers.")
        else:
            st.caption("The link names this uploaded cohort by its SHA-256 fingerprint and carries no patient data: "
                       "whoever opens it is asked for the same file, and sees the numbers only if it matches.")
        st.code(view_url(spec), language=None, wrap_lines=True)


def provenance_card(spec: AnalysisSpec) -> None:
    """How this was computed: data, view, settings, software."""
    cohort = state.active_cohort()
    prov = prov_mod.provenance(
        spec, cohort_sha256=cohort.sha256, dictionary_version=DICTIONARY_VERSION, url=view_url(spec).split("?")[0],
        source_name="synthetic demo cohort" if state.is_demo() else cohort.source_name,
        primary=primary.provenance_entry(spec),
    )
    with st.expander("How this was computed (provenance)", icon=":material/info:"):
        st.text(prov_mod.provenance_text(prov))


