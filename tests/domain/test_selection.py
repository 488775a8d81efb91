"""Pack selection: ranking order, the reasons given, rejected packs and `take`."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openswap.domain.assets import Pack, SafetyState
from openswap.domain.errors import InputError
from openswap.domain.selection import energy_bucket_kwh, select_packs
from tests.domain.specimens import BASE, PACK_MODEL

VEHICLE = BASE.vehicle()
STATION = BASE.station()


def pack(serial: str, **state: object) -> Pack:
    defaults: dict[str, object] = {
        "soc": 1.0,
        "soh": 0.95,
        "cycle_count": 1000,
        "max_cell_temp_spread_c": 2.0,
    }
    return replace(BASE.pack(serial), **{**defaults, **state})


def serials(packs: object) -> list[str]:
    return [r.pack.serial for r in packs]  # type: ignore[attr-defined]


def test_energy_first_then_cycles_then_soh_then_spread_then_serial() -> None:
    rack = [
        pack("P-serial-b", cycle_count=900),
        pack("P-spread", cycle_count=900, max_cell_temp_spread_c=3.0),
        pack("P-energy", soc=1.0, soh=0.99),  # 169.3 kWh: most energy
        pack("P-serial-a", cycle_count=900),
        pack("P-cycles", cycle_count=800),
        pack("P-soh", cycle_count=900, soh=0.951),
    ]
    # 171 x 0.95 = 162.45 kWh for every pack but P-energy (171 x 0.99 = 169.29) and
    # P-soh (171 x 0.951 = 162.62): all of those land in the 162 kWh bucket.
    selection = select_packs(VEHICLE, STATION, rack, None)
    assert serials(selection.ranked) == [
        "P-energy",
        "P-cycles",
        "P-soh",
        "P-serial-a",
        "P-serial-b",
        "P-spread",
    ]
    assert [r.rank for r in selection.ranked] == [1, 2, 3, 4, 5, 6]
    reasons = [r.reason for r in selection.ranked]
    assert reasons[0] == "rank 1: 169 kWh available, 1,000 cycles, SoH 0.99, dT 2.0 C; first choice"
    assert reasons[1] == (
        "rank 2: 162 kWh available, 800 cycles, SoH 0.95, dT 2.0 C; "
        "behind rank 1 on energy (169 vs 162 kWh)"
    )
    assert reasons[2].endswith("behind rank 2 on cycle count (800 vs 900)")
    assert reasons[3].endswith("behind rank 3 on SoH (0.951 vs 0.95)")
    assert reasons[4].endswith("tied with rank 4; ordered by serial number")
    assert reasons[5].endswith("behind rank 5 on cell temperature spread (2 vs 3 C)")
    assert selection.rejected == ()


def test_energy_is_bucketed_to_whole_kwh_so_wear_decides_within_a_kwh() -> None:
    model = replace(PACK_MODEL, usable_energy_kwh=200.0)
    fresher = replace(pack("P-fresh", soc=0.786, cycle_count=100), model=model)  # 157.2 kWh
    fuller = replace(pack("P-full", soc=0.7895, cycle_count=5000), model=model)  # 157.9 kWh
    fuller = replace(fuller, soh=1.0)
    fresher = replace(fresher, soh=1.0)
    selection = select_packs(VEHICLE, STATION, [fuller, fresher], None)
    assert serials(selection.ranked) == ["P-fresh", "P-full"]
    assert selection.ranked[1].reason.endswith("behind rank 1 on cycle count (100 vs 5,000)")


def test_energy_bucket_floors_and_survives_float_noise() -> None:
    assert energy_bucket_kwh(157.999) == 157
    assert energy_bucket_kwh(171 * 0.1 * 10) == 171  # 171.00000000000003 or 170.99999999999997
    assert energy_bucket_kwh(float("nan")) == 0


def test_rejected_packs_keep_their_verdicts_in_rack_order() -> None:
    rack = [
        pack("P-alarm", safety_state=SafetyState.ALARM),
        pack("P-ok"),
        pack("P-worn", soh=0.6),
        pack("P-low", soc=0.2),
    ]
    selection = select_packs(VEHICLE, STATION, rack, need_kwh=300.0)
    assert serials(selection.ranked) == ["P-ok"]
    assert [r.pack.serial for r in selection.rejected] == ["P-alarm", "P-worn", "P-low"]
    failed = [[f.rule for f in r.verdict.failed] for r in selection.rejected]
    assert failed == [["safety_state"], ["soh_floor", "energy"], ["energy"]]
    assert selection.rejected[0].reason.startswith("incompatible: safety_state: pack is alarm")


def test_take_returns_the_best_n_and_reports_a_shortfall() -> None:
    rack = [pack(f"P-{i}", cycle_count=1000 + i) for i in range(5)]
    selection = select_packs(VEHICLE, STATION, rack, None)
    taken = selection.take(VEHICLE.pack_count)
    assert serials(taken) == ["P-0", "P-1", "P-2"]
    assert selection.shortfall(3) == 0
    assert selection.shortfall(7) == 2
    assert len(selection.take(7)) == 5
    assert selection.take(0) == ()
    with pytest.raises(ValueError, match="cannot take -1"):
        selection.take(-1)


def test_the_same_pack_twice_on_the_rack_is_an_input_error() -> None:
    with pytest.raises(InputError) as info:
        select_packs(VEHICLE, STATION, [pack("P-1"), pack("P-2"), pack("P-1")], None)
    assert "pack P-1 appears more than once on the rack" in str(info.value)
    assert info.value.problems[0].field == "rack"


def test_to_dict_is_plain_data() -> None:
    selection = select_packs(VEHICLE, STATION, [pack("P-1"), pack("P-2", soh=0.5)], None)
    data = selection.to_dict()
    assert data["vehicle"] == "V-1"
    assert data["ranked"] == [
        {
            "rank": 1,
            "serial": "P-1",
            "pack_model": "qiji-171",
            "available_energy_kwh": 162.45,
            "cycle_count": 1000,
            "soh": 0.95,
            "max_cell_temp_spread_c": 2.0,
            "reason": selection.ranked[0].reason,
        }
    ]
    assert data["rejected"] == [
        {
            "serial": "P-2",
            "pack_model": "qiji-171",
            "failed_rules": ["soh_floor"],
            "reason": selection.rejected[0].reason,
        }
    ]
