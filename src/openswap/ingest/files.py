"""File import and export of readings: CSV (one reading per line) and Parquet (pyarrow).

Columns are `Reading`'s fields; list fields (`temps_c`, `temp_positions`, `cell_voltages_v`)
are `;`-separated in CSV and either lists or `;`-separated strings in Parquet; an optional
`station_id` column names where the reading was taken. Text that is not a number is passed on
as text, so the ingest rejects it with the engine's reason and the file's line number.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from openswap.health.telemetry import Reading
from openswap.services.health import IngestItem

LIST_FIELDS = ("temps_c", "temp_positions", "cell_voltages_v")
NUMBER_FIELDS = (
    "time_s",
    "soc",
    "voltage_v",
    "current_a",
    "cell_v_min",
    "cell_v_max",
    "insulation_ohm",
    "coolant_in_c",
    "coolant_out_c",
)
COLUMNS = (
    "time_s",
    "serial",
    "soc",
    "voltage_v",
    "current_a",
    "cell_v_min",
    "cell_v_max",
    "insulation_ohm",
    "alarm_flags",
    "temps_c",
    "temp_positions",
    "coolant_in_c",
    "coolant_out_c",
    "cell_voltages_v",
    "station_id",
)


def _number(text: str) -> float | int | str:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _row_to_payload(row: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    out: dict[str, Any] = {}
    station = row.get("station_id") or None
    for key, value in row.items():
        if key is None or key == "station_id" or value is None or value == "":
            continue
        if key in LIST_FIELDS:
            if isinstance(value, str):
                parts = [p.strip() for p in value.split(";") if p.strip()]
                out[key] = parts if key == "temp_positions" else [_number(p) for p in parts]
            else:
                out[key] = list(value)
        elif key in NUMBER_FIELDS or key == "alarm_flags":
            if isinstance(value, str):
                out[key] = _number(value.strip())
            elif isinstance(value, float) and math.isnan(value) and key.startswith("coolant"):
                continue
            else:
                out[key] = value
        else:
            out[key] = value
    return out, (str(station) if station is not None else None)


def read_items(path: Path, chunk: int = 10_000) -> Iterator[list[IngestItem]]:
    """Chunks of `IngestItem`s from a CSV or Parquet file (by suffix), with line numbers."""
    name = path.name
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        line = 1
        for batch in table.to_batches(max_chunksize=chunk):
            items = []
            for row in batch.to_pylist():
                payload, station = _row_to_payload(row)
                items.append(IngestItem(payload, f"file:{name}:{line}", station_id=station))
                line += 1
            yield items
        return
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        items = []
        for row in reader:
            payload, station = _row_to_payload(row)
            items.append(IngestItem(payload, f"file:{name}:{reader.line_num}", station_id=station))
            if len(items) >= chunk:
                yield items
                items = []
        if items:
            yield items


def _list_text(values: Iterable[object] | None) -> str:
    return "" if values is None else ";".join(str(v) for v in values)


def reading_row(r: Reading, station_id: str | None = None) -> dict[str, Any]:
    return {
        "time_s": r.time_s,
        "serial": r.serial,
        "soc": r.soc,
        "voltage_v": r.voltage_v,
        "current_a": r.current_a,
        "cell_v_min": r.cell_v_min,
        "cell_v_max": r.cell_v_max,
        "insulation_ohm": r.insulation_ohm,
        "alarm_flags": r.alarm_flags,
        "temps_c": _list_text(r.temps_c),
        "temp_positions": _list_text(str(p) for p in r.temp_positions),
        "coolant_in_c": "" if r.coolant_in_c is None else r.coolant_in_c,
        "coolant_out_c": "" if r.coolant_out_c is None else r.coolant_out_c,
        "cell_voltages_v": _list_text(r.cell_voltages_v),
        "station_id": station_id or "",
    }


def write_readings(path: Path, readings: Iterable[Reading], station_id: str | None = None) -> int:
    """Write readings as CSV or Parquet (by suffix); returns how many."""
    rows: Sequence[dict[str, Any]] | Iterator[dict[str, Any]] = (
        reading_row(r, station_id) for r in readings
    )
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = list(rows)
        table = pa.Table.from_pylist(
            [{k: (None if v == "" else v) for k, v in row.items()} for row in rows]
        )
        pq.write_table(table, path)
        return len(rows)
    n = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            n += 1
    return n


__all__ = ["COLUMNS", "read_items", "reading_row", "write_readings"]
