"""MQTT ingest against a real Mosquitto: readings in, an injected thermal-runaway precursor,
the pack quarantined within seconds, a reservation that would have used it refused with the
reason; and a broker restart that loses no reading."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from openswap.domain.assets import SafetyState
from openswap.health.batch import reading_to_payload
from openswap.health.synth import SynthPackSpec, ThermalRunaway, synthesise
from openswap.health.telemetry import Reading
from openswap.ingest.mqtt import MqttIngest, MqttSettings, bms_topic, parse_topic
from openswap.services import reservations as rsv
from openswap.services.health import HealthService
from openswap.storage import SqlTelemetryStore
from tests.ingest.conftest import PrivateBroker
from tests.storage.support import FLEET_A_ACTOR, T0, Database, build_network

EPOCH0 = T0.timestamp()


def synth(serial: str, minutes: float, faults: tuple[object, ...] = ()) -> list[Reading]:
    rng = np.random.default_rng(11)
    res = synthesise(
        [SynthPackSpec(serial)], minutes / 1440, 1.0, list(faults), rng, start_s=EPOCH0
    )  # type: ignore[arg-type]
    return list(res.telemetry[serial].readings())


def publisher(host: str, port: int) -> mqtt.Client:
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"pub-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )
    c.connect(host, port)
    c.loop_start()
    return c


def publish_all(c: mqtt.Client, station: str, rs: list[Reading]) -> None:
    infos = [
        c.publish(bms_topic(station, r.serial), json.dumps(reading_to_payload(r)), qos=1)
        for r in rs
    ]
    for info in infos:
        info.wait_for_publish(timeout=10)


def wait_for(cond: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def settings(host: str, port: int, station: str) -> MqttSettings:
    return MqttSettings(
        host=host,
        port=port,
        client_id=f"openswap-test-{uuid.uuid4().hex[:10]}",
        topic=f"openswap/{station}/+/bms",
        batch_size=200,
        batch_wait_s=0.05,
        session_expiry_s=120,
    )


def test_topic_scheme() -> None:
    assert bms_topic("s1", "P01") == "openswap/s1/P01/bms"
    assert parse_topic("openswap/s1/P01/bms") == ("s1", "P01")
    assert parse_topic("openswap/s1/bms") is None
    assert parse_topic("other/s1/P01/bms") is None


def test_runaway_over_mqtt_quarantines_and_refuses_the_reservation(
    db: Database, broker: tuple[str, int]
) -> None:
    build_network(db, s1_packs=1)
    ctx = db.ctx()
    booked = rsv.reserve(
        ctx, FLEET_A_ACTOR, rsv.ReserveSwap("v2", "s1", T0 + timedelta(minutes=30)), "k1"
    )
    assert booked.reserved
    svc = HealthService(ctx, SqlTelemetryStore(db.engine))
    onset = EPOCH0 + 300.0
    rs = synth("P01", 8, (ThermalRunaway("P01", onset, 37, rate_c_per_s=2.5),))
    garbage = [b"{broken", json.dumps({"serial": "P01", "soc": "full"}).encode()]
    ingest = MqttIngest(svc.ingest, settings(*broker, "s1"))
    ingest.start()
    pub = publisher(*broker)
    try:
        assert ingest.connected
        for g in garbage:
            pub.publish(bms_topic("s1", "P01"), g, qos=1).wait_for_publish(timeout=10)
        before = [r for r in rs if r.time_s < onset + 10.0]
        publish_all(pub, "s1", before)
        sent = time.monotonic()

        def quarantined() -> bool:
            with db.uow() as uow:
                rec = uow.packs.get("P01")
                return rec is not None and rec.pack.safety_state is SafetyState.QUARANTINED

        assert wait_for(quarantined, 15.0), "pack not quarantined"
        latency = time.monotonic() - sent
        assert latency < 5.0, f"quarantine took {latency:.1f} s after the reading"
        publish_all(pub, "s1", [r for r in rs if r.time_s >= onset + 10.0])
        assert wait_for(lambda: ingest.stats.messages >= len(rs) + len(garbage), 15.0)
    finally:
        pub.loop_stop()
        pub.disconnect()
        ingest.stop()
    again = rsv.reserve(
        ctx, FLEET_A_ACTOR, rsv.ReserveSwap("v2", "s1", T0 + timedelta(minutes=40)), "k2"
    )
    assert not again.reserved
    assert "quarantined" in " ".join(r.message for r in again.refusals)
    counts = svc.store.counts()
    assert counts.readings == len(rs)
    assert counts.dead_letters == len(garbage)
    assert ingest.stats.acked == len(rs) + len(garbage)


def test_broker_restart_loses_no_reading(db: Database, private_broker: PrivateBroker) -> None:
    build_network(db)
    svc = HealthService(db.ctx(), SqlTelemetryStore(db.engine))
    rs = synth("P02", 4)
    first, second = rs[:120], rs[120:]
    s = settings("127.0.0.1", private_broker.port, "s1")
    ingest = MqttIngest(svc.ingest, s)
    ingest.start()
    pub = publisher("127.0.0.1", private_broker.port)
    try:
        publish_all(pub, "s1", first)
        assert wait_for(lambda: ingest.stats.acked >= len(first), 10.0)
    finally:
        ingest.stop()  # away: the broker keeps the session and queues for it
    publish_all(pub, "s1", second)
    pub.loop_stop()
    pub.disconnect()
    private_broker.restart()  # queued messages survive in the broker's persistence file
    again = MqttIngest(svc.ingest, s)
    again.start()
    try:
        ok = wait_for(lambda: svc.store.counts().readings >= len(rs), 15.0)
        assert ok, (svc.store.counts(), again.stats, len(rs))
    finally:
        again.stop()
    counts = svc.store.counts()
    assert counts.readings == len(rs)
    assert counts.dead_letters == 0
