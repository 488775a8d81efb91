"""Network coverage on a small hand-built network: shares, blockers, what-ifs, caching."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from openswap.domain.assets import Pack, SafetyState, Station, Vehicle
from openswap.domain.compatibility import DEFAULT_RULES, RuleSet, check
from openswap.domain.coverage import (
    NO_STOCK,
    CarryAdapter,
    CoverageEngine,
    FleetEntry,
    StockPackModel,
    build_network_coverage,
)
from openswap.domain.errors import InputError, UnknownIdError
from openswap.domain.specs import (
    Adapter,
    AdapterKind,
    MountType,
    PackModel,
    SwapType,
)
from tests.domain.specimens import DESIGN, FRAME, PACK_MODEL, VEHICLE_MODEL

# Pack models: A is the baseline QIJI block; B sits in an "mtb-2" frame with a GB/T DC coupler;
# D is a top-lift pack.
PM_A = PACK_MODEL
PM_B = replace(PACK_MODEL, id="mtb-282", frame=replace(FRAME, id="mtb-2"), hv_connector="gbt-dc")
PM_D = replace(
    PACK_MODEL,
    id="geely-280",
    frame=replace(FRAME, id="tl-1", mount=MountType.TOP_LIFT),
)
# Vehicle models: V1 takes A; V2 takes B; V3 is a top-lift truck that takes D.
VM_1 = VEHICLE_MODEL
VM_2 = replace(
    VEHICLE_MODEL, id="tractor-mtb", accepted_frames=frozenset({"mtb-2"}), hv_connector="gbt-dc"
)
VM_3 = replace(
    VEHICLE_MODEL, id="mixer-tl", mount=MountType.TOP_LIFT, accepted_frames=frozenset({"tl-1"})
)
DESIGN_WIDE = replace(
    DESIGN, id="wide-robot", robot=replace(DESIGN.robot, frames=frozenset({"qiji-75", "mtb-2"}))
)
DESIGN_TL = replace(
    DESIGN,
    id="top-lift",
    swap_type=SwapType.TOP_LIFT,
    robot=replace(DESIGN.robot, frames=frozenset({"tl-1"})),
)
FLEET = (FleetEntry(VM_1, 10), FleetEntry(VM_2, 5), FleetEntry(VM_3, 2))
S1 = Station("S1", DESIGN, "Changle N", ("qiji-171",))
S2 = Station("S2", DESIGN_WIDE, "Changle S", ("mtb-282",))
S3 = Station("S3", DESIGN_WIDE, "Luoyangjiang N", ())
S4 = Station("S4", DESIGN_TL, "Xiamen port", ())
STATIONS = (S1, S2, S3, S4)
MODELS = (PM_A, PM_B, PM_D)

FRAME_QIJI_TO_MTB = Adapter("ad-f", AdapterKind.FRAME, "qiji-75", "mtb-2", "CQC-1")
CONN_QCT_TO_GBT = Adapter("ad-c", AdapterKind.CONNECTOR, "qct1201.1-a", "gbt-dc", "CQC-2")


def healthy(pm: PackModel) -> Pack:
    return Pack(f"new-{pm.id}", pm, "owner", 1.0, 1.0, 0, SafetyState.OK, 1e9, 0.0)


def test_station_shares_and_blockers() -> None:
    cov = CoverageEngine(MODELS).network_coverage(FLEET, STATIONS)
    assert cov.trucks_total == 17
    s1, s2, s3, s4 = cov.stations
    assert (s1.trucks_served, s1.share_served) == (10, 10 / 17)
    assert s1.blocked_by_rule == (("swap_type", 2), ("frame_standard", 5))
    assert [o.blocker for o in s1.outcomes] == [None, "frame_standard", "swap_type"]
    assert [o.compatible_pack_models for o in s1.outcomes] == [1, 0, 0]
    assert s2.trucks_served == 5
    assert s2.blocked_by_rule == (("swap_type", 2), ("frame_standard", 10))
    # Nothing stocked: the vehicle x station rule still blocks first.
    assert s3.trucks_served == 0
    assert s3.blocked_by_rule == (("swap_type", 2), (NO_STOCK, 15))
    assert s4.blocked_by_rule == (("swap_type", 15), (NO_STOCK, 2))
    assert cov.trucks_served == 15
    assert cov.share_served == pytest.approx(15 / 17)
    assert cov.unserved == (("mixer-tl", 2),)


def test_blocker_is_the_first_rule_that_empties_the_stocked_set() -> None:
    # At S1 (robot knows qiji-75 only) stocking A and B, V2 loses A on the frame rule but B
    # survives every vehicle rule; the robot then cannot locate B's frame: robot_frame blocks.
    station = replace(S1, stocked_models=("qiji-171", "mtb-282"))
    engine = CoverageEngine(MODELS)
    assert engine.blocker(VM_2, (), station) == "robot_frame"
    verdicts = {pm.id: check(Vehicle("v", VM_2, "f", 3), healthy(pm), station) for pm in MODELS}
    assert verdicts["qiji-171"].failed[0].rule == "frame_standard"
    assert [r.rule for r in verdicts["mtb-282"].failed] == ["robot_frame"]


def test_compatible_models_agree_with_check_on_this_network() -> None:
    engine = CoverageEngine(MODELS)
    all_stocked = [replace(s, stocked_models=tuple(pm.id for pm in MODELS)) for s in STATIONS]
    for entry in FLEET:
        for station in all_stocked:
            vehicle = Vehicle("v", entry.model, "f", entry.model.pack_positions, entry.adapters)
            expected = tuple(
                pm.id for pm in MODELS if check(vehicle, healthy(pm), station).compatible
            )
            assert engine.compatible_pack_models(entry.model, entry.adapters, station) == expected


def test_what_if_adapter_moves_the_blocker_before_it_serves() -> None:
    engine = CoverageEngine(MODELS)
    one = engine.what_if(FLEET, STATIONS, [CarryAdapter("S1", FRAME_QIJI_TO_MTB)])
    assert one.stations[0].delta == 0
    assert one.after.station("S1").outcomes[1].blocker == "connector"
    both = engine.what_if(
        FLEET,
        STATIONS,
        [CarryAdapter("S1", FRAME_QIJI_TO_MTB), CarryAdapter("S1", CONN_QCT_TO_GBT)],
    )
    (delta,) = both.stations
    assert (delta.station_id, delta.trucks_served_before, delta.trucks_served_after) == (
        "S1",
        10,
        15,
    )
    assert delta.newly_served == ("tractor-mtb",)
    assert delta.no_longer_served == ()
    # V2 was already served at S2: the network does not change.
    assert (both.network_served_before, both.network_served_after, both.network_delta) == (
        15,
        15,
        0,
    )
    assert both.describe() == "carry adapter ad-f at station S1; carry adapter ad-c at station S1"


def test_what_if_stock_serves_a_new_part_of_the_fleet() -> None:
    engine = CoverageEngine(MODELS)
    before = engine.network_coverage(FLEET, STATIONS)
    result = engine.what_if(FLEET, STATIONS, [StockPackModel("S4", "geely-280")], before=before)
    (delta,) = result.stations
    assert (delta.station_id, delta.delta, delta.newly_served) == ("S4", 2, ("mixer-tl",))
    assert result.network_delta == 2
    assert result.after.unserved == ()
    # Unchanged stations are carried over as they were.
    assert result.after.stations[:3] == before.stations[:3]
    assert result.to_dict()["network_delta"] == 2


def test_vehicle_adapters_count_like_station_adapters() -> None:
    fleet = (FleetEntry(VM_2, 4, (FRAME_QIJI_TO_MTB, CONN_QCT_TO_GBT)), FleetEntry(VM_2, 1))
    cov = CoverageEngine(MODELS).network_coverage(fleet, (S1,))
    assert [o.served for o in cov.stations[0].outcomes] == [True, False]
    assert cov.stations[0].outcomes[0].entry == "tractor-mtb +ad-c+ad-f"
    assert cov.trucks_served == 4


def test_unknown_ids_and_duplicates_are_input_errors() -> None:
    engine = CoverageEngine(MODELS)
    with pytest.raises(UnknownIdError, match="unknown pack model 'nope'"):
        engine.network_coverage(FLEET, (replace(S1, stocked_models=("nope",)),))
    with pytest.raises(UnknownIdError, match="unknown station 'S9'"):
        engine.what_if(FLEET, STATIONS, [StockPackModel("S9", "qiji-171")])
    with pytest.raises(UnknownIdError, match="unknown pack model 'nope'"):
        engine.what_if(FLEET, STATIONS, [StockPackModel("S1", "nope")])
    with pytest.raises(InputError, match="station S1 is listed twice"):
        engine.network_coverage(FLEET, (S1, S1))
    with pytest.raises(InputError, match="pack model qiji-171 is listed twice"):
        CoverageEngine((PM_A, PM_A))
    with pytest.raises(InputError, match="negative truck count"):
        engine.network_coverage((FleetEntry(VM_1, -1),), (S1,))


def test_empty_fleet_has_zero_share() -> None:
    cov = CoverageEngine(MODELS).network_coverage((), STATIONS)
    assert (cov.trucks_total, cov.trucks_served, cov.share_served) == (0, 0, 0.0)
    assert cov.stations[0].share_served == 0.0


def test_results_are_plain_data() -> None:
    cov = build_network_coverage(FLEET, STATIONS, {pm.id: pm for pm in MODELS})
    data = cov.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert cov.to_rows()[0] == {
        "station": "S1",
        "design": "qiji-station",
        "trucks_total": 17,
        "trucks_served": 10,
        "share_served": 0.5882,
        "blocked_by_rule": "swap_type=2;frame_standard=5",
    }


class CountingRule:
    """Delegates to a rule and counts `passes` calls per key pair."""

    def __init__(self, rule: Any, calls: Counter[tuple[str, Any, Any]]) -> None:
        self._rule = rule
        self._calls = calls
        self.id: str = rule.id
        self.title: str = rule.title
        self.source: str = rule.source

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rule, name)

    def passes(self, a: Any, b: Any) -> bool:
        self._calls[(self.id, a, b)] += 1
        return bool(self._rule.passes(a, b))


def test_passes_runs_once_per_distinct_key_pair() -> None:
    calls: Counter[tuple[str, Any, Any]] = Counter()
    rules: RuleSet = replace(
        DEFAULT_RULES,
        vehicle_pack=tuple(CountingRule(r, calls) for r in DEFAULT_RULES.vehicle_pack),
        pack_station=tuple(CountingRule(r, calls) for r in DEFAULT_RULES.pack_station),
        vehicle_station=tuple(CountingRule(r, calls) for r in DEFAULT_RULES.vehicle_station),  # type: ignore[misc]
    )
    # Ten vehicle models that differ only in name share every key: one evaluation serves all.
    twins = tuple(replace(VM_1, id=f"twin-{i}", name=f"twin {i}") for i in range(10))
    fleet = tuple(FleetEntry(vm, 1) for vm in (*twins, VM_2, VM_3))
    engine = CoverageEngine(MODELS, rules)
    first = engine.network_coverage(fleet, STATIONS)
    second = engine.network_coverage(fleet, STATIONS)
    assert first == second
    assert calls, "the rules were never consulted"
    assert max(calls.values()) == 1
    assert first.station("S1").trucks_served == 10
