"""Simulate a scenario: replications of the network twin, KPIs, economics and 95 % intervals.

`simulate` runs the replications (in worker processes when asked), `summarise` turns their raw
results into the documented `summary.json` structure (docs/simulation-output.md): per station,
per fleet and for the network, each figure the mean over replications with its 95 % confidence
half-width under the key `ci95`.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from scipy import stats

from openswap.catalog.scenario import builtin_scenario, load_scenario
from openswap.domain.ageing import LinearAgeing, full_cycles
from openswap.domain.errors import InputError, Problem, ScenarioError
from openswap.domain.feasibility import check_scenario
from openswap.domain.planning import NetworkView
from openswap.domain.scenario import Direction, Scenario, StationSite
from openswap.domain.specs import Source
from openswap.economics.emissions import (
    DIESEL_DEFRA_2024,
    GREEN_ELECTRICITY,
    EmissionFactor,
    compare_co2,
)
from openswap.economics.finance import StationCase, evaluate_station
from openswap.economics.fleet import compare_energy_cost_per_km
from openswap.economics.tariff import energy_cost_cny
from openswap.scheduling.assignment import StationOffer, TruckRequest, assign_arrivals
from openswap.scheduling.charging import Taper
from openswap.scheduling.mpc import MpcChargingScheduler, MpcSettings, StationDemand
from openswap.sim.network import NetworkTwin, RunResult
from openswap.sim.policies import ChargeAtOnce, TimeOfUse
from openswap.sim.station import StationConfig

SECONDS_PER_DAY = 86_400.0
DAYS_PER_YEAR = 365.0
PILOT_DAYS = 1.0  # the charge-at-once run the time-of-use policy learns its demand from
AGEING_TEMP_C = 25.0  # LinearAgeing ignores temperature; the health engine's model will not
SUMMARY_SCHEMA = "openswap.summary/1"


class Policy:
    """Charging policies the twin can run (names as the CLI spells them)."""

    BASELINE = "baseline"  # charge at once, at the most power the cap allows
    TOU = "tou"  # time of use: valley hours, unless demand needs packs sooner
    OPTIMAL = "optimal"  # MPC: the charging LP re-solved every 15 min on a 12 h horizon
    OPTIMAL_ASSIGN = "optimal+assign"  # the MPC, and trucks advised where to swap
    ALL = (BASELINE, TOU, OPTIMAL, OPTIMAL_ASSIGN)


@dataclass(frozen=True, slots=True)
class ScenarioSource:
    """Where a scenario comes from, so worker processes can load it themselves."""

    name_or_path: str
    days: float | None = None
    seed: int | None = None
    replications: int | None = None

    def load(self) -> Scenario:
        """The scenario with the overrides applied; raises ScenarioError when it cannot run."""
        path = Path(self.name_or_path)
        scenario = (
            load_scenario(path)
            if path.suffix in (".yaml", ".yml") or path.exists()
            else builtin_scenario(self.name_or_path)
        )
        changes: dict[str, Any] = {}
        if self.days is not None:
            changes["days"] = self.days
        if self.seed is not None:
            changes["seed"] = self.seed
        if self.replications is not None:
            changes["replications"] = self.replications
        scenario = replace(scenario, **changes) if changes else scenario
        problems = check_scenario(scenario)
        if problems:
            raise ScenarioError(problems)
        return scenario


def _charge_at_once(site: StationSite, config: StationConfig) -> ChargeAtOnce:
    return ChargeAtOnce()


def hourly_pack_demand(result: RunResult) -> dict[str, list[list[float]]]:
    """Packs swapped out per station, pack model index and local hour, per day of `result`."""
    days = result.measured_s / SECONDS_PER_DAY
    index = {m: i for i, m in enumerate(result.pack_models)}
    demand = {s.id: [[0.0] * 24 for _ in result.pack_models] for s in result.stations}
    ev = result.events
    for t, station, model, outcome, packs in zip(
        ev["time_s"], ev["station"], ev["pack_model"], ev["outcome"], ev["packs"], strict=True
    ):
        if outcome == "swap":
            hour = int(float(t) % SECONDS_PER_DAY // 3600)
            demand[str(station)][index[str(model)]][hour] += float(packs) / days
    return demand


class _TimeOfUseFactory:
    """Builds each station's time-of-use policy from the pilot's hourly demand."""

    def __init__(self, demand: dict[str, list[list[float]]]) -> None:
        self.demand = demand

    def __call__(self, site: StationSite, config: StationConfig) -> TimeOfUse:
        return TimeOfUse(self.demand[site.id])


def pilot_soc_in(result: RunResult) -> dict[str, list[float]]:
    """Mean SoC of the packs trucks hand in, per station and pack model index (0.25 where the
    pilot saw no swap)."""
    index = {m: i for i, m in enumerate(result.pack_models)}
    sums = {s.id: [0.0] * len(result.pack_models) for s in result.stations}
    counts = {s.id: [0] * len(result.pack_models) for s in result.stations}
    ev = result.events
    for station, model, outcome, soc in zip(
        ev["station"], ev["pack_model"], ev["outcome"], ev["soc_in"], strict=True
    ):
        if outcome == "swap":
            m = index[str(model)]
            sums[str(station)][m] += float(soc)
            counts[str(station)][m] += 1
    return {
        sid: [s / c if c else 0.25 for s, c in zip(sums[sid], counts[sid], strict=True)]
        for sid in sums
    }


def announce_lead_s(scenario: Scenario, site: StationSite) -> float:
    """How far ahead a station hears of its trucks: the shortest drive to it from any point
    where a truck plans the leg that ends there (a trip end, or another station upstream on the
    same carriageway). Trucks announce a stop when they plan that leg."""
    speeds = [f.cruise_speed_kmh for f in scenario.fleets if f.corridor == site.corridor]
    if not speeds:
        return 0.0
    points = {f.origin_km for f in scenario.fleets if f.corridor == site.corridor}
    points |= {f.destination_km for f in scenario.fleets if f.corridor == site.corridor}
    points |= {
        s.km
        for s in scenario.stations
        if s.corridor == site.corridor and s.id != site.id and s.directions & site.directions
    }
    gaps = [abs(site.km - km) for km in points if abs(site.km - km) > 0.0]
    return min(gaps, default=0.0) / max(speeds) * 3600.0


def mean_bay_time_s(scenario: Scenario) -> float:
    """Mean time a truck holds a bay when its packs are ready: entry and exit plus the swap."""
    t = scenario.timing
    service = (
        t.service_mode_s
        if t.exponential_service
        else (t.service_min_s + t.service_mode_s + t.service_max_s) / 3.0
    )
    return service + 0.5 * (t.overhead_min_s + t.overhead_max_s)


def recharge_time_s(scenario: Scenario) -> float:
    """Time to charge a typical pack from a quarter to full at its station's charger (the mean
    over stations; one hour when there are none)."""
    times = []
    for site in scenario.stations:
        power = site.charger_power_kw * site.charger_efficiency
        for pm, _ in site.stock:
            if power > 0:
                times.append(0.75 * pm.usable_energy_kwh / power * 3600.0)
    return statistics.fmean(times) if times else 3600.0


class _OptimalFactory:
    """Builds each station's MPC charging scheduler from the pilot's demand and hand-in SoC."""

    def __init__(
        self, scenario: Scenario, pilot: RunResult, settings: MpcSettings | None = None
    ) -> None:
        self.scenario = scenario
        self.settings = settings or MpcSettings()
        self.demand = hourly_pack_demand(pilot)
        self.soc_in = pilot_soc_in(pilot)
        self.models = pilot.pack_models
        per_truck: dict[str, int] = {}
        for fleet in scenario.fleets:
            pid = fleet.pack_model.id
            per_truck[pid] = max(per_truck.get(pid, 1), fleet.packs_per_vehicle)
        self.packs_per_truck = tuple(per_truck.get(m, 1) for m in self.models)

    def __call__(self, site: StationSite, config: StationConfig) -> MpcChargingScheduler:
        demand = StationDemand(
            packs_per_hour=tuple(tuple(row) for row in self.demand[site.id]),
            soc_in=tuple(self.soc_in[site.id]),
            packs_per_truck=self.packs_per_truck,
            capacity_kwh=config.pack_capacity_kwh,
        )
        settings = replace(
            self.settings,
            demand_charge_cny_per_kw=site.tariff.demand_charge_cny_per_kw_month or 0.0,
            announce_lead_s=announce_lead_s(self.scenario, site),
            bay_time_s=mean_bay_time_s(self.scenario),
            bays=site.bays,
        )
        taper = Taper.cc_cv(config.taper_knee_soc, config.taper_end_fraction)
        return MpcChargingScheduler(demand, taper, settings, self.models)


class AssignmentAdvisor:
    """`RouteAdvisor` over `scheduling.assignment`: a truck planning a leg that ends in a swap is
    assigned, among the stations ahead that it can reach and that serve it, the one with the
    least expected wait plus an early-stop cost (a stop short of the furthest station costs
    range later: `early_stop_s_per_km` per km short of it).

    Expected wait at a station = the trucks there and those announced to arrive before this one,
    over its bays, times the mean bay time; plus, when those trucks would take more packs of the
    truck's model than are charged now, the recharge time of one pack. Energy feasibility was
    decided by the twin (only reachable stations are candidates), so the requests carry a
    negligible consumption. Counts the advice it gave and how often it differed from the
    default (the furthest candidate).
    """

    def __init__(
        self, bay_time_s: float, recharge_s: float, early_stop_s_per_km: float = 1.0
    ) -> None:
        self.bay_time_s = bay_time_s
        self.recharge_s = recharge_s
        self.early_stop_s_per_km = early_stop_s_per_km
        self.asked = 0
        self.changed = 0

    def expected_wait_s(self, view: NetworkView, i: int, eta_s: float) -> float:
        leg = view.leg
        ahead = [a for a in view.announced_arrivals[i] if a[0] < eta_s and a[0] >= view.time_s]
        trucks = view.trucks_at_station[i] + len(ahead)
        wait = trucks / max(view.station_bays[i], 1) * self.bay_time_s
        wanted = leg.packs + sum(p for _, m, p in ahead if m == leg.pack_model)
        stock = (
            view.charged_stock[i][leg.pack_model]
            if leg.pack_model < len(view.charged_stock[i])
            else 0
        )
        if wanted > stock:
            wait += self.recharge_s
        return wait

    def advise(self, view: NetworkView) -> dict[int, int]:
        leg = view.leg
        self.asked += 1
        forward = leg.destination_km >= leg.position_km
        direction = Direction.FORWARD if forward else Direction.BACKWARD
        furthest = max(abs(view.station_km[i] - leg.position_km) for i in leg.candidates)
        model = str(leg.pack_model)
        offers = []
        for i in leg.candidates:
            km = view.station_km[i]
            eta = view.time_s + abs(km - leg.position_km) / leg.speed_kmh * 3600.0
            short_km = furthest - abs(km - leg.position_km)
            offers.append(
                StationOffer(
                    str(i),
                    km,
                    frozenset(Direction),
                    {model: leg.packs},
                    self.expected_wait_s(view, i, eta) + self.early_stop_s_per_km * short_km,
                )
            )
        request = TruckRequest(
            str(leg.truck),
            leg.position_km,
            direction,
            energy_kwh=1.0,  # feasibility decided by the twin: every candidate is reachable
            consumption_kwh_per_km=1e-9,
            reserve_kwh=0.0,
            packs=leg.packs,
            pack_models=(model,),
            speed_kmh=leg.speed_kmh,
        )
        plan = assign_arrivals([request], offers, time_limit_s=1.0)
        if not plan.assignments:
            return {}
        choice = int(plan.assignments[0].station)
        if choice != leg.candidates[-1]:
            self.changed += 1
        return {leg.truck: choice}


def run_replication(
    source: ScenarioSource,
    policy: str,
    replication: int,
    progress: Callable[[float], None] | None = None,
) -> RunResult:
    """One replication (a module-level function, so process pools can call it).

    `progress(fraction)` follows the simulated time of the measured run.
    """
    scenario = source.load()
    if policy == Policy.BASELINE:
        return NetworkTwin(scenario, _charge_at_once, replication).run(progress)
    if policy == Policy.TOU:
        pilot = replace(scenario, days=PILOT_DAYS)
        demand = hourly_pack_demand(NetworkTwin(pilot, _charge_at_once, replication).run())
        return NetworkTwin(scenario, _TimeOfUseFactory(demand), replication).run(progress)
    if policy in (Policy.OPTIMAL, Policy.OPTIMAL_ASSIGN):
        pilot = replace(scenario, days=PILOT_DAYS)
        result = NetworkTwin(pilot, _charge_at_once, replication).run()
        factory = _OptimalFactory(scenario, result)
        advisor = None
        if policy == Policy.OPTIMAL_ASSIGN:
            advisor = AssignmentAdvisor(mean_bay_time_s(scenario), recharge_time_s(scenario))
        return NetworkTwin(scenario, factory, replication, advisor).run(progress)
    raise InputError(
        [Problem(f"unknown policy {policy!r} (known: {', '.join(Policy.ALL)})", field="policy")]
    )


def _share_of_total(
    progress: Callable[[float], None], replication: int, total: int, fraction: float
) -> None:
    progress((replication + fraction) / total)


def simulate(
    source: ScenarioSource,
    policy: str = Policy.BASELINE,
    workers: int = 1,
    progress: Callable[[float], None] | None = None,
) -> tuple[Scenario, list[RunResult], float]:
    """Run every replication; returns the scenario, the results in replication order and the
    wall time in seconds. `progress(fraction)` reports the share of the work done (0..1]: per
    simulated hour in one process, per finished replication with several workers."""
    scenario = source.load()
    total = scenario.replications
    started = time.perf_counter()
    results: list[RunResult] = []
    if workers > 1 and total > 1:
        with ProcessPoolExecutor(max_workers=min(workers, total)) as pool:
            futures = [pool.submit(run_replication, source, policy, r) for r in range(total)]
            for done, future in enumerate(futures, start=1):
                results.append(future.result())
                if progress:
                    progress(done / total)
    else:
        for r in range(total):
            step = partial(_share_of_total, progress, r, total) if progress else None
            results.append(run_replication(source, policy, r, step))
    return scenario, results, time.perf_counter() - started


def _ci95(values: Sequence[float]) -> float:
    """Half-width of the 95 % t-interval of the mean; NaN with fewer than two values."""
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) < 2:
        return math.nan
    return (
        float(stats.t.ppf(0.975, len(finite) - 1))
        * statistics.stdev(finite)
        / math.sqrt(len(finite))
    )


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return statistics.fmean(finite) if finite else math.nan


def _aggregate(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean of every numeric field over replications, plus `ci95` half-widths; other fields
    (ids, names, dicts of counts) are taken from the first replication or summed per key."""
    out: dict[str, Any] = {}
    ci: dict[str, float] = {}
    for key, first in rows[0].items():
        values = [row[key] for row in rows]
        if isinstance(first, bool) or not isinstance(first, (int, float)):
            if isinstance(first, dict):
                keys = sorted({k for v in values for k in v})
                out[key] = {k: _mean([float(v.get(k, 0)) for v in values]) for k in keys}
            else:
                out[key] = first
            continue
        out[key] = _mean([float(v) for v in values])
        ci[key] = _ci95([float(v) for v in values])
    out["ci95"] = ci
    return out


