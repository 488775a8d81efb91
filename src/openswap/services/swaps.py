"""Swap transactions: started -> completed | aborted.

`start_swap` puts a vehicle in a bay against its reservation (or as a walk-in, which selects
and holds packs on the spot) and re-checks compatibility and the safety interlocks with the
packs' current state. `complete_swap` moves, in one transaction, the vehicle's packs to free
rack slots and the held packs into the vehicle, records SoC and energy, fulfils the
reservation, writes the bill and one `PackSwapped` event per pack. `abort_swap` changes
nothing but the swap's state (a booked reservation becomes active again; a walk-in's is
cancelled). Locks are taken in one order: station, vehicle, swap, packs (by serial).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from openswap.domain.assets import Pack
from openswap.domain.compatibility import check
from openswap.domain.errors import (
    ConflictError,
    InputError,
    InvalidTransitionError,
    NotFoundError,
    Problem,
    SwapRefusedError,
)
from openswap.services.billing import build_bill
from openswap.services.model import (
    Actor,
    BillRecord,
    Custody,
    CustodyKind,
    Hold,
    PackRecord,
    ReservationRecord,
    ReservationState,
    Role,
    StationRecord,
    SwapLine,
    SwapRecord,
    SwapState,
)
from openswap.services.operations import (
    OperationsContext,
    PackEvent,
    check_energy,
    check_fraction,
    custody_change,
    execute,
    record_event,
    require_station_role,
    station_or_404,
    transact,
    vehicle_or_404,
)
from openswap.services.ports import UnitOfWork
from openswap.services.reservations import choose_packs, expire_due, expire_if_due

# --- commands and results --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartSwap:
    """Vehicle `vehicle_id` stands in bay `bay_no` of `station_id`. With `reservation_id` None
    the vehicle's open reservation at this station is used, else it is served as a walk-in.
    `need_kwh` (whole vehicle, next leg) overrides the reservation's need when given."""

    station_id: str
    bay_no: int
    vehicle_id: str
    reservation_id: str | None = None
    need_kwh: float | None = None


@dataclass(frozen=True, slots=True)
class PackReading:
    """SoC (0..1) a pack's BMS reported at the robot when it came out of or went into the
    vehicle."""

    serial: str
    soc: float


@dataclass(frozen=True, slots=True)
class OutgoingSlot:
    """The rack slot a station reports it put an outgoing pack in (default: the slot its
    replacement left)."""

    serial: str
    slot_no: int


@dataclass(frozen=True, slots=True)
class CompleteSwap:
    swap_id: str
    readings: tuple[PackReading, ...] = ()
    slots_out: tuple[OutgoingSlot, ...] = ()


@dataclass(frozen=True, slots=True)
class AbortSwap:
    swap_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class SwapView:
    id: str
    state: SwapState
    station_id: str
    bay_no: int
    vehicle_id: str
    reservation_id: str
    started_at: datetime
    finished_at: datetime | None
    need_kwh: float | None
    energy_delivered_kwh: float | None
    abort_reason: str | None
    lines: tuple[SwapLine, ...]
    bill: BillRecord | None


def swap_view(rec: SwapRecord, bill: BillRecord | None = None) -> SwapView:
    return SwapView(
        id=rec.id,
        state=rec.state,
        station_id=rec.station_id,
        bay_no=rec.bay_no,
        vehicle_id=rec.vehicle_id,
        reservation_id=rec.reservation_id,
        started_at=rec.started_at,
        finished_at=rec.finished_at,
        need_kwh=rec.need_kwh,
        energy_delivered_kwh=rec.energy_delivered_kwh,
        abort_reason=rec.abort_reason,
        lines=rec.lines,
        bill=bill,
    )


def _energy_kwh(pack: Pack, soc: float) -> float:
    return pack.model.usable_energy_kwh * pack.soh * soc


# --- start -----------------------------------------------------------------------------------


