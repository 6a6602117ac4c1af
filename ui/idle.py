"""Idle timeout: a session left alone for too long loses its uploaded data, results and login.

The time of the last script run started by the user is kept in ``st.session_state``. On every
run :func:`check` compares it with the clock; past the timeout (``PDAC_IDLE_MINUTES`` in the
environment, else ``[session] idle_minutes`` in the secrets, else 30 minutes) it drops the
upload, its validation report, the uploaded file bytes held by Streamlit, every session-scoped
cached result, the session's download files (their media URLs answer 404 from then on) and the
login, and tells the user why. :func:`watch` (a small fragment rerun
every minute while the tab is open) makes this happen even when the user never comes back to
the tab. A tab that is closed ends its session by itself: Streamlit drops the session, its
uploaded files and its session-scoped caches ``server.disconnectedSessionTTL`` (120 s) later.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping

import streamlit as st

from ui import auth, state

ENV_VAR = "PDAC_IDLE_MINUTES"
DEFAULT_MINUTES = 30.0
_LAST = "idle_last_activity"
_HAD_DATA = "idle_expired_notice"

#: The clock (seconds); tests replace it with a fake one.
clock: Callable[[], float] = time.monotonic


def _parse_minutes(value: object, source: str) -> float:
    try:
        minutes = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{source} must be a number of minutes, got {value!r}") from exc
    if not math.isfinite(minutes) or minutes <= 0:
        raise ValueError(f"{source} must be a positive number of minutes, got {value!r}")
    return minutes


def timeout_minutes() -> float:
    """The idle timeout in minutes: ``PDAC_IDLE_MINUTES``, else secrets ``[session] idle_minutes``, else 30."""
    env = os.environ.get(ENV_VAR)
    if env not in (None, ""):
        return _parse_minutes(env, ENV_VAR)
    try:
        section = st.secrets.get("session") if st.secrets.load_if_toml_exists() else None
    except Exception:  # noqa: BLE001 - no readable secrets: the default applies
        section = None
    if isinstance(section, Mapping) and "idle_minutes" in section:
        return _parse_minutes(section["idle_minutes"], "[session] idle_minutes")
    return DEFAULT_MINUTES


def _idle_seconds() -> float | None:
    last = st.session_state.get(_LAST)
    return None if last is None else clock() - last


def _has_something_to_drop() -> bool:
    return (not state.is_demo()) or state.last_report() is not None or auth.is_logged_in()


def drop_session_data() -> None:
    """Forget this session's upload, validation report, uploaded bytes, cached results, download files and login."""
    auth.logout()  # ends the login and drops the upload with its download files (ui.state.use_demo)


def check() -> bool:
    """Run at the top of ``app.py``: expire an idle session, then record this run as activity.

    Returns True when the session had expired (its data are gone and a message says so).
    """
    idle = _idle_seconds()
    expired = idle is not None and idle > timeout_minutes() * 60
    if expired and _has_something_to_drop():
        drop_session_data()
        minutes = timeout_minutes()
        st.info(
            f"This session was idle for more than {minutes:g} minutes, so its uploaded data and results were "
            "cleared (and you were logged out) to protect patient data. Upload the file again to continue.",
            icon=":material/timer_off:",
        )
    else:
        expired = False
    st.session_state[_LAST] = clock()
    return expired


@st.fragment(run_every=60)
def _watch_fragment() -> None:
    idle = _idle_seconds()
    if idle is not None and idle > timeout_minutes() * 60 and _has_something_to_drop():
        st.rerun(scope="app")  # the full run calls check(), which clears the data and says why


def watch() -> None:
    """Re-check once a minute while the tab is open, so an abandoned tab is cleared too."""
    _watch_fragment()
