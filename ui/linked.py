"""Shared links of an uploaded cohort: the link names the data by its SHA-256, never carries it.

A view of an uploaded cohort is shared as its usual URL plus ``data=<SHA-256 of the cohort>``
(``core.cohort.Cohort.sha256``: the hash of the validated data, whatever the file format). Whoever
opens such a link in a session that does not hold that cohort sees no numbers: the page asks for the
file, reads it as an upload is read (``core.isolation``, in a limited child process), and shows the
view only when the hash is the link's. A different file is refused and nothing is replaced; the
demo cohort is one explicit click away and removes the key from the URL. Never other data silently.
"""

from __future__ import annotations

import re

import streamlit as st

from core import isolation
from core.readers import CohortValidationError
from ui import layout, run_slots, state, url

KEY = "data"
_SHA = re.compile(r"[0-9a-f]{64}")
_SEEN = "linked_upload_seen"
_MESSAGE = "linked_upload_message"
_DONE = "linked_checked"


def link_value() -> str | None:
    """The ``data`` value a shared link of this session's view carries (None on the demo cohort)."""
    return None if state.is_demo() else state.active_cohort().sha256


def require() -> None:
    """Stop the run, asking for the file, while the URL names a cohort this session does not hold.

    Only a link that opens the session is checked: once the session has its cohort (or chose the
    demo), a later upload or "Back to the demo cohort" drops a stale key instead of asking again.
    """
    wanted = url.get(KEY)
    if st.session_state.get(_DONE):
        if wanted is not None and wanted != link_value():
            url.keep({KEY: None})
        return
    if wanted is None:
        st.session_state[_DONE] = True
        return
    wanted = wanted.strip().lower()
    if not _SHA.fullmatch(wanted):
        url.keep({KEY: None})
        st.session_state[_DONE] = True
        st.warning("The link's data key is not a SHA-256 (64 hexadecimal digits); it was ignored.", icon=":material/link_off:")
        return
    if not state.is_demo() and state.active_cohort().sha256 == wanted:
        st.session_state[_DONE] = True
        return
    _ask_for(wanted)
    st.stop()


def _ask_for(wanted: str) -> None:
    st.title("This link is for an uploaded cohort")
    st.markdown(
        "The person who shared it was working on a study export. A link never carries patient data: it "
        f"names the cohort by its SHA-256 fingerprint, `{wanted[:12]}…{wanted[-6:]}`. Upload that file "
        "(CSV, Excel or Parquet, in the data dictionary's layout) to see the same filters, settings and numbers. "
        "Another file is refused: this page never shows other data in its place."
    )
    uploaded = st.file_uploader("The study export this link was made from", type=["csv", "txt", "tsv", "xlsx", "parquet"],
                                key="linked_upload")
    if uploaded is not None and uploaded.file_id not in st.session_state.setdefault(_SEEN, set()):
        st.session_state[_SEEN].add(uploaded.file_id)
        st.session_state[_MESSAGE] = _check(uploaded, wanted)
        if st.session_state[_MESSAGE] is None:
            st.rerun()
    message = st.session_state.get(_MESSAGE)
    if message:
        st.error(layout.escape_md(message), icon=":material/block:")
    with st.expander("Full fingerprint (SHA-256)"):
        st.code(wanted, language=None)
    if st.button("Open the synthetic demo cohort instead", icon=":material/science:", key="linked_demo"):
        url.keep({KEY: None})
        st.session_state.pop(_MESSAGE, None)
        st.session_state[_DONE] = True
        st.rerun()


def _check(uploaded, wanted: str) -> str | None:
    """Load the file; make it the session's cohort only if its fingerprint is the link's (None: done)."""
    try:
        with run_slots.GATE.step_aside():
            new = isolation.load_isolated(uploaded.getvalue(), uploaded.name)
    except CohortValidationError as exc:
        n = len(exc.problems)
        return (f"{uploaded.name} was not loaded: {n} problem{'s' if n != 1 else ''} found (first: "
                f"{exc.problems[0].message}). Load it on the Data page to see the whole list.")
    except Exception:  # noqa: BLE001 - never a traceback
        return f"{uploaded.name} could not be read (an internal error occurred)."
    if new.sha256 != wanted:
        return (f"{uploaded.name} is not the cohort this link was made from: its fingerprint is "
                f"{new.sha256[:12]}…{new.sha256[-6:]}, the link's is {wanted[:12]}…{wanted[-6:]}. Nothing was loaded.")
    state.accept(uploaded.name, new)
    st.session_state.pop(_MESSAGE, None)
    return None
