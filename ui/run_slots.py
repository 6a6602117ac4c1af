"""Admission control for script runs: at most a few sessions compute at once, served in arrival order.

Streamlit runs each session's script in its own thread, and Python runs one thread at a time (the
GIL). When 20 sessions change a filter together, 20 threads share the interpreter; the GIL hands
it out unevenly, so some updates finish in half a second and others in several seconds, and the
average is no better. Letting only :data:`DEFAULT_SLOTS` script runs proceed at a time, the others
waiting their turn in order, keeps the total work the same but makes the waiting fair: every
session's update takes about (sessions ahead of it) x (one run's time). A long run holds one slot;
the other slot keeps everyone else moving. A run that waits for a child process (an upload being
parsed, ``core.isolation``) steps aside (:meth:`FairSlots.step_aside`): its slot goes to the next
session meanwhile, and it queues again afterwards.

Only sessions that are logged in take a slot (``app.py`` checks the login first): the login form,
and the delay after a wrong password, never make anyone else wait.

The number of slots can be set with the environment variable ``PDAC_RUN_SLOTS`` (default 2, the
number of cores of the study's server; more slots do not add speed under the GIL).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_SLOTS = 2


def _slots_from_env() -> int:
    raw = os.environ.get("PDAC_RUN_SLOTS", "")
    try:
        value = int(raw)
    except ValueError:
        return DEFAULT_SLOTS
    return value if value >= 1 else DEFAULT_SLOTS


class FairSlots:
    """A counting semaphore that admits waiters strictly in arrival order (no barging).

    Parameters
    ----------
    slots : int
        How many holders at once (at least 1).

    Examples
    --------
    >>> gate = FairSlots(1)
    >>> with gate.slot():
    ...     gate.in_use
    1
    >>> gate.in_use
    0
    """

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.slots = slots
        self.in_use = 0
        self._lock = threading.Lock()
        self._queue: deque[threading.Event] = deque()
        self._holders: set[int] = set()  # threads holding a slot

    def acquire(self) -> None:
        """Wait for a free slot; earlier callers are served first."""
        with self._lock:
            if self.in_use < self.slots and not self._queue:
                self.in_use += 1
                self._holders.add(threading.get_ident())
                return
            turn = threading.Event()
            self._queue.append(turn)
        turn.wait()  # the releasing thread hands its slot over directly (in_use unchanged)
        with self._lock:
            self._holders.add(threading.get_ident())

    def release(self) -> None:
        """Free a slot, handing it to the longest waiter if there is one."""
        with self._lock:
            self._holders.discard(threading.get_ident())
            if self._queue:
                self._queue.popleft().set()
            else:
                self.in_use -= 1

    def holds(self) -> bool:
        """True when the calling thread holds a slot."""
        with self._lock:
            return threading.get_ident() in self._holders

    @contextmanager
    def step_aside(self) -> Iterator[None]:
        """Lend the calling thread's slot to the next waiter for the ``with`` block; queue again after it.

        For a run that waits on something outside the interpreter (a child process parsing an
        upload). Does nothing when the thread holds no slot (a bare script run, a test).
        """
        if not self.holds():
            yield
            return
        self.release()
        try:
            yield
        finally:
            self.acquire()

    @property
    def waiting(self) -> int:
        """Callers waiting for a slot."""
        return len(self._queue)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the duration of the ``with`` block (released on any exception, incl. st.stop)."""
        self.acquire()
        try:
            yield
        finally:
            self.release()


#: The process-wide gate used by ``app.py`` around each script run.
GATE = FairSlots(_slots_from_env())
