"""Reservations: a fleet asks to swap vehicle V at station S around time T with an energy need.

`reserve` runs the compatibility engine and pack selection on the station's free rack, holds
one specific charged pack per pack position, and answers with the held packs or with every
reason it cannot (plus stations on the same corridor, or of the same operator, that could).
Holds are UNIQUE per pack in the schema and reservations at one station are serialised by a
lock on the station row, so a pack is never held twice, also under concurrent requests.
Reservations expire lazily (whenever the station or reservation is touched) and by `sweep`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from openswap.domain.assets import Pack
from openswap.domain.errors import InputError, InvalidTransitionError, NotFoundError, Problem
from openswap.domain.selection import RankedPack, select_packs
from openswap.services.model import (
    OPEN_RESERVATION_STATES,
    Actor,
    Hold,
    ReservationRecord,
    ReservationState,
    Role,
    StationRecord,
    VehicleRecord,
)
from openswap.services.operations import (
    OperationsContext,
    check_aware,
    check_energy,
    deny,
    execute,
    require_booking_role,
    station_or_404,
    transact,
    vehicle_or_404,
)
from openswap.services.ports import UnitOfWork

# --- commands and results --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReserveSwap:
    """Hold packs for `vehicle_id` at `station_id`, arriving around `arrive_at` (aware UTC),
    needing `need_kwh` for its next leg (whole vehicle; None: only fully charged packs)."""

    vehicle_id: str
    station_id: str
    arrive_at: datetime
    need_kwh: float | None = None


@dataclass(frozen=True, slots=True)
class CancelReservation:
    reservation_id: str
    reason: str = "cancelled by the fleet"


@dataclass(frozen=True, slots=True)
class HeldPack:
    """A held pack as it was when the hold was taken."""

    position_no: int
    serial: str
    pack_model: str
    slot_no: int | None
    soc: float
    available_energy_kwh: float


@dataclass(frozen=True, slots=True)
class Refusal:
    """One reason a reservation (or walk-in swap) cannot be served; `code` is stable:
    `vehicle_station` (the station cannot serve this vehicle at all), `vehicle_busy`, `no_packs`,
    `packs_held`, `not_charged`, `shortfall`, or the id of the compatibility rule that failed
    (`energy`, `safety_state`, `frame_standard`, ...). `serials` are the packs concerned."""

    code: str
    message: str
    serials: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AlternativeStation:
    """A station that could serve the vehicle now, with how many packs it could hold."""

    station_id: str
    name: str
    corridor: str | None
    km: float | None
    direction: str | None
    compatible_charged_packs: int


@dataclass(frozen=True, slots=True)
class ReservationView:
    id: str
    state: ReservationState
    fleet_org_id: str
    vehicle_id: str
    station_id: str
    need_kwh: float | None
    arrive_at: datetime
    expires_at: datetime
    created_at: datetime
    holds: tuple[Hold, ...]
    walk_in: bool
    closed_at: datetime | None
    close_reason: str | None


@dataclass(frozen=True, slots=True)
class ReservationOutcome:
    """`reserved` with the reservation and its held packs, or every refusal and alternatives."""

    reserved: bool
    reservation: ReservationView | None
    held: tuple[HeldPack, ...]
    refusals: tuple[Refusal, ...]
    alternatives: tuple[AlternativeStation, ...]


def view(rec: ReservationRecord) -> ReservationView:
    return ReservationView(
        id=rec.id,
        state=rec.state,
        fleet_org_id=rec.fleet_org_id,
        vehicle_id=rec.vehicle_id,
        station_id=rec.station_id,
        need_kwh=rec.need_kwh,
        arrive_at=rec.arrive_at,
        expires_at=rec.expires_at,
        created_at=rec.created_at,
        holds=rec.holds,
        walk_in=rec.walk_in,
        closed_at=rec.closed_at,
        close_reason=rec.close_reason,
    )


# --- selection -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidates:
    """The packs a station could hand to a vehicle now, best first, and why others cannot."""

    chosen: tuple[RankedPack, ...]
    slots: dict[str, int]
    refusals: tuple[Refusal, ...]
    compatible: int  # compatible charged packs free on the rack (may exceed the positions)


def choose_packs(
    ctx: OperationsContext,
    uow: UnitOfWork,
    vehicle: VehicleRecord,
    station: StationRecord,
    need_kwh: float | None,
) -> Candidates:
    """Rank the station's free rack for the vehicle and take one pack per pack position.

    Refusals are empty when every position can be filled; otherwise they list every reason.
    """
    v, st = vehicle.vehicle, station.station
    refusals: list[Refusal] = []
    vs_rules = ctx.rules.vehicle_station
    for rule in vs_rules:
        vk, sk = rule.vehicle_key(v.model), rule.station_key(st.design)
        ok = rule.passes(vk, sk)
        if not ok:
            reason, _ = rule.explain(vk, sk, ok)
            refusals.append(Refusal("vehicle_station", f"{rule.title}: {reason}"))
    station_rule_ids = {r.id for r in vs_rules}

    rack = uow.packs.at_station(st.id)
    slots = {r.serial: r.custody.slot_no or 0 for r in rack}
    held = uow.reservations.held_serials([r.serial for r in rack])
    free: list[Pack] = [r.pack for r in rack if r.serial not in held]
    if not rack:
        refusals.append(Refusal("no_packs", f"station {st.id} has no packs on its rack"))
    if held:
        refusals.append(
            Refusal(
                "packs_held",
                f"{len(held)} pack(s) on the rack are held by other reservations",
                tuple(sorted(held)),
            )
        )
    selection = select_packs(v, st, free, need_kwh, ctx.rules)
    ranked = list(selection.ranked)
    if need_kwh is None:
        low = [r for r in ranked if r.pack.soc < ctx.reservations.min_charged_soc]
        ranked = [r for r in ranked if r.pack.soc >= ctx.reservations.min_charged_soc]
        if low:
            refusals.append(
                Refusal(
                    "not_charged",
                    f"{len(low)} compatible pack(s) below the charged SoC of "
                    f"{ctx.reservations.min_charged_soc:.2f} (no energy need given)",
                    tuple(r.pack.serial for r in low),
                )
            )
    by_rule: dict[str, list[str]] = defaultdict(list)
    first_reason: dict[str, str] = {}
    for rej in selection.rejected:
        for result in rej.verdict.failed:
            if result.rule in station_rule_ids:
                continue
            by_rule[result.rule].append(rej.pack.serial)
            first_reason.setdefault(result.rule, f"{rej.pack.serial}: {result.reason}")
    for rule_id, serials in by_rule.items():
        refusals.append(
            Refusal(
                rule_id,
                f"{len(serials)} pack(s) fail {rule_id} (e.g. {first_reason[rule_id]})",
                tuple(serials),
            )
        )
    need = v.pack_count
    if len(ranked) >= need:
        return Candidates(tuple(ranked[:need]), slots, (), len(ranked))
    refusals.append(
        Refusal(
            "shortfall",
            f"vehicle {v.id} needs {need} compatible charged pack(s); "
            f"station {st.id} can hold {len(ranked)}",
        )
    )
    return Candidates((), slots, tuple(refusals), len(ranked))


def alternatives(
    ctx: OperationsContext,
    uow: UnitOfWork,
    vehicle: VehicleRecord,
    station: StationRecord,
    need_kwh: float | None,
) -> tuple[AlternativeStation, ...]:
    """Other stations on the same corridor (else of the same operator) that could serve the
    vehicle now, nearest first. Advisory: nothing is held there."""
    if station.corridor is not None:
        others = uow.stations.find(corridor=station.corridor)
    else:
        others = uow.stations.find(operator_org_id=station.operator_org_id)
    found: list[tuple[float, str, AlternativeStation]] = []
    for other in others:
        if other.id == station.id:
            continue
        cands = choose_packs(ctx, uow, vehicle, other, need_kwh)
        if cands.refusals:
            continue
        distance = (
            abs(other.km - station.km)
            if other.km is not None and station.km is not None
            else float("inf")
        )
        found.append(
            (
                distance,
                other.id,
                AlternativeStation(
                    other.id,
                    other.station.name,
                    other.corridor,
                    other.km,
                    other.direction,
                    cands.compatible,
                ),
            )
        )
    found.sort(key=lambda t: (t[0], t[1]))
    return tuple(a for _, _, a in found[: ctx.reservations.max_alternatives])


# --- expiry ----------------------------------------------------------------------------------


def expire_due(
    ctx: OperationsContext, uow: UnitOfWork, now: datetime, station_id: str
) -> list[str]:
    """Expire the station's active reservations past `expires_at`; the caller holds the
    station's lock (every reservation state change happens under it)."""
    due = uow.reservations.due_for_expiry(now, station_id)
    for rid in due:
        uow.reservations.set_state(
            rid, ReservationState.EXPIRED, at=now, reason="expired before the swap started"
        )
    return due