def _reservation_for(
    ctx: OperationsContext,
    uow: UnitOfWork,
    cmd: StartSwap,
    station: StationRecord,
    now: datetime,
) -> ReservationRecord:
    """The reservation this swap serves: the named one, the vehicle's open one here, or a new
    walk-in reservation holding freshly selected packs."""
    vehicle = vehicle_or_404(uow, cmd.vehicle_id, lock=True)
    rec: ReservationRecord | None
    if cmd.reservation_id is not None:
        rec = uow.reservations.get(cmd.reservation_id, for_update=True)
        if rec is None:
            raise NotFoundError("reservation", cmd.reservation_id)
        if rec.vehicle_id != vehicle.id or rec.station_id != station.id:
            raise ConflictError(
                f"reservation {rec.id} is for vehicle {rec.vehicle_id} at station "
                f"{rec.station_id}, not {vehicle.id} at {station.id}"
            )
        rec = expire_if_due(uow, rec, now)
        if rec.state is not ReservationState.ACTIVE:
            raise InvalidTransitionError("reservation", rec.id, rec.state.value, "start a swap on")
    else:
        found = uow.reservations.open_for_vehicle(vehicle.id)
        rec = None if found is None else uow.reservations.get(found.id, for_update=True)
        if rec is not None:
            rec = expire_if_due(uow, rec, now)
            if rec.state is not ReservationState.ACTIVE:
                rec = None  # expired: serve as a walk-in
            elif rec.station_id != station.id:
                raise ConflictError(
                    f"vehicle {vehicle.id} holds reservation {rec.id} at station "
                    f"{rec.station_id}; cancel it before a walk-in swap here"
                )
    if rec is not None:
        uow.reservations.set_state(rec.id, ReservationState.IN_USE)
        return replace(rec, state=ReservationState.IN_USE)
    need = cmd.need_kwh
    cands = choose_packs(ctx, uow, vehicle, station, need)
    if cands.refusals:
        raise SwapRefusedError([r.message for r in cands.refusals])
    walk_in = ReservationRecord(
        id=ctx.ids.new_id("rsv_"),
        fleet_org_id=vehicle.fleet_org_id,
        vehicle_id=vehicle.id,
        station_id=station.id,
        need_kwh=need,
        arrive_at=now,
        expires_at=now + timedelta(seconds=ctx.reservations.grace_s),
        state=ReservationState.IN_USE,
        created_at=now,
        holds=tuple(Hold(i + 1, r.pack.serial) for i, r in enumerate(cands.chosen)),
        walk_in=True,
    )
    uow.reservations.add(walk_in)
    return walk_in


