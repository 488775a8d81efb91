"""Operational records: the state the operations service keeps about organisations, stations,
vehicles, packs and their custody, reservations, swap transactions, bills and outbox events.

Frozen dataclasses passed between the use cases and the repositories of `services.ports`;
specifications and pack state stay domain objects (`domain.specs`, `domain.assets`).
Wall-clock times are timezone-aware UTC datetimes; money is integer fen (0.01 CNY).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from openswap.domain.assets import Pack, Station, Vehicle


class OrgRole(StrEnum):
    """What an organisation is, in the swap network (an organisation may have several)."""

    OPERATOR = "operator"  # runs stations
    FLEET = "fleet"  # runs trucks
    BATTERY_OWNER = "battery_owner"  # owns packs (vehicle–battery separation)
    MAKER = "maker"
    REPAIRER = "repairer"
    RECYCLER = "recycler"
    REGULATOR = "regulator"


class Role(StrEnum):
    """What an authenticated principal (user or API client) may do; see `Actor`."""

    ADMIN = "admin"  # everything
    OPERATOR = "operator"  # the stations and warehouses of its own organisation
    FLEET = "fleet"  # its own organisation's vehicles and reservations
    STATION = "station"  # a device credential acting for exactly one station
    AUDITOR = "auditor"  # read only


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling a use case: the principal's id (idempotency keys are scoped to it),
    its role, its organisation and, for a station device, the one station it acts for.
    """

    client_id: str
    role: Role
    org_id: str | None = None
    station_id: str | None = None


SYSTEM_ACTOR = Actor(client_id="system", role=Role.ADMIN)


class CustodyKind(StrEnum):
    """Who holds a pack right now. Exactly one custodian per pack, always."""

    VEHICLE = "vehicle"  # in a pack position of a vehicle
    SLOT = "slot"  # in a rack slot of a station
    BAY = "bay"  # on the swap robot in a bay (only inside a swap completion's transaction)
    SHIPMENT = "shipment"  # on a truck between sites
    WAREHOUSE = "warehouse"
    RETIRED = "retired"  # end of (first) life: handed to recycling or second life


