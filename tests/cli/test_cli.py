"""The command line end to end: exit codes, tables, JSON/CSV output and error messages."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from openswap import __version__
from openswap.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"openswap {__version__}"


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["catalog", "--help"],
        ["catalog", "show", "--help"],
        ["catalog", "validate", "--help"],
        ["compat", "check", "--help"],
        ["compat", "coverage", "--help"],
        ["demo", "--help"],
        ["tour", "--help"],
        ["simulate", "--help"],
        ["compare", "--help"],
        ["scenario", "--help"],
    ],
)
def test_help_is_complete(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "Usage" in out
    assert "--help" in out


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("frames", "qiji-75"),
        ("pack-models", "catl-qiji-171-lfp"),
        ("vehicle-models", "deepway-xingtu-6x4-qiji"),
        ("station-designs", "qiji-chassis-4000"),
        ("adapters", "adp-conn-qiji-to-qct1201a"),
        ("packs", "Q75-000005"),
        ("vehicles", "fj-g15-001"),
        ("stations", "changle-s"),
    ],
)
def test_catalog_show_every_kind(
    capsys: pytest.CaptureFixture[str], kind: str, expected: str
) -> None:
    code, out, _ = run(capsys, "catalog", "show", kind)
    assert code == 0
    assert expected in out
    code, out, _ = run(capsys, "catalog", "show", kind, "--format", "json")
    assert code == 0
    ids = {e.get("id", e.get("serial")) for e in json.loads(out)}
    assert expected in ids


def test_catalog_validate_accepts_a_good_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "validate", str(EXAMPLES / "stations.yaml"))
    assert code == 0
    assert "valid" in out
    assert "5 stations" in out


def test_catalog_validate_reports_file_line_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "stations:\n"
        "  - id: x1\n"
        "    design: no-such-design\n"
        "    name: nowhere\n"
        "    stocked_models: [catl-qiji-171-lfp]\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "catalog", "validate", str(bad))
    assert code == 2
    assert f"{bad}:3" in err
    assert "stations[0].design" in err
    assert "no-such-design" in err
    assert "Traceback" not in out + err


def test_catalog_validate_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "catalog", "validate", "/no/such/file.yaml")
    assert code == 2
    assert "does not exist" in err


def test_compat_check_compatible_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "compat",
        "check",
        "--vehicle",
        "fj-g15-001",
        "--pack",
        "Q75-000001",
        "--station",
        "changle-s",
        "--need-kwh",
        "300",
    )
    assert code == 0
    assert "compatible" in out
    for rule in ("mount_type", "insulation", "energy", "station_recharge"):
        assert rule in out


def test_compat_check_incompatible_exits_1_and_names_the_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "compat", "check", "-v", "fj-g15-001", "-p", "Q75-000005", "-s", "changle-s"
    )
    assert code == 1
    assert "not compatible" in out
    assert "safety_state" in out


def test_compat_check_accepts_model_ids_and_prints_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys,
        "compat",
        "check",
        "--vehicle",
        "deepway-xingtu-6x4-qiji",
        "--pack",
        "catl-mtb-282-lfp",
        "--station",
        "qiji-chassis-4000",
        "--json",
    )
    assert code == 1
    doc = json.loads(out)
    assert doc["compatible"] is False
    failed = {r["rule"] for r in doc["results"] if not r["passed"]}
    assert "mount_type" in failed


def test_compat_check_unknown_id_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "compat", "check", "-v", "fj-g15-00X", "-p", "Q75-000001", "-s", "changle-s"
    )
    assert code == 2
    assert "unknown vehicle or vehicle model 'fj-g15-00X'" in err
    assert "fj-g15-001" in err  # close matches are offered


def test_coverage_table_csv_json(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["compat", "coverage", "--fleet", str(EXAMPLES / "fleet.yaml")]
    base += ["--stations", str(EXAMPLES / "stations.yaml")]
    code, out, _ = run(capsys, *base)
    assert code == 0
    assert "changle-s" in out
    assert "swap_type" in out

    code, out, _ = run(capsys, *base, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["station"] for r in rows] == [
        "changle-n",
        "changle-s",
        "fuzhou-open-depot",
        "xiamen-crane-yard",
        "ningbo-chuanshan-hub",
    ]
    changle = rows[1]
    # The Deepway and Shacman QIJI tractors, and the FAWs carrying the QIJI connector adapter.
    assert int(changle["trucks_served"]) == 120 + 60 + 10
    assert int(changle["trucks_total"]) == 400

    code, out, _ = run(
        capsys,
        *base,
        "--format",
        "json",
        "--what-if",
        "adapter:adp-conn-qiji-to-qct1201a@changle-s",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["coverage"]["trucks_total"] == 400
    delta = doc["what_if"]["stations"][0]
    assert delta["station"] == "changle-s"
    assert delta["delta"] == 40 + 50  # FAWs without an adapter of their own, and the SANYs


@pytest.mark.parametrize(
    "what_if",
    ["adapter:adp-conn-qiji-to-qct1201a", "swap:x@changle-s", "adapter:no-such@changle-s"],
)
def test_coverage_bad_what_if_exits_2(capsys: pytest.CaptureFixture[str], what_if: str) -> None:
    code, _, err = run(
        capsys,
        "compat",
        "coverage",
        "--fleet",
        str(EXAMPLES / "fleet.yaml"),
        "--stations",
        str(EXAMPLES / "stations.yaml"),
        "--what-if",
        what_if,
    )
    assert code == 2
    assert err.strip()


def test_coverage_bad_fleet_file_names_line_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "fleet:\n"
        "  - {vehicle_model: deepway-xingtu-6x4-qiji, count: 3}\n"
        "  - {vehicle_model: no-such-truck, count: 0}\n",
        encoding="utf-8",
    )
    code, _, err = run(
        capsys,
        "compat",
        "coverage",
        "--fleet",
        str(fleet),
        "--stations",
        str(EXAMPLES / "stations.yaml"),
    )
    assert code == 2
    assert f"{fleet}:3" in err
    assert "fleet[1].vehicle_model" in err
    assert "fleet[1].count" in err


def test_tour_writes_its_results(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "tour", "--out", str(tmp_path))
    assert code == 0
    doc = json.loads((tmp_path / "tour.json").read_text(encoding="utf-8"))
    outcomes = [v["compatible"] for v in doc["verdicts"]]
    assert outcomes == [True, False, False, False, True]
    assert doc["what_if"]["stations"][0]["delta"] > 0
    assert "held for the truck" in out
