"""Simulation outputs on disk: event and time-series tables (Arrow/Parquet), `summary.json`,
`report.html`, and reading an output folder back for comparisons.

Layout and column meanings: docs/simulation-output.md. Every writer is deterministic (same
inputs, same bytes) and replaces each file atomically, so an interrupted run never leaves a
half-written file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from openswap.domain.errors import InputError, Problem
from openswap.report.html import render_comparison, render_report
from openswap.report.summary import SUMMARY_SCHEMA, dumps_summary
from openswap.sim.network import RunResult

SUMMARY_FILE = "summary.json"
EVENTS_FILE = "events.parquet"
TIMESERIES_FILE = "timeseries.parquet"
REPORT_FILE = "report.html"
COMPARISON_FILE = "comparison.html"

# Types of the event columns the twin writes (sim.network); unknown columns are inferred.
EVENT_TYPES: dict[str, pa.DataType] = {
    "time_s": pa.float64(),
    "station": pa.string(),  # "" for a stranding (no station was in reach)
    "truck": pa.int64(),
    "fleet": pa.string(),
    "pack_model": pa.string(),
    "outcome": pa.string(),  # "swap", a wasted-trip reason, or "stranded"
    "queue_wait_s": pa.float64(),
    "stock_wait_s": pa.float64(),
    "soc_in": pa.float64(),
    "soc_out": pa.float64(),
    "packs": pa.int64(),
}

TIMESERIES_SCHEMA = pa.schema(
    [
        pa.field("replication", pa.int64(), nullable=False),
        pa.field("time_s", pa.float64(), nullable=False),  # interval start since scenario start
        pa.field("station", pa.string(), nullable=False),
        pa.field("grid_kw", pa.float64()),  # mean grid power over the interval
        pa.field("grid_cap_kw", pa.float64()),
        pa.field("charged_packs", pa.int64()),  # sampled at the interval start
        pa.field("packs_on_site", pa.int64()),
    ]
)

_PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "write_statistics": True}


def _infer_type(values: Sequence[object]) -> pa.DataType:
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pa.int64()
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return pa.float64()
    return pa.string()


def build_event_table(results: Sequence[RunResult]) -> pa.Table:
    """Every replication's events (one row per station visit after warm-up and per stranding),
    stacked in replication order, with a leading `replication` column. Times in seconds since
    scenario start, SoC as fractions 0..1."""
    names: list[str] = list(EVENT_TYPES)
    for r in results:
        names.extend(n for n in r.events if n not in names)
    columns: dict[str, list[object]] = {"replication": []}
    columns.update({n: [] for n in names})
    for r in results:
        rows = len(next(iter(r.events.values()), []))
        columns["replication"].extend([r.replication] * rows)
        for n in names:
            columns[n].extend(r.events.get(n, [None] * rows))
    fields = [pa.field("replication", pa.int64(), nullable=False)]
    for n in names:
        known = EVENT_TYPES.get(n)
        fields.append(pa.field(n, known if known is not None else _infer_type(columns[n])))
    schema = pa.schema(fields)
    return pa.table({f.name: pa.array(columns[f.name], f.type) for f in schema}, schema=schema)


def _time_key(time_s: float) -> int:
    """Join key for sample times: milliseconds, so float noise cannot split a match."""
    return round(time_s * 1000.0)


def build_timeseries_table(results: Sequence[RunResult]) -> pa.Table:
    """One row per replication, station and metering interval of the measured window.

    `time_s` is the interval start (seconds since scenario start, warm-up included; the first
    interval starts at `RunResult.warmup_s`); `grid_kw` the mean grid power over the interval;
    `charged_packs` and `packs_on_site` the stock sampled at the interval start (null where the
    twin took no sample at that instant).
    """
    cols: dict[str, list[Any]] = {f.name: [] for f in TIMESERIES_SCHEMA}
    for r in results:
        stock: dict[tuple[str, int], tuple[object, object]] = {}
        se = r.series
        for t, st, c, n in zip(
            se["time_s"], se["station"], se["charged_packs"], se["packs_on_site"], strict=True
        ):
            stock[(str(st), _time_key(float(t)))] = (c, n)
        for site, kpis in zip(r.stations, r.station_kpis, strict=True):
            cap_kw = site.design.grid_cap_kw
            step_s = kpis.metering_interval_s
            for k, grid_kw in enumerate(kpis.grid_kw_by_interval):
                time_s = r.warmup_s + k * step_s
                charged, on_site = stock.get((site.id, _time_key(time_s)), (None, None))
                cols["replication"].append(r.replication)
                cols["time_s"].append(time_s)
                cols["station"].append(site.id)
                cols["grid_kw"].append(grid_kw)
                cols["grid_cap_kw"].append(cap_kw)
                cols["charged_packs"].append(charged)
                cols["packs_on_site"].append(on_site)
    return pa.table(
        {f.name: pa.array(cols[f.name], f.type) for f in TIMESERIES_SCHEMA},
        schema=TIMESERIES_SCHEMA,
    )


def _replace_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file in the same folder, then rename over `path`."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_text(path: Path, text: str) -> None:
    _replace_atomically(path, lambda p: p.write_text(text, encoding="utf-8", newline="\n"))


def _write_parquet(path: Path, table: pa.Table) -> None:
    _replace_atomically(path, lambda p: pq.write_table(table, p, **_PARQUET_OPTIONS))


def write_outputs(
    out_dir: Path, summary: Mapping[str, Any], results: Sequence[RunResult]
) -> dict[str, Path]:
    """Write `summary.json`, `events.parquet`, `timeseries.parquet` and `report.html` into
    `out_dir` (created if needed); returns the paths by file name. `summary` is the dict of
    `services.simulation.summarise` for the same `results`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    events = build_event_table(results)
    timeseries = build_timeseries_table(results)
    paths = {
        name: out_dir / name for name in (SUMMARY_FILE, EVENTS_FILE, TIMESERIES_FILE, REPORT_FILE)
    }
    _write_text(paths[SUMMARY_FILE], dumps_summary(summary))
    _write_parquet(paths[EVENTS_FILE], events)
    _write_parquet(paths[TIMESERIES_FILE], timeseries)
    _write_text(paths[REPORT_FILE], render_report(summary, timeseries, events))
    return paths


