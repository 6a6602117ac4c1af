"""Parse an uploaded cohort file in a child process with a time and memory limit.

A malformed Parquet or Excel file can make a parser crash (segmentation fault), loop or
allocate without bound. Parsing it in the server process would end every user's session, so
:func:`load_isolated` runs :func:`core.cohort.load` in a child process:

* started from a ``forkserver`` (never a plain ``fork`` of the multi-threaded server); the
  fork server pre-imports :mod:`core.cohort`, pandas, pyarrow and openpyxl once, so each
  child starts in a few milliseconds;
* with ``RLIMIT_AS`` set to the child's address space at start plus ``memory_mb`` (a
  ``MemoryError`` or an allocation failure ends the parse), ``RLIMIT_CORE`` 0 and a CPU-time
  backstop;
* killed when it has not answered after ``timeout_s`` seconds of wall-clock time, and always
  joined (no zombie processes).

Whatever happens, the caller gets a :class:`~core.cohort.Cohort` or a
:class:`~core.readers.CohortValidationError` with a readable problem.

Examples
--------
>>> from pathlib import Path
>>> data = (Path(__file__).parent.parent / "tests" / "corpus" / "valid_minimal.csv").read_bytes()
>>> load_isolated(data, "upload.csv").n_patients
6
>>> load_isolated(b"", "empty.csv")
Traceback (most recent call last):
...
core.readers.CohortValidationError: The cohort file has 1 problem: file: The file is empty.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import pickle
import resource
import signal
import sys
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection

from core.cohort import Cohort
from core.readers import CohortValidationError, Problem

__all__ = ["IsolatedRun", "load_isolated", "run_isolated", "warm_up"]

#: Modules imported once by the fork server (children inherit them already imported).
PRELOAD = ("core.cohort", "core.isolation", "pyarrow.parquet", "openpyxl")

_CTX = mp.get_context("forkserver")
_LOCK = threading.Lock()
_MAIN_LOCK = threading.Lock()
_PRELOADED = False


@dataclass(frozen=True)
class IsolatedRun:
    """What the child process did (for measurements and tests).

    Attributes
    ----------
    cohort : Cohort or None
        The loaded cohort (or what ``task`` returned), ``None`` when the file was refused.
    error : CohortValidationError or None
        The problems, ``None`` when the file loaded.
    wall_s : float
        Wall-clock seconds in the parent, from starting the child to having joined it.
    child_peak_extra_mb : float or None
        Peak resident memory of the child minus its resident memory when it started (MiB),
        read by the child from ``/proc/self/status`` (``VmHWM - VmRSS``); ``None`` when the
        child did not report (killed, crashed, or no ``/proc``).
    exitcode : int or None
        Exit code of the child (negative: killed by that signal).
    """

    cohort: Cohort | None
    error: CohortValidationError | None
    wall_s: float
    child_peak_extra_mb: float | None
    exitcode: int | None


def _fail(message: str) -> CohortValidationError:
    return CohortValidationError([Problem(None, None, None, message)])


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:  # pragma: no cover - no /proc (not Linux)
        return None
    return None  # pragma: no cover


def _child(conn: Connection, data: bytes, filename: str | None, memory_mb: int, cpu_s: int,
           task: Callable[..., object] | None = None) -> None:
    """Body of the child process: set limits, parse, send ``(kind, payload, peak_extra_mb)``."""
    import core.cohort as cohort_mod

    start_rss = _status_kb("VmRSS")
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        vm_kb = _status_kb("VmSize") or 0
        limit = vm_kb * 1024 + memory_mb * 1024 * 1024
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or limit < hard:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit if hard == resource.RLIM_INFINITY else hard))
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard == resource.RLIM_INFINITY or cpu_s < hard:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, hard))
    except (ValueError, OSError):  # pragma: no cover - limits not supported: the timeout still applies
        pass
    result: tuple[str, object]
    try:
        result = ("ok", (task or cohort_mod.load)(data, filename=filename))
    except CohortValidationError as exc:
        result = ("problems", exc.problems)
    except MemoryError:
        result = ("memory", None)
    except BaseException as exc:  # noqa: BLE001 - anything else is reported as a reader crash
        result = ("crash", type(exc).__name__)
    del data
    peak = _status_kb("VmHWM")
    extra = None if peak is None or start_rss is None else (peak - start_rss) / 1024
    try:
        payload = pickle.dumps((result[0], result[1], extra), protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        payload = pickle.dumps(("memory", None, extra))
    except Exception as exc:  # noqa: BLE001 - an unpicklable result is a crash of the reader
        payload = pickle.dumps(("crash", type(exc).__name__, extra))
    conn.send_bytes(payload)
    conn.close()


def warm_up() -> None:
    """Start the fork server now (it otherwise starts on the first upload, ~0.5 s once).

    Examples
    --------
    >>> warm_up()
    """
    global _PRELOADED
    with _LOCK:
        if not _PRELOADED:
            # The launcher script is never re-run in children (see _neutral_main): no need to preload it.
            _CTX.set_forkserver_preload(list(PRELOAD))
            _PRELOADED = True
    from multiprocessing import forkserver

    with _neutral_main():
        forkserver.ensure_running()


@contextlib.contextmanager
def _neutral_main():
    """Hide the running script from multiprocessing while a process is being prepared.

    Streamlit runs the app script as ``sys.modules["__main__"]`` (with ``__file__`` = app.py);
    multiprocessing would re-run that script in the fork server and in every child. A bare
    module without a file or spec makes it run nothing.
    """
    with _MAIN_LOCK:
        saved = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if saved is not None:
                sys.modules["__main__"] = saved


def run_isolated(data: bytes, filename: str | None, *, timeout_s: float = 10.0, memory_mb: int = 1024,
                 task: Callable[..., object] | None = None) -> IsolatedRun:
    """Run :func:`core.cohort.load` (or ``task``) in a limited child process and report what happened.

    Parameters
    ----------
    data : bytes
        The uploaded file.
    filename : str or None
        Its name (for the extension and messages).
    timeout_s : float
        Wall-clock seconds after which the child is killed.
    memory_mb : int
        Address space the child may add to what it has when it starts (MiB).
    task : callable, optional
        Run ``task(data, filename=filename)`` instead of :func:`core.cohort.load` (a module-level
        function or a ``functools.partial`` of one, so that it can be sent to the child); what it
        returns is in ``IsolatedRun.cohort`` and the :class:`CohortValidationError` it raises in ``error``.

    Returns
    -------
    IsolatedRun
        Exactly one of ``cohort`` and ``error`` is set.

    Raises
    ------
    ValueError
        If ``timeout_s`` or ``memory_mb`` is not positive, or ``data`` is not bytes.

    Examples
    --------
    >>> run = run_isolated(b"patient_id\\n1\\n", "x.csv")
    >>> run.cohort is None, run.error.problems[0].column, run.exitcode
    (True, 'centre_id', 0)
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"data must be bytes, not {type(data).__name__}")
    if not (isinstance(timeout_s, (int, float)) and timeout_s > 0):
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    if not (isinstance(memory_mb, int) and not isinstance(memory_mb, bool) and memory_mb > 0):
        raise ValueError(f"memory_mb must be a positive integer, got {memory_mb!r}")
    warm_up()
    t0 = time.perf_counter()
    receive, send = _CTX.Pipe(duplex=False)
    cpu_s = max(1, int(timeout_s) + 1)
    proc = _CTX.Process(target=_child, args=(send, bytes(data), filename, memory_mb, cpu_s, task), daemon=True,
                        name="cohort-parser")
    kind: str = "crash"
    payload: object = "the parser process could not be started"
    extra: float | None = None
    started = False
    try:
        with _neutral_main():
            proc.start()
        started = True
        send.close()
        if receive.poll(timeout_s):
            try:
                kind, payload, extra = pickle.loads(receive.recv_bytes())
            except (EOFError, OSError):  # the child died without answering
                kind, payload = "died", None
            except Exception as exc:  # noqa: BLE001 - a damaged answer is a crash
                kind, payload = "crash", type(exc).__name__
        else:
            kind, payload = "timeout", None
    except OSError as exc:
        kind, payload = "crash", f"the parser process could not be started: {exc.strerror or type(exc).__name__}"
    finally:
        receive.close()
        send.close()
        exitcode = None
        if started:
            if kind != "timeout":
                proc.join(2.0)  # it answered (or died): let it exit by itself
            if proc.is_alive():
                proc.kill()
            proc.join()  # always reap: no zombie
            exitcode = proc.exitcode
            proc.close()
    wall = time.perf_counter() - t0
    if kind == "ok":
        return IsolatedRun(payload, None, wall, extra, exitcode)  # type: ignore[arg-type]
    if kind == "problems":
        error = CohortValidationError(list(payload))  # type: ignore[call-overload]
    elif kind == "timeout" or (kind == "died" and exitcode == -signal.SIGXCPU):  # SIGXCPU: the CPU-time backstop
        error = _fail(f"The file could not be read within {timeout_s:g} seconds; it may be damaged or far too large.")
    elif kind == "memory" or (kind == "died" and exitcode == -signal.SIGKILL):  # SIGKILL: the kernel's OOM killer
        error = _fail("The file needs more memory than allowed to read; it may be damaged or a compressed bomb.")
    else:
        why = str(payload) if kind == "crash" else _exit_text(exitcode)
        error = _fail(f"The file reader crashed ({why}); the file may be damaged. Save it again as CSV and retry.")
    return IsolatedRun(None, error, wall, extra, exitcode)


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"stopped by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"stopped by signal {-code}"
    return f"exit code {code}"


def load_isolated(data: bytes, filename: str | None, *, timeout_s: float = 10.0, memory_mb: int = 1024) -> Cohort:
    """Load a cohort file like :func:`core.cohort.load`, but in a limited child process.

    Parameters
    ----------
    data : bytes
        The uploaded file.
    filename : str or None
        Its name.
    timeout_s : float
        Wall-clock limit in seconds (the child is killed after it).
    memory_mb : int
        Extra address space the parse may use (MiB).

    Returns
    -------
    Cohort

    Raises
    ------
    CohortValidationError
        For every file that does not give a valid cohort, including a parser that times out,
        runs out of memory or crashes. No other exception type for any file content.
    ValueError
        For invalid ``timeout_s``/``memory_mb`` (a programming error).

    Examples
    --------
    >>> load_isolated(b"\\x89PNG\\r\\n", "x.png").source_name  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    core.readers.CohortValidationError: The cohort file has 1 problem: file: The file is a PNG image...
    """
    run = run_isolated(data, filename, timeout_s=timeout_s, memory_mb=memory_mb)
    if run.error is not None:
        raise run.error
    assert run.cohort is not None
    return run.cohort

