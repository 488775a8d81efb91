"""Cross-check against queueing theory: Erlang C mean wait and Little's law.

With exponential robot cycles, no entry/exit overhead, Poisson arrivals and every pack counting
as charged (charged_soc = 0), one station with c bays is an M/M/c queue.
"""

from __future__ import annotations

import math
import random
import statistics

import pytest

from openswap.sim.core import EventLoop
from openswap.sim.policies import ChargeAtOnce
from openswap.sim.station import Exponential, Fixed, StationConfig, SwapStation
from tests.sim.arrivals import drive_poisson

MEAN_SERVICE_S = 300.0
T_99 = {9: 3.250, 11: 3.106}  # two-sided 99 % Student t quantiles by degrees of freedom


def erlang_c_wait_s(bays: int, arrival_rate_per_s: float, mean_service_s: float) -> float:
    """Mean wait in queue of M/M/c from the Erlang C formula."""
    a = arrival_rate_per_s * mean_service_s  # offered load, erlangs
    assert a < bays
    top = a**bays / math.factorial(bays) * bays / (bays - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(bays)) + top)
    return p_wait / (bays / mean_service_s - arrival_rate_per_s)


def test_erlang_c_matches_textbook_values() -> None:
    # M/M/1: Wq = rho / (mu - lambda); M/M/2 at rho = 0.8: Wq = rho^2 / (lambda (1 - rho^2)) * ...
    assert erlang_c_wait_s(1, 0.75 / 300.0, 300.0) == pytest.approx(900.0)
    lam = 1.6 / 300.0
    rho = 0.8
    assert erlang_c_wait_s(2, lam, 300.0) == pytest.approx(rho**2 / (1 - rho**2) * 300.0)


def mmc_station(bays: int, seed: int) -> tuple[EventLoop, SwapStation]:
    loop = EventLoop()
    config = StationConfig(
        bays=bays,
        swap_service=Exponential(MEAN_SERVICE_S),
        entry_exit=Fixed(0.0),
        charged_soc=0.0,
    )
    return loop, SwapStation(loop, config, ChargeAtOnce(), random.Random(seed))


def replicate_mean_wait(bays: int, utilisation: float, reps: int, customers: int) -> list[float]:
    rate = utilisation * bays / MEAN_SERVICE_S
    warmup = customers // 10
    means = []
    for rep in range(reps):
        loop, station = mmc_station(bays, seed=1000 * bays + rep)
        drive_poisson(loop, station, random.Random(7 + rep), rate, stop_s=customers / rate)
        loop.run()
        kpis = station.kpis()
        assert kpis.wasted_trips == {}
        waits = kpis.queue_waits_s[warmup:]
        means.append(sum(waits) / len(waits))
    return means


@pytest.mark.parametrize(
    ("bays", "utilisation", "reps", "customers"),
    [(1, 0.75, 10, 20_000), (2, 0.8, 12, 16_000)],
    ids=["M/M/1", "M/M/2"],
)
def test_mean_wait_matches_erlang_c(
    bays: int, utilisation: float, reps: int, customers: int
) -> None:
    means = replicate_mean_wait(bays, utilisation, reps, customers)
    expected = erlang_c_wait_s(bays, utilisation * bays / MEAN_SERVICE_S, MEAN_SERVICE_S)
    centre = statistics.fmean(means)
    half_width = T_99[reps - 1] * statistics.stdev(means) / math.sqrt(reps)
    assert half_width < 0.15 * expected, "too few replications to test anything"
    assert abs(centre - expected) <= half_width, (centre, half_width, expected)


def test_littles_law_holds_on_every_sample_path() -> None:
    """Drained runs: area under the queue length = total waiting; L = lambda W for the station."""
    loop, station = mmc_station(2, seed=3)
    rate = 1.5 / MEAN_SERVICE_S
    departures = drive_poisson(loop, station, random.Random(4), rate, stop_s=2e6)
    loop.run()
    k = station.kpis()
    assert len(departures) == k.arrivals == k.swaps > 5000
    assert k.queue_length_area_s == pytest.approx(sum(k.queue_waits_s), rel=1e-9)
    # L = lambda W over the whole horizon (the system is empty at both ends)
    mean_in_station = k.in_station_area_s / k.elapsed_s
    lam = k.arrivals / k.elapsed_s
    w = k.time_in_station_s / k.arrivals
    assert mean_in_station == pytest.approx(lam * w, rel=1e-9)
    # and W = Wq + mean service, as measured from the departures
    sojourn = [d.queue_wait_s for d in departures]
    assert statistics.fmean(sojourn) == pytest.approx(k.mean_queue_wait_s, rel=1e-12)
    assert w - k.mean_queue_wait_s == pytest.approx(MEAN_SERVICE_S, rel=0.05)
