"""Arrival assignment: brute force on tiny instances, feasibility, capacities and reasons."""

from __future__ import annotations

import itertools
import random

import pytest

from openswap.domain.errors import InputError
from openswap.domain.scenario import Direction
from openswap.scheduling.assignment import (
    Arc,
    AssignmentPlan,
    StationOffer,
    TruckRequest,
    assign_arrivals,
    build_arcs,
)

FWD, BWD = Direction.FORWARD, Direction.BACKWARD
BOTH = frozenset({FWD, BWD})


def random_instance(
    rng: random.Random, trucks: int, stations: int
) -> tuple[list[TruckRequest], list[StationOffer]]:
    models = ("qiji", "open")
    offers = [
        StationOffer(
            f"s{j}",
            km=rng.uniform(0, 400),
            directions=rng.choice([BOTH, frozenset({FWD}), frozenset({BWD})]),
            stock={m: rng.randint(0, 7) for m in models},
            expected_wait_s=rng.uniform(0, 1800),
            access_km=rng.choice([0.0, 2.0, 6.0]),
        )
        for j in range(stations)
    ]
    requests = []
    for i in range(trucks):
        accepted = rng.choice([("qiji",), ("open",), ("qiji", "open")])
        compatible = frozenset(s.id for s in offers if rng.random() < 0.8)
        requests.append(
            TruckRequest(
                f"t{i}",
                km=rng.uniform(0, 400),
                direction=rng.choice([FWD, BWD]),
                energy_kwh=rng.uniform(50, 500),
                consumption_kwh_per_km=rng.uniform(1.2, 1.8),
                reserve_kwh=50.0,
                packs=rng.choice([1, 2, 3]),
                pack_models=accepted,
                stations=compatible if rng.random() < 0.7 else None,
                destination_km=rng.choice([None, rng.uniform(0, 420)]),
            )
        )
    return requests, offers


def brute_force(trucks: list[TruckRequest], stations: list[StationOffer]) -> tuple[int, int]:
    """(fewest unassigned, then least total whole-second cost) over every choice vector."""
    arcs, _ = build_arcs(trucks, stations)
    options: list[list[Arc | None]] = [[None] for _ in trucks]
    for a in arcs:
        options[a.truck].append(a)
    best: tuple[int, int] | None = None
    for choice in itertools.product(*options):
        used: dict[tuple[int, str], int] = {}
        cost = 0
        for pick in choice:
            if pick is not None:
                key = (pick.station, pick.pack_model)
                used[key] = used.get(key, 0) + pick.packs
                cost += round(pick.cost_s)
        if any(n > stations[j].stock.get(m, 0) for (j, m), n in used.items()):
            continue
        value = (sum(a is None for a in choice), cost)
        best = value if best is None or value < best else best
    assert best is not None
    return best


def check_plan_feasible(
    plan: AssignmentPlan, trucks: list[TruckRequest], stations: list[StationOffer]
) -> None:
    by_truck = {t.id: t for t in trucks}
    by_station = {s.id: s for s in stations}
    held: dict[tuple[str, str], int] = {}
    for a in plan.assignments:
        t, s = by_truck[a.truck], by_station[a.station]
        assert t.stations is None or s.id in t.stations
        assert t.direction in s.directions
        assert a.pack_model in t.pack_models
        assert a.packs == t.packs
        ahead = s.km >= t.km if t.direction is FWD else s.km <= t.km
        assert ahead
        need = (abs(s.km - t.km) + s.access_km / 2) * t.consumption_kwh_per_km
        assert t.energy_kwh - need >= t.reserve_kwh - 1e-9
        held[(s.id, a.pack_model)] = held.get((s.id, a.pack_model), 0) + a.packs
    for (sid, m), n in held.items():
        assert n <= by_station[sid].stock.get(m, 0)
    assert held == plan.held
    assigned = {a.truck for a in plan.assignments}
    assert len(assigned) == len(plan.assignments)
    assert assigned | {u.truck for u in plan.unassigned} == set(by_truck)
    assert not assigned & {u.truck for u in plan.unassigned}


