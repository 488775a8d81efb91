"""Custody use cases: each changes the single custodian (or safety state) and writes its
lifecycle event in the same transaction; held, retired and moving packs are protected."""

from __future__ import annotations

import pytest

from openswap.domain.assets import SafetyState
from openswap.domain.errors import (
    ConflictError,
    InvalidTransitionError,
    PermissionDeniedError,
)
from openswap.services import custody as cu
from openswap.services import reservations as rsv
from openswap.services import swaps as sw
from openswap.services.model import Custody, ReservationState, ShipmentState, SwapState
from openswap.services.queries import (
    mark_published,
    pack_history,
    pending_events,
    station_inventory,
)
from tests.storage.support import (
    ADMIN,
    FLEET_A_ACTOR,
    OPERATOR_ACTOR,
    S1_DEVICE,
    Database,
    build_network,
    check_invariants,
)


def test_move_ship_receive_and_retire_write_one_event_each(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    moved = cu.move_pack(ctx, S1_DEVICE, cu.MovePack("P01", "s1", 6), "m")
    assert moved.custody == Custody.in_slot("s1", 6)
    shipment = cu.ship_packs(
        ctx, OPERATOR_ACTOR, cu.ShipPacks(("P01", "P02"), "truck 7", to_station_id="s3"), "sh"
    )
    assert shipment.state is ShipmentState.IN_TRANSIT
    assert {p.custody for p in shipment.packs} == {Custody.in_shipment(shipment.id)}
    got = cu.receive_shipment(
        ctx, OPERATOR_ACTOR, cu.ReceiveShipment(shipment.id, (cu.Placement("P02", 2),)), "rc"
    )
    assert {p.serial: p.custody for p in got.packs} == {
        "P01": Custody.in_slot("s3", 1),
        "P02": Custody.in_slot("s3", 2),
    }
    assert got.state is ShipmentState.RECEIVED
    retired = cu.retire_pack(
        ctx, OPERATOR_ACTOR, cu.RetirePack("P02", "SoH below second-life floor"), "rt"
    )
    assert retired.custody == Custody.retired()
    history = [e.event_type for e in pack_history(ctx, ADMIN, "P02")]
    assert history == ["PackShipped", "PackReceived", "PackRetired"]
    with pytest.raises(InvalidTransitionError, match="retired"):
        cu.move_pack(ctx, ADMIN, cu.MovePack("P02", to_warehouse_id="w1"), "m2")
    check_invariants(db)


def test_received_packs_fill_free_slots_from_the_lowest(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    shipment = cu.ship_packs(ctx, ADMIN, cu.ShipPacks(("P01",), "truck", to_station_id="s2"), "sh")
    got = cu.receive_shipment(ctx, ADMIN, cu.ReceiveShipment(shipment.id), "rc")
    assert got.packs[0].custody == Custody.in_slot("s2", 4)
    with pytest.raises(InvalidTransitionError):
        cu.receive_shipment(ctx, ADMIN, cu.ReceiveShipment(shipment.id), "rc2")


def test_held_packs_and_packs_in_vehicles_stay_put(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    rsv.reserve(ctx, FLEET_A_ACTOR, rsv.ReserveSwap("v2", "s1", db.clock.now(), 50.0), "r")
    with pytest.raises(ConflictError, match="held by reservation"):
        cu.move_pack(ctx, ADMIN, cu.MovePack("P04", "s1", 6), "m")
    with pytest.raises(ConflictError, match="held by reservation"):
        cu.retire_pack(ctx, ADMIN, cu.RetirePack("P04", "x"), "rt")
    with pytest.raises(ConflictError, match="by a swap"):
        cu.ship_packs(ctx, ADMIN, cu.ShipPacks(("V1-1",), "truck", to_warehouse_id="w1"), "sh")
    with pytest.raises(ConflictError, match="holds pack"):
        cu.move_pack(ctx, ADMIN, cu.MovePack("P01", "s1", 2), "m2")
    with pytest.raises(ConflictError, match="ship it"):
        cu.move_pack(ctx, ADMIN, cu.MovePack("P01", "s2", 4), "m3")
    with pytest.raises(PermissionDeniedError):
        cu.move_pack(ctx, FLEET_A_ACTOR, cu.MovePack("P01", "s1", 6), "m4")


def test_quarantine_cancels_the_hold_and_aborts_the_swap(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    out = rsv.reserve(ctx, FLEET_A_ACTOR, rsv.ReserveSwap("v2", "s1", db.clock.now(), 50.0), "r")
    assert out.reservation is not None
    started = sw.start_swap(ctx, S1_DEVICE, sw.StartSwap("s1", 1, "v2"), "s")
    q = cu.quarantine_pack(ctx, S1_DEVICE, cu.QuarantinePack("P04", "thermal event"), "q")
    assert q.safety_state is SafetyState.QUARANTINED
    assert q.held_by is None
    assert sw.get_swap(ctx, ADMIN, started.id).state is SwapState.ABORTED
    assert rsv.get_reservation(ctx, ADMIN, out.reservation.id).state is ReservationState.CANCELLED
    with pytest.raises(InvalidTransitionError):
        cu.quarantine_pack(ctx, S1_DEVICE, cu.QuarantinePack("P04", "again"), "q2")
    released = cu.release_pack(ctx, OPERATOR_ACTOR, cu.ReleasePack("P04"), "rel")
    assert released.safety_state is SafetyState.OK
    assert [e.event_type for e in pack_history(ctx, ADMIN, "P04")] == [
        "PackQuarantined",
        "PackReleased",
    ]
    check_invariants(db)


def test_outbox_feed_is_marked_published_once(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    cu.move_pack(ctx, ADMIN, cu.MovePack("P01", to_warehouse_id="w1"), "m")
    cu.move_pack(ctx, ADMIN, cu.MovePack("P01", "s1", 5), "m2")
    events = pending_events(ctx)
    assert [e.event_type for e in events] == ["PackMoved", "PackMoved"]
    assert events[0].payload["to"] == {"kind": "warehouse", "warehouse_id": "w1"}
    seqs = [e.seq for e in events if e.seq is not None]
    assert mark_published(ctx, seqs) == 2
    assert mark_published(ctx, seqs) == 0
    assert pending_events(ctx) == ()


def test_inventory_counts_stock_by_model_and_soc_band(db: Database) -> None:
    build_network(db)
    inv = station_inventory(db.ctx(), FLEET_A_ACTOR, "s1")
    assert inv.free_slots == 2
    assert [(s.soc_band, s.packs) for s in inv.stock] == [("0.90-1.00", 4)]
