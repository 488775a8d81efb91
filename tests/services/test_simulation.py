"""The simulation use case: golden summaries, confidence intervals, policies, bad scenarios.

Golden files hold each built-in scenario's summary at its own seed, days and replications,
rounded to 9 significant digits (wall-clock figures removed). Regenerate on purpose with
`OPENSWAP_REGEN_GOLDEN=1 .venv/bin/pytest tests/services/test_simulation.py` and review the diff
like code.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from openswap.catalog.scenario import builtin_scenario_names
from openswap.domain.errors import InputError, ScenarioError
from openswap.services.simulation import Policy, ScenarioSource, simulate, summarise

GOLDEN = Path(__file__).parent / "golden"


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return None if not math.isfinite(value) else float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _golden_view(summary: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in summary.items() if k != "run"}
    return dict(_rounded(view))


@pytest.mark.parametrize("name", builtin_scenario_names())
def test_golden_summary(name: str) -> None:
    scenario, results, wall = simulate(ScenarioSource(name))
    got = _golden_view(summarise(scenario, results, Policy.BASELINE, wall))
    path = GOLDEN / f"{name}.json"
    if os.environ.get("OPENSWAP_REGEN_GOLDEN") == "1":
        path.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert got == expected


def test_replications_give_confidence_intervals() -> None:
    scenario, results, wall = simulate(ScenarioSource("ningde-xiamen", days=0.5, replications=3))
    summary = summarise(scenario, results, Policy.BASELINE, wall)
    assert summary["scenario"]["replications"] == 3
    net = summary["network"]
    per_rep = [sum(k.swaps for k in r.station_kpis) / 0.5 for r in results]
    assert net["swaps_per_day"] == pytest.approx(sum(per_rep) / 3)
    assert net["ci95"]["swaps_per_day"] > 0
    for station in summary["stations"]:
        assert 0.0 <= station["bay_utilisation"] <= 1.0
        assert station["grid_peak_kw"] <= station["grid_cap_kw"] * (1 + 1e-9)


def test_workers_give_the_same_results_as_one_process() -> None:
    source = ScenarioSource("port-shuttle", days=0.5, replications=2)
    sc, one, _ = simulate(source, workers=1)
    _, two, _ = simulate(source, workers=2)
    assert _golden_view(summarise(sc, one, "baseline", 1.0)) == _golden_view(
        summarise(sc, two, "baseline", 1.0)
    )


def test_time_of_use_policy_charges_cheaper_than_charging_at_once() -> None:
    source = ScenarioSource("ningde-xiamen", days=1.0, replications=1)
    sc, base, wall = simulate(source, Policy.BASELINE)
    _, tou, _ = simulate(source, Policy.TOU)
    cost_base = summarise(sc, base, Policy.BASELINE, wall)["network"]["energy_cost_cny_per_day"]
    cost_tou = summarise(sc, tou, Policy.TOU, wall)["network"]["energy_cost_cny_per_day"]
    assert cost_tou < cost_base


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(InputError, match="unknown policy"):
        simulate(ScenarioSource("port-shuttle", days=0.1, replications=1), "magic")


def test_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(InputError) as caught:
        ScenarioSource("no-such-scenario").load()
    assert "ningde-xiamen" in str(caught.value)


def test_infeasible_override_is_reported_before_running(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "src/openswap/catalog/data/scenarios"
    text = (source / "ningde-xiamen.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "far.yaml"
    bad.write_text(text.replace("depot_charge_kw: 120", "depot_charge_kw: 0"), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        ScenarioSource(str(bad)).load()
    assert any("depot_charge_kw" in (p.field or "") for p in caught.value.problems)
