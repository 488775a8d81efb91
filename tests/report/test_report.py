"""The report adapter: output files, their schemas, strict JSON, deterministic HTML pages."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from openswap.domain.errors import InputError
from openswap.report import (
    build_event_table,
    build_timeseries_table,
    explain_differences,
    read_outputs,
    render_comparison,
    render_report,
    write_outputs,
)
from openswap.report.summary import dumps_summary
from openswap.report.tables import EVENTS_FILE, SUMMARY_FILE, TIMESERIES_FILE
from openswap.services.simulation import ScenarioSource, simulate, summarise
from openswap.sim.network import RunResult

Run = tuple[dict[str, Any], list[RunResult]]


def _run(name: str) -> Run:
    scenario, results, wall_s = simulate(ScenarioSource(name, days=0.5, replications=2))
    return summarise(scenario, results, "baseline", wall_s), results


@pytest.fixture(scope="module")
def cross() -> Run:
    return _run("ningde-xiamen")


@pytest.fixture(scope="module")
def single() -> Run:
    return _run("ningde-xiamen-single-brand")


@pytest.fixture(scope="module")
def written(cross: Run, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    summary, results = cross
    return write_outputs(tmp_path_factory.mktemp("out") / "cross", summary, results)


def _event_rows(results: Sequence[RunResult]) -> int:
    return sum(len(r.events["time_s"]) for r in results)


def test_files_exist(written: dict[str, Path]) -> None:
    assert sorted(written) == [EVENTS_FILE, "report.html", SUMMARY_FILE, TIMESERIES_FILE]
    for path in written.values():
        assert path.is_file()
        assert path.stat().st_size > 0
    # No temporary files left behind by the atomic writes.
    assert sorted(p.name for p in written[SUMMARY_FILE].parent.iterdir()) == sorted(written)


def test_event_table(cross: Run, written: dict[str, Path]) -> None:
    _, results = cross
    table = pq.read_table(written[EVENTS_FILE])
    assert table.num_rows == _event_rows(results) > 0
    assert table.column_names == ["replication", *results[0].events]
    assert table.schema.field("replication").type == pa.int64()
    assert table.schema.field("time_s").type == pa.float64()
    assert table.schema.field("packs").type == pa.int64()
    assert table.schema.field("outcome").type == pa.string()
    per_rep = table.group_by("replication").aggregate([("time_s", "count")]).to_pylist()
    assert {r["replication"]: r["time_s_count"] for r in per_rep} == {
        r.replication: len(r.events["time_s"]) for r in results
    }
    assert build_event_table(results).equals(table)


def test_timeseries_covers_every_station_and_interval(cross: Run, written: dict[str, Path]) -> None:
    _, results = cross
    table = pq.read_table(written[TIMESERIES_FILE])
    assert table.column_names == [
        "replication",
        "time_s",
        "station",
        "grid_kw",
        "grid_cap_kw",
        "charged_packs",
        "packs_on_site",
    ]
    rows = table.to_pylist()
    expected = set()
    for r in results:
        for site, kpis in zip(r.stations, r.station_kpis, strict=True):
            intervals = round(r.measured_s / kpis.metering_interval_s)
            assert len(kpis.grid_kw_by_interval) == intervals
            for k in range(intervals):
                expected.add((r.replication, r.warmup_s + k * kpis.metering_interval_s, site.id))
    assert {(x["replication"], x["time_s"], x["station"]) for x in rows} == expected
    assert len(rows) == len(expected)
    # Grid power is the station's metered series; the stock comes from the 15-minute samples.
    r0 = results[0]
    first = r0.stations[0].id
    grid = [x["grid_kw"] for x in rows if x["replication"] == 0 and x["station"] == first]
    assert grid == list(r0.station_kpis[0].grid_kw_by_interval)
    sampled = {
        (st, t): c
        for t, st, c in zip(
            r0.series["time_s"], r0.series["station"], r0.series["charged_packs"], strict=True
        )
    }
    for x in rows:
        if x["replication"] == 0:
            assert x["charged_packs"] == sampled[(x["station"], x["time_s"])]
            assert x["grid_cap_kw"] > 0
            assert 0 <= x["charged_packs"] <= x["packs_on_site"]
    assert build_timeseries_table(results).equals(table)


def test_summary_is_strict_json(cross: Run, written: dict[str, Path]) -> None:
    summary, _ = cross
    text = written[SUMMARY_FILE].read_text(encoding="utf-8")

    def refuse(token: str) -> None:
        raise AssertionError(f"non-strict JSON constant {token}")

    loaded = json.loads(text, parse_constant=refuse)
    assert loaded["schema"] == "openswap.summary/1"
    assert list(loaded) == sorted(loaded)
    assert [s["id"] for s in loaded["stations"]] == [s["id"] for s in summary["stations"]]


def test_nan_is_written_as_null(cross: Run) -> None:
    summary, _ = cross
    doctored = {**summary, "network": {**summary["network"], "energy_kwh_per_km": math.nan}}
    doctored["network"]["ci95"] = {"swaps_per_day": math.inf}
    loaded = json.loads(dumps_summary(doctored))
    assert loaded["network"]["energy_kwh_per_km"] is None
    assert loaded["network"]["ci95"]["swaps_per_day"] is None
    assert math.isnan(doctored["network"]["energy_kwh_per_km"])  # the input is not mutated


def test_report_page(cross: Run, written: dict[str, Path]) -> None:
    summary, _ = cross
    page = written["report.html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for station in summary["stations"]:
        assert station["id"] in page
    for fleet in summary["fleets"]:
        assert fleet["id"] in page
    assert page.count("data:image/png;base64,") == 4
    assert "<script" not in page
    assert "http://" not in page
    assert "https://" not in page
    assert "How to read this" in page
    assert f"{summary['network']['grid_co2_kg_per_kwh']:.3f} kg CO2/kWh" in page


def test_report_is_deterministic(cross: Run, written: dict[str, Path]) -> None:
    """Byte-identical across renders, and the same from memory as from the folder it wrote."""
    summary, results = cross
    events, timeseries = build_event_table(results), build_timeseries_table(results)
    first = render_report(summary, timeseries, events)
    assert render_report(summary, timeseries, events) == first
    assert written["report.html"].read_text(encoding="utf-8") == first
    assert render_report(*read_outputs(written[SUMMARY_FILE].parent)) == first


def test_read_outputs_round_trip(cross: Run, written: dict[str, Path]) -> None:
    summary, results = cross
    loaded, timeseries, events = read_outputs(written[SUMMARY_FILE].parent)
    assert loaded["scenario"] == summary["scenario"]
    assert loaded["network"]["swaps_per_day"] == summary["network"]["swaps_per_day"]
    assert timeseries.equals(build_timeseries_table(results))
    assert events.equals(build_event_table(results))


@pytest.mark.parametrize("missing", [SUMMARY_FILE, EVENTS_FILE, TIMESERIES_FILE])
def test_missing_file_is_named(written: dict[str, Path], tmp_path: Path, missing: str) -> None:
    for path in written.values():
        if path.name != missing:
            (tmp_path / path.name).write_bytes(path.read_bytes())
    with pytest.raises(InputError, match=missing) as info:
        read_outputs(tmp_path)
    assert info.value.problems[0].file == str(tmp_path / missing)


def test_not_a_folder_and_wrong_schema(tmp_path: Path, written: dict[str, Path]) -> None:
    with pytest.raises(InputError, match="no such folder"):
        read_outputs(tmp_path / "nope")
    for path in written.values():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / SUMMARY_FILE).write_text('{"schema": "other/9"}', encoding="utf-8")
    with pytest.raises(InputError, match="schema"):
        read_outputs(tmp_path)
    (tmp_path / SUMMARY_FILE).write_text("{oops", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON") as info:
        read_outputs(tmp_path)
    assert info.value.problems[0].line == 1


def test_comparison(cross: Run, single: Run) -> None:
    tables = []
    for summary, results in (cross, single):
        tables.append((summary, build_timeseries_table(results), build_event_table(results)))
    page = render_comparison(tables[0], tables[1], "cross-brand", "single-brand")
    assert "cross-brand" in page
    assert "single-brand" in page
    assert page.count("data:image/png;base64,") == 4
    for station in (*cross[0]["stations"], *single[0]["stations"]):
        assert station["id"] in page
    assert render_comparison(tables[0], tables[1], "cross-brand", "single-brand") == page

    text = explain_differences(cross[0], single[0], "cross-brand", "single-brand")
    assert text in page.replace("&#x27;", "'")
    # The single-brand network sends uninformed drivers to stations that cannot serve them.
    incompatible = sum(
        s["wasted_trips_by_reason"].get("incompatible", 0.0) for s in single[0]["stations"]
    )
    assert incompatible >= 1
    assert "could not take their packs" in text
    assert "has 8 stations" in text
    assert "network 4 (" in text
    assert "swaps per day" in text


def test_explanation_follows_the_numbers(cross: Run) -> None:
    a = cross[0]
    assert "No other headline figure differs" in explain_differences(a, a, "x", "y")
    b = json.loads(json.dumps(a))  # a deep copy
    b["network"]["swaps_per_day"] = a["network"]["swaps_per_day"] * 0.62
    b["network"]["ci95"]["swaps_per_day"] = 0.0
    a_strict = {**a, "network": {**a["network"], "ci95": {"swaps_per_day": 0.0}}}
    for st in b["stations"]:
        st["pack_utilisation"] = st["pack_utilisation"] / 2
    text = explain_differences(a_strict, b, "before", "after")
    assert "after served 38 % fewer swaps per day" in text
    assert "Pack utilisation fell from" in text
    assert "noise" not in text
