"""The event core: ordering, tie-breaks, priorities, cancellation and run windows."""

from __future__ import annotations

import math

import pytest

from openswap.sim.core import LATE, NORMAL, URGENT, EventLoop


def test_events_fire_by_time_then_priority_then_insertion() -> None:
    loop = EventLoop()
    fired: list[str] = []
    loop.schedule_at(5.0, fired.append, "t5-normal-first")
    loop.schedule_at(5.0, fired.append, "t5-late", priority=LATE)
    loop.schedule_at(5.0, fired.append, "t5-normal-second")
    loop.schedule_at(5.0, fired.append, "t5-urgent", priority=URGENT)
    loop.schedule_at(1.0, fired.append, "t1", priority=LATE)
    loop.run()
    assert fired == ["t1", "t5-urgent", "t5-normal-first", "t5-normal-second", "t5-late"]
    assert loop.now == 5.0
    assert loop.fired == 5


def test_callbacks_see_their_own_time_and_can_schedule_more() -> None:
    loop = EventLoop()
    seen: list[float] = []

    def tick(left: int) -> None:
        seen.append(loop.now)
        if left:
            loop.schedule_after(2.5, tick, left - 1)

    loop.schedule_at(0.0, tick, 3)
    loop.run()
    assert seen == [0.0, 2.5, 5.0, 7.5]


def test_an_event_scheduled_for_now_runs_after_those_already_due() -> None:
    loop = EventLoop()
    fired: list[str] = []

    def first() -> None:
        fired.append("first")
        loop.schedule_after(0.0, fired.append, "spawned", priority=NORMAL)

    loop.schedule_at(1.0, first)
    loop.schedule_at(1.0, fired.append, "second")
    loop.run()
    assert fired == ["first", "second", "spawned"]


def test_cancelled_events_never_fire() -> None:
    loop = EventLoop()
    fired: list[int] = []
    handles = [loop.schedule_at(float(k), fired.append, k) for k in range(5)]
    loop.cancel(handles[1])
    loop.cancel(handles[3])
    assert loop.pending == 3
    loop.run()
    assert fired == [0, 2, 4]
    assert loop.pending == 0


def test_run_until_is_a_half_open_window() -> None:
    loop = EventLoop()
    fired: list[float] = []
    for t in (0.0, 10.0, 20.0):
        loop.schedule_at(t, fired.append, t)
    loop.run(10.0)
    assert fired == [0.0]
    assert loop.now == 10.0
    loop.run(20.0)
    assert fired == [0.0, 10.0]
    loop.run()
    assert fired == [0.0, 10.0, 20.0]
    assert loop.peek() == math.inf


def test_the_past_cannot_be_scheduled() -> None:
    loop = EventLoop(start_s=100.0)
    with pytest.raises(ValueError, match="already at 100"):
        loop.schedule_at(99.0, print)
    with pytest.raises(ValueError, match="non-negative"):
        loop.schedule_after(-1.0, print)
    with pytest.raises(ValueError, match="nan"):
        loop.schedule_at(math.nan, print)
