"""`openswap plan`: scheduling plans from the twin (pack rebalancing; charging schedules)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer

from openswap.cli.render import console, table
from openswap.report.plots import plot_charging_schedule
from openswap.scheduling.rebalance import Carrier
from openswap.services.planning import study_charge, study_rebalance
from openswap.services.simulation import ScenarioSource

app = typer.Typer(help="Plan charging and pack moves from forecasts.", no_args_is_help=True)


@app.command("rebalance")
def rebalance_cmd(
    scenario: str = typer.Option(
        "ningde-xiamen", "--scenario", "-s", help="A built-in scenario name or a scenario file."
    ),
    days: float = typer.Option(
        7.0, "--days", min=2.0, help="Days of twin history to learn the demand forecast from."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed; default: the scenario's."),
    horizon_h: int = typer.Option(24, "--horizon-h", min=1, help="Planning horizon in hours."),
    shortage_cost: float = typer.Option(
        500.0, "--shortage-cost", min=0.0, help="CNY per pack short in a station's busiest window."
    ),
    vehicles: int = typer.Option(1, "--vehicles", min=1, help="Service vehicles moving packs."),
    capacity: int = typer.Option(12, "--capacity", min=1, help="Packs per service-vehicle trip."),
) -> None:
    """Plan pack moves between stations so each station's pack-model mix meets its demand.

    Runs the twin for --days, forecasts the next --horizon-h hours of swaps per station and pack
    model, and solves a min-cost flow trading service-vehicle cost against expected packs short
    in each station's busiest recharge window. Prints the move orders and the imbalance before
    and after.
    """
    source = ScenarioSource(scenario, seed=seed)
    source.load()  # validates before any work starts (exit 2 on bad input)
    study = study_rebalance(
        source,
        days,
        horizon_h=horizon_h,
        carrier=Carrier(capacity_packs=capacity, vehicles=vehicles),
        shortage_cost_cny=shortage_cost,
    )
    plan = study.plan
    con = console()
    if study.evaluation is not None:
        ev = study.evaluation
        model, naive = ev.scores[0], ev.scores[1]
        con.print(
            f"forecast on the last history day: MAE {model.mae:.2f} arrivals/h "
            f"(seasonal naive {naive.mae:.2f}), RMSE {model.rmse:.2f} ({naive.rmse:.2f}), "
            f"{ev.scores[0].coverage:.0%} inside the 90 % interval"
        )
    con.print(
        table(
            f"{study.scenario.name}: moves for the next {horizon_h} h",
            ["trip", "vehicle", "from", "to", "pack model", "packs", "depart h", "arrive h", "CNY"],
            [
                [
                    m.trip,
                    m.vehicle,
                    m.origin,
                    m.destination,
                    m.pack_model,
                    m.count,
                    f"{m.depart_s / 3600:.1f}",
                    f"{m.arrive_s / 3600:.1f}" if m.within_horizon else "after horizon",
                    f"{m.cost_cny:,.0f}",
                ]
                for m in plan.moves
            ],
        )
    )
    if not plan.moves:
        con.print("no moves: no pack is worth its trip at this shortage cost")
    demand = {(d.station, d.pack_model): d for d in study.demand}
    rows = []
    for key in sorted(plan.stock_before):
        d = demand.get(key)
        rows.append(
            [
                key[0],
                key[1],
                f"{d.window_arrivals * d.packs_per_arrival:.1f}" if d else "0.0",
                plan.stock_before[key],
                plan.stock_after[key],
                f"{plan.shortage_before[key]:.2f}",
                f"{plan.shortage_after[key]:.2f}",
            ]
        )
    rows.append(
        [
            "all",
            "",
            "",
            sum(plan.stock_before.values()),
            sum(plan.stock_after.values()),
            f"{plan.total_shortage_before:.2f}",
            f"{plan.total_shortage_after:.2f}",
        ]
    )
    con.print(
        table(
            "stock against demand (expected packs short in the busiest recharge window)",
            ["station", "pack model", "peak packs", "stock", "after", "short", "short after"],
            rows,
        )
    )
    con.print(
        f"{plan.packs_moved} packs in {len(plan.moves)} trips, {plan.transport_cost_cny:,.0f} CNY; "
        f"expected shortage {plan.total_shortage_before:.2f} -> "
        f"{plan.total_shortage_after:.2f} packs"
    )


@app.command("charge")
def charge_cmd(
    station: str = typer.Option(..., "--station", help="Station id in the scenario."),
    scenario: str = typer.Option(
        "ningde-xiamen", "--scenario", "-s", help="A built-in scenario name or a scenario file."
    ),
    at_hour: float = typer.Option(
        8.0, "--at-hour", min=0.0, help="Hours after the scenario's start to plan from."
    ),
    horizon_h: float = typer.Option(24.0, "--horizon-h", min=1.0, max=48.0, help="Hours ahead."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed; default: the scenario's."),
    out: Path = typer.Option(
        Path("out/plan-charge"), "--out", "-o", help="Folder for the plot (charge-<station>.png)."
    ),
) -> None:
    """Plan one station's charging for the next hours: the charging LP against charge-at-once.

    The station's state comes from a twin snapshot: the scenario runs (charging at once) to
    --at-hour and the LP plans from there, demand forecast from a one-day pilot run. Reading
    the state from the operations database is not wired yet. Prints the schedule by hour
    (power, packs charging, cost), the cost against charge-at-once, and writes a plot of
    power against the grid cap.
    """
    source = ScenarioSource(scenario, seed=seed)
    source.load()  # validates before any work starts (exit 2 on bad input)
    study = study_charge(source, station, at_hour, horizon_h)
    sched, base = study.schedule, study.baseline
    con = console()
    con.print(
        table(
            f"{study.scenario.name}: {station} from hour {at_hour:g}, next {horizon_h:g} h "
            f"(grid cap {study.snapshot.grid_cap_kw:,.0f} kW, status {sched.status.value})",
            ["hour", "CNY/kWh", "mean kW", "peak kW", "packs charging", "CNY", "at once CNY"],
            [
                [
                    f"{h.hour:02d}:00",
                    f"{h.price_cny_per_kwh:.3f}",
                    f"{h.mean_kw:,.0f}",
                    f"{h.peak_kw:,.0f}",
                    f"{h.packs_charging:.1f}",
                    f"{h.cost_cny:,.0f}",
                    f"{h.baseline_cost_cny:,.0f}",
                ]
                for h in study.hours
            ],
        )
    )
    for reason in sched.reasons:
        con.print(reason)
    saving = (
        1.0 - sched.cost.energy_cost_cny / base.cost.energy_cost_cny
        if base.cost.energy_cost_cny
        else 0.0
    )
    con.print(
        f"LP: {sched.cost.energy_cost_cny:,.0f} CNY for {sched.cost.energy_kwh:,.0f} kWh, peak "
        f"{sched.cost.peak_kw:,.0f} kW, {sched.cost.shortage_packs:.2f} packs short; "
        f"charge-at-once: {base.cost.energy_cost_cny:,.0f} CNY for {base.cost.energy_kwh:,.0f} "
        f"kWh, peak {base.cost.peak_kw:,.0f} kW, {base.cost.shortage_packs:.2f} packs short; "
        f"saving {saving:.1%}"
    )
    problem = study.station.problem
    starts_h = (problem.slot_starts_s() - problem.start_s) / 3600.0
    png = plot_charging_schedule(
        starts_h.tolist(),
        (np.asarray(problem.slot_s) / 3600.0).tolist(),
        sched.grid_kw.tolist(),
        base.grid_kw.tolist(),
        study.snapshot.grid_cap_kw,
        list(problem.price_cny_per_kwh),
        f"{station}: planned grid power against the cap",
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"charge-{station}.png"
    path.write_bytes(png)
    con.print(f"plot: [bold]{path}[/]")
