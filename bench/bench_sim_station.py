"""One swap station, twice: idiomatic SimPy 4.1 and openswap's event core, same parameters.

Both models: Poisson arrivals of trucks needing 3 packs, one bay (FIFO), entry/exit overhead
uniform 2-5 min split around a triangular 3/5/7 min robot cycle, 18 packs on 18 slots of 180 kW
(grid side, 95 % efficient; the 3,500 kW grid cap does not bind, so charge-at-once charges every
pack at its charger limit), CC-CV taper from 80 % SoC, charged at 95 % SoC, 30 min patience.
Both book each pack's charging with the same closed forms (`soc_after`, `seconds_to_soc`) when it
leaves, record it as a charging piece, and spread the pieces over 15-minute intervals with the
same `GridMeter` inside the timed region (openswap's `kpis()` is timed too).

What each model does per swap:
- SimPy: the source's timeout; a truck process (Resource request and release, three Store gets
  under an AllOf, OR'ed with a patience timeout, a timeout for entry + robot cycle, a timeout for
  the exit); per pack a charger process (a timeout to charged, a Store put). About 25 SimPy
  events.
- openswap: three heap events (the caller's arrival, end of robot cycle, departure), plus one
  wake-up while a truck waits in the bay for packs; the charged time of the packs a truck docks is
  computed once per lot and kept in a sorted pending list, promoted to stock when a truck looks.

Prints simulated swaps per second of wall time for each, and the ratio. Run: python -m bench.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Any

import simpy

from openswap.sim.core import EventLoop
from openswap.sim.metering import GridMeter
from openswap.sim.policies import ChargeAtOnce
from openswap.sim.station import (
    Departure,
    StationConfig,
    SwapStation,
    seconds_to_soc,
    soc_after,
    taper_coefficients,
)

CONFIG = StationConfig()
PACKS_PER_TRUCK = 3
SOC_IN = 0.15
UTILISATION = 0.7
MEAN_BAY_S = 300.0 + 210.0  # robot cycle + entry/exit overhead, means
ARRIVAL_RATE_PER_S = UTILISATION / MEAN_BAY_S
DAYS = 150.0
SEED = 20240601


class _Pack:
    __slots__ = ("serial", "soc", "t_docked")

    def __init__(self, serial: int, soc: float, t_docked: float) -> None:
        self.serial = serial
        self.soc = soc
        self.t_docked = t_docked


def run_simpy(days: float, seed: int) -> dict[str, float]:
    """The station as SimPy processes: Resource bays, a Store of charged packs, chargers."""
    cfg = CONFIG
    env = simpy.Environment()
    rng = random.Random(seed)
    bays = simpy.Resource(env, capacity=cfg.bays)
    charged = simpy.Store(env)
    alpha, beta = taper_coefficients(cfg.taper_knee_soc, cfg.taper_end_fraction)
    end = cfg.taper_end_fraction
    limit = cfg.charger_power_kw
    eff = cfg.charger_efficiency
    cap = cfg.pack_capacity_kwh[0]
    theta = cfg.charged_soc
    svc = cfg.swap_service
    ovh = cfg.entry_exit
    draw_service = svc.build_sampler(rng)
    draw_overhead = ovh.build_sampler(rng)
    stats: dict[str, Any] = {"swaps": 0, "waits": [], "grid_kwh": 0.0, "wasted": 0}
    meter = GridMeter(cfg.metering_interval_s, alpha, beta, end)

    def book_energy(pack: Any) -> None:
        """Charging since docking, to the grid total and the metering record."""
        t0, s0 = pack.t_docked, pack.soc
        dt = min(env.now - t0, seconds_to_soc(s0, 1.0, limit, limit, eff, cap, alpha, beta))
        s1 = soc_after(s0, dt, limit, limit, eff, cap, alpha, beta, end)
        stats["grid_kwh"] += (s1 - s0) * cap / eff
        meter.pieces.extend((t0, t0 + dt, s0, s1, limit, limit, eff, cap, 1.0))
        pack.soc, pack.t_docked = s1, env.now

    def charger(pack: _Pack) -> Any:
        yield env.timeout(seconds_to_soc(pack.soc, theta, limit, limit, eff, cap, alpha, beta))
        yield charged.put(pack)

    def truck(serials: list[int]) -> Any:
        arrived = env.now
        with bays.request() as bay:
            yield bay
            seized = env.now
            stats["waits"].append(seized - arrived)
            overhead = draw_overhead()
            service = draw_service()
            gets = [charged.get() for _ in range(PACKS_PER_TRUCK)]
            packs_ready = env.all_of(gets)
            yield packs_ready | env.timeout(cfg.stock_patience_s)
            if not packs_ready.triggered:
                for get in gets:
                    if get.triggered:
                        charged.put(get.value)
                    else:
                        get.cancel()
                stats["wasted"] += 1
                return
            yield env.timeout(max(0.0, seized + 0.5 * overhead - env.now) + service)
            for get, serial in zip(gets, serials, strict=True):
                book_energy(get.value)
                env.process(charger(_Pack(serial, SOC_IN, env.now)))
            yield env.timeout(0.5 * overhead)
            stats["swaps"] += 1

    def source() -> Any:
        while True:
            yield env.timeout(rng.expovariate(ARRIVAL_RATE_PER_S))
            env.process(truck([-1] * PACKS_PER_TRUCK))

    for serial in range(cfg.packs_per_model[0]):
        charged.put(_Pack(serial, cfg.initial_soc, 0.0))
    env.process(source())
    start = time.perf_counter()
    env.run(until=days * 86_400.0)
    grid_kwh = meter.kwh_by_interval(math.ceil(days * 86_400.0 / cfg.metering_interval_s))
    wall = time.perf_counter() - start
    waits: list[float] = stats["waits"]
    return {
        "swaps": stats["swaps"],
        "wall_s": wall,
        "mean_wait_s": sum(waits) / len(waits),
        "wasted": stats["wasted"],
        "peak_kw": float(grid_kwh.max()) * 3600.0 / cfg.metering_interval_s,
    }


def run_openswap(days: float, seed: int) -> dict[str, float]:
    """The same station on openswap's event core with the charge-at-once policy."""
    loop = EventLoop()
    rng = random.Random(seed)
    station = SwapStation(loop, CONFIG, ChargeAtOnce(), rng)
    departed: Callable[[Departure], object] = _ignore
    arrive = station.arrive
    expovariate = rng.expovariate

    def source(truck_idx: int) -> None:
        arrive(loop.now, truck_idx, 0, PACKS_PER_TRUCK, SOC_IN, departed)
        loop.schedule_after(expovariate(ARRIVAL_RATE_PER_S), source, truck_idx + 1)

    loop.schedule_after(expovariate(ARRIVAL_RATE_PER_S), source, 0)
    start = time.perf_counter()
    loop.run(days * 86_400.0)
    kpis = station.kpis()
    wall = time.perf_counter() - start
    return {
        "swaps": kpis.swaps,
        "wall_s": wall,
        "mean_wait_s": kpis.mean_queue_wait_s,
        "wasted": sum(kpis.wasted_trips.values()),
        "peak_kw": kpis.peak_kw,
    }