def start_swap(
    ctx: OperationsContext, actor: Actor, cmd: StartSwap, idempotency_key: str
) -> SwapView:
    """Start a swap. Raises `NotFoundError` (station, bay, vehicle, reservation),
    `PermissionDeniedError`, `ConflictError` (bay or vehicle busy, reservation for another
    vehicle or station), `InvalidTransitionError` (reservation not active) and
    `SwapRefusedError` listing every failed compatibility or safety rule of every pack.
    """
    check_energy(cmd.need_kwh, "need_kwh")

    def body(uow: UnitOfWork) -> SwapView:
        now = ctx.now()
        station = station_or_404(uow, cmd.station_id, lock=True)
        require_station_role(actor, station, "start a swap")
        if cmd.bay_no not in uow.stations.bay_numbers(station.id):
            raise NotFoundError("bay", f"{station.id}/{cmd.bay_no}")
        busy = uow.swaps.started_on_bay(station.id, cmd.bay_no)
        if busy is not None:
            raise ConflictError(f"bay {station.id}/{cmd.bay_no} is busy with swap {busy.id}")
        running = uow.swaps.started_for_vehicle(cmd.vehicle_id)
        if running is not None:
            raise ConflictError(f"vehicle {cmd.vehicle_id} is in swap {running.id}")
        expire_due(ctx, uow, now, station.id)
        rec = _reservation_for(ctx, uow, cmd, station, now)
        vehicle = vehicle_or_404(uow, cmd.vehicle_id)
        need = cmd.need_kwh if cmd.need_kwh is not None else rec.need_kwh
        held = {
            p.serial: p for p in uow.packs.get_many([h.serial for h in rec.holds], for_update=True)
        }
        reasons: list[str] = []
        for h in rec.holds:
            pr = held.get(h.serial)
            if pr is None:
                reasons.append(f"held pack {h.serial} no longer exists")
                continue
            if pr.custody.kind is not CustodyKind.SLOT or pr.custody.station_id != station.id:
                reasons.append(
                    f"held pack {h.serial} is no longer on the rack ({pr.custody.describe()})"
                )
                continue
            verdict = check(vehicle.vehicle, pr.pack, station.station, need, ctx.rules)
            reasons.extend(f"{h.serial}: {r.rule}: {r.reason}" for r in verdict.failed)
        if reasons:
            raise SwapRefusedError(reasons)
        current = {r.custody.position_no: r.serial for r in uow.packs.in_vehicle(vehicle.id)}
        swap = SwapRecord(
            id=ctx.ids.new_id("swp_"),
            station_id=station.id,
            bay_no=cmd.bay_no,
            vehicle_id=vehicle.id,
            reservation_id=rec.id,
            state=SwapState.STARTED,
            started_at=now,
            lines=tuple(
                SwapLine(
                    position_no=h.position_no, pack_in=h.serial, pack_out=current.get(h.position_no)
                )
                for h in rec.holds
            ),
            need_kwh=need,
        )
        uow.swaps.add(swap)
        return swap_view(swap)

    return execute(ctx, actor, idempotency_key, "start_swap", cmd, SwapView, body)


# --- complete and abort ----------------------------------------------------------------------


def _started_swap(
    uow: UnitOfWork, actor: Actor, swap_id: str, action: str
) -> tuple[SwapRecord, StationRecord]:
    found = uow.swaps.get(swap_id)
    if found is None:
        raise NotFoundError("swap", swap_id)
    station = station_or_404(uow, found.station_id, lock=True)
    require_station_role(actor, station, f"{action} a swap")
    vehicle_or_404(uow, found.vehicle_id, lock=True)
    swap = uow.swaps.get(swap_id, for_update=True)
    assert swap is not None
    if swap.state is not SwapState.STARTED:
        raise InvalidTransitionError("swap", swap.id, swap.state.value, action)
    return swap, station


