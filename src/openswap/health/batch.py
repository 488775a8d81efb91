"""Many readings at once: validation a column at a time and columnar assembly (the ingest's path).

`assemble(items)` takes readings as `Reading` objects or JSON-like mappings (keys as `Reading`'s
fields) and returns one `PackTelemetry` per pack and probe layout, rows in arrival order
(duplicates and late rows kept: storage wants them, detection filters them), plus every
rejected item with its reasons. The verdicts are `check_reading`'s: rows the vectorised checks
doubt are re-examined one by one by `parse_reading` / `check_reading`, so a rejection carries the
engine's own reasons and a row is accepted exactly when `check_reading` accepts it.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from openswap.health.telemetry import (
    ALL_ALARM_BITS,
    DEFAULT_LIMITS,
    PackTelemetry,
    Reading,
    SensorPosition,
    TelemetryLimits,
    build_pack_telemetry,
    check_reading,
    parse_reading,
)

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]

# Row layout of the fast path: required fields first, then the optional ones.
_REQUIRED = (
    "serial",
    "time_s",
    "soc",
    "voltage_v",
    "current_a",
    "cell_v_min",
    "cell_v_max",
    "insulation_ohm",
    "temps_c",
    "temp_positions",
)
_OPTIONAL = ("alarm_flags", "cell_voltages_v", "coolant_in_c", "coolant_out_c")
_SERIAL, _TIME, _SOC, _VOLT, _CURR, _VMIN, _VMAX, _INS, _TEMPS, _POS = range(10)
_FLAGS, _CELLS, _CIN, _COUT = range(10, 14)
_from_mapping = operator.itemgetter(*_REQUIRED)
_from_reading = operator.attrgetter(*_REQUIRED, *_OPTIONAL)
# Exactly the types `check_reading` takes as numbers (bool and numpy's float32/int64 are not).
_NUMBER_TYPES = frozenset({float, int, np.float64})
_SEQUENCE_TYPES = (list, tuple)


@dataclass(frozen=True, slots=True)
class BatchRejection:
    """An input item that is not a usable reading: its position in the input, and why."""

    index: int
    item: object
    reasons: tuple[str, ...]


@dataclass(slots=True)
class AssembledBatch:
    """`packs`: (telemetry in arrival order, input index of each row); several entries per pack
    when its rows arrived with different probe layouts."""

    packs: list[tuple[PackTelemetry, IntArray]] = field(default_factory=list)
    rejected: list[BatchRejection] = field(default_factory=list)
    cell_frames_dropped: int = 0  # per-cell frames whose cell count differed within a pack

    @property
    def accepted(self) -> int:
        return sum(len(tel) for tel, _ in self.packs)


def reading_to_payload(r: Reading) -> dict[str, Any]:
    """The JSON payload of a reading (the ingest's wire form; `parse_reading` reads it back)."""
    out: dict[str, Any] = {
        "serial": r.serial,
        "time_s": r.time_s,
        "soc": r.soc,
        "voltage_v": r.voltage_v,
        "current_a": r.current_a,
        "cell_v_min": r.cell_v_min,
        "cell_v_max": r.cell_v_max,
        "temps_c": list(r.temps_c),
        "temp_positions": [str(p) for p in r.temp_positions],
        "insulation_ohm": r.insulation_ohm,
        "alarm_flags": r.alarm_flags,
    }
    if r.cell_voltages_v is not None:
        out["cell_voltages_v"] = list(r.cell_voltages_v)
    if r.coolant_in_c is not None:
        out["coolant_in_c"] = r.coolant_in_c
    if r.coolant_out_c is not None:
        out["coolant_out_c"] = r.coolant_out_c
    return out


def _numbers(col: Sequence[object]) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """The column as float64 and a mask of the entries that are numbers of an accepted type."""
    n = len(col)
    if set(map(type, col)) <= _NUMBER_TYPES:
        try:
            return np.array(col, dtype=np.float64), np.ones(n, dtype=np.bool_)
        except OverflowError:  # an int too large for a float
            pass
    ok = np.fromiter((type(v) in _NUMBER_TYPES for v in col), dtype=np.bool_, count=n)
    vals = np.full(n, np.nan)
    for i in np.flatnonzero(ok).tolist():
        try:
            vals[i] = float(col[i])  # type: ignore[arg-type]
        except OverflowError:
            ok[i] = False
    return vals, ok


def _layout(pos: object, strict: bool) -> tuple[SensorPosition, ...] | None:
    """The probe positions, or None when they are not a valid layout. `strict` (a `Reading`)
    requires `SensorPosition` members, a payload may give their string values."""
    if type(pos) not in _SEQUENCE_TYPES or (strict and type(pos) is not tuple):
        return None
    out = []
    for p in pos:  # type: ignore[attr-defined]
        if isinstance(p, SensorPosition):
            out.append(p)
        elif not strict and type(p) is str and p in ("edge", "centre"):
            out.append(SensorPosition(p))
        else:
            return None
    return tuple(out) if out else None


def assemble(items: Sequence[object], limits: TelemetryLimits = DEFAULT_LIMITS) -> AssembledBatch:
    """Validate and assemble a batch (see the module docstring). Never raises for bad items."""
    out = AssembledBatch()
    rows: list[tuple[Any, ...]] = []
    where: list[int] = []
    strict: list[bool] = []
    doubted: list[int] = []
    for i, item in enumerate(items):
        if isinstance(item, Mapping):
            try:
                req = _from_mapping(item)
            except (KeyError, TypeError):
                doubted.append(i)
                continue
            g = item.get
            rows.append(
                (
                    *req,
                    g("alarm_flags", 0),
                    g("cell_voltages_v"),
                    g("coolant_in_c"),
                    g("coolant_out_c"),
                )
            )
            strict.append(False)
        elif type(item) is Reading:
            rows.append(_from_reading(item))
            strict.append(True)
        else:
            doubted.append(i)
            continue
        where.append(i)
    if rows:
        _fast(items, rows, where, strict, limits, out, doubted)
    _slow(items, sorted(doubted), limits, out)
    return out


def _fast(
    items: Sequence[object],
    rows: list[tuple[Any, ...]],
    where: list[int],
    strict: list[bool],
    limits: TelemetryLimits,
    out: AssembledBatch,
    doubted: list[int],
) -> None:
    cols = list(zip(*rows, strict=True))
    n = len(rows)
    ok = np.fromiter((type(s) is str and s != "" for s in cols[_SERIAL]), dtype=np.bool_, count=n)
    num: dict[int, FloatArray] = {}
    for c in (_TIME, _SOC, _VOLT, _CURR, _VMIN, _VMAX, _INS):
        num[c], good = _numbers(cols[c])
        ok &= good
    with np.errstate(invalid="ignore"):
        ok &= np.isfinite(np.stack(list(num.values()))).all(axis=0)
        ok &= num[_TIME] >= 0
        ok &= (num[_SOC] >= 0.0) & (num[_SOC] <= 1.0)
        ok &= (num[_VOLT] >= 0.0) & (num[_VOLT] <= limits.voltage_max_v)
        ok &= np.abs(num[_CURR]) <= limits.current_abs_max_a
        for c in (_VMIN, _VMAX):
            ok &= (num[c] >= limits.cell_v_min_v) & (num[c] <= limits.cell_v_max_v)
        ok &= num[_VMIN] <= num[_VMAX]
        ok &= (num[_INS] >= 0.0) & (num[_INS] <= limits.insulation_max_ohm)
    flags = cols[_FLAGS]
    flag_ok = np.fromiter(
        (type(f) is int and 0 <= f <= ALL_ALARM_BITS for f in flags), dtype=np.bool_, count=n
    )
    ok &= flag_ok
    coolant: dict[int, FloatArray] = {}
    for c in (_CIN, _COUT):
        col = cols[c]
        present = np.fromiter((v is not None for v in col), dtype=np.bool_, count=n)
        vals, good = _numbers([0.0 if v is None else v for v in col])
        with np.errstate(invalid="ignore"):
            good &= np.isfinite(vals) & (vals >= limits.temp_min_c) & (vals <= limits.temp_max_c)
        ok &= good
        coolant[c] = np.where(present, vals, np.nan)
    # Group by pack and layout; temperatures and cells are checked per group (one shape each).
    layouts: dict[tuple[bool, object], tuple[SensorPosition, ...] | None] = {}
    groups: dict[tuple[str, tuple[SensorPosition, ...]], list[int]] = {}
    serials, positions, temps = cols[_SERIAL], cols[_POS], cols[_TEMPS]
    for r in np.flatnonzero(ok).tolist():
        pos = positions[r]
        try:
            key = (strict[r], tuple(pos) if type(pos) in _SEQUENCE_TYPES else id(pos))
            lay = (
                layouts[key] if key in layouts else layouts.setdefault(key, _layout(pos, strict[r]))
            )
        except TypeError:  # unhashable positions
            lay = None
        t = temps[r]
        if lay is None or type(t) not in _SEQUENCE_TYPES or len(t) != len(lay):
            ok[r] = False
            continue
        if strict[r] and type(t) is not tuple:
            ok[r] = False
            continue
        groups.setdefault((serials[r], lay), []).append(r)
    for (serial, lay), members in groups.items():
        idx = np.array(members, dtype=np.intp)
        tcol = [temps[r] for r in members]
        flat = [x for t in tcol for x in t]
        vals, good = _numbers(flat)
        with np.errstate(invalid="ignore"):
            good &= np.isfinite(vals) & (vals >= limits.temp_min_c) & (vals <= limits.temp_max_c)
        row_ok = np.asarray(good.reshape(len(members), len(lay)).all(axis=1), dtype=np.bool_)
        cell_t, cell_v, row_ok, dropped = _cells(
            [cols[_CELLS][r] for r in members], num[_TIME][idx], row_ok, limits, strict, members
        )
        out.cell_frames_dropped += dropped
        ok[idx[~row_ok]] = False
        keep = idx[row_ok]
        if keep.size == 0:
            continue
        tarr = vals.reshape(len(members), len(lay))[row_ok]
        f32 = np.float32
        cin, cout = coolant[_CIN][keep], coolant[_COUT][keep]
        tel = PackTelemetry(
            serial=serial,
            time_s=num[_TIME][keep],
            soc=num[_SOC][keep].astype(f32),
            voltage_v=num[_VOLT][keep].astype(f32),
            current_a=num[_CURR][keep].astype(f32),
            cell_v_min=num[_VMIN][keep].astype(f32),
            cell_v_max=num[_VMAX][keep].astype(f32),
            temps_c=np.ascontiguousarray(tarr.T.astype(f32)),
            temp_positions=lay,
            insulation_ohm=num[_INS][keep].astype(f32),
            alarm_flags=np.array([flags[r] for r in keep.tolist()], dtype=np.uint32),
            cell_time_s=cell_t,
            cell_v=cell_v,
            coolant_in_c=None if np.isnan(cin).all() else cin.astype(f32),
            coolant_out_c=None if np.isnan(cout).all() else cout.astype(f32),
        )
        out.packs.append((tel, np.array([where[r] for r in keep.tolist()], dtype=np.intp)))
    doubted.extend(where[r] for r in np.flatnonzero(~ok).tolist())


def _cells(
    frames: list[object],
    time_s: FloatArray,
    row_ok: npt.NDArray[np.bool_],
    limits: TelemetryLimits,
    strict: list[bool],
    members: list[int],
) -> tuple[FloatArray | None, npt.NDArray[np.float32] | None, npt.NDArray[np.bool_], int]:
    """Per-cell frames of one group: (times, voltages) of the frames with the group's first cell
    count, the rows still valid, and how many valid frames were dropped for another count."""
    have = [k for k, c in enumerate(frames) if c is not None and row_ok[k]]
    if not have:
        return None, None, row_ok, 0
    row_ok = row_ok.copy()
    typed: list[int] = []
    for k in have:
        c = frames[k]
        if type(c) not in _SEQUENCE_TYPES or not c or (strict[members[k]] and type(c) is not tuple):
            row_ok[k] = False  # the slow path gives the reason
        else:
            typed.append(k)
    if not typed:
        return None, None, row_ok, 0
    lengths = np.array([len(frames[k]) for k in typed], dtype=np.intp)  # type: ignore[arg-type]
    flat = [x for k in typed for x in frames[k]]  # type: ignore[attr-defined]
    vals, ok = _numbers(flat)
    with np.errstate(invalid="ignore"):
        ok &= np.isfinite(vals) & (vals >= limits.cell_v_min_v) & (vals <= limits.cell_v_max_v)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    frame_ok = np.add.reduceat((~ok).astype(np.intp), starts) == 0
    kept: list[int] = []
    chosen: list[int] = []
    width = -1
    dropped = 0
    for j, k in enumerate(typed):
        if not frame_ok[j]:
            row_ok[k] = False
            continue
        if width < 0:
            width = int(lengths[j])
        if lengths[j] != width:
            dropped += 1
            continue
        kept.append(k)
        chosen.append(j)
    if not kept:
        return None, None, row_ok, dropped
    v = np.concatenate([vals[starts[j] : starts[j] + width] for j in chosen]).reshape(-1, width)
    t = time_s[np.array(kept, dtype=np.intp)]
    order = np.argsort(t, kind="stable")  # frames on their own clock, time-ordered
    return t[order], v[order].astype(np.float32), row_ok, dropped


def _slow(
    items: Sequence[object], doubted: Iterable[int], limits: TelemetryLimits, out: AssembledBatch
) -> None:
    """The engine's own verdict, one item at a time, for the rows the fast path doubted."""
    accepted: dict[tuple[str, tuple[SensorPosition, ...]], list[tuple[int, Reading]]] = {}
    for i in doubted:
        item = items[i]
        reading: Reading | None
        if isinstance(item, Mapping):
            try:
                reading, reasons = parse_reading(item)
            except Exception as e:  # a hostile mapping must not stop the batch
                reading, reasons = None, (f"malformed payload: {e}",)
        elif isinstance(item, Reading):
            reasons = check_reading(item, limits)
            reading = None if reasons else item
        else:
            reading, reasons = None, (f"not a reading: {type(item).__name__}",)
        if reading is not None and not reasons:
            reasons = check_reading(reading, limits)  # parse_reading used the default limits
        if reading is None or reasons:
            out.rejected.append(BatchRejection(i, item, tuple(reasons) or ("rejected",)))
            continue
        accepted.setdefault((reading.serial, reading.temp_positions), []).append((i, reading))
    for group in accepted.values():
        try:
            tel = build_pack_telemetry([_normalised(r) for _, r in group])
        except (TypeError, ValueError) as e:
            out.rejected.extend(
                BatchRejection(i, items[i], (f"not assembled: {e}",)) for i, _ in group
            )
            continue
        out.packs.append((tel, np.array([i for i, _ in group], dtype=np.intp)))


def _normalised(r: Reading) -> Reading:
    """`r` with its numbers as floats (a payload may send cell voltages as numeric strings,
    which `check_reading` tolerates)."""
    cells = r.cell_voltages_v
    if cells is not None:
        cells = tuple(float(x) for x in cells)
    return Reading(
        time_s=float(r.time_s),
        serial=r.serial,
        soc=float(r.soc),
        voltage_v=float(r.voltage_v),
        current_a=float(r.current_a),
        cell_v_min=float(r.cell_v_min),
        cell_v_max=float(r.cell_v_max),
        temps_c=tuple(float(x) for x in r.temps_c),
        temp_positions=r.temp_positions,
        insulation_ohm=float(r.insulation_ohm),
        alarm_flags=int(r.alarm_flags),
        cell_voltages_v=cells,
        coolant_in_c=None if r.coolant_in_c is None else float(r.coolant_in_c),
        coolant_out_c=None if r.coolant_out_c is None else float(r.coolant_out_c),
    )


__all__ = ["AssembledBatch", "BatchRejection", "assemble", "reading_to_payload"]