def expire_if_due(uow: UnitOfWork, rec: ReservationRecord, now: datetime) -> ReservationRecord:
    """Lazy expiry of one reservation (caller holds its station's lock); returns its record."""
    if rec.state is ReservationState.ACTIVE and rec.expires_at <= now:
        uow.reservations.set_state(
            rec.id, ReservationState.EXPIRED, at=now, reason="expired before the swap started"
        )
        fresh = uow.reservations.get(rec.id)
        assert fresh is not None
        return fresh
    return rec


def effective_state(rec: ReservationRecord, now: datetime) -> ReservationState:
    """The state a read reports: an overdue active reservation reads as expired."""
    if rec.state is ReservationState.ACTIVE and rec.expires_at <= now:
        return ReservationState.EXPIRED
    return rec.state


def sweep(ctx: OperationsContext) -> list[str]:
    """Expire every overdue reservation now, station by station (locks in id order), in one
    transaction; returns their ids."""

    def body(uow: UnitOfWork) -> list[str]:
        now = ctx.now()
        active = uow.reservations.find(states=(ReservationState.ACTIVE,))
        stations = sorted({r.station_id for r in active if r.expires_at <= now})
        expired: list[str] = []
        for station_id in stations:
            station_or_404(uow, station_id, lock=True)
            expired += expire_due(ctx, uow, now, station_id)
        return expired

    return transact(ctx, body)


