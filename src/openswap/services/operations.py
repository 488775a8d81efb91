"""What every operations use case shares: its context, idempotent execution, access rules
and the lifecycle events it writes to the outbox.

A use case is `use_case(ctx, actor, command, idempotency_key) -> Result`. `execute` runs its
body in one unit of work: it replays the stored result when the key was seen with the same
request, refuses a key reused for a different request (`IdempotencyConflict`), stores the new
result with the key in the same transaction as the change, and retries the whole transaction
when a concurrent one won a race (`ConcurrencyConflict`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from openswap.domain.compatibility import DEFAULT_RULES, RuleSet
from openswap.domain.errors import (
    ConcurrencyConflict,
    IdempotencyConflict,
    InputError,
    NotFoundError,
    OpenswapError,
    PermissionDeniedError,
    Problem,
)
from openswap.services.model import (
    Actor,
    Custody,
    CustodyKind,
    IdempotencyRecord,
    OutboxEvent,
    Role,
    StationRecord,
    VehicleRecord,
)
from openswap.services.ports import Clock, IdGenerator, UnitOfWork, UnitOfWorkFactory
from openswap.services.serialization import fingerprint, rebuild, to_jsonable
from openswap.services.system import SystemClock, UuidIds

R = TypeVar("R")

MAX_IDEMPOTENCY_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class ReservationPolicy:
    """How long holds last and what counts as a charged pack.

    A hold lasts until `arrive_at + grace_s`; arrivals more than `max_lead_s` ahead are
    refused (packs would be idle on hold). Without an energy need, a pack counts as charged
    from `min_charged_soc`. Alternatives list at most `max_alternatives` stations.
    """

    grace_s: float = 1800.0
    max_lead_s: float = 6 * 3600.0
    min_charged_soc: float = 0.90
    max_alternatives: int = 5


@dataclass(frozen=True, slots=True)
class OperationsContext:
    """Everything the use cases need: units of work, the clock, ids, rules and policies."""

    uow: UnitOfWorkFactory
    clock: Clock = field(default_factory=SystemClock)
    ids: IdGenerator = field(default_factory=UuidIds)
    rules: RuleSet = DEFAULT_RULES
    reservations: ReservationPolicy = ReservationPolicy()
    max_attempts: int = 4  # tries of one request when concurrent transactions win races

    def now(self) -> datetime:
        now = self.clock.now()
        if now.tzinfo is None or now.utcoffset() != timedelta(0):
            raise ValueError(f"the clock must give aware UTC datetimes, got {now!r}")
        return now.astimezone(UTC)


def check_key(key: str) -> None:
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise InputError(
            [
                Problem(
                    f"must be 1-{MAX_IDEMPOTENCY_KEY_LENGTH} printable characters",
                    field="Idempotency-Key",
                )
            ]
        )


def execute(
    ctx: OperationsContext,
    actor: Actor,
    key: str,
    operation: str,
    command: Any,
    result_type: type[R],
    body: Callable[[UnitOfWork], R],
) -> R:
    """Run `body` once per (actor.client_id, key); see the module docstring."""
    check_key(key)
    try:
        fp = fingerprint(operation, command)
    except ValueError as exc:
        raise InputError([Problem(f"not representable: {exc}", field="request")]) from None
    for attempt in range(ctx.max_attempts):
        try:
            with ctx.uow() as uow:
                seen = uow.idempotency.get(actor.client_id, key)
                if seen is not None:
                    if seen.operation != operation:
                        raise IdempotencyConflict(
                            key, f"was first used for {seen.operation}, not {operation}"
                        )
                    if seen.fingerprint != fp:
                        raise IdempotencyConflict(key, "was first used with a different request")
                    return rebuild(result_type, seen.response)
                result = body(uow)
                uow.idempotency.add(
                    IdempotencyRecord(
                        client_id=actor.client_id,
                        key=key,
                        operation=operation,
                        fingerprint=fp,
                        response=to_jsonable(result),
                        created_at=ctx.now(),
                    )
                )
                uow.commit()
                return result
        except ConcurrencyConflict:
            if attempt == ctx.max_attempts - 1:
                raise
            time.sleep(0.002 * (attempt + 1))  # let the winner finish; no randomness needed
        except IdempotencyConflict:
            raise
        except OpenswapError:
            # A concurrent request with the same key may have won while this one waited for
            # its locks (and then found, say, the swap already completed): replay its result.
            replay = _replay(ctx, actor, key, operation, fp, result_type)
            if replay is None:
                raise
            return replay[0]
    raise AssertionError("unreachable")


def _replay(
    ctx: OperationsContext,
    actor: Actor,
    key: str,
    operation: str,
    fp: str,
    result_type: type[R],
) -> tuple[R] | None:
    with ctx.uow() as uow:
        seen = uow.idempotency.get(actor.client_id, key)
    if seen is None or seen.operation != operation or seen.fingerprint != fp:
        return None
    return (rebuild(result_type, seen.response),)


def transact(ctx: OperationsContext, body: Callable[[UnitOfWork], R]) -> R:
    """Run `body` in one unit of work and commit, retrying lost races (no idempotency key:
    for reads that may write, like lazy expiry, and for system jobs like sweeps)."""
    for attempt in range(ctx.max_attempts):
        try:
            with ctx.uow() as uow:
                result = body(uow)
                uow.commit()
                return result
        except ConcurrencyConflict:
            if attempt == ctx.max_attempts - 1:
                raise
            time.sleep(0.002 * (attempt + 1))
    raise AssertionError("unreachable")


# --- lifecycle events ------------------------------------------------------------------------


class PackEvent(StrEnum):
    """Lifecycle events of one pack, as written to the outbox (past-tense facts)."""

    REGISTERED = "PackRegistered"  # entered the system (seeding, commissioning)
    SWAPPED = "PackSwapped"  # into or out of a vehicle by a swap
    MOVED = "PackMoved"  # between slots or to/from a warehouse on one site
    SHIPPED = "PackShipped"
    RECEIVED = "PackReceived"
    QUARANTINED = "PackQuarantined"
    RELEASED = "PackReleased"  # out of quarantine
    RETIRED = "PackRetired"
    INSPECTED = "PackInspected"  # field health estimate (services.health), no custody change


def record_event(
    ctx: OperationsContext,
    uow: UnitOfWork,
    event: PackEvent,
    serial: str,
    payload: dict[str, Any],
    at: datetime,
) -> None:
    """Write one lifecycle event to the outbox, in the caller's transaction."""
    uow.outbox.add(
        OutboxEvent(
            event_id=ctx.ids.new_id("evt_"),
            event_type=str(event),
            pack_serial=serial,
            payload=to_jsonable(payload),
            occurred_at=at,
        )
    )


