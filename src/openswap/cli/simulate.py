"""`openswap simulate` and `openswap compare`: run the digital twin and read its results."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from openswap.cli.render import console
from openswap.report.html import render_comparison
from openswap.report.tables import read_outputs, write_outputs
from openswap.services.simulation import Policy, ScenarioSource, simulate, summarise

DEFAULT_SCENARIO = "ningde-xiamen"


def _num(value: Any, fmt: str = ",.1f") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return format(value, fmt)


def _pm(row: dict[str, Any], key: str, fmt: str = ",.1f") -> str:
    ci = row.get("ci95", {}).get(key)
    text = _num(row[key], fmt)
    return f"{text} ± {_num(ci, fmt)}" if ci is not None and math.isfinite(ci) else text


def summary_tables(summary: dict[str, Any]) -> list[Table]:
    """The station and network tables printed after a run."""
    sc = summary["scenario"]
    stations = Table(
        title=f"{sc['name']}: {sc['days']:g} days x {sc['replications']} replications, "
        f"policy {sc['policy']} (mean ± 95 % CI)",
        title_justify="left",
        header_style="bold",
    )
    columns = (
        "station",
        "swaps/day",
        "bay util",
        "charger util",
        "pack util",
        "peak / cap kW",
        "energy CNY/day",
        "wait mean / p95 min",
        "stock-outs",
        "wasted",
        "payback y",
    )
    for col in columns:
        stations.add_column(col, justify="left" if col == "station" else "right")
    for s in summary["stations"]:
        stations.add_row(
            s["id"],
            _pm(s, "swaps_per_day"),
            _num(s["bay_utilisation"], ".0%"),
            _num(s["charger_utilisation"], ".0%"),
            _num(s["pack_utilisation"], ".0%"),
            f"{_num(s['grid_peak_kw'], ',.0f')} / {_num(s['grid_cap_kw'], ',.0f')}",
            _num(s["energy_cost_cny_per_day"], ",.0f"),
            f"{_num(s['mean_wait_min'])} / {_num(s['p95_wait_min'])}",
            _num(s["stockouts"]),
            _num(s["wasted_trips"]),
            _num(s["payback_years"]),
        )
    n = summary["network"]
    network = Table(title="network", title_justify="left", header_style="bold")
    network.add_column("figure")
    network.add_column("value", justify="right")
    rows = [
        ("trucks", _num(n["trucks"], ",.0f")),
        ("swaps per day", _pm(n, "swaps_per_day")),
        ("energy use, kWh/km", _pm(n, "energy_kwh_per_km", ".3f")),
        ("wasted trips", _pm(n, "wasted_trips")),
        ("stranded trucks", _pm(n, "stranded")),
        ("revenue, CNY/day", _num(n["revenue_cny_per_day"], ",.0f")),
        ("grid energy cost, CNY/day", _num(n["energy_cost_cny_per_day"], ",.0f")),
        ("CO2 of the same km on diesel, t", _num(n["co2_diesel_t"])),
        (f"CO2 saved, grid at {n['grid_co2_kg_per_kwh']:g} kg/kWh, t", _pm(n, "co2_saved_t")),
        ("CO2 saved with green electricity, t", _num(n["co2_saved_green_t"])),
    ]
    for label, value in rows:
        network.add_row(label, value)
    return [stations, network]


def simulate_cmd(
    scenario: str = typer.Argument(
        DEFAULT_SCENARIO, help="A built-in scenario name (see `openswap scenario list`) or a file."
    ),
    days: float | None = typer.Option(
        None, "--days", min=0.01, help="Measured days (after warm-up); default: the scenario's."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed; default: the scenario's."),
    replications: int | None = typer.Option(
        None, "--replications", "-r", min=1, help="Replications; default: the scenario's."
    ),
    workers: int = typer.Option(
        1, "--workers", "-w", min=1, help="Worker processes for the replications."
    ),
    policy: str = typer.Option(
        Policy.BASELINE,
        "--policy",
        help="Charging policy: baseline (charge at once, within the grid cap), tou (valley "
        "hours unless the expected demand needs packs sooner), optimal (model-predictive "
        "control: the station charging LP re-solved every 15 min on a 12 h horizon) or "
        "optimal+assign (the same, and trucks advised where to swap by expected wait).",
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output folder; default: out/<scenario id>."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or tables."),
) -> None:
    """Simulate a swap network: KPIs, economics, CO2, and a report.

    Writes summary.json, events.parquet, timeseries.parquet and report.html to the output folder
    (schema: docs/simulation-output.md). Bad or impossible scenarios exit 2 before the run.
    """
    if policy not in Policy.ALL:
        raise typer.BadParameter(
            f"{policy!r} is not one of {', '.join(Policy.ALL)}", param_hint="--policy"
        )
    source = ScenarioSource(scenario, days=days, seed=seed, replications=replications)
    loaded = source.load()  # validates before any work starts (exit 2 on bad input)
    folder = out or Path("out") / loaded.id
    con = console()
    with Progress(
        TextColumn("[bold]simulating[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=con,
        disable=quiet,
        transient=True,
    ) as bar:
        task = bar.add_task(loaded.id, total=1.0)
        sc, results, wall_s = simulate(
            source, policy, workers, lambda done: bar.update(task, completed=done)
        )
    summary = summarise(sc, results, policy, wall_s)
    paths = write_outputs(folder, summary, results)
    if not quiet:
        for t in summary_tables(summary):
            con.print(t)
        run = summary["run"]
        con.print(
            f"{run['swaps_simulated']:,} swaps simulated in {run['wall_s']:.2f} s "
            f"({run['swaps_per_wall_s']:,.0f} swaps per second of wall time)"
        )
    con.print(f"report: [bold]{paths['report.html']}[/]")


def compare_cmd(
    first: Path = typer.Argument(
        ..., exists=True, file_okay=False, help="Output folder of the first simulation."
    ),
    second: Path = typer.Argument(
        ..., exists=True, file_okay=False, help="Output folder of the second simulation."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Folder for comparison.html; default: the second folder."
    ),
) -> None:
    """Compare two simulation outputs (e.g. cross-brand against single-brand) side by side."""
    a, b = read_outputs(first), read_outputs(second)
    label_a, label_b = a[0]["scenario"]["id"], b[0]["scenario"]["id"]
    if label_a == label_b:
        label_a, label_b = first.name, second.name
    folder = out or second
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "comparison.html"
    target.write_text(render_comparison(a, b, label_a, label_b), encoding="utf-8")
    con = console()
    table = Table(title=f"{label_a} vs {label_b}", title_justify="left", header_style="bold")
    for col in ("network figure", label_a, label_b, "change"):
        table.add_column(col, justify="left" if col == "network figure" else "right")

    def station_mean(summary: dict[str, Any], key: str) -> float:
        values = [float(s[key]) for s in summary["stations"] if s[key] is not None]
        return sum(values) / len(values) if values else math.nan

    def number(value: Any) -> float:
        return math.nan if value is None else float(value)

    na, nb = a[0]["network"], b[0]["network"]
    rows: list[tuple[str, float, float]] = [
        (key, number(na[key]), number(nb[key]))
        for key in (
            "swaps_per_day",
            "wasted_trips",
            "stranded",
            "energy_kwh_per_km",
            "revenue_cny_per_day",
            "energy_cost_cny_per_day",
            "co2_saved_t",
        )
    ]
    rows.append(("stations", len(a[0]["stations"]), len(b[0]["stations"])))
    for key in ("bay_utilisation", "pack_utilisation", "mean_wait_min", "payback_years"):
        rows.append((f"station mean {key}", station_mean(a[0], key), station_mean(b[0], key)))
    for key, va, vb in rows:
        change = f"{(vb - va) / va:+.0%}" if va and math.isfinite(va) else _num(vb - va, "+,.2f")
        table.add_row(key, _num(va, ",.2f"), _num(vb, ",.2f"), change)
    con.print(table)
    con.print(f"comparison: [bold]{target}[/]")
