"""A minimal Streamlit protocol client: one browser session without a browser.

It speaks the same websocket protocol as Streamlit's frontend (``/_stcore/stream``, protobuf
``BackMsg`` / ``ForwardMsg`` from ``streamlit.proto``) and the same upload endpoint
(``PUT /_stcore/upload_file/<session>/<file>`` with the XSRF cookie and header). It keeps the
elements of the last script run, so a caller can read the numbers on screen and change widgets.
Used by the load test (``scripts/loadtest.py``) so that the clients do not compete with the
server for the CPU the way one headless Chromium per session does, and by the isolation tests.

Example (against a running server)::

    async with StreamlitClient("http://127.0.0.1:8501") as s:
        await s.open("overview")
        print(s.metric("Hazard ratio"))
        box = s.widget("multiselect", "Liver metastases")
        await s.set_widget(box, string_array=["1"])
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackendOperationRequest, BackMsg
from streamlit.proto.Common_pb2 import FileURLsRequest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState


class ProtocolError(RuntimeError):
    """The server answered something the client did not expect."""


@dataclass
class RunResult:
    """One script run as the client saw it."""

    seconds: float
    status: int
    elements: dict[tuple[int, ...], object] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpAnswer:
    """One HTTP response as the client received it (any status, never raised)."""

    status: int
    headers: dict[str, str]
    body: bytes


class StreamlitClient:
    """One Streamlit session over a websocket (see the module docstring)."""

    def __init__(self, base_url: str, *, timeout: float = 300.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session_id = ""
        self.page_script_hash = ""
        self.query_string = ""
        self.elements: dict[tuple[int, ...], object] = {}
        self._widgets: dict[str, WidgetState] = {}
        self._ws = None
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._reader: asyncio.Task | None = None
        self._cookies = http.cookiejar.CookieJar()
        self._http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self._cookies))
        self.closed_with: str | None = None

    async def __aenter__(self) -> StreamlitClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- connection ---------------------------------------------------------------------------
    async def _connect(self) -> None:
        # The health endpoint sets the XSRF cookie the upload endpoint checks (the frontend calls it first too).
        await asyncio.to_thread(lambda: self._http.open(self.base_url + "/_stcore/health", timeout=30).read())
        ws_url = "ws" + self.base_url[4:] + "/_stcore/stream"
        self._ws = await websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None,
                                            open_timeout=60, ping_interval=None)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                await self._inbox.put(msg)
        except websockets.ConnectionClosed as exc:
            self.closed_with = f"connection closed: {exc}"
        finally:
            await self._inbox.put(None)

    async def close(self) -> None:
        """Close the websocket (the server then drops the session after its TTL)."""
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None

    async def _send(self, back: BackMsg) -> None:
        await self._ws.send(back.SerializeToString())

    async def _next(self, deadline: float) -> ForwardMsg:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer from the server in time")
        msg = await asyncio.wait_for(self._inbox.get(), timeout=left)
        if msg is None:
            raise ProtocolError(self.closed_with or "connection closed")
        return msg

    # -- script runs --------------------------------------------------------------------------
    def _handle(self, msg: ForwardMsg, run: RunResult) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.session_id = msg.new_session.initialize.session_id or self.session_id
            self.page_script_hash = msg.new_session.page_script_hash or self.page_script_hash
        elif kind == "navigation":
            self.page_script_hash = msg.navigation.page_script_hash or self.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta":
            delta = msg.delta
            if delta.WhichOneof("type") == "new_element":
                run.elements[tuple(msg.metadata.delta_path)] = delta.new_element
                self._adopt(delta.new_element)

    def _adopt(self, element) -> None:
        """Remember a value the server set on a widget (``set_value``), as the browser does.

        The frontend sends the current value of every widget with each rerun request; values
        the app set through ``st.session_state`` reach it this way and are sent back from then on.
        """
        kind = element.WhichOneof("type")
        w = getattr(element, kind, None)
        if w is None or not getattr(w, "set_value", False) or not getattr(w, "id", ""):
            return
        state = WidgetState(id=w.id)
        if kind in ("multiselect", "button_group"):
            state.string_array_value.data.extend(w.raw_values)
        elif kind == "slider":
            state.double_array_value.data.extend(w.value)
        elif kind in ("radio", "selectbox"):
            state.string_value = w.raw_value
        elif kind == "checkbox":
            state.bool_value = w.value
        elif kind == "number_input":
            state.double_value = w.value
        else:
            return
        self._widgets[w.id] = state

    async def rerun(self, widgets: list[WidgetState] | None = None, *, page_name: str = "") -> RunResult:
        """Ask for a script run (as the frontend does after a widget change) and wait for it to end.

        Returns the run's elements and the seconds from sending the request to ``script_finished``.
        Runs interrupted by a newer run (``FINISHED_EARLY_FOR_RERUN``) are waited through.
        """
        for w in widgets or ():
            self._widgets[w.id] = w
        back = BackMsg()
        state = back.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_script_hash
        state.page_name = page_name
        state.widget_states.widgets.extend(self._widgets.values())
        state.context_info.timezone = "UTC"
        state.context_info.locale = "en-GB"
        state.context_info.url = f"{self.base_url}/{page_name}"
        t0 = time.perf_counter()
        deadline = time.monotonic() + self.timeout
        await self._send(back)
        run = RunResult(0.0, -1)
        while True:
            msg = await self._next(deadline)
            self._handle(msg, run)
            if msg.WhichOneof("type") == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    run.elements.clear()
                    continue
                run.seconds = time.perf_counter() - t0
                run.status = msg.script_finished
                self.elements = run.elements
                for w in self._widgets.values():  # trigger values are for one run only
                    if w.WhichOneof("value") == "trigger_value":
                        w.trigger_value = False
                return run

    async def open(self, page: str = "", *, query_string: str = "") -> RunResult:
        """Connect and run ``page`` (its url path, e.g. ``"data"``; ``""`` is the default page)."""
        if self._ws is None:
            await self._connect()
        self.query_string = query_string
        self.page_script_hash = ""
        self._widgets.clear()
        return await self.rerun(page_name=page)

    # -- reading the screen -------------------------------------------------------------------
    def of_type(self, kind: str) -> list:
        """Elements of one type (``"metric"``, ``"markdown"``, ``"multiselect"``...) in page order."""
        return [getattr(e, kind) for _, e in sorted(self.elements.items()) if e.WhichOneof("type") == kind]

    def metric(self, label: str) -> str | None:
        """The value shown by the metric with this label, if there is one."""
        for m in self.of_type("metric"):
            if m.label == label:
                return m.body
        return None

    def text(self) -> str:
        """Markdown, captions, alerts and metric text of the last run, one item per line."""
        out = []
        for _, e in sorted(self.elements.items()):
            kind = e.WhichOneof("type")
            if kind in ("markdown", "alert", "heading"):
                out.append(getattr(e, kind).body)
            elif kind == "metric":
                out.append(f"{e.metric.label}: {e.metric.body}")
        return "\n".join(out)

    def exceptions(self) -> list[str]:
        """Exceptions shown in the last run (message only)."""
        return [f"{x.type}: {x.message}" for x in self.of_type("exception")]

    def widget(self, kind: str, label: str):
        """The widget element of this kind whose label is ``label``."""
        for w in self.of_type(kind):
            if w.label == label:
                return w
        raise ProtocolError(f"no {kind} labelled {label!r} on the page")

    async def set_widget(self, element, *, string_array: list[str] | None = None) -> RunResult:
        """Set a widget's value the way the frontend does and wait for the run it triggers."""
        state = WidgetState(id=element.id)
        if string_array is not None:
            state.string_array_value.data.extend(string_array)
        return await self.rerun([state])

    # -- uploads ------------------------------------------------------------------------------
    async def upload(self, element, name: str, data: bytes, *, content_type: str = "text/csv") -> RunResult:
        """Upload one file through ``st.file_uploader`` ``element`` and wait for the resulting run."""
        urls = await self.upload_urls(name)
        await asyncio.to_thread(self._put, urls.upload_url, name, data, content_type)
        state = WidgetState(id=element.id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(data), urls.file_id
        info.file_urls.CopyFrom(urls)
        return await self.rerun([state])

    def _put(self, url: str, name: str, data: bytes, content_type: str) -> None:
        token = next((c.value for c in self._cookies if c.name == "_streamlit_xsrf"), "")
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        target = url if url.startswith("http") else self.base_url + url
        req = urllib.request.Request(target, data=body, method="PUT", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": token})
        with self._http.open(req, timeout=120) as r:
            if r.status not in (200, 204):
                raise ProtocolError(f"upload failed: HTTP {r.status}")

    # -- buttons, forms and raw messages ------------------------------------------------------
    async def click(self, element, *, with_values: list[WidgetState] | None = None) -> RunResult:
        """Press a button (or a form's submit button, sending ``with_values`` for the form's widgets)."""
        state = WidgetState(id=element.id)
        state.trigger_value = True
        return await self.rerun([*(with_values or []), state])

    async def set_value(self, element, **value) -> RunResult:
        """Set one widget's value, e.g. ``bool_value=True`` or ``double_value=11``, and wait for the run."""
        state = WidgetState(id=element.id)
        for name, v in value.items():
            setattr(state, name, v)
        return await self.rerun([state])

    async def send(self, back: BackMsg) -> None:
        """Send any message (as a hostile or unusual client could)."""
        await self._send(back)

    # -- downloads ----------------------------------------------------------------------------
    def download_buttons(self) -> list:
        """The download buttons of the last run, in page order."""
        return self.of_type("download_button")

    def download_button(self, label: str, *, key: str | None = None):
        """The download button with this label (and widget key, when several share a label)."""
        for b in self.download_buttons():
            if b.label == label and (key is None or b.id.endswith(f"-{key}")):  # keyed ids end with "-<key>"
                return b
        raise ProtocolError(f"no download button labelled {label!r} (key {key!r}) on the page")

    async def file_url(self, button) -> str:
        """The media URL a click on ``button`` downloads: its URL, or the one its deferred callable returns."""
        if not button.HasField("deferred_file_id"):
            return button.url
        request_id = uuid.uuid4().hex
        back = BackMsg(backend_operation_request=BackendOperationRequest(request_id=request_id,
                                                                         session_id=self.session_id))
        back.backend_operation_request.deferred_file.file_id = button.deferred_file_id
        deadline = time.monotonic() + self.timeout
        await self._send(back)
        while True:
            msg = await self._next(deadline)
            if msg.WhichOneof("type") == "backend_operation_response" and \
                    msg.backend_operation_response.request_id == request_id:
                break
        resp = msg.backend_operation_response
        if resp.error_msg:
            raise ProtocolError(f"deferred download failed: {resp.error_msg}")
        return resp.deferred_file.url

    def get(self, url: str, *, cookies: bool = True) -> HttpAnswer:
        """GET ``url`` (relative to the server) with this session's cookies, or with none."""
        target = url if url.startswith("http") else self.base_url + url
        opener = self._http if cookies else urllib.request.build_opener()
        try:
            with opener.open(target, timeout=120) as r:
                return HttpAnswer(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
        except urllib.error.HTTPError as exc:
            return HttpAnswer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())

    async def download(self, button, *, cookies: bool = True) -> HttpAnswer:
        """Click ``button`` as the browser does and fetch the file."""
        url = await self.file_url(button)
        return await asyncio.to_thread(self.get, url, cookies=cookies)

    def put_file(self, url: str, name: str, data: bytes, content_type: str = "text/csv") -> HttpAnswer:
        """PUT one file to an upload URL as the browser does; any status is returned, never raised."""
        try:
            self._put(url, name, data, content_type)
            return HttpAnswer(204, {}, b"")
        except urllib.error.HTTPError as exc:
            return HttpAnswer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())

    async def upload_urls(self, name: str):
        """Ask for an upload URL for ``name`` (``FileURLs``), as the file uploader does before a PUT."""
        back = BackMsg(file_urls_request=FileURLsRequest(request_id=uuid.uuid4().hex, file_names=[name],
                                                         session_id=self.session_id))
        deadline = time.monotonic() + self.timeout
        await self._send(back)
        while True:
            msg = await self._next(deadline)
            if msg.WhichOneof("type") == "file_urls_response":
                break
        resp = msg.file_urls_response
        if resp.error_msg or not resp.file_urls:
            raise ProtocolError(f"upload refused: {resp.error_msg}")
        return resp.file_urls[0]
