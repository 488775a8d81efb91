"""The relational schema: SQLAlchemy 2 typed ORM models of every operations table.

Invariants live in the schema where a database can hold them: one custodian per pack (custody
columns on the pack row, a CHECK that exactly the kind's location column is set, UNIQUE slot
and position occupancy), a pack held at most once (UNIQUE `held_serial`, set only while the
hold is live), one started swap per bay and per vehicle, one open reservation per vehicle.
Enumerations are strings with CHECK constraints; money is integer fen; times are UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = 64  # length of string ids
TEXT = 400  # length of names and reasons


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive, as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: wall-clock times must be UTC-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# 64-bit on PostgreSQL, INTEGER (the rowid alias, so it autoincrements) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL text: `column` is one of `values`."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


ORG_ROLES = ("operator", "fleet", "battery_owner", "maker", "repairer", "recycler", "regulator")
PRINCIPAL_ROLES = ("admin", "operator", "fleet", "station", "auditor")
SAFETY_STATES = ("ok", "alarm", "quarantined")
CUSTODY_KINDS = ("vehicle", "slot", "bay", "shipment", "warehouse", "retired")
CUSTODY_COLUMNS = {
    "vehicle": "position_id",
    "slot": "slot_id",
    "bay": "bay_id",
    "shipment": "shipment_id",
    "warehouse": "warehouse_id",
}
RESERVATION_STATES = ("active", "in_use", "fulfilled", "cancelled", "expired")
SWAP_STATES = ("started", "completed", "aborted")
SHIPMENT_STATES = ("in_transit", "received")
BILL_LINE_KINDS = ("energy", "service", "battery_usage")


def custody_check_sql() -> str:
    """Exactly the location column of the custody kind is set; `retired` sets none."""
    cases = []
    for kind in CUSTODY_KINDS:
        parts = [f"custody_kind = '{kind}'"]
        for other_kind, column in CUSTODY_COLUMNS.items():
            parts.append(f"{column} IS {'NOT ' if other_kind == kind else ''}NULL")
        cases.append("(" + " AND ".join(parts) + ")")
    return " OR ".join(cases)


# --- catalog specifications ------------------------------------------------------------------


class FrameRow(Base):
    __tablename__ = "frame_standards"
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(TEXT))
    mount: Mapped[str] = mapped_column(String(32))
    spec: Mapped[dict[str, Any]]


class PackModelRow(Base):
    __tablename__ = "pack_models"
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    maker: Mapped[str] = mapped_column(String(TEXT))
    frame_id: Mapped[str] = mapped_column(ForeignKey("frame_standards.id"), index=True)
    usable_energy_kwh: Mapped[float] = mapped_column(Float)
    spec: Mapped[dict[str, Any]]


class VehicleModelRow(Base):
    __tablename__ = "vehicle_models"
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    oem: Mapped[str] = mapped_column(String(TEXT))
    mount: Mapped[str] = mapped_column(String(32))
    pack_positions: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]]


class StationDesignRow(Base):
    __tablename__ = "station_designs"
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    swap_type: Mapped[str] = mapped_column(String(32))
    bays: Mapped[int] = mapped_column(Integer)
    slots: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]]


class AdapterRow(Base):
    __tablename__ = "adapters"
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    from_id: Mapped[str] = mapped_column(String(ID))
    to_id: Mapped[str] = mapped_column(String(ID))
    spec: Mapped[dict[str, Any]]


# --- organisations and principals ------------------------------------------------------------


class OrganisationRow(Base):
    __tablename__ = "organisations"
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(TEXT), unique=True)


class OrganisationRoleRow(Base):
    __tablename__ = "organisation_roles"
    __table_args__ = (CheckConstraint(one_of("role", ORG_ROLES), name="role"),)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("role", PRINCIPAL_ROLES), name="role"),)
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    username: Mapped[str] = mapped_column(String(TEXT), unique=True)
    password_hash: Mapped[str] = mapped_column(String(TEXT))
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean)


class ApiClientRow(Base):
    __tablename__ = "api_clients"
    __table_args__ = (
        CheckConstraint(one_of("role", PRINCIPAL_ROLES), name="role"),
        CheckConstraint("role <> 'station' OR station_id IS NOT NULL", name="station_device"),
    )
    client_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(TEXT))
    role: Mapped[str] = mapped_column(String(32))
    station_id: Mapped[str | None] = mapped_column(ForeignKey("stations.id"))
    active: Mapped[bool] = mapped_column(Boolean)


# --- sites -----------------------------------------------------------------------------------


class StationRow(Base):
    __tablename__ = "stations"
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(TEXT))
    design_id: Mapped[str] = mapped_column(ForeignKey("station_designs.id"))
    operator_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    corridor: Mapped[str | None] = mapped_column(String(ID), index=True)
    km: Mapped[float | None] = mapped_column(Float)
    direction: Mapped[str | None] = mapped_column(String(32))
    utc_offset_min: Mapped[int] = mapped_column(Integer)
    tariff: Mapped[str] = mapped_column(String(ID))
    service_fee_cny_per_kwh: Mapped[float] = mapped_column(Float)
    battery_fee_cny_per_kwh: Mapped[float] = mapped_column(Float)
    stocked_models: Mapped[list[str]] = mapped_column(JSON)
    adapter_ids: Mapped[list[str]] = mapped_column(JSON)


class BayRow(Base):
    __tablename__ = "bays"
    __table_args__ = (UniqueConstraint("station_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"))
    number: Mapped[int] = mapped_column(Integer)


class SlotRow(Base):
    __tablename__ = "rack_slots"
    __table_args__ = (UniqueConstraint("station_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"))
    number: Mapped[int] = mapped_column(Integer)
    charger_standard: Mapped[str | None] = mapped_column(String(32))


class WarehouseRow(Base):
    __tablename__ = "warehouses"
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(TEXT))
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))


class VehicleRow(Base):
    __tablename__ = "vehicles"
    __table_args__ = (CheckConstraint("pack_count > 0", name="pack_count"),)
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("vehicle_models.id"))
    fleet_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    pack_count: Mapped[int] = mapped_column(Integer)
    adapter_ids: Mapped[list[str]] = mapped_column(JSON)


class PositionRow(Base):
    __tablename__ = "vehicle_positions"
    __table_args__ = (UniqueConstraint("vehicle_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle_id: Mapped[str] = mapped_column(ForeignKey("vehicles.id"))
    number: Mapped[int] = mapped_column(Integer)


class ShipmentRow(Base):
    __tablename__ = "shipments"
    __table_args__ = (
        CheckConstraint(one_of("state", SHIPMENT_STATES), name="state"),
        CheckConstraint(
            "(destination_station_id IS NULL) <> (destination_warehouse_id IS NULL)",
            name="one_destination",
        ),
    )
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    carrier: Mapped[str] = mapped_column(String(TEXT))
    destination_station_id: Mapped[str | None] = mapped_column(ForeignKey("stations.id"))
    destination_warehouse_id: Mapped[str | None] = mapped_column(ForeignKey("warehouses.id"))
    state: Mapped[str] = mapped_column(String(32))
    shipped_at: Mapped[datetime]
    received_at: Mapped[datetime | None]


# --- packs and their custody -----------------------------------------------------------------


class PackRow(Base):
    """A pack, its measured state and its one custodian (the custody columns)."""

    __tablename__ = "packs"
    __table_args__ = (
        CheckConstraint(one_of("safety_state", SAFETY_STATES), name="safety_state"),
        CheckConstraint(one_of("custody_kind", CUSTODY_KINDS), name="custody_kind"),
        CheckConstraint(custody_check_sql(), name="one_custodian"),
        CheckConstraint("soc >= 0 AND soc <= 1", name="soc"),
        CheckConstraint("soh >= 0 AND soh <= 1", name="soh"),
        CheckConstraint("cycle_count >= 0", name="cycle_count"),
    )
    serial: Mapped[str] = mapped_column(String(ID), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("pack_models.id"))
    owner_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    soc: Mapped[float] = mapped_column(Float)
    soh: Mapped[float] = mapped_column(Float)
    cycle_count: Mapped[int] = mapped_column(Integer)
    safety_state: Mapped[str] = mapped_column(String(32))
    insulation_resistance_ohm: Mapped[float] = mapped_column(Float)
    max_cell_temp_spread_c: Mapped[float] = mapped_column(Float)
    custody_kind: Mapped[str] = mapped_column(String(32))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("rack_slots.id"), unique=True)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle_positions.id"), unique=True)
    bay_id: Mapped[int | None] = mapped_column(ForeignKey("bays.id"), index=True)
    shipment_id: Mapped[str | None] = mapped_column(ForeignKey("shipments.id"), index=True)
    warehouse_id: Mapped[str | None] = mapped_column(ForeignKey("warehouses.id"), index=True)
    custody_since: Mapped[datetime]


# --- reservations, swaps, bills ----------------------------------------------------------------


class ReservationRow(Base):
    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint(one_of("state", RESERVATION_STATES), name="state"),
        # One open reservation per vehicle: `open_vehicle_id` is set exactly while open.
        CheckConstraint(
            "(state IN ('active', 'in_use') AND open_vehicle_id = vehicle_id)"
            " OR (state NOT IN ('active', 'in_use') AND open_vehicle_id IS NULL)",
            name="open_vehicle",
        ),
        Index("ix_reservations_state_expires_at", "state", "expires_at"),
    )
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    fleet_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    vehicle_id: Mapped[str] = mapped_column(ForeignKey("vehicles.id"), index=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    walk_in: Mapped[bool] = mapped_column(Boolean)
    need_kwh: Mapped[float | None] = mapped_column(Float)
    arrive_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(TEXT))
    open_vehicle_id: Mapped[str | None] = mapped_column(String(ID), unique=True)


class HoldRow(Base):
    """A pack held for one position of a reservation. `held_serial` equals `pack_serial` while
    the hold is live and is NULL once released; it is UNIQUE, so a pack is held at most once.
    """

    __tablename__ = "reservation_holds"
    __table_args__ = (
        UniqueConstraint("reservation_id", "position_no"),
        CheckConstraint("held_serial IS NULL OR held_serial = pack_serial", name="held_serial"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reservation_id: Mapped[str] = mapped_column(ForeignKey("reservations.id"))
    position_no: Mapped[int] = mapped_column(Integer)
    pack_serial: Mapped[str] = mapped_column(ForeignKey("packs.serial"), index=True)
    held_serial: Mapped[str | None] = mapped_column(String(ID), unique=True)


class SwapRow(Base):
    __tablename__ = "swaps"
    __table_args__ = (
        CheckConstraint(one_of("state", SWAP_STATES), name="state"),
        # One started swap per bay and per vehicle: the `active_*` columns are set exactly
        # while the swap is started, and they are UNIQUE.
        CheckConstraint(
            "(state = 'started' AND active_bay_id = bay_id AND active_vehicle_id = vehicle_id)"
            " OR (state <> 'started' AND active_bay_id IS NULL AND active_vehicle_id IS NULL)",
            name="active",
        ),
    )
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    bay_id: Mapped[int] = mapped_column(ForeignKey("bays.id"))
    vehicle_id: Mapped[str] = mapped_column(ForeignKey("vehicles.id"), index=True)
    reservation_id: Mapped[str] = mapped_column(ForeignKey("reservations.id"), index=True)
    state: Mapped[str] = mapped_column(String(32))
    need_kwh: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    abort_reason: Mapped[str | None] = mapped_column(String(TEXT))
    energy_delivered_kwh: Mapped[float | None] = mapped_column(Float)
    active_bay_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    active_vehicle_id: Mapped[str | None] = mapped_column(String(ID), unique=True)


class SwapLineRow(Base):
    __tablename__ = "swap_lines"
    __table_args__ = (UniqueConstraint("swap_id", "position_no"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    swap_id: Mapped[str] = mapped_column(ForeignKey("swaps.id"))
    position_no: Mapped[int] = mapped_column(Integer)
    pack_in: Mapped[str] = mapped_column(ForeignKey("packs.serial"))
    pack_out: Mapped[str | None] = mapped_column(ForeignKey("packs.serial"))
    soc_in: Mapped[float | None] = mapped_column(Float)
    soc_out: Mapped[float | None] = mapped_column(Float)
    energy_in_kwh: Mapped[float | None] = mapped_column(Float)
    energy_out_kwh: Mapped[float | None] = mapped_column(Float)
    slot_out_no: Mapped[int | None] = mapped_column(Integer)


class BillRow(Base):
    __tablename__ = "bills"
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    swap_id: Mapped[str] = mapped_column(ForeignKey("swaps.id"), unique=True)
    payer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    total_fen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class BillLineRow(Base):
    __tablename__ = "bill_lines"
    __table_args__ = (
        UniqueConstraint("bill_id", "line_no"),
        CheckConstraint(one_of("kind", BILL_LINE_KINDS), name="kind"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_id: Mapped[str] = mapped_column(ForeignKey("bills.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    payee_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    description: Mapped[str] = mapped_column(String(TEXT))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    unit_price_cny: Mapped[float] = mapped_column(Float)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


# --- idempotency and outbox ------------------------------------------------------------------


class IdempotencyRow(Base):
    __tablename__ = "idempotency_records"
    client_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    operation: Mapped[str] = mapped_column(String(ID))
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(index=True)


class OutboxRow(Base):
    """Lifecycle events. `seq` grows with insertion, not commit, so consumers select by
    `published_at IS NULL` (never by "seq after the last one seen") and no late commit is lost.
    """

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_published_at_seq", "published_at", "seq"),)
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(ID), unique=True)
    event_type: Mapped[str] = mapped_column(String(ID))
    pack_serial: Mapped[str | None] = mapped_column(String(ID), index=True)
    payload: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]
    published_at: Mapped[datetime | None]


# --- lifecycle ledger (storage/ledger.py; format in docs/design/ledger.md) ---------------------


class LedgerEntryRow(Base):
    """One log entry (bytes exactly as signed) and its RFC 9162 leaf hash (level-0 node)."""

    __tablename__ = "ledger_entries"
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerNodeRow(Base):
    """A complete subtree's hash at (level >= 1, index); written once, never changed."""

    __tablename__ = "ledger_nodes"
    __table_args__ = (CheckConstraint("level >= 1", name="level"),)
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerPackHeadRow(Base):
    """The newest entry of each pack's hash chain (admission's chain rule)."""

    __tablename__ = "ledger_pack_heads"
    pack: Mapped[str] = mapped_column(String(128), primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    type: Mapped[str] = mapped_column(String(ID))


class LedgerKeyRow(Base):
    """A registered entry-signing key (public half only): who, what it may write, from/until
    which log index. `name` is the signer it serves (`station:<id>`, `org:<id>`)."""

    __tablename__ = "ledger_keys"
    __table_args__ = (
        CheckConstraint(
            "revoked_from IS NULL OR revoked_from >= valid_from", name="revoked_after_valid"
        ),
    )
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    org: Mapped[str] = mapped_column(String(128))
    roles: Mapped[str] = mapped_column(String(TEXT))  # comma-separated ledger roles
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    valid_from: Mapped[int] = mapped_column(BigInteger)
    revoked_from: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class LedgerCheckpointRow(Base):
    """A signed checkpoint the log operator published (C2SP signed note)."""

    __tablename__ = "ledger_checkpoints"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime]


class LedgerRelayRow(Base):
    """What the relay did with one outbox event, written in the transaction that marks it
    published: `appended` (entries first_index.. first_index + entry_count), `skipped` (no
    ledger event type) or `rejected` (admission or mapping reasons)."""

    __tablename__ = "ledger_relay"
    __table_args__ = (
        CheckConstraint(one_of("status", ("appended", "skipped", "rejected")), name="status"),
    )
    outbox_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(ID))
    status: Mapped[str] = mapped_column(String(16), index=True)
    first_index: Mapped[int | None] = mapped_column(BigInteger)
    entry_count: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    relayed_at: Mapped[datetime]


class SealedSecretRow(Base):
    """A secret (e.g. an Ed25519 private key) sealed with AES-256-GCM under a key-encryption
    key that never enters the database; the name is the associated data."""

    __tablename__ = "sealed_secrets"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
