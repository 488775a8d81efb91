"""Custody use cases: move, ship, receive, quarantine, release, retire, and pack readings.

Custody changes only here and in `swaps`. Each use case is one transaction that changes the
pack's single custodian (or safety state) and writes its lifecycle event to the outbox. A held
pack cannot be moved, shipped or retired (cancel the reservation first); quarantine always
succeeds, because safety comes first: it cancels the reservation holding the pack and aborts
the swap using it. Station locks are taken before pack locks, as in `swaps`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from openswap.domain.assets import SafetyState
from openswap.domain.errors import (
    ConflictError,
    InputError,
    InvalidTransitionError,
    NotFoundError,
    Problem,
)
from openswap.services.model import (
    Actor,
    Custody,
    CustodyKind,
    PackRecord,
    ReservationState,
    Role,
    ShipmentRecord,
    ShipmentState,
)
from openswap.services.operations import (
    OperationsContext,
    PackEvent,
    check_fraction,
    custody_change,
    deny,
    execute,
    record_event,
    require_custody_role,
    site_org,
    station_or_404,
)
from openswap.services.ports import UnitOfWork
from openswap.services.swaps import abort_in

# --- commands and results --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MovePack:
    """Relocate a pack on one site: to rack slot `to_slot_no` of `to_station_id` (the same
    station when it is on a rack now), or into warehouse `to_warehouse_id`."""

    serial: str
    to_station_id: str | None = None
    to_slot_no: int | None = None
    to_warehouse_id: str | None = None


@dataclass(frozen=True, slots=True)
class ShipPacks:
    """Put packs (from racks or warehouses) on a truck to a station or a warehouse."""

    serials: tuple[str, ...]
    carrier: str
    to_station_id: str | None = None
    to_warehouse_id: str | None = None


@dataclass(frozen=True, slots=True)
class Placement:
    serial: str
    slot_no: int


@dataclass(frozen=True, slots=True)
class ReceiveShipment:
    """Unload a shipment at its destination; at a station, packs without a placement go to the
    lowest free slots."""

    shipment_id: str
    placements: tuple[Placement, ...] = ()


@dataclass(frozen=True, slots=True)
class QuarantinePack:
    serial: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReleasePack:
    serial: str
    note: str = "released after inspection"


@dataclass(frozen=True, slots=True)
class RetirePack:
    serial: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecordPackReading:
    """Measured state from a BMS or a test bench; None leaves a field as it is. Safety state
    may be set to ok or alarm here; quarantine has its own use case."""

    serial: str
    soc: float | None = None
    soh: float | None = None
    cycle_count: int | None = None
    insulation_resistance_ohm: float | None = None
    max_cell_temp_spread_c: float | None = None
    safety_state: SafetyState | None = None


@dataclass(frozen=True, slots=True)
class PackView:
    serial: str
    pack_model: str
    owner_org_id: str
    soc: float
    soh: float
    cycle_count: int
    safety_state: SafetyState
    insulation_resistance_ohm: float
    max_cell_temp_spread_c: float
    available_energy_kwh: float
    custody: Custody
    custody_since: datetime
    held_by: str | None


@dataclass(frozen=True, slots=True)
class ShipmentView:
    id: str
    state: ShipmentState
    carrier: str
    destination_station_id: str | None
    destination_warehouse_id: str | None
    shipped_at: datetime
    received_at: datetime | None
    packs: tuple[PackView, ...]


def pack_view(uow: UnitOfWork, rec: PackRecord) -> PackView:
    p = rec.pack
    holder = uow.reservations.open_holding(p.serial)
    return PackView(
        serial=p.serial,
        pack_model=p.model.id,
        owner_org_id=p.owner,
        soc=p.soc,
        soh=p.soh,
        cycle_count=p.cycle_count,
        safety_state=p.safety_state,
        insulation_resistance_ohm=p.insulation_resistance_ohm,
        max_cell_temp_spread_c=p.max_cell_temp_spread_c,
        available_energy_kwh=round(p.available_energy_kwh, 3),
        custody=rec.custody,
        custody_since=rec.custody_since,
        held_by=None if holder is None else holder.id,
    )


# --- helpers ---------------------------------------------------------------------------------


def _station_of(custody: Custody) -> str | None:
    return custody.station_id if custody.kind in (CustodyKind.SLOT, CustodyKind.BAY) else None


def _locked_pack(
    uow: UnitOfWork, serial: str, extra_stations: tuple[str | None, ...] = ()
) -> PackRecord:
    """Lock the stations involved (id order), then the pack; the pack as it is now."""
    seen = uow.packs.get(serial)
    if seen is None:
        raise NotFoundError("pack", serial)
    holder = uow.reservations.open_holding(serial)
    stations = {_station_of(seen.custody), holder.station_id if holder else None, *extra_stations}
    for sid in sorted(s for s in stations if s is not None):
        station_or_404(uow, sid, lock=True)
    locked = uow.packs.get(serial, for_update=True)
    assert locked is not None
    return locked


def _not_retired(rec: PackRecord, action: str) -> None:
    if rec.custody.kind is CustodyKind.RETIRED:
        raise InvalidTransitionError("pack", rec.serial, "retired", action)


def _not_held(uow: UnitOfWork, rec: PackRecord, action: str) -> None:
    holder = uow.reservations.open_holding(rec.serial)
    if holder is not None:
        raise ConflictError(
            f"cannot {action} pack {rec.serial}: it is held by reservation {holder.id} "
            f"({holder.state}); cancel the reservation first"
        )


def _on_site(rec: PackRecord, action: str) -> None:
    """Only packs on a rack or in a warehouse can be moved, shipped or retired."""
    if rec.custody.kind not in (CustodyKind.SLOT, CustodyKind.WAREHOUSE):
        hint = {
            CustodyKind.VEHICLE: "packs leave vehicles by a swap",
            CustodyKind.SHIPMENT: "receive the shipment first",
            CustodyKind.BAY: "a swap is moving it",
        }.get(rec.custody.kind, "")
        raise ConflictError(
            f"cannot {action} pack {rec.serial} in {rec.custody.describe()}"
            + (f": {hint}" if hint else "")
        )


def _free_slot(uow: UnitOfWork, station_id: str, slot_no: int) -> Custody:
    slots = {v.slot_no: v for v in uow.stations.slots(station_id)}
    slot = slots.get(slot_no)
    if slot is None:
        raise NotFoundError("rack slot", f"{station_id}/{slot_no}")
    if slot.pack_serial is not None:
        raise ConflictError(f"slot {station_id}/{slot_no} holds pack {slot.pack_serial}")
    return Custody.in_slot(station_id, slot_no)


def _one_destination(station_id: str | None, warehouse_id: str | None, what: str) -> None:
    if (station_id is None) == (warehouse_id is None):
        raise InputError(
            [Problem(f"{what}: give exactly one of a station and a warehouse", field="to")]
        )


# --- use cases -------------------------------------------------------------------------------


def move_pack(
    ctx: OperationsContext, actor: Actor, cmd: MovePack, idempotency_key: str
) -> PackView:
    """Relocate a pack on one site. Raises `NotFoundError`, `PermissionDeniedError`,
    `InputError` (no or two destinations, slot without station), `ConflictError` (held, in a
    vehicle or shipment, slot taken, another station: ship instead), `InvalidTransitionError`
    (retired)."""
    _one_destination(cmd.to_station_id, cmd.to_warehouse_id, "move")
    if cmd.to_station_id is not None and cmd.to_slot_no is None:
        raise InputError([Problem("required with to_station_id", field="to_slot_no")])

    def body(uow: UnitOfWork) -> PackView:
        now = ctx.now()
        rec = _locked_pack(uow, cmd.serial, (cmd.to_station_id,))
        require_custody_role(uow, actor, rec.custody, "move")
        _not_retired(rec, "move")
        _on_site(rec, "move")
        _not_held(uow, rec, "move")
        if cmd.to_station_id is not None and cmd.to_slot_no is not None:
            src = _station_of(rec.custody)
            if src is not None and src != cmd.to_station_id:
                raise ConflictError(
                    f"pack {rec.serial} is at station {src}; ship it to {cmd.to_station_id}"
                )
            target = _free_slot(uow, cmd.to_station_id, cmd.to_slot_no)
        else:
            assert cmd.to_warehouse_id is not None
            if uow.warehouses.get(cmd.to_warehouse_id) is None:
                raise NotFoundError("warehouse", cmd.to_warehouse_id)
            target = Custody.in_warehouse(cmd.to_warehouse_id)
        if target == rec.custody:
            raise ConflictError(f"pack {rec.serial} is already in {target.describe()}")
        require_custody_role(uow, actor, target, "move into")
        uow.packs.set_custody(rec.serial, target, now)
        record_event(
            ctx, uow, PackEvent.MOVED, rec.serial, custody_change(rec.custody, target), now
        )
        return _view(uow, rec.serial)

    return execute(ctx, actor, idempotency_key, "move_pack", cmd, PackView, body)


def ship_packs(
    ctx: OperationsContext, actor: Actor, cmd: ShipPacks, idempotency_key: str
) -> ShipmentView:
    """Ship packs to a station or a warehouse: their custodian becomes the shipment."""
    _one_destination(cmd.to_station_id, cmd.to_warehouse_id, "ship")
    if not cmd.serials or len(set(cmd.serials)) != len(cmd.serials):
        raise InputError([Problem("must list distinct pack serials", field="serials")])

    def body(uow: UnitOfWork) -> ShipmentView:
        now = ctx.now()
        if cmd.to_station_id is not None:
            station_or_404(uow, cmd.to_station_id)
        if cmd.to_warehouse_id is not None and uow.warehouses.get(cmd.to_warehouse_id) is None:
            raise NotFoundError("warehouse", cmd.to_warehouse_id)
        before = {p.serial: p for p in uow.packs.get_many(list(cmd.serials))}
        missing = sorted(set(cmd.serials) - set(before))
        if missing:
            raise NotFoundError("pack", missing[0])
        for sid in sorted({s for p in before.values() if (s := _station_of(p.custody))}):
            station_or_404(uow, sid, lock=True)
        packs = uow.packs.get_many(list(cmd.serials), for_update=True)
        for rec in packs:
            require_custody_role(uow, actor, rec.custody, "ship")
            _not_retired(rec, "ship")
            _on_site(rec, "ship")
            _not_held(uow, rec, "ship")
        shipment = ShipmentRecord(
            id=ctx.ids.new_id("shp_"),
            carrier=cmd.carrier,
            destination_station_id=cmd.to_station_id,
            destination_warehouse_id=cmd.to_warehouse_id,
            state=ShipmentState.IN_TRANSIT,
            shipped_at=now,
        )
        uow.shipments.add(shipment)
        target = Custody.in_shipment(shipment.id)
        for rec in packs:
            uow.packs.set_custody(rec.serial, target, now)
            record_event(
                ctx, uow, PackEvent.SHIPPED, rec.serial, custody_change(rec.custody, target), now
            )
        return _shipment_view(uow, shipment, [p.serial for p in packs])

    return execute(ctx, actor, idempotency_key, "ship_packs", cmd, ShipmentView, body)


def receive_shipment(
    ctx: OperationsContext, actor: Actor, cmd: ReceiveShipment, idempotency_key: str
) -> ShipmentView:
    """Unload an in-transit shipment at its destination (racks or warehouse)."""

    def body(uow: UnitOfWork) -> ShipmentView:
        now = ctx.now()
        seen = uow.shipments.get(cmd.shipment_id)
        if seen is None:
            raise NotFoundError("shipment", cmd.shipment_id)
        dest_station = seen.destination_station_id
        if dest_station is not None:
            station_or_404(uow, dest_station, lock=True)
        shipment = uow.shipments.get(cmd.shipment_id, for_update=True)
        assert shipment is not None
        allowed = (
            actor.role is Role.ADMIN
            or (actor.role is Role.OPERATOR and site_org(uow, shipment.id) == actor.org_id)
            or (
                actor.role is Role.STATION
                and dest_station is not None
                and actor.station_id == dest_station
            )
        )
        if not allowed:
            raise deny(actor, f"receive shipment {shipment.id}")
        if shipment.state is not ShipmentState.IN_TRANSIT:
            raise InvalidTransitionError("shipment", shipment.id, shipment.state.value, "receive")
        packs = uow.packs.get_many(
            [p.serial for p in uow.packs.in_shipment(shipment.id)], for_update=True
        )
        serials = [p.serial for p in packs]
        placed = {p.serial: p.slot_no for p in cmd.placements}
        strangers = sorted(set(placed) - set(serials))
        if strangers:
            raise InputError(
                [
                    Problem(f"pack {s} is not in shipment {shipment.id}", field="placements")
                    for s in strangers
                ]
            )
        if dest_station is not None:
            free = [v.slot_no for v in uow.stations.slots(dest_station) if v.pack_serial is None]
            auto = [n for n in free if n not in placed.values()]
            targets: dict[str, Custody] = {}
            for serial in serials:
                if serial in placed:
                    targets[serial] = _free_slot(uow, dest_station, placed[serial])
                elif auto:
                    targets[serial] = Custody.in_slot(dest_station, auto.pop(0))
                else:
                    raise ConflictError(
                        f"station {dest_station} has no free slot for pack {serial}"
                    )
        else:
            assert shipment.destination_warehouse_id is not None
            targets = {s: Custody.in_warehouse(shipment.destination_warehouse_id) for s in serials}
        for rec in packs:
            uow.packs.set_custody(rec.serial, targets[rec.serial], now)
            record_event(
                ctx,
                uow,
                PackEvent.RECEIVED,
                rec.serial,
                custody_change(rec.custody, targets[rec.serial]),
                now,
            )
        done = replace(shipment, state=ShipmentState.RECEIVED, received_at=now)
        uow.shipments.update(done)
        return _shipment_view(uow, done, serials)

    return execute(ctx, actor, idempotency_key, "receive_shipment", cmd, ShipmentView, body)


def quarantine_pack(
    ctx: OperationsContext, actor: Actor, cmd: QuarantinePack, idempotency_key: str
) -> PackView:
    """Quarantine a pack where it is: it is never swapped in again until released. A
    reservation holding it is cancelled and a swap using it aborted, in the same transaction.
    """

    def body(uow: UnitOfWork) -> PackView:
        now = ctx.now()
        rec = _locked_pack(uow, cmd.serial)
        require_custody_role(uow, actor, rec.custody, "quarantine")
        _not_retired(rec, "quarantine")
        if rec.pack.safety_state is SafetyState.QUARANTINED:
            raise InvalidTransitionError("pack", rec.serial, "quarantined", "quarantine")
        holder = uow.reservations.open_holding(rec.serial)
        if holder is not None:
            why = f"pack {rec.serial} quarantined: {cmd.reason}"
            if holder.state is ReservationState.IN_USE:
                swap = uow.swaps.started_for_vehicle(holder.vehicle_id)
                if swap is not None:
                    abort_in(uow, swap, why, now)
            fresh = uow.reservations.get(holder.id, for_update=True)
            if fresh is not None and fresh.state is ReservationState.ACTIVE:
                uow.reservations.set_state(fresh.id, ReservationState.CANCELLED, at=now, reason=why)
        uow.packs.set_state(replace(rec.pack, safety_state=SafetyState.QUARANTINED))
        record_event(
            ctx,
            uow,
            PackEvent.QUARANTINED,
            rec.serial,
            {
                "reason": cmd.reason,
                "custody": rec.custody.to_dict(),
                "before": str(rec.pack.safety_state),
            },
            now,
        )
        return _view(uow, rec.serial)

    return execute(ctx, actor, idempotency_key, "quarantine_pack", cmd, PackView, body)


def release_pack(
    ctx: OperationsContext, actor: Actor, cmd: ReleasePack, idempotency_key: str
) -> PackView:
    """Release a quarantined pack (safety state back to ok; the interlocks still apply)."""

    def body(uow: UnitOfWork) -> PackView:
        now = ctx.now()
        rec = _locked_pack(uow, cmd.serial)
        require_custody_role(uow, actor, rec.custody, "release")
        _not_retired(rec, "release")
        if rec.pack.safety_state is not SafetyState.QUARANTINED:
            raise InvalidTransitionError("pack", rec.serial, str(rec.pack.safety_state), "release")
        uow.packs.set_state(replace(rec.pack, safety_state=SafetyState.OK))
        record_event(
            ctx,
            uow,
            PackEvent.RELEASED,
            rec.serial,
            {"note": cmd.note, "custody": rec.custody.to_dict()},
            now,
        )
        return _view(uow, rec.serial)

    return execute(ctx, actor, idempotency_key, "release_pack", cmd, PackView, body)


def retire_pack(
    ctx: OperationsContext, actor: Actor, cmd: RetirePack, idempotency_key: str
) -> PackView:
    """Retire a pack from a rack or warehouse (final: recycling or second life)."""

    def body(uow: UnitOfWork) -> PackView:
        now = ctx.now()
        rec = _locked_pack(uow, cmd.serial)
        require_custody_role(uow, actor, rec.custody, "retire")
        _not_retired(rec, "retire")
        _on_site(rec, "retire")
        _not_held(uow, rec, "retire")
        target = Custody.retired()
        uow.packs.set_custody(rec.serial, target, now)
        record_event(
            ctx,
            uow,
            PackEvent.RETIRED,
            rec.serial,
            custody_change(
                rec.custody,
                target,
                reason=cmd.reason,
                soh=rec.pack.soh,
                cycle_count=rec.pack.cycle_count,
            ),
            now,
        )
        return _view(uow, rec.serial)

    return execute(ctx, actor, idempotency_key, "retire_pack", cmd, PackView, body)


def record_pack_reading(
    ctx: OperationsContext, actor: Actor, cmd: RecordPackReading, idempotency_key: str
) -> PackView:
    """Store measured pack state (telemetry; no custody change and no lifecycle event)."""
    if cmd.soc is not None:
        check_fraction(cmd.soc, "soc")
    if cmd.soh is not None:
        check_fraction(cmd.soh, "soh")
    if cmd.cycle_count is not None and cmd.cycle_count < 0:
        raise InputError([Problem("must be >= 0", field="cycle_count")])
    if cmd.safety_state is SafetyState.QUARANTINED:
        raise InputError([Problem("use the quarantine command", field="safety_state")])

    def body(uow: UnitOfWork) -> PackView:
        rec = _locked_pack(uow, cmd.serial)
        require_custody_role(uow, actor, rec.custody, "record readings of")
        _not_retired(rec, "record a reading of")
        p = rec.pack
        if cmd.safety_state is not None and p.safety_state is SafetyState.QUARANTINED:
            raise InvalidTransitionError(
                "pack", p.serial, "quarantined", "set the safety state of", "release it first"
            )
        new = replace(
            p,
            soc=p.soc if cmd.soc is None else cmd.soc,
            soh=p.soh if cmd.soh is None else cmd.soh,
            cycle_count=p.cycle_count if cmd.cycle_count is None else cmd.cycle_count,
            insulation_resistance_ohm=(
                p.insulation_resistance_ohm
                if cmd.insulation_resistance_ohm is None
                else cmd.insulation_resistance_ohm
            ),
            max_cell_temp_spread_c=(
                p.max_cell_temp_spread_c
                if cmd.max_cell_temp_spread_c is None
                else cmd.max_cell_temp_spread_c
            ),
            safety_state=p.safety_state if cmd.safety_state is None else cmd.safety_state,
        )
        uow.packs.set_state(new)
        return _view(uow, p.serial)

    return execute(ctx, actor, idempotency_key, "record_pack_reading", cmd, PackView, body)


def _view(uow: UnitOfWork, serial: str) -> PackView:
    rec = uow.packs.get(serial)
    if rec is None:
        raise NotFoundError("pack", serial)
    return pack_view(uow, rec)


def _shipment_view(uow: UnitOfWork, shipment: ShipmentRecord, serials: list[str]) -> ShipmentView:
    return ShipmentView(
        id=shipment.id,
        state=shipment.state,
        carrier=shipment.carrier,
        destination_station_id=shipment.destination_station_id,
        destination_warehouse_id=shipment.destination_warehouse_id,
        shipped_at=shipment.shipped_at,
        received_at=shipment.received_at,
        packs=tuple(pack_view(uow, r) for r in uow.packs.get_many(serials)),
    )