def _wait_percentile(waits_s: Sequence[float], q: float) -> float:
    if not waits_s:
        return 0.0
    ordered = sorted(waits_s)
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _station_row(scenario: Scenario, result: RunResult, i: int) -> dict[str, Any]:
    site = result.stations[i]
    k = result.station_kpis[i]
    days = result.measured_s / SECONDS_PER_DAY
    ev = result.events
    waits = [
        float(q) + float(w)
        for st, o, q, w in zip(
            ev["station"], ev["outcome"], ev["queue_wait_s"], ev["stock_wait_s"], strict=True
        )
        if st == site.id and o == "swap"
    ]
    charged = [
        float(c)
        for c, st in zip(result.series["charged_packs"], result.series["station"], strict=True)
        if st == site.id
    ]
    delivered_kwh = result.energy_out_kwh[i] - result.energy_in_kwh[i]
    energy_cost = energy_cost_cny(
        site.tariff, list(k.grid_kw_by_interval), k.metering_interval_s, result.warmup_s
    )
    econ = scenario.economics
    finance = evaluate_station(
        StationCase(
            swapped_energy_kwh_per_year=max(delivered_kwh, 0.0) / days * DAYS_PER_YEAR,
            energy_cost_cny_per_year=energy_cost / days * DAYS_PER_YEAR,
            station_capex_cny=site.capex_cny,
            service_price_cny_per_kwh=econ.service_price_cny_per_kwh,
            opex_frac_of_capex_per_year=econ.opex_frac_of_capex_per_year,
            lifetime_years=int(econ.lifetime_years),
        ),
        econ.discount_rate,
    )
    wasted = dict(k.wasted_trips)
    if result.incompatible_arrivals[i]:
        wasted["incompatible"] = result.incompatible_arrivals[i]
    trucks = {
        int(t)
        for t, st, o in zip(
            result.events["truck"], result.events["station"], result.events["outcome"], strict=True
        )
        if st == site.id and o == "swap"
    }
    return {
        "id": site.id,
        "name": site.name,
        "corridor": site.corridor,
        "km": site.km,
        "directions": sorted(str(d) for d in site.directions),
        "design": site.design.id,
        "packs": k.pack_count,
        "slots": site.slots,
        "swaps_per_day": k.swaps / days,
        "packs_swapped_per_day": k.packs_swapped / days,
        "trucks_served": len(trucks),
        "arrivals_per_day": (k.arrivals + result.incompatible_arrivals[i]) / days,
        "bay_utilisation": k.bay_utilisation,
        "charger_utilisation": k.charger_utilisation,
        "pack_utilisation": (1.0 - _mean(charged) / k.pack_count) if k.pack_count else 0.0,
        "grid_peak_kw": k.peak_kw,
        "grid_cap_kw": site.design.grid_cap_kw,
        "grid_energy_kwh_per_day": k.grid_energy_kwh / days,
        "energy_delivered_kwh_per_day": delivered_kwh / days,
        "energy_cost_cny_per_day": energy_cost / days,
        "revenue_cny_per_day": delivered_kwh / days * econ.service_price_cny_per_kwh,
        "mean_wait_min": _mean(waits) / 60 if waits else 0.0,
        "p50_wait_min": _wait_percentile(waits, 0.50) / 60,
        "p95_wait_min": _wait_percentile(waits, 0.95) / 60,
        "max_wait_min": max(waits, default=0.0) / 60,
        "stockouts": wasted.get("stock_out", 0),
        "wasted_trips": sum(wasted.values()),
        "wasted_trips_by_reason": wasted,
        "payback_years": finance.simple_payback_years,
        "npv_cny": finance.npv_cny,
    }


