"""Process-level protections: uploads stay in memory, the web server's security layer, no cache clearing.

* **Uploads never spool to disk.** Streamlit (>= 1.5x) serves uploads through Starlette, whose
  multipart parser spools any uploaded file larger than 1 MB to a temporary file on disk
  (``SpooledTemporaryFile(max_size=1 MB)``). :func:`keep_uploads_in_memory` raises the spool
  threshold above the upload size limit (``server.maxUploadSize``), so every accepted upload
  stays in memory.
* **The security layer** (:class:`SecurityMiddleware`), put in front of Streamlit by
  ``server.py`` (``streamlit run server.py``; ``scripts/serve.sh`` does this):

  - every response: ``Content-Security-Policy: frame-ancestors 'none'`` and
    ``X-Frame-Options: DENY`` (no other site can frame the app: no clickjacking),
    ``X-Content-Type-Options: nosniff``;
  - downloads (``/media/...``): ``Cache-Control: no-store``, so neither the browser nor a proxy
    keeps a copy of patient data;
  - ``/_stcore/metrics`` is not served (it tells anyone how many sessions and how much cached
    data the server holds);
  - an upload (``PUT /_stcore/upload_file/<session>/...``) from a session that has not logged in
    is refused with 403 before its body is read (``ui.auth.may_upload``).

  :func:`require_security_layer` makes the app refuse to show anything when access control is
  on but the server was started without the layer (``streamlit run app.py``).
* **Streamlit's clear-cache message is ignored** (:func:`ignore_clear_cache`). Any browser
  session can send it; Streamlit would then empty every process-wide cache, so every user's
  next update recomputes from scratch. The caches are keyed on the data's SHA-256 and the
  analysis spec, so clearing them never changes a result.
"""

from __future__ import annotations

MB = 1024 * 1024
_LAYER = {"on": False}
SECURITY_HEADERS = (
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
)


def upload_limit_bytes() -> int:
    """The server's upload size limit in bytes (``server.maxUploadSize``, in MB)."""
    from streamlit import config

    return int(config.get_option("server.maxUploadSize")) * MB


def keep_uploads_in_memory() -> int:
    """Make Starlette keep uploaded files in memory up to the upload size limit (idempotent).

    Returns
    -------
    int
        The spool threshold now in force, in bytes (the limit plus 1 MB of multipart framing).
    """
    from starlette.formparsers import MultiPartParser

    threshold = upload_limit_bytes() + MB
    if MultiPartParser.spool_max_size < threshold:
        MultiPartParser.spool_max_size = threshold
    return MultiPartParser.spool_max_size


def _segments(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def upload_session(path: str) -> str | None:
    """The session id of an upload request path (``.../_stcore/upload_file/<session>/<file>``), else None.

    Examples
    --------
    >>> upload_session("/_stcore/upload_file/abc/def"), upload_session("/base/_stcore/upload_file/abc/d")
    ('abc', 'abc')
    >>> upload_session("/media/x.csv") is None
    True
    """
    parts = _segments(path)
    for i in range(len(parts) - 2):
        if parts[i] == "_stcore" and parts[i + 1] == "upload_file":
            return parts[i + 2]
    return None


def is_metrics(path: str) -> bool:
    """True for Streamlit's metrics endpoint (with or without a base URL path).

    Examples
    --------
    >>> is_metrics("/_stcore/metrics"), is_metrics("/app/_stcore/metrics/"), is_metrics("/_stcore/health")
    (True, True, False)
    """
    return _segments(path)[-2:] == ["_stcore", "metrics"]


#: The default page's own name: Streamlit serves the default page at the base URL only and answers
#: its ``url_path`` with "Page not found", so a link such as ``/overview?reg=GEM`` is redirected.
DEFAULT_PAGE_PATH = "overview"


def default_page_redirect(path: str, query: str, base_url_path: str = "") -> str | None:
    """Where to send a request for the default page by name (None: not such a request).

    Examples
    --------
    >>> default_page_redirect("/overview", "reg=GEM")
    '/?reg=GEM'
    >>> default_page_redirect("/app/overview/", "", "app"), default_page_redirect("/survival", "")
    ('/app/', None)
    """
    base = _segments(base_url_path)
    if _segments(path) != [*base, DEFAULT_PAGE_PATH]:
        return None
    target = "/" + "".join(f"{b}/" for b in base)
    return target + (f"?{query}" if query else "")


def is_media(path: str) -> bool:
    """True for a media (download) URL.

    Examples
    --------
    >>> is_media("/media/0123.csv"), is_media("/base/media/0123.csv"), is_media("/survival")
    (True, True, False)
    """
    parts = _segments(path)
    return len(parts) >= 2 and parts[-2] == "media"


class SecurityMiddleware:
    """ASGI middleware in front of Streamlit (see the module docstring); ``server.py`` installs it.

    Parameters
    ----------
    app : ASGI application
        What it wraps (Streamlit's own middleware and routes).
    """

    def __init__(self, app) -> None:
        self.app = app
        _LAYER["on"] = True

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if is_metrics(path):
            await self._refuse(send, 404, b"Not found")
            return
        from streamlit import config

        target = default_page_redirect(path, scope.get("query_string", b"").decode("latin-1"),
                                       str(config.get_option("server.baseUrlPath") or ""))
        if target is not None:
            headers = [(b"location", target.encode("latin-1")), (b"content-length", b"0"), *SECURITY_HEADERS]
            await send({"type": "http.response.start", "status": 307, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        session = upload_session(path)
        if session is not None and scope.get("method") in ("PUT", "POST"):
            from ui import auth

            if not auth.may_upload(session):
                await self._refuse(send, 403, b"Log in first")  # before a byte of the body is read
                return
        media = is_media(path)

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in {name for name, _ in SECURITY_HEADERS}
                           and not (media and k.lower() == b"cache-control")]
                headers += list(SECURITY_HEADERS)
                if media:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _refuse(send, status: int, body: bytes) -> None:
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                   *SECURITY_HEADERS]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def security_layer_active() -> bool:
    """True once the server has installed :class:`SecurityMiddleware` (``streamlit run server.py``)."""
    return _LAYER["on"]


def require_security_layer() -> None:
    """With access control on, show only an error unless the server runs behind the security layer.

    Does nothing with access control off (the demo may run as ``streamlit run app.py``), and
    outside a server (``AppTest``).
    """
    import streamlit as st
    from streamlit import runtime

    from ui import auth

    if security_layer_active() or not runtime.exists() or auth.mode() == "off":
        return
    st.error("This server was started without its security layer, so it shows nothing while access control is on. "
             "Start it with scripts/serve.sh (streamlit run server.py); see SECURITY.md.")
    st.stop()


def ignore_clear_cache() -> None:
    """Make every session's clear-cache message do nothing but log a line (idempotent, process-wide)."""
    from streamlit.logger import get_logger
    from streamlit.runtime.app_session import AppSession

    if getattr(AppSession._handle_clear_cache_request, "pdac_ignored", False):
        return
    log = get_logger(__name__)

    def ignored(self) -> None:
        log.warning("clear-cache request ignored (session %s...): the caches hold no stale results and clearing "
                    "them would slow every user", str(getattr(self, "id", ""))[:8])

    ignored.pdac_ignored = True  # type: ignore[attr-defined]
    AppSession._handle_clear_cache_request = ignored
