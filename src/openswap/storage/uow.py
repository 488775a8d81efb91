"""`SqlUnitOfWork`: one database transaction and its repositories (implements the port).

Database errors are translated into `domain.errors`: lost races (unique violations, deadlocks,
serialisation failures, a locked SQLite file) become `ConcurrencyConflict`, which use cases
retry; any other integrity error becomes `ConflictError`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from openswap.domain.errors import ConcurrencyConflict, ConflictError
from openswap.storage.engine import READ_ONLY_OPTION, build_session_factory, is_sqlite
from openswap.storage.repositories import (
    ApiClientRepo,
    BillRepo,
    CatalogCache,
    CatalogRepo,
    IdempotencyRepo,
    OrganisationRepo,
    OutboxRepo,
    PackRepo,
    ReservationRepo,
    ShipmentRepo,
    StationRepo,
    SwapRepo,
    UserRepo,
    VehicleRepo,
    WarehouseRepo,
)
from openswap.storage.station_repositories import StationCommandRepo, StationLinkRepo

# PostgreSQL SQLSTATEs of lost races: unique violation, serialisation failure, deadlock,
# lock not available. (SQLite serialises writers, so a unique violation there is no race.)
_RACE_STATES = {"23505", "40001", "40P01", "55P03"}


def translate(exc: DBAPIError) -> Exception:
    """The domain error for a database error (see the module docstring)."""
    state = getattr(exc.orig, "sqlstate", None)
    text = str(exc.orig)
    if state in _RACE_STATES:
        return ConcurrencyConflict(f"a concurrent change won: {text.splitlines()[0]}")
    if isinstance(exc, OperationalError) and "locked" in text:
        return ConcurrencyConflict(f"database busy: {text.splitlines()[0]}")
    if isinstance(exc, IntegrityError):
        return ConflictError(f"the change violates a stored invariant: {text.splitlines()[0]}")
    return exc


class SqlUnitOfWork:
    """A unit of work over a SQLAlchemy session; see `services.ports.UnitOfWork`."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        catalog_cache: CatalogCache | None = None,
        writer_lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        self._factory = session_factory
        self._catalog_cache = catalog_cache
        self._writer_lock = writer_lock
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._session

    def __enter__(self) -> Self:
        if self._writer_lock is not None:
            self._writer_lock.__enter__()
        try:
            s = self._factory()
        except BaseException:
            if self._writer_lock is not None:
                self._writer_lock.__exit__(None, None, None)
            raise
        self._session = s
        self.catalog = CatalogRepo(s, self._catalog_cache)
        self.organisations = OrganisationRepo(s)
        self.users = UserRepo(s)
        self.api_clients = ApiClientRepo(s)
        self.stations = StationRepo(s, self.catalog)
        self.vehicles = VehicleRepo(s, self.catalog)
        self.warehouses = WarehouseRepo(s)
        self.shipments = ShipmentRepo(s)
        self.packs = PackRepo(s, self.catalog)
        self.reservations = ReservationRepo(s)
        self.swaps = SwapRepo(s)
        self.bills = BillRepo(s)
        self.idempotency = IdempotencyRepo(s)
        self.outbox = OutboxRepo(s)
        self.station_links = StationLinkRepo(s)
        self.station_commands = StationCommandRepo(s)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            session.rollback()
        finally:
            session.close()
            self._session = None
            if self._writer_lock is not None:
                self._writer_lock.__exit__(None, None, None)
        if isinstance(exc, DBAPIError):
            translated = translate(exc)
            if translated is not exc:
                raise translated from exc

    def commit(self) -> None:
        try:
            self.session.commit()
        except DBAPIError as exc:
            self.session.rollback()
            translated = translate(exc)
            if translated is exc:
                raise
            raise translated from exc

    def rollback(self) -> None:
        self.session.rollback()

    def flush(self) -> None:
        self.session.flush()


def build_uow_factory(engine: Engine, *, read_only: bool = False) -> Callable[[], SqlUnitOfWork]:
    """A `services.ports.UnitOfWorkFactory` over `engine`.

    `read_only=True` opens deferred transactions on SQLite (readers do not queue behind the
    writer lock); use it only for units of work that never write.
    """
    bind = engine.execution_options(**{READ_ONLY_OPTION: True}) if read_only else engine
    factory = build_session_factory(bind)
    cache = CatalogCache()  # specifications are immutable: shared by this factory's units
    # SQLite serialises writers anyway (BEGIN IMMEDIATE); queueing this process's writers on a
    # lock spares them sqlite's busy handler, which sleeps up to 100 ms between retries.
    lock = threading.RLock() if is_sqlite(engine) and not read_only else None
    return lambda: SqlUnitOfWork(factory, cache, lock)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A plain session for tests and maintenance scripts; rolls back unless committed."""
    with build_session_factory(engine)() as s:
        yield s
