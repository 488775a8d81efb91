"""File import: CSV and Parquet round trips, bad lines rejected with their line numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openswap.health.synth import SynthPackSpec, synthesise
from openswap.ingest.files import read_items, write_readings
from openswap.services.health import HealthService
from openswap.storage import SqlTelemetryStore
from tests.storage.support import T0, Database, build_network


def _readings(n_minutes: float = 3.0) -> list:  # type: ignore[type-arg]
    res = synthesise(
        [SynthPackSpec("P01")],
        n_minutes / 1440,
        1.0,
        [],
        np.random.default_rng(1),
        start_s=T0.timestamp(),
    )
    return list(res.telemetry["P01"].readings())


def test_csv_import_stores_valid_lines_and_dead_letters_bad_ones(
    db: Database, tmp_path: Path
) -> None:
    build_network(db)
    rs = _readings()
    path = tmp_path / "r.csv"
    assert write_readings(path, rs, "s1") == len(rs)
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace("edge", "middle", 1)  # a bad probe position on file line 4
    lines.insert(5, "garbage,row")
    path.write_text("\n".join(lines) + "\n")
    svc = HealthService(db.ctx(), SqlTelemetryStore(db.engine))
    stored = rejected = 0
    for items in read_items(path, chunk=50):
        out = svc.ingest(items)
        stored += out.stored
        rejected += out.rejected
    assert stored == len(rs) - 1
    assert rejected == 2
    sources = {d.source for d in svc.store.dead_letters()}
    assert sources == {"file:r.csv:4", "file:r.csv:6"}


def test_parquet_round_trip(db: Database, tmp_path: Path) -> None:
    build_network(db)
    rs = _readings(2.0)
    path = tmp_path / "r.parquet"
    write_readings(path, rs)
    svc = HealthService(db.ctx(), SqlTelemetryStore(db.engine))
    out = [svc.ingest(items) for items in read_items(path)]
    assert sum(o.stored for o in out) == len(rs)
    tel = svc.store.window("P01", rs[0].time_s, rs[-1].time_s + 1)
    assert tel is not None
    assert tel.cell_v is not None
