"""The network twin: trucks driving corridors, spending energy, resting and swapping at stations.

Each truck is a row in flat, index-addressed lists. A truck plans one leg at a time: straight to
its destination when the energy allows (keeping the scenario's reserve), otherwise to the
furthest station ahead it believes can serve it. Informed drivers only consider stations whose
designs and stock fit their truck and packs (the compatibility engine decides, once per fleet and
station, before the run); uninformed drivers consider every station on their carriageway and
discover an incompatible one only on arrival, which costs a wasted trip. Stations are
`SwapStation`s on the shared event loop. Semantics and units: docs/design/simulator.md.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from openswap.domain.compatibility import DEFAULT_RULES
from openswap.domain.energy import Segment, segment_energy_kwh
from openswap.domain.planning import NetworkView, RouteAdvisor, Scheduler, TruckLeg
from openswap.domain.scenario import Corridor, Direction, Fleet, Scenario, StationSite
from openswap.sim.core import LATE, EventLoop
from openswap.sim.station import (
    Departure,
    Exponential,
    StationConfig,
    StationKpis,
    SwapStation,
    Triangular,
    Uniform,
)

SECONDS_PER_DAY = 86_400.0
SECONDS_PER_HOUR = 3_600.0
SAMPLE_INTERVAL_S = 900.0  # the 15-minute time series
RESCUE_DELAY_S = 2 * 3600.0  # a stranded truck waits this long for a mobile charger [estimate]
INCOMPATIBLE = "incompatible"  # wasted-trip reason: the station cannot take the truck's packs

SchedulerFactory = Callable[[StationSite, StationConfig], Scheduler]
"""Builds the charging policy of one station (called once per station and run)."""


class _EnergyLine:
    """Cumulative traction energy along a corridor for one mass and speed, in both directions.

    `forward[k]` is the energy (kWh, regeneration netted) to drive from km 0 to boundary k;
    `backward[k]` the energy from the far end back to boundary k. Energy between two points is a
    difference of cumulative energies: looked up in a table for the `marks` given at
    construction (station and trip-end positions, where planning asks), interpolated in
    O(log segments) elsewhere (rest stops).
    """

    __slots__ = ("_backward_at", "_forward_at", "backward", "bounds", "forward")

    def __init__(
        self,
        scenario: Scenario,
        corridor: Corridor,
        mass_kg: float,
        speed_kmh: float,
        marks: Sequence[float] = (),
    ) -> None:
        bounds = [0.0]
        fwd = [0.0]
        per_segment_back: list[float] = []
        for seg in corridor.profile:
            ahead = Segment(seg.length_km, seg.grade_frac, speed_kmh)
            back = Segment(seg.length_km, -seg.grade_frac, speed_kmh)
            bounds.append(bounds[-1] + seg.length_km)
            fwd.append(fwd[-1] + segment_energy_kwh(scenario.energy, mass_kg, ahead))
            per_segment_back.append(segment_energy_kwh(scenario.energy, mass_kg, back))
        bwd = [0.0] * len(bounds)
        for k in range(len(bounds) - 2, -1, -1):
            bwd[k] = bwd[k + 1] + per_segment_back[k]
        self.bounds = bounds
        self.forward = fwd
        self.backward = bwd
        self._forward_at = {km: self._at(fwd, km) for km in marks}
        self._backward_at = {km: self._at(bwd, km) for km in marks}

    def _at(self, table: list[float], km: float) -> float:
        bounds = self.bounds
        k = min(max(bisect.bisect_right(bounds, km) - 1, 0), len(bounds) - 2)
        width = bounds[k + 1] - bounds[k]
        frac = (km - bounds[k]) / width if width > 0 else 0.0
        return table[k] + (table[k + 1] - table[k]) * frac

    def between(self, from_km: float, to_km: float) -> float:
        """Energy in kWh to drive from `from_km` to `to_km` in the direction that implies."""
        if to_km >= from_km:
            at, table = self._forward_at, self.forward
        else:
            at, table = self._backward_at, self.backward
        e_to = at.get(to_km)
        if e_to is None:
            e_to = self._at(table, to_km)
        e_from = at.get(from_km)
        if e_from is None:
            e_from = self._at(table, from_km)
        return e_to - e_from


@dataclass(slots=True)
class FleetOutcome:
    """What one fleet's trucks did."""

    trips: int = 0
    distance_km: float = 0.0
    traction_kwh: float = 0.0  # battery energy spent driving (regeneration netted)
    driving_s: float = 0.0  # ideal driving time of completed trips
    trip_s: float = 0.0  # actual time of completed trips (driving, queues, swaps, rests)
    swaps: int = 0
    wasted_trips: dict[str, int] = field(default_factory=dict)
    stranded: int = 0
    rescue_kwh: float = 0.0
    depot_kwh: float = 0.0  # charged at the trip ends during turnarounds


