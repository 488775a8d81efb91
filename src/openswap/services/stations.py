"""Station-facing use cases: what a swap station reports (boot, slot status, meter values,
charging sessions, events, a truck's token, battery swap progress) and what the central
system asks of it (swaps, slot reservations, power limits, variables, resets), as commands
queued with an expiry until the station takes them.

Protocol-neutral: the OCPP adapter converts percent to fractions and OCPP names to these
commands. A station's battery swap becomes the operations service's swap transaction
(`swaps.complete_swap`) once the station has reported both directions; every reported pack
is checked against the swap and the safety interlocks with the SoC/SoH the station measured,
and a pack openswap does not know, or an unsafe or unexpected one, is refused and quarantined
(an unknown pack's slot is taken out of service), never silently accepted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from openswap.domain.assets import SafetyState
from openswap.domain.compatibility import INTERLOCK_RULES, check, check_pack_state
from openswap.domain.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    OpenswapError,
    Problem,
)
from openswap.services.auth import hash_secret, verify_secret
from openswap.services.model import (
    Actor,
    IdempotencyRecord,
    PackRecord,
    ReservationState,
    Role,
    StationRecord,
    SwapRecord,
    SwapState,
)
from openswap.services.operations import (
    OperationsContext,
    PackEvent,
    check_fraction,
    deny,
    execute,
    record_event,
    require_station_role,
    station_or_404,
    transact,
)
from openswap.services.ports import UnitOfWork
from openswap.services.station_records import (
    FINAL_COMMAND_STATES,
    ChargingSession,
    CommandState,
    ConnectorStatus,
    ReportedBattery,
    StationCommand,
    StationLink,
    SwapProgress,
)
from openswap.services.swaps import (
    CompleteSwap,
    OutgoingSlot,
    PackReading,
    StartSwap,
    abort_in,
    complete_swap,
    start_swap,
)

DEFAULT_COMMAND_TTL_S = 3600.0
MIN_PASSWORD_LENGTH = 16  # OCPP 2.x BasicAuthPassword: 16 to 40 characters
MAX_PASSWORD_LENGTH = 40

# --- who is calling --------------------------------------------------------------------------


def station_actor(station_id: str, operator_org_id: str | None = None) -> Actor:
    """The device principal of one station (idempotency keys are scoped to it)."""
    return Actor(f"station:{station_id}", Role.STATION, operator_org_id, station_id)


def _system_for(actor: Actor) -> Actor:
    """The service acting on a station's report after checking the station may make it:
    custody moves of vehicle packs are the admin's, keyed under the station's own id."""
    return Actor(f"ocpp:{actor.station_id}", Role.ADMIN)


@dataclass(frozen=True, slots=True)
class SetStationPassword:
    station_id: str
    password: str


def set_station_password(ctx: OperationsContext, actor: Actor, cmd: SetStationPassword) -> None:
    """Store (a hash of) the password a station presents in HTTP Basic auth (security
    profiles 1 and 2). Admin or the station's operator. Raises `InputError` for a password
    outside 16..40 printable characters, `NotFoundError`, `PermissionDeniedError`."""
    pw = cmd.password
    if not (MIN_PASSWORD_LENGTH <= len(pw) <= MAX_PASSWORD_LENGTH) or not pw.isprintable():
        raise InputError(
            [
                Problem(
                    f"must be {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} printable characters",
                    field="password",
                )
            ]
        )
    hashed = hash_secret(pw)

    def body(uow: UnitOfWork) -> None:
        station = station_or_404(uow, cmd.station_id, lock=True)
        if actor.role is not Role.ADMIN and not (
            actor.role is Role.OPERATOR and actor.org_id == station.operator_org_id
        ):
            raise deny(actor, f"set the password of station {station.id!r}")
        uow.station_links.set_password_hash(station.id, hashed, ctx.now())

    transact(ctx, body)


def authenticate_station(ctx: OperationsContext, station_id: str, password: str) -> Actor | None:
    """The station's actor when `password` is its stored one, else None (unknown stations and
    stations without a password included; compared in constant time)."""
    with ctx.uow() as uow:
        station = uow.stations.get(station_id)
        stored = uow.station_links.password_hash(station_id) if station is not None else None
    if station is None or stored is None:
        verify_secret(password, _NO_SUCH_HASH)  # same cost as a wrong password
        return None
    if not verify_secret(password, stored):
        return None
    return station_actor(station.id, station.operator_org_id)


_NO_SUCH_HASH = hash_secret("openswap-no-such-station", salt=b"\0" * 16)


def unauthenticated_actor(ctx: OperationsContext, station_id: str) -> Actor:
    """Security profile 0 (labs, tests): the station's actor without a password check; an
    unknown station gets an actor too, and is rejected at boot."""
    with ctx.uow() as uow:
        station = uow.stations.get(station_id)
    return station_actor(station_id, None if station is None else station.operator_org_id)


# --- boot, connection, status ----------------------------------------------------------------


class BootStatus(StrEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


@dataclass(frozen=True, slots=True)
class BootStation:
    station_id: str
    vendor: str
    model: str
    firmware: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class BootResult:
    status: BootStatus
    reason: str | None
    slots: int


def boot_station(ctx: OperationsContext, actor: Actor, cmd: BootStation) -> BootResult:
    """A station (re)booted. Unknown stations, and a credential for another station, are
    rejected; a known station is accepted and its boot recorded."""
    if actor.station_id != cmd.station_id:
        return BootResult(BootStatus.REJECTED, "credential is for another station", 0)

    def body(uow: UnitOfWork) -> BootResult:
        now = ctx.now()
        station = uow.stations.get(cmd.station_id)
        if station is None:
            return BootResult(BootStatus.REJECTED, f"unknown station {cmd.station_id!r}", 0)
        link = uow.station_links.link(station.id) or StationLink(station.id)
        uow.station_links.put_link(
            replace(
                link,
                boot_status=str(BootStatus.ACCEPTED),
                vendor=cmd.vendor,
                model=cmd.model,
                firmware=cmd.firmware,
                booted_at=now,
            )
        )
        return BootResult(BootStatus.ACCEPTED, None, len(uow.stations.slots(station.id)))

    return transact(ctx, body)


def is_registered(ctx: OperationsContext, station_id: str) -> bool:
    """Was the station's last boot accepted (so it may send other messages)?"""
    with ctx.uow() as uow:
        if uow.stations.get(station_id) is None:
            return False
        link = uow.station_links.link(station_id)
    return link is not None and link.boot_status == str(BootStatus.ACCEPTED)