def _ignore(departure: Departure) -> None:
    del departure


def main(days: float = DAYS, seed: int = SEED, repeats: int = 3) -> float:
    """Run both models `repeats` times, print the best rates and their ratio; return the ratio."""
    best: dict[str, dict[str, float]] = {}
    for _ in range(repeats):
        for name, run in (("simpy", run_simpy), ("openswap", run_openswap)):
            result = run(days, seed)
            result["rate"] = result["swaps"] / result["wall_s"]
            if name not in best or result["rate"] > best[name]["rate"]:
                best[name] = result
    print(f"sim station: one swap station, {days:g} simulated days, best of {repeats}")
    for name in ("simpy", "openswap"):
        r = best[name]
        print(
            f"  {name:9s} {r['rate']:>11,.0f} swaps/s  ({r['swaps']:,.0f} swaps, "
            f"mean queue wait {r['mean_wait_s']:.0f} s, {r['wasted']:.0f} stock-outs, "
            f"peak {r['peak_kw']:,.0f} kW)"
        )
    ratio = best["openswap"]["rate"] / best["simpy"]["rate"]
    print(f"  openswap / SimPy: {ratio:.1f}x" + ("" if ratio >= 10.0 else "  (target >= 10x)"))
    return ratio if math.isfinite(ratio) else 0.0


if __name__ == "__main__":
    main()
