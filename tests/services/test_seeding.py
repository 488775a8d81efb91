"""Seeding: the built-in catalog and the Ningde–Xiamen demo network, re-runnable."""

from __future__ import annotations

from datetime import timedelta

from openswap.catalog import builtin_catalog
from openswap.services import reservations as rsv
from openswap.services import swaps as sw
from openswap.services.model import SYSTEM_ACTOR, CustodyKind
from openswap.services.seeding import SeedReport, org_id, seed_database
from tests.storage.support import Database, check_invariants


def test_catalog_only_seeding_stores_every_specification(db: Database) -> None:
    report = seed_database(db.uow(), builtin_catalog(), demo=False, clock=db.clock)
    specs = builtin_catalog(assets=False)
    total = sum(
        len(getattr(specs, k))
        for k in ("frames", "pack_models", "vehicle_models", "station_designs", "adapters")
    )
    assert report == SeedReport(specs=total)
    with db.uow() as uow:
        assert uow.stations.find() == []
        assert uow.packs.all() == []


def test_demo_seeding_builds_a_network_that_swaps(db: Database) -> None:
    report = seed_database(db.uow(), builtin_catalog(), demo=True, clock=db.clock, ids=db.ids)
    assert report.stations == 8
    assert report.vehicles == 8
    assert (
        seed_database(db.uow(), builtin_catalog(), demo=True, clock=db.clock, ids=db.ids)
        == SeedReport()
    )
    with db.uow() as uow:
        g15 = uow.stations.find(corridor="g15-ningde-xiamen")
        assert sorted(s.id for s in g15) == [
            "changle-n",
            "changle-s",
            "luoyangjiang-n",
            "luoyangjiang-s",
        ]
        assert {s.operator_org_id for s in g15} == {org_id("QIJI Energy (CATL)")} == {"qiji-energy"}
        assert all(s.km in (150.0, 310.0) for s in g15)
        packs = uow.packs.all()
        assert len(packs) == report.packs
        in_vehicles = [p for p in packs if p.custody.kind is CustodyKind.VEHICLE]
        assert len(in_vehicles) == sum(v.vehicle.pack_count for v in uow.vehicles.find())
        assert len(uow.outbox.unpublished(1000)) == report.packs  # one PackRegistered each
    check_invariants(db, report.packs)
    ctx = db.ctx()
    out = rsv.reserve(
        ctx,
        SYSTEM_ACTOR,
        rsv.ReserveSwap("fj-g15-001", "changle-s", db.clock.now() + timedelta(minutes=20), 300.0),
        "r",
    )
    assert out.reserved, out.refusals
    started = sw.start_swap(ctx, SYSTEM_ACTOR, sw.StartSwap("changle-s", 1, "fj-g15-001"), "s")
    done = sw.complete_swap(ctx, SYSTEM_ACTOR, sw.CompleteSwap(started.id), "c")
    assert done.bill is not None
    assert done.bill.total_fen > 0
    check_invariants(db, report.packs)