def record_connection(
    ctx: OperationsContext, station_id: str, worker_id: str, ocpp_version: str, connected: bool
) -> None:
    """Note which worker holds the station's connection (known stations only)."""

    def body(uow: UnitOfWork) -> None:
        if uow.stations.get(station_id) is None:
            return
        now = ctx.now()
        link = uow.station_links.link(station_id) or StationLink(station_id)
        if connected:
            link = replace(link, worker_id=worker_id, ocpp_version=ocpp_version, connected_at=now)
        elif link.worker_id == worker_id:
            link = replace(link, worker_id=None, disconnected_at=now)
        uow.station_links.put_link(link)

    transact(ctx, body)


def station_link(ctx: OperationsContext, actor: Actor, station_id: str) -> StationLink:
    def body(uow: UnitOfWork) -> StationLink:
        station = station_or_404(uow, station_id)
        require_station_role(actor, station, "read the link of")
        return uow.station_links.link(station_id) or StationLink(station_id)

    return transact(ctx, body)


@dataclass(frozen=True, slots=True)
class ReportConnectorStatus:
    station_id: str
    evse_id: int
    connector_id: int
    status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ConnectorOutcome:
    """`discrepancy` says where the station's occupancy and openswap's custody disagree."""

    discrepancy: str | None


OCCUPIED_STATES = frozenset({"Occupied"})


def record_connector_status(
    ctx: OperationsContext, actor: Actor, cmd: ReportConnectorStatus
) -> ConnectorOutcome:
    """Store a slot's status and compare its occupancy with custody (EVSE id = slot number)."""

    def body(uow: UnitOfWork) -> ConnectorOutcome:
        station = station_or_404(uow, cmd.station_id)
        require_station_role(actor, station, "report slot status")
        uow.station_links.put_connector(
            ConnectorStatus(station.id, cmd.evse_id, cmd.connector_id, cmd.status, cmd.at)
        )
        slot = {v.slot_no: v for v in uow.stations.slots(station.id)}.get(cmd.evse_id)
        if slot is None:
            return ConnectorOutcome(f"station {station.id} has no rack slot {cmd.evse_id}")
        occupied = cmd.status in OCCUPIED_STATES
        if occupied and slot.pack_serial is None:
            return ConnectorOutcome(f"slot {cmd.evse_id} reported occupied; custody: empty")
        if cmd.status == "Available" and slot.pack_serial is not None:
            return ConnectorOutcome(
                f"slot {cmd.evse_id} reported available; custody: pack {slot.pack_serial}"
            )
        return ConnectorOutcome(None)

    return transact(ctx, body)


def connector_statuses(
    ctx: OperationsContext, actor: Actor, station_id: str
) -> tuple[ConnectorStatus, ...]:
    def body(uow: UnitOfWork) -> tuple[ConnectorStatus, ...]:
        station = station_or_404(uow, station_id)
        require_station_role(actor, station, "read slot status of")
        return tuple(uow.station_links.connectors(station_id))

    return transact(ctx, body)


# --- meter values, charging sessions, events --------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlotReading:
    """One sample of a slot's charger: energy (kWh, register), power (kW), pack SoC (0..1)."""

    at: datetime
    energy_kwh: float | None = None
    power_kw: float | None = None
    soc: float | None = None


@dataclass(frozen=True, slots=True)
class ReportSlotMeter:
    station_id: str
    evse_id: int
    readings: tuple[SlotReading, ...]
    transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class MeterOutcome:
    pack_serial: str | None
    soc: float | None


def _pack_in_slot(uow: UnitOfWork, station_id: str, slot_no: int) -> PackRecord | None:
    slot = {v.slot_no: v for v in uow.stations.slots(station_id)}.get(slot_no)
    if slot is None or slot.pack_serial is None:
        return None
    return uow.packs.get(slot.pack_serial, for_update=True)


def _apply_meter(
    uow: UnitOfWork, station_id: str, evse_id: int, reading: SlotReading, tx_id: str | None
) -> MeterOutcome:
    pack = _pack_in_slot(uow, station_id, evse_id)
    if reading.soc is not None and pack is not None:
        uow.packs.set_state(replace(pack.pack, soc=reading.soc))
    session = (
        uow.station_links.session(station_id, tx_id)
        if tx_id is not None
        else uow.station_links.open_session_on(station_id, evse_id)
    )
    if session is not None and session.state == "started":
        uow.station_links.put_session(
            replace(
                session,
                updated_at=reading.at,
                energy_kwh=reading.energy_kwh
                if reading.energy_kwh is not None
                else session.energy_kwh,
                power_kw=reading.power_kw if reading.power_kw is not None else session.power_kw,
                soc=reading.soc if reading.soc is not None else session.soc,
            )
        )
    return MeterOutcome(None if pack is None else pack.serial, reading.soc)


def record_slot_meter(ctx: OperationsContext, actor: Actor, cmd: ReportSlotMeter) -> MeterOutcome:
    """Per-slot energy, power and the pack's SoC: the SoC becomes the pack's measured state
    (telemetry, no lifecycle event); energy and power update the slot's open session."""
    for i, r in enumerate(cmd.readings):
        if r.soc is not None:
            check_fraction(r.soc, f"readings[{i}].soc")

    def body(uow: UnitOfWork) -> MeterOutcome:
        station = station_or_404(uow, cmd.station_id, lock=True)
        require_station_role(actor, station, "report meter values")
        out = MeterOutcome(None, None)
        for r in sorted(cmd.readings, key=lambda r: r.at):
            out = _apply_meter(uow, station.id, cmd.evse_id, r, cmd.transaction_id)
        return out

    return transact(ctx, body)


@dataclass(frozen=True, slots=True)
class ReportTransaction:
    """A charging session event: `event` is started | updated | ended; `seq_no` orders the
    station's messages (a replayed or stale one changes nothing)."""

    station_id: str
    transaction_id: str
    event: str
    seq_no: int
    at: datetime
    evse_id: int | None = None
    readings: tuple[SlotReading, ...] = ()
    stopped_reason: str | None = None


