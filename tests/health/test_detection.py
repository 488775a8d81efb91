from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from openswap.health.detection import (
    Alarm,
    AlarmKind,
    Detector,
    PackLimits,
    Severity,
    clean_telemetry,
    detect,
)
from openswap.health.synth import SynthResult, build_fleet_specs, synthesise

from .conftest import RUNAWAYS


def _alarms(result: SynthResult, serial: str) -> list[Alarm]:
    return detect(result.telemetry[serial])


def test_every_thermal_runaway_precursor_is_detected_within_10_s(faulty_day: SynthResult) -> None:
    for fault in RUNAWAYS:
        crit = [a for a in _alarms(faulty_day, fault.serial) if a.kind is AlarmKind.THERMAL_RUNAWAY]
        assert crit, fault
        first = crit[0]
        assert first.severity is Severity.CRITICAL
        assert first.quarantine
        delay = first.detected_time_s - fault.onset_s
        assert 0 <= delay <= 10.0, (fault, first)
        assert "GB 38031-2025" in first.evidence


def test_drifting_cell_and_stuck_sensors_are_named(faulty_day: SynthResult) -> None:
    drift = [a for a in _alarms(faulty_day, "F00005") if a.kind is AlarmKind.CELL_DRIFT]
    assert [a.subject for a in drift] == ["cell 12"]
    assert drift[0].detected_time_s > 10_000.0
    for serial, probe in (("F00006", 2), ("F00007", 6)):
        stuck = [a for a in _alarms(faulty_day, serial) if a.kind is AlarmKind.STUCK_SENSOR]
        assert stuck, serial
        assert {a.subject.split(" (")[0] for a in stuck} == {f"probe {probe}"}


def test_cooling_self_discharge_and_insulation_faults_are_detected(faulty_day: SynthResult) -> None:
    kinds = {
        s: Counter(a.kind for a in _alarms(faulty_day, s)) for s in ("F00008", "F00009", "F00010")
    }
    assert kinds["F00008"][AlarmKind.TEMPERATURE_SPREAD] >= 1
    assert kinds["F00009"][AlarmKind.SELF_DISCHARGE] >= 1
    assert kinds["F00010"][AlarmKind.INSULATION_DECLINE] >= 1
    crit = [
        a for a in _alarms(faulty_day, "F00010")
        if a.kind is AlarmKind.INSULATION_LOW and a.severity is Severity.CRITICAL
    ]  # fmt: skip
    assert crit
    assert "100 Ω/V" in crit[0].evidence


def test_no_false_alarm_on_healthy_packs(healthy_days: SynthResult) -> None:
    alarms = [a for tel in healthy_days.telemetry.values() for a in detect(tel)]
    assert alarms == []


@pytest.mark.slow
def test_false_alarm_rate_below_one_per_thousand_pack_days() -> None:
    """3,000 healthy pack-days with no alarm: rate < 1/1000 at 95 % confidence (rule of three)."""
    rng = np.random.default_rng(11)
    n_alarms = 0
    for block in range(30):
        specs = build_fleet_specs(50, rng, prefix=f"S{block:02d}-")
        result = synthesise(specs, 2.0, 1.0, [], rng)
        n_alarms += sum(len(detect(tel)) for tel in result.telemetry.values())
    assert n_alarms == 0


def test_streaming_feed_equals_batch_and_survives_bad_input(faulty_day: SynthResult) -> None:
    fault = RUNAWAYS[0]
    tel = faulty_day.telemetry[fault.serial]
    start = int(np.searchsorted(tel.time_s, fault.onset_s - 3 * 3600))
    stop = int(np.searchsorted(tel.time_s, fault.onset_s + 600))
    window = tel.slice(start, stop)
    batch = [a for a in detect(window) if a.kind is AlarmKind.THERMAL_RUNAWAY]
    readings = list(window.readings())
    bad: list[object] = [
        "garbage",
        {"serial": fault.serial},
        replace(readings[5], soc=7.0),
        replace(readings[6], voltage_v=float("nan")),
        replace(readings[7], insulation_ohm="x"),  # type: ignore[arg-type]
    ]
    det = Detector({fault.serial: PackLimits()})
    alarms: list[Alarm] = []
    rejected = 0
    for k in range(0, len(readings), 37):
        chunk: list[object] = list(readings[k : k + 37])
        if k == 37 * 10:
            chunk = bad + chunk + [readings[k], readings[k - 5]]  # plus a duplicate, a late one
        result = det.feed(chunk)
        alarms += result.alarms
        rejected += len(result.rejected)
        assert all(r.reasons for r in result.rejected)
    assert rejected == len(bad) + 2
    stream = [a for a in alarms if a.kind is AlarmKind.THERMAL_RUNAWAY]
    assert [a.detected_time_s for a in stream] == [a.detected_time_s for a in batch]
    assert stream[0].detected_time_s - fault.onset_s <= 10.0


def test_feed_never_raises_on_hostile_input() -> None:
    det = Detector()
    result = det.feed([None, 3, object(), b"bytes"])
    assert len(result.rejected) == 4
    assert result.alarms == []

    def broken() -> object:
        yield None
        raise RuntimeError("stream broke")

    assert det.feed(broken()).rejected  # type: ignore[arg-type]


def test_clean_telemetry_drops_bad_rows(healthy_days: SynthResult) -> None:
    tel = next(iter(healthy_days.telemetry.values())).slice(0, 1000)
    t = tel.time_s.copy()
    t[10] = t[9]  # duplicate
    t[20] = t[5]  # out of order
    volts = tel.voltage_v.copy()
    volts[30] = -1.0
    dirty = replace(tel, time_s=t, voltage_v=volts)
    cleaned, dropped = clean_telemetry(dirty)
    assert dropped == 3
    assert np.all(np.diff(cleaned.time_s) > 0)
    assert detect(cleaned) == []