def custody_change(before: Custody, after: Custody, **extra: Any) -> dict[str, Any]:
    """The payload of a custody event: from, to and any extra fields."""
    return {"from": before.to_dict(), "to": after.to_dict(), **extra}


# --- access rules ----------------------------------------------------------------------------


def deny(actor: Actor, what: str) -> PermissionDeniedError:
    return PermissionDeniedError(f"{actor.role} {actor.client_id!r} may not {what}")


def require_station_role(actor: Actor, station: StationRecord, what: str) -> None:
    """Admin, the operator running the station, or the station's own device credential."""
    if actor.role is Role.ADMIN:
        return
    if actor.role is Role.OPERATOR and actor.org_id == station.operator_org_id:
        return
    if actor.role is Role.STATION and actor.station_id == station.id:
        return
    raise deny(actor, f"{what} at station {station.id!r}")


def require_booking_role(
    actor: Actor, vehicle: VehicleRecord, station: StationRecord, what: str
) -> None:
    """Admin, the fleet owning the vehicle, or the operator of the station (phone bookings)."""
    if actor.role is Role.ADMIN:
        return
    if actor.role is Role.FLEET and actor.org_id == vehicle.fleet_org_id:
        return
    if actor.role is Role.OPERATOR and actor.org_id == station.operator_org_id:
        return
    raise deny(actor, f"{what} for vehicle {vehicle.id!r} at station {station.id!r}")


def require_custody_role(uow: UnitOfWork, actor: Actor, custody: Custody, what: str) -> None:
    """Admin; an operator whose organisation runs the site holding the pack (a station, a
    warehouse, or the destination of its shipment); a station device for its own station.
    Packs in a vehicle are the admin's only (swaps move them, not custody commands).
    """
    if actor.role is Role.ADMIN:
        return
    station_id = custody.station_id if custody.kind in (CustodyKind.SLOT, CustodyKind.BAY) else None
    if actor.role is Role.STATION and station_id is not None and actor.station_id == station_id:
        return
    if actor.role is Role.OPERATOR and actor.org_id is not None:
        if station_id is not None:
            station = uow.stations.get(station_id)
            if station is not None and station.operator_org_id == actor.org_id:
                return
        if custody.kind is CustodyKind.WAREHOUSE and custody.warehouse_id is not None:
            wh = uow.warehouses.get(custody.warehouse_id)
            if wh is not None and wh.org_id == actor.org_id:
                return
        if (
            custody.kind is CustodyKind.SHIPMENT
            and custody.shipment_id is not None
            and site_org(uow, custody.shipment_id) == actor.org_id
        ):
            return
    raise deny(actor, f"{what} a pack in {custody.describe()}")


def site_org(uow: UnitOfWork, shipment_id: str) -> str | None:
    """The organisation that runs a shipment's destination."""
    shipment = uow.shipments.get(shipment_id)
    if shipment is None:
        return None
    if shipment.destination_station_id is not None:
        st = uow.stations.get(shipment.destination_station_id)
        return None if st is None else st.operator_org_id
    if shipment.destination_warehouse_id is not None:
        wh = uow.warehouses.get(shipment.destination_warehouse_id)
        return None if wh is None else wh.org_id
    return None


def require_not_auditor(actor: Actor, what: str) -> None:
    if actor.role is Role.AUDITOR:
        raise deny(actor, what)


# --- lookups that raise ----------------------------------------------------------------------


def station_or_404(uow: UnitOfWork, station_id: str, *, lock: bool = False) -> StationRecord:
    station = uow.stations.get(station_id, for_update=lock)
    if station is None:
        raise NotFoundError("station", station_id)
    return station


def vehicle_or_404(uow: UnitOfWork, vehicle_id: str, *, lock: bool = False) -> VehicleRecord:
    vehicle = uow.vehicles.get(vehicle_id, for_update=lock)
    if vehicle is None:
        raise NotFoundError("vehicle", vehicle_id)
    return vehicle


def check_fraction(value: float, field_name: str) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InputError(
            [Problem(f"must be a fraction in [0, 1], got {value!r}", field=field_name)]
        )


def check_energy(value: float | None, field_name: str) -> None:
    if value is not None and not (math.isfinite(value) and value >= 0.0):
        raise InputError(
            [Problem(f"must be a finite energy >= 0 kWh, got {value!r}", field=field_name)]
        )


def check_aware(value: datetime, field_name: str) -> None:
    if value.tzinfo is None:
        raise InputError([Problem("must carry a time zone (UTC)", field=field_name)])