@dataclass(frozen=True, slots=True)
class RunResult:
    """One replication of a scenario: per-station KPIs, fleet outcomes, events and series.

    Station KPIs cover the measured window after warm-up (`measured_s`). `events` and `series`
    are column tables (dict of equal-length lists).
    """

    scenario_id: str
    replication: int
    seed: int
    measured_s: float
    warmup_s: float
    stations: tuple[StationSite, ...]
    station_kpis: tuple[StationKpis, ...]
    incompatible_arrivals: tuple[int, ...]  # per station, after warm-up
    energy_out_kwh: tuple[float, ...]  # per station: energy in packs handed to trucks
    energy_in_kwh: tuple[float, ...]  # per station: energy in packs taken from trucks
    fleets: tuple[Fleet, ...]
    fleet_outcomes: tuple[FleetOutcome, ...]
    events: dict[str, list[float | int | str]]
    series: dict[str, list[float | int | str]]
    pack_models: tuple[str, ...]
    packs_total: int
    events_fired: int
    pack_capacity_kwh: tuple[float, ...]  # per serial
    pack_cycle_life: tuple[float, ...]  # per serial
    pack_throughput_kwh: tuple[float, ...]  # per serial, charged plus discharged, whole run
    elapsed_s: float  # warm-up plus measured time (the span of the throughput)


def _duration(scenario: Scenario) -> tuple[Triangular | Exponential, Uniform]:
    t = scenario.timing
    service: Triangular | Exponential = (
        Exponential(t.service_mode_s)
        if t.exponential_service
        else Triangular(t.service_min_s, t.service_mode_s, t.service_max_s)
    )
    return service, Uniform(t.overhead_min_s, t.overhead_max_s)


def build_station_config(
    scenario: Scenario, site: StationSite, pack_models: Sequence[str]
) -> StationConfig:
    """The station model's parameters for `site`; pack model indices follow `pack_models`."""
    service, overhead = _duration(scenario)
    counts = {pm.id: n for pm, n in site.stock}
    capacity = {pm.id: pm.usable_energy_kwh for pm, _ in site.stock}
    for fleet in scenario.fleets:
        capacity.setdefault(fleet.pack_model.id, fleet.pack_model.usable_energy_kwh)
    design = site.design
    return StationConfig(
        bays=site.bays,
        slots=site.slots,
        charger_power_kw=site.charger_power_kw,
        charger_efficiency=site.charger_efficiency,
        grid_kva=design.grid_kva,
        power_factor=design.power_factor,
        aux_load_kw=design.aux_load_kw,
        pack_capacity_kwh=tuple(capacity.get(m, 1.0) for m in pack_models),
        packs_per_model=tuple(counts.get(m, 0) for m in pack_models),
        initial_soc=1.0,
        charged_soc=scenario.charged_soc,
        swap_service=service,
        entry_exit=overhead,
        stock_patience_s=scenario.timing.patience_s,
        hourly_price_cny_per_kwh=site.tariff.hourly_prices_cny_per_kwh,
    )


def can_serve(scenario: Scenario, fleet: Fleet, site: StationSite) -> bool:
    """Whether `site` can swap `fleet`'s packs: every static rule passes for the fleet's vehicle
    model and pack model at the site's design (with both sides' adapters) and the site stocks
    enough packs of that model for one truck."""
    stocked = sum(n for pm, n in site.stock if pm.id == fleet.pack_model.id)
    if stocked < fleet.packs_per_vehicle:
        return False
    results = DEFAULT_RULES.static_results(
        fleet.vehicle_model, fleet.pack_model, site.design, fleet.adapters + site.adapters
    )
    return all(r.passed for r in results)


