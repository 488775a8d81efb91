"""Scenario files: the built-in scenarios, every bad input located, and round trips."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from openswap.catalog import builtin_catalog
from openswap.catalog.scenario import (
    DEPARTURE_PROFILES,
    builtin_scenario,
    builtin_scenario_names,
    load_scenario,
    load_scenario_text,
    parse_field,
    scenario_to_yaml,
)
from openswap.domain.errors import Problem, ScenarioError
from openswap.domain.feasibility import check_scenario
from openswap.domain.scenario import Direction
from openswap.domain.tariff import FUJIAN_TOU_TARIFF
from tests.catalog.scenario_samples import scenario_text


def problems_of(text: str, file: str = "s.yaml") -> tuple[Problem, ...]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, file)
    return info.value.problems


def test_sample_is_valid_and_converts_units() -> None:
    s = load_scenario_text(scenario_text(), "s.yaml")
    assert s.id == "sample"
    assert s.corridor("road").profile[0].grade_frac == 0.0
    east = s.stations[0]
    assert east.directions == frozenset({Direction.FORWARD})
    assert s.stations[1].directions == frozenset({Direction.BACKWARD})
    assert east.slots == 18
    assert east.charger_power_kw == 180.0  # from the design's chargers
    assert east.tariff == FUJIAN_TOU_TARIFF  # the default tariff
    fleet = s.fleets[0]
    assert (fleet.origin_km, fleet.destination_km) == (0.0, 300.0)
    assert fleet.turnaround_s == 1800.0
    assert fleet.depot_charge_kw == 0.0
    assert fleet.departure_weights == DEPARTURE_PROFILES["bimodal_07_19"]
    assert fleet.cruise_speed_kmh == 80.0
    assert (s.timing.service_min_s, s.timing.service_mode_s, s.timing.service_max_s) == (
        180.0,
        300.0,
        420.0,
    )
    assert s.timing.patience_s == 45 * 60
    assert s.driver.max_continuous_drive_s == 4 * 3600
    assert (s.days, s.warmup_days, s.seed, s.replications) == (1.0, 0.25, 3, 1)
    # 150 km to either end and back across the turnaround, with no depot charging by default
    assert [p.field for p in check_scenario(s)] == ["fleets[0].depot_charge_kw"] * 2
    charged = load_scenario_text(scenario_text({40: "    depot_charge_kw: 150"}), "s.yaml")
    assert charged.fleets[0].depot_charge_kw == 150.0
    assert check_scenario(charged) == []


# (case id, replaced lines, expected line, expected field, fragments the message must contain)
BAD_INPUTS = [
    (
        "unknown-design",
        {20: "    design: qiji-chasis-4000"},
        20,
        "stations[0].design",
        ["unknown station design 'qiji-chasis-4000'", "did you mean 'qiji-chassis-4000'"],
    ),
    (
        "unknown-pack-model-in-stock",
        {21: "    stock: {catl-qiji-171: 12}"},
        21,
        "stations[0].stock.catl-qiji-171",
        ["unknown pack model 'catl-qiji-171'", "catl-qiji-171-lfp"],
    ),
    (
        "unknown-fleet-pack-model",
        {33: "    pack_model: qiji-block"},
        33,
        "fleets[0].pack_model",
        ["unknown pack model 'qiji-block'"],
    ),
    (
        "station-km-outside-corridor",
        {18: "    km: 350"},
        18,
        "stations[0].km",
        ["km 350 lies outside corridor 'road' (0-300 km)"],
    ),
    (
        "fleet-km-outside-corridor",
        {37: "    destination: 420"},
        37,
        "fleets[0].destination",
        ["km 420 lies outside corridor 'road'"],
    ),
    (
        "unknown-waypoint",
        {37: "    destination: xiamen"},
        37,
        "fleets[0].destination",
        ["unknown waypoint of 'road' 'xiamen'"],
    ),
    (
        "waypoint-beyond-end",
        {7: "    waypoints: {west: 0, middle: 150, east: 310}"},
        7,
        "corridors[0].waypoints.east",
        ["waypoint 'east' at km 310 lies beyond the corridor's 300 km"],
    ),
    (
        "negative-fleet-count",
        {32: "    count: -4"},
        32,
        "fleets[0].count",
        ["greater than or equal to 1", "-4"],
    ),
    (
        "negative-stock",
        {28: "    stock: {catl-qiji-171-lfp: -2}"},
        28,
        "stations[1].stock.catl-qiji-171-lfp",
        ["greater than or equal to 0"],
    ),
    (
        "wrong-unit-turnaround",
        {40: "    turnaround_s: 1800"},
        40,
        "fleets[0].turnaround_s",
        ["unknown field 'turnaround_s'", "did you mean 'turnaround_min'"],
    ),
    (
        "wrong-unit-patience",
        {43: "  patience_s: 2700"},
        43,
        "timing.patience_s",
        ["unknown field 'patience_s'", "did you mean 'patience_min'"],
    ),
    (
        "wrong-unit-drive-hours",
        {45: "  max_continuous_drive_min: 240"},
        45,
        "driver.max_continuous_drive_min",
        ["unknown field", "did you mean 'max_continuous_drive_h'"],
    ),
    (
        "too-many-packs-per-vehicle",
        {34: "    packs_per_vehicle: 4"},
        34,
        "fleets[0].packs_per_vehicle",
        ["less than or equal to 3"],
    ),
    (
        "bad-direction",
        {19: "    direction: southbound"},
        19,
        "stations[0].direction",
        ["direction 'southbound' is not one of", "eastbound"],
    ),
    (
        "unknown-departure-profile",
        {39: "    departure_profile: bimodal"},
        39,
        "fleets[0].departure_profile",
        ["unknown departure profile 'bimodal'", "bimodal_07_19"],
    ),
    (
        "unknown-tariff-default",
        {13: "  tariff: fujian-2024"},
        13,
        "station_defaults.tariff",
        ["unknown tariff 'fujian-2024'", "fujian-tou-2024"],
    ),
    (
        "swap-times-out-of-order",
        {42: "  swap_service_min: {min: 6, mode: 5, max: 7}"},
        42,
        "timing.swap_service_min",
        ["min <= mode <= max"],
    ),
    (
        "warmup-longer-than-run",
        {48: "  warmup_days: 2"},
        48,
        "run.warmup_days",
        ["must be shorter than days"],
    ),
    (
        "zero-grid",
        {12: "  grid_kva: 0"},
        12,
        "station_defaults.grid_kva",
        ["0 must be > 0"],
    ),
    (
        "same-origin-and-destination",
        {37: "    destination: west"},
        37,
        "fleets[0].destination",
        ["origin and destination are the same place"],
    ),
    (
        "duplicate-station-id",
        {22: "  - id: mid-e"},
        22,
        "stations[1].id",
        ["duplicate id 'mid-e' (first at line 15)"],
    ),
    (
        "overloaded-truck",
        {40: "    payload_kg: 40000"},
        40,
        "fleets[0].payload_kg",
        ["exceeds the 49000 kg gross combination weight"],
    ),
    (
        "quoted-number",
        {6: '    length_km: "300"'},
        6,
        "corridors[0].length_km",
        ["valid number"],
    ),
]


@pytest.mark.parametrize(
    ("replace", "line", "field", "fragments"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_is_located(
    replace: dict[int, str], line: int, field: str, fragments: list[str]
) -> None:
    problems = problems_of(scenario_text(replace))
    matching = [p for p in problems if p.field == field]
    assert matching, f"no problem at {field}: {[str(p) for p in problems]}"
    problem = matching[0]
    assert problem.file == "s.yaml"
    assert problem.line == line
    for fragment in fragments:
        assert fragment in problem.message


def test_every_problem_is_reported_together() -> None:
    problems = problems_of(
        scenario_text(
            {
                20: "    design: nope",  # stations[0]
                32: "    count: -1",  # fleets[0], invalid entry: its references still checked
                33: "    pack_model: nope",
                47: "  days: 0",
            }
        )
    )
    fields = {p.field for p in problems}
    assert {
        "stations[0].design",
        "fleets[0].count",
        "fleets[0].pack_model",
        "run.days",
    } <= fields
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)


def test_malformed_yaml_names_the_line() -> None:
    problems = problems_of(scenario_text({16: "    name: Middle: eastbound"}))
    assert problems[0].line == 16
    assert "malformed YAML" in problems[0].message


def test_missing_run_section() -> None:
    text = scenario_text({46: "", 47: "", 48: "", 49: ""})
    problems = problems_of(text)
    assert any(p.message == "missing required field 'run'" for p in problems)


def test_explicit_segments_must_add_up(tmp_path: Path) -> None:
    replace = {
        8: "    grade_profile: explicit",
        9: "    segments: [{length_km: 100, grade_frac: 0.01},"
        " {length_km: 150, grade_frac: -0.01}]",
    }
    problems = problems_of(scenario_text(replace))
    assert problems[0].field == "corridors[0].segments"
    assert "add up to 250 km, not the corridor's 300 km" in problems[0].message
    replace[9] = (
        "    segments: [{length_km: 100, grade_frac: 0.01}, {length_km: 200, grade_frac: -0.005,"
        " speed_kmh: 60}]"
    )
    replace[19] = "    direction: forward"
    replace[26] = "    direction: backward"
    s = load_scenario_text(scenario_text(replace), "s.yaml")
    profile = s.corridor("road").profile
    assert [(x.length_km, x.grade_frac, x.speed_kmh) for x in profile] == [
        (100.0, 0.01, 80.0),
        (200.0, -0.005, 60.0),
    ]


def test_coastal_rolling_profile_is_seeded() -> None:
    replace = {8: "    grade_profile: coastal_rolling", 9: "    grade_seed: 11"}
    one = load_scenario_text(scenario_text({**replace, 19: "    direction: forward"}), "a")
    two = load_scenario_text(scenario_text({**replace, 19: "    direction: forward"}), "b")
    other = load_scenario_text(
        scenario_text({8: replace[8], 9: "    grade_seed: 12", 19: "    direction: forward"}), "c"
    )
    assert one.corridors == two.corridors
    assert one.corridors != other.corridors
    assert len(one.corridors[0].profile) > 10
    assert sum(x.length_km for x in one.corridors[0].profile) == pytest.approx(300.0)


def test_station_overrides_and_named_tariffs() -> None:
    text = scenario_text(
        {
            21: "    stock: {catl-qiji-171-lfp: 12}",
        },
        append=(
            "tariffs:",
            "  - id: flat-tariff",
            "    periods: [{name: all, price_cny_per_kwh: 0.6, hours: "
            + str(list(range(24)))
            + "}]",
        ),
    ).replace(
        "    stock: {catl-qiji-171-lfp: 12}\n  - id: mid-w",
        "    stock: {catl-qiji-171-lfp: 12}\n    grid_kva: 3000\n    aux_load_kw: 200\n"
        "    tariff: flat-tariff\n    charger_kw_per_slot: 150\n  - id: mid-w",
        1,
    )
    s = load_scenario_text(text, "s.yaml")
    east, west = s.stations
    assert east.design.grid_kva == 3000.0
    assert east.design.grid_cap_kw == pytest.approx(3000 * 0.95 - 200)
    assert east.design.id == "qiji-chassis-4000"
    assert east.tariff.name == "flat-tariff"
    assert east.tariff.price_cny_per_kwh_at(5 * 3600) == 0.6
    assert east.charger_power_kw == 150.0
    assert west.design == builtin_catalog(assets=False).station_design("qiji-chassis-4000")


def test_bad_tariff_periods_are_located() -> None:
    text = scenario_text(
        append=(
            "tariffs:",
            "  - id: gap-tariff",
            "    periods:",
            "      - {name: day, price_cny_per_kwh: 0.9, hours: [8, 9]}",
        )
    )
    problems = problems_of(text)
    assert problems[0].field == "tariffs[0].periods"
    assert problems[0].line == 52
    assert "are not covered by any period" in problems[0].message


def test_extra_catalog_file_relative_to_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "designs.yaml").write_text(
        "station_designs:\n"
        "  - id: small-qiji\n"
        "    name: Small QIJI station\n"
        "    operator: test\n"
        "    swap_type: chassis\n"
        "    bays: 1\n"
        "    robot: {kind: robot, frames: [qiji-75], locks: [multi_link_self_locking],"
        " max_pack_mass_kg: 1100}\n"
        "    chargers: [{standard: gbt, min_voltage_v: 200, max_voltage_v: 1000,"
        " max_current_a: 300, max_power_kw: 180, count: 6}]\n"
        "    grid_kva: 1500\n"
        "    power_factor: 0.95\n"
        "    aux_load_kw: 100\n"
        "    swap_time_s: 300\n",
        encoding="utf-8",
    )
    text = scenario_text({20: "    design: small-qiji", 21: "    stock: {catl-qiji-171-lfp: 6}"})
    text = text.replace("name: Sample line\n", "name: Sample line\ncatalog: [extra/designs.yaml]\n")
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    s = load_scenario(path)
    assert s.stations[0].design.id == "small-qiji"
    assert s.catalog.station_design("small-qiji").grid_kva == 1500.0

    path.write_text(text.replace("extra/designs.yaml", "extra/missing.yaml"), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    first = info.value.problems[0]
    assert (first.line, first.field) == (3, "catalog[0]")
    assert "cannot read catalog file 'extra/missing.yaml'" in first.message


def test_unreadable_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "missing.yaml")
    assert info.value.problems[0].file == str(tmp_path / "missing.yaml")
    assert "cannot read scenario file" in info.value.problems[0].message


def test_parse_field() -> None:
    assert parse_field("fleets[1].pack_model") == ("fleets", 1, "pack_model")
    assert parse_field("stations[0].stock.catl-qiji-171-lfp") == (
        "stations",
        0,
        "stock",
        "catl-qiji-171-lfp",
    )
    assert parse_field("") == ()


# --- built-in scenarios ----------------------------------------------------------------------


def test_builtin_names() -> None:
    assert builtin_scenario_names() == [
        "ningde-xiamen",
        "ningde-xiamen-single-brand",
        "port-shuttle",
    ]
    with pytest.raises(ScenarioError, match="did you mean 'ningde-xiamen'"):
        builtin_scenario("ningde-xiamn")


@pytest.mark.parametrize("name", ["ningde-xiamen", "ningde-xiamen-single-brand", "port-shuttle"])
def test_builtin_scenario_is_feasible_and_sourced(name: str) -> None:
    s = builtin_scenario(name)
    assert check_scenario(s) == []
    assert s.sources
    assert all(src.ref for src in s.sources)


@pytest.mark.parametrize("name", ["ningde-xiamen", "ningde-xiamen-single-brand", "port-shuttle"])
def test_builtin_scenario_round_trips_through_yaml(name: str) -> None:
    s = builtin_scenario(name)
    assert load_scenario_text(scenario_to_yaml(s), "again.yaml") == s


def test_ningde_xiamen_key_numbers() -> None:
    s = builtin_scenario("ningde-xiamen")
    (line,) = s.corridors
    assert line.length_km == 420.0
    assert dict(line.waypoints)["changle_sa"] == 150.0
    assert dict(line.waypoints)["luoyangjiang_sa"] == 310.0
    assert (line.forward_label, line.backward_label) == ("southbound", "northbound")
    assert sorted((st.id, st.km) for st in s.stations) == [
        ("changle-n", 150.0),
        ("changle-s", 150.0),
        ("luoyangjiang-n", 310.0),
        ("luoyangjiang-s", 310.0),
    ]
    for st in s.stations:
        assert len(st.directions) == 1
        assert st.design.grid_kva == 4000.0
        assert st.design.grid_cap_kw == pytest.approx(3500.0)
        assert (st.slots, st.charger_power_kw, st.charger_efficiency) == (18, 180.0, 0.95)
        assert st.tariff == FUJIAN_TOU_TARIFF
        assert st.capex_cny == 10_000_000.0
        # cross-brand: the robot handles both frames and both pack models are stocked
        assert st.design.robot.frames == {"qiji-75", "open-chassis-a"}
        assert {m.id for m, _ in st.stock} == {"catl-qiji-171-lfp", "calb-oca-160-lfp"}
    trucks = sum(f.count for f in s.fleets)
    trips = sum(f.count * f.trips_per_day for f in s.fleets)
    assert trips == 200.0
    forward = sum(f.count for f in s.fleets if f.destination_km > f.origin_km)
    assert forward * 2 == trucks  # half the trucks start at either end
    qiji = sum(f.count for f in s.fleets if f.pack_model.id == "catl-qiji-171-lfp")
    assert 0.6 <= qiji / trucks <= 0.8
    assert {f.vehicle_model.oem for f in s.fleets} >= {"Deepway", "Shacman", "FAW Jiefang", "SANY"}
    assert all(f.packs_per_vehicle == 3 and f.loaded_share == 0.7 for f in s.fleets)
    assert all(f.depot_charge_kw == 120.0 for f in s.fleets)
    assert all(f.departure_weights == DEPARTURE_PROFILES["bimodal_07_19"] for f in s.fleets)
    t = s.timing
    assert (t.service_min_s, t.service_mode_s, t.service_max_s) == (180.0, 300.0, 420.0)
    assert (t.overhead_min_s, t.overhead_max_s) == (120.0, 300.0)
    assert (s.driver.max_continuous_drive_s, s.driver.min_rest_s) == (14_400.0, 1_200.0)
    e = s.economics
    assert (e.pack_price_cny_per_kwh, e.service_price_cny_per_kwh) == (700.0, 1.1)
    assert (e.diesel_price_cny_per_l, e.diesel_l_per_100km, e.diesel_co2_kg_per_l) == (
        7.61,
        33.0,
        2.66,
    )
    assert e.grid_co2_kg_per_kwh == 0.5366
    assert (s.days, s.warmup_days, s.seed, s.replications) == (2.0, 0.25, 42, 3)


def test_single_brand_differs_only_in_stations_and_information() -> None:
    cross = builtin_scenario("ningde-xiamen")
    single = builtin_scenario("ningde-xiamen-single-brand")
    assert single.corridors == cross.corridors
    strip = [dataclasses.replace(f, informed_share=1.0) for f in single.fleets]
    assert tuple(strip) == cross.fleets
    assert all(f.informed_share < 1.0 for f in single.fleets)
    for st in single.stations:
        assert len(st.stock) == 1
        assert len(st.design.robot.frames) == 1
    # the same slots and grid per service area and carriageway, split by brand
    by_site: dict[tuple[float, frozenset[Direction]], list[int]] = {}
    for st in single.stations:
        by_site.setdefault((st.km, st.directions), []).append(st.slots)
    assert sorted(sum(v) for v in by_site.values()) == [18, 18, 18, 18]


def test_port_shuttle_key_numbers() -> None:
    s = builtin_scenario("port-shuttle")
    (road,) = s.corridors
    assert road.length_km <= 5.0
    (hub,) = s.stations
    assert hub.design.id == "port-hub-multi"
    assert hub.directions == frozenset(Direction)
    assert all(f.departure_weights == (1.0,) * 24 for f in s.fleets)
    assert all(f.trips_per_day >= 20 for f in s.fleets)
    assert any(f.vehicle_model.id == "dongfeng-port-4x2-top" for f in s.fleets)
    assert len({f.pack_model.id for f in s.fleets}) >= 2
