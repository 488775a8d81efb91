"""Concurrency on PostgreSQL: many clients reserving the same scarce packs at once never hold
one pack twice; concurrent retries of one idempotency key swap once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from openswap.catalog import builtin_catalog
from openswap.domain.assets import Vehicle
from openswap.domain.errors import ConflictError
from openswap.services import reservations as rsv
from openswap.services import swaps as sw
from openswap.services.model import VehicleRecord
from tests.storage.support import (
    ADMIN,
    FLEET_A,
    VEHICLE_MODEL,
    Database,
    build_network,
    check_invariants,
)

pytestmark = pytest.mark.postgres
CLIENTS = 12


def _only_postgres(db: Database) -> None:
    if db.backend != "postgres":
        pytest.skip("concurrency is exercised on PostgreSQL (SQLite serialises writers)")


def test_many_clients_reserving_scarce_packs_never_double_hold(db: Database) -> None:
    _only_postgres(db)
    build_network(db, s1_packs=3)
    vm = builtin_catalog(assets=False).vehicle_model(VEHICLE_MODEL)
    with db.uow() as uow:
        for i in range(CLIENTS):
            uow.vehicles.add(VehicleRecord(Vehicle(f"c{i}", vm, FLEET_A, 1)))
        uow.commit()
    ctx = db.ctx()

    def book(i: int) -> rsv.ReservationOutcome:
        actor = replace(ADMIN, client_id=f"client-{i}")
        return rsv.reserve(ctx, actor, rsv.ReserveSwap(f"c{i}", "s1", db.clock.now(), 50.0), "k")

    with ThreadPoolExecutor(CLIENTS) as pool:
        outcomes = list(pool.map(book, range(CLIENTS)))
    won = [o for o in outcomes if o.reserved]
    assert len(won) == 3  # three packs on the rack, one per single-pack vehicle
    held = [h.serial for o in won for h in o.held]
    assert sorted(held) == ["P01", "P02", "P03"]
    assert all(any(r.code == "shortfall" for r in o.refusals) for o in outcomes if not o.reserved)
    check_invariants(db)


def test_concurrent_retries_of_one_completion_swap_once(db: Database) -> None:
    _only_postgres(db)
    build_network(db)
    ctx = db.ctx()
    rsv.reserve(ctx, ADMIN, rsv.ReserveSwap("v1", "s1", db.clock.now(), 100.0), "r")
    started = sw.start_swap(ctx, ADMIN, sw.StartSwap("s1", 1, "v1"), "s")
    cmd = sw.CompleteSwap(started.id)

    def complete(_: int) -> sw.SwapView | str:
        try:
            return sw.complete_swap(ctx, ADMIN, cmd, "same-key")
        except ConflictError as exc:  # only if every retry lost; must not happen here
            return str(exc)

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(complete, range(6)))
    assert all(isinstance(r, sw.SwapView) for r in results), results
    assert len({r.bill.id for r in results if isinstance(r, sw.SwapView) and r.bill}) == 1
    with db.uow() as uow:
        assert len(uow.bills.find()) == 1
    check_invariants(db)