def _require(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise InputError(
            [
                Problem(
                    f"not a simulation output folder: {name} is missing "
                    "(write one with `openswap simulate ... --out DIR`)",
                    file=str(path),
                )
            ]
        )
    return path


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError([Problem(f"not a readable Parquet file ({exc})", file=str(path))]) from exc


def read_outputs(folder: Path) -> tuple[dict[str, Any], pa.Table, pa.Table]:
    """(summary, timeseries, events) of a folder `write_outputs` wrote. Raises InputError naming
    the missing or unreadable file when `folder` is not such an output."""
    if not folder.is_dir():
        raise InputError([Problem("not a simulation output folder (no such folder)", str(folder))])
    summary_path = _require(folder, SUMMARY_FILE)
    events_path = _require(folder, EVENTS_FILE)
    timeseries_path = _require(folder, TIMESERIES_FILE)
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(
            [Problem(f"not valid JSON: {exc.msg}", file=str(summary_path), line=exc.lineno)]
        ) from exc
    if not isinstance(summary, dict) or summary.get("schema") != SUMMARY_SCHEMA:
        found = summary.get("schema") if isinstance(summary, dict) else None
        raise InputError(
            [
                Problem(
                    f"expected schema {SUMMARY_SCHEMA!r}, found {found!r}",
                    file=str(summary_path),
                    field="schema",
                )
            ]
        )
    return summary, _read_parquet(timeseries_path), _read_parquet(events_path)


def write_comparison(
    out_dir: Path, folder_a: Path, folder_b: Path, label_a: str, label_b: str
) -> Path:
    """Read two output folders and write `comparison.html` into `out_dir`; returns its path."""
    a = read_outputs(folder_a)
    b = read_outputs(folder_b)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / COMPARISON_FILE
    _write_text(path, render_comparison(a, b, label_a, label_b))
    return path
