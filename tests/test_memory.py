"""ui.memory: a session's uploaded cohort is really freed when the session drops it, and freed memory is
handed back to the operating system (malloc_trim, Arrow's pool) by the background thread.

Issue 6 (memory back within 20% of the warm baseline after upload sessions close) is measured by
``scripts/loadtest.py``; these tests guard the two mechanisms behind it without measuring RSS.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
import types
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.cohort import Cohort
from tests.waits import APP_RUN_S, THREAD_S
from ui import idle, memory

ROOT = Path(__file__).resolve().parent.parent


# --- the release itself ---------------------------------------------------------------------------

def test_release_trims_the_c_heap_and_empties_arrows_pool(monkeypatch):
    trims, pools = [], []
    monkeypatch.setattr(memory, "_MALLOC_TRIM", lambda pad: trims.append(pad) or 1)
    pool = types.SimpleNamespace(release_unused=lambda: pools.append("released"))
    monkeypatch.setitem(sys.modules, "pyarrow", types.SimpleNamespace(default_memory_pool=lambda: pool))
    before = memory.stats()["releases"]
    out = memory.release_freed_memory()
    assert trims == [0], "malloc_trim(0): release every free page, keep no padding"
    assert pools == ["released"]
    assert out.malloc_trimmed and out.arrow_released
    assert memory.stats()["releases"] == before + 1


def test_release_is_a_no_op_without_glibc_or_pyarrow(monkeypatch):
    monkeypatch.setattr(memory, "_MALLOC_TRIM", None)
    monkeypatch.delitem(sys.modules, "pyarrow", raising=False)
    out = memory.release_freed_memory()
    assert not out.malloc_trimmed and not out.arrow_released
    assert "pyarrow" not in sys.modules, "pyarrow is never imported just to release its pool"


def test_release_on_linux_really_calls_glibc():
    if not sys.platform.startswith("linux"):
        return
    assert memory._MALLOC_TRIM is not None, "glibc's malloc_trim was not found: freed memory would stay resident"
    assert isinstance(memory.release_freed_memory(collect=True).malloc_trimmed, bool)


def test_a_collected_object_requests_a_release_and_the_thread_does_it(monkeypatch):
    done = threading.Event()
    monkeypatch.setattr(memory, "_MALLOC_TRIM", lambda pad: done.set() or 1)

    class Data:
        pass

    data = Data()
    memory.release_when_collected(data)
    requests = memory.stats()["requests"]
    memory._pending[0] = False
    del data
    assert memory.stats()["requests"] == requests + 1
    assert memory._pending[0]
    memory.note_activity()  # the server is busy: only the requested trim may happen, no full collection
    collections = []
    monkeypatch.setattr(memory.gc, "collect", lambda *a: collections.append(1) or 0)
    # a private thread running the same loop (the process-wide one may already run)
    stop = threading.Event()
    threading.Thread(target=memory._loop, args=(3600.0, 0.0, stop), daemon=True).start()
    try:
        assert done.wait(timeout=THREAD_S), "the release thread did not trim after the request"
    finally:
        stop.set()
    assert not collections, "no full garbage collection while sessions are running"


def test_a_quiet_server_trims_once_without_a_full_collection(monkeypatch):
    # Only trims by the loop under test count: an app thread started by an earlier AppTest in this
    # process also calls the (patched) trim when its own quiet period ends.
    gc.collect()  # finalizers of cohorts from earlier tests request releases now, not during the test
    trims, collections = [], []
    monkeypatch.setattr(memory, "_MALLOC_TRIM", lambda pad: trims.append(threading.current_thread()) or 1)
    monkeypatch.setattr(memory.gc, "collect", lambda *a: collections.append(1) or 0)
    memory._pending[0] = False
    memory.note_activity()
    stop = threading.Event()
    loop = threading.Thread(target=memory._loop, args=(0.3, 0.0, stop), daemon=True)
    loop.start()
    try:
        deadline = time.monotonic() + THREAD_S
        while loop not in trims and time.monotonic() < deadline:
            time.sleep(0.05)
        assert loop in trims, "no trim after the server went quiet"
        time.sleep(1.5)  # several more checks of the loop: the same quiet period is not released again
        assert trims.count(loop) == 1
        assert not collections, "the background thread never runs a full garbage collection"
    finally:
        stop.set()


def test_start_can_be_switched_off(monkeypatch):
    monkeypatch.setenv(memory.ENV_VAR, "0")
    assert memory.start() is False


def test_start_validates_and_starts_once(monkeypatch):
    monkeypatch.delenv(memory.ENV_VAR, raising=False)
    for bad in (0, -1, float("nan")):
        try:
            memory.start(quiet_s=bad)
        except ValueError as exc:
            assert "quiet_s" in str(exc)
        else:
            raise AssertionError(f"quiet_s={bad} accepted")
    memory.start()
    assert memory.start() is False, "a second start() does not start a second thread"
    assert sum(t.name == "pdac-memory-release" for t in threading.enumerate()) == 1


# --- a session's upload is really freed ---------------------------------------------------------------

def _small_cohort(n: int = 30) -> bytes:
    lines = (ROOT / "data" / "demo_cohort.csv").read_bytes().splitlines(keepends=True)
    return b"".join(lines[: n + 1])


def _alive(sha256: str) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Cohort) and o.sha256 == sha256)


def _uploaded_session() -> tuple[AppTest, str]:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_RUN_S).run()
    at.switch_page("views/data.py").run()
    at.file_uploader(key="upload").set_value(("small.csv", _small_cohort(), "text/csv")).run()
    at.switch_page("views/overview.py").run()  # the analysis of the upload is cached for the session
    assert not at.exception
    sha = at.session_state["active_cohort"].sha256
    assert _alive(sha) >= 1
    return at, sha


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_an_ended_session_leaves_no_cohort_behind_and_requests_a_release():
    at, sha = _uploaded_session()
    requests = memory.stats()["requests"]
    del at  # the session ends: its state, caches and widgets go with it
    assert _alive(sha) == 0, "the uploaded cohort is still referenced after its session ended"
    assert memory.stats()["requests"] > requests, "dropping the cohort did not request a memory release"


def test_an_idle_session_leaves_no_cohort_behind_and_requests_a_release(monkeypatch):
    monkeypatch.delenv(idle.ENV_VAR, raising=False)
    clock = FakeClock()
    monkeypatch.setattr(idle, "clock", clock)
    at, sha = _uploaded_session()
    requests = memory.stats()["requests"]
    clock.now += 31 * 60
    at.run()  # the idle timeout drops the upload while the session (and this AppTest) lives on
    assert "active_cohort" not in at.session_state
    assert _alive(sha) == 0, "the uploaded cohort is still referenced after the idle timeout dropped it"
    assert memory.stats()["requests"] > requests


def test_collect_after_run_collects_only_when_quiet_and_not_too_often(monkeypatch):
    calls = []
    monkeypatch.setattr(memory.gc, "collect", lambda *a: calls.append(a) or 0)
    monkeypatch.setattr(memory, "_last_collect", [float("-inf")])
    with memory.collect_after_run(lambda: False):
        pass
    assert calls == [], "sessions are waiting: no collection"
    with memory.collect_after_run(lambda: True, every_s=60):
        pass
    assert len(calls) == 1
    with memory.collect_after_run(lambda: True, every_s=60):
        pass
    assert len(calls) == 1, "at most one per interval"
    with pytest.raises(RuntimeError), memory.collect_after_run(lambda: True, every_s=0):
        raise RuntimeError("st.stop")
    assert len(calls) == 2, "also after a run that ended with st.stop/st.rerun"
