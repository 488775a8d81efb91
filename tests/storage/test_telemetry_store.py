"""The telemetry store on SQLite and PostgreSQL: batched idempotent writes (COPY and its staged
fallback on PostgreSQL), out-of-order rows, windows, minute downsampling and raw retention."""

from __future__ import annotations

import numpy as np

from openswap.health.synth import SynthPackSpec, synthesise
from openswap.services.health import _take_unordered
from openswap.services.telemetry import SECONDS_PER_DAY, DeadLetter, PackBatch
from openswap.storage import SqlTelemetryStore
from tests.storage.support import T0, Database

DAY0 = 20_000 * SECONDS_PER_DAY  # midnight UTC, 2024-10-04


def _tel(serial: str = "P01", minutes: float = 30, start: float = DAY0) -> PackBatch:
    rng = np.random.default_rng(5)
    res = synthesise([SynthPackSpec(serial)], minutes / 1440, 1.0, [], rng, start_s=start)
    return PackBatch(res.telemetry[serial], "s1")


def test_writes_are_idempotent_and_order_free(db: Database) -> None:
    store = SqlTelemetryStore(db.engine)
    batch = _tel()
    tel = batch.telemetry
    n = len(tel)
    perm = np.random.default_rng(2).permutation(n)
    shuffled = PackBatch(_take_unordered(tel, perm[: n // 2]), "s1")
    first = store.write([shuffled], [])
    assert first.readings == n // 2
    again = store.write([batch], [])  # half of it stored already: the staged path on PostgreSQL
    assert again.readings == n - n // 2
    assert store.write([batch], []).readings == 0
    back = store.window("P01", DAY0, DAY0 + SECONDS_PER_DAY)
    assert back is not None
    assert len(back) == n
    assert np.array_equal(back.time_s, tel.time_s)
    assert np.allclose(back.temps_c, tel.temps_c)
    assert np.allclose(back.insulation_ohm, tel.insulation_ohm)
    assert back.temp_positions == tel.temp_positions
    assert back.cell_v is not None
    assert tel.cell_v is not None
    assert np.allclose(back.cell_v, tel.cell_v)
    assert store.latest_time(["P01", "P99"]) == {"P01": float(tel.time_s[-1])}


def test_dead_letters_keep_payload_and_reasons(db: Database) -> None:
    store = SqlTelemetryStore(db.engine)
    store.write([], [DeadLetter(T0, "http", '{"soc": 7}', ("soc: 7 outside 0..1", "x: missing"))])
    (d,) = store.dead_letters()
    assert d.payload == '{"soc": 7}'
    assert d.reasons == ("soc: 7 outside 0..1", "x: missing")
    assert d.received_at == T0


def test_downsampling_and_retention(db: Database) -> None:
    store = SqlTelemetryStore(db.engine)
    old = _tel(minutes=10, start=DAY0)
    new = _tel(minutes=10, start=DAY0 + 3 * SECONDS_PER_DAY)
    store.write([old, new], [])
    counts = store.maintain(retain_raw_days=2, today=20_004)
    assert counts.days_downsampled == 2
    assert counts.minutes_written == 20
    assert counts.raw_days_dropped == 1
    assert counts.rows_dropped == len(old.telemetry)
    after = store.counts()
    assert after.raw_days == (20_003,)
    assert after.minutes == 20  # aggregates of the dropped day stay
    minutes = store.minutes("P01", DAY0, DAY0 + 600)
    assert len(minutes) == 10
    assert all(m.n == 60 for m in minutes)
    assert abs(minutes[0].soc_mean - float(old.telemetry.soc[:60].mean())) < 1e-4
    # late data for a kept day re-dirties it; a second run re-aggregates only that day
    assert store.maintain(retain_raw_days=2, today=20_004).days_downsampled == 0
    store.write([new], [])
    assert store.maintain(retain_raw_days=2, today=20_004).days_downsampled == 1