def _fleet_row(scenario: Scenario, result: RunResult, f: int) -> dict[str, Any]:
    fleet = result.fleets[f]
    o = result.fleet_outcomes[f]
    days = result.measured_s / SECONDS_PER_DAY
    econ = scenario.economics
    kwh_per_km = o.traction_kwh / o.distance_km if o.distance_km else math.nan
    cost = compare_energy_cost_per_km(
        kwh_per_km if math.isfinite(kwh_per_km) else 0.0,
        econ.service_price_cny_per_kwh,
        econ.diesel_price_cny_per_l,
        econ.diesel_l_per_100km,
    )
    return {
        "id": fleet.id,
        "vehicle_model": fleet.vehicle_model.id,
        "pack_model": fleet.pack_model.id,
        "trucks": fleet.count,
        "trips": o.trips,
        "trips_per_day": o.trips / days,
        "distance_km_per_day": o.distance_km / days,
        "mean_delay_min": (o.trip_s - o.driving_s) / o.trips / 60 if o.trips else math.nan,
        "energy_kwh_per_km": kwh_per_km,
        "cost_cny_per_km": cost.electric_cny_per_km,
        "diesel_cost_cny_per_km": cost.diesel_cny_per_km,
        "swaps": o.swaps,
        "wasted_trips": sum(o.wasted_trips.values()),
        "wasted_trips_by_reason": dict(o.wasted_trips),
        "stranded": o.stranded,
    }


