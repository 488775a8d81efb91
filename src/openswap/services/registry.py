"""The registry: catalog specifications and the assets of a running network, added and read.

Specifications (frames, pack models, vehicle models, station designs, adapters) are immutable
once stored: packs, vehicles and stations refer to them and past verdicts were made against
them, so a changed spec gets a new id. Assets (organisations, stations with bays and rack
slots, vehicles, packs) are registered here; from then on packs change only through custody
use cases and swaps. Reads are tenant-aware like every read of the operations service.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from openswap.catalog.loader import load_catalog_data
from openswap.domain.assets import Pack, SafetyState, Station, Vehicle
from openswap.domain.catalog import Catalog
from openswap.domain.compatibility import RuleResult, check
from openswap.domain.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    Problem,
)
from openswap.services.billing import TARIFFS
from openswap.services.custody import PackView, pack_view
from openswap.services.model import (
    Actor,
    Custody,
    CustodyKind,
    Organisation,
    OrgRole,
    Role,
    StationRecord,
    VehicleRecord,
)
from openswap.services.operations import (
    OperationsContext,
    PackEvent,
    check_energy,
    check_fraction,
    deny,
    execute,
    record_event,
    station_or_404,
    transact,
    vehicle_or_404,
)
from openswap.services.ports import Spec, UnitOfWork
from openswap.services.queries import readable_pack

MAX_ID_LENGTH = 64  # ids of specifications and assets


class SpecKind(StrEnum):
    """The catalog sections that hold specifications (as in catalog files)."""

    FRAMES = "frames"
    PACK_MODELS = "pack_models"
    VEHICLE_MODELS = "vehicle_models"
    STATION_DESIGNS = "station_designs"
    ADAPTERS = "adapters"


_SPEC_NOUN = {
    SpecKind.FRAMES: "frame",
    SpecKind.PACK_MODELS: "pack model",
    SpecKind.VEHICLE_MODELS: "vehicle model",
    SpecKind.STATION_DESIGNS: "station design",
    SpecKind.ADAPTERS: "adapter",
}


def _table(catalog: Catalog, kind: SpecKind) -> Mapping[str, Spec]:
    table: Mapping[str, Spec] = getattr(catalog, kind.value)
    return table


def _require_admin(actor: Actor, what: str) -> None:
    if actor.role is not Role.ADMIN:
        raise deny(actor, what)


# --- specifications --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DefineSpec:
    """One entry of a catalog section, in the catalog file format (see docs/catalog.md)."""

    kind: SpecKind
    entry: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SpecRef:
    kind: SpecKind
    id: str


def define_spec(
    ctx: OperationsContext, actor: Actor, cmd: DefineSpec, idempotency_key: str
) -> SpecRef:
    """Validate one specification against the stored catalog and store it (admin only).

    Raises `CatalogError` (an `InputError`) naming every bad field (`entry.envelope.length_mm`)
    and `ConflictError` when the id exists already (specifications are immutable).
    """
    _require_admin(actor, f"define {_SPEC_NOUN[cmd.kind]}s")

    def body(uow: UnitOfWork) -> SpecRef:
        stored = uow.catalog.specs()
        ident = cmd.entry.get("id")
        if isinstance(ident, str) and len(ident) > MAX_ID_LENGTH:
            raise InputError([Problem(f"at most {MAX_ID_LENGTH} characters", field="entry.id")])
        if isinstance(ident, str) and ident in _table(stored, cmd.kind):
            raise ConflictError(
                f"{_SPEC_NOUN[cmd.kind]} {ident!r} exists; specifications are immutable, "
                "define the changed one under a new id"
            )
        try:
            merged = load_catalog_data({cmd.kind.value: [cmd.entry]}, stored)
        except InputError as exc:
            prefix = f"{cmd.kind.value}[0]"
            raise InputError(
                [
                    Problem(
                        p.message,
                        field="entry" + (p.field or "").removeprefix(prefix)
                        if p.field
                        else "entry",
                    )
                    for p in exc.problems
                ]
            ) from None
        new = [s for i, s in _table(merged, cmd.kind).items() if i not in _table(stored, cmd.kind)]
        if len(new) != 1:
            raise InputError([Problem("must define exactly one entry", field="entry")])
        uow.catalog.add(new[0])
        return SpecRef(cmd.kind, new[0].id)

    return execute(ctx, actor, idempotency_key, "define_spec", cmd, SpecRef, body)


def list_specs(ctx: OperationsContext, actor: Actor, kind: SpecKind) -> tuple[Spec, ...]:
    """Every stored specification of one kind, by id (any authenticated principal)."""

    def body(uow: UnitOfWork) -> tuple[Spec, ...]:
        table = _table(uow.catalog.specs(), kind)
        return tuple(table[i] for i in sorted(table))

    return transact(ctx, body)


def get_spec(ctx: OperationsContext, actor: Actor, kind: SpecKind, ident: str) -> Spec:
    def body(uow: UnitOfWork) -> Spec:
        spec = _table(uow.catalog.specs(), kind).get(ident)
        if spec is None:
            raise NotFoundError(_SPEC_NOUN[kind], ident)
        return spec

    return transact(ctx, body)


# --- organisations ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateOrganisation:
    id: str
    name: str
    roles: tuple[OrgRole, ...]


def create_organisation(
    ctx: OperationsContext, actor: Actor, cmd: CreateOrganisation, idempotency_key: str
) -> Organisation:
    """Add an organisation (admin only); `ConflictError` when the id exists."""
    _require_admin(actor, "create organisations")
    if not cmd.roles:
        raise InputError([Problem("name at least one role", field="roles")])

    def body(uow: UnitOfWork) -> Organisation:
        if uow.organisations.get(cmd.id) is not None:
            raise ConflictError(f"organisation {cmd.id!r} exists")
        org = Organisation(cmd.id, cmd.name, frozenset(cmd.roles))
        uow.organisations.add(org)
        return org

    return execute(ctx, actor, idempotency_key, "create_organisation", cmd, Organisation, body)


def _may_see_org(actor: Actor, org_id: str) -> bool:
    return actor.role in (Role.ADMIN, Role.AUDITOR) or actor.org_id == org_id


def list_organisations(
    ctx: OperationsContext, actor: Actor, *, role: OrgRole | None = None
) -> tuple[Organisation, ...]:
    """Admin and auditors see every organisation; others their own."""

    def body(uow: UnitOfWork) -> tuple[Organisation, ...]:
        return tuple(
            o
            for o in sorted(uow.organisations.find(), key=lambda o: o.id)
            if _may_see_org(actor, o.id) and (role is None or role in o.roles)
        )

    return transact(ctx, body)


def get_organisation(ctx: OperationsContext, actor: Actor, org_id: str) -> Organisation:
    def body(uow: UnitOfWork) -> Organisation:
        org = uow.organisations.get(org_id)
        if org is None or not _may_see_org(actor, org_id):
            raise NotFoundError("organisation", org_id)
        return org

    return transact(ctx, body)


# --- stations --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateStation:
    """A built station of design `design_id`, run by `operator_org_id`, with the design's bays
    and one rack slot per charger of the design. `km` and `direction` place it on `corridor`;
    fees are CNY per delivered kWh."""

    id: str
    name: str
    design_id: str
    operator_org_id: str
    stocked_models: tuple[str, ...] = ()
    adapter_ids: tuple[str, ...] = ()
    corridor: str | None = None
    km: float | None = None
    direction: str | None = None
    utc_offset_min: int = 480
    tariff: str = "fujian-tou-2024"
    service_fee_cny_per_kwh: float = 0.30
    battery_fee_cny_per_kwh: float = 0.25


@dataclass(frozen=True, slots=True)
class StationView:
    id: str
    name: str
    design_id: str
    swap_type: str
    operator_org_id: str
    stocked_models: tuple[str, ...]
    adapter_ids: tuple[str, ...]
    corridor: str | None
    km: float | None
    direction: str | None
    utc_offset_min: int
    tariff: str
    service_fee_cny_per_kwh: float
    battery_fee_cny_per_kwh: float
    bays: tuple[int, ...]
    slots: int


def station_view(uow: UnitOfWork, rec: StationRecord) -> StationView:
    st = rec.station
    return StationView(
        id=st.id,
        name=st.name,
        design_id=st.design.id,
        swap_type=str(st.design.swap_type),
        operator_org_id=rec.operator_org_id,
        stocked_models=st.stocked_models,
        adapter_ids=tuple(a.id for a in st.adapters),
        corridor=rec.corridor,
        km=rec.km,
        direction=rec.direction,
        utc_offset_min=rec.utc_offset_min,
        tariff=rec.tariff,
        service_fee_cny_per_kwh=rec.service_fee_cny_per_kwh,
        battery_fee_cny_per_kwh=rec.battery_fee_cny_per_kwh,
        bays=tuple(uow.stations.bay_numbers(st.id)),
        slots=len(uow.stations.slots(st.id)),
    )


def _check_fee(value: float, field: str) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= 100.0):
        raise InputError([Problem(f"must be 0..100 CNY per kWh, got {value!r}", field=field)])


def create_station(
    ctx: OperationsContext, actor: Actor, cmd: CreateStation, idempotency_key: str
) -> StationView:
    """Register a station: admin, or an operator for its own organisation."""
    if not (
        actor.role is Role.ADMIN
        or (actor.role is Role.OPERATOR and actor.org_id == cmd.operator_org_id)
    ):
        raise deny(actor, f"create stations for {cmd.operator_org_id!r}")
    _check_fee(cmd.service_fee_cny_per_kwh, "service_fee_cny_per_kwh")
    _check_fee(cmd.battery_fee_cny_per_kwh, "battery_fee_cny_per_kwh")
    if cmd.km is not None and not (math.isfinite(cmd.km) and 0.0 <= cmd.km <= 100_000.0):
        raise InputError([Problem("must be 0..100000 km", field="km")])
    if not -720 <= cmd.utc_offset_min <= 840:
        raise InputError([Problem("must be -720..840 minutes", field="utc_offset_min")])
    if cmd.tariff not in TARIFFS:
        known = ", ".join(sorted(TARIFFS))
        raise InputError([Problem(f"unknown tariff (known: {known})", field="tariff")])

    def body(uow: UnitOfWork) -> StationView:
        if uow.stations.get(cmd.id) is not None:
            raise ConflictError(f"station {cmd.id!r} exists")
        specs = uow.catalog.specs()
        problems: list[Problem] = []
        design = specs.station_designs.get(cmd.design_id)
        if design is None:
            problems.append(Problem("unknown station design", field="design_id"))
        org = uow.organisations.get(cmd.operator_org_id)
        if org is None or OrgRole.OPERATOR not in org.roles:
            problems.append(Problem("no such operator organisation", field="operator_org_id"))
        for i, m in enumerate(cmd.stocked_models):
            if m not in specs.pack_models:
                problems.append(Problem(f"unknown pack model {m!r}", field=f"stocked_models[{i}]"))
        for i, a in enumerate(cmd.adapter_ids):
            if a not in specs.adapters:
                problems.append(Problem(f"unknown adapter {a!r}", field=f"adapter_ids[{i}]"))
        if problems:
            raise InputError(problems)
        assert design is not None
        station = Station(
            cmd.id,
            design,
            cmd.name,
            cmd.stocked_models,
            tuple(specs.adapters[a] for a in cmd.adapter_ids),
        )
        rec = StationRecord(
            station=station,
            operator_org_id=cmd.operator_org_id,
            corridor=cmd.corridor,
            km=cmd.km,
            direction=cmd.direction,
            utc_offset_min=cmd.utc_offset_min,
            tariff=cmd.tariff,
            service_fee_cny_per_kwh=cmd.service_fee_cny_per_kwh,
            battery_fee_cny_per_kwh=cmd.battery_fee_cny_per_kwh,
        )
        slots = [str(c.standard) for c in design.chargers for _ in range(c.count)]
        uow.stations.add(rec, bays=design.bays, slots=slots)
        return station_view(uow, rec)

    return execute(ctx, actor, idempotency_key, "create_station", cmd, StationView, body)


def list_stations(
    ctx: OperationsContext,
    actor: Actor,
    *,
    corridor: str | None = None,
    operator_org_id: str | None = None,
) -> tuple[StationView, ...]:
    """Stations are public infrastructure: every principal may list them (fleets plan with
    them); a station device sees its own station only."""

    def body(uow: UnitOfWork) -> tuple[StationView, ...]:
        found = uow.stations.find(corridor=corridor, operator_org_id=operator_org_id)
        return tuple(
            station_view(uow, s)
            for s in sorted(found, key=lambda s: s.id)
            if actor.role is not Role.STATION or s.id == actor.station_id
        )

    return transact(ctx, body)


def get_station(ctx: OperationsContext, actor: Actor, station_id: str) -> StationView:
    def body(uow: UnitOfWork) -> StationView:
        rec = uow.stations.get(station_id)
        if rec is None or (actor.role is Role.STATION and actor.station_id != station_id):
            raise NotFoundError("station", station_id)
        return station_view(uow, rec)

    return transact(ctx, body)


# --- vehicles --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateVehicle:
    id: str
    model_id: str
    fleet_org_id: str
    pack_count: int
    adapter_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VehicleView:
    id: str
    model_id: str
    fleet_org_id: str
    pack_count: int
    adapter_ids: tuple[str, ...]


def vehicle_view(rec: VehicleRecord) -> VehicleView:
    v = rec.vehicle
    return VehicleView(v.id, v.model.id, v.fleet, v.pack_count, tuple(a.id for a in v.adapters))


def create_vehicle(
    ctx: OperationsContext, actor: Actor, cmd: CreateVehicle, idempotency_key: str
) -> VehicleView:
    """Register a truck: admin, or a fleet for itself. Its pack positions start empty."""
    if not (
        actor.role is Role.ADMIN or (actor.role is Role.FLEET and actor.org_id == cmd.fleet_org_id)
    ):
        raise deny(actor, f"register vehicles of {cmd.fleet_org_id!r}")

    def body(uow: UnitOfWork) -> VehicleView:
        if uow.vehicles.get(cmd.id) is not None:
            raise ConflictError(f"vehicle {cmd.id!r} exists")
        specs = uow.catalog.specs()
        problems: list[Problem] = []
        model = specs.vehicle_models.get(cmd.model_id)
        if model is None:
            problems.append(Problem("unknown vehicle model", field="model_id"))
        elif not 1 <= cmd.pack_count <= model.pack_positions:
            problems.append(
                Problem(f"must be 1..{model.pack_positions} for {model.id}", field="pack_count")
            )
        org = uow.organisations.get(cmd.fleet_org_id)
        if org is None or OrgRole.FLEET not in org.roles:
            problems.append(Problem("no such fleet organisation", field="fleet_org_id"))
        for i, a in enumerate(cmd.adapter_ids):
            if a not in specs.adapters:
                problems.append(Problem(f"unknown adapter {a!r}", field=f"adapter_ids[{i}]"))
        if problems:
            raise InputError(problems)
        assert model is not None
        vehicle = Vehicle(
            cmd.id,
            model,
            cmd.fleet_org_id,
            cmd.pack_count,
            tuple(specs.adapters[a] for a in cmd.adapter_ids),
        )
        uow.vehicles.add(VehicleRecord(vehicle))
        return vehicle_view(VehicleRecord(vehicle))

    return execute(ctx, actor, idempotency_key, "create_vehicle", cmd, VehicleView, body)


def _may_see_vehicle(actor: Actor, rec: VehicleRecord) -> bool:
    # Operators and station devices serve any fleet's trucks (walk-ins), so they read them.
    return actor.role is not Role.FLEET or rec.fleet_org_id == actor.org_id


def list_vehicles(
    ctx: OperationsContext, actor: Actor, *, fleet_org_id: str | None = None
) -> tuple[VehicleView, ...]:
    """Fleets see their own vehicles only."""

    def body(uow: UnitOfWork) -> tuple[VehicleView, ...]:
        fleet = actor.org_id if actor.role is Role.FLEET else fleet_org_id
        if actor.role is Role.FLEET and fleet_org_id not in (None, actor.org_id):
            return ()
        found = uow.vehicles.find(fleet_org_id=fleet)
        return tuple(
            vehicle_view(v) for v in sorted(found, key=lambda v: v.id) if _may_see_vehicle(actor, v)
        )

    return transact(ctx, body)


def get_vehicle(ctx: OperationsContext, actor: Actor, vehicle_id: str) -> VehicleView:
    def body(uow: UnitOfWork) -> VehicleView:
        rec = uow.vehicles.get(vehicle_id)
        if rec is None or not _may_see_vehicle(actor, rec):
            raise NotFoundError("vehicle", vehicle_id)
        return vehicle_view(rec)

    return transact(ctx, body)


# --- packs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterPack:
    """A pack entering the system (commissioning), with its first custodian: a free rack slot
    (`station_id` + `slot_no`), a warehouse, or a free pack position of a vehicle."""

    serial: str
    model_id: str
    owner_org_id: str
    soc: float = 1.0
    soh: float = 1.0
    cycle_count: int = 0
    insulation_resistance_ohm: float | None = None
    max_cell_temp_spread_c: float = 0.0
    station_id: str | None = None
    slot_no: int | None = None
    warehouse_id: str | None = None
    vehicle_id: str | None = None
    position_no: int | None = None


def _first_custodian(uow: UnitOfWork, actor: Actor, cmd: RegisterPack) -> Custody:
    at_station = cmd.station_id is not None or cmd.slot_no is not None
    in_vehicle = cmd.vehicle_id is not None or cmd.position_no is not None
    given = sum((at_station, cmd.warehouse_id is not None, in_vehicle))
    if given != 1:
        raise InputError(
            [
                Problem(
                    "give exactly one of station_id + slot_no, warehouse_id, "
                    "vehicle_id + position_no",
                    field="station_id",
                )
            ]
        )
    if at_station:
        if cmd.station_id is None or cmd.slot_no is None:
            field = "slot_no" if cmd.slot_no is None else "station_id"
            raise InputError([Problem("station_id and slot_no go together", field=field)])
        station = station_or_404(uow, cmd.station_id, lock=True)
        allowed = (
            actor.role is Role.ADMIN
            or (actor.role is Role.OPERATOR and actor.org_id == station.operator_org_id)
            or (actor.role is Role.STATION and actor.station_id == station.id)
        )
        if not allowed:
            raise deny(actor, f"register packs at station {station.id!r}")
        slot = {v.slot_no: v for v in uow.stations.slots(station.id)}.get(cmd.slot_no)
        if slot is None:
            raise NotFoundError("rack slot", f"{station.id}/{cmd.slot_no}")
        if slot.pack_serial is not None:
            raise ConflictError(f"slot {station.id}/{cmd.slot_no} holds pack {slot.pack_serial}")
        return Custody.in_slot(station.id, cmd.slot_no)
    if cmd.warehouse_id is not None:
        wh = uow.warehouses.get(cmd.warehouse_id)
        if wh is None:
            raise NotFoundError("warehouse", cmd.warehouse_id)
        if not (
            actor.role is Role.ADMIN or (actor.role is Role.OPERATOR and actor.org_id == wh.org_id)
        ):
            raise deny(actor, f"register packs in warehouse {wh.id!r}")
        return Custody.in_warehouse(wh.id)
    if cmd.vehicle_id is None or cmd.position_no is None:
        field = "position_no" if cmd.position_no is None else "vehicle_id"
        raise InputError([Problem("vehicle_id and position_no go together", field=field)])
    if actor.role is not Role.ADMIN:
        raise deny(actor, "register packs into vehicles")
    vehicle = vehicle_or_404(uow, cmd.vehicle_id, lock=True)
    if not 1 <= cmd.position_no <= vehicle.vehicle.pack_count:
        raise InputError([Problem(f"must be 1..{vehicle.vehicle.pack_count}", field="position_no")])
    taken = {p.custody.position_no: p.serial for p in uow.packs.in_vehicle(vehicle.id)}
    if cmd.position_no in taken:
        raise ConflictError(
            f"position {vehicle.id}/{cmd.position_no} holds pack {taken[cmd.position_no]}"
        )
    return Custody.in_vehicle(vehicle.id, cmd.position_no)


def register_pack(
    ctx: OperationsContext, actor: Actor, cmd: RegisterPack, idempotency_key: str
) -> PackView:
    """Register a pack with its first custodian and write `PackRegistered`. Admin; operators
    and station devices onto their own sites."""
    check_fraction(cmd.soc, "soc")
    check_fraction(cmd.soh, "soh")
    if cmd.cycle_count < 0:
        raise InputError([Problem("must be >= 0", field="cycle_count")])
    if not (math.isfinite(cmd.max_cell_temp_spread_c) and 0 <= cmd.max_cell_temp_spread_c < 100):
        raise InputError([Problem("must be 0..100 C", field="max_cell_temp_spread_c")])
    check_energy(cmd.insulation_resistance_ohm, "insulation_resistance_ohm")

    def body(uow: UnitOfWork) -> PackView:
        now = ctx.now()
        if actor.role in (Role.FLEET, Role.AUDITOR):
            raise deny(actor, "register packs")
        if uow.packs.get(cmd.serial) is not None:
            raise ConflictError(f"pack {cmd.serial!r} exists")
        problems: list[Problem] = []
        model = uow.catalog.specs().pack_models.get(cmd.model_id)
        if model is None:
            problems.append(Problem("unknown pack model", field="model_id"))
        if uow.organisations.get(cmd.owner_org_id) is None:
            problems.append(Problem("unknown organisation", field="owner_org_id"))
        if problems:
            raise InputError(problems)
        assert model is not None
        custody = _first_custodian(uow, actor, cmd)
        insulation = (
            cmd.insulation_resistance_ohm
            if cmd.insulation_resistance_ohm is not None
            else model.insulation_rating_ohm_per_v * model.max_voltage_v
        )
        pack = Pack(
            serial=cmd.serial,
            model=model,
            owner=cmd.owner_org_id,
            soc=cmd.soc,
            soh=cmd.soh,
            cycle_count=cmd.cycle_count,
            safety_state=SafetyState.OK,
            insulation_resistance_ohm=insulation,
            max_cell_temp_spread_c=cmd.max_cell_temp_spread_c,
        )
        uow.packs.add(pack, custody, now)
        record_event(
            ctx,
            uow,
            PackEvent.REGISTERED,
            pack.serial,
            {
                "pack_model": model.id,
                "owner": pack.owner,
                "to": custody.to_dict(),
                "soh": pack.soh,
                "cycle_count": pack.cycle_count,
            },
            now,
        )
        rec = uow.packs.get(pack.serial)
        assert rec is not None
        return pack_view(uow, rec)

    return execute(ctx, actor, idempotency_key, "register_pack", cmd, PackView, body)


def list_packs(
    ctx: OperationsContext,
    actor: Actor,
    *,
    station_id: str | None = None,
    vehicle_id: str | None = None,
    pack_model: str | None = None,
    owner_org_id: str | None = None,
    custody: CustodyKind | None = None,
    safety_state: SafetyState | None = None,
) -> tuple[PackView, ...]:
    """The packs the actor may read (fleets: those they own or carry), by serial."""

    def body(uow: UnitOfWork) -> tuple[PackView, ...]:
        if station_id is not None:
            found = uow.packs.at_station(station_id)
        elif vehicle_id is not None:
            found = uow.packs.in_vehicle(vehicle_id)
        else:
            found = uow.packs.all()
        out = []
        for rec in sorted(found, key=lambda r: r.serial):
            p = rec.pack
            if (
                (vehicle_id is not None and rec.custody.vehicle_id != vehicle_id)
                or (pack_model is not None and p.model.id != pack_model)
                or (owner_org_id is not None and p.owner != owner_org_id)
                or (custody is not None and rec.custody.kind is not custody)
                or (safety_state is not None and p.safety_state is not safety_state)
                or not readable_pack(uow, actor, rec)
            ):
                continue
            out.append(pack_view(uow, rec))
        return tuple(out)

    return transact(ctx, body)


# --- compatibility ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckCompatibility:
    vehicle_id: str
    pack_serial: str
    station_id: str
    need_kwh: float | None = None


@dataclass(frozen=True, slots=True)
class CompatibilityView:
    """The verdict: compatible only when every rule passed; one result per rule, in order."""

    compatible: bool
    vehicle_id: str
    pack_serial: str
    station_id: str
    need_kwh: float | None
    results: tuple[RuleResult, ...]
    failed: tuple[str, ...]


def check_compatibility(
    ctx: OperationsContext, actor: Actor, cmd: CheckCompatibility
) -> CompatibilityView:
    """Run every compatibility rule and safety interlock for one pack, vehicle and station,
    with the pack's current state. Fleets may check their own vehicles only; the pack must be
    readable by the actor or on a station's rack."""
    check_energy(cmd.need_kwh, "need_kwh")

    def body(uow: UnitOfWork) -> CompatibilityView:
        vehicle = uow.vehicles.get(cmd.vehicle_id)
        if vehicle is None or not _may_see_vehicle(actor, vehicle):
            raise NotFoundError("vehicle", cmd.vehicle_id)
        station = station_or_404(uow, cmd.station_id)
        pack = uow.packs.get(cmd.pack_serial)
        if pack is None or not (
            pack.custody.kind is CustodyKind.SLOT or readable_pack(uow, actor, pack)
        ):
            raise NotFoundError("pack", cmd.pack_serial)
        verdict = check(vehicle.vehicle, pack.pack, station.station, cmd.need_kwh, ctx.rules)
        return CompatibilityView(
            compatible=verdict.compatible,
            vehicle_id=vehicle.id,
            pack_serial=pack.serial,
            station_id=station.id,
            need_kwh=cmd.need_kwh,
            results=verdict.results,
            failed=tuple(r.rule for r in verdict.failed),
        )

    return transact(ctx, body)
