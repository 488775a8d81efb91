from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from openswap.health.telemetry import (
    Gb32960Alarm,
    Reading,
    SensorPosition,
    alarm_names,
    build_pack_telemetry,
    check_order,
    check_reading,
    parse_reading,
)

E, C = SensorPosition.EDGE, SensorPosition.CENTRE
GOOD = Reading(
    time_s=10.0,
    serial="P1",
    soc=0.5,
    voltage_v=550.0,
    current_a=100.0,
    cell_v_min=3.25,
    cell_v_max=3.30,
    temps_c=(25.0, 27.0),
    temp_positions=(E, C),
    insulation_ohm=5e6,
    cell_voltages_v=(3.25, 3.3, 3.28),
)


def test_a_good_reading_has_no_reasons() -> None:
    assert check_reading(GOOD) == ()


def test_impossible_values_and_wrong_types_are_named() -> None:
    cases = {
        "soc": replace(GOOD, soc=1.5),
        "voltage_v": replace(GOOD, voltage_v=-3.0),
        "current_a": replace(GOOD, current_a=math.nan),
        "cell_v_min": replace(GOOD, cell_v_min=3.4),  # above the max
        "temps_c[1]": replace(GOOD, temps_c=(25.0, 400.0)),
        "insulation_ohm": replace(GOOD, insulation_ohm="high"),  # type: ignore[arg-type]
        "time_s": replace(GOOD, time_s=None),  # type: ignore[arg-type]
        "alarm_flags": replace(GOOD, alarm_flags=1 << 30),
        "cell_voltages_v": replace(GOOD, cell_voltages_v=(3.2, 9.0)),
        "temp_positions": replace(GOOD, temp_positions=(E,)),
    }
    for field, reading in cases.items():
        reasons = check_reading(reading)
        assert reasons, field
        assert any(field.split("[")[0] in r for r in reasons), (field, reasons)
    assert check_reading("not a reading") == ("not a Reading: str",)


def test_parse_reading_from_a_payload() -> None:
    payload = {
        "time_s": 1.0, "serial": "P1", "soc": 0.4, "voltage_v": 540.0, "current_a": -50.0,
        "cell_v_min": 3.2, "cell_v_max": 3.3, "temps_c": [20, 21],
        "temp_positions": ["edge", "centre"],
        "insulation_ohm": 2e6, "alarm_flags": int(Gb32960Alarm.INSULATION),
    }  # fmt: skip
    reading, reasons = parse_reading(payload)
    assert reasons == ()
    assert reading is not None
    assert reading.temp_positions == (E, C)
    assert parse_reading({**payload, "temp_positions": ["roof", "edge"]})[0] is None
    missing = {k: v for k, v in payload.items() if k != "soc"}
    assert parse_reading(missing) == (None, ("soc: missing",))
    assert alarm_names(payload["alarm_flags"]) == ("insulation",)


def test_order_helpers_flag_duplicates_and_out_of_order() -> None:
    late, dup = check_order(np.array([1.0, 2.0, 2.0, 1.5, 3.0]))
    assert late.tolist() == [False, False, False, True, False]
    assert dup.tolist() == [False, False, True, False, False]


def test_columnar_round_trip() -> None:
    rs = [replace(GOOD, time_s=float(k)) for k in range(5)]
    tel = build_pack_telemetry(rs)
    assert tel.temps_c.shape == (2, 5)
    back = list(tel.readings())
    assert back[3].temps_c == GOOD.temps_c
    assert back[3].cell_voltages_v is not None
