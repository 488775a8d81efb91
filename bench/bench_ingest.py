"""Telemetry ingest speed: the store's batched writes into SQLite and PostgreSQL, the whole
service path (validation, storage, detection), and MQTT end to end, each beside a reference
measured in the same run:

* SQLite: `SqlTelemetryStore.write` (INSERT OR IGNORE, one transaction per batch) beside a bare
  `executemany` of the same rows, already built, into a table with the same columns and no key.
* PostgreSQL (when OPENSWAP_BENCH_POSTGRES_URL or OPENSWAP_TEST_POSTGRES_URL is set): the store's
  binary COPY into day partitions beside a raw binary COPY of the same bytes into a bare table.
* MQTT (Mosquitto on 127.0.0.1:1883): a publisher process sends one reading per message, QoS 1;
  the subscriber batches, ingests into SQLite and acknowledges; messages/s and the p99 latency
  from publish to durable-and-acked, beside a plain paho subscriber that only counts (QoS 1).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import text

from openswap.catalog import builtin_catalog
from openswap.domain.assets import Pack, SafetyState
from openswap.health.batch import reading_to_payload
from openswap.health.synth import build_fleet_specs, synthesise
from openswap.health.telemetry import PackTelemetry
from openswap.ingest.mqtt import MqttIngest, MqttSettings, bms_topic
from openswap.services.health import HealthService, IngestItem, IngestResult
from openswap.services.model import Custody, Organisation, OrgRole, Warehouse
from openswap.services.operations import OperationsContext
from openswap.services.seeding import seed_database
from openswap.services.telemetry import PackBatch
from openswap.storage import Base, SqlTelemetryStore, build_engine, build_uow_factory
from openswap.storage.telemetry import READING_COLUMNS, _Columns, _copy_readings

PACK_MODEL = "catl-qiji-171-lfp"
START = 20_000 * 86_400.0


def _telemetry(n_packs: int, minutes: float) -> list[PackTelemetry]:
    rng = np.random.default_rng(20261124)
    specs = build_fleet_specs(n_packs, rng, prefix="B")
    res = synthesise(specs, minutes / 1440, 1.0, [], rng, start_s=START)
    return list(res.telemetry.values())


def _register(engine: object, serials: Sequence[str]) -> None:
    uow = build_uow_factory(engine)  # type: ignore[arg-type]
    seed_database(uow(), builtin_catalog(assets=False))
    model = builtin_catalog().pack_model(PACK_MODEL)
    with uow() as u:
        u.organisations.add(Organisation("bank", "Bank", frozenset({OrgRole.BATTERY_OWNER})))
        u.organisations.add(Organisation("op", "Op", frozenset({OrgRole.OPERATOR})))
        u.warehouses.add(Warehouse("w1", "Depot", "op"))
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        for s in serials:
            u.packs.add(
                Pack(s, model, "bank", 0.9, 0.95, 100, SafetyState.OK, 2e6, 2.0),
                Custody.in_warehouse("w1"),
                now,
            )
        u.commit()


def _bare_sqlite_rate(engine: object, cols: list[_Columns]) -> float:
    rows = [tuple(r) for c in cols for r in c.reading_rows()]
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql("DROP TABLE IF EXISTS bare_readings")
        conn.exec_driver_sql(
            f"CREATE TABLE bare_readings ({', '.join(READING_COLUMNS)})"  # no key, no index
        )
    t0 = time.perf_counter()
    with engine.begin() as conn:  # type: ignore[attr-defined]
        raw = conn.connection.driver_connection
        raw.executemany(
            f"INSERT INTO bare_readings VALUES ({', '.join('?' * len(READING_COLUMNS))})", rows
        )
    return len(rows) / (time.perf_counter() - t0)


def _bare_postgres_rate(engine: object, cols: list[_Columns]) -> float:
    from openswap.storage.telemetry import _COPY_HEADER, _COPY_TRAILER

    payload = _COPY_HEADER + b"".join(_copy_readings(c) for c in cols) + _COPY_TRAILER
    n = sum(c.n for c in cols)
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql("DROP TABLE IF EXISTS bare_readings")
        conn.exec_driver_sql(
            "CREATE TABLE bare_readings (LIKE telemetry_readings INCLUDING DEFAULTS)"
        )
    t0 = time.perf_counter()
    with engine.begin() as conn:  # type: ignore[attr-defined]
        raw = conn.connection.driver_connection
        sql = f"COPY bare_readings ({', '.join(READING_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        with raw.cursor() as cur, cur.copy(sql) as cp:
            cp.write(payload)
    return n / (time.perf_counter() - t0)


def _store_rate(store: SqlTelemetryStore, tels: list[PackTelemetry], per_batch: int) -> float:
    batches = [PackBatch(t, "s1") for t in tels]
    n = sum(len(t) for t in tels)
    t0 = time.perf_counter()
    for k in range(0, len(batches), per_batch):
        store.write(batches[k : k + per_batch], [])
    return n / (time.perf_counter() - t0)


def _service_rate(svc: HealthService, tels: list[PackTelemetry], batch: int) -> float:
    payloads = [reading_to_payload(r) for t in tels for r in t.readings()]
    payloads.sort(key=lambda p: p["time_s"])
    items = [IngestItem(p, "bench") for p in payloads]
    t0 = time.perf_counter()
    for k in range(0, len(items), batch):
        svc.ingest(items[k : k + batch])
    return len(items) / (time.perf_counter() - t0)


def _database(backend: str, tmp: Path) -> tuple[object, str | None]:
    if backend == "sqlite":
        engine = build_engine(f"sqlite:///{tmp / 'bench.db'}")
        Base.metadata.create_all(engine)
        return engine, None
    url = os.environ.get("OPENSWAP_BENCH_POSTGRES_URL") or os.environ.get(
        "OPENSWAP_TEST_POSTGRES_URL"
    )
    assert url is not None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = build_engine(url)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    engine = build_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    Base.metadata.create_all(engine)
    return engine, schema


def _drop_schema(schema: str) -> None:
    url = os.environ.get("OPENSWAP_BENCH_POSTGRES_URL") or os.environ.get(
        "OPENSWAP_TEST_POSTGRES_URL"
    )
    admin = build_engine(url)
    with admin.begin() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _storage(quick: bool, tmp: Path) -> dict[str, float]:
    n_packs, minutes = (20, 60) if quick else (100, 240)
    tels = _telemetry(n_packs, minutes)
    n = sum(len(t) for t in tels)
    out: dict[str, float] = {}
    backends = ["sqlite"]
    if os.environ.get("OPENSWAP_BENCH_POSTGRES_URL") or os.environ.get(
        "OPENSWAP_TEST_POSTGRES_URL"
    ):
        backends.append("postgres")
    else:
        print("  PostgreSQL: skipped (set OPENSWAP_BENCH_POSTGRES_URL)")
    for backend in backends:
        engine, schema = _database(backend, tmp)
        try:
            store = SqlTelemetryStore(engine)  # type: ignore[arg-type]
            cols = [_Columns(PackBatch(t, "s1")) for t in tels]
            bare = (_bare_sqlite_rate if backend == "sqlite" else _bare_postgres_rate)(engine, cols)
            rate = _store_rate(store, tels, per_batch=10)
            print(f"  {backend}: store.write, {n:,} readings in batches of 10 pack-blocks")
            print(f"    store (keyed, idempotent)  {rate:12,.0f} readings/s")
            print(
                f"    bare {'executemany' if backend == 'sqlite' else 'COPY'} (no key)"
                f"{'' if backend == 'sqlite' else '       '}  {bare:12,.0f} rows/s"
                f"   ratio {rate / bare:5.2f}"
            )
            out[f"{backend}_store"] = rate
            out[f"{backend}_bare"] = bare
            # the whole service path, on the same data again (dupes) and on fresh packs
            _register(engine, [t.serial for t in tels])
            svc = HealthService(
                OperationsContext(uow=build_uow_factory(engine)),  # type: ignore[arg-type]
                store,
            )
            fresh = _telemetry(n_packs, minutes / 4)
            shifted = [_shift(t, minutes * 60.0) for t in fresh]
            s_rate = _service_rate(svc, shifted, batch=5_000)
            print(
                f"    service.ingest (JSON-like payloads: validate, store, detect) "
                f"{s_rate:10,.0f} readings/s"
            )
            out[f"{backend}_service"] = s_rate
        finally:
            engine.dispose()  # type: ignore[attr-defined]
            if schema is not None:
                _drop_schema(schema)
    return out


def _shift(tel: PackTelemetry, dt: float) -> PackTelemetry:
    from dataclasses import replace

    return replace(
        tel,
        time_s=tel.time_s + dt,
        cell_time_s=None if tel.cell_time_s is None else tel.cell_time_s + dt,
    )


# --- MQTT ------------------------------------------------------------------------------------


def _publish(host: str, port: int, station: str, payloads: list[bytes], topics: list[str]) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.max_inflight_messages_set(2000)
    c.max_queued_messages_set(0)
    c.connect(host, port)
    c.loop_start()
    infos = []
    for topic, p in zip(topics, payloads, strict=True):
        stamped = p[:-1] + f', "sent": {time.time()!r}}}'.encode()
        infos.append(c.publish(topic, stamped, qos=1))
    for info in infos:
        info.wait_for_publish(timeout=120)
    c.loop_stop()
    c.disconnect()


def _mqtt_payloads(n_packs: int, minutes: float, station: str) -> tuple[list[bytes], list[str]]:
    tels = _telemetry(n_packs, minutes)
    rows = sorted(
        (reading_to_payload(r) for t in tels for r in t.readings()), key=lambda p: p["time_s"]
    )
    return [json.dumps(r).encode() for r in rows], [bms_topic(station, r["serial"]) for r in rows]


def _raw_mqtt_rate(host: str, port: int, payloads: list[bytes], topics: list[str]) -> float:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    station = f"raw{uuid.uuid4().hex[:6]}"
    topics = [t.replace("/bench", f"/{station}", 1) for t in topics]
    got = 0
    first = last = 0.0
    done = threading.Event()

    def on_message(_c: object, _u: object, _m: object) -> None:
        nonlocal got, first, last
        got += 1
        now = time.perf_counter()
        first = first or now
        last = now
        if got >= len(payloads):
            done.set()

    sub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    sub.on_message = on_message
    sub.connect(host, port)
    sub.subscribe(f"openswap/{station}/+/bms", qos=1)
    sub.loop_start()
    time.sleep(0.3)
    pub = mp.get_context("spawn").Process(
        target=_publish, args=(host, port, station, payloads, topics)
    )
    pub.start()
    done.wait(120)
    pub.join(60)
    sub.loop_stop()
    sub.disconnect()
    return got / max(last - first, 1e-9)


def _private_broker() -> tuple[subprocess.Popen[bytes], int, str] | None:
    """A Mosquitto of the benchmark's own, tuned as a telemetry broker should be: no cap on
    in-flight QoS 1 messages per client (the default of 20 caps a consumer that acknowledges
    after its commit) and no cap on queued messages (the default drops beyond 1,000)."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        return None
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = int(so.getsockname()[1])
    directory = tempfile.mkdtemp(prefix="openswap-bench-mosquitto-")
    Path(directory).chmod(0o777)
    conf = Path(directory) / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\n"
        "max_inflight_messages 0\nmax_queued_messages 0\n"
    )
    proc = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port, directory
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    return None


