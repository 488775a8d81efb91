"""Pack telemetry: one BMS reading (`Reading`), its columnar form for batch work (`PackTelemetry`),
the GB/T 32960.3 alarm flags, and validation that returns reasons instead of raising.

Sign convention: `current_a` is positive when the pack DISCHARGES (current leaves the pack) and
negative while it charges. Times are float seconds (simulation time or epoch seconds; the engine
only needs them increasing per pack).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntFlag, StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
F32Array = npt.NDArray[np.float32]


class SensorPosition(StrEnum):
    """Where a temperature probe sits in the pack."""

    EDGE = "edge"
    CENTRE = "centre"


class Gb32960Alarm(IntFlag):
    """General alarm flags of GB/T 32960.3 (real-time data, alarm data unit), bit 0 first.

    Bit order as listed in GB/T 32960.3-2016 [recalled from the standard's table of general alarm
    flags; verify against the text before the ingest decodes raw frames]."""

    NONE = 0
    TEMPERATURE_DIFFERENCE = 1 << 0
    HIGH_TEMPERATURE = 1 << 1
    STORAGE_OVER_VOLTAGE = 1 << 2
    STORAGE_UNDER_VOLTAGE = 1 << 3
    SOC_LOW = 1 << 4
    CELL_OVER_VOLTAGE = 1 << 5
    CELL_UNDER_VOLTAGE = 1 << 6
    SOC_HIGH = 1 << 7
    SOC_JUMP = 1 << 8
    STORAGE_MISMATCH = 1 << 9
    CELL_INCONSISTENCY = 1 << 10
    INSULATION = 1 << 11
    DCDC_TEMPERATURE = 1 << 12
    BRAKE_SYSTEM = 1 << 13
    DCDC_STATUS = 1 << 14
    MOTOR_CONTROLLER_TEMPERATURE = 1 << 15
    HV_INTERLOCK = 1 << 16
    MOTOR_TEMPERATURE = 1 << 17
    STORAGE_OVERCHARGE = 1 << 18


ALL_ALARM_BITS = (1 << 19) - 1


def alarm_names(flags: int) -> tuple[str, ...]:
    """Lower-case names of the set GB/T 32960.3 flags, bit order."""
    return tuple(
        str(f.name).lower() for f in Gb32960Alarm if f.value and (flags & f.value) and f.name
    )


@dataclass(frozen=True, slots=True)
class Reading:
    """One BMS report of one pack.

    `temps_c[k]` is probe k, at `temp_positions[k]`; `cell_voltages_v`, when the BMS sends the
    per-cell frame, holds every series cell in index order. Coolant temperatures are NaN-free
    floats or None where the pack has no liquid loop."""

    time_s: float
    serial: str
    soc: float
    voltage_v: float
    current_a: float
    cell_v_min: float
    cell_v_max: float
    temps_c: tuple[float, ...]
    temp_positions: tuple[SensorPosition, ...]
    insulation_ohm: float
    alarm_flags: int = 0
    cell_voltages_v: tuple[float, ...] | None = None
    coolant_in_c: float | None = None
    coolant_out_c: float | None = None


@dataclass(frozen=True, slots=True)
class TelemetryLimits:
    """Bounds outside which a value is physically impossible or a transmission error.

    Temperature range is the one GB/T 32960.3 can encode (-40..210 °C)."""

    voltage_max_v: float = 1500.0
    current_abs_max_a: float = 3000.0
    cell_v_min_v: float = 0.0
    cell_v_max_v: float = 5.0
    temp_min_c: float = -40.0
    temp_max_c: float = 210.0
    insulation_max_ohm: float = 60e6


DEFAULT_LIMITS = TelemetryLimits()


def _finite_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(float(x))


def check_reading(r: object, limits: TelemetryLimits = DEFAULT_LIMITS) -> tuple[str, ...]:
    """Reasons why `r` cannot be used (empty when it can). Never raises, whatever `r` is."""
    if not isinstance(r, Reading):
        return (f"not a Reading: {type(r).__name__}",)
    reasons: list[str] = []
    if not isinstance(r.serial, str) or not r.serial:
        reasons.append("serial: missing or not a string")
    scalars = {
        "time_s": r.time_s,
        "soc": r.soc,
        "voltage_v": r.voltage_v,
        "current_a": r.current_a,
        "cell_v_min": r.cell_v_min,
        "cell_v_max": r.cell_v_max,
        "insulation_ohm": r.insulation_ohm,
    }
    bad = {k for k, v in scalars.items() if not _finite_number(v)}
    reasons.extend(f"{k}: not a finite number ({scalars[k]!r})" for k in sorted(bad))
    if "time_s" not in bad and r.time_s < 0:
        reasons.append(f"time_s: negative ({r.time_s})")
    if "soc" not in bad and not 0.0 <= r.soc <= 1.0:
        reasons.append(f"soc: {r.soc} outside 0..1")
    if "voltage_v" not in bad and not 0.0 <= r.voltage_v <= limits.voltage_max_v:
        reasons.append(f"voltage_v: {r.voltage_v} V outside 0..{limits.voltage_max_v:g}")
    if "current_a" not in bad and abs(r.current_a) > limits.current_abs_max_a:
        reasons.append(f"current_a: |{r.current_a}| A over {limits.current_abs_max_a:g}")
    for name in ("cell_v_min", "cell_v_max"):
        v = scalars[name]
        if name not in bad and not limits.cell_v_min_v <= float(v) <= limits.cell_v_max_v:
            reasons.append(
                f"{name}: {v} V outside {limits.cell_v_min_v:g}..{limits.cell_v_max_v:g}"
            )
    if not bad & {"cell_v_min", "cell_v_max"} and r.cell_v_min > r.cell_v_max:
        reasons.append(f"cell_v_min {r.cell_v_min} V above cell_v_max {r.cell_v_max} V")
    if "insulation_ohm" not in bad and not 0.0 <= r.insulation_ohm <= limits.insulation_max_ohm:
        reasons.append(
            f"insulation_ohm: {r.insulation_ohm} outside 0..{limits.insulation_max_ohm:g}"
        )
    if not isinstance(r.alarm_flags, int) or isinstance(r.alarm_flags, bool):
        reasons.append("alarm_flags: not an integer")
    elif not 0 <= r.alarm_flags <= ALL_ALARM_BITS:
        reasons.append(f"alarm_flags: {r.alarm_flags:#x} has undefined bits")
    reasons.extend(_check_temps(r, limits))
    reasons.extend(_check_cells(r, limits))
    for name, c in (("coolant_in_c", r.coolant_in_c), ("coolant_out_c", r.coolant_out_c)):
        if c is not None and (
            not _finite_number(c) or not limits.temp_min_c <= c <= limits.temp_max_c
        ):
            reasons.append(f"{name}: {c!r} not a temperature in range")
    return tuple(reasons)


def _check_temps(r: Reading, limits: TelemetryLimits) -> list[str]:
    if not isinstance(r.temps_c, tuple) or not r.temps_c:
        return ["temps_c: no temperature probes"]
    if not isinstance(r.temp_positions, tuple) or len(r.temp_positions) != len(r.temps_c):
        return ["temp_positions: one position per probe required"]
    if not all(isinstance(p, SensorPosition) for p in r.temp_positions):
        return ["temp_positions: unknown position"]
    out = []
    for k, t in enumerate(r.temps_c):
        if not _finite_number(t):
            out.append(f"temps_c[{k}]: not a finite number ({t!r})")
        elif not limits.temp_min_c <= t <= limits.temp_max_c:
            out.append(f"temps_c[{k}]: {t} °C outside {limits.temp_min_c:g}..{limits.temp_max_c:g}")
    return out


def _check_cells(r: Reading, limits: TelemetryLimits) -> list[str]:
    if r.cell_voltages_v is None:
        return []
    if not isinstance(r.cell_voltages_v, tuple) or not r.cell_voltages_v:
        return ["cell_voltages_v: not a non-empty tuple"]
    try:
        arr = np.asarray(r.cell_voltages_v, dtype=np.float64)
    except (TypeError, ValueError):
        return ["cell_voltages_v: not numbers"]
    if not np.all(np.isfinite(arr)):
        return ["cell_voltages_v: not finite"]
    if arr.min() < limits.cell_v_min_v or arr.max() > limits.cell_v_max_v:
        return ["cell_voltages_v: a cell outside the possible range"]
    return []


def parse_reading(payload: Mapping[str, Any]) -> tuple[Reading | None, tuple[str, ...]]:
    """A `Reading` from a JSON-like mapping (the ingest payload), or None with the reasons.

    Keys are the field names of `Reading`; `temp_positions` are "edge"/"centre" strings."""
    try:
        positions = tuple(SensorPosition(p) for p in payload["temp_positions"])
        cells = payload.get("cell_voltages_v")
        reading = Reading(
            time_s=payload["time_s"],
            serial=payload["serial"],
            soc=payload["soc"],
            voltage_v=payload["voltage_v"],
            current_a=payload["current_a"],
            cell_v_min=payload["cell_v_min"],
            cell_v_max=payload["cell_v_max"],
            temps_c=tuple(payload["temps_c"]),
            temp_positions=positions,
            insulation_ohm=payload["insulation_ohm"],
            alarm_flags=payload.get("alarm_flags", 0),
            cell_voltages_v=None if cells is None else tuple(cells),
            coolant_in_c=payload.get("coolant_in_c"),
            coolant_out_c=payload.get("coolant_out_c"),
        )
    except KeyError as e:
        return None, (f"{e.args[0]}: missing",)
    except (TypeError, ValueError) as e:
        return None, (f"malformed payload: {e}",)
    reasons = check_reading(reading)
    return (None, reasons) if reasons else (reading, ())


def check_order(time_s: FloatArray) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """(out_of_order, duplicate) masks of one pack's time column in arrival order: a reading is a
    duplicate when its time equals the latest time seen before it, out of order when earlier."""
    t = np.asarray(time_s, dtype=np.float64)
    if t.size == 0:
        empty = np.zeros(0, dtype=np.bool_)
        return empty, empty
    latest_before = np.maximum.accumulate(np.concatenate(([-np.inf], t[:-1])))
    return t < latest_before, t == latest_before


@dataclass(slots=True)
class PackTelemetry:
    """Columnar telemetry of one pack, time-ordered (strictly increasing `time_s`).

    Per-cell voltages arrive on their own, slower clock: `cell_time_s` (m,) and `cell_v` (m, N).
    Probe temperatures are probe-major: `temps_c[k]` is probe k over time.
    Coolant columns are None where the pack has no liquid loop."""

    serial: str
    time_s: FloatArray
    soc: F32Array
    voltage_v: F32Array
    current_a: F32Array
    cell_v_min: F32Array
    cell_v_max: F32Array
    temps_c: F32Array  # (k, n): probe-major, so per-probe and across-probe work is contiguous
    temp_positions: tuple[SensorPosition, ...]
    insulation_ohm: F32Array
    alarm_flags: npt.NDArray[np.uint32]
    cell_time_s: FloatArray | None = None
    cell_v: F32Array | None = None
    coolant_in_c: F32Array | None = None
    coolant_out_c: F32Array | None = None
    _edge: npt.NDArray[np.bool_] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._edge = np.array([p is SensorPosition.EDGE for p in self.temp_positions])

    def __len__(self) -> int:
        return int(self.time_s.shape[0])

    @property
    def edge_mask(self) -> npt.NDArray[np.bool_]:
        """True for edge probes, False for centre probes."""
        return self._edge

    def slice(self, start: int, stop: int) -> PackTelemetry:
        """Readings [start, stop) with the per-cell frames of the same time span."""
        cell_t, cell_v = self.cell_time_s, self.cell_v
        if cell_t is not None and cell_v is not None and len(self):
            lo = self.time_s[start] if start < len(self) else np.inf
            hi = self.time_s[stop - 1] if stop - 1 < len(self) and stop > start else -np.inf
            a, b = np.searchsorted(cell_t, lo, "left"), np.searchsorted(cell_t, hi, "right")
            cell_t, cell_v = cell_t[a:b], cell_v[a:b]
        return PackTelemetry(
            serial=self.serial,
            time_s=self.time_s[start:stop],
            soc=self.soc[start:stop],
            voltage_v=self.voltage_v[start:stop],
            current_a=self.current_a[start:stop],
            cell_v_min=self.cell_v_min[start:stop],
            cell_v_max=self.cell_v_max[start:stop],
            temps_c=self.temps_c[:, start:stop],
            temp_positions=self.temp_positions,
            insulation_ohm=self.insulation_ohm[start:stop],
            alarm_flags=self.alarm_flags[start:stop],
            cell_time_s=cell_t,
            cell_v=cell_v,
            coolant_in_c=None if self.coolant_in_c is None else self.coolant_in_c[start:stop],
            coolant_out_c=None if self.coolant_out_c is None else self.coolant_out_c[start:stop],
        )

    def readings(self) -> Iterator[Reading]:
        """The same data as `Reading` objects (per-cell voltages attached where a frame shares
        the reading's time). For streaming tests and ingest fixtures; slow for big arrays."""
        cells: dict[float, tuple[float, ...]] = {}
        if self.cell_time_s is not None and self.cell_v is not None:
            cells = {
                float(t): tuple(float(x) for x in row)
                for t, row in zip(self.cell_time_s, self.cell_v, strict=True)
            }
        cin, cout = self.coolant_in_c, self.coolant_out_c
        for i in range(len(self)):
            t = float(self.time_s[i])
            yield Reading(
                time_s=t,
                serial=self.serial,
                soc=float(self.soc[i]),
                voltage_v=float(self.voltage_v[i]),
                current_a=float(self.current_a[i]),
                cell_v_min=float(self.cell_v_min[i]),
                cell_v_max=float(self.cell_v_max[i]),
                temps_c=tuple(float(x) for x in self.temps_c[:, i]),
                temp_positions=self.temp_positions,
                insulation_ohm=float(self.insulation_ohm[i]),
                alarm_flags=int(self.alarm_flags[i]),
                cell_voltages_v=cells.get(t),
                coolant_in_c=None if cin is None else float(cin[i]),
                coolant_out_c=None if cout is None else float(cout[i]),
            )


def build_pack_telemetry(readings: Sequence[Reading]) -> PackTelemetry:
    """Columnar form of valid, time-ordered readings of ONE pack with one probe layout
    (preconditions: `check_reading` found nothing, times strictly increase)."""
    if not readings:
        raise ValueError("build_pack_telemetry needs at least one reading")
    r0 = readings[0]
    f32 = np.float32
    cells = [(r.time_s, r.cell_voltages_v) for r in readings if r.cell_voltages_v is not None]
    n_cells = {len(c) for _, c in cells}
    cell_t = cell_v = None
    if cells and len(n_cells) == 1:
        cell_t = np.array([t for t, _ in cells], dtype=np.float64)
        cell_v = np.array([c for _, c in cells], dtype=f32)
    has_coolant = all(r.coolant_in_c is not None and r.coolant_out_c is not None for r in readings)
    return PackTelemetry(
        serial=r0.serial,
        time_s=np.array([r.time_s for r in readings], dtype=np.float64),
        soc=np.array([r.soc for r in readings], dtype=f32),
        voltage_v=np.array([r.voltage_v for r in readings], dtype=f32),
        current_a=np.array([r.current_a for r in readings], dtype=f32),
        cell_v_min=np.array([r.cell_v_min for r in readings], dtype=f32),
        cell_v_max=np.array([r.cell_v_max for r in readings], dtype=f32),
        temps_c=np.ascontiguousarray(np.array([r.temps_c for r in readings], dtype=f32).T),
        temp_positions=r0.temp_positions,
        insulation_ohm=np.array([r.insulation_ohm for r in readings], dtype=f32),
        alarm_flags=np.array([r.alarm_flags for r in readings], dtype=np.uint32),
        cell_time_s=cell_t,
        cell_v=cell_v,
        coolant_in_c=np.array([r.coolant_in_c for r in readings], dtype=f32)
        if has_coolant
        else None,
        coolant_out_c=np.array([r.coolant_out_c for r in readings], dtype=f32)
        if has_coolant
        else None,
    )