# --- use cases -------------------------------------------------------------------------------


def reserve(
    ctx: OperationsContext, actor: Actor, cmd: ReserveSwap, idempotency_key: str
) -> ReservationOutcome:
    """Hold packs for a swap, or say every reason why not (a refusal is a result, not an
    error, and is replayed like any other for the same key).

    Raises `NotFoundError` (vehicle, station), `PermissionDeniedError`, `InputError` (arrival
    in the past beyond the grace period or beyond the booking horizon, bad energy need).
    """
    check_aware(cmd.arrive_at, "arrive_at")
    check_energy(cmd.need_kwh, "need_kwh")

    def body(uow: UnitOfWork) -> ReservationOutcome:
        now = ctx.now()
        policy = ctx.reservations
        if cmd.arrive_at > now + timedelta(seconds=policy.max_lead_s):
            raise InputError(
                [
                    Problem(
                        f"more than {policy.max_lead_s / 3600:g} h ahead; book closer to arrival",
                        field="arrive_at",
                    )
                ]
            )
        expires_at = cmd.arrive_at + timedelta(seconds=policy.grace_s)
        if expires_at <= now:
            raise InputError([Problem("is in the past beyond the grace period", field="arrive_at")])
        station = station_or_404(uow, cmd.station_id, lock=True)
        vehicle = vehicle_or_404(uow, cmd.vehicle_id)
        require_booking_role(actor, vehicle, station, "reserve a swap")
        expire_due(ctx, uow, now, station.id)
        refusals: list[Refusal] = []
        current = uow.reservations.open_for_vehicle(vehicle.id)
        if current is not None and effective_state(current, now) is ReservationState.EXPIRED:
            # Overdue elsewhere: expire it under its own station's lock (a deadlock with a
            # transaction locking the stations the other way round is retried).
            station_or_404(uow, current.station_id, lock=True)
            locked = uow.reservations.get(current.id, for_update=True)
            current = None if locked is None else expire_if_due(uow, locked, now)
        if current is not None and current.state in OPEN_RESERVATION_STATES:
            refusals.append(
                Refusal(
                    "vehicle_busy",
                    f"vehicle {vehicle.id} already has open reservation {current.id} "
                    f"at station {current.station_id}",
                )
            )
        cands = choose_packs(ctx, uow, vehicle, station, cmd.need_kwh)
        refusals.extend(cands.refusals)
        if refusals:
            return ReservationOutcome(
                reserved=False,
                reservation=None,
                held=(),
                refusals=tuple(refusals),
                alternatives=alternatives(ctx, uow, vehicle, station, cmd.need_kwh),
            )
        holds = tuple(Hold(i + 1, r.pack.serial) for i, r in enumerate(cands.chosen))
        rec = ReservationRecord(
            id=ctx.ids.new_id("rsv_"),
            fleet_org_id=vehicle.fleet_org_id,
            vehicle_id=vehicle.id,
            station_id=station.id,
            need_kwh=cmd.need_kwh,
            arrive_at=cmd.arrive_at,
            expires_at=expires_at,
            state=ReservationState.ACTIVE,
            created_at=now,
            holds=holds,
        )
        uow.reservations.add(rec)
        held = tuple(
            HeldPack(
                position_no=i + 1,
                serial=r.pack.serial,
                pack_model=r.pack.model.id,
                slot_no=cands.slots.get(r.pack.serial),
                soc=r.pack.soc,
                available_energy_kwh=round(r.pack.available_energy_kwh, 3),
            )
            for i, r in enumerate(cands.chosen)
        )
        return ReservationOutcome(True, view(rec), held, (), ())

    return execute(ctx, actor, idempotency_key, "reserve", cmd, ReservationOutcome, body)