class NetworkTwin:
    """One replication of a scenario on one event loop."""

    def __init__(
        self,
        scenario: Scenario,
        scheduler_factory: SchedulerFactory,
        replication: int = 0,
        advisor: RouteAdvisor | None = None,
    ) -> None:
        self.scenario = scenario
        self.advisor = advisor
        self.replication = replication
        self.seed = scenario.seed + 1_000_003 * replication
        self.loop = EventLoop()
        self._rng = random.Random(f"{self.seed}/trucks")
        self._warmup_s = scenario.warmup_days * SECONDS_PER_DAY
        self._end_s = self._warmup_s + scenario.days * SECONDS_PER_DAY
        self._departures_open = True

        models: list[str] = []
        for site in scenario.stations:
            models.extend(pm.id for pm, _ in site.stock)
        models.extend(f.pack_model.id for f in scenario.fleets)
        self.pack_models = tuple(dict.fromkeys(models))
        model_index = {m: i for i, m in enumerate(self.pack_models)}

        # Stations.
        self.sites = scenario.stations
        self._site_km = [site.km for site in self.sites]
        self.stations: list[SwapStation] = []
        serial = 0
        for i, site in enumerate(self.sites):
            config = build_station_config(scenario, site, self.pack_models)
            station = SwapStation(
                self.loop,
                config,
                scheduler_factory(site, config),
                random.Random(f"{self.seed}/station/{i}"),
                first_serial=serial,
            )
            serial += station.pack_count
            self.stations.append(station)
        # Per pack serial: usable energy, rated cycle life, SoC when last handed over, and the
        # energy it has charged and discharged (for ageing).
        self._pack_cap: list[float] = []
        self._pack_life: list[float] = []
        self._pack_soc: list[float] = []
        self._pack_throughput: list[float] = []
        for site, station in zip(self.sites, self.stations, strict=True):
            # Serials follow the station's slot order: by pack model index.
            stocked = sorted(site.stock, key=lambda entry: model_index[entry[0].id])
            for model, count in stocked:
                for _ in range(count):
                    self._add_pack(
                        model.usable_energy_kwh, model.cycle_life, station.config.initial_soc
                    )
        self._incompatible = [0] * len(self.sites)
        self._energy_out = [0.0] * len(self.sites)
        self._energy_in = [0.0] * len(self.sites)

        # Per fleet: energy lines (empty, loaded), capacity, stations by direction.
        self.fleets = scenario.fleets
        self._outcomes = [FleetOutcome() for _ in self.fleets]
        self._lines: list[tuple[_EnergyLine, _EnergyLine]] = []
        self._capacity: list[float] = []
        self._model: list[int] = []
        self._serves: list[list[bool]] = []
        self._stops: list[dict[Direction, list[int]]] = []  # stations on each carriageway
        self._onward_cache: dict[tuple[int, float], float] = {}
        lines: dict[tuple[str, float, float], _EnergyLine] = {}

        def line(corridor: Corridor, mass_kg: float, speed_kmh: float) -> _EnergyLine:
            key = (corridor.id, mass_kg, speed_kmh)
            if key not in lines:
                # Planning asks for energies between stations and trip ends: tabulate them.
                marks = [s.km for s in self.sites if s.corridor == corridor.id]
                marks.extend(
                    km
                    for f in self.fleets
                    if f.corridor == corridor.id
                    for km in (f.origin_km, f.destination_km)
                )
                lines[key] = _EnergyLine(scenario, corridor, mass_kg, speed_kmh, marks)
            return lines[key]

        for fleet in self.fleets:
            corridor = scenario.corridor(fleet.corridor)
            speed = fleet.cruise_speed_kmh
            self._lines.append(
                (
                    line(corridor, fleet.empty_mass_kg, speed),
                    line(corridor, fleet.empty_mass_kg + fleet.payload_kg, speed),
                )
            )
            self._capacity.append(fleet.packs_per_vehicle * fleet.pack_model.usable_energy_kwh)
            self._model.append(model_index[fleet.pack_model.id])
            self._serves.append(
                [s.corridor == fleet.corridor and can_serve(scenario, fleet, s) for s in self.sites]
            )
            by_dir: dict[Direction, list[int]] = {}
            for d in Direction:
                on_road = [
                    i
                    for i, s in enumerate(self.sites)
                    if s.corridor == fleet.corridor and d in s.directions
                ]
                on_road.sort(key=lambda i: self.sites[i].km, reverse=d is Direction.BACKWARD)
                by_dir[d] = on_road
            self._stops.append(by_dir)

        # Trucks: flat lists indexed by truck number.
        self._fleet: list[int] = []
        self._pos: list[float] = []
        self._energy: list[float] = []
        self._dest: list[float] = []
        self._origin: list[float] = []
        self._loaded: list[bool] = []
        self._informed: list[bool] = []
        self._serials: list[tuple[int, ...]] = []
        self._since_rest_s: list[float] = []
        self._trip_start: list[float] = []
        self._trip_km: list[float] = []
        self._trip_kwh: list[float] = []
        self._arrived_at: list[float] = []
        # Stations visited since the truck last swapped: never planned again before it moves on.
        self._tried: list[set[int]] = []
        self._announced_at: list[int] = []  # station the truck announced itself to, or -1
        self._next_departure: list[float] = []
        for f, fleet in enumerate(self.fleets):
            cycle_s = SECONDS_PER_DAY / fleet.trips_per_day
            for _ in range(fleet.count):
                t = len(self._fleet)
                self._fleet.append(f)
                self._pos.append(fleet.origin_km)
                self._origin.append(fleet.origin_km)
                self._dest.append(fleet.destination_km)
                self._energy.append(self._capacity[f] * fleet.initial_soc)
                self._loaded.append(False)
                self._informed.append(self._rng.random() < fleet.informed_share)
                self._serials.append(tuple(range(serial, serial + fleet.packs_per_vehicle)))
                serial += fleet.packs_per_vehicle
                for _ in range(fleet.packs_per_vehicle):
                    self._add_pack(
                        fleet.pack_model.usable_energy_kwh,
                        fleet.pack_model.cycle_life,
                        fleet.initial_soc,
                    )
                self._since_rest_s.append(0.0)
                self._trip_start.append(0.0)
                self._trip_km.append(0.0)
                self._trip_kwh.append(0.0)
                self._arrived_at.append(0.0)
                self._tried.append(set())
                self._announced_at.append(-1)
                first = self._draw_departure(fleet, cycle_s)
                self._next_departure.append(first + cycle_s)
                self.loop.schedule_at(first, self._depart, t)
        self.packs_total = serial

        # Outputs.
        self._events: dict[str, list[float | int | str]] = {
            k: []
            for k in (
                "time_s",
                "station",
                "truck",
                "fleet",
                "pack_model",
                "outcome",
                "queue_wait_s",
                "stock_wait_s",
                "soc_in",
                "soc_out",
                "packs",
            )
        }
        self._series: dict[str, list[float | int | str]] = {
            k: [] for k in ("time_s", "station", "charged_packs", "packs_on_site")
        }
        self._kpis_at_warmup: list[StationKpis] | None = None
        self._incompatible_at_warmup: list[int] = []
        self._energy_at_warmup: tuple[list[float], list[float]] = ([], [])
        self.loop.schedule_at(0.0, self._sample, priority=LATE)
        if self._warmup_s > 0:
            self.loop.schedule_at(self._warmup_s, self._end_warmup, priority=LATE)

    def _add_pack(self, capacity_kwh: float, cycle_life: float, soc: float) -> None:
        self._pack_cap.append(capacity_kwh)
        self._pack_life.append(cycle_life)
        self._pack_soc.append(soc)
        self._pack_throughput.append(0.0)

    def _share_throughput(self, t: int, energy_kwh: float) -> None:
        """Book energy that went into or out of a truck's packs, shared evenly among them."""
        serials = self._serials[t]
        each = abs(energy_kwh) / len(serials)
        throughput = self._pack_throughput
        for s in serials:
            throughput[s] += each

    # --- departures ---------------------------------------------------------------------------

    def _draw_departure(self, fleet: Fleet, cycle_s: float) -> float:
        """A first departure time on day 0 from the fleet's hourly profile, within one cycle."""
        weights = fleet.departure_weights
        hour = self._rng.choices(range(24), weights=weights)[0]
        t = hour * SECONDS_PER_HOUR + self._rng.random() * SECONDS_PER_HOUR
        return t % cycle_s if cycle_s < SECONDS_PER_DAY else t

    def _depart(self, t: int) -> None:
        if not self._departures_open:
            return
        f = self._fleet[t]
        fleet = self.fleets[f]
        self._loaded[t] = self._rng.random() < fleet.loaded_share
        self._trip_start[t] = self.loop.now
        self._tried[t] = set()
        self._trip_km[t] = 0.0
        self._trip_kwh[t] = 0.0
        self._plan(t)

    # --- driving --------------------------------------------------------------------------------

    def _plan(self, t: int) -> None:
        """Choose and start the next leg: destination, a station, a rest, or a rescue."""
        f = self._fleet[t]
        fleet = self.fleets[f]
        line = self._lines[f][1 if self._loaded[t] else 0]
        pos, energy = self._pos[t], self._energy[t]
        usable = energy - self.scenario.reserve_frac * self._capacity[f]
        target_km = self._dest[t]
        target_station = -1
        if line.between(pos, target_km) + self._onward_kwh(t) > usable:
            informed = self._informed[t]
            serves = self._serves[f]
            tried = self._tried[t]
            dest = target_km
            forward = dest >= pos
            site_km = self._site_km
            candidates: list[int] = []
            for i in self._stops[f][Direction.FORWARD if forward else Direction.BACKWARD]:
                km = site_km[i]
                ahead = pos <= km <= dest if forward else dest <= km <= pos
                if not ahead or i in tried or (informed and not serves[i]):
                    continue
                if line.between(pos, km) > usable:
                    break
                target_km, target_station = km, i
                candidates.append(i)
            if self.advisor is not None and informed and len(candidates) > 1:
                advised = self._advised(t, candidates)
                if advised >= 0:
                    target_km, target_station = site_km[advised], advised
            if target_station < 0:
                if line.between(pos, target_km) > usable:
                    self._strand(t)
                    return
                # The destination is in reach, only the reserve for the way back is not: go
                # anyway (and hope for a charge or a rescue there) rather than wait here.
                target_km = self._dest[t]
        speed = fleet.cruise_speed_kmh
        drive_s = abs(target_km - pos) / speed * SECONDS_PER_HOUR
        allowance_s = self.scenario.driver.max_continuous_drive_s - self._since_rest_s[t]
        self._announce(t, target_station, drive_s, allowance_s)
        if drive_s > allowance_s:
            # Rest where the drivers'-hours limit falls, then plan again from there.
            step_km = max(allowance_s, 0.0) / SECONDS_PER_HOUR * speed
            rest_km = pos + step_km if target_km >= pos else pos - step_km
            self._drive(t, rest_km, max(allowance_s, 0.0), line)
            self._since_rest_s[t] = 0.0
            self.loop.schedule_after(
                max(allowance_s, 0.0) + self.scenario.driver.min_rest_s, self._plan, t
            )
            return
        self._drive(t, target_km, drive_s, line)
        self._since_rest_s[t] += drive_s
        if target_station >= 0:
            self.loop.schedule_after(drive_s, self._arrive_station, t, target_station)
        else:
            self.loop.schedule_after(drive_s, self._arrive_destination, t)

    def _announce(self, t: int, i: int, drive_s: float, allowance_s: float) -> None:
        """Tell station i (if it can serve the truck) when the truck expects to arrive, and
        withdraw an announcement made to another station. Stations only pass this on to their
        schedulers: it changes no event."""
        before = self._announced_at[t]
        if before >= 0 and before != i:
            self.stations[before].withdraw(t)
        f = self._fleet[t]
        if i < 0 or not self._serves[f][i]:
            self._announced_at[t] = -1
            return
        eta = self.loop.now + drive_s
        if drive_s > allowance_s:
            eta += self.scenario.driver.min_rest_s
        self.stations[i].announce(t, eta, self._model[f], self.fleets[f].packs_per_vehicle)
        self._announced_at[t] = i

    def _advised(self, t: int, candidates: list[int]) -> int:
        """The advisor's station for truck t if it is one of `candidates`, else -1."""
        assert self.advisor is not None
        f = self._fleet[t]
        fleet = self.fleets[f]
        stations = self.stations
        leg = TruckLeg(
            truck=t,
            time_s=self.loop.now,
            corridor=fleet.corridor,
            position_km=self._pos[t],
            destination_km=self._dest[t],
            speed_kmh=fleet.cruise_speed_kmh,
            pack_model=self._model[f],
            packs=fleet.packs_per_vehicle,
            candidates=tuple(candidates),
        )
        view = NetworkView(
            time_s=self.loop.now,
            station_km=tuple(self._site_km),
            station_bays=tuple(s.config.bays for s in stations),
            charged_stock=tuple(s.charged_stock() for s in stations),
            trucks_at_station=tuple(s.trucks_on_site for s in stations),
            announced_arrivals=tuple(s.announced_arrivals() for s in stations),
            leg=leg,
        )
        choice = self.advisor.advise(view).get(t, -1)
        return choice if choice in candidates else -1

    def _onward_kwh(self, t: int) -> float:
        """Energy a truck on a return schedule must still hold at its destination: enough to
        reach the first station on the way back that can serve it (loaded, to be safe)."""
        f = self._fleet[t]
        fleet = self.fleets[f]
        if not fleet.return_trips or fleet.depot_charge_kw > 0:
            return 0.0
        key = (f, self._dest[t])
        cached = self._onward_cache.get(key)
        if cached is not None:
            return cached
        start, home = self._dest[t], self._origin[t]
        back = Direction.FORWARD if home >= start else Direction.BACKWARD
        need = 0.0
        for i in self._stops[f][back]:
            km = self.sites[i].km
            on_the_way = start <= km <= home if back is Direction.FORWARD else home <= km <= start
            if on_the_way and self._serves[f][i]:
                need = self._lines[f][1].between(start, km)
                break
        self._onward_cache[key] = need
        return need

    def _drive(self, t: int, to_km: float, drive_s: float, line: _EnergyLine) -> None:
        """Book a leg: position, energy and trip distance change at departure; the arrival event
        is scheduled by the caller. Energy may not go below zero (the planner keeps a reserve)."""
        used = line.between(self._pos[t], to_km)
        self._trip_km[t] += abs(to_km - self._pos[t])
        self._trip_kwh[t] += used
        self._share_throughput(t, used)
        self._pos[t] = to_km
        self._energy[t] = max(self._energy[t] - used, 0.0)

    def _strand(self, t: int) -> None:
        """No station in reach: a mobile charger brings just enough energy to go on."""
        f = self._fleet[t]
        outcome = self._outcomes[f]
        outcome.stranded += 1
        grant = self.scenario.reserve_frac * self._capacity[f] + 0.5 * self._capacity[f]
        grant = min(grant, self._capacity[f] - self._energy[t])
        outcome.rescue_kwh += grant
        self._energy[t] += grant
        self._share_throughput(t, grant)
        self._since_rest_s[t] = 0.0
        self._record(-1, t, "stranded", 0.0, 0.0, 0.0, 0.0, 0)
        self.loop.schedule_after(RESCUE_DELAY_S, self._plan, t)

    # --- stations -------------------------------------------------------------------------------

    def _arrive_station(self, t: int, i: int) -> None:
        f = self._fleet[t]
        self._arrived_at[t] = self.loop.now
        self._tried[t].add(i)
        soc = self._energy[t] / self._capacity[f]
        if not self._serves[f][i]:
            # Only uninformed drivers come here; they find out at the gate and drive on.
            self._incompatible[i] += 1
            self._outcomes[f].wasted_trips[INCOMPATIBLE] = (
                self._outcomes[f].wasted_trips.get(INCOMPATIBLE, 0) + 1
            )
            self._record(i, t, INCOMPATIBLE, 0.0, 0.0, soc, soc, 0)
            timing = self.scenario.timing
            lost_s = self._rng.uniform(timing.overhead_min_s, timing.overhead_max_s)
            self.loop.schedule_after(lost_s, self._plan, t)
            return
        self.stations[i].arrive(
            self.loop.now,
            t,
            self._model[f],
            self.fleets[f].packs_per_vehicle,
            min(max(soc, 0.0), 1.0),
            partial(self._leave_station, i),
            self._serials[t],
        )

    def _leave_station(self, i: int, dep: Departure) -> None:
        t = dep.truck_idx
        f = self._fleet[t]
        cap_pack = self.fleets[f].pack_model.usable_energy_kwh
        soc_in = self._energy[t] / self._capacity[f]
        outcome = self._outcomes[f]
        if dep.wasted is None:
            pack_soc, throughput = self._pack_soc, self._pack_throughput
            for s in self._serials[t]:
                pack_soc[s] = soc_in
            for s, soc in zip(dep.pack_serials, dep.soc_out, strict=True):
                throughput[s] += max(soc - pack_soc[s], 0.0) * self._pack_cap[s]
                pack_soc[s] = soc
            energy_out = sum(dep.soc_out) * cap_pack
            self._energy_out[i] += energy_out
            self._energy_in[i] += self._energy[t]
            self._energy[t] = energy_out
            self._serials[t] = dep.pack_serials
            outcome.swaps += 1
            self._tried[t] = {i}
            result = "swap"
        else:
            result = str(dep.wasted)
            outcome.wasted_trips[result] = outcome.wasted_trips.get(result, 0) + 1
        self._record(
            i,
            t,
            result,
            dep.queue_wait_s,
            dep.stock_wait_s,
            soc_in,
            self._energy[t] / self._capacity[f],
            len(dep.pack_serials) if dep.wasted is None else 0,
        )
        # A long stop is a rest; a driver past half the allowance tops the stop up to one.
        dwell_s = self.loop.now - self._arrived_at[t]
        rules = self.scenario.driver
        extra_s = 0.0
        if dwell_s >= rules.min_rest_s:
            self._since_rest_s[t] = 0.0
        elif self._since_rest_s[t] >= 0.5 * rules.max_continuous_drive_s:
            extra_s = rules.min_rest_s - dwell_s
            self._since_rest_s[t] = 0.0
        self.loop.schedule_after(extra_s, self._plan, t)

    def _arrive_destination(self, t: int) -> None:
        f = self._fleet[t]
        fleet = self.fleets[f]
        now = self.loop.now
        outcome = self._outcomes[f]
        if now >= self._warmup_s:
            outcome.trips += 1
            outcome.distance_km += self._trip_km[t]
            outcome.traction_kwh += self._trip_kwh[t]
            outcome.driving_s += self._trip_km[t] / fleet.cruise_speed_kmh * SECONDS_PER_HOUR
            outcome.trip_s += now - self._trip_start[t]
        if not fleet.return_trips:
            return
        self._origin[t], self._dest[t] = self._dest[t], self._origin[t]
        self._since_rest_s[t] = 0.0  # the turnaround is longer than a rest
        if fleet.depot_charge_kw > 0:
            room = self._capacity[f] * fleet.initial_soc - self._energy[t]
            charged = min(max(room, 0.0), fleet.depot_charge_kw * fleet.turnaround_s / 3600.0)
            self._energy[t] += charged
            self._share_throughput(t, charged)
            if now >= self._warmup_s:
                outcome.depot_kwh += charged
        # Trucks keep a timetable: the next slot at or after loading or unloading is done.
        cycle_s = SECONDS_PER_DAY / fleet.trips_per_day
        ready = now + fleet.turnaround_s
        slot = self._next_departure[t]
        if slot < ready:
            slot += math.ceil((ready - slot) / cycle_s) * cycle_s
        self._next_departure[t] = slot + cycle_s
        self.loop.schedule_at(slot, self._depart, t)

    # --- bookkeeping --------------------------------------------------------------------------

    def _record(
        self,
        i: int,
        t: int,
        outcome: str,
        queue_wait_s: float,
        stock_wait_s: float,
        soc_in: float,
        soc_out: float,
        packs: int,
    ) -> None:
        if self.loop.now < self._warmup_s:
            return
        ev = self._events
        ev["time_s"].append(self.loop.now)
        ev["station"].append(self.sites[i].id if i >= 0 else "")
        ev["truck"].append(t)
        fleet = self.fleets[self._fleet[t]]
        ev["fleet"].append(fleet.id)
        ev["pack_model"].append(fleet.pack_model.id)
        ev["outcome"].append(outcome)
        ev["queue_wait_s"].append(queue_wait_s)
        ev["stock_wait_s"].append(stock_wait_s)
        ev["soc_in"].append(soc_in)
        ev["soc_out"].append(soc_out)
        ev["packs"].append(packs)

    def _sample(self) -> None:
        now = self.loop.now
        if now >= self._warmup_s:
            se = self._series
            for site, station in zip(self.sites, self.stations, strict=True):
                se["time_s"].append(now)
                se["station"].append(site.id)
                se["charged_packs"].append(sum(station.charged_stock()))
                # Every pack on site sits in a slot and a swap exchanges packs one for one.
                se["packs_on_site"].append(station.pack_count)
        if now + SAMPLE_INTERVAL_S < self._end_s:
            self.loop.schedule_after(SAMPLE_INTERVAL_S, self._sample, priority=LATE)

    def _end_warmup(self) -> None:
        self._kpis_at_warmup = [s.kpis() for s in self.stations]
        self._incompatible_at_warmup = list(self._incompatible)
        self._energy_at_warmup = (list(self._energy_out), list(self._energy_in))

    # --- running --------------------------------------------------------------------------------

    def run(self, progress: Callable[[float], None] | None = None) -> RunResult:
        """Simulate warm-up plus the measured days and return the measured window's results.

        `progress(fraction)` is called after every simulated hour with the share done (0..1].
        """
        if progress is None:
            self.loop.run(self._end_s)
        else:
            t = 0.0
            while t < self._end_s:
                t = min(t + SECONDS_PER_HOUR, self._end_s)
                self.loop.run(t)
                progress(t / self._end_s)
        kpis = [s.kpis() for s in self.stations]
        if self._kpis_at_warmup is not None:
            kpis = [
                window_kpis(before, after)
                for before, after in zip(self._kpis_at_warmup, kpis, strict=True)
            ]
            incompatible = [
                a - b for a, b in zip(self._incompatible, self._incompatible_at_warmup, strict=True)
            ]
            out0, in0 = self._energy_at_warmup
            energy_out = [a - b for a, b in zip(self._energy_out, out0, strict=True)]
            energy_in = [a - b for a, b in zip(self._energy_in, in0, strict=True)]
        else:
            incompatible = list(self._incompatible)
            energy_out, energy_in = list(self._energy_out), list(self._energy_in)
        return RunResult(
            scenario_id=self.scenario.id,
            replication=self.replication,
            seed=self.seed,
            measured_s=self._end_s - self._warmup_s,
            warmup_s=self._warmup_s,
            stations=self.sites,
            station_kpis=tuple(kpis),
            incompatible_arrivals=tuple(incompatible),
            energy_out_kwh=tuple(energy_out),
            energy_in_kwh=tuple(energy_in),
            fleets=self.fleets,
            fleet_outcomes=tuple(self._outcomes),
            events=self._events,
            series=self._series,
            pack_models=self.pack_models,
            packs_total=self.packs_total,
            events_fired=self.loop.fired,
            pack_capacity_kwh=tuple(self._pack_cap),
            pack_cycle_life=tuple(self._pack_life),
            pack_throughput_kwh=tuple(self._pack_throughput),
            elapsed_s=self._end_s,
        )

    def drain(self, limit_s: float) -> None:
        """Stop new trips and run until every truck is parked or `limit_s` more seconds pass."""
        self._departures_open = False
        self.loop.run(self.loop.now + limit_s)

    def pack_locations(self) -> dict[int, str]:
        """Where each pack serial is now: 'station:ID' or 'truck:N' (for conservation checks;
        valid when no truck is at a station, e.g. after `drain`)."""
        where: dict[int, str] = {}
        for site, station in zip(self.sites, self.stations, strict=True):
            for s in station.pack_serials():
                if s >= 0:
                    where[s] = f"station:{site.id}"
        for t, serials in enumerate(self._serials):
            for s in serials:
                if s in where:
                    raise AssertionError(f"pack {s} is both at {where[s]} and on truck {t}")
                where[s] = f"truck:{t}"
        return where