def record_transaction_event(
    ctx: OperationsContext, actor: Actor, cmd: ReportTransaction
) -> ChargingSession:
    """Start, update or end the charging session of a pack in a slot."""
    if cmd.event not in ("started", "updated", "ended"):
        raise InputError([Problem(f"unknown event {cmd.event!r}", field="eventType")])

    def body(uow: UnitOfWork) -> ChargingSession:
        station = station_or_404(uow, cmd.station_id, lock=True)
        require_station_role(actor, station, "report charging sessions")
        session = uow.station_links.session(station.id, cmd.transaction_id, for_update=True)
        if session is not None and cmd.seq_no <= session.seq_no:
            return session  # a replay or an older message: applied once
        if session is None:
            if cmd.evse_id is None:
                raise InputError([Problem("needed for a new transaction", field="evse.id")])
            pack = _pack_in_slot(uow, station.id, cmd.evse_id)
            session = ChargingSession(
                station_id=station.id,
                transaction_id=cmd.transaction_id,
                evse_id=cmd.evse_id,
                state="started",
                started_at=cmd.at,
                updated_at=cmd.at,
                seq_no=cmd.seq_no,
                pack_serial=None if pack is None else pack.serial,
            )
        session = replace(session, seq_no=cmd.seq_no, updated_at=cmd.at)
        uow.station_links.put_session(session)
        for r in sorted(cmd.readings, key=lambda r: r.at):
            _apply_meter(uow, station.id, session.evse_id, r, session.transaction_id)
        fresh = uow.station_links.session(station.id, cmd.transaction_id)
        assert fresh is not None
        if cmd.event == "ended":
            fresh = replace(
                fresh, state="ended", ended_at=cmd.at, stopped_reason=cmd.stopped_reason
            )
            uow.station_links.put_session(fresh)
        return fresh

    return transact(ctx, body)


def charging_sessions(
    ctx: OperationsContext, actor: Actor, station_id: str
) -> tuple[ChargingSession, ...]:
    def body(uow: UnitOfWork) -> tuple[ChargingSession, ...]:
        station = station_or_404(uow, station_id)
        require_station_role(actor, station, "read charging sessions of")
        return tuple(uow.station_links.sessions(station_id))

    return transact(ctx, body)


@dataclass(frozen=True, slots=True)
class StationEvent:
    """One reported event: on a slot (`evse_id`) or the station, component and variable
    names and the value (OCPP NotifyEvent eventData)."""

    component: str
    variable: str
    value: str
    evse_id: int | None = None
    cleared: bool = False


@dataclass(frozen=True, slots=True)
class ReportStationEvents:
    station_id: str
    events: tuple[StationEvent, ...]


@dataclass(frozen=True, slots=True)
class EventsOutcome:
    alarmed: tuple[str, ...]  # packs whose safety state became alarm


# Variables that, true on a slot, mean its pack must not be handed out until inspected.
ALARM_VARIABLES = frozenset({"Problem", "Tripped", "Fallback", "OverTemperature", "Fault"})


def record_station_events(
    ctx: OperationsContext, actor: Actor, cmd: ReportStationEvents
) -> EventsOutcome:
    """A problem reported on a slot puts its pack in `alarm` (the compatibility interlocks then
    keep it out of swaps); other events are only logged by the adapter."""

    def body(uow: UnitOfWork) -> EventsOutcome:
        station = station_or_404(uow, cmd.station_id, lock=True)
        require_station_role(actor, station, "report events")
        alarmed: list[str] = []
        for ev in cmd.events:
            raised = ev.value.strip().lower() in ("true", "1") and not ev.cleared
            if ev.evse_id is None or ev.variable not in ALARM_VARIABLES or not raised:
                continue
            pack = _pack_in_slot(uow, station.id, ev.evse_id)
            if pack is not None and pack.pack.safety_state is SafetyState.OK:
                uow.packs.set_state(replace(pack.pack, safety_state=SafetyState.ALARM))
                alarmed.append(pack.serial)
        return EventsOutcome(tuple(alarmed))

    return transact(ctx, body)


# --- authorize a truck ------------------------------------------------------------------------


class TokenStatus(StrEnum):
    ACCEPTED = "Accepted"
    INVALID = "Invalid"
    BLOCKED = "Blocked"
    NOT_AT_THIS_LOCATION = "NotAtThisLocation"


@dataclass(frozen=True, slots=True)
class AuthorizeToken:
    """A truck's token read at the station; the token is the vehicle id."""

    station_id: str
    id_token: str


@dataclass(frozen=True, slots=True)
class TokenVerdict:
    status: TokenStatus
    vehicle_id: str | None = None
    fleet_org_id: str | None = None
    reservation_id: str | None = None  # an active reservation at this station
    reasons: tuple[str, ...] = ()


def authorize_token(ctx: OperationsContext, actor: Actor, cmd: AuthorizeToken) -> TokenVerdict:
    """Which truck this is, its fleet, its reservation here, and whether it may swap here."""

    def body(uow: UnitOfWork) -> TokenVerdict:
        station = station_or_404(uow, cmd.station_id)
        require_station_role(actor, station, "authorize tokens")
        vehicle = uow.vehicles.get(cmd.id_token)
        if vehicle is None:
            return TokenVerdict(TokenStatus.INVALID, reasons=(f"unknown token {cmd.id_token!r}",))
        base = TokenVerdict(TokenStatus.ACCEPTED, vehicle.id, vehicle.fleet_org_id)
        if uow.swaps.started_for_vehicle(vehicle.id) is not None:
            return replace(base, status=TokenStatus.BLOCKED, reasons=("a swap is in progress",))
        failed = [
            f"{rule.title}"
            for rule in ctx.rules.vehicle_station
            if not rule.passes(
                rule.vehicle_key(vehicle.vehicle.model), rule.station_key(station.station.design)
            )
        ]
        if failed:
            return replace(base, status=TokenStatus.NOT_AT_THIS_LOCATION, reasons=tuple(failed))
        rec = uow.reservations.open_for_vehicle(vehicle.id)
        now = ctx.now()
        if (
            rec is not None
            and rec.station_id == station.id
            and rec.state is ReservationState.ACTIVE
            and rec.expires_at > now
        ):
            return replace(base, reservation_id=rec.id)
        return base

    return transact(ctx, body)


