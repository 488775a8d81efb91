"""`openswap compat`: explain one swap decision, or the coverage of a whole network."""

from __future__ import annotations

import csv
import io
from enum import StrEnum
from pathlib import Path

import typer
from rich.table import Table

from openswap.catalog.fleetmix import load_fleet_mix
from openswap.catalog.loader import builtin_catalog, load_catalog
from openswap.cli.render import console, dumps
from openswap.domain.assets import (
    Pack,
    Station,
    Vehicle,
    new_pack,
    nominal_station,
    nominal_vehicle,
)
from openswap.domain.catalog import Catalog
from openswap.domain.compatibility import Verdict, check
from openswap.domain.coverage import CarryAdapter, CoverageEngine, NetworkCoverage, StockPackModel
from openswap.domain.errors import UnknownIdError

app = typer.Typer(
    help="Check whether packs may go into vehicles at stations, and why.", no_args_is_help=True
)

CatalogOption = typer.Option(
    [],
    "--catalog",
    "-c",
    exists=True,
    dir_okay=False,
    help="Catalog files on top of the built-in specifications (replacing the demo assets).",
)


def _catalog(paths: list[Path]) -> Catalog:
    """The built-in catalog, or the built-in specifications plus the user's files."""
    if paths:
        return load_catalog(paths, include_builtin=True, builtin_assets=False)
    return builtin_catalog()


def resolve_vehicle(cat: Catalog, ident: str) -> Vehicle:
    """A vehicle by id, or a nominal vehicle of a vehicle model with that id."""
    if ident in cat.vehicles:
        return cat.vehicles[ident]
    if ident in cat.vehicle_models:
        return nominal_vehicle(cat.vehicle_models[ident])
    raise UnknownIdError("vehicle or vehicle model", ident, (*cat.vehicles, *cat.vehicle_models))


def resolve_pack(cat: Catalog, ident: str) -> Pack:
    """A pack by serial, or a factory-fresh pack of a pack model with that id."""
    if ident in cat.packs:
        return cat.packs[ident]
    if ident in cat.pack_models:
        return new_pack(cat.pack_models[ident], serial=f"new-{ident}")
    raise UnknownIdError("pack or pack model", ident, (*cat.packs, *cat.pack_models))


def resolve_station(cat: Catalog, ident: str) -> Station:
    """A station by id, or a bare station built to a station design with that id."""
    if ident in cat.stations:
        return cat.stations[ident]
    if ident in cat.station_designs:
        return nominal_station(cat.station_designs[ident])
    raise UnknownIdError("station or station design", ident, (*cat.stations, *cat.station_designs))


def verdict_table(verdict: Verdict, title: str) -> Table:
    """One row per rule: red or green, the reason and the values compared."""
    out = Table(title=title, title_justify="left", header_style="bold")
    out.add_column("rule")
    out.add_column("result")
    out.add_column("reason")
    out.add_column("compared")
    for r in verdict.results:
        mark = "[green]pass[/]" if r.passed else "[bold red]FAIL[/]"
        if r.interlock:
            mark += " [dim](interlock)[/]"
        compared = "; ".join(f"{k}: {v}" for k, v in r.compared)
        out.add_row(r.rule, mark, r.reason, compared)
    return out


@app.command("check")
def check_cmd(
    vehicle: str = typer.Option(..., "--vehicle", "-v", help="Vehicle id or vehicle model id."),
    pack: str = typer.Option(..., "--pack", "-p", help="Pack serial or pack model id."),
    station: str = typer.Option(..., "--station", "-s", help="Station id or station design id."),
    need_kwh: float | None = typer.Option(
        None, "--need-kwh", min=0.0, help="Vehicle's energy need for its next leg, kWh."
    ),
    paths: list[Path] = CatalogOption,
    as_json: bool = typer.Option(False, "--json", help="Print the verdict as JSON."),
) -> None:
    """Explain, rule by rule, whether PACK may go into VEHICLE at STATION.

    Exit code 0 when compatible, 1 when not (2 on bad input).
    """
    cat = _catalog(paths)
    v, p, s = resolve_vehicle(cat, vehicle), resolve_pack(cat, pack), resolve_station(cat, station)
    verdict = check(v, p, s, need_kwh)
    if as_json:
        typer.echo(
            dumps(
                {
                    "vehicle": v.id,
                    "pack": p.serial,
                    "station": s.id,
                    "need_kwh": need_kwh,
                    "compatible": verdict.compatible,
                    "results": verdict.results,
                }
            )
        )
    else:
        out = console()
        title = f"pack {p.serial} ({p.model.id}) -> vehicle {v.id} ({v.model.id}) at {s.id}"
        out.print(verdict_table(verdict, title))
        if verdict.compatible:
            out.print("[bold green]compatible[/]: every rule passed")
        else:
            names = ", ".join(r.rule for r in verdict.failed)
            out.print(f"[bold red]not compatible[/]: {len(verdict.failed)} rule(s) failed: {names}")
    if not verdict.compatible:
        raise typer.Exit(code=1)


class CoverageFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def parse_what_if(text: str, cat: Catalog) -> CarryAdapter | StockPackModel:
    """`adapter:ADAPTER@STATION` or `stock:PACK_MODEL@STATION` as a coverage change."""
    kind, _, rest = text.partition(":")
    ident, _, station_id = rest.partition("@")
    if kind not in ("adapter", "stock") or not ident or not station_id:
        raise typer.BadParameter(
            f"{text!r}: expected adapter:ADAPTER_ID@STATION_ID or stock:PACK_MODEL_ID@STATION_ID",
            param_hint="--what-if",
        )
    if kind == "adapter":
        return CarryAdapter(station_id, cat.adapter(ident))
    cat.pack_model(ident)  # raises with close matches when unknown
    return StockPackModel(station_id, ident)


def coverage_table(cov: NetworkCoverage) -> Table:
    out = Table(
        title=f"coverage: {cov.trucks_served:,} of {cov.trucks_total:,} trucks "
        f"({cov.share_served:.1%}) can swap at one station or more",
        title_justify="left",
        header_style="bold",
    )
    for col in ("station", "design", "trucks served", "share", "blocked by (trucks)"):
        out.add_column(col)
    for s in cov.stations:
        blocked = ", ".join(f"{rule} {n:,}" for rule, n in s.blocked_by_rule) or "-"
        share = f"[green]{s.share_served:.1%}[/]" if s.share_served else "[red]0.0%[/]"
        out.add_row(s.station_id, s.design_id, f"{s.trucks_served:,}", share, blocked)
    return out


@app.command("coverage")
def coverage_cmd(
    fleet_file: Path = typer.Option(
        ...,
        "--fleet",
        exists=True,
        dir_okay=False,
        help="Fleet mix YAML: a 'fleet:' list of {vehicle_model, count, adapters}.",
    ),
    stations_file: Path = typer.Option(
        ...,
        "--stations",
        exists=True,
        dir_okay=False,
        help="Catalog YAML whose 'stations:' section lists the stations to study "
        "(design, stocked_models, adapters); it may refer to built-in specifications.",
    ),
    fmt: CoverageFormat = typer.Option(
        CoverageFormat.TABLE, "--format", "-f", help="table, csv or json."
    ),
    what_if: list[str] = typer.Option(
        [],
        "--what-if",
        help="A change to evaluate, applied together with the others: "
        "adapter:ADAPTER_ID@STATION_ID or stock:PACK_MODEL_ID@STATION_ID (repeatable).",
    ),
    paths: list[Path] = CatalogOption,
) -> None:
    """Which share of a fleet each station can serve, which rule blocks the rest, and what-ifs.

    Model-level compatibility: stocked packs are assumed healthy and charged.
    """
    cat = load_catalog([*paths, stations_file], include_builtin=True, builtin_assets=False)
    stations = list(cat.stations.values())
    if not stations:
        raise typer.BadParameter(f"{stations_file} defines no stations", param_hint="--stations")
    fleet = load_fleet_mix(fleet_file, cat)
    changes = [parse_what_if(w, cat) for w in what_if]
    engine = CoverageEngine(cat.pack_models.values())
    cov = engine.network_coverage(fleet, stations)
    result = engine.what_if(fleet, stations, changes, before=cov) if changes else None
    if fmt is CoverageFormat.JSON:
        doc: dict[str, object] = {"coverage": cov.to_dict()}
        if result is not None:
            doc["what_if"] = result.to_dict()
        typer.echo(dumps(doc))
        return
    if fmt is CoverageFormat.CSV:
        buffer = io.StringIO()
        rows = cov.to_rows()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        typer.echo(buffer.getvalue(), nl=False)
        return
    out = console()
    out.print(coverage_table(cov))
    if result is not None:
        out.print(f"\n[bold]what if[/] {result.describe()}:")
        for d in result.stations:
            out.print(
                f"  {d.station_id}: {d.trucks_served_before:,} -> {d.trucks_served_after:,} "
                f"trucks ({d.delta:+,})"
            )
        out.print(
            f"  network: {result.network_served_before:,} -> {result.network_served_after:,} "
            f"trucks ({result.network_delta:+,})"
        )
