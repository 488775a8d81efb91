"""The station charging LP and its MPC in the twin.

(a) A station-day schedule: 40 packs x 96 fifteen-minute slots on the Fujian time-of-use tariff
    (target: under 0.2 s, model build plus solve). Reference in the same run: the charge-at-once
    baseline schedule of the same instance (a plain numpy forward pass).
(b) The MPC in the twin: the default `ningde-xiamen` scenario, one replication of 24 h with no
    warm-up, policy `optimal` against the same run with the charge-at-once baseline (target: at
    most 3x the baseline's wall time). The pilot run the MPC learns its demand from is not timed.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from openswap.catalog.scenario import builtin_scenario
from openswap.domain.tariff import FUJIAN_TOU_TARIFF
from openswap.scheduling.charging import (
    ChargingProblem,
    ChargingUnit,
    Taper,
    build_charging_model,
    charge_at_once_schedule,
    solve_charging,
)
from openswap.scheduling.lp import LpSolver
from openswap.scheduling.mpc import MpcChargingScheduler
from openswap.services.simulation import PILOT_DAYS, _charge_at_once, _OptimalFactory
from openswap.sim.network import NetworkTwin


def station_day(packs: int = 40, slots: int = 96, seed: int = 20261122) -> ChargingProblem:
    """A seeded station-day: packs at random SoC, 3 in 4 due at random slots."""
    rng = np.random.default_rng(seed)
    prices = FUJIAN_TOU_TARIFF.hourly_prices_cny_per_kwh
    units = tuple(
        ChargingUnit(
            model=i % 2,
            energy_kwh=float(rng.uniform(0.1, 0.9)) * 171.0,
            capacity_kwh=171.0,
            max_power_kw=180.0,
            efficiency=0.95,
            due=int(rng.integers(4, slots)) if i % 4 else None,
            rack_slot=i,
        )
        for i in range(packs)
    )
    return ChargingProblem(
        0.0,
        (900.0,) * slots,
        tuple(prices[(t // 4) % 24] for t in range(slots)),
        (3500.0,) * slots,
        units,
        Taper.cc_cv(0.8, 0.05),
    )


def _best(fn: object, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best


def bench_station_day(repeats: int) -> None:
    problem = station_day()
    baseline_s = _best(lambda: charge_at_once_schedule(problem), repeats)
    build_s = _best(lambda: build_charging_model(problem), repeats)
    print("(a) station-day, 40 packs x 96 slots:")
    for solver in (LpSolver.GLOP, LpSolver.HIGHS):
        total = _best(lambda s=solver: solve_charging(problem, s), repeats)
        schedule = solve_charging(problem, solver)
        verdict = "met" if total < 0.2 else "MISSED"
        print(
            f"    {solver.value:5s}: {total:.3f} s (build {build_s:.3f} s), "
            f"{total / baseline_s:.0f}x the charge-at-once schedule ({baseline_s:.4f} s); "
            f"energy cost {schedule.cost.energy_cost_cny:,.0f} CNY; target < 0.2 s: {verdict}"
        )


def bench_mpc_day(quick: bool) -> None:
    scenario = replace(builtin_scenario("ningde-xiamen"), days=0.25 if quick else 1.0)
    scenario = replace(scenario, warmup_days=0.0)
    pilot = NetworkTwin(replace(scenario, days=PILOT_DAYS), _charge_at_once).run()
    started = time.perf_counter()
    NetworkTwin(scenario, _charge_at_once).run()
    base_s = time.perf_counter() - started
    factory = _OptimalFactory(scenario, pilot)
    twin = NetworkTwin(scenario, factory)
    started = time.perf_counter()
    twin.run()
    mpc_s = time.perf_counter() - started
    schedulers = [s.scheduler for s in twin.stations]
    solves = sum(s.stats.solves for s in schedulers if isinstance(s, MpcChargingScheduler))
    repairs = sum(s.stats.repairs for s in schedulers if isinstance(s, MpcChargingScheduler))
    ratio = mpc_s / base_s
    print(
        f"(b) ningde-xiamen, {scenario.days:g} day(s): MPC {mpc_s:.2f} s wall against the "
        f"baseline's {base_s:.3f} s = {ratio:.0f}x; {solves} LP solves "
        f"({mpc_s / max(solves, 1) * 1000:.1f} ms each), {repairs} plans between solves; "
        f"target <= 3x: {'met' if ratio <= 3 else 'MISSED'}"
    )


def run(quick: bool = False) -> None:
    """Print both figures (quick: fewer repeats and a 6 h twin run)."""
    print("openswap benchmarks: station charging LP and MPC" + (" (quick)" if quick else ""))
    bench_station_day(1 if quick else 5)
    bench_mpc_day(quick)


if __name__ == "__main__":
    run()