def _network_row(
    scenario: Scenario, result: RunResult, stations: list[dict[str, Any]]
) -> dict[str, Any]:
    days = result.measured_s / SECONDS_PER_DAY
    distance = sum(o.distance_km for o in result.fleet_outcomes)
    traction = sum(o.traction_kwh for o in result.fleet_outcomes)
    kwh_per_km = traction / distance if distance else 0.0
    econ = scenario.economics
    grid = EmissionFactor(
        "grid",
        econ.grid_co2_kg_per_kwh,
        "kWh",
        Source(
            "scenario economics.grid_co2_kg_per_kwh (default: MEE/NBS 2022 national average)",
            "secondary",
        ),
    )
    diesel = replace(DIESEL_DEFRA_2024, co2_kg_per_unit=econ.diesel_co2_kg_per_l)
    charger_eff = _mean([s.charger_efficiency for s in scenario.stations])
    co2 = compare_co2(distance, kwh_per_km, grid, diesel, econ.diesel_l_per_100km, charger_eff)
    green = compare_co2(
        distance, kwh_per_km, GREEN_ELECTRICITY, diesel, econ.diesel_l_per_100km, charger_eff
    )
    year = DAYS_PER_YEAR / days
    elapsed_days = result.elapsed_s / SECONDS_PER_DAY
    cycles_per_day = [
        full_cycles(thr, cap) / elapsed_days
        for thr, cap in zip(result.pack_throughput_kwh, result.pack_capacity_kwh, strict=True)
    ]
    ageing = LinearAgeing()
    soh_loss_per_year = [
        1.0 - ageing.soh_after(1.0, c * DAYS_PER_YEAR, DAYS_PER_YEAR, life, AGEING_TEMP_C)
        for c, life in zip(cycles_per_day, result.pack_cycle_life, strict=True)
    ]
    return {
        "trucks": sum(f.count for f in scenario.fleets),
        "swaps": sum(k.swaps for k in result.station_kpis),
        "swaps_per_day": sum(k.swaps for k in result.station_kpis) / days,
        "distance_km_per_day": distance / days,
        "energy_kwh_per_km": kwh_per_km,
        "co2_diesel_t": co2.diesel_co2_kg / 1000,
        "co2_grid_t": co2.electric_co2_kg / 1000,
        "co2_saved_t": co2.avoided_co2_kg / 1000,
        "co2_saved_green_t": green.avoided_co2_kg / 1000,
        "co2_saved_t_per_year": co2.avoided_co2_kg / 1000 * year,
        "wasted_trips": sum(s["wasted_trips"] for s in stations),
        "stranded": sum(o.stranded for o in result.fleet_outcomes),
        "revenue_cny_per_day": sum(s["revenue_cny_per_day"] for s in stations),
        "energy_cost_cny_per_day": sum(s["energy_cost_cny_per_day"] for s in stations),
        "packs": result.packs_total,
        "pack_full_cycles_per_day": _mean(cycles_per_day),
        "pack_soh_loss_per_year": _mean(soh_loss_per_year),
        "years_to_end_of_first_life": (
            (1.0 - ageing.eol_soh) / _mean(soh_loss_per_year)
            if any(soh_loss_per_year)
            else math.inf
        ),
    }


