"""The telemetry store port: what the health service needs from persistence, and its records.

`storage.telemetry.SqlTelemetryStore` implements `TelemetryStore` (PostgreSQL: COPY into day
partitions; SQLite: batched inserts in one transaction). Every write method is one transaction
and idempotent: readings are keyed by (pack serial, time), alarms by (serial, kind, subject,
detected time), estimates by (serial, time). Times of readings are Unix epoch seconds (UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from openswap.health.detection import Alarm
from openswap.health.telemetry import PackTelemetry

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class PackBatch:
    """Readings of one pack with one probe layout, in arrival order (may hold duplicates and
    late rows: the store keeps the first of each time), and where they came from."""

    telemetry: PackTelemetry
    station_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An input that was not stored as a reading: the raw payload (as received, text) and
    every reason. `source` names the channel and position (`mqtt:<topic>`, `http`,
    `file:<name>:<line>`); `serial` is filled in when the input named a pack."""

    received_at: datetime
    source: str
    payload: str
    reasons: tuple[str, ...]
    serial: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class PackInfo:
    """What health work needs to know of a registered pack (from its pack model)."""

    serial: str
    model_id: str
    maker: str
    cells_in_series: int
    rated_capacity_ah: float  # usable energy / nominal voltage
    max_voltage_v: float
    cycle_count: int
    safety_state: str
    soh: float  # as stored on the pack (BMS report or the last inspection)


@dataclass(frozen=True, slots=True)
class StoredAlarm:
    alarm: Alarm
    recorded_at: datetime
    quarantined: bool


@dataclass(frozen=True, slots=True)
class HealthEstimate:
    """One estimate of a pack's health over a window of stored readings (NaN where the window
    had no usable anchor pair or current steps)."""

    serial: str
    time_s: float  # end of the window
    window_start_s: float
    capacity_soh: float
    capacity_soh_low: float
    capacity_soh_high: float
    resistance_ohm: float  # 1-second pack resistance at 25 °C
    resistance_soh: float
    resistance_soh_low: float
    resistance_soh_high: float
    max_spread_c: float  # centre minus edge, highest in the window
    min_insulation_ohm: float
    estimated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "time_s": self.time_s,
            "window_start_s": self.window_start_s,
            "capacity_soh": self.capacity_soh,
            "capacity_soh_low": self.capacity_soh_low,
            "capacity_soh_high": self.capacity_soh_high,
            "resistance_ohm": self.resistance_ohm,
            "resistance_soh": self.resistance_soh,
            "resistance_soh_low": self.resistance_soh_low,
            "resistance_soh_high": self.resistance_soh_high,
            "max_spread_c": self.max_spread_c,
            "min_insulation_ohm": self.min_insulation_ohm,
        }


@dataclass(frozen=True, slots=True)
class MinuteAggregate:
    """One pack-minute of downsampled telemetry (kept after the raw readings are dropped)."""

    serial: str
    minute: int  # floor(time_s / 60)
    n: int
    soc_mean: float
    current_mean_a: float
    voltage_mean_v: float
    cell_v_min: float
    cell_v_max: float
    temp_max_c: float
    spread_mean_c: float
    spread_max_c: float
    insulation_min_ohm: float
    alarm_flags: int


@dataclass(frozen=True, slots=True)
class WriteCounts:
    """What one write stored: new readings (duplicates of stored (serial, time) not counted),
    per-cell frames and dead letters."""

    readings: int = 0
    cell_frames: int = 0
    dead_letters: int = 0


@dataclass(frozen=True, slots=True)
class MaintenanceCounts:
    days_downsampled: int = 0
    minutes_written: int = 0
    raw_days_dropped: int = 0
    rows_dropped: int = 0


@dataclass(frozen=True, slots=True)
class TelemetryCounts:
    readings: int
    cell_frames: int
    minutes: int
    dead_letters: int
    alarms: int
    estimates: int
    raw_days: tuple[int, ...] = field(default=())


class TelemetryStore(Protocol):
    def pack_info(self, serials: Sequence[str] | None = None) -> dict[str, PackInfo]:
        """The registered packs among `serials` (every pack when None)."""
        ...

    def write(self, batches: Sequence[PackBatch], dead: Sequence[DeadLetter]) -> WriteCounts:
        """Store readings (first of each (serial, time) wins; out of order is fine) and dead
        letters in one transaction: on return they are durable."""
        ...

    def window(self, serial: str, start_s: float, end_s: float) -> PackTelemetry | None:
        """Stored raw readings of one pack with start_s <= time < end_s, time-ordered, in the
        layout of the window's first reading (rows of another layout are left out); None if
        there are none."""
        ...

    def latest_time(self, serials: Sequence[str]) -> dict[str, float]:
        """The newest stored reading time per pack (among `serials`, those with readings)."""
        ...

    def minutes(self, serial: str, start_s: float, end_s: float) -> list[MinuteAggregate]: ...

    def add_alarms(self, alarms: Sequence[Alarm], at: datetime, quarantined: set[int]) -> int:
        """Store alarms (`quarantined` holds the indices that led to a quarantine); alarms
        already stored are skipped. Returns how many were new."""
        ...

    def alarms(
        self, serial: str | None = None, *, since_s: float | None = None, limit: int = 1000
    ) -> list[StoredAlarm]:
        """Stored alarms, newest first."""
        ...

    def add_estimate(self, estimate: HealthEstimate) -> None:
        """Store (or replace) the estimate of (serial, time_s)."""
        ...

    def estimates(self, serial: str | None = None) -> list[HealthEstimate]:
        """Stored estimates of one pack (or all), oldest first."""
        ...

    def dead_letters(self, *, limit: int = 100, source_prefix: str = "") -> list[DeadLetter]:
        """Newest first."""
        ...

    def serials_with_readings(self, start_s: float, end_s: float) -> list[str]: ...

    def maintain(self, *, retain_raw_days: int, today: int) -> MaintenanceCounts:
        """Downsample every day written since the last run into minute aggregates, then drop
        raw readings of days before `today - retain_raw_days` (aggregates stay)."""
        ...

    def counts(self) -> TelemetryCounts: ...
