"""The ports of the service layer: what use cases need from persistence and the outside world.

`storage` implements the repositories and `UnitOfWork`; the clock and id generator have
system implementations in `services.system` and deterministic ones in the tests. Repositories
return `services.model` records and domain objects, never ORM rows; `get(..., for_update=True)`
locks the row until the unit of work ends (a no-op where the backend already serialises
writers). Nothing here commits: use cases call `UnitOfWork.commit` once, at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from openswap.domain.assets import Pack
from openswap.domain.catalog import Catalog
from openswap.domain.specs import Adapter, FrameStandard, PackModel, StationDesign, VehicleModel
from openswap.ledger.admission import ChainHeads
from openswap.ledger.store import LogStore
from openswap.services.model import (
    ApiClientRecord,
    BillRecord,
    CatalogCounts,
    Custody,
    IdempotencyRecord,
    LedgerKey,
    Organisation,
    OutboxEvent,
    PackRecord,
    PublishedCheckpoint,
    RelayRecord,
    RelayStatus,
    ReservationRecord,
    ReservationState,
    ShipmentRecord,
    SlotView,
    StationRecord,
    SwapRecord,
    UserRecord,
    VehicleRecord,
    Warehouse,
)
from openswap.services.station_records import StationCommandRepository, StationLinkRepository

Spec = FrameStandard | PackModel | VehicleModel | StationDesign | Adapter


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class IdGenerator(Protocol):
    def new_id(self, prefix: str) -> str:
        """A new unique id starting with `prefix` (e.g. `rsv_`, `swp_`)."""
        ...


class KeyStore(Protocol):
    """Named secret material (token signing keys, ledger checkpoint keys), never logged."""

    def get(self, name: str) -> bytes | None: ...
    def put(self, name: str, value: bytes) -> None: ...


class CatalogRepository(Protocol):
    def add(self, spec: Spec) -> None:
        """Store one specification; a pack model's frame must already be stored."""
        ...

    def specs(self) -> Catalog:
        """Every stored specification (no assets), as one domain `Catalog`."""
        ...

    def counts(self) -> CatalogCounts: ...


class OrganisationRepository(Protocol):
    def add(self, org: Organisation) -> None: ...
    def get(self, org_id: str) -> Organisation | None: ...
    def find(self) -> list[Organisation]: ...


class UserRepository(Protocol):
    def add(self, user: UserRecord) -> None: ...
    def by_username(self, username: str) -> UserRecord | None: ...


class ApiClientRepository(Protocol):
    def add(self, client: ApiClientRecord) -> None: ...
    def get(self, client_id: str) -> ApiClientRecord | None: ...


class StationRepository(Protocol):
    def add(self, record: StationRecord, *, bays: int, slots: Sequence[str | None]) -> None:
        """Store a station with bays 1..`bays` and one rack slot per entry of `slots`
        (numbered from 1; each entry is the slot's charger standard or None)."""
        ...

    def get(self, station_id: str, *, for_update: bool = False) -> StationRecord | None: ...
    def find(
        self, *, corridor: str | None = None, operator_org_id: str | None = None
    ) -> list[StationRecord]: ...
    def slots(self, station_id: str) -> list[SlotView]: ...
    def bay_numbers(self, station_id: str) -> list[int]: ...


class VehicleRepository(Protocol):
    def add(self, record: VehicleRecord) -> None:
        """Store a vehicle with pack positions 1..pack_count."""
        ...

    def get(self, vehicle_id: str, *, for_update: bool = False) -> VehicleRecord | None: ...
    def find(self, *, fleet_org_id: str | None = None) -> list[VehicleRecord]: ...


class WarehouseRepository(Protocol):
    def add(self, warehouse: Warehouse) -> None: ...
    def get(self, warehouse_id: str) -> Warehouse | None: ...


class ShipmentRepository(Protocol):
    def add(self, shipment: ShipmentRecord) -> None: ...
    def get(self, shipment_id: str, *, for_update: bool = False) -> ShipmentRecord | None: ...
    def update(self, shipment: ShipmentRecord) -> None: ...


class PackRepository(Protocol):
    def add(self, pack: Pack, custody: Custody, at: datetime) -> None:
        """Store a new pack (its `owner` is an organisation id) with its first custodian."""
        ...

    def get(self, serial: str, *, for_update: bool = False) -> PackRecord | None: ...
    def get_many(self, serials: Sequence[str], *, for_update: bool = False) -> list[PackRecord]:
        """The packs that exist among `serials`, ordered by serial (locks in that order)."""
        ...

    def at_station(self, station_id: str) -> list[PackRecord]:
        """Packs in the rack slots of a station, by slot number."""
        ...

    def in_vehicle(self, vehicle_id: str) -> list[PackRecord]:
        """Packs in the vehicle's positions, by position number."""
        ...

    def in_shipment(self, shipment_id: str) -> list[PackRecord]: ...
    def all(self) -> list[PackRecord]: ...
    def set_custody(self, serial: str, custody: Custody, at: datetime) -> None: ...
    def set_state(self, pack: Pack) -> None:
        """Overwrite the measured state (SoC, SoH, cycles, safety, insulation, spread)."""
        ...


