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

The limits grow with the file (:func:`limits_for`): a valid export up to the upload limit
(50 MB, about 230,000 patients) loads even on a busy server, where the parse gets only part of a
core. The processor-time limit bounds a parser that loops; the wall-clock limit is a multiple of
it, since a busy server stretches wall-clock time but not processor time. The allowances are
measured by ``scripts/measure_parse.py`` (docs/benchmarks.md, "Reading uploads").

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

__all__ = ["IsolatedRun", "ParseLimits", "limits_for", "load_isolated", "run_isolated", "warm_up"]

#: Modules imported once by the fork server (children inherit them already imported).
PRELOAD = ("core.cohort", "core.isolation", "pyarrow.parquet", "openpyxl")

MIB = 1024 * 1024
#: Processor seconds any parse may use, plus :data:`CPU_PER_MIB_S` per MiB of file.
CPU_BASE_S = 20.0
#: Processor seconds allowed per MiB of file: 3-4 x the measured need (0.45-0.6 s per MiB, docs/benchmarks.md).
CPU_PER_MIB_S = 2.0
#: Wall-clock limit = this x the processor-time limit: on a busy server a parse gets part of a core
#: (measured: up to 15 x its processor time with a load average of 15 on 2 cores).
WALL_FACTOR = 10.0
#: Address space (MiB) any parse may add, plus :data:`MEMORY_PER_MIB_MB` per MiB of file.
MEMORY_BASE_MB = 1024
#: Address space allowed per MiB of file: about 2 x the measured growth (24 MB per MiB, docs/benchmarks.md).
MEMORY_PER_MIB_MB = 48

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
    child_cpu_s : float or None
        Processor time (user + system) the child used, as it reported it; ``None`` when it did not.
    child_peak_vm_extra_mb : float or None
        Peak address space of the child minus its address space when it started (MiB,
        ``VmPeak - VmSize``): what the memory limit counts.
    limits : ParseLimits or None
        The limits the child ran under.
    """

    cohort: Cohort | None
    error: CohortValidationError | None
    wall_s: float
    child_peak_extra_mb: float | None
    exitcode: int | None
    child_cpu_s: float | None = None
    child_peak_vm_extra_mb: float | None = None
    limits: ParseLimits | None = None


@dataclass(frozen=True)
class ParseLimits:
    """The limits of one parse.

    Attributes
    ----------
    cpu_s : float
        Processor seconds (the child is stopped by ``SIGXCPU`` after them).
    wall_s : float
        Wall-clock seconds (the child is killed after them).
    memory_mb : int
        Address space the child may add to what it has when it starts (MiB).
    """

    cpu_s: float
    wall_s: float
    memory_mb: int


def limits_for(n_bytes: int) -> ParseLimits:
    """The limits of a parse of a file of ``n_bytes`` bytes (they grow with the file).

    Examples
    --------
    >>> limits_for(0)
    ParseLimits(cpu_s=20.0, wall_s=200.0, memory_mb=1024)
    >>> limits_for(50 * 1024 * 1024)
    ParseLimits(cpu_s=120.0, wall_s=1200.0, memory_mb=3424)
    """
    if isinstance(n_bytes, bool) or not isinstance(n_bytes, int) or n_bytes < 0:
        raise ValueError(f"n_bytes must be a non-negative integer, got {n_bytes!r}")
    mib = n_bytes / MIB
    cpu = CPU_BASE_S + CPU_PER_MIB_S * mib
    return ParseLimits(cpu_s=round(cpu, 1), wall_s=round(WALL_FACTOR * cpu, 1),
                       memory_mb=int(MEMORY_BASE_MB + MEMORY_PER_MIB_MB * mib))


def _size_text(n_bytes: int) -> str:
    return f"{n_bytes / MIB:.1f} MB" if n_bytes >= MIB / 10 else f"{max(1, round(n_bytes / 1024))} KB"


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
    """Body of the child process: set limits, parse, send ``(kind, payload, peak_extra_mb, cpu_s, vm_extra_mb)``."""
    import core.cohort as cohort_mod

    start_rss = _status_kb("VmRSS")
    start_vm = _status_kb("VmSize")
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
    peak, peak_vm = _status_kb("VmHWM"), _status_kb("VmPeak")
    extra = None if peak is None or start_rss is None else (peak - start_rss) / 1024
    extra_vm = None if peak_vm is None or start_vm is None else (peak_vm - start_vm) / 1024
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = (usage.ru_utime + usage.ru_stime, extra_vm)
    try:
        payload = pickle.dumps((result[0], result[1], extra, *used), protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        payload = pickle.dumps(("memory", None, extra, *used))
    except Exception as exc:  # noqa: BLE001 - an unpicklable result is a crash of the reader
        payload = pickle.dumps(("crash", type(exc).__name__, extra, *used))
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


def run_isolated(data: bytes, filename: str | None, *, timeout_s: float | None = None,
                 memory_mb: int | None = None, task: Callable[..., object] | None = None) -> IsolatedRun:
    """Run :func:`core.cohort.load` (or ``task``) in a limited child process and report what happened.

    Parameters
    ----------
    data : bytes
        The uploaded file.
    filename : str or None
        Its name (for the extension and messages).
    timeout_s : float, optional
        Wall-clock seconds after which the child is killed (its processor time is then limited
        to about the same). Default: :func:`limits_for` the file's size.
    memory_mb : int, optional
        Address space the child may add to what it has when it starts (MiB). Default:
        :func:`limits_for` the file's size.
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
    if timeout_s is not None and not (isinstance(timeout_s, (int, float)) and timeout_s > 0):
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    if memory_mb is not None and not (isinstance(memory_mb, int) and not isinstance(memory_mb, bool)
                                      and memory_mb > 0):
        raise ValueError(f"memory_mb must be a positive integer, got {memory_mb!r}")
    scaled = limits_for(len(data))
    limits = ParseLimits(
        cpu_s=scaled.cpu_s if timeout_s is None else float(max(1, int(timeout_s) + 1)),
        wall_s=scaled.wall_s if timeout_s is None else float(timeout_s),
        memory_mb=scaled.memory_mb if memory_mb is None else memory_mb,
    )
    warm_up()
    t0 = time.perf_counter()
    receive, send = _CTX.Pipe(duplex=False)
    proc = _CTX.Process(target=_child, args=(send, bytes(data), filename, limits.memory_mb, int(limits.cpu_s), task),
                        daemon=True, name="cohort-parser")
    kind: str = "crash"
    payload: object = "the parser process could not be started"
    extra: float | None = None
    cpu: float | None = None
    extra_vm: float | None = None
    started = False
    try:
        with _neutral_main():
            proc.start()
        started = True
        send.close()
        if receive.poll(limits.wall_s):
            try:
                kind, payload, extra, cpu, extra_vm = pickle.loads(receive.recv_bytes())
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
        return IsolatedRun(payload, None, wall, extra, exitcode, cpu, extra_vm, limits)  # type: ignore[arg-type]
    size = _size_text(len(data))
    if kind == "problems":
        error = CohortValidationError(list(payload))  # type: ignore[call-overload]
    elif kind == "timeout":
        error = _fail(f"The file was not loaded: reading it took longer than the {limits.wall_s:g} seconds allowed "
                      f"for a file of {size} (the server may be busy). If it is a valid export, try again later; "
                      "CSV is the fastest format to read.")
    elif kind == "died" and exitcode == -signal.SIGXCPU:  # the processor-time backstop
        error = _fail(f"The file was not loaded: reading it needed more than the {limits.cpu_s:g} seconds of "
                      f"processor time allowed for a file of {size}, far more than a valid export of that size "
                      "needs. Save it again as CSV from the study database and retry.")
    elif kind == "memory" or (kind == "died" and exitcode == -signal.SIGKILL):  # SIGKILL: the kernel's OOM killer
        error = _fail("The file needs more memory than allowed to read; it may be damaged or a compressed bomb.")
    else:
        why = str(payload) if kind == "crash" else _exit_text(exitcode)
        error = _fail(f"The file reader crashed ({why}); the file may be damaged. Save it again as CSV and retry.")
    return IsolatedRun(None, error, wall, extra, exitcode, cpu, extra_vm, limits)


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"stopped by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"stopped by signal {-code}"
    return f"exit code {code}"


def load_isolated(data: bytes, filename: str | None, *, timeout_s: float | None = None,
                  memory_mb: int | None = None) -> Cohort:
    """Load a cohort file like :func:`core.cohort.load`, but in a limited child process.

    Parameters
    ----------
    data : bytes
        The uploaded file.
    filename : str or None
        Its name.
    timeout_s : float, optional
        Wall-clock limit in seconds (the child is killed after it); default :func:`limits_for` the size.
    memory_mb : int, optional
        Extra address space the parse may use (MiB); default :func:`limits_for` the size.

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

