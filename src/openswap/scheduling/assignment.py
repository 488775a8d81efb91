"""Arrival assignment: which station each truck on a corridor should swap at, and which packs
to hold for it there, so that total waiting plus detour time is least.

A generalized assignment problem (each truck needs several packs of one model, stations offer a
forecast charged stock per model), solved exactly with OR-Tools CP-SAT. Energy feasibility and
compatibility are decided before the model: a (truck, station, pack model) arc exists only when
the truck can reach the station with its reserve and may swap that model there; every truck with
no arc, or left without stock, is reported with the reason. Formulation: docs/design/scheduling.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from openswap.domain.errors import InputError, Problem
from openswap.domain.scenario import Direction

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class TruckRequest:
    """A truck that will need a swap in the planning horizon.

    `pack_models` are the models it may take (all its packs are of one model); `stations` the
    stations whose design takes its vehicle and packs (None: every station). `destination_km`
    bounds its route: a station beyond it costs the way there and back as detour.
    """

    id: str
    km: float
    direction: Direction
    energy_kwh: float  # in its packs now
    consumption_kwh_per_km: float
    reserve_kwh: float  # must still be in the packs on arrival at the station
    packs: int  # packs it swaps
    pack_models: tuple[str, ...]
    stations: frozenset[str] | None = None
    destination_km: float | None = None
    speed_kmh: float = 80.0


@dataclass(frozen=True, slots=True)
class StationOffer:
    """A station as the planner sees it over the horizon.

    `stock` is the forecast number of charged packs per model the station can promise to
    trucks in the horizon; `access_km` the off-corridor distance from the carriageway to the
    bays and back (detour for every truck that stops).
    """

    id: str
    km: float
    directions: frozenset[Direction]
    stock: Mapping[str, int]
    expected_wait_s: float
    access_km: float = 0.0


@dataclass(frozen=True, slots=True)
class Arc:
    """A feasible choice: truck `truck` swaps `packs` packs of `pack_model` at `station`."""

    truck: int  # index into the trucks
    station: int  # index into the stations
    pack_model: str
    packs: int
    distance_km: float  # along the corridor plus half the access detour
    energy_on_arrival_kwh: float
    wait_s: float
    detour_s: float

    @property
    def cost_s(self) -> float:
        return self.wait_s + self.detour_s


@dataclass(frozen=True, slots=True)
class Assignment:
    """One truck's suggested station and the packs to hold there for it."""

    truck: str
    station: str
    pack_model: str
    packs: int
    distance_km: float
    energy_on_arrival_kwh: float
    wait_s: float
    detour_s: float


@dataclass(frozen=True, slots=True)
class Unassigned:
    truck: str
    reason: str


@dataclass(frozen=True, slots=True)
class AssignmentPlan:
    assignments: tuple[Assignment, ...]
    unassigned: tuple[Unassigned, ...]
    total_cost_s: float  # waiting plus detour of the assigned trucks
    status: str  # "optimal" or "feasible" (time limit reached)
    held: dict[tuple[str, str], int] = field(default_factory=dict)  # (station, model) -> packs


def _ahead(truck: TruckRequest, km: float) -> bool:
    if truck.direction is Direction.FORWARD:
        return km >= truck.km
    return km <= truck.km


def _overshoot_km(truck: TruckRequest, km: float) -> float:
    if truck.destination_km is None:
        return 0.0
    if truck.direction is Direction.FORWARD:
        return max(km - truck.destination_km, 0.0)
    return max(truck.destination_km - km, 0.0)


