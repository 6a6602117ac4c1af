"""Per-session state: the active cohort, upload handling and the last validation report.

Uploaded data live in ``st.session_state`` of the uploading browser session only: never on
disk, never in a cache shared between sessions. The demo cohort is the same for everyone and
is cached once per process.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core import cohort as cohort_mod
from core import isolation
from core.cohort import Cohort, CohortValidationError
from ui import media, memory, run_slots

_COHORT = "active_cohort"
_REPORT = "upload_report"
_SEEN = "upload_seen_ids"
#: The column-mapping step of an upload (ui/mapping_step.py): the export waiting for a mapping, the mapping used.
MAPPING = "mapping_step_state"


@dataclass(frozen=True)
class UploadReport:
    """Outcome of the last upload, shown on the Data page."""

    filename: str
    ok: bool
    message: str
    problems: object = None  # DataFrame of problems, or None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    pending: bool = False  # the export waits for its column mapping to be confirmed (nothing loaded yet)


def _readable(problems):
    """Problems table for people: 'whole file' instead of an empty row number, blanks instead of None."""
    out = problems.astype(object)
    out["row"] = out["row"].map(lambda r: "whole file" if pd.isna(r) else str(int(r)))
    return out.fillna("")


@st.cache_resource(show_spinner=False)
def _demo() -> Cohort:
    return cohort_mod.demo()


def active_cohort() -> Cohort:
    """The cohort this session analyses: its own upload, else the demo cohort."""
    uploaded = st.session_state.get(_COHORT)
    return uploaded if uploaded is not None else _demo()


def is_demo() -> bool:
    """True when the session works on the embedded synthetic demo cohort."""
    return st.session_state.get(_COHORT) is None


def use_demo() -> None:
    """Drop this session's upload at once and go back to the demo cohort.

    Gone from the server: the parsed cohort and its validation report, the uploaded bytes held
    by Streamlit, every session-scoped cached result, and the session's download files and their
    generators in Streamlit's media store (``ui/media.py``): no media URL of the upload answers
    afterwards. Used by "Back to the demo cohort", log out and the idle timeout.
    """
    st.session_state.pop(_COHORT, None)
    st.session_state.pop(_REPORT, None)
    try:
        from streamlit.runtime.caching.cache_resource_api import clear_session_cache
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is not None:
            clear_session_cache(ctx.session_id)  # every st.cache_resource(scope="session") of this session
            ctx.uploaded_file_mgr.remove_session_files(ctx.session_id)  # the bytes behind st.file_uploader
    except Exception:  # noqa: BLE001 - Streamlit internals moved: the session state above is gone anyway
        pass
    media.drop_session_files()
    memory.request_release()  # return the freed pages to the operating system (background thread)
    st.session_state.pop(MAPPING, None)


def clear_report() -> None:
    """Forget the report of the last upload (the active cohort stays)."""
    st.session_state.pop(_REPORT, None)


def last_report() -> UploadReport | None:
    """The report of the last upload in this session, if any."""
    return st.session_state.get(_REPORT)


def handle_upload(uploaded) -> bool:
    """Validate an uploaded file once; keep the previous cohort when it fails.

    Parameters
    ----------
    uploaded : streamlit.runtime.uploaded_file_manager.UploadedFile or None
        What ``st.file_uploader`` returned.

    Returns
    -------
    bool
        True when a new file was processed (the caller reruns so every widget sees the new cohort).
    """
    if uploaded is None:
        return False
    seen = st.session_state.setdefault(_SEEN, set())
    if uploaded.file_id in seen:
        return False
    seen.add(uploaded.file_id)
    try:
        with run_slots.GATE.step_aside():  # the parse runs in a child process: others may run meanwhile
            new = isolation.load_isolated(uploaded.getvalue(), uploaded.name)
    except CohortValidationError as exc:
        refuse(uploaded.name, exc)
        return True
    except Exception:  # noqa: BLE001 - load() promises CohortValidationError only; never show a traceback
        refuse(uploaded.name, None)
        return True
    accept(uploaded.name, new)
    return True


def refuse(filename: str, exc: CohortValidationError | None) -> None:
    """Report an upload that did not load (``exc`` None: an internal error); the active cohort stays."""
    if exc is None:
        st.session_state[_REPORT] = UploadReport(
            filename=filename,
            ok=False,
            message=f"{filename} could not be read (an internal error occurred). "
            "The cohort you were working on is still active.",
        )
        return
    n = len(exc.problems)
    st.session_state[_REPORT] = UploadReport(
        filename=filename,
        ok=False,
        message=f"{filename} was not loaded: {n} problem{'s' if n != 1 else ''} found. "
        "The cohort you were working on is still active.",
        problems=_readable(exc.problems_frame()),
    )


def accept(filename: str, new: Cohort) -> None:
    """Make a validated upload this session's cohort and report it."""
    st.session_state[_COHORT] = new
    memory.release_when_collected(new)  # once the session drops it, give the freed memory back to the system
    st.session_state[_REPORT] = UploadReport(
        filename=filename,
        ok=True,
        message=f"{filename} loaded: {len(new.data)} patients "
        f"({new.n_surgery} surgery, {new.n_chemotherapy} chemotherapy).",
        notes=tuple(new.notes),
        warnings=tuple(getattr(new, "warnings", ())),
    )


def mark_pending(filename: str) -> None:
    """Report an export that waits for its column mapping (so that an idle timeout also drops it)."""
    st.session_state[_REPORT] = UploadReport(
        filename=filename,
        ok=False,
        pending=True,
        message=f"{filename} uses other column names or codes than the data dictionary: check the mapping below, "
        "then load it. The cohort you were working on is still active.",
    )