def complete_swap(
    ctx: OperationsContext, actor: Actor, cmd: CompleteSwap, idempotency_key: str
) -> SwapView:
    """Complete a started swap (see the module docstring); returns the swap with its bill.

    Raises `NotFoundError`, `PermissionDeniedError`, `InvalidTransitionError` (not started),
    `InputError` (a reading for a pack not in this swap, or SoC outside 0..1) and
    `ConflictError` when a pack is no longer where the swap expects it.
    """
    for i, reading in enumerate(cmd.readings):
        check_fraction(reading.soc, f"readings[{i}].soc")

    def body(uow: UnitOfWork) -> SwapView:
        now = ctx.now()
        swap, station = _started_swap(uow, actor, cmd.swap_id, "complete")
        ins = [ln.pack_in for ln in swap.lines]
        outs = [ln.pack_out for ln in swap.lines if ln.pack_out is not None]
        packs = {p.serial: p for p in uow.packs.get_many(ins + outs, for_update=True)}
        soc = {r.serial: r.soc for r in cmd.readings}
        strangers = sorted(set(soc) - set(packs))
        if strangers:
            raise InputError(
                [
                    Problem(f"pack {s} is not part of swap {swap.id}", field="readings")
                    for s in strangers
                ]
            )
        for ln in swap.lines:
            p_in = packs.get(ln.pack_in)
            if (
                p_in is None
                or p_in.custody.kind is not CustodyKind.SLOT
                or p_in.custody.station_id != station.id
            ):
                where = "missing" if p_in is None else p_in.custody.describe()
                raise ConflictError(f"pack {ln.pack_in} is no longer on the rack ({where})")
            if ln.pack_out is not None:
                p_out = packs.get(ln.pack_out)
                expected = Custody.in_vehicle(swap.vehicle_id, ln.position_no)
                if p_out is None or p_out.custody != expected:
                    where = "missing" if p_out is None else p_out.custody.describe()
                    raise ConflictError(f"pack {ln.pack_out} is no longer in the vehicle ({where})")
        placed = {o.serial: o.slot_no for o in cmd.slots_out}
        if placed:
            _check_slots_out(uow, swap, station, packs, placed)

        # Custody in three steps, each a valid state: vehicle -> robot, rack -> vehicle,
        # robot -> the slot each replacement left (UNIQUE occupancy holds at every statement).
        bay = Custody.in_bay(station.id, swap.bay_no)
        for ln in swap.lines:
            if ln.pack_out is not None:
                uow.packs.set_custody(ln.pack_out, bay, now)
        for ln in swap.lines:
            uow.packs.set_custody(
                ln.pack_in, Custody.in_vehicle(swap.vehicle_id, ln.position_no), now
            )
        lines: list[SwapLine] = []
        packs_in: list[tuple[Pack, float]] = []
        delivered = 0.0
        for ln in swap.lines:
            p_in = packs[ln.pack_in]
            soc_in = soc.get(ln.pack_in, p_in.pack.soc)
            pack_in = replace(p_in.pack, soc=soc_in)
            uow.packs.set_state(pack_in)
            e_in = _energy_kwh(pack_in, soc_in)
            packs_in.append((pack_in, e_in))
            record_event(
                ctx,
                uow,
                PackEvent.SWAPPED,
                ln.pack_in,
                custody_change(
                    p_in.custody,
                    Custody.in_vehicle(swap.vehicle_id, ln.position_no),
                    swap_id=swap.id,
                    direction="into_vehicle",
                    soc=soc_in,
                ),
                now,
            )
            line = replace(ln, soc_in=soc_in, energy_in_kwh=round(e_in, 3))
            delivered += e_in
            if ln.pack_out is not None:
                p_out = packs[ln.pack_out]
                soc_out = soc.get(ln.pack_out, p_out.pack.soc)
                # the slot the station reports, else the one its replacement left
                slot_no = placed.get(ln.pack_out, p_in.custody.slot_no or 0)
                target = Custody.in_slot(station.id, slot_no)
                uow.packs.set_custody(ln.pack_out, target, now)
                pack_out = replace(p_out.pack, soc=soc_out)
                uow.packs.set_state(pack_out)
                e_out = _energy_kwh(pack_out, soc_out)
                delivered -= e_out
                record_event(
                    ctx,
                    uow,
                    PackEvent.SWAPPED,
                    ln.pack_out,
                    custody_change(
                        p_out.custody,
                        target,
                        swap_id=swap.id,
                        direction="out_of_vehicle",
                        soc=soc_out,
                    ),
                    now,
                )
                line = replace(
                    line, soc_out=soc_out, energy_out_kwh=round(e_out, 3), slot_out_no=slot_no
                )
            lines.append(line)
        delivered = round(delivered, 3)
        done = replace(
            swap,
            state=SwapState.COMPLETED,
            finished_at=now,
            energy_delivered_kwh=delivered,
            lines=tuple(lines),
        )
        uow.swaps.update(done)
        uow.reservations.set_state(
            swap.reservation_id,
            ReservationState.FULFILLED,
            at=now,
            reason=f"swap {swap.id} completed",
        )
        vehicle = vehicle_or_404(uow, swap.vehicle_id)
        bill = build_bill(
            bill_id=ctx.ids.new_id("bil_"),
            swap_id=swap.id,
            station=station,
            fleet_org_id=vehicle.fleet_org_id,
            packs_in=packs_in,
            delivered_kwh=delivered,
            at=now,
        )
        uow.bills.add(bill)
        return swap_view(done, bill)

    return execute(ctx, actor, idempotency_key, "complete_swap", cmd, SwapView, body)


