"""Admission control of script runs: a fixed number at once, strictly in arrival order."""

from __future__ import annotations

import threading
import time

import pytest

from ui.run_slots import FairSlots


def test_no_more_than_the_slots_run_at_once_and_waiters_go_in_arrival_order():
    gate = FairSlots(2)
    started: list[int] = []
    peak = [0]
    lock = threading.Lock()
    release = threading.Event()

    def worker(i: int) -> None:
        with gate.slot():
            with lock:
                started.append(i)
                peak[0] = max(peak[0], gate.in_use)
            release.wait(5)

    threads = []
    for i in range(8):
        t = threading.Thread(target=worker, args=(i,))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 5  # let each thread reach the gate before the next arrives
        while len(started) + gate.waiting < i + 1 and time.monotonic() < deadline:
            time.sleep(0.005)
    assert started == [0, 1] and gate.waiting == 6
    release.set()
    for t in threads:
        t.join(5)
    assert started == list(range(8)), "served in arrival order"
    assert peak[0] == 2 and gate.in_use == 0 and gate.waiting == 0


def test_a_slot_is_returned_when_the_run_raises():
    gate = FairSlots(1)
    with pytest.raises(RuntimeError), gate.slot():
        raise RuntimeError("st.stop() or st.rerun() raise through the gate like this")
    assert gate.in_use == 0
    with gate.slot():
        assert gate.in_use == 1


def test_slots_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        FairSlots(0)
