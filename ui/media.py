"""This session's download files in Streamlit's media store: one name per session and content, dropped at once.

Streamlit keeps every download in one process-wide store, under an id it computes from the
file's bytes, MIME type and file name (``streamlit/runtime/memory_media_file_storage.py``,
``_calculate_file_id``). For files over 1 MiB that id is not a hash of the whole content: it
samples the length and the first, middle and last 64 KiB, and when the id exists already the
store keeps the bytes it has. Two exports of the same length that differ only between those
samples would share one id: one session would download another session's patients, and a
corrected re-upload of the same length would download the old file.

:func:`unique_name` therefore folds into the file name (which Streamlit hashes) a mark of this
session and a digest of the content: ``cohort.csv`` is offered as ``cohort_<session><content>.csv``
(8 + 8 hexadecimal digits). For a file generated on click, whose bytes do not exist yet when the
button is drawn, the content part is a random value drawn for that button in that run: the file
is a pure function of values fixed in that run (``ui/downloads.py``), so the name still names
one content.

:func:`drop_session_files` deletes every file carrying this session's mark, and the session's
generators of files on click (which hold its data), from Streamlit's store at once: log out, the
idle timeout and "Back to the demo cohort" call it, so no media URL of the session's upload
answers afterwards. It reaches into Streamlit's media manager (no public API does this);
``tests/test_web_security.py`` checks against a real server that the URLs answer 404.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import PurePosixPath

import streamlit as st

_MARK = "media_session_mark"
MARK_LEN = 8
CONTENT_LEN = 8


def session_mark() -> str:
    """This session's mark in its download file names (random, made on first use)."""
    mark = st.session_state.get(_MARK)
    if not isinstance(mark, str) or len(mark) != MARK_LEN:
        mark = secrets.token_hex(MARK_LEN // 2)
        st.session_state[_MARK] = mark
    return mark


def content_tag(data: bytes | str | None) -> str:
    """The content part of a name: a SHA-256 digest of ``data``, or a fresh random value for ``None``.

    Examples
    --------
    >>> content_tag(b"abc")
    'ba7816bf'
    >>> content_tag("abc") == content_tag(b"abc"), len(content_tag(None))
    (True, 8)
    """
    if data is None:
        return secrets.token_hex(CONTENT_LEN // 2)
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return hashlib.sha256(raw).hexdigest()[:CONTENT_LEN]


def tagged(file_name: str, mark: str, content: str) -> str:
    """``file_name`` with ``_<mark><content>`` before its extension.

    Examples
    --------
    >>> tagged("cohort.csv", "0a1b2c3d", "4e5f6a7b")
    'cohort_0a1b2c3d4e5f6a7b.csv'
    >>> tagged("report", "0a1b2c3d", "4e5f6a7b")
    'report_0a1b2c3d4e5f6a7b'
    """
    path = PurePosixPath(file_name)
    return f"{path.stem}_{mark}{content}{path.suffix}"


def mark_of(file_name: str | None) -> str | None:
    """The session mark in a name made by :func:`tagged` (None for other names).

    Examples
    --------
    >>> mark_of("cohort_0a1b2c3d4e5f6a7b.csv"), mark_of("cohort.csv"), mark_of(None)
    ('0a1b2c3d', None, None)
    """
    if not file_name:
        return None
    tag = PurePosixPath(file_name).stem.rsplit("_", 1)[-1]
    if len(tag) != MARK_LEN + CONTENT_LEN or any(c not in "0123456789abcdef" for c in tag):
        return None
    return tag[:MARK_LEN]


def unique_name(file_name: str, data: bytes | str | None) -> str:
    """The name to give Streamlit for a download of ``data`` (None: generated on click) in this session."""
    return tagged(file_name, session_mark(), content_tag(data))


def drop_session_files() -> int:
    """Delete this session's download files and on-click generators from Streamlit's media store now.

    Returns the number of stored files deleted. The session gets a new mark, so later
    downloads never share a name with the dropped ones. Does nothing outside a server run.
    """
    from streamlit import runtime
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    mark = st.session_state.pop(_MARK, None)
    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return 0
    mgr = runtime.get_instance().media_file_mgr
    store = getattr(mgr, "_storage", None)
    files = getattr(store, "_files_by_id", None)
    if files is None:  # pragma: no cover - Streamlit's internals moved: the live test fails loudly
        raise RuntimeError("Streamlit's media store has changed: cannot drop this session's download files")
    with mgr._lock:
        generators = set(mgr._deferred_ids_by_session.get(ctx.session_id, ()))
        for file_id in generators:
            mgr._drop_deferred_id(file_id)
        doomed = {file_id for file_id, f in list(files.items()) if mark is not None and mark_of(f.filename) == mark}
        for file_id in doomed:
            store.delete_file(file_id)
            mgr._file_metadata.pop(file_id, None)
        refs = mgr._files_by_session_and_coord.get(ctx.session_id, {})
        for coordinates in [c for c, file_id in refs.items() if file_id in doomed or file_id in generators]:
            del refs[coordinates]
    return len(doomed)