# --- commands to a station --------------------------------------------------------------------


class CommandKind(StrEnum):
    """What the central system asks a station (the adapter maps each to one OCPP action)."""

    REQUEST_SWAP = "request_swap"  # RequestBatterySwap
    RESERVE_SLOT = "reserve_slot"  # ReserveNow
    CANCEL_SLOT_RESERVATION = "cancel_slot_reservation"  # CancelReservation
    LIMIT_SLOT_POWER = "limit_slot_power"  # SetChargingProfile
    GET_VARIABLES = "get_variables"
    SET_VARIABLES = "set_variables"
    RESET = "reset"
    SET_SLOT_AVAILABILITY = "set_slot_availability"  # ChangeAvailability


@dataclass(frozen=True, slots=True)
class QueueCommand:
    """A command with protocol-neutral `args` (see `check_args`), kept `ttl_s` seconds."""

    station_id: str
    kind: CommandKind
    args: dict[str, Any]
    ttl_s: float = DEFAULT_COMMAND_TTL_S


def _args_problems(kind: CommandKind, args: dict[str, Any]) -> list[Problem]:
    def need(name: str, typ: type | tuple[type, ...]) -> None:
        if not isinstance(args.get(name), typ) or isinstance(args.get(name), bool):
            problems.append(Problem(f"required ({getattr(typ, '__name__', typ)})", field=name))

    problems: list[Problem] = []
    match kind:
        case CommandKind.REQUEST_SWAP:
            need("vehicle_id", str)
            need("request_id", int)
        case CommandKind.RESERVE_SLOT:
            need("reservation_no", int)
            need("slot_no", int)
            need("vehicle_id", str)
            need("expires_at", str)
        case CommandKind.CANCEL_SLOT_RESERVATION:
            need("reservation_no", int)
        case CommandKind.LIMIT_SLOT_POWER:
            need("slot_no", int)
            need("power_kw", (int, float))
            need("profile_no", int)
        case CommandKind.GET_VARIABLES | CommandKind.SET_VARIABLES:
            items = args.get("variables")
            if not isinstance(items, list) or not items:
                problems.append(Problem("a non-empty list", field="variables"))
            else:
                for i, it in enumerate(items):
                    ok = isinstance(it, dict) and isinstance(it.get("component"), str)
                    ok = ok and isinstance(it.get("variable"), str)
                    if kind is CommandKind.SET_VARIABLES:
                        ok = ok and isinstance(it.get("value"), str)
                    if not ok:
                        problems.append(
                            Problem(
                                "needs component, variable (and value to set)",
                                field=f"variables[{i}]",
                            )
                        )
        case CommandKind.RESET:
            if args.get("when", "immediate") not in ("immediate", "on_idle"):
                problems.append(Problem("immediate or on_idle", field="when"))
        case CommandKind.SET_SLOT_AVAILABILITY:
            need("slot_no", int)
            if not isinstance(args.get("operative"), bool):
                problems.append(Problem("required (bool)", field="operative"))
    return problems


def _new_command(
    ctx: OperationsContext,
    uow: UnitOfWork,
    actor: Actor,
    station_id: str,
    kind: CommandKind,
    args: dict[str, Any],
    ttl_s: float,
    swap_id: str | None = None,
) -> StationCommand:
    problems = _args_problems(kind, args)
    if not (0 < ttl_s <= 7 * 24 * 3600):
        problems.append(Problem("must lie in (0, 604800] seconds", field="ttl_s"))
    if problems:
        raise InputError(problems)
    now = ctx.now()
    command = StationCommand(
        id=ctx.ids.new_id("cmd_"),
        station_id=station_id,
        action=str(kind),
        payload=json.loads(json.dumps(args)),
        state=CommandState.QUEUED,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
        requested_by=actor.client_id,
        swap_id=swap_id,
    )
    uow.station_commands.add(command)
    return command


def queue_command(
    ctx: OperationsContext, actor: Actor, cmd: QueueCommand, idempotency_key: str
) -> StationCommand:
    """Queue a command for a station (delivered when it is connected, else on reconnect,
    else it expires). Admin or the station's operator. Raises `InputError` (bad args),
    `NotFoundError`, `PermissionDeniedError`."""

    def body(uow: UnitOfWork) -> StationCommand:
        station = station_or_404(uow, cmd.station_id)
        _require_operator(actor, station, f"command station {station.id!r}")
        return _new_command(ctx, uow, actor, station.id, cmd.kind, cmd.args, cmd.ttl_s)

    return execute(ctx, actor, idempotency_key, "queue_command", cmd, StationCommand, body)


def _require_operator(actor: Actor, station: StationRecord, what: str) -> None:
    if actor.role is Role.ADMIN:
        return
    if actor.role is Role.OPERATOR and actor.org_id == station.operator_org_id:
        return
    raise deny(actor, what)


