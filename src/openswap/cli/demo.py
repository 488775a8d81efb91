"""`openswap demo` (what `make demo` runs) and `openswap tour` (the compatibility tour).

The demo runs openswap's main job: it simulates the Ningde–Xiamen line with cross-brand stations
and again with single-brand stations, compares the two and says where the reports are. The tour
walks through the catalog, explained swap decisions, pack selection and network coverage.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.rule import Rule

from openswap.catalog.loader import builtin_catalog
from openswap.cli.compat import coverage_table, verdict_table
from openswap.cli.render import console, dumps, table
from openswap.cli.simulate import compare_cmd, simulate_cmd
from openswap.domain.assets import Station, nominal_vehicle
from openswap.domain.compatibility import check
from openswap.domain.coverage import CarryAdapter, CoverageEngine, FleetEntry
from openswap.domain.selection import select_packs
from openswap.services.simulation import Policy

CROSS_BRAND = "ningde-xiamen"
SINGLE_BRAND = "ningde-xiamen-single-brand"

# The tour's cast, all from the built-in catalog.
QIJI_TRUCK = "fj-g15-001"  # Deepway Xingtu 6x4 on QIJI blocks
FAW_WITH_ADAPTER = "fj-g15-003"  # FAW J6P carrying a certified connector adapter
QIJI_STATION = "changle-s"
HEALTHY_BLOCK = "Q75-000001"
TOPLIFT_PACK = "MTB-000001"
QUARANTINED_BLOCK = "Q75-000005"
LOW_INSULATION_BLOCK = "Q75-000007"
LEG_NEED_KWH = 300.0  # about 190 km of loaded G15 driving at 1.5 kWh/km, hills included
FLEET_MIX = (
    ("deepway-xingtu-6x4-qiji", 120),
    ("shacman-x6000-6x4-qiji", 60),
    ("faw-j6p-6x4-chassis", 40),
    ("sany-6x4-chassis", 50),
    ("foton-auman-6x4-top", 30),
    ("dongfeng-port-4x2-top", 45),
    ("xcmg-dump-8x4-top", 20),
)


def tour(
    out: Path = typer.Option(Path("out/tour"), "--out", help="Folder for the tour's JSON output."),
) -> None:
    """A guided tour: the catalog, explained swap decisions, pack selection and coverage."""
    con = console()
    cat = builtin_catalog()
    out.mkdir(parents=True, exist_ok=True)

    con.print(Rule("[bold]openswap: cross-brand battery swapping, explained[/]"))
    con.print(
        f"Built-in catalog: {len(cat.frames)} frame standards, {len(cat.pack_models)} pack models "
        f"from {len({p.maker for p in cat.pack_models.values()})} makers, "
        f"{len(cat.vehicle_models)} vehicle models from "
        f"{len({v.oem for v in cat.vehicle_models.values()})} OEMs, "
        f"{len(cat.station_designs)} station designs; every entry cites its source."
    )
    con.print(
        table(
            "station designs",
            ["id", "swap type", "robot frames", "chargers", "grid cap kW"],
            [
                [
                    s.id,
                    s.swap_type,
                    ", ".join(sorted(s.robot.frames)),
                    ", ".join(f"{c.count}x {c.standard} {c.max_power_kw:g} kW" for c in s.chargers),
                    f"{s.grid_cap_kw:,.0f}",
                ]
                for s in cat.station_designs.values()
            ],
        )
    )

    truck, station = cat.vehicle(QIJI_TRUCK), cat.station(QIJI_STATION)
    cases = [
        ("1. A QIJI block for a QIJI truck", truck, HEALTHY_BLOCK, station),
        ("2. A top-lift backpack pack for the same chassis truck", truck, TOPLIFT_PACK, station),
        (
            "3. A quarantined block: a safety interlock, never overridden",
            truck,
            QUARANTINED_BLOCK,
            station,
        ),
        (
            "4. A block whose insulation is below 100 ohm/V (GB 18384-2020)",
            truck,
            LOW_INSULATION_BLOCK,
            station,
        ),
        (
            "5. A FAW truck taking QIJI blocks through a certified connector adapter",
            cat.vehicle(FAW_WITH_ADAPTER),
            HEALTHY_BLOCK,
            station,
        ),
    ]
    verdicts = []
    for title, vehicle, serial, where in cases:
        pack = cat.pack(serial)
        verdict = check(vehicle, pack, where, LEG_NEED_KWH)
        verdicts.append(
            {"case": title, "compatible": verdict.compatible, "results": verdict.results}
        )
        con.print(Rule(title, align="left"))
        con.print(verdict_table(verdict, f"{pack.serial} -> {vehicle.id} at {where.id}"))
        con.print(f"[bold]{verdict.summary()}[/]")

    con.print(Rule("6. Which blocks on the rack go into the truck? (pack selection)", align="left"))
    rack = [p for p in cat.packs.values() if p.model.id == "catl-qiji-171-lfp"]
    selection = select_packs(truck, station, rack, LEG_NEED_KWH)
    con.print(
        table(
            f"rack at {station.id} for {truck.id} ({truck.pack_count} positions)",
            ["rank", "pack", "why"],
            [[r.rank, r.pack.serial, r.reason] for r in selection.ranked],
        )
    )
    con.print(
        table(
            "refused",
            ["pack", "why"],
            [[r.pack.serial, r.reason] for r in selection.rejected],
        )
    )
    chosen = ", ".join(r.pack.serial for r in selection.take(truck.pack_count))
    con.print(f"held for the truck: [bold]{chosen}[/]")

    con.print(
        Rule(
            "7. Network coverage: which trucks can swap where, and what blocks the rest",
            align="left",
        )
    )
    fleet = [FleetEntry(cat.vehicle_model(m), n) for m, n in FLEET_MIX]
    stations: list[Station] = list(cat.stations.values())
    engine = CoverageEngine(cat.pack_models.values())
    cov = engine.network_coverage(fleet, stations)
    con.print(coverage_table(cov))
    change = CarryAdapter("changle-s", cat.adapter("adp-conn-qiji-to-qct1201a"))
    # The adapter only helps a truck that can be fitted with it: the FAW chassis tractors.
    what_if = engine.what_if(fleet, stations, [change], before=cov)
    delta = what_if.stations[0]
    con.print(
        f"what if [bold]{change.describe()}[/]: {delta.trucks_served_before:,} -> "
        f"{delta.trucks_served_after:,} trucks at changle-s ({delta.delta:+,}); network "
        f"{what_if.network_served_before:,} -> {what_if.network_served_after:,}"
    )
    nominal = {e.model.id: nominal_vehicle(e.model) for e in fleet}
    (out / "tour.json").write_text(
        dumps(
            {
                "verdicts": verdicts,
                "selection": selection.to_dict(),
                "coverage": cov.to_dict(),
                "what_if": what_if.to_dict(),
                "fleet": {k: v.model.id for k, v in nominal.items()},
            }
        ),
        encoding="utf-8",
    )
    con.print(f"\nThe tour's results are in [bold]{out / 'tour.json'}[/].")


def demo(
    out: Path = typer.Option(Path("out/demo"), "--out", help="Folder for the demo's outputs."),
    days: float | None = typer.Option(
        None, "--days", min=0.01, help="Measured days per run; default: the scenarios' own."
    ),
) -> None:
    """Simulate the Ningde–Xiamen line cross-brand and single-brand, compare, write reports.

    openswap's main job on the built-in scenarios: the twin runs the line with cross-brand
    stations and again with single-brand stations, and the comparison explains the difference.
    """
    con = console()
    cat = builtin_catalog()
    con.print(
        Rule("[bold]openswap demo: the Ningde–Xiamen swap line, cross-brand vs single-brand[/]")
    )
    truck, station = cat.vehicle(QIJI_TRUCK), cat.station(QIJI_STATION)
    for serial in (HEALTHY_BLOCK, TOPLIFT_PACK, QUARANTINED_BLOCK):
        verdict = check(truck, cat.pack(serial), station, LEG_NEED_KWH)
        con.print(f"  {serial} -> {truck.id} at {station.id}: {verdict.summary()}", soft_wrap=True)
    con.print("  (the whole compatibility tour: openswap tour)\n")
    runs = {}
    for name in (CROSS_BRAND, SINGLE_BRAND):
        con.print(Rule(name, align="left"))
        folder = out / name
        simulate_cmd(
            scenario=name,
            days=days,
            seed=None,
            replications=None,
            workers=1,
            policy=Policy.BASELINE,
            out=folder,
            quiet=False,
        )
        runs[name] = folder
    con.print(Rule("cross-brand against single-brand", align="left"))
    compare_cmd(runs[CROSS_BRAND], runs[SINGLE_BRAND], out)
    con.print(
        f"\nOpen [bold]{runs[CROSS_BRAND] / 'report.html'}[/], "
        f"[bold]{runs[SINGLE_BRAND] / 'report.html'}[/] and [bold]{out / 'comparison.html'}[/]."
    )
