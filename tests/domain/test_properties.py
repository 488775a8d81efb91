"""Hypothesis properties of the compatibility engine, pack selection and coverage."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from openswap.domain.assets import Pack, SafetyState, Station, Vehicle
from openswap.domain.compatibility import (
    DEFAULT_RULES,
    INTERLOCK_RULES,
    build_rules,
    check,
)
from openswap.domain.coverage import NO_STOCK, CoverageEngine, FleetEntry
from openswap.domain.selection import rank_key, select_packs
from openswap.domain.specs import PackModel
from tests.strategies import (
    MiniCatalog,
    mini_catalogs,
    packs,
    policies,
)

PROFILE = settings(max_examples=150, deadline=None)


def healthy(pm: PackModel) -> Pack:
    """A stocked pack as coverage assumes it: full, new, safe, perfectly insulated."""
    return Pack(f"new-{pm.id}", pm, "owner", 1.0, 1.0, 0, SafetyState.OK, 1e12, 0.0)


@st.composite
def triples(draw: st.DrawFn) -> tuple[Vehicle, Pack, Station, MiniCatalog]:
    cat = draw(mini_catalogs(max_packs=3, max_vehicles=1, max_stations=1))
    pm = draw(st.sampled_from(cat.pack_models))
    vm = cat.vehicle_models[0]
    sd = cat.station_designs[0]
    va = tuple(draw(st.lists(st.sampled_from(cat.adapters), unique=True))) if cat.adapters else ()
    sa = tuple(draw(st.lists(st.sampled_from(cat.adapters), unique=True))) if cat.adapters else ()
    vehicle = Vehicle("v", vm, "f", draw(st.integers(1, vm.pack_positions)), va)
    station = Station("s", sd, "s", (pm.id,), sa)
    return vehicle, draw(packs(pm, "P-1")), station, cat


@PROFILE
@given(triples(), policies(), st.none() | st.floats(0.0, 2000.0))
def test_no_pack_failing_an_interlock_is_ever_compatible(
    triple: tuple[Vehicle, Pack, Station, MiniCatalog], policy: object, need: float | None
) -> None:
    vehicle, pack, station, _ = triple
    rules = build_rules(policy)  # type: ignore[arg-type]
    verdict = check(vehicle, pack, station, need, rules)
    p = rules.policy
    # The oracle reads the raw measurements, not the rule results.
    violated = {
        "safety_state": pack.safety_state is not SafetyState.OK,
        "soh_floor": pack.soh < p.min_soh,
        "insulation": pack.insulation_resistance_ohm
        < p.min_insulation_ohm_per_v * pack.model.max_voltage_v,
        "temp_spread": pack.max_cell_temp_spread_c > p.max_cell_temp_spread_c,
    }
    for rule, bad in violated.items():
        result = verdict.result(rule)
        assert result.interlock
        assert result.passed is not bad
    if any(violated.values()):
        assert not verdict.compatible
    assert {r.rule for r in verdict.results if r.interlock} == set(INTERLOCK_RULES)


@PROFILE
@given(triples(), st.none() | st.floats(0.0, 2000.0))
def test_every_incompatible_verdict_names_a_failed_rule(
    triple: tuple[Vehicle, Pack, Station, MiniCatalog], need: float | None
) -> None:
    vehicle, pack, station, _ = triple
    verdict = check(vehicle, pack, station, need)
    assert verdict.compatible is (not verdict.failed)
    for r in verdict.failed:
        assert r.reason
        assert r.compared
        assert f"{r.rule}: {r.reason}" in verdict.summary()
    if verdict.compatible:
        assert verdict.summary() == "compatible"


@st.composite
def networks(draw: st.DrawFn) -> tuple[MiniCatalog, tuple[FleetEntry, ...], tuple[Station, ...]]:
    cat = draw(mini_catalogs())
    ids = [pm.id for pm in cat.pack_models]
    adapter_lists = st.lists(st.sampled_from(cat.adapters), unique=True) if cat.adapters else None
    fleet = tuple(
        FleetEntry(
            vm,
            draw(st.integers(0, 50)),
            tuple(draw(adapter_lists)) if adapter_lists is not None else (),
        )
        for vm in cat.vehicle_models
    )
    stations = tuple(
        Station(
            f"S{i}",
            draw(st.sampled_from(cat.station_designs)),
            f"station {i}",
            tuple(draw(st.lists(st.sampled_from(ids), unique=True))),
            tuple(draw(adapter_lists)) if adapter_lists is not None else (),
        )
        for i in range(draw(st.integers(1, 4)))
    )
    return cat, fleet, stations


@PROFILE
@given(networks())
def test_coverage_agrees_with_check(
    network: tuple[MiniCatalog, tuple[FleetEntry, ...], tuple[Station, ...]],
) -> None:
    cat, fleet, stations = network
    engine = CoverageEngine(cat.pack_models)
    cov = engine.network_coverage(fleet, stations)
    by_id = {pm.id: pm for pm in cat.pack_models}
    order = [r.id for r in DEFAULT_RULES.vehicle_pack + DEFAULT_RULES.pack_station]
    served_anywhere = [False] * len(fleet)
    for station, sc in zip(stations, cov.stations, strict=True):
        for i, (entry, outcome) in enumerate(zip(fleet, sc.outcomes, strict=True)):
            vehicle = Vehicle("v", entry.model, "f", entry.model.pack_positions, entry.adapters)
            verdicts = {
                m: check(vehicle, healthy(by_id[m]), station) for m in station.stocked_models
            }
            ok = [m for m, v in verdicts.items() if v.compatible]
            assert outcome.served is bool(ok)
            assert outcome.compatible_pack_models == len(ok)
            served_anywhere[i] |= bool(ok)
            # Brute-force attribution from check's verdicts alone.
            any_pack = check(vehicle, healthy(cat.pack_models[0]), station)
            expected: str | None = None
            if not any_pack.result("swap_type").passed:
                expected = "swap_type"
            elif not verdicts:
                expected = NO_STOCK
            elif not ok:
                left = set(verdicts)
                for rule in order:
                    left = {m for m in left if verdicts[m].result(rule).passed}
                    if not left:
                        expected = rule
                        break
            assert outcome.blocker == expected, (outcome, expected)
    served = sum(e.count for e, ok in zip(fleet, served_anywhere, strict=True) if ok)
    assert cov.trucks_served == served


@PROFILE
@given(networks(), st.randoms(use_true_random=False))
def test_coverage_is_deterministic_and_independent_of_model_order(
    network: tuple[MiniCatalog, tuple[FleetEntry, ...], tuple[Station, ...]], rnd: random.Random
) -> None:
    cat, fleet, stations = network
    first = CoverageEngine(cat.pack_models).network_coverage(fleet, stations)
    again = CoverageEngine(cat.pack_models).network_coverage(fleet, stations)
    shuffled = list(cat.pack_models)
    rnd.shuffle(shuffled)
    other = CoverageEngine(shuffled).network_coverage(fleet, stations)
    assert first == again
    assert first.to_dict() == other.to_dict()


@st.composite
def racks(draw: st.DrawFn) -> tuple[Vehicle, Station, list[Pack]]:
    cat = draw(mini_catalogs(max_packs=3, max_vehicles=1, max_stations=1))
    vm, sd = cat.vehicle_models[0], cat.station_designs[0]
    n = draw(st.integers(0, 12))
    rack = [draw(packs(draw(st.sampled_from(cat.pack_models)), f"P-{i:02d}")) for i in range(n)]
    vehicle = Vehicle("v", vm, "f", draw(st.integers(1, vm.pack_positions)), cat.adapters)
    return vehicle, Station("s", sd, "s", (), ()), rack


@PROFILE
@given(racks(), st.none() | st.floats(0.0, 1500.0), st.randoms(use_true_random=False))
def test_selection_never_returns_an_incompatible_or_duplicate_pack(
    rack_setup: tuple[Vehicle, Station, list[Pack]], need: float | None, rnd: random.Random
) -> None:
    vehicle, station, rack = rack_setup
    selection = select_packs(vehicle, station, rack, need)
    ranked = [r.pack.serial for r in selection.ranked]
    rejected = [r.pack.serial for r in selection.rejected]
    assert len(set(ranked)) == len(ranked)
    assert sorted(ranked + rejected) == sorted(p.serial for p in rack)
    for r in selection.ranked:
        assert r.verdict.compatible
        assert check(vehicle, r.pack, station, need).compatible
        assert r.reason.startswith(f"rank {r.rank}: ")
    for rej in selection.rejected:
        assert not rej.verdict.compatible
        assert rej.verdict.failed
    keys = [rank_key(r.pack) for r in selection.ranked]
    assert keys == sorted(keys)
    taken = selection.take(vehicle.pack_count)
    assert len({r.pack.serial for r in taken}) == len(taken) == min(vehicle.pack_count, len(ranked))
    # Deterministic, whatever the order of the rack.
    shuffled = list(rack)
    rnd.shuffle(shuffled)
    again = select_packs(vehicle, station, shuffled, need)
    assert [r.pack.serial for r in again.ranked] == ranked
    assert [r.reason for r in again.ranked] == [r.reason for r in selection.ranked]
    assert select_packs(vehicle, station, rack, need) == selection