def reservation_no(reservation_id: str, slot_no: int) -> int:
    """The integer id a station's ReserveNow needs, derived from the reservation and slot
    (stable, so CancelReservation finds it again)."""
    digest = hashlib.sha256(f"{reservation_id}/{slot_no}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


@dataclass(frozen=True, slots=True)
class LimitSlotPower:
    """Per-slot charging power limits (kW) under the station's grid cap (kW)."""

    station_id: str
    limits_kw: tuple[tuple[int, float], ...]
    grid_cap_kw: float
    ttl_s: float = DEFAULT_COMMAND_TTL_S


def limit_slot_power(
    ctx: OperationsContext, actor: Actor, cmd: LimitSlotPower, idempotency_key: str
) -> tuple[StationCommand, ...]:
    """One SetChargingProfile per slot; refused (`InputError`) when the limits add up to more
    than the grid cap or name a slot the station does not have."""
    problems = [
        Problem(f"must be >= 0 kW, got {kw!r}", field=f"limits_kw[{i}]")
        for i, (_, kw) in enumerate(cmd.limits_kw)
        if not kw >= 0
    ]
    total = sum(kw for _, kw in cmd.limits_kw)
    if total > cmd.grid_cap_kw + 1e-9:
        problems.append(
            Problem(
                f"slot limits add up to {total:g} kW, above the grid cap of {cmd.grid_cap_kw:g} kW",
                field="limits_kw",
            )
        )
    if problems:
        raise InputError(problems)

    def body(uow: UnitOfWork) -> tuple[StationCommand, ...]:
        station = station_or_404(uow, cmd.station_id)
        _require_operator(actor, station, f"limit power at station {station.id!r}")
        slots = {v.slot_no for v in uow.stations.slots(station.id)}
        missing = [s for s, _ in cmd.limits_kw if s not in slots]
        if missing:
            raise InputError(
                [Problem(f"station has no slot {s}", field="limits_kw") for s in missing]
            )
        return tuple(
            _new_command(
                ctx,
                uow,
                actor,
                station.id,
                CommandKind.LIMIT_SLOT_POWER,
                {"slot_no": s, "power_kw": float(kw), "profile_no": 1000 + s},
                cmd.ttl_s,
            )
            for s, kw in cmd.limits_kw
        )

    return execute(ctx, actor, idempotency_key, "limit_slot_power", cmd, tuple, body)


@dataclass(frozen=True, slots=True)
class ReserveSlots:
    """Hold, at the station, the slots of a reservation's packs (ReserveNow per slot), or
    release them (`cancel`)."""

    reservation_id: str
    cancel: bool = False
    ttl_s: float = DEFAULT_COMMAND_TTL_S


def reserve_slots(
    ctx: OperationsContext, actor: Actor, cmd: ReserveSlots, idempotency_key: str
) -> tuple[StationCommand, ...]:
    def body(uow: UnitOfWork) -> tuple[StationCommand, ...]:
        rec = uow.reservations.get(cmd.reservation_id)
        if rec is None:
            raise NotFoundError("reservation", cmd.reservation_id)
        station = station_or_404(uow, rec.station_id)
        _require_operator(actor, station, f"reserve slots at station {station.id!r}")
        return tuple(_slot_commands(ctx, uow, actor, rec.id, cmd.cancel, cmd.ttl_s))

    return execute(ctx, actor, idempotency_key, "reserve_slots", cmd, tuple, body)


def _slot_commands(
    ctx: OperationsContext,
    uow: UnitOfWork,
    actor: Actor,
    reservation_id: str,
    cancel: bool,
    ttl_s: float,
) -> list[StationCommand]:
    rec = uow.reservations.get(reservation_id)
    assert rec is not None
    out: list[StationCommand] = []
    for h in rec.holds:
        pack = uow.packs.get(h.serial)
        if (
            pack is None
            or pack.custody.slot_no is None
            or pack.custody.station_id != rec.station_id
        ):
            continue
        no = reservation_no(rec.id, pack.custody.slot_no)
        args: dict[str, Any]
        if cancel:
            kind, args = CommandKind.CANCEL_SLOT_RESERVATION, {"reservation_no": no}
        else:
            kind = CommandKind.RESERVE_SLOT
            args = {
                "reservation_no": no,
                "slot_no": pack.custody.slot_no,
                "vehicle_id": rec.vehicle_id,
                "expires_at": rec.expires_at.isoformat(),
            }
        out.append(_new_command(ctx, uow, actor, rec.station_id, kind, args, ttl_s))
    return out


@dataclass(frozen=True, slots=True)
class RequestSwap:
    """Swap vehicle `vehicle_id` at `station_id` now (its reservation there, else a walk-in):
    starts the swap transaction, reserves the held packs' slots at the station and asks the
    station to swap (RequestBatterySwap)."""

    station_id: str
    vehicle_id: str
    bay_no: int | None = None
    ttl_s: float = 300.0


@dataclass(frozen=True, slots=True)
class SwapRequested:
    swap_id: str
    request_id: int
    commands: tuple[StationCommand, ...]


def request_battery_swap(
    ctx: OperationsContext, actor: Actor, cmd: RequestSwap, idempotency_key: str
) -> SwapRequested:
    """See `RequestSwap`. Raises what `swaps.start_swap` raises (a refusal lists every failed
    rule) and `ConflictError` when every bay is busy."""
    with ctx.uow() as uow:
        station = station_or_404(uow, cmd.station_id)
        _require_operator_or_device(actor, station)
        bays = [cmd.bay_no] if cmd.bay_no is not None else uow.stations.bay_numbers(station.id)
        free = [b for b in bays if uow.swaps.started_on_bay(station.id, b) is None]
    if not free:
        raise ConflictError(f"every bay of station {cmd.station_id} is busy")
    system = Actor(f"ocpp:{cmd.station_id}", Role.ADMIN)
    swap = start_swap(
        ctx, system, StartSwap(cmd.station_id, free[0], cmd.vehicle_id), f"{idempotency_key}:start"
    )

    def body(uow: UnitOfWork) -> SwapRequested:
        now = ctx.now()
        request_id = uow.station_links.next_request_id(cmd.station_id)
        uow.station_links.put_progress(
            SwapProgress(cmd.station_id, request_id, swap.id, cmd.vehicle_id, now)
        )
        commands = _slot_commands(ctx, uow, actor, swap.reservation_id, False, cmd.ttl_s)
        commands.append(
            _new_command(
                ctx,
                uow,
                actor,
                cmd.station_id,
                CommandKind.REQUEST_SWAP,
                {"vehicle_id": cmd.vehicle_id, "request_id": request_id},
                cmd.ttl_s,
                swap_id=swap.id,
            )
        )
        return SwapRequested(swap.id, request_id, tuple(commands))

    return execute(ctx, actor, idempotency_key, "request_battery_swap", cmd, SwapRequested, body)


def _require_operator_or_device(actor: Actor, station: StationRecord) -> None:
    if actor.role is Role.STATION and actor.station_id == station.id:
        return
    _require_operator(actor, station, f"request a swap at station {station.id!r}")


# --- command delivery (the adapter's side) ----------------------------------------------------


def commands_to_deliver(ctx: OperationsContext, station_id: str) -> tuple[StationCommand, ...]:
    """The station's queued commands, oldest first; overdue ones become `expired` (and a swap
    request that expired aborts its swap)."""

    with ctx.uow() as uow:  # a read first: most wake-ups find nothing to do
        if not uow.station_commands.stations_with_queued([station_id]):
            return ()

    def body(uow: UnitOfWork) -> tuple[StationCommand, ...]:
        now = ctx.now()
        out: list[StationCommand] = []
        for c in uow.station_commands.queued(station_id):
            if c.expires_at <= now:
                uow.station_commands.update(
                    replace(c, state=CommandState.EXPIRED, finished_at=now, error="expired")
                )
                _abort_requested_swap(uow, c, "swap request expired undelivered", now)
            else:
                out.append(c)
        return tuple(out)

    return transact(ctx, body)


def stations_with_commands(ctx: OperationsContext, station_ids: list[str]) -> list[str]:
    """Which of these stations have queued commands."""
    if not station_ids:
        return []
    with ctx.uow() as uow:
        return uow.station_commands.stations_with_queued(station_ids)


def mark_command_sent(
    ctx: OperationsContext, command_id: str, message_id: str
) -> StationCommand | None:
    """Claim a queued command for sending (None when it is no longer queued or has expired:
    another worker took it, or it ran out)."""

    def body(uow: UnitOfWork) -> StationCommand | None:
        now = ctx.now()
        c = uow.station_commands.get(command_id, for_update=True)
        if c is None or c.state is not CommandState.QUEUED:
            return None
        if c.expires_at <= now:
            uow.station_commands.update(
                replace(c, state=CommandState.EXPIRED, finished_at=now, error="expired")
            )
            _abort_requested_swap(uow, c, "swap request expired undelivered", now)
            return None
        sent = replace(c, state=CommandState.SENT, sent_at=now, message_id=message_id)
        uow.station_commands.update(sent)
        return sent

    return transact(ctx, body)


def finish_command(
    ctx: OperationsContext,
    command_id: str,
    *,
    accepted: bool | None,
    response: dict[str, Any] | None = None,
    error: str | None = None,
) -> StationCommand:
    """Record the station's answer: `accepted` True/False, or None when there was no usable
    answer (`error` says why). A rejected or failed swap request aborts its swap."""

    def body(uow: UnitOfWork) -> StationCommand:
        now = ctx.now()
        c = uow.station_commands.get(command_id, for_update=True)
        if c is None:
            raise NotFoundError("station command", command_id)
        if c.state in FINAL_COMMAND_STATES:
            return c
        state = (
            CommandState.FAILED
            if accepted is None
            else (CommandState.ACCEPTED if accepted else CommandState.REJECTED)
        )
        done = replace(c, state=state, finished_at=now, response=response, error=error)
        uow.station_commands.update(done)
        if state is not CommandState.ACCEPTED:
            _abort_requested_swap(uow, c, f"station answered {state}: {error or response}", now)
        return done

    return transact(ctx, body)


def _abort_requested_swap(
    uow: UnitOfWork, command: StationCommand, reason: str, now: datetime
) -> None:
    if command.action != CommandKind.REQUEST_SWAP or command.swap_id is None:
        return
    swap = uow.swaps.get(command.swap_id, for_update=True)
    if swap is not None and swap.state is SwapState.STARTED:
        abort_in(uow, swap, reason, now)
        prog = uow.station_links.progress_for_swap(swap.id)
        if prog is not None and prog.outcome is None:
            uow.station_links.put_progress(replace(prog, outcome="aborted", updated_at=now))


def get_command(ctx: OperationsContext, actor: Actor, command_id: str) -> StationCommand:
    """A command and its state (queued, sent, accepted, rejected, failed, expired)."""

    def body(uow: UnitOfWork) -> StationCommand:
        c = uow.station_commands.get(command_id)
        if c is None:
            raise NotFoundError("station command", command_id)
        station = station_or_404(uow, c.station_id)
        require_station_role(actor, station, "read commands of")
        return c

    return transact(ctx, body)


def list_commands(
    ctx: OperationsContext, actor: Actor, station_id: str, limit: int = 100
) -> tuple[StationCommand, ...]:
    def body(uow: UnitOfWork) -> tuple[StationCommand, ...]:
        station = station_or_404(uow, station_id)
        require_station_role(actor, station, "read commands of")
        return tuple(uow.station_commands.find(station_id, limit=limit))

    return transact(ctx, body)


# --- battery swaps as the station reports them ------------------------------------------------


class SwapEvent(StrEnum):
    BATTERY_IN = "battery_in"  # packs from the truck into rack slots
    BATTERY_OUT = "battery_out"  # packs from rack slots into the truck
    BATTERY_OUT_TIMEOUT = "battery_out_timeout"  # the robot did not complete the hand-out


@dataclass(frozen=True, slots=True)
class ReportBatterySwap:
    station_id: str
    event: SwapEvent
    request_id: int
    id_token: str
    batteries: tuple[ReportedBattery, ...]


@dataclass(frozen=True, slots=True)
class BatterySwapOutcome:
    """`state`: waiting (the other direction is still to come), completed, refused or
    aborted; `refused` names the packs refused (and quarantined, or their slot taken out of
    service when openswap does not know them), `reasons` why."""

    state: str
    swap_id: str | None
    refused: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    quarantined: tuple[str, ...] = ()


def report_battery_swap(
    ctx: OperationsContext, actor: Actor, cmd: ReportBatterySwap
) -> BatterySwapOutcome:
    """Apply a station's BatterySwap report (module docstring). Idempotent: a replayed report
    changes nothing and answers the same."""
    for i, b in enumerate(cmd.batteries):
        check_fraction(b.soc, f"batteryData[{i}].soC")
        check_fraction(b.soh, f"batteryData[{i}].soH")
    verdict = transact(ctx, lambda uow: _apply_report(ctx, uow, actor, cmd))
    if verdict.state != "complete":
        return verdict
    prog = verdict_progress(ctx, cmd)
    assert prog.battery_in is not None
    assert prog.battery_out is not None
    readings = tuple(PackReading(b.serial, b.soc) for b in prog.battery_in + prog.battery_out)
    slots_out = tuple(OutgoingSlot(b.serial, b.evse_id) for b in prog.battery_in)
    key = f"swap:{cmd.station_id}:{cmd.request_id}:complete"
    system = _system_for(actor)
    try:
        done = complete_swap(ctx, system, CompleteSwap(prog.swap_id, readings, slots_out), key)
    except OpenswapError as exc:
        _close_progress(ctx, cmd, "aborted", str(exc))
        return BatterySwapOutcome("aborted", prog.swap_id, reasons=(str(exc),))
    _close_progress(ctx, cmd, "completed", None)
    # Returned packs that fail an interlock with the SoH the station measured stay on the
    # rack, quarantined (the swap itself is fine: the truck has its charged packs).
    quarantined = _quarantine_unsafe_returns(ctx, system, cmd, prog)
    return BatterySwapOutcome("completed", done.id, quarantined=quarantined)


def verdict_progress(ctx: OperationsContext, cmd: ReportBatterySwap) -> SwapProgress:
    with ctx.uow() as uow:
        prog = uow.station_links.progress(cmd.station_id, cmd.request_id)
    assert prog is not None
    return prog


def _close_progress(
    ctx: OperationsContext, cmd: ReportBatterySwap, outcome: str, reason: str | None
) -> None:
    def body(uow: UnitOfWork) -> None:
        prog = uow.station_links.progress(cmd.station_id, cmd.request_id, for_update=True)
        if prog is not None and prog.outcome is None:
            uow.station_links.put_progress(replace(prog, outcome=outcome, updated_at=ctx.now()))

    transact(ctx, body)


def _interlock_failures(ctx: OperationsContext, pack: PackRecord, b: ReportedBattery) -> list[str]:
    measured = replace(pack.pack, soc=b.soc, soh=b.soh)
    return [
        f"{b.serial}: {r.rule}: {r.reason}"
        for r in check_pack_state(measured, 1, None, ctx.rules.policy)
        if not r.passed and r.rule in INTERLOCK_RULES
    ]


def _quarantine_unsafe_returns(
    ctx: OperationsContext, system: Actor, cmd: ReportBatterySwap, prog: SwapProgress
) -> tuple[str, ...]:
    def body(uow: UnitOfWork) -> tuple[str, ...]:
        now = ctx.now()
        out: list[str] = []
        for b in prog.battery_in or ():
            pack = uow.packs.get(b.serial, for_update=True)
            if pack is None or pack.pack.safety_state is SafetyState.QUARANTINED:
                continue
            failures = _interlock_failures(ctx, pack, b)
            if failures:
                _quarantine(ctx, uow, pack, "; ".join(failures), now)
                out.append(pack.serial)
        return tuple(out)

    return transact(ctx, body)


def _quarantine(
    ctx: OperationsContext, uow: UnitOfWork, pack: PackRecord, reason: str, now: datetime
) -> None:
    uow.packs.set_state(replace(pack.pack, safety_state=SafetyState.QUARANTINED))
    record_event(
        ctx,
        uow,
        PackEvent.QUARANTINED,
        pack.serial,
        {
            "reason": reason,
            "custody": pack.custody.to_dict(),
            "before": str(pack.pack.safety_state),
        },
        now,
    )


def _apply_report(
    ctx: OperationsContext, uow: UnitOfWork, actor: Actor, cmd: ReportBatterySwap
) -> BatterySwapOutcome:
    now = ctx.now()
    station = station_or_404(uow, cmd.station_id, lock=True)
    require_station_role(actor, station, "report battery swaps")
    prog = uow.station_links.progress(station.id, cmd.request_id, for_update=True)
    serials = [b.serial for b in cmd.batteries]
    known = {p.serial: p for p in uow.packs.get_many(serials, for_update=True)}
    slots = {v.slot_no for v in uow.stations.slots(station.id)}
    reasons: list[str] = []
    refused: list[str] = []
    to_quarantine: dict[str, str] = {}
    unknown = [b for b in cmd.batteries if b.serial not in known]
    for b in unknown:
        refused.append(b.serial)
        reasons.append(f"pack {b.serial} is not known to openswap")
    for b in cmd.batteries:
        if b.evse_id not in slots:
            reasons.append(f"station {station.id} has no rack slot {b.evse_id}")
    if prog is None:
        for s in known:
            to_quarantine[s] = (
                f"reported in a battery swap openswap did not request ({cmd.request_id})"
            )
            refused.append(s)
        reasons.append(f"no swap was requested with requestId {cmd.request_id}")
        return _refuse(
            ctx, uow, station, None, None, cmd, unknown, to_quarantine, refused, reasons, now
        )
    if prog.outcome is not None:
        return BatterySwapOutcome(prog.outcome, prog.swap_id)
    swap = uow.swaps.get(prog.swap_id, for_update=True)
    assert swap is not None
    if swap.state is not SwapState.STARTED:
        uow.station_links.put_progress(replace(prog, outcome=str(swap.state), updated_at=now))
        return BatterySwapOutcome(
            str(swap.state), swap.id, reasons=("the swap is no longer running",)
        )
    if cmd.id_token != prog.vehicle_id:
        reasons.append(f"token {cmd.id_token!r} is not vehicle {prog.vehicle_id} of this swap")
    if cmd.event is SwapEvent.BATTERY_OUT_TIMEOUT:
        reasons.append("the station reported BatteryOutTimeout")
        return _refuse(
            ctx, uow, station, swap, prog, cmd, unknown, to_quarantine, refused, reasons, now
        )
    vehicle = uow.vehicles.get(swap.vehicle_id)
    assert vehicle is not None
    if cmd.event is SwapEvent.BATTERY_IN:
        expected = {ln.pack_out for ln in swap.lines if ln.pack_out is not None}
        direction = "out of the vehicle"
    else:
        expected = {ln.pack_in for ln in swap.lines}
        direction = "into the vehicle"
    for b in cmd.batteries:
        pack = known.get(b.serial)
        if pack is None:
            continue
        if b.serial not in expected:
            refused.append(b.serial)
            to_quarantine[b.serial] = f"went {direction} in swap {swap.id} but is not part of it"
            reasons.append(to_quarantine[b.serial])
            continue
        if cmd.event is SwapEvent.BATTERY_OUT:
            measured = replace(pack.pack, soc=b.soc, soh=b.soh)
            v = check(vehicle.vehicle, measured, station.station, swap.need_kwh, ctx.rules)
            failed = [f"{b.serial}: {r.rule}: {r.reason}" for r in v.failed]
            if failed:
                refused.append(b.serial)
                reasons.extend(failed)
                if any(r.rule in INTERLOCK_RULES for r in v.failed):
                    to_quarantine[b.serial] = "; ".join(failed)
    if reasons:
        return _refuse(
            ctx, uow, station, swap, prog, cmd, unknown, to_quarantine, refused, reasons, now
        )
    for b in cmd.batteries:  # the station's measurements become the packs' state
        pack = known[b.serial]
        uow.packs.set_state(replace(pack.pack, soc=b.soc, soh=b.soh))
    reported = tuple(cmd.batteries)
    if cmd.event is SwapEvent.BATTERY_IN:
        prog = replace(prog, battery_in=_merge(prog.battery_in, reported), updated_at=now)
    else:
        prog = replace(prog, battery_out=_merge(prog.battery_out, reported), updated_at=now)
    uow.station_links.put_progress(prog)
    outs = {ln.pack_out for ln in swap.lines if ln.pack_out is not None}
    ins = {ln.pack_in for ln in swap.lines}
    have_in = {b.serial for b in prog.battery_in or ()}
    have_out = {b.serial for b in prog.battery_out or ()}
    if outs <= have_in and ins <= have_out and (prog.battery_in is not None or not outs):
        return BatterySwapOutcome("complete", swap.id)
    return BatterySwapOutcome("waiting", swap.id)


def _merge(
    before: tuple[ReportedBattery, ...] | None, new: tuple[ReportedBattery, ...]
) -> tuple[ReportedBattery, ...]:
    by_serial = {b.serial: b for b in before or ()}
    by_serial.update({b.serial: b for b in new})
    return tuple(by_serial[s] for s in sorted(by_serial))


def _refuse(
    ctx: OperationsContext,
    uow: UnitOfWork,
    station: StationRecord,
    swap: SwapRecord | None,
    prog: SwapProgress | None,
    cmd: ReportBatterySwap,
    unknown: list[ReportedBattery],
    to_quarantine: dict[str, str],
    refused: list[str],
    reasons: list[str],
    now: datetime,
) -> BatterySwapOutcome:
    """Refuse a report in one transaction: abort the swap, quarantine the known packs
    concerned (cancelling the reservation that held one), record each unknown pack as
    quarantined where the station put it and take that slot out of service."""
    why = "; ".join(reasons)
    if swap is not None and swap.state is SwapState.STARTED:
        abort_in(uow, swap, f"refused station report: {why}"[:400], now)
        rec = uow.reservations.get(swap.reservation_id, for_update=True)
        if rec is not None and rec.state is ReservationState.ACTIVE and to_quarantine:
            uow.reservations.set_state(
                rec.id, ReservationState.CANCELLED, at=now, reason="a held pack was quarantined"
            )
    quarantined: list[str] = []
    for serial, reason in sorted(to_quarantine.items()):
        pack = uow.packs.get(serial, for_update=True)
        if pack is not None and pack.pack.safety_state is not SafetyState.QUARANTINED:
            _quarantine(ctx, uow, pack, reason, now)
            quarantined.append(serial)
    system = _system_for(station_actor(station.id))
    for b in unknown:
        record_event(
            ctx,
            uow,
            PackEvent.QUARANTINED,
            b.serial,
            {
                "reason": "reported by the station but unknown to openswap",
                "known": False,
                "station_id": station.id,
                "evse_id": b.evse_id,
                "soc": b.soc,
                "soh": b.soh,
            },
            now,
        )
        if b.evse_id in {v.slot_no for v in uow.stations.slots(station.id)}:
            _new_command(
                ctx,
                uow,
                system,
                station.id,
                CommandKind.SET_SLOT_AVAILABILITY,
                {"slot_no": b.evse_id, "operative": False},
                DEFAULT_COMMAND_TTL_S,
            )
    if prog is not None:
        uow.station_links.put_progress(replace(prog, outcome="refused", updated_at=now))
    return BatterySwapOutcome(
        "refused",
        None if swap is None else swap.id,
        tuple(dict.fromkeys(refused)),
        tuple(reasons),
        tuple(quarantined),
    )


# --- message log: a station's message applied once --------------------------------------------


def message_digest(action: str, payload: Any) -> str:
    text = json.dumps([action, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def seen_message(
    ctx: OperationsContext, station_id: str, message_id: str, action: str, digest: str
) -> dict[str, Any] | None:
    """The response already given to this message (same id, action and content), if any."""
    with ctx.uow() as uow:
        rec = uow.idempotency.get(_log_client(station_id), message_id[:255])
    if rec is None or rec.operation != action or rec.fingerprint != digest:
        return None
    return rec.response


def remember_message(
    ctx: OperationsContext,
    station_id: str,
    message_id: str,
    action: str,
    digest: str,
    response: dict[str, Any],
) -> None:
    """Store the response to a station's message so a replay (same message id after a
    reconnect) is answered without applying it again. The effects themselves are idempotent
    (keyed or ordered), so a crash between them and this record cannot apply anything twice."""

    def body(uow: UnitOfWork) -> None:
        if uow.idempotency.get(_log_client(station_id), message_id[:255]) is not None:
            return
        uow.idempotency.add(
            IdempotencyRecord(
                _log_client(station_id), message_id[:255], action, digest, response, ctx.now()
            )
        )

    with contextlib.suppress(ConflictError):  # a concurrent replay stored it first
        transact(ctx, body)


def _log_client(station_id: str) -> str:
    return f"ocpp-msg:{station_id}"[:64]


RunReport = Callable[[], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class TruckAdmission:
    """A truck at the gate: the token verdict and, for a truck with an active reservation
    here, the swap requested from the station."""

    verdict: TokenVerdict
    requested: SwapRequested | None = None
    refusal: tuple[str, ...] = ()


def admit_truck(
    ctx: OperationsContext, actor: Actor, cmd: AuthorizeToken, idempotency_key: str
) -> TruckAdmission:
    """Authorize a truck's token; when it has an active reservation at this station, start
    its swap and ask the station to perform it (RequestBatterySwap after ReserveNow for the
    held slots). A swap that cannot start leaves the token accepted with the refusal noted."""
    verdict = authorize_token(ctx, actor, cmd)
    if verdict.reservation_id is None or verdict.vehicle_id is None:
        return TruckAdmission(verdict)
    try:
        requested = request_battery_swap(
            ctx, actor, RequestSwap(cmd.station_id, verdict.vehicle_id), idempotency_key
        )
    except OpenswapError as exc:
        reasons = getattr(exc, "reasons", None) or (str(exc),)
        return TruckAdmission(verdict, None, tuple(reasons))
    return TruckAdmission(verdict, requested)