def summarise(
    scenario: Scenario, results: Sequence[RunResult], policy: str, wall_s: float
) -> dict[str, Any]:
    """The `summary.json` document of a simulation (schema: docs/simulation-output.md)."""
    per_rep_stations = [
        [_station_row(scenario, r, i) for i in range(len(r.stations))] for r in results
    ]
    per_rep_fleets = [[_fleet_row(scenario, r, f) for f in range(len(r.fleets))] for r in results]
    per_rep_network = [
        _network_row(scenario, r, rows) for r, rows in zip(results, per_rep_stations, strict=True)
    ]
    swaps = sum(sum(k.swaps for k in r.station_kpis) for r in results)
    stations = [
        _aggregate([rows[i] for rows in per_rep_stations]) for i in range(len(results[0].stations))
    ]
    fleets = [
        _aggregate([rows[f] for rows in per_rep_fleets]) for f in range(len(results[0].fleets))
    ]
    network = _aggregate(per_rep_network)
    network["grid_co2_kg_per_kwh"] = scenario.economics.grid_co2_kg_per_kwh
    network["diesel_co2_kg_per_l"] = scenario.economics.diesel_co2_kg_per_l
    return {
        "schema": SUMMARY_SCHEMA,
        "scenario": {
            "id": scenario.id,
            "name": scenario.name,
            "description": scenario.description,
            "days": scenario.days,
            "warmup_days": scenario.warmup_days,
            "seed": scenario.seed,
            "replications": len(results),
            "policy": policy,
        },
        "stations": stations,
        "fleets": fleets,
        "network": network,
        "run": {
            "wall_s": wall_s,
            "swaps_simulated": swaps,
            "swaps_per_wall_s": swaps / wall_s if wall_s > 0 else math.nan,
            "events_fired": sum(r.events_fired for r in results),
        },
    }
