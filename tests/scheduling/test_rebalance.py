"""Pack rebalancing: conservation, capacities, brute force on tiny instances, no-op when
balanced; the planning service and `openswap plan rebalance` end to end."""

from __future__ import annotations

import itertools
import random

import pytest

from openswap.cli.main import main
from openswap.domain.errors import InputError
from openswap.scheduling.rebalance import (
    FEN_PER_CNY,
    Carrier,
    Lane,
    PackDemand,
    RebalancePlan,
    StationRack,
    pack_values_fen,
    plan_rebalance,
)
from openswap.services.planning import build_lanes, study_rebalance
from openswap.services.simulation import ScenarioSource

MODELS = ("qiji", "open")


def random_instance(
    rng: random.Random, stations: int, models: tuple[str, ...], most: int
) -> tuple[list[StationRack], list[PackDemand], list[Lane]]:
    racks = []
    for j in range(stations):
        stock = {m: rng.randint(0, most) for m in models}
        racks.append(StationRack(f"s{j}", sum(stock.values()) + rng.randint(0, 2), stock))
    demand = [
        PackDemand(r.id, m, rng.uniform(0, 4), rng.choice([1, 3]))
        for r in racks
        for m in models
        if rng.random() < 0.9
    ]
    lanes = [
        Lane(a.id, b.id, rng.uniform(0, 200))
        for a in racks
        for b in racks
        if a.id != b.id and rng.random() < 0.8
    ]
    return racks, demand, lanes


def check_plan(plan: RebalancePlan, racks: list[StationRack], carrier: Carrier) -> None:
    for m in {k[1] for k in plan.stock_before}:
        assert sum(n for k, n in plan.stock_before.items() if k[1] == m) == sum(
            n for k, n in plan.stock_after.items() if k[1] == m
        )
    shipped: dict[tuple[str, str], int] = {}
    received: dict[tuple[str, str], int] = {}
    for move in plan.moves:
        assert 0 < move.count <= carrier.capacity_packs
        assert move.origin != move.destination
        assert move.arrive_s > move.depart_s
        shipped[(move.origin, move.pack_model)] = (
            shipped.get((move.origin, move.pack_model), 0) + move.count
        )
        received[(move.destination, move.pack_model)] = (
            received.get((move.destination, move.pack_model), 0) + move.count
        )
    assert sum(shipped.values()) == sum(received.values()) == plan.packs_moved
    for key, before in plan.stock_before.items():
        after = before - shipped.get(key, 0) + received.get(key, 0)
        assert after == plan.stock_after[key] >= 0
    for r in racks:
        assert sum(n for k, n in plan.stock_after.items() if k[0] == r.id) <= r.capacity_packs


def brute_force_fen(
    racks: list[StationRack],
    demand: list[PackDemand],
    lanes: list[Lane],
    carrier: Carrier,
    shortage_cost_cny: float,
    horizon_s: float,
) -> int:
    """Least flow cost over every integer lane-flow vector (independent of the solver)."""
    models = sorted({m for r in racks for m in r.stock} | {d.pack_model for d in demand})
    index = {(d.station, d.pack_model): d for d in demand}
    full = round(shortage_cost_cny * FEN_PER_CNY)
    total = {m: sum(r.stock.get(m, 0) for r in racks) for m in models}
    usable = [ln for ln in lanes if carrier.lead_time_s(ln.distance_km) <= horizon_s]
    arcs = [(ln, m) for ln in usable for m in models]
    best: int | None = None
    for ys in itertools.product(*[range(total[m] + 1) for _, m in arcs]):
        final = {(r.id, m): r.stock.get(m, 0) for r in racks for m in models}
        cost = 0
        for (ln, m), y in zip(arcs, ys, strict=True):
            final[(ln.origin, m)] -= y
            final[(ln.destination, m)] += y
            cost += y * round(carrier.pack_cost_cny(ln.distance_km) * FEN_PER_CNY)
        if any(n < 0 for n in final.values()):
            continue
        if any(sum(final[(r.id, m)] for m in models) > r.capacity_packs for r in racks):
            continue
        for r in racks:
            for m in models:
                n = final[(r.id, m)]
                values = pack_values_fen(index.get((r.id, m)), shortage_cost_cny, r.capacity_packs)
                cost += full * n - sum(values[:n])
        best = cost if best is None or cost < best else best
    assert best is not None
    return best


@pytest.mark.parametrize("seed", range(25))
def test_flow_matches_brute_force_on_tiny_instances(seed: int) -> None:
    rng = random.Random(seed)
    carrier = Carrier(capacity_packs=rng.choice([2, 4, 12]), cost_cny_per_km=rng.uniform(0, 3))
    models = MODELS if seed % 2 else MODELS[:1]
    racks, demand, lanes = random_instance(rng, 2 if seed % 2 else 3, models, 2)
    cost = rng.choice([100.0, 500.0, 2000.0])
    horizon = rng.choice([3600.0, 86_400.0])
    plan = plan_rebalance(
        racks,
        demand,
        lanes,
        carrier,
        shortage_cost_cny=cost,
        horizon_s=horizon,
        consolidate_trips=False,
    )
    check_plan(plan, racks, carrier)
    assert plan.objective_fen == brute_force_fen(racks, demand, lanes, carrier, cost, horizon)