def check_requests(trucks: Sequence[TruckRequest], stations: Sequence[StationOffer]) -> None:
    """Raise InputError naming every malformed truck or station field."""
    problems: list[Problem] = []
    for i, t in enumerate(trucks):
        where = f"trucks[{i}]"
        if t.packs < 1:
            problems.append(Problem(f"truck {t.id}: packs must be at least 1", field=where))
        if t.energy_kwh < 0 or t.reserve_kwh < 0:
            problems.append(
                Problem(f"truck {t.id}: energy and reserve must be >= 0 kWh", field=where)
            )
        if t.consumption_kwh_per_km <= 0 or t.speed_kmh <= 0:
            problems.append(
                Problem(f"truck {t.id}: consumption and speed must be positive", field=where)
            )
    ids = [s.id for s in stations]
    if len(set(ids)) != len(ids):
        problems.append(Problem("station ids must be unique", field="stations"))
    for j, s in enumerate(stations):
        if any(n < 0 for n in s.stock.values()) or s.expected_wait_s < 0 or s.access_km < 0:
            problems.append(
                Problem(
                    f"station {s.id}: stock, wait and access must be >= 0", field=f"stations[{j}]"
                )
            )
    if problems:
        raise InputError(problems)


def build_arcs(
    trucks: Sequence[TruckRequest], stations: Sequence[StationOffer]
) -> tuple[list[Arc], dict[int, str]]:
    """Every energy-feasible, compatible (truck, station, pack model) choice, and for each truck
    without any, the reason."""
    arcs: list[Arc] = []
    reasons: dict[int, str] = {}
    for i, t in enumerate(trucks):
        compatible = [
            (j, s)
            for j, s in enumerate(stations)
            if (t.stations is None or s.id in t.stations)
            and t.direction in s.directions
            and _ahead(t, s.km)
        ]
        if not compatible:
            reasons[i] = "no compatible station ahead on its carriageway"
            continue
        reachable = []
        shortest: tuple[float, str] | None = None
        for j, s in compatible:
            distance = abs(s.km - t.km) + s.access_km / 2.0
            need = distance * t.consumption_kwh_per_km
            left = t.energy_kwh - need
            if shortest is None or need < shortest[0]:
                shortest = (need, s.id)
            if left >= t.reserve_kwh:
                reachable.append((j, s, distance, left))
        if not reachable:
            assert shortest is not None
            reasons[i] = (
                f"out of energy: the nearest compatible station {shortest[1]} needs "
                f"{shortest[0]:.0f} kWh plus {t.reserve_kwh:.0f} kWh reserve, "
                f"the truck has {t.energy_kwh:.0f} kWh"
            )
            continue
        count = 0
        for j, s, distance, left in reachable:
            detour_km = s.access_km + 2.0 * _overshoot_km(t, s.km)
            for model in t.pack_models:
                if s.stock.get(model, 0) < t.packs:
                    continue
                arcs.append(
                    Arc(
                        i,
                        j,
                        model,
                        t.packs,
                        distance,
                        left,
                        s.expected_wait_s,
                        detour_km / t.speed_kmh * SECONDS_PER_HOUR,
                    )
                )
                count += 1
        if not count:
            reasons[i] = (
                f"no stock: no station in reach holds {t.packs} charged packs of "
                f"{' or '.join(t.pack_models) or 'any model'}"
            )
    return arcs, reasons


# --- the CP-SAT model, one family of variables or constraints per function ---------------------


def define_choice_variables(
    model: cp_model.CpModel, arcs: Sequence[Arc], truck_count: int
) -> tuple[list[cp_model.IntVar], list[cp_model.IntVar]]:
    """x[a] = 1 when arc a is chosen; u[i] = 1 when truck i is left unassigned."""
    x = [model.new_bool_var(f"x[{a.truck},{a.station},{a.pack_model}]") for a in arcs]
    u = [model.new_bool_var(f"u[{i}]") for i in range(truck_count)]
    return x, u


def define_one_choice_per_truck(
    model: cp_model.CpModel,
    arcs: Sequence[Arc],
    x: Sequence[cp_model.IntVar],
    u: Sequence[cp_model.IntVar],
) -> None:
    """Each truck takes exactly one arc or is unassigned: sum_a x[a] + u[i] = 1."""
    by_truck: list[list[cp_model.IntVar]] = [[] for _ in u]
    for a, var in zip(arcs, x, strict=True):
        by_truck[a.truck].append(var)
    for i, vars_i in enumerate(by_truck):
        model.add(sum(vars_i) + u[i] == 1)


