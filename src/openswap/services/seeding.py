"""Seeding a database: the catalog's specifications and, for demos, a small running network.

The demo network is the catalog's demo stations (the four Ningde–Xiamen QIJI stations placed
on the G15 with the km positions of the built-in `ningde-xiamen` scenario, and four more), each
with its design's bays and rack slots; the catalog's demo packs on the racks of stations that
stock their model (else in a warehouse); eight more charged QIJI blocks per G15 station owned
by a battery bank (vehicle–battery separation); and the demo vehicles with a pack of a
compatible model in every position. Seeding only adds what is missing, so it can be re-run.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from datetime import datetime

from openswap.catalog.scenario import builtin_scenario
from openswap.domain.assets import Pack, SafetyState, Vehicle
from openswap.domain.catalog import Catalog
from openswap.domain.compatibility import DEFAULT_RULES, check_static
from openswap.domain.errors import ConflictError
from openswap.domain.scenario import Direction, StationSite
from openswap.domain.specs import PackModel
from openswap.services.billing import DEFAULT_TARIFF
from openswap.services.model import (
    Custody,
    Organisation,
    OrgRole,
    OutboxEvent,
    StationRecord,
    VehicleRecord,
    Warehouse,
)
from openswap.services.operations import PackEvent
from openswap.services.ports import Clock, IdGenerator, Spec, UnitOfWork
from openswap.services.system import SystemClock, UuidIds

DEMO_SCENARIO = "ningde-xiamen"
BATTERY_BANK = Organisation(
    "fujian-battery-bank", "Fujian Battery Bank (demo)", frozenset({OrgRole.BATTERY_OWNER})
)
DEMO_WAREHOUSE_ID = "ningde-depot"
EXTRA_QIJI_PACKS_PER_STATION = 8
QIJI_MODEL = "catl-qiji-171-lfp"
# Display names in the catalog that name one organisation.
_ORG_ALIASES = {"QIJI Energy (CATL)": "qiji-energy"}


@dataclass(frozen=True, slots=True)
class SeedReport:
    """How many rows of each kind were added (zero everywhere on a re-run)."""

    specs: int = 0
    organisations: int = 0
    stations: int = 0
    warehouses: int = 0
    vehicles: int = 0
    packs: int = 0


def org_id(name: str) -> str:
    """The organisation id for a display name: `QIJI Energy` -> `qiji-energy`."""
    if name in _ORG_ALIASES:
        return _ORG_ALIASES[name]
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def seed_database(
    uow: UnitOfWork,
    catalog: Catalog,
    *,
    demo: bool = False,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
) -> SeedReport:
    """Store `catalog`'s specifications and, with `demo`, the demo network (module docstring),
    in one transaction of the (not yet entered) unit of work `uow`.

    Raises `ConflictError` when a stored row with the same id differs in a way seeding cannot
    reconcile (e.g. a pack model whose frame is missing).
    """
    now = (clock or SystemClock()).now()
    new_ids = ids or UuidIds()
    with uow:
        specs = _seed_specs(uow, catalog)
        report = SeedReport(specs=specs)
        if demo:
            report = _seed_demo(uow, catalog, now, new_ids, report)
        uow.commit()
    return report


def _seed_specs(uow: UnitOfWork, catalog: Catalog) -> int:
    have = uow.catalog.specs()
    missing: list[Spec] = [
        *(f for i, f in sorted(catalog.frames.items()) if i not in have.frames),
        *(m for i, m in sorted(catalog.pack_models.items()) if i not in have.pack_models),
        *(m for i, m in sorted(catalog.vehicle_models.items()) if i not in have.vehicle_models),
        *(d for i, d in sorted(catalog.station_designs.items()) if i not in have.station_designs),
        *(a for i, a in sorted(catalog.adapters.items()) if i not in have.adapters),
    ]
    for spec in missing:
        if isinstance(spec, PackModel) and spec.frame.id not in catalog.frames:
            raise ConflictError(f"pack model {spec.id} names missing frame {spec.frame.id}")
        uow.catalog.add(spec)
    return len(missing)


def _direction(site: StationSite, forward_label: str, backward_label: str) -> str | None:
    if site.directions == frozenset({Direction.FORWARD}):
        return forward_label
    if site.directions == frozenset({Direction.BACKWARD}):
        return backward_label
    return None


@functools.cache
def _placements() -> dict[str, tuple[str | None, float | None, str | None]]:
    """Corridor, km and direction label of each station site of the demo scenario."""
    scenario = builtin_scenario(DEMO_SCENARIO)
    corridors = {c.id: c for c in scenario.corridors}
    out: dict[str, tuple[str | None, float | None, str | None]] = {}
    for site in scenario.stations:
        c = corridors[site.corridor]
        out[site.id] = (site.corridor, site.km, _direction(site, c.forward_label, c.backward_label))
    return out


def _seed_demo(
    uow: UnitOfWork, catalog: Catalog, now: datetime, ids: IdGenerator, report: SeedReport
) -> SeedReport:
    sites = _placements()

    # organisations
    roles: dict[str, tuple[str, set[OrgRole]]] = {}

    def want(name: str, role: OrgRole, ident: str | None = None) -> str:
        oid = ident or org_id(name)
        display = "QIJI Energy" if oid == "qiji-energy" else name
        roles.setdefault(oid, (display, set()))[1].add(role)
        return oid

    for st in catalog.stations.values():
        want(st.design.operator, OrgRole.OPERATOR)
    for p in catalog.packs.values():
        want(p.owner, OrgRole.BATTERY_OWNER)
    for v in catalog.vehicles.values():
        want(v.fleet, OrgRole.FLEET, v.fleet)
    want(BATTERY_BANK.name, OrgRole.BATTERY_OWNER, BATTERY_BANK.id)
    want("openswap demo lessor", OrgRole.BATTERY_OWNER)
    orgs = 0
    for oid, (name, rs) in sorted(roles.items()):
        if uow.organisations.get(oid) is None:
            uow.organisations.add(Organisation(oid, name, frozenset(rs)))
            orgs += 1

    # stations, warehouse
    stations = 0
    for st in sorted(catalog.stations.values(), key=lambda s: s.id):
        if uow.stations.get(st.id) is not None:
            continue
        corridor, km, direction = sites.get(st.id, (None, None, None))
        record = StationRecord(
            station=st,
            operator_org_id=org_id(st.design.operator),
            corridor=corridor,
            km=km,
            direction=direction,
            tariff=DEFAULT_TARIFF,
        )
        slots = [str(c.standard) for c in st.design.chargers for _ in range(c.count)]
        uow.stations.add(record, bays=st.design.bays, slots=slots)
        stations += 1
    warehouses = 0
    if uow.warehouses.get(DEMO_WAREHOUSE_ID) is None:
        uow.warehouses.add(
            Warehouse(DEMO_WAREHOUSE_ID, "Ningde battery depot (demo)", "qiji-energy")
        )
        warehouses += 1

    # packs on racks
    free: dict[str, list[int]] = {
        s.id: [v.slot_no for v in uow.stations.slots(s.id) if v.pack_serial is None]
        for s in catalog.stations.values()
    }
    stocking: dict[str, list[str]] = {}
    for st in sorted(catalog.stations.values(), key=lambda s: s.id):
        for stocked in st.stocked_models:
            stocking.setdefault(stocked, []).append(st.id)
    turn: dict[str, int] = {}
    packs = 0

    def place(pack: Pack, custody: Custody | None = None) -> None:
        nonlocal packs
        if uow.packs.get(pack.serial) is not None:
            return
        if custody is None:
            custody = Custody.in_warehouse(DEMO_WAREHOUSE_ID)
            options = stocking.get(pack.model.id, [])
            for k in range(len(options)):
                sid = options[(turn.get(pack.model.id, 0) + k) % len(options)]
                if free[sid]:
                    custody = Custody.in_slot(sid, free[sid].pop(0))
                    turn[pack.model.id] = turn.get(pack.model.id, 0) + k + 1
                    break
        uow.packs.add(pack, custody, now)
        uow.outbox.add(
            OutboxEvent(
                event_id=ids.new_id("evt_"),
                event_type=str(PackEvent.REGISTERED),
                pack_serial=pack.serial,
                payload={
                    "pack_model": pack.model.id,
                    "owner": pack.owner,
                    "to": custody.to_dict(),
                    "soh": pack.soh,
                    "cycle_count": pack.cycle_count,
                    "insulation_resistance_ohm": pack.insulation_resistance_ohm,
                    "max_cell_temp_spread_c": pack.max_cell_temp_spread_c,
                },
                occurred_at=now,
            )
        )
        packs += 1

    for p in sorted(catalog.packs.values(), key=lambda p: p.serial):
        place(replace(p, owner=org_id(p.owner)))

    qiji = catalog.pack_models.get(QIJI_MODEL)
    number = 0
    if qiji is not None:
        for sid in sorted(s for s in sites if s in catalog.stations):
            for n in range(EXTRA_QIJI_PACKS_PER_STATION):
                number += 1
                if not free.get(sid):
                    break
                place(
                    Pack(
                        serial=f"Q75-{100000 + number}",
                        model=qiji,
                        owner=BATTERY_BANK.id,
                        soc=round(0.92 + 0.01 * (n % 8), 2),
                        soh=round(0.95 + 0.01 * (n % 5), 2),
                        cycle_count=300 + 37 * number,
                        safety_state=SafetyState.OK,
                        insulation_resistance_ohm=2_000_000.0 + 10_000.0 * n,
                        max_cell_temp_spread_c=round(2.0 + 0.2 * (n % 6), 1),
                    ),
                    Custody.in_slot(sid, free[sid].pop(0)),
                )

    # vehicles, each with a compatible pack in every position
    vehicles = 0
    for v in sorted(catalog.vehicles.values(), key=lambda v: v.id):
        if uow.vehicles.get(v.id) is None:
            uow.vehicles.add(VehicleRecord(v))
            vehicles += 1
        model = _vehicle_pack_model(catalog, v, stocking)
        if model is None:
            continue
        owner = BATTERY_BANK.id if model.id == QIJI_MODEL else org_id("openswap demo lessor")
        for pos in range(1, v.pack_count + 1):
            place(
                Pack(
                    serial=f"{v.id.upper()}-P{pos}",
                    model=model,
                    owner=owner,
                    soc=0.25,
                    soh=0.95,
                    cycle_count=900,
                    safety_state=SafetyState.OK,
                    insulation_resistance_ohm=1_800_000.0,
                    max_cell_temp_spread_c=2.5,
                ),
                Custody.in_vehicle(v.id, pos),
            )
    return SeedReport(
        specs=report.specs,
        organisations=orgs,
        stations=stations,
        warehouses=warehouses,
        vehicles=vehicles,
        packs=packs,
    )


def _vehicle_pack_model(
    catalog: Catalog, vehicle: Vehicle, stocking: dict[str, list[str]]
) -> PackModel | None:
    """A pack model the vehicle accepts (vehicle x pack rules only), preferring stocked ones."""
    vp_rules = {r.id for r in DEFAULT_RULES.vehicle_pack}
    design = next(iter(catalog.station_designs.values()), None)
    if design is None:
        return None
    fits = [
        pm
        for pm in sorted(catalog.pack_models.values(), key=lambda m: m.id)
        if all(
            r.passed
            for r in check_static(vehicle.model, pm, design, vehicle.adapters)
            if r.rule in vp_rules
        )
    ]
    stocked = [pm for pm in fits if pm.id in stocking]
    best = stocked or fits
    return best[0] if best else None
