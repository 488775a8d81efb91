"""Test driver: Poisson truck arrivals into one station."""

from __future__ import annotations

import random

from openswap.sim.core import EventLoop
from openswap.sim.station import Departure, SwapStation


def drive_poisson(
    loop: EventLoop,
    station: SwapStation,
    rng: random.Random,
    rate_per_s: float,
    *,
    stop_s: float,
    n_packs: int = 1,
    soc_in: float = 0.2,
    models: int = 1,
) -> list[Departure]:
    """Schedule Poisson arrivals until `stop_s`; return the list departures are appended to."""
    departures: list[Departure] = []

    def arrival(truck_idx: int) -> None:
        station.arrive(loop.now, truck_idx, truck_idx % models, n_packs, soc_in, departures.append)
        t_next = loop.now + rng.expovariate(rate_per_s)
        if t_next < stop_s:
            loop.schedule_at(t_next, arrival, truck_idx + 1)

    loop.schedule_at(loop.now + rng.expovariate(rate_per_s), arrival, 0)
    return departures