def define_stock_capacity(
    model: cp_model.CpModel,
    arcs: Sequence[Arc],
    x: Sequence[cp_model.IntVar],
    stations: Sequence[StationOffer],
) -> None:
    """Packs held at a station per model never exceed its forecast charged stock."""
    groups: dict[tuple[int, str], list[tuple[int, cp_model.IntVar]]] = {}
    for a, var in zip(arcs, x, strict=True):
        groups.setdefault((a.station, a.pack_model), []).append((a.packs, var))
    for (j, m), terms in groups.items():
        model.add(sum(p * v for p, v in terms) <= stations[j].stock.get(m, 0))


def unassigned_penalty_s(arcs: Sequence[Arc], truck_count: int) -> int:
    """A penalty above any truck's worst arc summed over all trucks: serving one more truck
    always outweighs any saving in waiting and detour (lexicographic: serve most, then cheapest)."""
    worst: dict[int, int] = {}
    for a in arcs:
        worst[a.truck] = max(worst.get(a.truck, 0), round(a.cost_s))
    return sum(worst.values()) + 1 + truck_count


def define_assignment_objective(
    model: cp_model.CpModel,
    arcs: Sequence[Arc],
    x: Sequence[cp_model.IntVar],
    u: Sequence[cp_model.IntVar],
    penalty_s: int,
) -> None:
    """Minimise sum_a (wait + detour)[a] x[a] + penalty sum_i u[i], in whole seconds."""
    model.minimize(
        sum(round(a.cost_s) * v for a, v in zip(arcs, x, strict=True)) + penalty_s * sum(u)
    )


def assign_arrivals(
    trucks: Sequence[TruckRequest],
    stations: Sequence[StationOffer],
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
) -> AssignmentPlan:
    """Suggest a station and the packs to hold for every truck, least total waiting plus detour
    first serving as many trucks as possible. Every suggestion is compatible (the truck's station
    set and pack models) and energy-feasible (arrives with at least `reserve_kwh`); per station
    and model the packs held stay within the forecast charged stock. Costs are rounded to whole
    seconds. Deterministic for a given `seed` (one CP-SAT worker)."""
    check_requests(trucks, stations)
    arcs, reasons = build_arcs(trucks, stations)
    model = cp_model.CpModel()
    x, u = define_choice_variables(model, arcs, len(trucks))
    define_one_choice_per_truck(model, arcs, x, u)
    define_stock_capacity(model, arcs, x, stations)
    for i in reasons:
        model.add(u[i] == 1)
    define_assignment_objective(model, arcs, x, u, unassigned_penalty_s(arcs, len(trucks)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # Cannot happen (all-unassigned is feasible) unless the time limit hit before any
        # solution; say so rather than return a half plan.
        raise InputError(
            [Problem(f"assignment solver ended with {solver.status_name(status)}", field="trucks")]
        )
    chosen = [a for a, v in zip(arcs, x, strict=True) if solver.value(v)]
    assignments = tuple(
        Assignment(
            trucks[a.truck].id,
            stations[a.station].id,
            a.pack_model,
            a.packs,
            a.distance_km,
            a.energy_on_arrival_kwh,
            a.wait_s,
            a.detour_s,
        )
        for a in sorted(chosen, key=lambda a: a.truck)
    )
    served = {a.truck for a in chosen}
    unassigned = tuple(
        Unassigned(
            t.id,
            reasons.get(
                i,
                "no stock left: the charged packs in reach are held for trucks with "
                "less total waiting and detour",
            ),
        )
        for i, t in enumerate(trucks)
        if i not in served
    )
    held: dict[tuple[str, str], int] = {}
    for a in chosen:
        key = (stations[a.station].id, a.pack_model)
        held[key] = held.get(key, 0) + a.packs
    return AssignmentPlan(
        assignments,
        unassigned,
        sum(a.cost_s for a in chosen),
        "optimal" if status == cp_model.OPTIMAL else "feasible",
        held,
    )
