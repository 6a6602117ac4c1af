"""Give memory freed by ended sessions back to the operating system.

When a browser session's upload is dropped (Streamlit expires the closed session, the idle
timeout clears it, the user goes back to the demo or uploads another file), every Python object
of it is freed, but glibc's ``malloc`` keeps the freed pages in its heaps (one per thread that
allocated them) instead of returning them to the operating system: measured after 10 upload
sessions had ended, 59 MB of the heaps were in use and 323 MB were free but still resident.
``malloc_trim(0)`` hands those free pages back; Arrow's memory pool (mimalloc or jemalloc)
keeps its own cache, released by ``release_unused()``.

A single background thread (started once per process by :func:`start`) does this

* shortly after a session's cohort has been garbage-collected (:func:`release_when_collected`
  arms a finalizer on it) or after the idle timeout dropped a session's data
  (:func:`request_release`): ``malloc_trim`` only, which releases the GIL and takes
  milliseconds to about 0.15 s;
* once the server has been quiet (no script run started by any session, see
  :func:`note_activity`) for ``quiet_s`` seconds (default 30), once per quiet period.

``PDAC_MEMORY_RELEASE=0`` in the environment switches the thread off.

Objects in reference cycles (an ended Streamlit session) are freed by Python's cyclic collector.
Streamlit would run a full collection after every script run (``runner.postScriptGC``), but that
holds the interpreter lock ~50 ms per run and, with 20 sessions, was half the server's time, so it
is off (``.streamlit/config.toml``). Instead :func:`collect_after_run` (around every script run in
``app.py``) runs a full collection at the end of a run only when no other session is waiting to
run and none has been done for :data:`COLLECT_EVERY_S` seconds: at low load this is Streamlit's
behaviour, under load it waits for the first quiet moment. It runs in Streamlit's script thread,
as Streamlit's own collection did. The background thread never runs a collection itself: a full
collection in a background thread finalizes ended ``AppSession`` objects outside Streamlit's own
threads, and two of three load tests that did so had one stalled browser session (2026-11-26;
cause not proven, not seen without it).

Releasing never changes any result. ``malloc_trim`` is a no-op where glibc's does not exist
(macOS, Windows, musl).
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Release", "collect_after_run", "note_activity", "release_freed_memory", "release_when_collected",
           "request_release", "start", "stats"]

#: Seconds to wait after a release request, so everything freed together is trimmed once.
DEBOUNCE_S = 2.0
#: Seconds without a script run after which a full collection and release is done.
QUIET_S = 30.0
#: Minimum seconds between two full collections by :func:`collect_after_run`.
COLLECT_EVERY_S = 10.0
#: Environment variable that switches the thread off when set to "0" (for comparisons).
ENV_VAR = "PDAC_MEMORY_RELEASE"


def _load_malloc_trim():
    try:
        libc = ctypes.CDLL("libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_MALLOC_TRIM = _load_malloc_trim()


@dataclass(frozen=True)
class Release:
    """What one call of :func:`release_freed_memory` did.

    Attributes
    ----------
    malloc_trimmed : bool
        glibc's ``malloc_trim`` ran and returned memory to the system.
    arrow_released : bool
        Arrow's memory pool was asked to release its unused memory.
    seconds : float
        Wall-clock time of the call.
    """

    malloc_trimmed: bool
    arrow_released: bool
    seconds: float


_stats_lock = threading.Lock()  # never taken by request_release (it may run inside a garbage collection)
_stats = {"releases": 0, "last_seconds": 0.0, "max_seconds": 0.0, "max_gc_seconds": 0.0}
_requests = [0]


def stats() -> dict[str, float]:
    """Counters of the releases done in this process (for tests and measurements).

    Examples
    --------
    >>> sorted(stats())
    ['last_seconds', 'max_gc_seconds', 'max_seconds', 'releases', 'requests']
    """
    with _stats_lock:
        out = dict(_stats)
    out["requests"] = _requests[0]
    return out


def release_freed_memory(*, collect: bool = False) -> Release:
    """Return freed heap memory to the operating system (glibc heaps and Arrow's pool).

    Parameters
    ----------
    collect : bool
        Run a full garbage collection first (frees objects kept only by reference cycles).

    Returns
    -------
    Release
        What was done.

    Examples
    --------
    >>> release_freed_memory().seconds >= 0
    True
    """
    t0 = time.perf_counter()
    if collect:
        gc.collect()
    gc_seconds = time.perf_counter() - t0
    arrow = False
    pa = sys.modules.get("pyarrow")  # never import pyarrow just for this
    if pa is not None:
        try:
            pa.default_memory_pool().release_unused()
            arrow = True
        except Exception:  # noqa: BLE001 - an older pyarrow without release_unused: nothing to release
            arrow = False
    trimmed = bool(_MALLOC_TRIM(0)) if _MALLOC_TRIM is not None else False
    seconds = time.perf_counter() - t0
    with _stats_lock:
        _stats["releases"] += 1
        _stats["last_seconds"] = seconds
        _stats["max_seconds"] = max(_stats["max_seconds"], seconds)
        _stats["max_gc_seconds"] = max(_stats["max_gc_seconds"], gc_seconds)
    return Release(malloc_trimmed=trimmed, arrow_released=arrow, seconds=seconds)


_pending = [False]  # set by request_release, polled by the thread: no lock, so safe inside a finalizer
_start_lock = threading.Lock()
_thread: threading.Thread | None = None


def request_release() -> None:
    """Ask the background thread to release freed memory soon (cheap; safe from any thread).

    It takes no lock, so it is safe in a finalizer, which Python may run inside a garbage
    collection triggered while the same thread holds a lock.

    Examples
    --------
    >>> request_release()
    """
    _requests[0] += 1
    _pending[0] = True


def release_when_collected(obj: object) -> None:
    """Request a release once ``obj`` (e.g. a session's uploaded cohort) has been garbage-collected.

    Parameters
    ----------
    obj : object
        Any object that supports weak references.

    Examples
    --------
    >>> class Data:
    ...     pass
    >>> before = stats()["requests"]
    >>> d = Data()
    >>> release_when_collected(d)
    >>> del d
    >>> stats()["requests"] == before + 1
    True
    """
    weakref.finalize(obj, request_release)


_last_activity = time.monotonic()


def note_activity() -> None:
    """Record that a script run started (called at the top of ``app.py``; cheap).

    Examples
    --------
    >>> note_activity()
    """
    global _last_activity
    _last_activity = time.monotonic()


def _loop(quiet_s: float, debounce_s: float, stop: threading.Event | None = None) -> None:
    released_for = None  # the activity time whose quiet period was already released
    check_s = min(0.5, quiet_s)
    module = sys.modules.get(__name__)
    while stop is None or not stop.is_set():
        if sys.modules.get(__name__) is not module:
            return  # this module was reloaded (Streamlit's file watcher in development): the new copy takes over
        time.sleep(check_s)
        try:
            if _pending[0]:
                time.sleep(debounce_s)  # a session's objects are freed in a burst: trim once after it
                _pending[0] = False
                release_freed_memory(collect=False)
            last = _last_activity
            if last != released_for and time.monotonic() - last >= quiet_s:
                released_for = last
                release_freed_memory(collect=False)
        except Exception:  # noqa: BLE001 - never let housekeeping end the thread
            pass


def start(*, quiet_s: float = QUIET_S, debounce_s: float = DEBOUNCE_S) -> bool:
    """Start the background release thread once per process (later calls do nothing).

    Parameters
    ----------
    quiet_s : float
        Seconds without a script run before a full collection and release (positive).
    debounce_s : float
        Seconds to wait after a request before releasing (non-negative).

    Returns
    -------
    bool
        True when this call started the thread (False when it runs already or ``PDAC_MEMORY_RELEASE=0``).

    Examples
    --------
    >>> start(quiet_s=0)
    Traceback (most recent call last):
    ...
    ValueError: quiet_s must be a positive number of seconds, got 0
    """
    if not quiet_s > 0:
        raise ValueError(f"quiet_s must be a positive number of seconds, got {quiet_s!r}")
    if not debounce_s >= 0:
        raise ValueError(f"debounce_s must be a non-negative number of seconds, got {debounce_s!r}")
    if os.environ.get(ENV_VAR) == "0":
        return False
    global _thread
    with _start_lock:
        if _thread is not None and _thread.is_alive():
            return False
        _thread = threading.Thread(target=_loop, args=(quiet_s, debounce_s), name="pdac-memory-release",
                                   daemon=True)
        _thread.start()
        return True


_last_collect = [float("-inf")]


@contextmanager
def collect_after_run(quiet: Callable[[], bool], *, every_s: float = COLLECT_EVERY_S) -> Iterator[None]:
    """Around a script run: afterwards, a full garbage collection if the server is quiet (see the module doc).

    Parameters
    ----------
    quiet : callable
        Returns True when no other session is waiting to run (checked after the run).
    every_s : float
        At most one collection per this many seconds.

    Examples
    --------
    >>> with collect_after_run(lambda: False):
    ...     pass
    """
    try:
        yield
    finally:
        now = time.monotonic()
        if now - _last_collect[0] >= every_s and quiet():
            _last_collect[0] = now
            gc.collect()
            request_release()
