"""`openswap plan charge`: the LP schedule of one station from a twin snapshot, and the hook
that lets a route advisor steer trucks."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from openswap.catalog.scenario import builtin_scenario
from openswap.cli.main import main
from openswap.domain.planning import NetworkView
from openswap.services.planning import study_charge
from openswap.services.simulation import ScenarioSource, _charge_at_once
from openswap.sim.network import NetworkTwin


def test_plan_charge_prints_the_schedule_and_writes_the_plot(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(
        [
            "plan", "charge", "--station", "chuanshan-hub", "--scenario", "port-shuttle",
            "--at-hour", "6", "--horizon-h", "6", "--out", str(tmp_path),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "charge-at-once" in out
    assert "saving" in out
    png = (tmp_path / "charge-chuanshan-hub.png").read_bytes()
    assert png.startswith(b"\x89PNG")


def test_plan_charge_unknown_station_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "charge", "--station", "nowhere", "--scenario", "port-shuttle"])
    assert code == 2
    assert "chuanshan-hub" in capsys.readouterr().err


def test_plan_charge_help_says_the_database_is_not_wired(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plan", "charge", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "database is not wired" in text


def test_study_charge_never_costs_more_than_charging_at_once() -> None:
    study = study_charge(ScenarioSource("port-shuttle"), "chuanshan-hub", 6.0, 6.0)
    assert study.schedule.cost.objective_cny <= study.baseline.cost.objective_cny + 1e-6
    assert sum(h.energy_kwh for h in study.hours) == pytest.approx(study.schedule.cost.energy_kwh)


class _SendToFirst:
    """Advises every truck to swap at the first candidate ahead of it."""

    def __init__(self) -> None:
        self.asked = 0

    def advise(self, view: NetworkView) -> dict[int, int]:
        self.asked += 1
        return {view.leg.truck: view.leg.candidates[0]}


def test_the_route_advisor_is_consulted_and_followed() -> None:
    scenario = replace(builtin_scenario("ningde-xiamen"), days=0.5, warmup_days=0.0)
    advisor = _SendToFirst()
    advised = NetworkTwin(scenario, _charge_at_once, 0, advisor).run()
    plain = NetworkTwin(scenario, _charge_at_once, 0).run()
    assert advisor.asked > 0
    first = {"changle-s", "changle-n"}  # the first station ahead from either trip end
    share = [
        sum(1 for s, o in zip(r.events["station"], r.events["outcome"], strict=True)
            if o == "swap" and s in first) / max(1, r.events["outcome"].count("swap"))
        for r in (advised, plain)
    ]  # fmt: skip
    assert share[0] > share[1]
