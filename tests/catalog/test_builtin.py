"""The built-in catalog: loads, meets its coverage targets and gives mixed compatibility."""

from __future__ import annotations

from importlib import resources

import pytest

from openswap.catalog import builtin_catalog, builtin_texts
from openswap.catalog.yamlsource import parse_yaml
from openswap.domain.catalog import Catalog
from openswap.domain.compatibility import check, check_static
from openswap.domain.specs import ChargerStandard, SwapType


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return builtin_catalog()


def test_builtin_data_ships_as_package_data() -> None:
    data = resources.files("openswap.catalog").joinpath("data")
    names = {f.name for folder in ("specs", "demo") for f in data.joinpath(folder).iterdir()}
    assert {"frames.yaml", "pack_models.yaml", "packs.yaml", "stations.yaml"} <= names


def test_counts(catalog: Catalog) -> None:
    assert len(catalog.frames) >= 3
    assert len(catalog.pack_models) >= 8
    assert len({m.maker for m in catalog.pack_models.values()}) >= 4
    assert len({m.chemistry for m in catalog.pack_models.values()}) >= 2
    assert len(catalog.vehicle_models) >= 8
    assert len({m.oem for m in catalog.vehicle_models.values()}) >= 5
    assert len(catalog.station_designs) >= 4
    assert {d.swap_type for d in catalog.station_designs.values()} >= {
        SwapType.CHASSIS,
        SwapType.TOP_LIFT,
    }
    standards = {c.standard for d in catalog.station_designs.values() for c in d.chargers}
    assert len(standards) >= 3
    assert ChargerStandard.MCS in standards
    assert len(catalog.adapters) >= 2
    assert len({a.kind for a in catalog.adapters.values()}) == 2
    assert 18 <= len(catalog.packs) <= 25
    assert len(catalog.vehicles) >= 5
    assert {"changle-n", "changle-s", "luoyangjiang-n", "luoyangjiang-s"} <= set(catalog.stations)


def test_every_specification_has_a_source(catalog: Catalog) -> None:
    specs = [
        *catalog.frames.values(),
        *catalog.pack_models.values(),
        *catalog.vehicle_models.values(),
        *catalog.station_designs.values(),
        *catalog.adapters.values(),
    ]
    missing = [s.id for s in specs if not s.sources]
    assert not missing


def test_every_entry_of_every_builtin_file_has_a_source() -> None:
    # Assets keep no sources in the domain model, so read the files themselves.
    for text in builtin_texts():
        doc = parse_yaml(text.text, text.file)
        for section, entries in doc.data.items():
            for index, entry in enumerate(entries):
                assert entry.get("sources"), f"{text.file}: {section}[{index}] has no source"


def test_qiji_station_matches_the_domain_facts(catalog: Catalog) -> None:
    design = catalog.station_design("qiji-chassis-4000")
    assert design.grid_kva == 4000
    assert design.slots == 18
    assert {c.max_power_kw for c in design.chargers} == {180}
    assert design.grid_cap_kw >= design.slots * 180


def test_qiji_truck_takes_a_healthy_qiji_block_at_a_qiji_station(catalog: Catalog) -> None:
    verdict = check(
        catalog.vehicle("fj-g15-001"),
        catalog.pack("Q75-000001"),
        catalog.station("changle-n"),
        need_kwh=200,
    )
    assert verdict.compatible, verdict.summary()


def test_a_top_lift_pack_cannot_go_into_a_chassis_truck(catalog: Catalog) -> None:
    results = check_static(
        catalog.vehicle_model("deepway-xingtu-6x4-qiji"),
        catalog.pack_model("catl-mtb-282-lfp"),
        catalog.station_design("qiji-chassis-4000"),
    )
    failed = {r.rule for r in results if not r.passed}
    assert "mount_type" in failed


def test_some_vehicles_accept_several_frames(catalog: Catalog) -> None:
    assert any(len(vm.accepted_frames) > 1 for vm in catalog.vehicle_models.values())


def test_station_frame_adapter_enables_a_blocked_pair(catalog: Catalog) -> None:
    truck, pack, mine = (
        catalog.vehicle("sd-mine-001"),
        catalog.pack("MTB-000001"),
        catalog.station("shandong-bauxite-mine"),
    )
    assert check(truck, pack, mine).compatible
    without = check_static(truck.model, pack.model, mine.design, adapters=truck.adapters)
    assert [r.rule for r in without if not r.passed] == ["frame_standard"]


def test_vehicle_connector_adapter_enables_qiji_blocks_in_a_faw(catalog: Catalog) -> None:
    faw, block, station = (
        catalog.vehicle("fj-g15-003"),
        catalog.pack("Q75-000002"),
        catalog.station("luoyangjiang-s"),
    )
    assert check(faw, block, station).compatible
    without = check_static(faw.model, block.model, station.design)
    assert [r.rule for r in without if not r.passed] == ["connector"]


def test_compatibility_is_mixed(catalog: Catalog) -> None:
    outcomes = [
        all(r.passed for r in check_static(vm, pm, sd))
        for vm in catalog.vehicle_models.values()
        for pm in catalog.pack_models.values()
        for sd in catalog.station_designs.values()
    ]
    share = sum(outcomes) / len(outcomes)
    assert 0.02 < share < 0.5


@pytest.mark.parametrize(
    ("serial", "rule"),
    [
        ("Q75-000005", "safety_state"),
        ("MTB-000003", "safety_state"),
        ("Q75-000006", "soh_floor"),
        ("Q75-000007", "insulation"),
        ("MTB-000004", "temp_spread"),
    ],
)
def test_demo_packs_exercise_each_interlock(catalog: Catalog, serial: str, rule: str) -> None:
    pack = catalog.pack(serial)
    station = next(s for s in catalog.stations.values() if pack.model.id in s.stocked_models)
    vehicle = next(
        v
        for v in catalog.vehicles.values()
        if all(
            r.passed
            for r in check_static(
                v.model, pack.model, station.design, v.adapters + station.adapters
            )
        )
    )
    verdict = check(vehicle, pack, station)
    assert [r.rule for r in verdict.failed] == [rule]


def test_builtin_catalog_is_read_only(catalog: Catalog) -> None:
    with pytest.raises(TypeError):
        catalog.frames["x"] = catalog.frame("qiji-75")  # type: ignore[index]
