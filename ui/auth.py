"""Optional access control: one shared password, stored only as a salted PBKDF2 hash.

Off by default (the demo needs no login). It is on when ``.streamlit/secrets.toml`` holds::

    [auth]
    password_hash = "pbkdf2_sha256$600000$<salt, base64>$<hash, base64>"

Make the line with ``python -m ui.auth hash`` (prompts for the password twice). Deployments with
an identity provider can use Streamlit's OpenID Connect login instead: an ``[auth]`` section
with ``client_id`` / ``client_secret`` / ``server_metadata_url`` / ``redirect_uri`` /
``cookie_secret`` and no ``password_hash`` (see SECURITY.md). An ``[auth]`` section that is
neither fails closed: no page is shown.

:func:`require_login` runs at the very top of ``app.py``, before the script run takes one of
the shared run slots (``ui/run_slots.py``): until the session is logged in, nothing below it runs,
so no page shows data, and the login form and the delay after a wrong password cost the other
sessions nothing. The server itself (``ui/hardening.py``) refuses uploads from sessions that are
not logged in (:func:`may_upload`), before reading the request body.

Logging out drops the session's upload, its cached results and its download files at once
(``ui.state.use_demo``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as _secrets
import sys
import threading
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

import streamlit as st

SCHEME = "pbkdf2_sha256"
#: OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
DEFAULT_ITERATIONS = 600_000
MIN_ITERATIONS = 1_000
SALT_BYTES = 16
_OK = "auth_ok"
_FAILS = "auth_failures"
_WANTED = "auth_wanted_view"  # (url path, query params) the user opened before logging in
_OIDC_KEYS = ("client_id", "server_metadata_url", "redirect_uri")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = DEFAULT_ITERATIONS) -> str:
    """Encode ``password`` as ``pbkdf2_sha256$iterations$salt$hash`` (salt and hash in base64).

    Parameters
    ----------
    password : str
        The shared password (not empty).
    salt : bytes, optional
        Random per deployment when omitted (16 bytes from :mod:`secrets`).
    iterations : int
        PBKDF2 iterations, at least 1,000 (default 600,000).

    Examples
    --------
    >>> h = hash_password("correct horse", salt=b"0123456789abcdef", iterations=1000)
    >>> h.split("$")[:3]
    ['pbkdf2_sha256', '1000', 'MDEyMzQ1Njc4OWFiY2RlZg==']
    >>> verify_password("correct horse", h), verify_password("wrong", h)
    (True, False)
    """
    if not isinstance(password, str) or not password:
        raise ValueError("password must be a non-empty string")
    if not isinstance(iterations, int) or iterations < MIN_ITERATIONS:
        raise ValueError(f"iterations must be an integer >= {MIN_ITERATIONS}, got {iterations!r}")
    salt = _secrets.token_bytes(SALT_BYTES) if salt is None else salt
    if len(salt) < 8:
        raise ValueError("salt must be at least 8 bytes")
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def parse_hash(encoded: str) -> tuple[int, bytes, bytes]:
    """Split an encoded hash into (iterations, salt, digest); ValueError when malformed.

    Examples
    --------
    >>> parse_hash("pbkdf2_sha256$1000$AAAAAAAAAAA=$AAAA")[0]
    1000
    """
    parts = str(encoded).split("$")
    if len(parts) != 4 or parts[0] != SCHEME:
        raise ValueError(f"password_hash must look like '{SCHEME}$iterations$salt$hash'")
    try:
        iterations = int(parts[1])
        salt = base64.b64decode(parts[2], validate=True)
        digest = base64.b64decode(parts[3], validate=True)
    except ValueError as exc:
        raise ValueError("password_hash has a malformed iteration count, salt or hash") from exc
    if iterations < MIN_ITERATIONS or not salt or not digest:
        raise ValueError("password_hash has too few iterations or an empty salt or hash")
    return iterations, salt, digest


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches ``encoded`` (constant-time comparison of the digests).

    Examples
    --------
    >>> verify_password("x", hash_password("x", iterations=1000))
    True
    """
    iterations, salt, digest = parse_hash(encoded)
    candidate = hashlib.pbkdf2_hmac("sha256", str(password).encode("utf-8"), salt, iterations, dklen=len(digest))
    return hmac.compare_digest(candidate, digest)


def _auth_section() -> Mapping | None:
    try:
        if not st.secrets.load_if_toml_exists():
            return None
        section = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - unreadable secrets: treated as "no section" only when none was found
        return None
    return section if isinstance(section, Mapping) else None


def mode() -> str:
    """Which access control is configured: ``"off"``, ``"password"``, ``"oidc"`` or ``"invalid"``."""
    section = _auth_section()
    if section is None:
        return "off"
    if "password_hash" in section:
        try:
            parse_hash(section["password_hash"])
        except ValueError:
            return "invalid"
        return "password"
    if all(k in section for k in _OIDC_KEYS):
        return "oidc"
    return "invalid"


def is_enabled() -> bool:
    """True when access control is on (any ``[auth]`` section in the secrets)."""
    return mode() != "off"


def is_logged_in() -> bool:
    """True when this session has logged in with the shared password."""
    return bool(st.session_state.get(_OK))


