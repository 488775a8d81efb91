"""`openswap catalog`: validate catalog files and show what a catalog holds."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from openswap.catalog.loader import builtin_catalog, load_catalog
from openswap.cli.render import console, dumps, table
from openswap.domain.catalog import Catalog

app = typer.Typer(help="Validate catalog files and show their contents.", no_args_is_help=True)


class Kind(StrEnum):
    FRAMES = "frames"
    PACK_MODELS = "pack-models"
    VEHICLE_MODELS = "vehicle-models"
    STATION_DESIGNS = "station-designs"
    ADAPTERS = "adapters"
    PACKS = "packs"
    VEHICLES = "vehicles"
    STATIONS = "stations"


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


def _counts(cat: Catalog) -> str:
    parts = [
        (len(cat.frames), "frame standards"),
        (len(cat.pack_models), "pack models"),
        (len(cat.vehicle_models), "vehicle models"),
        (len(cat.station_designs), "station designs"),
        (len(cat.adapters), "adapters"),
        (len(cat.packs), "packs"),
        (len(cat.vehicles), "vehicles"),
        (len(cat.stations), "stations"),
    ]
    return ", ".join(f"{n} {name}" for n, name in parts if n)


@app.command()
def validate(
    paths: list[Path] = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        help="Catalog YAML files; later files may refer to ids of earlier ones and of the "
        "built-in catalog.",
    ),
    standalone: bool = typer.Option(
        False,
        "--standalone",
        help="Validate the files alone, without the built-in specifications to refer to.",
    ),
) -> None:
    """Check catalog files: schema, units, bounds, references and duplicate ids.

    The files may refer to the built-in specifications (frames, pack and vehicle models,
    station designs, adapters); the built-in demo assets are not loaded.

    Exits 0 when valid, 2 with every problem (file:line: field: message) when not.
    """
    cat = load_catalog(paths, include_builtin=not standalone, builtin_assets=False)
    console().print(f"[green]valid[/]: {_counts(cat)}")


def _rows(cat: Catalog, kind: Kind) -> tuple[list[str], list[list[Any]]]:
    if kind is Kind.FRAMES:
        return ["id", "mount", "lock", "envelope", "max mass kg", "interface"], [
            [f.id, f.mount, f.lock, f.envelope, f.max_mass_kg, f.interface_id]
            for f in cat.frames.values()
        ]
    if kind is Kind.PACK_MODELS:
        return ["id", "maker", "frame", "chem", "kWh", "V (min-nom-max)", "kg", "charges on"], [
            [
                p.id,
                p.maker,
                p.frame.id,
                p.chemistry,
                f"{p.usable_energy_kwh:g}",
                f"{p.min_voltage_v:g}-{p.nominal_voltage_v:g}-{p.max_voltage_v:g}",
                f"{p.mass_kg:g}",
                ", ".join(sorted(p.charge_standards)),
            ]
            for p in cat.pack_models.values()
        ]
    if kind is Kind.VEHICLE_MODELS:
        return ["id", "oem", "body", "mount", "positions", "frames", "HV window V", "peak kW"], [
            [
                v.id,
                v.oem,
                v.body,
                v.mount,
                v.pack_positions,
                ", ".join(sorted(v.accepted_frames)),
                f"{v.hv_min_voltage_v:g}-{v.hv_max_voltage_v:g}",
                f"{v.peak_traction_power_kw:g}",
            ]
            for v in cat.vehicle_models.values()
        ]
    if kind is Kind.STATION_DESIGNS:
        return ["id", "operator", "swap type", "bays", "slots", "chargers", "grid cap kW"], [
            [
                s.id,
                s.operator,
                s.swap_type,
                s.bays,
                s.slots,
                ", ".join(f"{c.count}x {c.standard} {c.max_power_kw:g} kW" for c in s.chargers),
                f"{s.grid_cap_kw:,.0f}",
            ]
            for s in cat.station_designs.values()
        ]
    if kind is Kind.ADAPTERS:
        return ["id", "kind", "from", "to", "certification"], [
            [a.id, a.kind, a.from_id, a.to_id, a.certification] for a in cat.adapters.values()
        ]
    if kind is Kind.PACKS:
        return ["serial", "model", "owner", "SoC", "SoH", "cycles", "state", "kohm", "dT C"], [
            [
                p.serial,
                p.model.id,
                p.owner,
                f"{p.soc:.2f}",
                f"{p.soh:.3f}",
                p.cycle_count,
                p.safety_state,
                f"{p.insulation_resistance_ohm / 1000:,.0f}",
                f"{p.max_cell_temp_spread_c:.1f}",
            ]
            for p in cat.packs.values()
        ]
    if kind is Kind.VEHICLES:
        return ["id", "model", "fleet", "packs", "adapters"], [
            [v.id, v.model.id, v.fleet, v.pack_count, ", ".join(a.id for a in v.adapters)]
            for v in cat.vehicles.values()
        ]
    return ["id", "name", "design", "stocked models", "adapters"], [
        [
            s.id,
            s.name,
            s.design.id,
            ", ".join(s.stocked_models),
            ", ".join(a.id for a in s.adapters),
        ]
        for s in cat.stations.values()
    ]


_ATTR = {
    Kind.FRAMES: "frames",
    Kind.PACK_MODELS: "pack_models",
    Kind.VEHICLE_MODELS: "vehicle_models",
    Kind.STATION_DESIGNS: "station_designs",
    Kind.ADAPTERS: "adapters",
    Kind.PACKS: "packs",
    Kind.VEHICLES: "vehicles",
    Kind.STATIONS: "stations",
}


@app.command()
def show(
    kind: Kind = typer.Argument(..., help="What to list."),
    paths: list[Path] = typer.Option(
        [],
        "--catalog",
        "-c",
        exists=True,
        dir_okay=False,
        help="Catalog files on top of the built-in specifications (replacing the demo assets).",
    ),
    fmt: Format = typer.Option(Format.TABLE, "--format", "-f", help="table or json."),
) -> None:
    """List one kind of catalog entry (built-in catalog plus any --catalog files)."""
    cat = (
        load_catalog(paths, include_builtin=True, builtin_assets=False)
        if paths
        else (builtin_catalog())
    )
    out = console()
    if fmt is Format.JSON:
        typer.echo(dumps(list(getattr(cat, _ATTR[kind]).values())))
        return
    columns, rows = _rows(cat, kind)
    out.print(table(f"{kind.value} ({len(rows)})", columns, rows))