def cancel_reservation(
    ctx: OperationsContext, actor: Actor, cmd: CancelReservation, idempotency_key: str
) -> ReservationView:
    """Cancel an active reservation and release its holds.

    Raises `NotFoundError`, `PermissionDeniedError`, `InvalidTransitionError` (in use by a
    started swap, or already fulfilled, cancelled or expired).
    """

    def body(uow: UnitOfWork) -> ReservationView:
        now = ctx.now()
        found = uow.reservations.get(cmd.reservation_id)
        if found is None:
            raise NotFoundError("reservation", cmd.reservation_id)
        # Every state change of a reservation happens under its station's lock.
        station = station_or_404(uow, found.station_id, lock=True)
        rec = uow.reservations.get(found.id, for_update=True)
        assert rec is not None
        vehicle = vehicle_or_404(uow, rec.vehicle_id)
        require_booking_role(actor, vehicle, station, "cancel a reservation")
        rec = expire_if_due(uow, rec, now)
        if rec.state is not ReservationState.ACTIVE:
            why = "a swap is in progress; abort it first" if rec.state.value == "in_use" else ""
            raise InvalidTransitionError("reservation", rec.id, rec.state.value, "cancel", why)
        uow.reservations.set_state(rec.id, ReservationState.CANCELLED, at=now, reason=cmd.reason)
        fresh = uow.reservations.get(rec.id)
        assert fresh is not None
        return view(fresh)

    return execute(ctx, actor, idempotency_key, "cancel_reservation", cmd, ReservationView, body)


def get_reservation(ctx: OperationsContext, actor: Actor, reservation_id: str) -> ReservationView:
    """A reservation as it stands now (expiring it first when overdue).

    Fleets see their own reservations only (others: `NotFoundError`, not revealing they exist);
    operators those at their stations; station devices those at their station.
    """

    def body(uow: UnitOfWork) -> ReservationView:
        rec = uow.reservations.get(reservation_id)
        if rec is None or not _may_read(uow, actor, rec):
            raise NotFoundError("reservation", reservation_id)
        now = ctx.now()
        if rec.state is ReservationState.ACTIVE and rec.expires_at <= now:
            station_or_404(uow, rec.station_id, lock=True)
            locked = uow.reservations.get(rec.id, for_update=True)
            assert locked is not None
            rec = expire_if_due(uow, locked, now)
        return view(rec)

    return transact(ctx, body)


def list_reservations(
    ctx: OperationsContext,
    actor: Actor,
    *,
    station_id: str | None = None,
    states: tuple[ReservationState, ...] | None = None,
) -> tuple[ReservationView, ...]:
    """The reservations the actor may see (fleets: their own), oldest first."""

    def body(uow: UnitOfWork) -> tuple[ReservationView, ...]:
        now = ctx.now()
        fleet = actor.org_id if actor.role is Role.FLEET else None
        if actor.role is Role.FLEET and fleet is None:
            raise deny(actor, "list reservations")
        found = uow.reservations.find(fleet_org_id=fleet, station_id=station_id, states=states)
        return tuple(
            replace(view(r), state=effective_state(r, now))
            for r in found
            if _may_read(uow, actor, r)
        )

    return transact(ctx, body)


def _may_read(uow: UnitOfWork, actor: Actor, rec: ReservationRecord) -> bool:
    match actor.role:
        case Role.ADMIN | Role.AUDITOR:
            return True
        case Role.FLEET:
            return actor.org_id == rec.fleet_org_id
        case Role.STATION:
            return actor.station_id == rec.station_id
        case _:
            st = uow.stations.get(rec.station_id)
            return st is not None and st.operator_org_id == actor.org_id
