"""Planning use cases: run the twin for history, forecast swap demand, plan pack rebalancing.

The glue between the digital twin (`sim`), the schedulers (`scheduling`) and scenarios
(`catalog`): twin events become forecast records, a scenario's stations become racks and lanes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from openswap.domain.scenario import Scenario
from openswap.scheduling.forecast import (
    SECONDS_PER_HOUR,
    ArrivalForecast,
    ArrivalHistory,
    ArrivalRecord,
    ForecastEvaluation,
    evaluate_forecast,
    forecast_arrivals,
    window_peak,
)
from openswap.scheduling.rebalance import (
    Carrier,
    Lane,
    PackDemand,
    RebalancePlan,
    StationRack,
    plan_rebalance,
)
from openswap.services.simulation import ScenarioSource
from openswap.sim.network import INCOMPATIBLE, NetworkTwin, RunResult
from openswap.sim.policies import ChargeAtOnce
from openswap.sim.station import StationConfig

CROSSOVER_KM = 10.0  # [estimate] to the next interchange and back, to change carriageway
NOT_DEMAND = frozenset({INCOMPATIBLE, "stranded"})  # events that are not a wish to swap here


def arrival_history(result: RunResult, start_weekday: int = 0) -> ArrivalHistory:
    """Swap demand seen by the twin: every arrival that wanted packs (swapped, or left unserved
    for lack of stock or patience), over the measured window. Series cover every pack model a
    station stocks, so a model nobody asked for is forecast as zero."""
    packs_of = {f.id: f.packs_per_vehicle for f in result.fleets}
    ev = result.events
    records = tuple(
        ArrivalRecord(float(t), str(s), str(m), packs_of[str(f)])
        for t, s, m, f, o in zip(
            ev["time_s"], ev["station"], ev["pack_model"], ev["fleet"], ev["outcome"], strict=True
        )
        if o not in NOT_DEMAND and s
    )
    series = tuple((site.id, pm.id) for site in result.stations for pm, _ in site.stock)
    return ArrivalHistory(
        records, result.warmup_s, result.warmup_s + result.measured_s, series, start_weekday
    )


def _charge_at_once(site: object, config: StationConfig) -> ChargeAtOnce:
    return ChargeAtOnce()


def run_history(source: ScenarioSource, days: float) -> tuple[Scenario, RunResult]:
    """One replication of the scenario for `days` measured days, charging at once."""
    scenario = replace(source.load(), days=days, replications=1)
    return scenario, NetworkTwin(scenario, _charge_at_once, 0).run()


def recharge_window_h(scenario: Scenario, station_id: str, pack_model: str) -> int:
    """Whole hours a station's charger needs to refill an empty pack of the model (at least 1):
    a pack swapped in is back in stock after this long, so stock must cover that window."""
    site = next(s for s in scenario.stations if s.id == station_id)
    energy = next(
        (pm.usable_energy_kwh for pm, _ in site.stock if pm.id == pack_model),
        next((f.pack_model.usable_energy_kwh for f in scenario.fleets), 1.0),
    )
    power = site.charger_power_kw * site.charger_efficiency
    return max(1, math.ceil(energy / power - 1e-9)) if power > 0 else 24


def build_pack_demand(scenario: Scenario, forecast: ArrivalForecast) -> list[PackDemand]:
    """Per station and model, the forecast arrivals of the busiest recharge window."""
    out = []
    for k, (station, model) in enumerate(forecast.series):
        width = recharge_window_h(scenario, station, model)
        ppa = max(1, round(forecast.packs_per_arrival.get((station, model), 1.0)))
        out.append(PackDemand(station, model, window_peak(forecast.mean[k].tolist(), width), ppa))
    return out


def build_racks(scenario: Scenario) -> list[StationRack]:
    """Racks from the scenario: packs on site by model (the twin keeps these counts, since a
    swap exchanges packs of one model) and room for the larger of slots and packs."""
    return [
        StationRack(site.id, max(site.slots, site.pack_count), {pm.id: n for pm, n in site.stock})
        for site in scenario.stations
    ]


def build_lanes(scenario: Scenario, crossover_km: float = CROSSOVER_KM) -> list[Lane]:
    """Every ordered pair of stations on one corridor: the km between them, plus a crossover
    when they serve different carriageways."""
    lanes = []
    for a in scenario.stations:
        for b in scenario.stations:
            if a.id == b.id or a.corridor != b.corridor:
                continue
            extra = crossover_km if a.directions.isdisjoint(b.directions) else 0.0
            lanes.append(Lane(a.id, b.id, abs(a.km - b.km) + extra))
    return lanes


@dataclass(frozen=True, slots=True)
class RebalanceStudy:
    """What `openswap plan rebalance` shows: the plan, the demand it answers, and how good the
    forecast behind it was on the last history day (None when the history is too short)."""

    scenario: Scenario
    history_days: float
    forecast: ArrivalForecast
    demand: tuple[PackDemand, ...]
    plan: RebalancePlan
    evaluation: ForecastEvaluation | None


def study_rebalance(
    source: ScenarioSource,
    days: float = 7.0,
    *,
    horizon_h: int = 24,
    carrier: Carrier | None = None,
    shortage_cost_cny: float = 500.0,
) -> RebalanceStudy:
    """Run the twin for `days`, forecast the next `horizon_h` hours of swap demand, and plan
    the pack moves for that horizon starting at the end of the history."""
    scenario, result = run_history(source, days)
    history = arrival_history(result)
    forecast = forecast_arrivals(history, horizon_h)
    demand = build_pack_demand(scenario, forecast)
    plan = plan_rebalance(
        build_racks(scenario),
        demand,
        build_lanes(scenario),
        carrier,
        now_s=forecast.first_hour * SECONDS_PER_HOUR,
        horizon_s=horizon_h * SECONDS_PER_HOUR,
        shortage_cost_cny=shortage_cost_cny,
    )
    evaluation = evaluate_forecast(history, 1) if days >= 4 else None
    return RebalanceStudy(scenario, days, forecast, tuple(demand), plan, evaluation)
