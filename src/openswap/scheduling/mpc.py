"""Model-predictive charging: a `Scheduler` that re-solves the station charging LP on a rolling
horizon from each snapshot and applies the first slot.

`build_station_problem` turns a `StationSnapshot` and a demand forecast into a
`ChargingProblem`: the packs on the rack, plus fluid groups of the depleted packs that trucks are
expected to hand in, each due when the forecast says its charged pack will be taken (first in,
first out). Slots are 15 min near the decision and hourly further out, aligned to the clock.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np

from openswap.domain.planning import ChargingPlan, StationSnapshot
from openswap.scheduling.charging import (
    SECONDS_PER_HOUR,
    BoolArray,
    ChargingProblem,
    ChargingSchedule,
    ChargingUnit,
    ScheduleStatus,
    Taper,
    saturated,
    solve_charging,
)
from openswap.scheduling.checks import charge_at_once_plan, check_plan
from openswap.scheduling.lp import LpSolver

SECONDS_PER_DAY = 86_400.0
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class StationDemand:
    """What a station expects: packs taken per local hour and model, and what comes back.

    `packs_per_hour[m][h]` expected packs of model m swapped out in local hour h;
    `soc_in[m]` the SoC of the packs trucks hand in (default 0.25); `packs_per_truck[m]` packs a
    waiting truck needs (default 1); `capacity_kwh[m]` usable energy of a model's pack (default:
    as the rack shows it).
    """

    packs_per_hour: tuple[tuple[float, ...], ...]
    soc_in: tuple[float, ...] = ()
    packs_per_truck: tuple[int, ...] = ()
    capacity_kwh: tuple[float, ...] = ()

    def soc_in_of(self, m: int) -> float:
        return self.soc_in[m] if m < len(self.soc_in) else 0.25

    def packs_per_truck_of(self, m: int) -> int:
        return self.packs_per_truck[m] if m < len(self.packs_per_truck) else 1


@dataclass(frozen=True, slots=True)
class MpcSettings:
    """Horizon, slot grid, weights and re-solve rule of the MPC scheduler."""

    horizon_s: float = 12 * 3600.0  # sees the next valley from any hour of the Fujian tariff
    fine_s: float = 4 * 3600.0  # 15-minute slots this far ahead, hourly slots after
    slot_s: float = 900.0
    coarse_s: float = 3600.0
    min_first_slot_s: float = 60.0  # a shorter first slot is merged into the next
    resolve_every_s: float = 900.0  # full re-solve at these clock boundaries
    resolve_on_event: bool = False  # re-solve when a pack docks (else: follow the plan)
    safety_packs: float = 1.0  # charged packs kept in hand beyond the forecast, per model
    # Announced arrivals (booked swaps) stand for the forecast this far ahead: the forecast's
    # weight ramps from 0 now to 1 at this lead (0: forecast only, announcements added on top).
    announce_lead_s: float = 0.0
    # The LP aims this far above the charged SoC, so float rounding never leaves a pack it
    # planned as charged a hair below the station's threshold (and out of stock).
    ready_margin_soc: float = 0.005
    # A truck's packs are wanted when a bay takes it: mean bay occupancy per truck (entry,
    # swap, exit) and lanes. 0: every queued or announced truck is wanted on arrival.
    bay_time_s: float = 0.0
    bays: int = 1
    early_tie_break_cny_per_kwh_h: float = 1e-4  # among equal prices, charge earlier
    shortage_penalty_cny_per_pack: float = 500.0
    lateness_penalty_cny_per_pack_hour: float = 1000.0
    demand_charge_cny_per_kw: float = 0.0
    solver: LpSolver = LpSolver.GLOP


def _slot_grid(time_of_day_s: float, settings: MpcSettings) -> list[float]:
    """Slot lengths from now: to the next clock quarter, quarters up to `fine_s`, then hours."""
    lengths: list[float] = []
    t = 0.0
    step = settings.slot_s
    first = step - time_of_day_s % step
    if first < settings.min_first_slot_s:
        first += step
    lengths.append(first)
    t = first
    while t < settings.horizon_s - _EPS:
        tod = (time_of_day_s + t) % SECONDS_PER_DAY
        coarse = t >= settings.fine_s and tod % settings.coarse_s < _EPS
        step = settings.coarse_s if coarse else settings.slot_s
        if t >= settings.fine_s and not coarse:
            step = settings.coarse_s - tod % settings.coarse_s  # run on to the next hour
        step = min(step, settings.horizon_s - t)
        lengths.append(step)
        t += step
    return lengths


def _hourly_overlap(tod_s: float, length_s: float, per_hour: tuple[float, ...]) -> float:
    """Expected count in [tod, tod + length) from an hourly rate profile."""
    total = 0.0
    t, end = tod_s, tod_s + length_s
    while t < end - _EPS:
        hour = int(t // SECONDS_PER_HOUR)
        boundary = (hour + 1) * SECONDS_PER_HOUR
        total += per_hour[hour % 24] * (min(boundary, end) - t) / SECONDS_PER_HOUR
        t = boundary
    return total


def _bookings(
    snapshot: StationSnapshot,
    demand: StationDemand,
    share: list[float],
    settings: MpcSettings,
) -> list[tuple[float, int, float]]:
    """(time_s a truck's packs are wanted, pack model, packs) for the trucks queued for a bay
    and those announced, in the order the bays will take them. With `bay_time_s` set, a truck
    is wanted when a bay can take it (the queue ahead of it served at `bays` lanes), not
    before; queued trucks' models are unknown, so each is split by the forecast's shares."""
    step = settings.bay_time_s / max(settings.bays, 1)
    now = snapshot.time_s
    clock = now
    out: list[tuple[float, int, float]] = []
    for _ in range(snapshot.trucks_queued):
        for m, frac in enumerate(share):
            if frac > 0.0:
                out.append((clock, m, frac * demand.packs_per_truck_of(m)))
        clock += step
    for eta, m, packs in snapshot.announced_arrivals:
        at = max(eta, clock) if step > 0.0 else eta
        out.append((at, m, float(packs)))
        clock = max(clock, at) + step
    return out


def _forecast_weight(start_s: float, length_s: float, lead_s: float) -> float:
    """Share of the forecast a slot from `start_s` to `start_s + length_s` (seconds from now)
    keeps when announcements cover demand up to `lead_s` ahead: the mean of a ramp from 0 now
    to 1 at `lead_s`."""
    if lead_s <= 0.0 or start_s >= lead_s:
        return 1.0
    end = start_s + length_s
    inside = min(end, lead_s) - start_s  # the part on the ramp
    ramp_area = inside * (start_s + min(end, lead_s)) / (2.0 * lead_s)
    return (ramp_area + max(end - lead_s, 0.0)) / length_s


@dataclass(frozen=True, slots=True, eq=False)
class StationProblem:
    """A charging problem built from a snapshot, with the rack slot of each real unit."""

    problem: ChargingProblem
    snapshot: StationSnapshot
    expected_in: tuple[tuple[float, ...], ...]  # [model][slot] expected packs taken


def build_station_problem(
    snapshot: StationSnapshot,
    demand: StationDemand,
    taper: Taper,
    settings: MpcSettings = MpcSettings(),
    peak_so_far_kw: float = 0.0,
    model_names: tuple[str, ...] = (),
) -> StationProblem:
    """The charging problem of one station from now over `settings.horizon_s`."""
    lengths = _slot_grid(snapshot.time_of_day_s, settings)
    n = len(lengths)
    starts = np.concatenate(([0.0], np.cumsum(lengths)))
    tod = (snapshot.time_of_day_s + starts[:-1]) % SECONDS_PER_DAY
    hourly = snapshot.hourly_price_cny_per_kwh or (1.0,) * 24
    prices = tuple(hourly[int(x // SECONDS_PER_HOUR) % 24] for x in tod)
    limits = snapshot.slot_max_power_kw
    lim_typical = float(np.median(limits)) if limits else 0.0
    eff_typical = float(np.mean(snapshot.slot_efficiency)) if snapshot.slot_efficiency else 1.0
    n_models = max(len(demand.packs_per_hour), len(snapshot.charged_stock))
    theta = snapshot.charged_soc
    # Trucks queued for a bay want packs too; their models are unknown: forecast shares.
    day_demand = [
        sum(demand.packs_per_hour[m]) if m < len(demand.packs_per_hour) else 0.0
        for m in range(n_models)
    ]
    share = [d / sum(day_demand) if sum(day_demand) > 0 else 0.0 for d in day_demand]
    units: list[ChargingUnit] = []
    expected: list[tuple[float, ...]] = []
    bookings = _bookings(snapshot, demand, share, settings)
    for m in range(n_models):
        rack = [i for i, pm in enumerate(snapshot.slot_pack_model) if pm == m]
        per_hour = demand.packs_per_hour[m] if m < len(demand.packs_per_hour) else (0.0,) * 24
        caps = [snapshot.slot_capacity_kwh[i] for i in rack]
        capacity = (
            demand.capacity_kwh[m]
            if m < len(demand.capacity_kwh)
            else (float(np.median(caps)) if caps else 0.0)
        )
        flow = [
            _hourly_overlap(float(tod[t]), lengths[t], per_hour)
            * _forecast_weight(float(starts[t]), lengths[t], settings.announce_lead_s)
            for t in range(n)
        ]
        booked_now = 0.0
        for due_s, model, packs in bookings:
            if model != m:
                continue
            slot = int(np.searchsorted(starts, due_s - snapshot.time_s, side="right")) - 1
            if slot < 0:
                booked_now += packs  # overdue: wanted now
            elif slot < n:
                flow[slot] += packs
        expected.append(tuple(flow))
        if capacity <= 0.0:
            continue
        waiting = snapshot.trucks_waiting_for_packs[m] if m < len(snapshot.charged_stock) else 0
        now_demand = float(waiting * demand.packs_per_truck_of(m)) + booked_now
        real = np.concatenate(([now_demand], now_demand + np.cumsum(flow)))  # Dr(0..n)
        bounds = real + settings.safety_packs  # D(0..n): demand index boundaries
        # Supply on the rack, in the order it is handed out: charged stock, then nearest full.
        free = [i for i in rack if not snapshot.slot_reserved[i]]
        free.sort(key=lambda i: -snapshot.slot_energy_kwh[i] / snapshot.slot_capacity_kwh[i])

        def due_of(y: float, bounds: np.ndarray = bounds) -> int | None:
            if y >= bounds[-1] - _EPS:
                return None
            return max(int(np.searchsorted(bounds, y, side="right")) - 1, 0)

        for y, i in enumerate(free):
            units.append(
                ChargingUnit(
                    model=m,
                    energy_kwh=snapshot.slot_energy_kwh[i],
                    capacity_kwh=snapshot.slot_capacity_kwh[i],
                    max_power_kw=snapshot.slot_max_power_kw[i],
                    efficiency=snapshot.slot_efficiency[i],
                    due=due_of(float(y)),
                    rack_slot=i,
                )
            )
        # Expected depleted packs: those of the reserved packs' trucks, then one per pack taken.
        r = len(free)
        q = float(sum(1 for i in rack if snapshot.slot_reserved[i]))
        total_in = q + float(real[-1])
        cuts = {0.0, q, total_in}
        cuts.update(float(q + x) for x in real if 0.0 <= q + x <= total_in)
        cuts.update(float(x - r) for x in bounds if 0.0 <= x - r <= total_in)
        ordered = sorted(cuts)
        soc_in = demand.soc_in_of(m)
        for z0, z1 in itertools.pairwise(ordered):
            weight = z1 - z0
            if weight < 1e-6:
                continue
            mid = 0.5 * (z0 + z1)
            if mid < q:
                arrive = 1
            else:
                slot = max(int(np.searchsorted(real, mid - q, side="right")) - 1, 0)
                arrive = slot + 1  # docks during its slot: counted from the next one
            if arrive >= n:
                continue
            due = due_of(r + mid)
            if due is not None:
                due = max(due, arrive)
            units.append(
                ChargingUnit(
                    model=m,
                    energy_kwh=weight * soc_in * capacity,
                    capacity_kwh=capacity,
                    max_power_kw=lim_typical,
                    efficiency=eff_typical,
                    arrive=arrive,
                    due=due,
                    weight=weight,
                )
            )
    problem = ChargingProblem(
        start_s=snapshot.time_s,
        slot_s=tuple(lengths),
        price_cny_per_kwh=prices,
        grid_cap_kw=(snapshot.grid_cap_kw,) * n,
        units=tuple(units),
        taper=taper,
        charged_soc=min(1.0, theta + settings.ready_margin_soc),
        early_tie_break_cny_per_kwh_h=settings.early_tie_break_cny_per_kwh_h,
        shortage_penalty_cny_per_pack=settings.shortage_penalty_cny_per_pack,
        lateness_penalty_cny_per_pack_hour=settings.lateness_penalty_cny_per_pack_hour,
        demand_charge_cny_per_kw=settings.demand_charge_cny_per_kw,
        peak_so_far_kw=peak_so_far_kw,
        model_names=model_names,
    )
    return StationProblem(problem, snapshot, tuple(expected))


def plan_from_schedule(station: StationProblem, schedule: ChargingSchedule) -> ChargingPlan:
    """The first slot of `schedule` as setpoints per rack slot, valid to the slot's end.

    A pack the schedule charges as fast as it can gets what it accepts now: the LP's taper
    bound at the slot's end understates what the CV phase really takes over the slot."""
    snap = station.snapshot
    setpoints = [0.0] * snap.slot_count
    flat_out = saturated(station.problem, schedule.power_kw)
    for k, unit in enumerate(station.problem.units):
        if unit.rack_slot >= 0 and unit.arrive == 0:
            i = unit.rack_slot
            # Wanted now (a truck waits or is about to) or charging flat out: all it takes.
            full = flat_out[k, 0] or unit.due == 0
            planned = snap.slot_accept_kw[i] if full else float(schedule.power_kw[k, 0])
            setpoints[i] = min(planned, snap.slot_accept_kw[i])
    total = math.fsum(setpoints)
    if total > snap.grid_cap_kw:
        scale = snap.grid_cap_kw / total * (1 - 1e-12)
        setpoints = [sp * scale for sp in setpoints]
    return ChargingPlan(tuple(setpoints), snap.time_s + station.problem.slot_s[0])


@dataclass(slots=True)
class MpcStats:
    """What the scheduler did, for benchmarks and reports."""

    solves: int = 0
    repairs: int = 0  # plans made between solves by following the last schedule
    fallbacks: int = 0  # LP failures or plans that failed `check_plan`
    shortages: int = 0  # solves whose optimum left packs short (reasons kept)
    solve_wall_s: float = 0.0
    last_reasons: list[str] = field(default_factory=list)


class MpcChargingScheduler:
    """`Scheduler`: re-solves the charging LP at every `resolve_every_s` clock boundary (and,
    when asked, on every docking) and applies the first slot; between solves a newly docked pack
    gets the per-pack power the last schedule planned for packs of its model arriving now.

    Every plan passes `check_plan(strict=True)` before it leaves; one that does not is replaced
    by charge-at-once within the cap and counted in `stats.fallbacks`.
    """

    def __init__(
        self,
        demand: StationDemand,
        taper: Taper,
        settings: MpcSettings = MpcSettings(),
        model_names: tuple[str, ...] = (),
    ) -> None:
        self.demand = demand
        self.taper = taper
        self.settings = settings
        self.model_names = model_names
        self.stats = MpcStats()
        self._peak_kw = 0.0
        self._next_solve_s = -math.inf
        self._last: tuple[StationProblem, ChargingSchedule] | None = None
        self._last_plan: ChargingPlan | None = None
        self._saturated: BoolArray | None = None

    def plan(self, snapshot: StationSnapshot) -> ChargingPlan:
        started = time.perf_counter()
        if (
            self._last is not None
            and self._last_plan is not None
            and not self.settings.resolve_on_event
            and snapshot.time_s < self._next_solve_s - 1e-6
        ):
            plan = self._repair(snapshot, self._last, self._last_plan)
            self.stats.repairs += 1
        else:
            plan = self._solve(snapshot)
        reasons = check_plan(snapshot, plan, strict=True)
        if reasons:
            self.stats.fallbacks += 1
            self.stats.last_reasons = ["plan failed its check: " + "; ".join(reasons[:3])]
            plan = charge_at_once_plan(snapshot, plan.valid_until_s)
        self._last_plan = plan
        self._peak_kw = max(self._peak_kw, math.fsum(plan.setpoints_kw))
        self.stats.solve_wall_s += time.perf_counter() - started
        return plan

    def _solve(self, snapshot: StationSnapshot) -> ChargingPlan:
        station = build_station_problem(
            snapshot, self.demand, self.taper, self.settings, self._peak_kw, self.model_names
        )
        schedule = solve_charging(station.problem, self.settings.solver)
        self.stats.solves += 1
        if schedule.status is ScheduleStatus.FALLBACK:
            self.stats.fallbacks += 1
            self.stats.last_reasons = list(schedule.reasons)
        elif schedule.reasons:
            self.stats.shortages += 1
            self.stats.last_reasons = list(schedule.reasons)
        self._last = (station, schedule)
        self._saturated = saturated(station.problem, schedule.power_kw)
        every = self.settings.resolve_every_s
        tod = snapshot.time_of_day_s
        to_boundary = every - tod % every
        if to_boundary < self.settings.min_first_slot_s:
            to_boundary += every
        self._next_solve_s = snapshot.time_s + to_boundary
        # The plan expires at the first slot's end; until the next solve, `_repair` follows
        # the schedule slot by slot.
        return plan_from_schedule(station, schedule)

    def _repair(
        self,
        snapshot: StationSnapshot,
        last: tuple[StationProblem, ChargingSchedule],
        previous: ChargingPlan,
    ) -> ChargingPlan:
        """Follow the last schedule in the slot that holds now: packs that stayed get their
        planned power; a pack that docked since gets the per-pack power planned for the
        expected packs of its model, within what is left of the cap."""
        station, schedule = last
        flat_out = self._saturated
        before = station.snapshot
        problem = station.problem
        starts = problem.slot_starts_s()
        t_now = max(int(np.searchsorted(starts, snapshot.time_s + 1e-6, side="right")) - 1, 0)
        t_now = min(t_now, problem.slots - 1)
        t_virtual = min(max(t_now, 1), problem.slots - 1)
        per_pack: dict[int, float] = {}
        weights: dict[int, float] = {}
        unit_of_slot: dict[int, int] = {}
        for k, unit in enumerate(problem.units):
            end = problem.slots if unit.due is None else unit.due
            if unit.rack_slot >= 0:
                unit_of_slot[unit.rack_slot] = k
            elif unit.arrive <= t_virtual < end:
                m = unit.model
                planned = float(schedule.power_kw[k, t_virtual])
                if flat_out is not None and flat_out[k, t_virtual]:
                    planned = unit.weight * unit.max_power_kw
                per_pack[m] = per_pack.get(m, 0.0) + planned
                weights[m] = weights.get(m, 0.0) + unit.weight
        setpoints = [0.0] * snapshot.slot_count
        docked = []
        for i in range(snapshot.slot_count):
            m = snapshot.slot_pack_model[i]
            if m < 0:
                continue
            # A swap replaces a charged pack by a depleted one: energy drops by far more than
            # any rounding; a pack that stayed only gains.
            swapped = before.slot_pack_model[i] != m or snapshot.slot_energy_kwh[i] < (
                before.slot_energy_kwh[i] - 0.1 * snapshot.slot_capacity_kwh[i]
            )
            if swapped:
                docked.append(i)
                w = weights.get(m, 0.0)
                setpoints[i] = per_pack.get(m, 0.0) / w if w > 0 else 0.0
            elif i in unit_of_slot:
                k = unit_of_slot[i]
                setpoints[i] = float(schedule.power_kw[k, t_now])
                due = problem.units[k].due
                if (flat_out is not None and flat_out[k, t_now]) or (
                    due is not None and due <= t_now
                ):
                    setpoints[i] = snapshot.slot_accept_kw[i]
            setpoints[i] = min(setpoints[i], snapshot.slot_accept_kw[i])
        kept = math.fsum(setpoints[i] for i in range(len(setpoints)) if i not in docked)
        room = max(snapshot.grid_cap_kw - kept, 0.0)
        asked = math.fsum(setpoints[i] for i in docked)
        if asked > room:
            scale = room / asked * (1 - 1e-12) if asked > 0 else 0.0
            for i in docked:
                setpoints[i] *= scale
        total = math.fsum(setpoints)
        if total > snapshot.grid_cap_kw:
            scale = snapshot.grid_cap_kw / total * (1 - 1e-12)
            setpoints = [sp * scale for sp in setpoints]
        slot_end = float(starts[t_now] + problem.slot_s[t_now])
        valid_until = min(slot_end, self._next_solve_s)
        if not valid_until > snapshot.time_s:
            valid_until = snapshot.time_s + self.settings.min_first_slot_s
        return ChargingPlan(tuple(setpoints), valid_until)
