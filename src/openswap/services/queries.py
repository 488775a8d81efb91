"""Read-side use cases: packs and their history, station inventory, bills, the outbox feed.

Reads are tenant-aware: a fleet sees only what concerns its own vehicles (anything else reads
as not found), an operator its own stations, a station device its own station.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from openswap.domain.errors import NotFoundError
from openswap.services.custody import PackView, pack_view
from openswap.services.model import (
    Actor,
    BillRecord,
    CustodyKind,
    OutboxEvent,
    PackRecord,
    Role,
)
from openswap.services.operations import OperationsContext, deny, station_or_404, transact
from openswap.services.ports import UnitOfWork

SOC_BANDS = (
    (0.9, "0.90-1.00"),
    (0.8, "0.80-0.90"),
    (0.5, "0.50-0.80"),
    (0.2, "0.20-0.50"),
    (0.0, "0.00-0.20"),
)


def soc_band(soc: float) -> str:
    """The SoC band a pack falls in, for inventory counts."""
    return next(label for low, label in SOC_BANDS if soc >= low)


@dataclass(frozen=True, slots=True)
class SlotInventory:
    slot_no: int
    charger_standard: str | None
    pack: PackView | None


@dataclass(frozen=True, slots=True)
class StockCount:
    """How many packs of one model sit on the rack in one SoC band (held ones included)."""

    pack_model: str
    soc_band: str
    packs: int
    held: int


@dataclass(frozen=True, slots=True)
class StationInventory:
    station_id: str
    slots: tuple[SlotInventory, ...]
    stock: tuple[StockCount, ...]
    free_slots: int


def readable_pack(uow: UnitOfWork, actor: Actor, rec: PackRecord) -> bool:
    if actor.role in (Role.ADMIN, Role.AUDITOR, Role.OPERATOR):
        return True
    if actor.role is Role.STATION:
        return rec.custody.station_id == actor.station_id
    # fleets: packs they own or carry
    if rec.pack.owner == actor.org_id:
        return True
    if rec.custody.kind is CustodyKind.VEHICLE and rec.custody.vehicle_id is not None:
        v = uow.vehicles.get(rec.custody.vehicle_id)
        return v is not None and v.fleet_org_id == actor.org_id
    return False


def get_pack(ctx: OperationsContext, actor: Actor, serial: str) -> PackView:
    def body(uow: UnitOfWork) -> PackView:
        rec = uow.packs.get(serial)
        if rec is None or not readable_pack(uow, actor, rec):
            raise NotFoundError("pack", serial)
        return pack_view(uow, rec)

    return transact(ctx, body)


def pack_history(ctx: OperationsContext, actor: Actor, serial: str) -> tuple[OutboxEvent, ...]:
    """Every lifecycle event of a pack, oldest first (custody, safety, retirement)."""

    def body(uow: UnitOfWork) -> tuple[OutboxEvent, ...]:
        rec = uow.packs.get(serial)
        if rec is None or not readable_pack(uow, actor, rec):
            raise NotFoundError("pack", serial)
        return tuple(uow.outbox.for_pack(serial))

    return transact(ctx, body)


def station_inventory(ctx: OperationsContext, actor: Actor, station_id: str) -> StationInventory:
    """Every slot with its pack, and charged stock by model and SoC band. Any authenticated
    principal may read it (fleets plan with it; it names no tenant)."""

    def body(uow: UnitOfWork) -> StationInventory:
        station_or_404(uow, station_id)
        by_serial = {r.serial: r for r in uow.packs.at_station(station_id)}
        held = uow.reservations.held_serials(list(by_serial))
        views = {s: pack_view(uow, r) for s, r in by_serial.items()}
        slots = tuple(
            SlotInventory(v.slot_no, v.charger_standard, views.get(v.pack_serial or ""))
            for v in uow.stations.slots(station_id)
        )
        count: Counter[tuple[str, str]] = Counter()
        held_count: Counter[tuple[str, str]] = Counter()
        for s, r in by_serial.items():
            key = (r.pack.model.id, soc_band(r.pack.soc))
            count[key] += 1
            held_count[key] += s in held
        stock = tuple(
            StockCount(model, band, count[(model, band)], held_count[(model, band)])
            for model, band in sorted(count)
        )
        return StationInventory(station_id, slots, stock, sum(1 for s in slots if s.pack is None))

    return transact(ctx, body)


def get_bill(ctx: OperationsContext, actor: Actor, swap_id: str) -> BillRecord:
    """The bill of a completed swap: the paying fleet, payees, the admin and auditors see it."""

    def body(uow: UnitOfWork) -> BillRecord:
        bill = uow.bills.for_swap(swap_id)
        if bill is None:
            raise NotFoundError("bill for swap", swap_id)
        if actor.role in (Role.ADMIN, Role.AUDITOR):
            return bill
        if actor.role is Role.STATION:
            # A device acts for one station, not for its whole operator.
            swap = uow.swaps.get(swap_id)
            if swap is not None and swap.station_id == actor.station_id:
                return bill
            raise NotFoundError("bill for swap", swap_id)
        if actor.org_id is not None and (
            actor.org_id == bill.payer_org_id
            or any(line.payee_org_id == actor.org_id for line in bill.lines)
        ):
            return bill
        raise NotFoundError("bill for swap", swap_id)

    return transact(ctx, body)


def list_bills(ctx: OperationsContext, actor: Actor) -> tuple[BillRecord, ...]:
    """Bills the actor pays or is paid by (all for admin and auditors)."""

    def body(uow: UnitOfWork) -> tuple[BillRecord, ...]:
        bills = uow.bills.find()
        if actor.role in (Role.ADMIN, Role.AUDITOR):
            return tuple(bills)
        if actor.org_id is None:
            raise deny(actor, "list bills")
        if actor.role is Role.STATION:
            return tuple(
                b
                for b in bills
                if (swap := uow.swaps.get(b.swap_id)) is not None
                and swap.station_id == actor.station_id
            )
        return tuple(
            b
            for b in bills
            if b.payer_org_id == actor.org_id
            or any(ln.payee_org_id == actor.org_id for ln in b.lines)
        )

    return transact(ctx, body)


# --- outbox feed (the ledger's consumer) -----------------------------------------------------


def pending_events(ctx: OperationsContext, limit: int = 1000) -> tuple[OutboxEvent, ...]:
    """The oldest unpublished lifecycle events, in outbox order."""
    return transact(ctx, lambda uow: tuple(uow.outbox.unpublished(limit)))


def mark_published(ctx: OperationsContext, seqs: list[int], at: datetime | None = None) -> int:
    """Mark outbox events published (after the ledger appended them); idempotent."""
    when = at or ctx.now()
    return transact(ctx, lambda uow: uow.outbox.mark_published(seqs, when))
