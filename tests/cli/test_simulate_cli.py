"""`openswap simulate`, `compare`, `demo` and `tour` end to end, with small runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openswap.cli.main import main


def test_simulate_writes_outputs_and_prints_tables(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["simulate", "port-shuttle", "--days", "0.5", "-r", "2", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    for name in ("summary.json", "events.parquet", "timeseries.parquet", "report.html"):
        assert (tmp_path / name).is_file()
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"]["id"] == "port-shuttle"
    assert summary["scenario"]["replications"] == 2
    assert "chuanshan-hub" in out
    assert "report:" in out


def test_simulate_unknown_policy_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "port-shuttle", "--policy", "magic"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "magic" in err


def test_simulate_impossible_scenario_exits_2_before_running(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    source = Path(__file__).resolve().parents[2] / "src/openswap/catalog/data/scenarios"
    text = (source / "port-shuttle.yaml").read_text(encoding="utf-8")
    # A grid connection smaller than the auxiliary load leaves nothing for charging.
    bad.write_text(text.replace("station_defaults:\n", "station_defaults:\n  grid_kva: 100\n"))
    code = main(["simulate", str(bad), "--out", str(tmp_path / "out")])
    _, err = capsys.readouterr()
    assert code == 2
    assert "grid" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_compare_two_runs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for name in ("ningde-xiamen", "ningde-xiamen-single-brand"):
        args = ["simulate", name, "--days", "0.5", "-r", "1", "-q", "--out", str(tmp_path / name)]
        assert main(args) == 0
    capsys.readouterr()
    code = main(
        [
            "compare",
            str(tmp_path / "ningde-xiamen"),
            str(tmp_path / "ningde-xiamen-single-brand"),
            "--out",
            str(tmp_path),
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    assert (tmp_path / "comparison.html").is_file()
    assert "wasted_trips" in out
    assert "station mean bay_utilisation" in out


def test_compare_of_a_folder_without_outputs_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    code = main(["compare", str(tmp_path / "a"), str(tmp_path / "b")])
    _, err = capsys.readouterr()
    assert code == 2
    assert "summary.json" in err


def test_demo_runs_both_scenarios_and_compares(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["demo", "--days", "0.25", "--out", str(tmp_path)])
    out, _ = capsys.readouterr()
    assert code == 0
    assert (tmp_path / "ningde-xiamen" / "report.html").is_file()
    assert (tmp_path / "ningde-xiamen-single-brand" / "report.html").is_file()
    assert (tmp_path / "comparison.html").is_file()
    assert "comparison.html" in out
