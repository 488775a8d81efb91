"""Records and ports of the station link: what the operations service keeps about the stations
it talks to over OCPP (credentials, connection and boot, connector status, charging sessions,
swap progress as the station reports it, queued commands) and the channel that wakes the
worker holding a station's connection. `storage` implements the ports.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class CommandState(StrEnum):
    """queued -> sent -> accepted | rejected | failed; queued -> expired (never delivered).

    `rejected` is the station's answer (a status other than Accepted); `failed` means no usable
    answer (CALLERROR, timeout, connection lost after sending)."""

    QUEUED = "queued"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FAILED = "failed"
    EXPIRED = "expired"


FINAL_COMMAND_STATES = frozenset(
    {CommandState.ACCEPTED, CommandState.REJECTED, CommandState.FAILED, CommandState.EXPIRED}
)


@dataclass(frozen=True, slots=True)
class StationCommand:
    """A request to a station (`action` and OCPP `payload`, camelCase as sent), kept until the
    station answers or `expires_at` passes. `swap_id` links a RequestBatterySwap to its swap."""

    id: str
    station_id: str
    action: str
    payload: dict[str, Any]
    state: CommandState
    created_at: datetime
    expires_at: datetime
    requested_by: str
    sent_at: datetime | None = None
    finished_at: datetime | None = None
    message_id: str | None = None
    response: dict[str, Any] | None = None
    error: str | None = None
    swap_id: str | None = None


@dataclass(frozen=True, slots=True)
class StationLink:
    """A station's last boot and connection as the central system saw them."""

    station_id: str
    boot_status: str | None = None  # Accepted | Rejected (OCPP RegistrationStatus)
    vendor: str | None = None
    model: str | None = None
    firmware: str | None = None
    booted_at: datetime | None = None
    worker_id: str | None = None
    ocpp_version: str | None = None
    connected_at: datetime | None = None
    disconnected_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    """OCPP connector status of one slot (EVSE) of a station: Available, Occupied, Reserved,
    Unavailable, Faulted."""

    station_id: str
    evse_id: int
    connector_id: int
    status: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ChargingSession:
    """A charging session (OCPP transaction) of a pack in a rack slot; meter values are the
    latest reported (energy in kWh since the session started, power in kW, SoC 0..1)."""

    station_id: str
    transaction_id: str
    evse_id: int
    state: str  # started | ended
    started_at: datetime
    updated_at: datetime
    seq_no: int
    pack_serial: str | None = None
    energy_kwh: float | None = None
    power_kw: float | None = None
    soc: float | None = None
    ended_at: datetime | None = None
    stopped_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ReportedBattery:
    """One pack as the station reported it in a BatterySwap: slot (EVSE id), serial, SoC and
    SoH as fractions (converted from percent at the OCPP edge)."""

    evse_id: int
    serial: str
    soc: float
    soh: float


@dataclass(frozen=True, slots=True)
class SwapProgress:
    """A swap the central system asked a station to perform (RequestBatterySwap `request_id`)
    and what the station has reported so far: packs into the rack (BatteryIn, from the truck)
    and out of the rack (BatteryOut, into the truck)."""

    station_id: str
    request_id: int
    swap_id: str
    vehicle_id: str
    updated_at: datetime
    battery_in: tuple[ReportedBattery, ...] | None = None
    battery_out: tuple[ReportedBattery, ...] | None = None
    outcome: str | None = None  # completed | aborted | refused (final)


class StationLinkRepository(Protocol):
    def password_hash(self, station_id: str) -> str | None: ...
    def set_password_hash(self, station_id: str, password_hash: str, at: datetime) -> None: ...
    def link(self, station_id: str) -> StationLink | None: ...
    def put_link(self, link: StationLink) -> None: ...
    def put_connector(self, status: ConnectorStatus) -> None: ...
    def connectors(self, station_id: str) -> list[ConnectorStatus]: ...
    def session(
        self, station_id: str, transaction_id: str, *, for_update: bool = False
    ) -> ChargingSession | None: ...
    def open_session_on(self, station_id: str, evse_id: int) -> ChargingSession | None: ...
    def put_session(self, session: ChargingSession) -> None: ...
    def sessions(self, station_id: str) -> list[ChargingSession]: ...
    def progress(
        self, station_id: str, request_id: int, *, for_update: bool = False
    ) -> SwapProgress | None: ...
    def progress_for_swap(self, swap_id: str) -> SwapProgress | None: ...
    def put_progress(self, progress: SwapProgress) -> None: ...
    def next_request_id(self, station_id: str) -> int:
        """A RequestBatterySwap request id not yet used at this station (1, 2, ...)."""
        ...


class StationCommandRepository(Protocol):
    def add(self, command: StationCommand) -> None: ...
    def get(self, command_id: str, *, for_update: bool = False) -> StationCommand | None: ...
    def update(self, command: StationCommand) -> None: ...
    def queued(self, station_id: str) -> list[StationCommand]:
        """Queued commands of one station, oldest first (expired ones included)."""
        ...

    def stations_with_queued(self, station_ids: Sequence[str] | None = None) -> list[str]: ...
    def find(self, station_id: str, *, limit: int = 100) -> list[StationCommand]:
        """The station's latest commands, newest first."""
        ...


class StationCommandChannel(Protocol):
    """Wakes the worker that holds a station's websocket when a command is queued for it.

    Delivery is at least once and carries only the station id: the receiver reads the queued
    commands from the database, so a lost wake-up costs latency (the poll catches it), never
    a command."""

    async def publish(self, station_id: str) -> None: ...
    def listen(self) -> AsyncIterator[str]: ...
    async def close(self) -> None: ...