@pytest.mark.parametrize("seed", range(40))
def test_matches_brute_force_on_tiny_instances(seed: int) -> None:
    rng = random.Random(seed)
    trucks, stations = random_instance(rng, rng.randint(1, 5), rng.randint(1, 3))
    plan = assign_arrivals(trucks, stations)
    assert plan.status == "optimal"
    check_plan_feasible(plan, trucks, stations)
    unassigned, cost = brute_force(trucks, stations)
    assert len(plan.unassigned) == unassigned
    assert sum(round(a.wait_s + a.detour_s) for a in plan.assignments) == cost


def test_feasible_on_a_larger_instance() -> None:
    rng = random.Random(99)
    trucks, stations = random_instance(rng, 60, 6)
    plan = assign_arrivals(trucks, stations)
    check_plan_feasible(plan, trucks, stations)
    assert plan.assignments


def corridor() -> list[StationOffer]:
    return [
        StationOffer("changle", 150, BOTH, {"qiji": 6}, expected_wait_s=600),
        StationOffer("luoyang", 310, BOTH, {"qiji": 3}, expected_wait_s=60),
    ]


def truck(ident: str, km: float = 100.0, energy: float = 400.0, **kw: object) -> TruckRequest:
    fields: dict[str, object] = {
        "direction": FWD,
        "consumption_kwh_per_km": 1.5,
        "reserve_kwh": 50.0,
        "packs": 3,
        "pack_models": ("qiji",),
    }
    fields.update(kw)
    return TruckRequest(ident, km, energy_kwh=energy, **fields)  # type: ignore[arg-type]


def test_capacity_gives_the_quick_station_to_the_truck_without_a_choice() -> None:
    # Both trucks would rather swap at luoyang (shorter wait), which holds one set. t1 has
    # passed changle, so luoyang is its only station; t2 (315 kWh to luoyang, 85 left) could
    # go either way and is sent to changle so that both are served.
    trucks = [truck("t1", km=200.0, energy=300.0), truck("t2", km=100.0, energy=400.0)]
    plan = assign_arrivals(trucks, corridor())
    where = {a.truck: a.station for a in plan.assignments}
    assert where == {"t1": "luoyang", "t2": "changle"}
    assert plan.held == {("luoyang", "qiji"): 3, ("changle", "qiji"): 3}


def test_reasons_for_trucks_left_out() -> None:
    trucks = [
        truck("empty", km=0.0, energy=100.0),
        truck("past", km=350.0),
        truck("other-model", pack_models=("open",)),
        truck("wrong-brand", stations=frozenset({"elsewhere"})),
    ]
    plan = assign_arrivals(trucks, corridor())
    reasons = {u.truck: u.reason for u in plan.unassigned}
    assert not plan.assignments
    assert reasons["empty"].startswith("out of energy: the nearest compatible station changle")
    assert reasons["past"] == "no compatible station ahead on its carriageway"
    assert reasons["other-model"].startswith("no stock")
    assert reasons["wrong-brand"] == "no compatible station ahead on its carriageway"


def test_stock_runs_out() -> None:
    trucks = [truck(f"t{i}", km=280.0) for i in range(2)]
    plan = assign_arrivals(trucks, corridor())
    assert len(plan.assignments) == 1
    assert plan.unassigned[0].reason.startswith("no stock left")


def test_overshoot_counts_as_detour() -> None:
    t = truck("t", km=100.0, destination_km=140.0)
    plan = assign_arrivals([t], corridor()[:1])
    (a,) = plan.assignments
    assert a.detour_s == pytest.approx(2 * 10 / 80 * 3600)


def test_bad_input_is_named() -> None:
    with pytest.raises(InputError, match="packs must be at least 1"):
        assign_arrivals([truck("t", packs=0)], corridor())