def window_kpis(before: StationKpis, after: StationKpis) -> StationKpis:
    """KPIs of the window between two cumulative readings of the same station."""
    elapsed = after.elapsed_s - before.elapsed_s
    bays = (
        after.bay_busy_s / after.bay_utilisation / after.elapsed_s
        if after.bay_utilisation > 0
        else 1.0
    )
    slots = (
        after.charger_busy_s / after.charger_utilisation / after.elapsed_s
        if after.charger_utilisation > 0
        else 1.0
    )
    bay_busy = after.bay_busy_s - before.bay_busy_s
    charger_busy = after.charger_busy_s - before.charger_busy_s
    skip = len(before.grid_kw_by_interval)
    series = after.grid_kw_by_interval[skip:]
    packs_swapped = after.packs_swapped - before.packs_swapped
    days = elapsed / SECONDS_PER_DAY
    wasted = {
        k: v - before.wasted_trips.get(k, 0)
        for k, v in after.wasted_trips.items()
        if v - before.wasted_trips.get(k, 0)
    }
    return StationKpis(
        elapsed_s=elapsed,
        arrivals=after.arrivals - before.arrivals,
        swaps=after.swaps - before.swaps,
        packs_swapped=packs_swapped,
        wasted_trips=wasted,
        queue_waits_s=after.queue_waits_s[len(before.queue_waits_s) :],
        stock_waits_s=after.stock_waits_s[len(before.stock_waits_s) :],
        bay_busy_s=bay_busy,
        bay_utilisation=bay_busy / (bays * elapsed) if elapsed > 0 else 0.0,
        charger_busy_s=charger_busy,
        charger_utilisation=charger_busy / (slots * elapsed) if elapsed > 0 else 0.0,
        pack_count=after.pack_count,
        pack_turnover_per_day=(
            packs_swapped / after.pack_count / days if days > 0 and after.pack_count else 0.0
        ),
        grid_energy_kwh=after.grid_energy_kwh - before.grid_energy_kwh,
        pack_energy_kwh=after.pack_energy_kwh - before.pack_energy_kwh,
        peak_kw=max(series, default=0.0),
        grid_kw_by_interval=series,
        metering_interval_s=after.metering_interval_s,
        queue_length_area_s=after.queue_length_area_s - before.queue_length_area_s,
        in_station_area_s=after.in_station_area_s - before.in_station_area_s,
        time_in_station_s=after.time_in_station_s - before.time_in_station_s,
    )


def estimated_range_km(fleet: Fleet, scenario: Scenario) -> float:
    """Loaded range on flat road at cruise speed from full usable energy less the reserve."""
    per_km = segment_energy_kwh(
        scenario.energy,
        fleet.empty_mass_kg + fleet.payload_kg,
        Segment(1.0, 0.0, fleet.cruise_speed_kmh),
    )
    usable = fleet.packs_per_vehicle * fleet.pack_model.usable_energy_kwh
    return usable * (1 - scenario.reserve_frac) / per_km if per_km > 0 else math.inf