def _check_slots_out(
    uow: UnitOfWork,
    swap: SwapRecord,
    station: StationRecord,
    packs: dict[str, PackRecord],
    placed: dict[str, int],
) -> None:
    """Each reported slot is a rack slot of the station that is free once the incoming packs
    have left it, and no two outgoing packs share one."""
    outs = {ln.pack_out for ln in swap.lines if ln.pack_out is not None}
    leaving = {packs[ln.pack_in].custody.slot_no for ln in swap.lines}
    occupied = {v.slot_no: v.pack_serial for v in uow.stations.slots(station.id)}
    problems: list[Problem] = []
    for serial, slot_no in sorted(placed.items()):
        if serial not in outs:
            problems.append(Problem(f"pack {serial} does not leave the vehicle", field="slots_out"))
        elif slot_no not in occupied:
            problems.append(Problem(f"{station.id} has no rack slot {slot_no}", field="slots_out"))
        elif occupied[slot_no] is not None and slot_no not in leaving:
            problems.append(
                Problem(f"slot {slot_no} holds pack {occupied[slot_no]}", field="slots_out")
            )
    if len(set(placed.values())) != len(placed):
        problems.append(Problem("two packs reported in one slot", field="slots_out"))
    if problems:
        raise InputError(problems)


def abort_swap(
    ctx: OperationsContext, actor: Actor, cmd: AbortSwap, idempotency_key: str
) -> SwapView:
    """Abort a started swap; no pack moves and no pack state changes.

    Raises `NotFoundError`, `PermissionDeniedError`, `InvalidTransitionError` (not started).
    """

    def body(uow: UnitOfWork) -> SwapView:
        now = ctx.now()
        swap, _ = _started_swap(uow, actor, cmd.swap_id, "abort")
        return swap_view(abort_in(uow, swap, cmd.reason, now))

    return execute(ctx, actor, idempotency_key, "abort_swap", cmd, SwapView, body)


def abort_in(uow: UnitOfWork, swap: SwapRecord, reason: str, now: datetime) -> SwapRecord:
    """Abort `swap` inside the caller's transaction (also used by quarantine)."""
    done = replace(swap, state=SwapState.ABORTED, finished_at=now, abort_reason=reason)
    uow.swaps.update(done)
    rec = uow.reservations.get(swap.reservation_id, for_update=True)
    if rec is not None and rec.state is ReservationState.IN_USE:
        if rec.walk_in:
            uow.reservations.set_state(
                rec.id, ReservationState.CANCELLED, at=now, reason=f"walk-in swap aborted: {reason}"
            )
        else:
            uow.reservations.set_state(rec.id, ReservationState.ACTIVE)
    return done


def get_swap(ctx: OperationsContext, actor: Actor, swap_id: str) -> SwapView:
    """A swap with its bill. Fleets see swaps of their own vehicles only (else 404)."""

    def body(uow: UnitOfWork) -> SwapView:
        rec = uow.swaps.get(swap_id)
        if rec is None:
            raise NotFoundError("swap", swap_id)
        if actor.role is Role.FLEET:
            v = uow.vehicles.get(rec.vehicle_id)
            if v is None or v.fleet_org_id != actor.org_id:
                raise NotFoundError("swap", swap_id)
        elif actor.role is Role.STATION and actor.station_id != rec.station_id:
            raise NotFoundError("swap", swap_id)
        elif actor.role is Role.OPERATOR:
            st = uow.stations.get(rec.station_id)
            if st is None or st.operator_org_id != actor.org_id:
                raise NotFoundError("swap", swap_id)
        return swap_view(rec, uow.bills.for_swap(rec.id))

    return transact(ctx, body)
