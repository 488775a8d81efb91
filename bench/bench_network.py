"""The network twin at two scales: the default Ningde–Xiamen day and a province-scale week.

(a) The built-in `ningde-xiamen` scenario, one replication of one day (target: under 2 s).
(b) A synthetic province (`generate_scenario`: 120,000 trucks on 40 corridors, 240 stations) for
    a week: simulated swaps per second of wall time (target: 100,000), peak memory (the process's
    maximum resident set size; tracemalloc would slow the run several times), and the wall time a
    Fujian-scale year would take at the same rate.

Reference, measured in the same run: the bare event core firing no-op callbacks (events per
second), so the network's events per second show how much of the core's speed the model keeps.
"""

from __future__ import annotations

import resource
import time
from dataclasses import replace

from openswap.catalog.generate import generate_scenario
from openswap.catalog.scenario import builtin_scenario
from openswap.domain.scenario import StationSite
from openswap.sim.core import EventLoop
from openswap.sim.network import NetworkTwin, RunResult
from openswap.sim.policies import ChargeAtOnce
from openswap.sim.station import StationConfig

PROVINCE_TRUCKS = 120_000
PROVINCE_DAYS = 7.0
DAYS_PER_YEAR = 365.0


def _at_once(site: StationSite, config: StationConfig) -> ChargeAtOnce:
    return ChargeAtOnce()


def _noop() -> None:
    return None


def bare_core_events_per_s(events: int = 500_000) -> float:
    """Events per second of the event core alone, every callback a no-op."""
    loop = EventLoop()
    for i in range(events):
        loop.schedule_at(float(i % 86_400), _noop)
    started = time.perf_counter()
    loop.run()
    return events / (time.perf_counter() - started)


def _swaps(result: RunResult) -> int:
    return sum(k.swaps for k in result.station_kpis)


def bench_default_day() -> None:
    scenario = replace(builtin_scenario("ningde-xiamen"), days=1.0, warmup_days=0.0)
    started = time.perf_counter()
    result = NetworkTwin(scenario, _at_once).run()
    wall = time.perf_counter() - started
    print(
        f"(a) ningde-xiamen, 1 day: {wall:.3f} s wall, {_swaps(result):,} swaps, "
        f"{result.events_fired:,} events  (target < 2 s: {'met' if wall < 2 else 'MISSED'})"
    )


def bench_province(trucks: int, days: float, core_rate: float) -> None:
    scenario = replace(
        generate_scenario(
            trucks=trucks, corridors=40, stations_per_corridor=4, seed=20261122, days=days
        ),
        warmup_days=0.0,
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    twin = NetworkTwin(scenario, _at_once)
    built = time.perf_counter()
    result = twin.run()
    done = time.perf_counter()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run_s = done - built
    swaps = _swaps(result)
    rate = swaps / run_s
    events_rate = result.events_fired / run_s
    year_s = run_s / days * DAYS_PER_YEAR * (PROVINCE_TRUCKS / trucks)
    waits = [w for k in result.station_kpis for w in k.queue_waits_s]
    stranded = sum(o.stranded for o in result.fleet_outcomes)
    print(
        f"(b) province: {trucks:,} trucks, {len(scenario.stations)} stations, {days:g} days: "
        f"build {built - started:.1f} s, run {run_s:.1f} s"
    )
    print(
        f"    {swaps:,} swaps -> {rate:,.0f} swaps/s (target 100,000: "
        f"{'met' if rate >= 100_000 else 'MISSED'}); {events_rate:,.0f} events/s = "
        f"{events_rate / core_rate:.0%} of the bare core's {core_rate:,.0f}"
    )
    print(
        f"    service: mean queue wait {sum(waits) / max(len(waits), 1) / 60:.1f} min, "
        f"{stranded:,} strandings (sites are sized to their expected swaps)"
    )
    print(
        f"    peak memory: process max RSS {rss_after / 1024:,.0f} MiB "
        f"(+{(rss_after - rss_before) / 1024:,.0f} MiB over the run); a Fujian-scale year "
        f"(120,000 trucks x 365 days) at this rate: {year_s / 60:,.0f} min"
    )


def run(quick: bool = False) -> None:
    print("openswap benchmarks: the network twin" + (" (quick)" if quick else ""))
    core_rate = bare_core_events_per_s(100_000 if quick else 500_000)
    bench_default_day()
    if quick:
        bench_province(PROVINCE_TRUCKS // 20, 1.0, core_rate)
    else:
        bench_province(PROVINCE_TRUCKS, PROVINCE_DAYS, core_rate)
