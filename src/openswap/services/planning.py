"""Planning use cases: run the twin for history, forecast swap demand, plan pack rebalancing.

The glue between the digital twin (`sim`), the schedulers (`scheduling`) and scenarios
(`catalog`): twin events become forecast records, a scenario's stations become racks and lanes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from openswap.domain.errors import InputError, Problem
from openswap.domain.planning import StationSnapshot
from openswap.domain.scenario import Scenario
from openswap.scheduling.charging import (
    ChargingSchedule,
    baseline_schedule,
    charge_at_once_schedule,
    solve_charging,
)
from openswap.scheduling.forecast import (
    SECONDS_PER_HOUR,
    ArrivalForecast,
    ArrivalHistory,
    ArrivalRecord,
    ForecastEvaluation,
    evaluate_forecast,
    forecast_arrivals,
    window_peak,
)
from openswap.scheduling.mpc import StationProblem, build_station_problem
from openswap.scheduling.rebalance import (
    Carrier,
    Lane,
    PackDemand,
    RebalancePlan,
    StationRack,
    plan_rebalance,
)
from openswap.services.simulation import (
    PILOT_DAYS,
    ScenarioSource,
    _OptimalFactory,
)
from openswap.sim.network import INCOMPATIBLE, NetworkTwin, RunResult, build_station_config
from openswap.sim.policies import ChargeAtOnce
from openswap.sim.station import StationConfig

CROSSOVER_KM = 10.0  # [estimate] to the next interchange and back, to change carriageway
NOT_DEMAND = frozenset({INCOMPATIBLE, "stranded"})  # events that are not a wish to swap here


def arrival_history(result: RunResult, start_weekday: int = 0) -> ArrivalHistory:
    """Swap demand seen by the twin: every arrival that wanted packs (swapped, or left unserved
    for lack of stock or patience), over the measured window. Series cover every pack model a
    station stocks, so a model nobody asked for is forecast as zero."""
    packs_of = {f.id: f.packs_per_vehicle for f in result.fleets}
    ev = result.events
    records = tuple(
        ArrivalRecord(float(t), str(s), str(m), packs_of[str(f)])
        for t, s, m, f, o in zip(
            ev["time_s"], ev["station"], ev["pack_model"], ev["fleet"], ev["outcome"], strict=True
        )
        if o not in NOT_DEMAND and s
    )
    series = tuple((site.id, pm.id) for site in result.stations for pm, _ in site.stock)
    return ArrivalHistory(
        records, result.warmup_s, result.warmup_s + result.measured_s, series, start_weekday
    )


def _charge_at_once(site: object, config: StationConfig) -> ChargeAtOnce:
    return ChargeAtOnce()


def run_history(source: ScenarioSource, days: float) -> tuple[Scenario, RunResult]:
    """One replication of the scenario for `days` measured days, charging at once."""
    scenario = replace(source.load(), days=days, replications=1)
    return scenario, NetworkTwin(scenario, _charge_at_once, 0).run()


def recharge_window_h(scenario: Scenario, station_id: str, pack_model: str) -> int:
    """Whole hours a station's charger needs to refill an empty pack of the model (at least 1):
    a pack swapped in is back in stock after this long, so stock must cover that window."""
    site = next(s for s in scenario.stations if s.id == station_id)
    energy = next(
        (pm.usable_energy_kwh for pm, _ in site.stock if pm.id == pack_model),
        next((f.pack_model.usable_energy_kwh for f in scenario.fleets), 1.0),
    )
    power = site.charger_power_kw * site.charger_efficiency
    return max(1, math.ceil(energy / power - 1e-9)) if power > 0 else 24


def build_pack_demand(scenario: Scenario, forecast: ArrivalForecast) -> list[PackDemand]:
    """Per station and model, the forecast arrivals of the busiest recharge window."""
    out = []
    for k, (station, model) in enumerate(forecast.series):
        width = recharge_window_h(scenario, station, model)
        ppa = max(1, round(forecast.packs_per_arrival.get((station, model), 1.0)))
        out.append(PackDemand(station, model, window_peak(forecast.mean[k].tolist(), width), ppa))
    return out


def build_racks(scenario: Scenario) -> list[StationRack]:
    """Racks from the scenario: packs on site by model (the twin keeps these counts, since a
    swap exchanges packs of one model) and room for the larger of slots and packs."""
    return [
        StationRack(site.id, max(site.slots, site.pack_count), {pm.id: n for pm, n in site.stock})
        for site in scenario.stations
    ]


def build_lanes(scenario: Scenario, crossover_km: float = CROSSOVER_KM) -> list[Lane]:
    """Every ordered pair of stations on one corridor: the km between them, plus a crossover
    when they serve different carriageways."""
    lanes = []
    for a in scenario.stations:
        for b in scenario.stations:
            if a.id == b.id or a.corridor != b.corridor:
                continue
            extra = crossover_km if a.directions.isdisjoint(b.directions) else 0.0
            lanes.append(Lane(a.id, b.id, abs(a.km - b.km) + extra))
    return lanes


@dataclass(frozen=True, slots=True)
class RebalanceStudy:
    """What `openswap plan rebalance` shows: the plan, the demand it answers, and how good the
    forecast behind it was on the last history day (None when the history is too short)."""

    scenario: Scenario
    history_days: float
    forecast: ArrivalForecast
    demand: tuple[PackDemand, ...]
    plan: RebalancePlan
    evaluation: ForecastEvaluation | None


def study_rebalance(
    source: ScenarioSource,
    days: float = 7.0,
    *,
    horizon_h: int = 24,
    carrier: Carrier | None = None,
    shortage_cost_cny: float = 500.0,
) -> RebalanceStudy:
    """Run the twin for `days`, forecast the next `horizon_h` hours of swap demand, and plan
    the pack moves for that horizon starting at the end of the history."""
    scenario, result = run_history(source, days)
    history = arrival_history(result)
    forecast = forecast_arrivals(history, horizon_h)
    demand = build_pack_demand(scenario, forecast)
    plan = plan_rebalance(
        build_racks(scenario),
        demand,
        build_lanes(scenario),
        carrier,
        now_s=forecast.first_hour * SECONDS_PER_HOUR,
        horizon_s=horizon_h * SECONDS_PER_HOUR,
        shortage_cost_cny=shortage_cost_cny,
    )
    evaluation = evaluate_forecast(history, 1) if days >= 4 else None
    return RebalanceStudy(scenario, days, forecast, tuple(demand), plan, evaluation)


# --- charging schedule of one station --------------------------------------------------------


def station_snapshot(
    source: ScenarioSource, station_id: str, at_s: float
) -> tuple[Scenario, StationSnapshot, RunResult]:
    """Run the scenario's twin (charging at once, replication 0) to `at_s` seconds and return
    the station's snapshot then, with a one-day charge-at-once pilot run (the demand history).
    Raises InputError naming `station` when the scenario has no such station."""
    scenario = source.load()
    ids = [site.id for site in scenario.stations]
    if station_id not in ids:
        raise InputError(
            [Problem(f"no station {station_id!r} (known: {', '.join(ids)})", field="station")]
        )
    pilot = NetworkTwin(replace(scenario, days=PILOT_DAYS), _charge_at_once, 0).run()
    twin = NetworkTwin(
        replace(scenario, days=max(scenario.days, at_s / 86_400.0 + 1.0)), _charge_at_once, 0
    )
    twin.loop.run(at_s)
    return scenario, twin.stations[ids.index(station_id)].snapshot(), pilot


@dataclass(frozen=True, slots=True)
class HourPlan:
    """One clock hour of a charging schedule."""

    start_s: float  # seconds since scenario start
    hour: int  # local hour of day
    price_cny_per_kwh: float
    energy_kwh: float  # grid energy
    mean_kw: float
    peak_kw: float  # the highest slot's grid power in the hour
    packs_charging: float  # most packs drawing power in any slot of the hour
    cost_cny: float
    baseline_energy_kwh: float
    baseline_cost_cny: float


@dataclass(frozen=True, slots=True)
class ChargeStudy:
    """What `openswap plan charge` shows: the station's LP schedule for the horizon against
    charge-at-once on the same problem, by hour."""

    scenario: Scenario
    station_id: str
    snapshot: StationSnapshot
    station: StationProblem
    schedule: ChargingSchedule
    baseline: ChargingSchedule
    hours: tuple[HourPlan, ...]


def _by_hour(
    station: StationProblem, schedule: ChargingSchedule, baseline: ChargingSchedule
) -> tuple[HourPlan, ...]:
    problem = station.problem
    starts = problem.slot_starts_s()
    offset = station.snapshot.time_of_day_s - station.snapshot.time_s
    rows: dict[int, list[int]] = {}
    for t, start in enumerate(starts):
        rows.setdefault(int((start + offset) // SECONDS_PER_HOUR), []).append(t)
    dt_h = np.asarray(problem.slot_s) / SECONDS_PER_HOUR
    prices = np.asarray(problem.price_cny_per_kwh)
    grid, base = schedule.grid_kw, baseline.grid_kw
    weights = np.array([u.weight for u in problem.units])
    out = []
    for key in sorted(rows):
        ts = rows[key]
        energy = float(np.sum(grid[ts] * dt_h[ts]))
        hours = float(np.sum(dt_h[ts]))
        charging = [float(weights[schedule.power_kw[:, t] > 1e-6].sum()) for t in ts]
        out.append(
            HourPlan(
                start_s=float(starts[ts[0]]),
                hour=key % 24,
                price_cny_per_kwh=float(prices[ts[0]]),
                energy_kwh=energy,
                mean_kw=energy / hours if hours > 0 else 0.0,
                peak_kw=float(grid[ts].max()),
                packs_charging=max(charging),
                cost_cny=float(np.sum(grid[ts] * dt_h[ts] * prices[ts])),
                baseline_energy_kwh=float(np.sum(base[ts] * dt_h[ts])),
                baseline_cost_cny=float(np.sum(base[ts] * dt_h[ts] * prices[ts])),
            )
        )
    return tuple(out)


def study_charge(
    source: ScenarioSource, station_id: str, at_hour: float = 0.0, horizon_h: float = 24.0
) -> ChargeStudy:
    """The station's charging LP for the next `horizon_h` hours from its twin state at
    `at_hour` hours after the scenario's start, demand forecast from a one-day pilot run, and
    the charge-at-once schedule of the same problem for comparison."""
    scenario, snapshot, pilot = station_snapshot(source, station_id, at_hour * SECONDS_PER_HOUR)
    site = next(s for s in scenario.stations if s.id == station_id)
    mpc = _OptimalFactory(scenario, pilot)(
        site, build_station_config(scenario, site, pilot.pack_models)
    )
    settings = replace(mpc.settings, horizon_s=horizon_h * SECONDS_PER_HOUR)
    station = build_station_problem(snapshot, mpc.demand, mpc.taper, settings, 0.0, mpc.model_names)
    schedule = solve_charging(station.problem)
    baseline = baseline_schedule(station.problem, charge_at_once_schedule(station.problem))
    return ChargeStudy(
        scenario,
        station_id,
        snapshot,
        station,
        schedule,
        baseline,
        _by_hour(station, schedule, baseline),
    )
