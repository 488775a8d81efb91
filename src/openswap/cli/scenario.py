"""`openswap scenario`: list, show, validate and generate network scenarios."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from openswap.catalog.generate import generate_scenario_data
from openswap.catalog.scenario import (
    builtin_scenario,
    builtin_scenario_names,
    check_scenario_file,
    load_scenario,
    load_scenario_data,
    to_yaml_text,
)
from openswap.cli.render import console, table
from openswap.domain.errors import InputError, Problem
from openswap.domain.feasibility import check_scenario
from openswap.domain.scenario import Direction, Scenario

app = typer.Typer(help="List, show, validate and generate network scenarios.", no_args_is_help=True)


def _print_problems(problems: list[Problem] | tuple[Problem, ...]) -> None:
    err = Console(stderr=True, width=None if Console().is_terminal else 160)
    count = len(problems)
    err.print(f"[bold red]error:[/] {count} problem{'s' if count != 1 else ''} in the input")
    for problem in problems:
        where = problem.where()
        err.print(f"  [bold]{where}[/]: {problem.message}" if where else f"  {problem.message}")


def _resolve(name_or_file: str) -> Scenario:
    path = Path(name_or_file)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_scenario(path)
    return builtin_scenario(name_or_file)


@app.command("list")
def list_() -> None:
    """List the built-in scenarios with a one-line description."""
    rows = []
    for name in builtin_scenario_names():
        s = builtin_scenario(name)
        trucks = sum(f.count for f in s.fleets)
        rows.append([name, len(s.stations), trucks, s.name])
    console().print(
        table("Built-in scenarios", ["name", "stations", "trucks", "description"], rows)
    )


def _directions(s: Scenario, corridor_id: str, directions: frozenset[Direction]) -> str:
    c = s.corridor(corridor_id)
    labels = {Direction.FORWARD: c.forward_label, Direction.BACKWARD: c.backward_label}
    return "both" if len(directions) == 2 else ", ".join(labels[d] for d in directions)


@app.command()
def show(
    scenario: str = typer.Argument(..., help="A built-in scenario name or a scenario YAML file."),
) -> None:
    """Summarise a scenario: corridors, stations, fleets and run settings."""
    try:
        s = _resolve(scenario)
    except InputError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(2) from None
    out = console()
    out.print(f"[bold]{s.name}[/] ({s.id})")
    if s.description:
        out.print(s.description, highlight=False)
    out.print(
        table(
            "Corridors",
            ["id", "name", "km", "segments", "waypoints"],
            [
                [
                    c.id,
                    c.name,
                    f"{c.length_km:g}",
                    len(c.profile),
                    ", ".join(f"{n} {km:g}" for n, km in c.waypoints),
                ]
                for c in s.corridors
            ],
        )
    )
    out.print(
        table(
            "Stations",
            ["id", "corridor", "km", "dir", "design", "slots x kW", "grid kW", "stock"],
            [
                [
                    st.id,
                    st.corridor,
                    f"{st.km:g}",
                    _directions(s, st.corridor, st.directions),
                    st.design.id,
                    f"{st.slots} x {st.charger_power_kw:g}",
                    f"{st.design.grid_cap_kw:g}",
                    ", ".join(f"{m.id}: {n}" for m, n in st.stock),
                ]
                for st in s.stations
            ],
        )
    )
    out.print(
        table(
            "Fleets",
            ["id", "vehicle", "trucks", "packs", "corridor", "km", "trips/day", "informed"],
            [
                [
                    f.id,
                    f.vehicle_model.id,
                    f.count,
                    f"{f.packs_per_vehicle} x {f.pack_model.id}",
                    f.corridor,
                    f"{f.origin_km:g} -> {f.destination_km:g}",
                    f"{f.trips_per_day:g}",
                    f"{f.informed_share:g}",
                ]
                for f in s.fleets
            ],
        )
    )
    trips = sum(f.count * f.trips_per_day for f in s.fleets)
    out.print(
        f"run: {s.days:g} days (warm-up {s.warmup_days:g}), seed {s.seed}, "
        f"{s.replications} replication(s); {sum(f.count for f in s.fleets)} trucks, "
        f"{trips:g} one-way trips/day; reserve {s.reserve_frac:g}, charged at SoC "
        f"{s.charged_soc:g}",
        highlight=False,
    )


@app.command()
def validate(
    paths: list[Path] = typer.Argument(..., dir_okay=False, help="Scenario YAML files."),
) -> None:
    """Check scenario files: schema, units, references, then feasibility.

    Exits 0 when every file is valid, 2 with every problem (file:line: field: message) when not.
    """
    problems: list[Problem] = []
    for path in paths:
        scenario, found = check_scenario_file(path)
        problems += found
        if scenario is not None and not found:
            console().print(
                f"[green]valid[/]: {path}: {len(scenario.corridors)} corridors, "
                f"{len(scenario.stations)} stations, {len(scenario.fleets)} fleets",
                highlight=False,
            )
    if problems:
        _print_problems(problems)
        raise typer.Exit(2)


@app.command()
def generate(
    out: Path = typer.Option(..., "--out", dir_okay=False, help="YAML file to write."),
    trucks: int = typer.Option(120_000, "--trucks", help="Trucks in the whole network."),
    corridors: int = typer.Option(40, "--corridors", help="Number of corridors."),
    stations_per_corridor: int = typer.Option(
        3, "--stations-per-corridor", help="Station sites per corridor (one per carriageway)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same file."),
    days: float = typer.Option(1.0, "--days", help="Simulated days."),
) -> None:
    """Write a synthetic province-scale scenario, feasible by construction."""
    try:
        data = generate_scenario_data(trucks, corridors, stations_per_corridor, seed, days)
        scenario = load_scenario_data(data, file=str(out))
    except InputError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(2) from None
    problems = check_scenario(scenario)
    if problems:  # a generator defect, not bad input
        _print_problems(problems)
        raise typer.Exit(1)
    header = (
        "Synthetic openswap scenario, generated with:\n"
        f"openswap scenario generate --trucks {trucks} --corridors {corridors} "
        f"--stations-per-corridor {stations_per_corridor} --seed {seed} --days {days:g}"
    )
    out.write_text(to_yaml_text(data, header), encoding="utf-8")
    console().print(
        f"wrote {out}: {len(scenario.corridors)} corridors, {len(scenario.stations)} stations, "
        f"{len(scenario.fleets)} fleets, {sum(f.count for f in scenario.fleets)} trucks",
        highlight=False,
    )
