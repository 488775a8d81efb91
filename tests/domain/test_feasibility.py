"""Feasibility checks: every failure mode is found, named by field and explained."""

from __future__ import annotations

import dataclasses

import pytest

from openswap.catalog import builtin_catalog
from openswap.catalog.scenario import builtin_scenario
from openswap.domain.energy import Segment, corridor_energy
from openswap.domain.errors import Problem
from openswap.domain.feasibility import (
    check_scenario,
    leg_energy_kwh,
    profile_between,
    station_refusal,
    trip_legs,
)
from openswap.domain.scenario import Direction, Scenario


@pytest.fixture(scope="module")
def base() -> Scenario:
    return builtin_scenario("ningde-xiamen")


def with_station(s: Scenario, index: int, **changes: object) -> Scenario:
    stations = list(s.stations)
    stations[index] = dataclasses.replace(stations[index], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(s, stations=tuple(stations))


def with_fleet(s: Scenario, index: int, **changes: object) -> Scenario:
    fleets = list(s.fleets)
    fleets[index] = dataclasses.replace(fleets[index], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(s, fleets=tuple(fleets))


def at(problems: list[Problem], field: str) -> Problem:
    found = [p for p in problems if p.field == field]
    assert found, f"no problem at {field}: {[str(p) for p in problems]}"
    return found[0]


def test_base_is_feasible(base: Scenario) -> None:
    assert check_scenario(base) == []


def test_no_grid_capacity(base: Scenario) -> None:
    design = dataclasses.replace(base.stations[2].design, aux_load_kw=3800.0)
    problems = check_scenario(with_station(base, 2, design=design))
    p = at(problems, "stations[2].grid_kva")
    assert "4000 kVA x 0.95 PF - 3800 kW auxiliaries = 0 kW" in p.message
    assert len(problems) == 1


def test_more_packs_than_slots(base: Scenario) -> None:
    problems = check_scenario(with_station(base, 1, slots=12))
    assert "18 packs in stock but only 12 slots" in at(problems, "stations[1].stock").message


def test_pack_model_not_compatible_with_own_vehicle(base: Scenario) -> None:
    catalog = builtin_catalog(assets=False)
    top = catalog.pack_model("catl-mtb-282-lfp")
    problems = check_scenario(with_fleet(base, 0, pack_model=top, packs_per_vehicle=1))
    p = at(problems, "fleets[0].pack_model")
    assert "cannot go into vehicle model 'deepway-xingtu-6x4-qiji'" in p.message
    assert "mount_type" in p.message
    assert "frame_standard" in p.message


def test_connector_adapter_decides_a_faw_with_qiji_blocks(base: Scenario) -> None:
    catalog = builtin_catalog(assets=False)
    qiji = catalog.pack_model("catl-qiji-171-lfp")
    faw_index = next(i for i, f in enumerate(base.fleets) if f.vehicle_model.oem == "FAW Jiefang")
    without = check_scenario(with_fleet(base, faw_index, pack_model=qiji))
    p = at(without, f"fleets[{faw_index}].pack_model")
    assert "connector:" in p.message
    assert "frame_standard" not in p.message
    adapter = catalog.adapter("adp-conn-qiji-to-qct1201a")
    fixed = with_fleet(base, faw_index, pack_model=qiji, adapters=(adapter,))
    assert check_scenario(fixed) == []


def test_station_whose_stock_no_truck_can_take(base: Scenario) -> None:
    catalog = builtin_catalog(assets=False)
    geely = catalog.pack_model("geely-280-lfp-top")
    problems = check_scenario(with_station(base, 0, stock=((geely, 6),)))
    p = at(problems, "stations[0]")
    assert "no fleet truck would ever be served here" in p.message
    assert "robot_frame" in p.message  # the reason names the failed rule


def test_station_that_serves_no_fleet_direction(base: Scenario) -> None:
    s = dataclasses.replace(base, fleets=tuple(f for f in base.fleets if f.return_trips))
    one_way = tuple(dataclasses.replace(f, return_trips=False) for f in s.fleets)
    # every fleet one way southbound: the northbound stations serve nobody
    south = tuple(dataclasses.replace(f, origin_km=0.0, destination_km=420.0) for f in one_way)
    problems = check_scenario(dataclasses.replace(s, fleets=south))
    north = [i for i, st in enumerate(s.stations) if Direction.BACKWARD in st.directions]
    assert {p.field for p in problems} == {f"stations[{i}]" for i in north}
    assert "does not serve the forward carriageway" in problems[0].message


def test_first_station_out_of_reach(base: Scenario) -> None:
    problems = check_scenario(with_fleet(base, 0, initial_soc=0.5))
    p = at(problems, "fleets[0].initial_soc")
    assert "southbound trucks cannot reach changle-s at km 150 from the origin at km 0" in (
        p.message
    )


def test_destination_out_of_reach_without_stations(base: Scenario) -> None:
    s = dataclasses.replace(base, stations=())
    problems = check_scenario(s)
    p = at(problems, "fleets[0].initial_soc")
    assert "cannot reach destination at km 420" in p.message


def test_gap_longer_than_a_full_pack_set(base: Scenario) -> None:
    # Without Luoyangjiang the southbound gap Changle -> Xiamen is 270 km.
    s = dataclasses.replace(base, stations=base.stations[:2])
    problems = check_scenario(s)
    p = at(problems, "fleets[0].packs_per_vehicle")
    assert "can never complete the trip: the 270 km gap from changle-s (km 150)" in p.message
    assert "to destination (km 420)" in p.message
    # fewer packs make even the original network infeasible
    fewer = check_scenario(with_fleet(base, 0, packs_per_vehicle=1))
    assert at(fewer, "fleets[0].initial_soc")
    assert at(fewer, "fleets[0].packs_per_vehicle")


def test_stock_below_a_truck_set_is_no_service(base: Scenario) -> None:
    catalog = builtin_catalog(assets=False)
    qiji, calb = catalog.pack_model("catl-qiji-171-lfp"), catalog.pack_model("calb-oca-160-lfp")
    site = dataclasses.replace(base.stations[0], stock=((qiji, 16), (calb, 2)))
    fleet = next(f for f in base.fleets if f.pack_model.id == "calb-oca-160-lfp")
    reason = station_refusal(site, fleet, next(iter(site.directions)))
    assert reason == "it stocks 2 calb-oca-160-lfp pack(s), a truck needs 3"


def test_legs_follow_the_driving_order(base: Scenario) -> None:
    fleet = base.fleets[0]  # Ningde -> Xiamen and back
    south = trip_legs(base, fleet, Direction.FORWARD)
    assert [(leg.start, leg.end) for leg in south] == [
        ("origin", "changle-s"),
        ("changle-s", "luoyangjiang-s"),
        ("luoyangjiang-s", "destination"),
    ]
    north = trip_legs(base, fleet, Direction.BACKWARD)
    assert [leg.end_km for leg in north] == [310.0, 150.0, 0.0]
    assert south[0].have_kwh == pytest.approx((0.95 - 0.10) * 3 * 145)
    # loaded on a rolling coast: about 1.4-1.7 kWh/km (domain facts 2.1-2.2)
    for leg in south + north:
        per_km = leg.need_kwh / abs(leg.end_km - leg.start_km)
        assert 1.3 < per_km < 1.8


def test_profile_between_slices_and_reverses() -> None:
    profile = (Segment(10.0, 0.01, 80.0), Segment(20.0, -0.02, 80.0), Segment(5.0, 0.0, 80.0))
    part = profile_between(profile, 5.0, 32.0)
    assert [(s.length_km, s.grade_frac) for s in part] == [(5.0, 0.01), (20.0, -0.02), (2.0, 0.0)]
    back = profile_between(profile, 32.0, 5.0, max_speed_kmh=60.0)
    assert [(s.length_km, s.grade_frac, s.speed_kmh) for s in back] == [
        (2.0, -0.0, 60.0),
        (20.0, 0.02, 60.0),
        (5.0, -0.01, 60.0),
    ]
    assert profile_between(profile, 7.0, 7.0) == ()


def test_leg_energy_matches_the_energy_model(base: Scenario) -> None:
    fleet = base.fleets[0]
    corridor = base.corridor(fleet.corridor)
    expected = corridor_energy(base.energy, 49_000.0, corridor.profile).energy_kwh
    assert leg_energy_kwh(base, fleet, 0.0, 420.0) == pytest.approx(expected)


def test_turnaround_without_depot_charging(base: Scenario) -> None:
    # Changle northbound -> Ningde -> Changle southbound is 300 km across the turnaround.
    problems = check_scenario(with_fleet(base, 0, depot_charge_kw=0.0))
    p = at(problems, "fleets[0].depot_charge_kw")
    assert "after the turnaround at the origin (km 0) southbound trucks" in p.message
    assert "to reach changle-s at km 150" in p.message
    assert [q.field for q in problems] == ["fleets[0].depot_charge_kw"]
    # one-way fleets never turn around
    one_way = with_fleet(base, 0, depot_charge_kw=0.0, return_trips=False)
    assert check_scenario(one_way) == []
