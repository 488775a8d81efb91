"""Pack telemetry storage: raw readings by day, per-cell frames, minute aggregates, retention,
dead letters, health alarms and estimates (implements `services.telemetry.TelemetryStore`).

Raw readings are keyed by (day, serial, time_s), day = floor(time_s / 86,400) with time_s in Unix
epoch seconds. PostgreSQL: `telemetry_readings` and `telemetry_cell_frames` are range-partitioned
by day (one partition per day, created on demand); batches go in with binary COPY, built a
column at a time with numpy; a batch that hits stored (serial, time) keys is copied into a
temporary table and inserted with ON CONFLICT DO NOTHING; retention drops whole partitions.
SQLite: one table keyed (day, serial, time_s); INSERT OR IGNORE with executemany in one
transaction.
Probe temperatures and cell voltages are stored as little-endian float32 blobs; probe positions
as one letter each (`e` edge, `c` centre). Every write notes its days in `telemetry_dirty_days`
(a version per day), which `maintain` downsamples into `telemetry_minutes` before it drops raw
days older than the retention.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import repeat
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    JSON,
    REAL,
    BigInteger,
    Boolean,
    Connection,
    Engine,
    Float,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from openswap.health.detection import Alarm, AlarmKind, Severity
from openswap.health.telemetry import PackTelemetry, SensorPosition
from openswap.services.telemetry import (
    SECONDS_PER_DAY,
    DeadLetter,
    HealthEstimate,
    MaintenanceCounts,
    MinuteAggregate,
    PackBatch,
    PackInfo,
    StoredAlarm,
    TelemetryCounts,
    WriteCounts,
)
from openswap.storage.models import ID, TEXT, Base, BigId, PackModelRow, PackRow

Float64 = Float(precision=53).with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")
_POS_CODE = {SensorPosition.EDGE: "e", SensorPosition.CENTRE: "c"}
_CODE_POS = {v: k for k, v in _POS_CODE.items()}
_PARTITIONED = ("telemetry_readings", "telemetry_cell_frames")
UNIQUE_VIOLATION = "23505"
_PARTITION_LOCK = 0x6F70656E_73776170 & 0x7FFFFFFFFFFFFFFF  # "openswap": one advisory lock id


class TelemetryReadingRow(Base):
    """One BMS reading. Derived columns for queries without the blobs: hottest probe, and the
    edge-to-centre spread (mean centre minus mean edge probes, NULL without both kinds)."""

    __tablename__ = "telemetry_readings"
    __table_args__ = ({"postgresql_partition_by": "RANGE (day)", "sqlite_with_rowid": False},)
    # day first: SQLite's retention deletes by key prefix; every read names its days
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(ID), primary_key=True)
    time_s: Mapped[float] = mapped_column(Float64, primary_key=True)
    station_id: Mapped[str | None] = mapped_column(String(ID))
    soc: Mapped[float] = mapped_column(REAL)
    voltage_v: Mapped[float] = mapped_column(REAL)
    current_a: Mapped[float] = mapped_column(REAL)
    cell_v_min: Mapped[float] = mapped_column(REAL)
    cell_v_max: Mapped[float] = mapped_column(REAL)
    temp_max_c: Mapped[float] = mapped_column(REAL)
    spread_c: Mapped[float | None] = mapped_column(REAL)
    insulation_ohm: Mapped[float] = mapped_column(REAL)
    alarm_flags: Mapped[int] = mapped_column(Integer)
    temps: Mapped[bytes] = mapped_column(LargeBinary)
    positions: Mapped[str] = mapped_column(String(ID))
    coolant_in_c: Mapped[float | None] = mapped_column(REAL)
    coolant_out_c: Mapped[float | None] = mapped_column(REAL)


class TelemetryCellFrameRow(Base):
    """One per-cell voltage frame (its own, slower clock)."""

    __tablename__ = "telemetry_cell_frames"
    __table_args__ = ({"postgresql_partition_by": "RANGE (day)", "sqlite_with_rowid": False},)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(ID), primary_key=True)
    time_s: Mapped[float] = mapped_column(Float64, primary_key=True)
    cells: Mapped[bytes] = mapped_column(LargeBinary)


class TelemetryMinuteRow(Base):
    """One pack-minute of downsampled readings, kept after the raw day is dropped."""

    __tablename__ = "telemetry_minutes"
    serial: Mapped[str] = mapped_column(String(ID), primary_key=True)
    minute: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    soc_mean: Mapped[float] = mapped_column(REAL)
    current_mean_a: Mapped[float] = mapped_column(REAL)
    voltage_mean_v: Mapped[float] = mapped_column(REAL)
    cell_v_min: Mapped[float] = mapped_column(REAL)
    cell_v_max: Mapped[float] = mapped_column(REAL)
    temp_max_c: Mapped[float] = mapped_column(REAL)
    spread_mean_c: Mapped[float | None] = mapped_column(REAL)
    spread_max_c: Mapped[float | None] = mapped_column(REAL)
    insulation_min_ohm: Mapped[float] = mapped_column(REAL)
    alarm_flags: Mapped[int] = mapped_column(Integer)


class TelemetryDirtyDayRow(Base):
    """Days written since they were last downsampled; `version` grows with every write, so a
    downsampling run clears only the version it saw."""

    __tablename__ = "telemetry_dirty_days"
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)


class TelemetryDeadLetterRow(Base):
    """An input that was not stored as a reading: raw payload and every reason."""

    __tablename__ = "telemetry_dead_letters"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(TEXT))
    serial: Mapped[str | None] = mapped_column(String(TEXT), index=True)
    payload: Mapped[str] = mapped_column(Text)
    reasons: Mapped[list[str]] = mapped_column(JSON)


class PackAlarmRow(Base):
    """An alarm of the health detectors, with its evidence; one row per episode."""

    __tablename__ = "pack_alarms"
    __table_args__ = (UniqueConstraint("serial", "kind", "subject", "detected_time_s"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    serial: Mapped[str] = mapped_column(String(ID), index=True)
    kind: Mapped[str] = mapped_column(String(ID))
    severity: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(ID))
    onset_time_s: Mapped[float] = mapped_column(Float64)
    detected_time_s: Mapped[float] = mapped_column(Float64)
    evidence: Mapped[str] = mapped_column(Text)
    values: Mapped[dict[str, Any]]
    quarantined: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime]


class PackHealthEstimateRow(Base):
    """Capacity and resistance SoH of a pack over one window of readings."""

    __tablename__ = "pack_health_estimates"
    serial: Mapped[str] = mapped_column(String(ID), primary_key=True)
    time_s: Mapped[float] = mapped_column(Float64, primary_key=True)
    window_start_s: Mapped[float] = mapped_column(Float64)
    capacity_soh: Mapped[float | None] = mapped_column(Float64)
    capacity_soh_low: Mapped[float | None] = mapped_column(Float64)
    capacity_soh_high: Mapped[float | None] = mapped_column(Float64)
    resistance_ohm: Mapped[float | None] = mapped_column(Float64)
    resistance_soh: Mapped[float | None] = mapped_column(Float64)
    resistance_soh_low: Mapped[float | None] = mapped_column(Float64)
    resistance_soh_high: Mapped[float | None] = mapped_column(Float64)
    max_spread_c: Mapped[float | None] = mapped_column(Float64)
    min_insulation_ohm: Mapped[float | None] = mapped_column(Float64)
    estimated_at: Mapped[datetime]


# Column order of the rows the writers build (COPY and executemany name their columns).
READING_COLUMNS = (
    "serial",
    "time_s",
    "day",
    "station_id",
    "soc",
    "voltage_v",
    "current_a",
    "cell_v_min",
    "cell_v_max",
    "temp_max_c",
    "spread_c",
    "insulation_ohm",
    "alarm_flags",
    "temps",
    "positions",
    "coolant_in_c",
    "coolant_out_c",
)
CELL_COLUMNS = ("serial", "time_s", "day", "cells")
_READINGS = cast(Table, TelemetryReadingRow.__table__)
_CELLS = cast(Table, TelemetryCellFrameRow.__table__)
_MINUTES = cast(Table, TelemetryMinuteRow.__table__)
_DIRTY = cast(Table, TelemetryDirtyDayRow.__table__)
_DEAD = cast(Table, TelemetryDeadLetterRow.__table__)
_ALARMS = cast(Table, PackAlarmRow.__table__)
_ESTIMATES = cast(Table, PackHealthEstimateRow.__table__)


def _none_if_nan(x: float) -> float | None:
    return None if math.isnan(x) else x


def _nan_if_none(x: float | None) -> float:
    return math.nan if x is None else float(x)


# --- columns of one batch ----------------------------------------------------------------------


class _Columns:
    """The stored columns of one `PackBatch`, as numpy arrays (derived columns computed)."""

    def __init__(self, batch: PackBatch) -> None:
        tel = batch.telemetry
        self.serial = tel.serial
        self.station = batch.station_id
        self.n = len(tel)
        self.time_s = np.asarray(tel.time_s, dtype=np.float64)
        self.day = np.floor(self.time_s / SECONDS_PER_DAY).astype(np.int32)
        temps = np.asarray(tel.temps_c, dtype=np.float32)
        self.k = temps.shape[0]
        self.temp_max = temps.max(axis=0)
        edge = tel.edge_mask
        if edge.any() and (~edge).any():
            self.spread: npt.NDArray[np.float32] | None = (
                temps[~edge].mean(axis=0) - temps[edge].mean(axis=0)
            ).astype(np.float32)
        else:
            self.spread = None
        self.temps_blob = np.ascontiguousarray(temps.T).astype("<f4")  # (n, k)
        self.positions = "".join(_POS_CODE[p] for p in tel.temp_positions)
        self.tel = tel
        self.cell_time = tel.cell_time_s
        self.cell_v = None if tel.cell_v is None else np.ascontiguousarray(tel.cell_v, "<f4")

    def coolant(self, name: str) -> npt.NDArray[np.float32] | None:
        col = getattr(self.tel, name)
        return None if col is None else np.asarray(col, dtype=np.float32)

    def days(self) -> set[int]:
        days = set(np.unique(self.day).tolist())
        if self.cell_time is not None and self.cell_time.size:
            days |= set(np.unique(np.floor(self.cell_time / SECONDS_PER_DAY)).astype(int).tolist())
        return days

    def reading_rows(self) -> Iterable[tuple[Any, ...]]:
        """DB-API parameter rows (SQLite)."""
        null = repeat(None, self.n)
        cin, cout = self.coolant("coolant_in_c"), self.coolant("coolant_out_c")
        blobs = self.temps_blob.view(f"V{4 * self.k}").ravel().tolist()
        return zip(
            repeat(self.serial, self.n),
            self.time_s.tolist(),
            self.day.tolist(),
            repeat(self.station, self.n),
            self.tel.soc.tolist(),
            self.tel.voltage_v.tolist(),
            self.tel.current_a.tolist(),
            self.tel.cell_v_min.tolist(),
            self.tel.cell_v_max.tolist(),
            self.temp_max.tolist(),
            null if self.spread is None else self.spread.tolist(),
            self.tel.insulation_ohm.tolist(),
            self.tel.alarm_flags.astype(np.int64).tolist(),
            blobs,
            repeat(self.positions, self.n),
            null if cin is None else cin.tolist(),
            null if cout is None else cout.tolist(),
            strict=False,
        )

    def cell_rows(self) -> list[tuple[Any, ...]]:
        if self.cell_time is None or self.cell_v is None or not self.cell_time.size:
            return []
        t = np.asarray(self.cell_time, dtype=np.float64)
        day = np.floor(t / SECONDS_PER_DAY).astype(np.int64)
        blobs = self.cell_v.view(f"V{4 * self.cell_v.shape[1]}").ravel().tolist()
        return list(zip(repeat(self.serial), t.tolist(), day.tolist(), blobs, strict=False))


# --- PostgreSQL binary COPY ------------------------------------------------------------------

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)


def _binary_rows(n: int, fields: Sequence[tuple[str, Any]]) -> bytes:
    """`n` rows of PostgreSQL binary COPY: per field a dtype (`>f8`, `>f4`, `>i4`, `S<k>`,
    `V<k>`) and values (an array of n, a scalar, or None for NULL in every row)."""
    spec: list[tuple[str, str]] = [("nf", ">i2")]
    for j, (dt, vals) in enumerate(fields):
        spec.append((f"l{j}", ">i4"))
        if vals is not None:
            spec.append((f"v{j}", dt))
    rec = np.empty(n, dtype=spec)
    rec["nf"] = len(fields)
    for j, (dt, vals) in enumerate(fields):
        if vals is None:
            rec[f"l{j}"] = -1
        else:
            rec[f"l{j}"] = np.dtype(dt).itemsize
            rec[f"v{j}"] = vals
    return rec.tobytes()


def _null_split(
    *cols: npt.NDArray[np.float32] | None,
) -> list[tuple[npt.NDArray[np.intp], list[bool]]]:
    """Row groups with one NULL pattern over nullable float columns (NaN or None = NULL)."""
    masks = [np.zeros(0, dtype=np.bool_) if c is None else np.isnan(c) for c in cols]
    n = max((m.size for m in masks), default=0)
    if n == 0:
        return []
    full = [
        np.ones(n, dtype=np.bool_) if c is None else m for c, m in zip(cols, masks, strict=True)
    ]
    key = np.zeros(n, dtype=np.int64)
    for j, m in enumerate(full):
        key |= m.astype(np.int64) << j
    out = []
    for k in np.unique(key).tolist():
        idx = np.flatnonzero(key == k)
        out.append((idx, [bool((k >> j) & 1) for j in range(len(cols))]))
    return out


def _copy_readings(cols: _Columns) -> bytes:
    serial = cols.serial.encode()
    station = None if cols.station is None else cols.station.encode()
    pos = cols.positions.encode()
    blob_dt = f"V{4 * cols.k}"
    blobs = cols.temps_blob.view(blob_dt).ravel()
    cin, cout = cols.coolant("coolant_in_c"), cols.coolant("coolant_out_c")
    tel = cols.tel
    parts = []
    for idx, nulls in _null_split(
        cols.spread if cols.spread is not None else np.full(cols.n, np.nan, np.float32),
        cin if cin is not None else np.full(cols.n, np.nan, np.float32),
        cout if cout is not None else np.full(cols.n, np.nan, np.float32),
    ):
        spread_null, cin_null, cout_null = nulls
        parts.append(
            _binary_rows(
                idx.size,
                [
                    (f"S{len(serial)}", serial),
                    (">f8", cols.time_s[idx]),
                    (">i4", cols.day[idx]),
                    (f"S{len(station) if station else 1}", station),
                    (">f4", tel.soc[idx]),
                    (">f4", tel.voltage_v[idx]),
                    (">f4", tel.current_a[idx]),
                    (">f4", tel.cell_v_min[idx]),
                    (">f4", tel.cell_v_max[idx]),
                    (">f4", cols.temp_max[idx]),
                    (">f4", None if spread_null else cols.spread[idx]),  # type: ignore[index]
                    (">f4", tel.insulation_ohm[idx]),
                    (">i4", tel.alarm_flags[idx].astype(np.int32)),
                    (blob_dt, blobs[idx]),
                    (f"S{len(pos)}", pos),
                    (">f4", None if cin_null else cin[idx]),  # type: ignore[index]
                    (">f4", None if cout_null else cout[idx]),  # type: ignore[index]
                ],
            )
        )
    return b"".join(parts)


def _copy_cells(cols: _Columns) -> bytes:
    if cols.cell_time is None or cols.cell_v is None or not cols.cell_time.size:
        return b""
    serial = cols.serial.encode()
    t = np.asarray(cols.cell_time, dtype=np.float64)
    width = cols.cell_v.shape[1]
    return _binary_rows(
        t.size,
        [
            (f"S{len(serial)}", serial),
            (">f8", t),
            (">i4", np.floor(t / SECONDS_PER_DAY).astype(np.int32)),
            (f"V{4 * width}", cols.cell_v.view(f"V{4 * width}").ravel()),
        ],
    )


# --- the store ---------------------------------------------------------------------------------


class SqlTelemetryStore:
    """`services.telemetry.TelemetryStore` over a SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self._partitions: set[tuple[str, int]] = set()

    # -- packs --

    def pack_info(self, serials: Sequence[str] | None = None) -> dict[str, PackInfo]:
        out: dict[str, PackInfo] = {}
        q = select(
            PackRow.serial,
            PackRow.model_id,
            PackRow.cycle_count,
            PackRow.safety_state,
            PackRow.soh,
            PackModelRow.maker,
            PackModelRow.usable_energy_kwh,
            PackModelRow.spec,
        ).join(PackModelRow, PackModelRow.id == PackRow.model_id)
        if serials is None:
            chunks = [q.order_by(PackRow.serial)]
        else:
            wanted = sorted(set(serials))
            chunks = [
                q.where(PackRow.serial.in_(wanted[k : k + 500])) for k in range(0, len(wanted), 500)
            ]
        with self.engine.connect() as c:
            for chunk in chunks:
                for row in c.execute(chunk):
                    spec = row.spec
                    nominal = float(spec.get("nominal_voltage_v") or 0.0)
                    usable = float(row.usable_energy_kwh)
                    out[row.serial] = PackInfo(
                        serial=row.serial,
                        model_id=row.model_id,
                        maker=row.maker,
                        cells_in_series=int(spec.get("cells_in_series") or 0),
                        rated_capacity_ah=usable * 1000.0 / nominal if nominal > 0 else math.nan,
                        max_voltage_v=float(spec.get("max_voltage_v") or math.nan),
                        cycle_count=int(row.cycle_count),
                        safety_state=str(row.safety_state),
                        soh=float(row.soh),
                    )
        return out

    # -- raw writes --

    def write(self, batches: Sequence[PackBatch], dead: Sequence[DeadLetter]) -> WriteCounts:
        cols = [_Columns(b) for b in batches if len(b.telemetry)]
        days = set().union(*(c.days() for c in cols)) if cols else set()
        if self.postgres and days:
            self._ensure_partitions(days)
        with self.engine.begin() as conn:
            if self.postgres:
                readings, frames = self._write_postgres(conn, cols)
            else:
                readings, frames = self._write_sqlite(conn, cols)
            if days:
                self._mark_dirty(conn, days)
            if dead:
                conn.execute(
                    insert(_DEAD),
                    [
                        {
                            "received_at": d.received_at,
                            "source": d.source[:TEXT],
                            "serial": None if d.serial is None else d.serial[:TEXT],
                            "payload": d.payload,
                            "reasons": list(d.reasons),
                        }
                        for d in dead
                    ],
                )
        return WriteCounts(readings, frames, len(dead))

    def _write_sqlite(self, conn: Connection, cols: list[_Columns]) -> tuple[int, int]:
        raw = conn.connection.driver_connection
        assert raw is not None
        cur = raw.cursor()
        try:
            before = raw.total_changes
            sql = (
                f"INSERT OR IGNORE INTO telemetry_readings ({', '.join(READING_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(READING_COLUMNS))})"
            )
            for c in cols:
                cur.executemany(sql, c.reading_rows())
            readings = raw.total_changes - before
            before = raw.total_changes
            sql = (
                f"INSERT OR IGNORE INTO telemetry_cell_frames ({', '.join(CELL_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(CELL_COLUMNS))})"
            )
            for c in cols:
                rows = c.cell_rows()
                if rows:
                    cur.executemany(sql, rows)
            frames = raw.total_changes - before
        finally:
            cur.close()
        return readings, frames

    def _write_postgres(self, conn: Connection, cols: list[_Columns]) -> tuple[int, int]:
        readings = b"".join(_copy_readings(c) for c in cols)
        n_readings = sum(c.n for c in cols)
        cells = b"".join(_copy_cells(c) for c in cols)
        n_cells = sum(0 if c.cell_time is None else int(c.cell_time.size) for c in cols)
        out = []
        for table, names, data, n in (
            ("telemetry_readings", READING_COLUMNS, readings, n_readings),
            ("telemetry_cell_frames", CELL_COLUMNS, cells, n_cells),
        ):
            if n == 0:
                out.append(0)
                continue
            payload = _COPY_HEADER + data + _COPY_TRAILER
            savepoint = conn.begin_nested()
            try:
                self._copy(conn, table, names, payload)
                savepoint.commit()
                out.append(n)
            except Exception as exc:  # psycopg's own error: the COPY ran on the raw cursor
                if getattr(exc, "sqlstate", None) != UNIQUE_VIOLATION:
                    raise
                # Stored keys (a redelivery, a replayed file): stage and skip the known ones.
                savepoint.rollback()
                out.append(self._copy_staged(conn, table, names, payload))
        return out[0], out[1]

    @staticmethod
    def _copy(conn: Connection, table: str, names: Sequence[str], payload: bytes) -> None:
        raw = conn.connection.driver_connection
        assert raw is not None
        sql = f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)"
        with raw.cursor() as cur, cur.copy(sql) as cp:
            cp.write(payload)

    def _copy_staged(
        self, conn: Connection, table: str, names: Sequence[str], payload: bytes
    ) -> int:
        stage = f"{table}_stage"
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} "
            f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        conn.exec_driver_sql(f"TRUNCATE {stage}")
        self._copy(conn, stage, names, payload)
        cols = ", ".join(names)
        result = conn.exec_driver_sql(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT DO NOTHING"
        )
        return int(result.rowcount)

    def _ensure_partitions(self, days: set[int]) -> None:
        missing = [
            (t, d) for t in _PARTITIONED for d in sorted(days) if (t, d) not in self._partitions
        ]
        if not missing:
            return
        with self.engine.begin() as conn:
            # One creator at a time: CREATE TABLE IF NOT EXISTS races on the catalog otherwise.
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PARTITION_LOCK})
            for table, day in missing:
                conn.exec_driver_sql(
                    f"CREATE TABLE IF NOT EXISTS {table}_d{day} PARTITION OF {table} "
                    f"FOR VALUES FROM ({day}) TO ({day + 1})"
                )
        self._partitions.update(missing)

    def _mark_dirty(self, conn: Connection, days: set[int]) -> None:
        ins = (postgresql.insert if self.postgres else sqlite.insert)(_DIRTY)
        stmt = ins.values([{"day": d, "version": 1} for d in sorted(days)])
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["day"], set_={"version": _DIRTY.c.version + 1}
            )
        )

    # -- raw reads --

    def window(self, serial: str, start_s: float, end_s: float) -> PackTelemetry | None:
        r = _READINGS.c
        q = (
            select(
                r.time_s,
                r.soc,
                r.voltage_v,
                r.current_a,
                r.cell_v_min,
                r.cell_v_max,
                r.insulation_ohm,
                r.alarm_flags,
                r.temps,
                r.positions,
                r.coolant_in_c,
                r.coolant_out_c,
            )
            .where(r.serial == serial, r.time_s >= start_s, r.time_s < end_s)
            .where(r.day >= math.floor(start_s / SECONDS_PER_DAY))
            .where(r.day <= math.floor(end_s / SECONDS_PER_DAY))
            .order_by(r.time_s)
        )
        c = _CELLS.c
        qc = (
            select(c.time_s, c.cells)
            .where(c.serial == serial, c.time_s >= start_s, c.time_s < end_s)
            .where(c.day >= math.floor(start_s / SECONDS_PER_DAY))
            .where(c.day <= math.floor(end_s / SECONDS_PER_DAY))
            .order_by(c.time_s)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
            frames = conn.execute(qc).all()
        if not rows:
            return None
        layout = rows[0].positions
        rows = [x for x in rows if x.positions == layout]
        cols = list(zip(*rows, strict=True))
        f32 = np.float32
        k = len(layout)
        temps = np.frombuffer(b"".join(cols[8]), dtype="<f4").reshape(len(rows), k)
        cin = np.array([_nan_if_none(x) for x in cols[10]], dtype=f32)
        cout = np.array([_nan_if_none(x) for x in cols[11]], dtype=f32)
        cell_t = cell_v = None
        if frames:
            widths = {len(f.cells) for f in frames}
            if len(widths) == 1:
                cell_t = np.array([f.time_s for f in frames], dtype=np.float64)
                cell_v = (
                    np.frombuffer(b"".join(f.cells for f in frames), dtype="<f4")
                    .reshape(len(frames), -1)
                    .astype(f32)
                )
        return PackTelemetry(
            serial=serial,
            time_s=np.array(cols[0], dtype=np.float64),
            soc=np.array(cols[1], dtype=f32),
            voltage_v=np.array(cols[2], dtype=f32),
            current_a=np.array(cols[3], dtype=f32),
            cell_v_min=np.array(cols[4], dtype=f32),
            cell_v_max=np.array(cols[5], dtype=f32),
            temps_c=np.ascontiguousarray(temps.T.astype(f32)),
            temp_positions=tuple(_CODE_POS[ch] for ch in layout),
            insulation_ohm=np.array(cols[6], dtype=f32),
            alarm_flags=np.array(cols[7], dtype=np.uint32),
            cell_time_s=cell_t,
            cell_v=cell_v,
            coolant_in_c=None if np.isnan(cin).all() else cin,
            coolant_out_c=None if np.isnan(cout).all() else cout,
        )

    def latest_time(self, serials: Sequence[str]) -> dict[str, float]:
        r = _READINGS.c
        out: dict[str, float] = {}
        wanted = sorted(set(serials))
        with self.engine.connect() as conn:
            for k in range(0, len(wanted), 500):
                q = (
                    select(r.serial, func.max(r.time_s))
                    .where(r.serial.in_(wanted[k : k + 500]))
                    .group_by(r.serial)
                )
                out.update({s: float(t) for s, t in conn.execute(q)})
        return out

    def serials_with_readings(self, start_s: float, end_s: float) -> list[str]:
        r = _READINGS.c
        q = (
            select(r.serial)
            .where(r.time_s >= start_s, r.time_s < end_s)
            .where(r.day >= math.floor(start_s / SECONDS_PER_DAY))
            .where(r.day <= math.floor(end_s / SECONDS_PER_DAY))
            .distinct()
            .order_by(r.serial)
        )
        with self.engine.connect() as conn:
            return [s for (s,) in conn.execute(q)]

    def minutes(self, serial: str, start_s: float, end_s: float) -> list[MinuteAggregate]:
        m = _MINUTES.c
        q = (
            select(_MINUTES)
            .where(m.serial == serial, m.minute >= math.floor(start_s / 60))
            .where(m.minute < math.ceil(end_s / 60))
            .order_by(m.minute)
        )
        with self.engine.connect() as conn:
            return [
                MinuteAggregate(
                    serial=x.serial,
                    minute=int(x.minute),
                    n=int(x.n),
                    soc_mean=float(x.soc_mean),
                    current_mean_a=float(x.current_mean_a),
                    voltage_mean_v=float(x.voltage_mean_v),
                    cell_v_min=float(x.cell_v_min),
                    cell_v_max=float(x.cell_v_max),
                    temp_max_c=float(x.temp_max_c),
                    spread_mean_c=_nan_if_none(x.spread_mean_c),
                    spread_max_c=_nan_if_none(x.spread_max_c),
                    insulation_min_ohm=float(x.insulation_min_ohm),
                    alarm_flags=int(x.alarm_flags),
                )
                for x in conn.execute(q)
            ]

    # -- maintenance --

    def maintain(self, *, retain_raw_days: int, today: int) -> MaintenanceCounts:
        with self.engine.connect() as conn:
            dirty = [
                (int(d), int(v)) for d, v in conn.execute(select(_DIRTY.c.day, _DIRTY.c.version))
            ]
        minutes = 0
        for day, version in sorted(dirty):
            with self.engine.begin() as conn:
                minutes += self._downsample_day(conn, day)
                conn.execute(delete(_DIRTY).where(_DIRTY.c.day == day, _DIRTY.c.version == version))
        cutoff = today - retain_raw_days
        days_dropped, rows_dropped = self._drop_raw_before(cutoff)
        return MaintenanceCounts(len(dirty), minutes, days_dropped, rows_dropped)

    def _downsample_day(self, conn: Connection, day: int) -> int:
        lo, hi = day * 1440, (day + 1) * 1440
        conn.execute(delete(_MINUTES).where(_MINUTES.c.minute >= lo, _MINUTES.c.minute < hi))
        minute = (
            "CAST(FLOOR(time_s / 60) AS BIGINT)"
            if self.postgres
            else "CAST(time_s / 60 AS INTEGER)"
        )
        flags = "BIT_OR(alarm_flags)" if self.postgres else "MAX(alarm_flags)"
        # SQLite has no bitwise-or aggregate: MAX keeps "some flag was raised" (not which).
        result = conn.exec_driver_sql(
            "INSERT INTO telemetry_minutes (serial, minute, n, soc_mean, current_mean_a, "
            "voltage_mean_v, cell_v_min, cell_v_max, temp_max_c, spread_mean_c, spread_max_c, "
            "insulation_min_ohm, alarm_flags) "
            f"SELECT serial, {minute} AS m, COUNT(*), AVG(soc), AVG(current_a), AVG(voltage_v), "
            "MIN(cell_v_min), MAX(cell_v_max), MAX(temp_max_c), AVG(spread_c), MAX(spread_c), "
            f"MIN(insulation_ohm), {flags} FROM telemetry_readings WHERE day = {int(day)} "
            "GROUP BY serial, m"
        )
        return int(result.rowcount)

    def _drop_raw_before(self, cutoff_day: int) -> tuple[int, int]:
        with self.engine.connect() as conn:
            still_dirty = {int(d) for (d,) in conn.execute(select(_DIRTY.c.day))}
        if not self.postgres:
            with self.engine.begin() as conn:
                days = {
                    int(d)
                    for (d,) in conn.execute(
                        select(_READINGS.c.day).where(_READINGS.c.day < cutoff_day).distinct()
                    )
                } - still_dirty
                rows = 0
                for d in sorted(days):
                    rows += int(
                        conn.execute(delete(_READINGS).where(_READINGS.c.day == d)).rowcount
                    )
                    conn.execute(delete(_CELLS).where(_CELLS.c.day == d))
            return len(days), rows
        dropped: set[int] = set()
        rows = 0
        with self.engine.begin() as conn:
            for table in _PARTITIONED:
                parts = conn.execute(
                    text(
                        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                        "WHERE i.inhparent = CAST(:t AS regclass)"
                    ),
                    {"t": table},
                ).scalars()
                for name in list(parts):
                    day = int(name.rsplit("_d", 1)[1])
                    if day < cutoff_day and day not in still_dirty:
                        if table == "telemetry_readings":
                            rows += int(
                                conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one()
                            )
                            dropped.add(day)
                        conn.exec_driver_sql(f"DROP TABLE {name}")
                        self._partitions.discard((table, day))
        return len(dropped), rows

    # -- alarms and estimates --

    def add_alarms(self, alarms: Sequence[Alarm], at: datetime, quarantined: set[int]) -> int:
        if not alarms:
            return 0
        ins = (postgresql.insert if self.postgres else sqlite.insert)(_ALARMS)
        new = 0
        with self.engine.begin() as conn:
            for i, a in enumerate(alarms):
                stmt = ins.values(
                    serial=a.serial,
                    kind=str(a.kind),
                    severity=str(a.severity),
                    subject=a.subject[:ID],
                    onset_time_s=a.onset_time_s,
                    detected_time_s=a.detected_time_s,
                    evidence=a.evidence,
                    values={k: _none_if_nan(float(v)) for k, v in a.values.items()},
                    quarantined=i in quarantined,
                    recorded_at=at,
                ).on_conflict_do_nothing()
                new += int(conn.execute(stmt).rowcount)
        return new

    def alarms(
        self, serial: str | None = None, *, since_s: float | None = None, limit: int = 1000
    ) -> list[StoredAlarm]:
        a = _ALARMS.c
        q = select(_ALARMS).order_by(a.detected_time_s.desc(), a.id.desc()).limit(limit)
        if serial is not None:
            q = q.where(a.serial == serial)
        if since_s is not None:
            q = q.where(a.detected_time_s >= since_s)
        with self.engine.connect() as conn:
            return [
                StoredAlarm(
                    Alarm(
                        serial=x.serial,
                        kind=AlarmKind(x.kind),
                        severity=Severity(x.severity),
                        onset_time_s=float(x.onset_time_s),
                        detected_time_s=float(x.detected_time_s),
                        evidence=x.evidence,
                        subject=x.subject,
                        values={k: _nan_if_none(v) for k, v in (x.values or {}).items()},
                    ),
                    x.recorded_at,
                    bool(x.quarantined),
                )
                for x in conn.execute(q)
            ]

    def add_estimate(self, estimate: HealthEstimate) -> None:
        values = {
            "serial": estimate.serial,
            "time_s": estimate.time_s,
            "window_start_s": estimate.window_start_s,
            **{
                k: _none_if_nan(v)
                for k, v in estimate.to_dict().items()
                if k not in ("time_s", "window_start_s")
            },
            "estimated_at": estimate.estimated_at,
        }
        ins = (postgresql.insert if self.postgres else sqlite.insert)(_ESTIMATES).values(**values)
        stmt = ins.on_conflict_do_update(
            index_elements=["serial", "time_s"],
            set_={k: v for k, v in values.items() if k not in ("serial", "time_s")},
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def estimates(self, serial: str | None = None) -> list[HealthEstimate]:
        e = _ESTIMATES.c
        q = select(_ESTIMATES).order_by(e.serial, e.time_s)
        if serial is not None:
            q = q.where(e.serial == serial)
        with self.engine.connect() as conn:
            return [
                HealthEstimate(
                    serial=x.serial,
                    time_s=float(x.time_s),
                    window_start_s=float(x.window_start_s),
                    capacity_soh=_nan_if_none(x.capacity_soh),
                    capacity_soh_low=_nan_if_none(x.capacity_soh_low),
                    capacity_soh_high=_nan_if_none(x.capacity_soh_high),
                    resistance_ohm=_nan_if_none(x.resistance_ohm),
                    resistance_soh=_nan_if_none(x.resistance_soh),
                    resistance_soh_low=_nan_if_none(x.resistance_soh_low),
                    resistance_soh_high=_nan_if_none(x.resistance_soh_high),
                    max_spread_c=_nan_if_none(x.max_spread_c),
                    min_insulation_ohm=_nan_if_none(x.min_insulation_ohm),
                    estimated_at=x.estimated_at,
                )
                for x in conn.execute(q)
            ]

    def dead_letters(self, *, limit: int = 100, source_prefix: str = "") -> list[DeadLetter]:
        d = _DEAD.c
        q = select(_DEAD).order_by(d.id.desc()).limit(limit)
        if source_prefix:
            q = q.where(d.source.startswith(source_prefix, autoescape=True))
        with self.engine.connect() as conn:
            return [
                DeadLetter(x.received_at, x.source, x.payload, tuple(x.reasons), x.serial, x.id)
                for x in conn.execute(q)
            ]

    def counts(self) -> TelemetryCounts:
        with self.engine.connect() as conn:

            def n(table: Any) -> int:
                return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

            days = tuple(
                int(d)
                for (d,) in conn.execute(
                    select(_READINGS.c.day).distinct().order_by(_READINGS.c.day)
                )
            )
            return TelemetryCounts(
                readings=n(_READINGS),
                cell_frames=n(_CELLS),
                minutes=n(_MINUTES),
                dead_letters=n(_DEAD),
                alarms=n(_ALARMS),
                estimates=n(_ESTIMATES),
                raw_days=days,
            )


__all__ = [
    "PackAlarmRow",
    "PackHealthEstimateRow",
    "SqlTelemetryStore",
    "TelemetryCellFrameRow",
    "TelemetryDeadLetterRow",
    "TelemetryDirtyDayRow",
    "TelemetryMinuteRow",
    "TelemetryReadingRow",
]
