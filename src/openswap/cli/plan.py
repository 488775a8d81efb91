"""`openswap plan`: scheduling plans from the twin (pack rebalancing; charging schedules)."""

from __future__ import annotations

import typer

from openswap.cli.render import console, table
from openswap.scheduling.rebalance import Carrier
from openswap.services.planning import study_rebalance
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