def _mqtt(quick: bool, tmp: Path) -> dict[str, float]:
    host = "127.0.0.1"
    broker = _private_broker()
    if broker is None:
        print("  MQTT: skipped (no mosquitto binary)")
        return {}
    proc, port, directory = broker
    try:
        return _mqtt_on(quick, tmp, host, port)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


def _mqtt_on(quick: bool, tmp: Path, host: str, port: int) -> dict[str, float]:
    n_packs, minutes = (20, 10) if quick else (100, 20)
    payloads, topics = _mqtt_payloads(n_packs, minutes, "bench")
    n = len(payloads)
    raw = _raw_mqtt_rate(host, port, payloads, topics)
    engine = build_engine(f"sqlite:///{tmp / 'mqtt.db'}")
    Base.metadata.create_all(engine)
    serials = sorted({t.split("/")[2] for t in topics})
    _register(engine, serials)
    svc = HealthService(OperationsContext(uow=build_uow_factory(engine)), SqlTelemetryStore(engine))
    latencies: list[float] = []
    first = last = 0.0
    done = threading.Event()

    def on_batch(items: Sequence[IngestItem], _r: IngestResult) -> None:
        nonlocal first, last
        now = time.time()
        last = time.perf_counter()
        first = first or last
        for it in items:
            body = it.payload
            assert isinstance(body, bytes)
            sent = float(body[body.rfind(b":") + 1 : -1])
            latencies.append(now - sent)
        if len(latencies) >= n:
            done.set()

    station = "bench"
    ingest = MqttIngest(
        svc.ingest,
        MqttSettings(
            host=host,
            port=port,
            client_id=f"bench-{uuid.uuid4().hex[:8]}",
            topic=f"openswap/{station}/+/bms",
            batch_size=5_000,
            batch_wait_s=0.05,
            session_expiry_s=60,
        ),
        on_batch=on_batch,
    )
    ingest.start()
    pub = mp.get_context("spawn").Process(
        target=_publish, args=(host, port, station, payloads, topics)
    )
    pub.start()
    done.wait(300)
    pub.join(60)
    ingest.stop()
    engine.dispose()
    rate = len(latencies) / max(last - first, 1e-9)
    p50, p99 = (float(np.quantile(latencies, q)) for q in (0.5, 0.99))
    print(f"  MQTT end to end ({n:,} messages, QoS 1, SQLite, acked after commit; private broker)")
    print(
        f"    ingest {rate:10,.0f} msg/s   latency p50 {p50 * 1e3:6.0f} ms  p99 {p99 * 1e3:6.0f} ms"
    )
    print(f"    raw paho subscriber {raw:10,.0f} msg/s   ratio {rate / raw:5.2f}")
    return {"mqtt_rate": rate, "mqtt_raw": raw, "mqtt_p99_s": p99, "mqtt_p50_s": p50}


def run(quick: bool = False) -> dict[str, float]:
    print("health: telemetry ingest" + (" (quick)" if quick else ""))
    with tempfile.TemporaryDirectory() as tmp:
        out = _storage(quick, Path(tmp))
        out.update(_mqtt(quick, Path(tmp)))
    return out


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