@dataclass(frozen=True, slots=True)
class Custody:
    """One custodian, with the fields its kind needs and no others (see the constructors)."""

    kind: CustodyKind
    vehicle_id: str | None = None
    position_no: int | None = None
    station_id: str | None = None
    slot_no: int | None = None
    bay_no: int | None = None
    shipment_id: str | None = None
    warehouse_id: str | None = None

    @staticmethod
    def in_vehicle(vehicle_id: str, position_no: int) -> Custody:
        return Custody(CustodyKind.VEHICLE, vehicle_id=vehicle_id, position_no=position_no)

    @staticmethod
    def in_slot(station_id: str, slot_no: int) -> Custody:
        return Custody(CustodyKind.SLOT, station_id=station_id, slot_no=slot_no)

    @staticmethod
    def in_bay(station_id: str, bay_no: int) -> Custody:
        return Custody(CustodyKind.BAY, station_id=station_id, bay_no=bay_no)

    @staticmethod
    def in_shipment(shipment_id: str) -> Custody:
        return Custody(CustodyKind.SHIPMENT, shipment_id=shipment_id)

    @staticmethod
    def in_warehouse(warehouse_id: str) -> Custody:
        return Custody(CustodyKind.WAREHOUSE, warehouse_id=warehouse_id)

    @staticmethod
    def retired() -> Custody:
        return Custody(CustodyKind.RETIRED)

    def describe(self) -> str:
        """`slot changle-n/3`, `vehicle fj-g15-001/1`, `warehouse w1`, `retired` ..."""
        match self.kind:
            case CustodyKind.VEHICLE:
                return f"vehicle {self.vehicle_id}/{self.position_no}"
            case CustodyKind.SLOT:
                return f"slot {self.station_id}/{self.slot_no}"
            case CustodyKind.BAY:
                return f"bay {self.station_id}/{self.bay_no}"
            case CustodyKind.SHIPMENT:
                return f"shipment {self.shipment_id}"
            case CustodyKind.WAREHOUSE:
                return f"warehouse {self.warehouse_id}"
            case _:
                return "retired"

    def to_dict(self) -> dict[str, Any]:
        """The kind and the location fields that are set."""
        out: dict[str, Any] = {"kind": str(self.kind)}
        for name in (
            "vehicle_id",
            "position_no",
            "station_id",
            "slot_no",
            "bay_no",
            "shipment_id",
            "warehouse_id",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class Organisation:
    id: str
    name: str
    roles: frozenset[OrgRole]


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A person who logs in; only a hash of the password is ever stored."""

    id: str
    org_id: str | None
    username: str
    password_hash: str
    role: Role
    active: bool = True


@dataclass(frozen=True, slots=True)
class ApiClientRecord:
    """A machine credential (OAuth2 client credentials); only a hash of the secret is stored.
    A `station` client acts for exactly `station_id`.
    """

    client_id: str
    org_id: str | None
    secret_hash: str
    role: Role
    station_id: str | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class StationRecord:
    """A built station (domain `Station`: design, stocked models, adapters) and how it is run.

    `corridor`, `km` and `direction` place it on a route (None off-corridor); `utc_offset_min`
    is the local time zone for time-of-use prices (China: +480, no daylight saving); fees are
    the station's settlement prices (see services.billing).
    """

    station: Station
    operator_org_id: str
    corridor: str | None = None
    km: float | None = None
    direction: str | None = None
    utc_offset_min: int = 480
    tariff: str = "fujian-tou-2024"
    service_fee_cny_per_kwh: float = 0.30
    battery_fee_cny_per_kwh: float = 0.25

    @property
    def id(self) -> str:
        return self.station.id


@dataclass(frozen=True, slots=True)
class VehicleRecord:
    """A truck (domain `Vehicle`: model, fleet organisation id, pack count, adapters)."""

    vehicle: Vehicle

    @property
    def id(self) -> str:
        return self.vehicle.id

    @property
    def fleet_org_id(self) -> str:
        return self.vehicle.fleet


@dataclass(frozen=True, slots=True)
class Warehouse:
    id: str
    name: str
    org_id: str


class ShipmentState(StrEnum):
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"


@dataclass(frozen=True, slots=True)
class ShipmentRecord:
    """Packs on their way to a station or a warehouse (exactly one destination)."""

    id: str
    carrier: str
    destination_station_id: str | None
    destination_warehouse_id: str | None
    state: ShipmentState
    shipped_at: datetime
    received_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PackRecord:
    """A pack's live state (domain `Pack`, `owner` = owning organisation id) and custodian."""

    pack: Pack
    custody: Custody
    custody_since: datetime

    @property
    def serial(self) -> str:
        return self.pack.serial


class ReservationState(StrEnum):
    """active -> in_use (a swap started) -> fulfilled; in_use -> active (swap aborted);
    active -> cancelled | expired. Holds are live in `active` and `in_use` only.
    """

    ACTIVE = "active"
    IN_USE = "in_use"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


OPEN_RESERVATION_STATES = frozenset({ReservationState.ACTIVE, ReservationState.IN_USE})


@dataclass(frozen=True, slots=True)
class Hold:
    """One held pack for one pack position of the reserved vehicle."""

    position_no: int
    serial: str


@dataclass(frozen=True, slots=True)
class ReservationRecord:
    id: str
    fleet_org_id: str
    vehicle_id: str
    station_id: str
    need_kwh: float | None
    arrive_at: datetime
    expires_at: datetime
    state: ReservationState
    created_at: datetime
    holds: tuple[Hold, ...]
    walk_in: bool = False
    closed_at: datetime | None = None
    close_reason: str | None = None


class SwapState(StrEnum):
    """started -> completed | aborted (both final)."""

    STARTED = "started"
    COMPLETED = "completed"
    ABORTED = "aborted"


@dataclass(frozen=True, slots=True)
class SwapLine:
    """One pack position of a swap: the pack leaving the vehicle and the pack going in.

    `soc_*` and `energy_*_kwh` (usable x SoH x SoC) are filled in at completion; `slot_out_no`
    is the rack slot that took the outgoing pack.
    """

    position_no: int
    pack_in: str
    pack_out: str | None = None
    soc_in: float | None = None
    soc_out: float | None = None
    energy_in_kwh: float | None = None
    energy_out_kwh: float | None = None
    slot_out_no: int | None = None


@dataclass(frozen=True, slots=True)
class SwapRecord:
    id: str
    station_id: str
    bay_no: int
    vehicle_id: str
    reservation_id: str
    state: SwapState
    started_at: datetime
    lines: tuple[SwapLine, ...]
    need_kwh: float | None = None
    finished_at: datetime | None = None
    abort_reason: str | None = None
    energy_delivered_kwh: float | None = None


class BillLineKind(StrEnum):
    ENERGY = "energy"  # delivered kWh x time-of-use price, to the station operator
    SERVICE = "service"  # delivered kWh x swap service fee, to the station operator
    BATTERY_USAGE = "battery_usage"  # delivered kWh x battery fee, to the pack owner


@dataclass(frozen=True, slots=True)
class BillLine:
    line_no: int
    kind: BillLineKind
    payee_org_id: str
    description: str
    quantity: float
    unit: str
    unit_price_cny: float
    amount_fen: int


@dataclass(frozen=True, slots=True)
class BillRecord:
    """What the fleet owes for one swap: `total_fen` is the sum of the lines' `amount_fen`."""

    id: str
    swap_id: str
    payer_org_id: str
    created_at: datetime
    total_fen: int
    lines: tuple[BillLine, ...]
    currency: str = "CNY"


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The first response to (client, key): replayed for a retry with the same fingerprint."""

    client_id: str
    key: str
    operation: str
    fingerprint: str
    response: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """A lifecycle event written in the transaction that caused it; the ledger publishes it.

    `seq` is the outbox's own increasing sequence number (None until stored).
    """

    event_id: str
    event_type: str
    pack_serial: str | None
    payload: dict[str, Any]
    occurred_at: datetime
    seq: int | None = None
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SlotView:
    """A rack slot and the pack in it, if any."""

    slot_no: int
    charger_standard: str | None
    pack_serial: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogCounts:
    """How many specifications of each kind are stored."""

    frames: int = 0
    pack_models: int = 0
    vehicle_models: int = 0
    station_designs: int = 0
    adapters: int = 0


# --- lifecycle ledger ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerKey:
    """A registered entry-signing key (public half) and the signer it serves.

    `name` is `station:<station id>` or `org:<organisation id>`; `roles` are ledger roles
    (`ledger.entries.Role` values); the key signs at log indices `valid_from <= i < revoked_from`.
    """

    fingerprint: str
    name: str
    org: str
    roles: tuple[str, ...]
    public_key: bytes
    valid_from: int
    revoked_from: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PublishedCheckpoint:
    """A checkpoint the log operator signed and published (C2SP signed note text)."""

    id: int
    size: int
    root: bytes
    note: str
    published_at: datetime


class RelayStatus(StrEnum):
    APPENDED = "appended"  # entries first_index .. first_index + entry_count - 1
    SKIPPED = "skipped"  # no ledger event type (e.g. a move between slots of one site)
    REJECTED = "rejected"  # mapping or admission refused it; reasons say why


@dataclass(frozen=True, slots=True)
class RelayRecord:
    """What the outbox relay did with one outbox event (written when it marks it published)."""

    outbox_seq: int
    event_id: str
    status: RelayStatus
    first_index: int | None
    entry_count: int
    reasons: tuple[str, ...]
    relayed_at: datetime