class ReservationRepository(Protocol):
    def add(self, record: ReservationRecord) -> None:
        """Store a reservation and its holds; holds are live while the state is open."""
        ...

    def get(self, reservation_id: str, *, for_update: bool = False) -> ReservationRecord | None: ...

    def set_state(
        self,
        reservation_id: str,
        state: ReservationState,
        *,
        at: datetime | None = None,
        reason: str | None = None,
    ) -> None:
        """Move to `state`; leaving the open states releases every hold in the same write."""
        ...

    def open_for_vehicle(self, vehicle_id: str) -> ReservationRecord | None: ...
    def open_holding(self, serial: str) -> ReservationRecord | None:
        """The open reservation holding pack `serial`, if any."""
        ...

    def held_serials(self, serials: Sequence[str] | None = None) -> set[str]:
        """Serials (among `serials`, or all) held by open reservations."""
        ...

    def due_for_expiry(self, now: datetime, station_id: str | None = None) -> list[str]:
        """Ids of active reservations whose `expires_at` has passed."""
        ...

    def find(
        self,
        *,
        fleet_org_id: str | None = None,
        station_id: str | None = None,
        states: Sequence[ReservationState] | None = None,
    ) -> list[ReservationRecord]: ...


class SwapRepository(Protocol):
    def add(self, record: SwapRecord) -> None: ...
    def get(self, swap_id: str, *, for_update: bool = False) -> SwapRecord | None: ...
    def update(self, record: SwapRecord) -> None:
        """Overwrite state, times, energy and the lines' measurements."""
        ...

    def started_on_bay(self, station_id: str, bay_no: int) -> SwapRecord | None: ...
    def started_for_vehicle(self, vehicle_id: str) -> SwapRecord | None: ...
    def find(self, *, station_id: str | None = None) -> list[SwapRecord]: ...


class BillRepository(Protocol):
    def add(self, bill: BillRecord) -> None: ...
    def for_swap(self, swap_id: str) -> BillRecord | None: ...
    def find(self, *, payer_org_id: str | None = None) -> list[BillRecord]: ...


class IdempotencyRepository(Protocol):
    def get(self, client_id: str, key: str) -> IdempotencyRecord | None: ...
    def add(self, record: IdempotencyRecord) -> None: ...


class OutboxRepository(Protocol):
    def add(self, event: OutboxEvent) -> None: ...
    def unpublished(self, limit: int) -> list[OutboxEvent]:
        """The oldest unpublished events, in `seq` order."""
        ...

    def mark_published(self, seqs: Sequence[int], at: datetime) -> int:
        """Mark events published; returns how many were newly marked."""
        ...

    def for_pack(self, serial: str) -> list[OutboxEvent]:
        """Every event about one pack, oldest first (its custody and safety history)."""
        ...


class UnitOfWork(Protocol):
    """One database transaction and the repositories that work inside it.

    Use as a context manager: leaving the block without `commit()` rolls back. `flush()` sends
    pending writes so the database checks its constraints in that order (needed when one
    transaction moves packs through the same slots or positions).
    Storage errors surface as `domain.errors`: `ConcurrencyConflict` (retryable) or
    `ConflictError`.
    """

    @property
    def catalog(self) -> CatalogRepository: ...
    @property
    def organisations(self) -> OrganisationRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def api_clients(self) -> ApiClientRepository: ...
    @property
    def stations(self) -> StationRepository: ...
    @property
    def vehicles(self) -> VehicleRepository: ...
    @property
    def warehouses(self) -> WarehouseRepository: ...
    @property
    def shipments(self) -> ShipmentRepository: ...
    @property
    def packs(self) -> PackRepository: ...
    @property
    def reservations(self) -> ReservationRepository: ...
    @property
    def swaps(self) -> SwapRepository: ...
    @property
    def bills(self) -> BillRepository: ...
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def station_links(self) -> StationLinkRepository: ...
    @property
    def station_commands(self) -> StationCommandRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def flush(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


# --- lifecycle ledger ------------------------------------------------------------------------


class LedgerLogStore(LogStore, Protocol):
    """The Merkle log's store inside a ledger unit of work (appends commit with it)."""

    def leaf_index(self, leaf_hash: bytes) -> int | None:
        """The lowest index of an entry with this leaf hash, if any."""
        ...


class LedgerKeyRepository(Protocol):
    def all(self) -> list[LedgerKey]: ...
    def add(self, key: LedgerKey) -> None: ...
    def set_revoked_from(self, fingerprint: str, revoked_from: int) -> None: ...


class CheckpointRepository(Protocol):
    def add(self, size: int, root: bytes, note: str, at: datetime) -> PublishedCheckpoint: ...
    def latest(self) -> PublishedCheckpoint | None: ...
    def all(self) -> list[PublishedCheckpoint]:
        """Every published checkpoint, oldest first."""
        ...


class RelayRepository(Protocol):
    def add(self, records: Sequence[RelayRecord]) -> None: ...
    def find(self, status: RelayStatus | None = None, limit: int = 1000) -> list[RelayRecord]: ...
    def requeue_rejected(self) -> int:
        """Forget rejected records and mark their outbox events unpublished again."""
        ...


class LedgerUnitOfWork(UnitOfWork, Protocol):
    """A unit of work that also reaches the ledger's tables: the log store, chain heads, key
    registry, checkpoints, relay records and sealed secrets, all in the same transaction."""

    @property
    def log_store(self) -> LedgerLogStore: ...
    @property
    def chain_heads(self) -> ChainHeads: ...
    @property
    def ledger_keys(self) -> LedgerKeyRepository: ...
    @property
    def checkpoints(self) -> CheckpointRepository: ...
    @property
    def relay(self) -> RelayRepository: ...
    @property
    def secrets(self) -> KeyStore: ...


LedgerUnitOfWorkFactory = Callable[[], LedgerUnitOfWork]
