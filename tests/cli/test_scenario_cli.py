"""`openswap scenario`: list, show, validate (exit codes and located problems), generate."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from openswap.catalog.generate import generate_scenario
from openswap.catalog.scenario import builtin_scenario_text, load_scenario
from openswap.cli.scenario import app
from tests.catalog.scenario_samples import scenario_text

runner = CliRunner()


def test_list_shows_every_builtin() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    for name in ("ningde-xiamen", "ningde-xiamen-single-brand", "port-shuttle"):
        assert name in result.output


def test_show_builtin() -> None:
    result = runner.invoke(app, ["show", "ningde-xiamen"])
    assert result.exit_code == 0, result.output
    for text in ("changle-s", "luoyangjiang-n", "qiji-open-chassis-4000", "qiji-deepway-nd"):
        assert text in result.output
    assert "200 one-way trips/day" in result.output


def test_show_file_and_unknown_name(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(), encoding="utf-8")
    result = runner.invoke(app, ["show", str(path)])
    assert result.exit_code == 0, result.output
    assert "mid-e" in result.output
    result = runner.invoke(app, ["show", "ningde"])
    assert result.exit_code == 2
    assert "unknown built-in scenario 'ningde'" in result.output


def test_validate_valid_files(tmp_path: Path) -> None:
    paths = []
    for name in ("ningde-xiamen", "port-shuttle"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(builtin_scenario_text(name).text, encoding="utf-8")
        paths.append(str(path))
    result = runner.invoke(app, ["validate", *paths])
    assert result.exit_code == 0, result.output
    assert sum(line.startswith("valid: ") for line in result.output.splitlines()) == 2


def test_validate_reports_every_problem_with_file_line_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(scenario_text({20: "    design: qiji-chasis-4000"}), encoding="utf-8")
    infeasible = tmp_path / "infeasible.yaml"
    # 600 km corridor with the stations at km 150: the 450 km gap is impossible
    infeasible.write_text(
        scenario_text(
            {6: "    length_km: 600", 7: "    waypoints: {west: 0, middle: 150, east: 600}"}
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["validate", str(bad), str(infeasible)])
    assert result.exit_code == 2
    assert f"{bad}:20: stations[0].design: unknown station design" in result.output
    assert f"{infeasible}:34: fleets[0].packs_per_vehicle:" in result.output
    assert "450 km gap" in result.output


def test_generate_writes_a_loadable_file(tmp_path: Path) -> None:
    out = tmp_path / "net.yaml"
    args = ["generate", "--trucks", "300", "--corridors", "3", "--stations-per-corridor", "2"]
    result = runner.invoke(app, [*args, "--seed", "5", "--days", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "300 trucks" in result.output
    assert out.read_text(encoding="utf-8").startswith("# Synthetic openswap scenario")
    assert load_scenario(out) == generate_scenario(300, 3, 2, 5, 1.0)
    validated = runner.invoke(app, ["validate", str(out)])
    assert validated.exit_code == 0, validated.output


def test_generate_bad_arguments_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--trucks", "0", "--out", str(tmp_path / "x.yaml")])
    assert result.exit_code == 2
    assert "trucks" in result.output
    assert not (tmp_path / "x.yaml").exists()
