"""The event core: a binary heap of timed callbacks with deterministic tie-breaks.

Events are ordered by (time_s, priority, sequence): earlier time first, then lower priority
number, then insertion order (FIFO). Cancellation is lazy. No generators: a callback is a plain
function called with the arguments given when it was scheduled. Semantics: docs/design/simulator.md.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any, Final, TypeVarTuple

Ts = TypeVarTuple("Ts")

URGENT: Final = 0
"""Runs before anything else due at the same instant (state changes others must see)."""
NORMAL: Final = 1
"""The default for arrivals, completions and departures."""
LATE: Final = 2
"""Runs after everything else due at the same instant (decisions, probes, bookkeeping)."""

# One heap entry: (time_s, priority, sequence, callback, args). The sequence is unique, so tuple
# comparison never reaches the callback.
_Entry = tuple[float, int, int, Callable[..., object], tuple[Any, ...]]


class EventLoop:
    """A deterministic discrete-event loop over float seconds since scenario start.

    `schedule_at`/`schedule_after` return an integer handle for `cancel`. `run(until_s)` fires
    every event due strictly before `until_s` and then sets `now` to `until_s`, so consecutive
    runs over [0, a) and [a, b) fire each event exactly once.
    """

    __slots__ = ("_cancelled", "_heap", "_seq", "fired", "now")

    def __init__(self, start_s: float = 0.0) -> None:
        self.now: float = float(start_s)
        self.fired: int = 0  # events whose callback has run
        self._heap: list[_Entry] = []
        self._seq: int = 0
        self._cancelled: set[int] = set()

    def schedule_at(
        self,
        at_s: float,
        callback: Callable[[*Ts], object],
        *args: *Ts,
        priority: int = NORMAL,
    ) -> int:
        """Call `callback(*args)` at time `at_s` (seconds, not before `now`); return its handle."""
        if not at_s >= self.now:  # also refuses NaN
            raise ValueError(f"cannot schedule at {at_s!r} s: the clock is already at {self.now} s")
        seq = self._seq
        self._seq = seq + 1
        heapq.heappush(self._heap, (at_s, priority, seq, callback, args))
        return seq

    def schedule_after(
        self,
        delay_s: float,
        callback: Callable[[*Ts], object],
        *args: *Ts,
        priority: int = NORMAL,
    ) -> int:
        """Call `callback(*args)` after `delay_s` seconds (>= 0); return its handle."""
        if not delay_s >= 0.0:
            raise ValueError(f"delay must be a non-negative number of seconds, got {delay_s!r}")
        seq = self._seq
        self._seq = seq + 1
        heapq.heappush(self._heap, (self.now + delay_s, priority, seq, callback, args))
        return seq

    def cancel(self, handle: int) -> None:
        """Forget a pending event. Cancelling an event that already fired is not allowed."""
        self._cancelled.add(handle)

    def peek(self) -> float:
        """Time of the next pending (not cancelled) event, or infinity when none is left."""
        heap = self._heap
        cancelled = self._cancelled
        while heap and heap[0][2] in cancelled:
            cancelled.discard(heapq.heappop(heap)[2])
        return heap[0][0] if heap else math.inf

    @property
    def pending(self) -> int:
        """Number of events scheduled and neither fired nor cancelled."""
        return len(self._heap) - len(self._cancelled)

    def run(self, until_s: float = math.inf) -> None:
        """Fire events due before `until_s` in (time, priority, sequence) order.

        With a finite `until_s` the clock ends at `until_s`; with the default the loop runs until
        no event is left and the clock stays at the last event's time.
        """
        if not until_s >= self.now:
            raise ValueError(
                f"cannot run until {until_s!r} s: the clock is already at {self.now} s"
            )
        heap = self._heap
        cancelled = self._cancelled
        pop = heapq.heappop
        fired = 0
        try:
            while heap:
                if heap[0][0] >= until_s:
                    break
                at_s, _, seq, callback, args = pop(heap)
                if cancelled and seq in cancelled:
                    cancelled.remove(seq)
                    continue
                self.now = at_s
                fired += 1
                callback(*args)
        finally:
            self.fired += fired
        if until_s != math.inf:
            self.now = until_s
