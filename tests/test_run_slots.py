"""Admission control of script runs: a fixed number at once, strictly in arrival order."""

from __future__ import annotations

import threading
import time

import pytest

from tests.waits import THREAD_S
from ui.run_slots import FairSlots


def _run_workers(gate: FairSlots, n: int) -> tuple[list[int], int, list[int]]:
    """Start ``n`` workers one after the other (each reaching the gate before the next starts);
    return the order in which they ran, the peak number inside, and the order inside before release."""
    started: list[int] = []
    peak = [0]
    lock = threading.Lock()
    release = threading.Event()

    def worker(i: int) -> None:
        with gate.slot():
            with lock:
                started.append(i)
                peak[0] = max(peak[0], gate.in_use)
            release.wait(THREAD_S)

    threads = []
    for i in range(n):
        t = threading.Thread(target=worker, args=(i,))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + THREAD_S
        while len(started) + gate.waiting < i + 1 and time.monotonic() < deadline:
            time.sleep(0.005)
    before_release = list(started)
    release.set()
    for t in threads:
        t.join(THREAD_S)
    return started, peak[0], before_release


def test_no_more_than_the_slots_run_at_once():
    gate = FairSlots(2)
    started, peak, before = _run_workers(gate, 8)
    assert before == [0, 1], "two inside, six waiting"
    assert sorted(started) == list(range(8)) and peak == 2
    assert gate.in_use == 0 and gate.waiting == 0


def test_waiters_are_served_in_arrival_order():
    # One slot: each waiter runs only after the previous one has left, so the order is observable.
    gate = FairSlots(1)
    started, peak, before = _run_workers(gate, 8)
    assert before == [0]
    assert started == list(range(8)) and peak == 1


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


def test_a_run_waiting_outside_the_interpreter_steps_aside_and_queues_again():
    gate = FairSlots(1)
    order: list[str] = []

    def other() -> None:
        with gate.slot():
            order.append("other")

    with gate.slot():
        t = threading.Thread(target=other)
        t.start()
        while gate.waiting < 1:
            time.sleep(0.005)
        with gate.step_aside():  # e.g. waiting for the upload parser: the waiter runs meanwhile
            t.join(5)
            order.append("parse done")
        assert gate.holds() and gate.in_use == 1
        order.append("back")
    assert order == ["other", "parse done", "back"]
    assert gate.in_use == 0 and not gate.holds()


def test_stepping_aside_without_a_slot_does_nothing():
    gate = FairSlots(1)
    with gate.step_aside():
        assert gate.in_use == 0
    assert gate.in_use == 0