@pytest.mark.parametrize("seed", range(25))
def test_consolidation_never_costs_more_and_keeps_invariants(seed: int) -> None:
    rng = random.Random(1000 + seed)
    racks, demand, lanes = random_instance(rng, 4, MODELS, 8)
    carrier = Carrier(capacity_packs=rng.choice([3, 6]), vehicles=rng.choice([1, 2]))
    plain = plan_rebalance(
        racks, demand, lanes, carrier, shortage_cost_cny=1500, consolidate_trips=False
    )
    merged = plan_rebalance(racks, demand, lanes, carrier, shortage_cost_cny=1500)
    check_plan(plain, racks, carrier)
    check_plan(merged, racks, carrier)
    assert merged.true_cost_fen <= plain.true_cost_fen
    assert plain.objective_fen <= merged.objective_fen  # the plain flow is optimal for its cost


def test_no_moves_when_balanced() -> None:
    racks = [StationRack(s, 18, {"qiji": 12, "open": 6}) for s in ("a", "b", "c")]
    demand = [PackDemand(r.id, m, w, 3) for r in racks for m, w in (("qiji", 4.0), ("open", 2))]
    lanes = [Lane(a.id, b.id, 10.0) for a in racks for b in racks if a != b]
    plan = plan_rebalance(racks, demand, lanes, shortage_cost_cny=10_000)
    assert plan.moves == ()
    assert plan.stock_after == plan.stock_before
    assert plan.total_shortage_after == plan.total_shortage_before


def skewed() -> tuple[list[StationRack], list[PackDemand], list[Lane]]:
    """Station a holds the QIJI packs b needs, and b the open packs a needs."""
    racks = [
        StationRack("a", 12, {"qiji": 9, "open": 3}),
        StationRack("b", 12, {"qiji": 3, "open": 9}),
    ]
    demand = [
        PackDemand("a", "qiji", 1.0, 3),
        PackDemand("a", "open", 3.0, 3),
        PackDemand("b", "qiji", 3.0, 3),
        PackDemand("b", "open", 1.0, 3),
    ]
    return racks, demand, [Lane("a", "b", 40.0), Lane("b", "a", 40.0)]


def test_skewed_mix_is_swapped_and_shortage_falls() -> None:
    racks, demand, lanes = skewed()
    carrier = Carrier(capacity_packs=12)
    plan = plan_rebalance(racks, demand, lanes, carrier, now_s=3600.0, shortage_cost_cny=1000)
    check_plan(plan, racks, carrier)
    assert plan.packs_moved > 0
    assert {(m.origin, m.pack_model) for m in plan.moves} == {("a", "qiji"), ("b", "open")}
    assert plan.total_shortage_after < plan.total_shortage_before
    assert all(m.depart_s >= 3600.0 and m.within_horizon for m in plan.moves)
    # Moves within a station's reach never overfill it: a and b exchange pack for pack.
    assert sum(n for k, n in plan.stock_after.items() if k[0] == "a") == 12


def test_full_racks_block_one_way_moves_and_cheap_shortage_stops_them() -> None:
    racks, demand, lanes = skewed()
    only_ab = [lanes[0]]
    plan = plan_rebalance(racks, demand, only_ab, shortage_cost_cny=1000)
    assert plan.moves == ()  # b's rack is full and nothing can leave it
    assert plan_rebalance(racks, demand, lanes, shortage_cost_cny=1.0).moves == ()


def test_lanes_longer_than_the_horizon_are_unused() -> None:
    racks, demand, lanes = skewed()
    far = [Lane(ln.origin, ln.destination, 500.0) for ln in lanes]
    plan = plan_rebalance(racks, demand, far, horizon_s=3600.0, shortage_cost_cny=10_000)
    assert plan.moves == ()


def test_lane_capacity_limits_packs() -> None:
    racks, demand, lanes = skewed()
    carrier = Carrier(capacity_packs=2, vehicles=1)
    horizon = carrier.round_trip_s(40.0) * 1.5  # one round trip fits
    plan = plan_rebalance(racks, demand, lanes, carrier, horizon_s=horizon, shortage_cost_cny=5000)
    for origin, dest in (("a", "b"), ("b", "a")):
        for m in ("qiji", "open"):
            n = sum(
                x.count
                for x in plan.moves
                if (x.origin, x.destination, x.pack_model) == (origin, dest, m)
            )
            assert n <= 2


def test_bad_input_is_named() -> None:
    with pytest.raises(InputError, match="exceed its rack"):
        plan_rebalance([StationRack("a", 2, {"qiji": 3})], [], [])
    with pytest.raises(InputError, match="unknown station"):
        plan_rebalance([StationRack("a", 3, {"qiji": 3})], [], [Lane("a", "z", 1.0)])


def test_study_and_cli_on_the_default_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    study = study_rebalance(ScenarioSource("ningde-xiamen"), 4)
    assert study.evaluation is not None
    assert study.evaluation.scores[0].mae < study.evaluation.scores[1].mae
    assert len(study.demand) == 8
    racks_total = sum(study.plan.stock_before.values())
    assert racks_total == sum(study.plan.stock_after.values()) == 72
    lanes = build_lanes(study.scenario)
    assert len(lanes) == 12
    crossing = next(ln for ln in lanes if (ln.origin, ln.destination) == ("changle-s", "changle-n"))
    assert crossing.distance_km == 10.0
    code = main(["plan", "rebalance", "--days", "3", "--shortage-cost", "800"])
    out = capsys.readouterr().out
    assert code == 0
    assert "expected shortage" in out
    assert "changle-n" in out
    assert main(["plan", "rebalance", "--scenario", "no-such-scenario"]) == 2