# Sessions logged in, by Streamlit session id: read by the server (ui/hardening.py) from its own
# thread, to refuse uploads before log-in without touching any session's state.
_SESSIONS: set[str] = set()
_SESSIONS_LOCK = threading.Lock()


def _this_session() -> str | None:
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def _note_login(logged_in: bool) -> None:
    """Record this session as logged in or not (and forget sessions Streamlit has ended)."""
    sid = _this_session()
    if sid is None:
        return
    from streamlit import runtime

    with _SESSIONS_LOCK:
        if logged_in:
            _SESSIONS.add(sid)
        else:
            _SESSIONS.discard(sid)
        if runtime.exists():
            rt = runtime.get_instance()
            _SESSIONS.intersection_update({s for s in _SESSIONS if rt.is_active_session(s)})


def may_upload(session_id: str) -> bool:
    """Whether the server accepts an upload for ``session_id``: always with access control off, else
    only from a session that has logged in (safe to call from any thread).

    Examples
    --------
    >>> may_upload("no-such-session") == (mode() == "off")
    True
    """
    if mode() == "off":
        return True
    with _SESSIONS_LOCK:
        return session_id in _SESSIONS


def logout() -> None:
    """End this session's login and drop its upload, cached results and download files (also the idle timeout),
    and the primary analyses declared in it (the next login is a new session)."""
    from ui import primary, state

    st.session_state.pop(_OK, None)
    _note_login(False)
    state.use_demo()
    primary.forget()


def _password_gate(encoded: str) -> None:
    if st.session_state.get(_OK):
        _note_login(True)
        with st.sidebar:
            if st.button("Log out", key="auth_logout", icon=":material/logout:"):
                logout()
                st.rerun()
        return
    _remember_wanted_view()
    st.title("PDAC liver-metastasis outcomes explorer")
    st.caption("This deployment holds study data: log in with the shared password.")
    with st.form("login", clear_on_submit=True):
        password = st.text_input("Password", type="password", key="auth_password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        fails = st.session_state.get(_FAILS, 0)
        if fails:
            time.sleep(min(0.5 * 2 ** (fails - 1), 8.0))  # slows guessing within a session
        if password and verify_password(password, encoded):
            st.session_state[_OK] = True
            st.session_state.pop(_FAILS, None)
            _note_login(True)
            st.rerun()
        st.session_state[_FAILS] = fails + 1
        st.error("Wrong password.")
    st.stop()


def _remember_wanted_view() -> None:
    """Keep the page and query string of the link the user opened, to show them after login."""
    if _WANTED in st.session_state:
        return
    path = urlsplit(str(st.context.url or "")).path.rstrip("/").rsplit("/", 1)[-1]
    st.session_state[_WANTED] = (path, st.query_params.to_dict())


def resume_wanted_view(pages: Mapping[str, list]) -> None:
    """After login, go to the page and view of the link the user opened (a shared deep link).

    Call once the navigation is defined. Does nothing unless a login just happened.

    Parameters
    ----------
    pages : mapping of section to list of st.Page
        The app's pages, as passed to ``st.navigation``.
    """
    if not st.session_state.get(_OK) or _WANTED not in st.session_state:
        return
    path, query = st.session_state.pop(_WANTED)
    target = next((p for section in pages.values() for p in section if path and p.url_path == path), None)
    if target is not None:
        st.switch_page(target, query_params=query)
    elif query and not st.query_params:
        st.query_params.from_dict(query)


def _oidc_logout() -> None:
    logout()
    st.logout()


def _oidc_gate() -> None:
    if st.user.is_logged_in:
        _note_login(True)
        with st.sidebar:
            st.button("Log out", key="auth_logout", icon=":material/logout:", on_click=_oidc_logout)
        return
    _note_login(False)
    st.title("PDAC liver-metastasis outcomes explorer")
    st.caption("This deployment holds study data: log in with your institution's account.")
    st.button("Log in", key="auth_oidc_login", on_click=st.login)
    st.stop()


def require_login() -> None:
    """Stop the script run (showing only a login form) until this session is logged in.

    Does nothing when access control is off (no ``[auth]`` section in the secrets).
    """
    current = mode()
    if current == "off":
        return
    if current == "invalid":
        st.error("Access control is misconfigured (see SECURITY.md): the [auth] section of the secrets "
                 "needs a valid password_hash or an OpenID Connect provider.")
        st.stop()
    if current == "oidc":
        _oidc_gate()
        return
    _password_gate(str(_auth_section()["password_hash"]))


def _cli(argv: list[str]) -> int:
    import getpass

    if argv[:1] != ["hash"]:
        print("usage: python -m ui.auth hash   (prints the [auth] password_hash line for secrets.toml)",
              file=sys.stderr)
        return 2
    password = getpass.getpass("Shared password: ")
    if password != getpass.getpass("Again: "):
        print("The passwords differ.", file=sys.stderr)
        return 1
    if len(password) < 12:
        print("Use at least 12 characters.", file=sys.stderr)
        return 1
    print("[auth]")
    print(f'password_hash = "{hash_password(password)}"')
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_cli(sys.argv[1:]))
