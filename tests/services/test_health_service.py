"""The health service on SQLite and PostgreSQL: bad input never stops the ingest nor corrupts
what is stored, a thermal-runaway precursor quarantines the pack (custody, outbox, interlock)
within seconds of the reading, estimates write PackInspected, reports."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from openswap.domain.assets import SafetyState
from openswap.health.batch import reading_to_payload
from openswap.health.synth import SynthPackSpec, ThermalRunaway, synthesise
from openswap.health.telemetry import Reading
from openswap.services import reservations as rsv
from openswap.services.health import HealthPolicy, HealthService, IngestItem
from openswap.services.operations import PackEvent
from openswap.storage import SqlTelemetryStore
from tests.storage.support import FLEET_A_ACTOR, T0, Database, build_network

EPOCH0 = T0.timestamp()


def readings(
    serial: str, minutes: float, *, start_s: float = EPOCH0, faults: tuple[Any, ...] = ()
) -> list[Reading]:
    rng = np.random.default_rng(7)
    res = synthesise(
        [SynthPackSpec(serial)], minutes / 1440.0, 1.0, list(faults), rng, start_s=start_s
    )
    return list(res.telemetry[serial].readings())


def payloads(rs: list[Reading]) -> list[dict[str, Any]]:
    return [reading_to_payload(r) for r in rs]


def service(db: Database, **policy: Any) -> HealthService:
    return HealthService(db.ctx(), SqlTelemetryStore(db.engine), HealthPolicy(**policy))


def items(objs: list[Any], source: str = "test") -> list[IngestItem]:
    return [IngestItem(o, f"{source}:{i}") for i, o in enumerate(objs)]


def test_valid_readings_are_stored_once_whatever_the_order(db: Database) -> None:
    build_network(db)
    svc = service(db)
    ps = payloads(readings("P01", 10))
    first = svc.ingest(items(ps[:300]))
    assert (first.received, first.stored, first.rejected, first.late) == (300, 300, 0, 0)
    # the rest shuffled, with the first 50 again: duplicates are harmless, late ones stored
    rest = ps[300:] + ps[:50]
    order = np.random.default_rng(1).permutation(len(rest))
    second = svc.ingest(items([rest[i] for i in order]))
    assert second.stored == len(ps) - 300
    assert second.duplicates == 50
    assert second.late > 0
    assert second.rejected == 0
    tel = svc.store.window("P01", EPOCH0, EPOCH0 + 3600)
    assert tel is not None
    assert len(tel) == len(ps)
    assert np.all(np.diff(tel.time_s) > 0)
    assert tel.soc[5] == pytest.approx(ps[5]["soc"], abs=1e-6)
    assert tel.temps_c[:, 7].tolist() == pytest.approx(ps[7]["temps_c"])


def test_bad_input_goes_to_the_dead_letter_with_reasons_and_never_stops(db: Database) -> None:
    build_network(db)
    svc = service(db)
    ps = payloads(readings("P01", 2))
    wrong_type = {**ps[0], "soc": "high"}
    impossible = {**ps[1], "soc": 1.7, "cell_v_min": 9.0}
    missing = {k: v for k, v in ps[2].items() if k != "voltage_v"}
    unknown = {**ps[3], "serial": "NOPE-1"}
    bad_flags = {**ps[4], "alarm_flags": 1 << 25}
    nan_temp = {**ps[5], "temps_c": [float("nan"), *ps[5]["temps_c"][1:]]}
    batch = [
        IngestItem(b"{not json", "mqtt:openswap/s1/P01/bms"),
        IngestItem(json.dumps(wrong_type), "http"),
        IngestItem(impossible, "http"),
        IngestItem(missing, "http"),
        IngestItem(unknown, "http"),
        IngestItem(bad_flags, "http"),
        IngestItem(nan_temp, "http"),
        IngestItem(42, "http"),
        IngestItem({**ps[6], "serial": "P02"}, "mqtt:openswap/s1/P01/bms", "s1", "P01"),
        IngestItem(ps[7:], "http"),  # a valid array among the garbage
    ]
    out = svc.ingest(batch)
    assert out.stored == len(ps) - 7
    assert out.rejected == 9
    letters = svc.store.dead_letters(limit=50)
    assert len(letters) == 9
    reasons = " | ".join(r for d in letters for r in d.reasons)
    for expected in (
        "not valid JSON",
        "soc",
        "outside 0..1",
        "cell_v_min",
        "voltage_v: missing",
        "not a registered pack",
        "undefined bits",
        "temps_c[0]",
        "not a reading",
        "differs from the topic",
    ):
        assert expected in reasons, expected
    assert any(d.payload.startswith("{not json") for d in letters)
    # stored data untouched by the rejects: the window holds exactly the valid rows
    tel = svc.store.window("P01", EPOCH0, EPOCH0 + 3600)
    assert tel is not None
    assert len(tel) == len(ps) - 7
    assert float(tel.soc.max()) <= 1.0


def test_runaway_quarantines_the_pack_and_refuses_the_reservation(db: Database) -> None:
    build_network(db, s1_packs=1)  # P01 is the only pack at s1
    ctx = db.ctx()
    booked = rsv.reserve(
        ctx, FLEET_A_ACTOR, rsv.ReserveSwap("v2", "s1", T0 + timedelta(minutes=30)), "k1"
    )
    assert booked.reserved
    assert booked.held[0].serial == "P01"
    onset = EPOCH0 + 600.0
    rs = readings("P01", 15, faults=(ThermalRunaway("P01", onset, 37, rate_c_per_s=2.5),))
    svc = service(db)
    quarantined_at = None
    for k in range(0, len(rs), 25):  # 25-reading batches, as an MQTT batcher would send them
        out = svc.ingest(items(payloads(rs[k : k + 25])))
        if out.quarantined:
            quarantined_at = rs[min(k + 25, len(rs)) - 1].time_s
            assert out.quarantined == ("P01",)
            assert any(a.kind == "thermal_runaway" for a in out.alarms)
            break
    assert quarantined_at is not None, "the precursor was not acted upon"
    assert quarantined_at - onset <= 10.0 + 25.0  # detection <= 10 s, plus one batch of latency
    with db.uow() as uow:
        rec = uow.packs.get("P01")
        assert rec is not None
        assert rec.pack.safety_state is SafetyState.QUARANTINED
        events = [e for e in uow.outbox.for_pack("P01") if e.event_type == PackEvent.QUARANTINED]
        held = uow.reservations.get(booked.reservation.id if booked.reservation else "")
    assert len(events) == 1
    assert events[0].payload["reason"] == "thermal_runaway"
    assert held is not None
    assert held.state == "cancelled"
    again = rsv.reserve(
        ctx, FLEET_A_ACTOR, rsv.ReserveSwap("v2", "s1", T0 + timedelta(minutes=30)), "k2"
    )
    assert not again.reserved
    why = " ".join(r.message for r in again.refusals)
    assert "quarantined" in why
    alarms = svc.store.alarms("P01")
    assert any(s.quarantined and s.alarm.kind == "thermal_runaway" for s in alarms)
    # replaying the same readings (an MQTT redelivery) quarantines nothing twice
    svc2 = service(db)
    svc2.ingest(items(payloads(rs[:700])))
    with db.uow() as uow:
        n = sum(e.event_type == PackEvent.QUARANTINED for e in uow.outbox.for_pack("P01"))
    assert n == 1


def test_detector_registry_is_bounded_and_rewarms_from_storage(db: Database) -> None:
    build_network(db)
    svc = service(db, max_monitored_packs=2)
    for serial in ("P01", "P02", "P03", "P04"):
        svc.ingest(items(payloads(readings(serial, 2))))
    assert svc.monitored_packs == 2


def test_estimates_write_pack_inspected_and_reports(db: Database) -> None:
    build_network(db)
    svc = service(db)
    rng = np.random.default_rng(3)
    # the registered model (catl-qiji-171-lfp): 203 cells in series, 145 kWh at 650 V
    spec = SynthPackSpec("P01", n_series=203, capacity_ah=145_000 / 650, soh=0.9)
    res = synthesise([spec], 1.0, 1.0, [], rng, start_s=EPOCH0)
    tel = res.telemetry["P01"]
    svc.ingest(items(payloads(list(tel.readings()))))
    ests = svc.estimate_health(end_s=EPOCH0 + 86_400.0)
    assert [e.serial for e in ests] == ["P01"]
    est = ests[0]
    assert math.isfinite(est.resistance_ohm)
    with db.uow() as uow:
        events = [e for e in uow.outbox.for_pack("P01") if e.event_type == PackEvent.INSPECTED]
    assert len(events) == 1
    body = events[0].payload
    for key in ("soh", "insulation_resistance_ohm", "max_cell_temp_spread_c", "cycle_count"):
        assert key in body
    if math.isfinite(est.capacity_soh):  # a day usually has a full charge after a rest
        assert abs(est.capacity_soh - 0.9) < 0.02
    svc.maintain()
    report = svc.pack_report("P01").to_dict()
    assert report["serial"] == "P01"
    assert report["temperature_spread"]
    json.dumps(report)  # no NaN leaks into the API resource
    fleet = svc.fleet_report(by="maker").to_dict()
    assert sum(d["n_packs"] for d in fleet["distributions"]) >= 1
