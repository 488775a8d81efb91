"""Swap transactions: start, complete (custody, SoC, energy, bill and settlement), abort,
interlocks re-checked at start, idempotent retries that never swap twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from openswap.domain.assets import SafetyState
from openswap.domain.errors import (
    ConflictError,
    InvalidTransitionError,
    PermissionDeniedError,
    SwapRefusedError,
)
from openswap.services import reservations as rsv
from openswap.services import swaps as sw
from openswap.services.billing import fen
from openswap.services.custody import RecordPackReading, record_pack_reading
from openswap.services.model import BillLineKind, Custody, ReservationState, SwapState
from openswap.services.queries import pending_events
from tests.storage.support import (
    BANK,
    FLEET_A,
    FLEET_A_ACTOR,
    FLEET_B_ACTOR,
    OPERATOR,
    S1_DEVICE,
    Database,
    build_network,
    check_invariants,
)


def _book(db: Database, vehicle: str = "v1", need: float = 200.0) -> str:
    out = rsv.reserve(
        db.ctx(),
        FLEET_A_ACTOR,
        rsv.ReserveSwap(vehicle, "s1", db.clock.now(), need),
        f"r-{vehicle}",
    )
    assert out.reservation is not None
    return out.reservation.id


def _snapshot(db: Database) -> list[object]:
    with db.uow() as uow:
        return [(p.pack, p.custody) for p in uow.packs.all()]


def test_a_booked_swap_moves_every_pack_and_bills_the_fleet(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    rid = _book(db)
    started = sw.start_swap(ctx, S1_DEVICE, sw.StartSwap("s1", 1, "v1"), "s")
    assert started.state is SwapState.STARTED
    assert started.reservation_id == rid
    assert [(ln.pack_in, ln.pack_out) for ln in started.lines] == [("P04", "V1-1"), ("P03", "V1-2")]
    db.clock.advance(300)
    readings = (sw.PackReading("V1-1", 0.18), sw.PackReading("V1-2", 0.22))
    done = sw.complete_swap(ctx, S1_DEVICE, sw.CompleteSwap(started.id, readings), "c")
    assert done.state is SwapState.COMPLETED
    assert done.finished_at == db.clock.now()
    with db.uow() as uow:
        assert [p.serial for p in uow.packs.in_vehicle("v1")] == ["P04", "P03"]
        # the vehicle's packs took the slots the new ones left (3 and 4)
        assert uow.packs.get("V1-1").custody == Custody.in_slot("s1", 4)  # type: ignore[union-attr]
        assert uow.packs.get("V1-2").custody == Custody.in_slot("s1", 3)  # type: ignore[union-attr]
        assert uow.packs.get("V1-1").pack.soc == 0.18  # type: ignore[union-attr]
        assert uow.reservations.get(rid).state is ReservationState.FULFILLED  # type: ignore[union-attr]
    usable = 145.0 * 0.96
    expected = round(usable * (0.98 + 0.97) - usable * (0.18 + 0.22), 3)
    assert done.energy_delivered_kwh == pytest.approx(expected, abs=1e-3)
    bill = done.bill
    assert bill is not None
    assert bill.payer_org_id == FLEET_A
    kinds = {ln.kind: ln for ln in bill.lines}
    assert kinds[BillLineKind.ENERGY].unit_price_cny == 1.097  # 09:05 local: peak
    assert kinds[BillLineKind.ENERGY].payee_org_id == OPERATOR
    assert kinds[BillLineKind.SERVICE].payee_org_id == OPERATOR
    assert kinds[BillLineKind.BATTERY_USAGE].payee_org_id == BANK
    assert kinds[BillLineKind.ENERGY].amount_fen == fen(expected, 1.097)
    assert bill.total_fen == sum(ln.amount_fen for ln in bill.lines)
    swapped = [e for e in pending_events(ctx) if e.event_type == "PackSwapped"]
    assert sorted(e.pack_serial or "" for e in swapped) == ["P03", "P04", "V1-1", "V1-2"]
    check_invariants(db)


def test_retrying_a_completion_never_swaps_twice(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    _book(db)
    started = sw.start_swap(ctx, S1_DEVICE, sw.StartSwap("s1", 1, "v1"), "s")
    assert sw.start_swap(ctx, S1_DEVICE, sw.StartSwap("s1", 1, "v1"), "s") == started
    first = sw.complete_swap(ctx, S1_DEVICE, sw.CompleteSwap(started.id), "c")
    events = len(pending_events(ctx))
    assert sw.complete_swap(ctx, S1_DEVICE, sw.CompleteSwap(started.id), "c") == first
    assert len(pending_events(ctx)) == events
    with pytest.raises(InvalidTransitionError, match="completed"):
        sw.complete_swap(ctx, S1_DEVICE, sw.CompleteSwap(started.id), "c-new-key")
    with db.uow() as uow:
        assert len(uow.bills.find()) == 1
    check_invariants(db)


def test_abort_changes_nothing_but_the_swap(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    rid = _book(db)
    before = _snapshot(db)
    started = sw.start_swap(ctx, S1_DEVICE, sw.StartSwap("s1", 2, "v1"), "s")
    aborted = sw.abort_swap(ctx, S1_DEVICE, sw.AbortSwap(started.id, "driver left"), "a")
    assert aborted.state is SwapState.ABORTED
    assert aborted.abort_reason == "driver left"
    assert _snapshot(db) == before
    # the booking is active again and can be swapped later
    assert rsv.get_reservation(ctx, FLEET_A_ACTOR, rid).state is ReservationState.ACTIVE
    with pytest.raises(InvalidTransitionError):
        sw.abort_swap(ctx, S1_DEVICE, sw.AbortSwap(started.id, "again"), "a2")
    again = sw.start_swap(ctx, S1_DEVICE, sw.StartSwap("s1", 1, "v1", rid), "s2")
    assert again.state is SwapState.STARTED
    check_invariants(db)


def test_walk_in_selects_and_holds_packs_and_abort_releases_them(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    started = sw.start_swap(ctx, S1_DEVICE, sw.StartSwap("s1", 1, "v2", need_kwh=50.0), "w")
    assert [ln.pack_in for ln in started.lines] == ["P04"]
    with db.uow() as uow:
        assert uow.reservations.held_serials() == {"P04"}
    sw.abort_swap(ctx, S1_DEVICE, sw.AbortSwap(started.id, "no payment"), "a")
    with db.uow() as uow:
        assert uow.reservations.held_serials() == set()
    check_invariants(db)


def test_start_rechecks_interlocks_with_the_current_pack_state(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    _book(db)
    record_pack_reading(
        ctx,
        S1_DEVICE,
        RecordPackReading("P04", safety_state=SafetyState.ALARM, insulation_resistance_ohm=1000.0),
        "r",
    )
    with pytest.raises(SwapRefusedError) as refused:
        sw.start_swap(ctx, S1_DEVICE, sw.StartSwap("s1", 1, "v1"), "s")
    text = " | ".join(refused.value.reasons)
    assert "P04: safety_state" in text
    assert "P04: insulation" in text


def test_busy_bays_vehicles_and_strangers_are_refused(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    _book(db)
    sw.start_swap(ctx, S1_DEVICE, sw.StartSwap("s1", 1, "v1"), "s")
    with pytest.raises(ConflictError, match="busy"):
        sw.start_swap(ctx, S1_DEVICE, sw.StartSwap("s1", 1, "v2"), "s2")
    with pytest.raises(ConflictError, match="in swap"):
        sw.start_swap(ctx, S1_DEVICE, sw.StartSwap("s1", 2, "v1"), "s3")
    with pytest.raises(PermissionDeniedError):
        sw.start_swap(ctx, FLEET_B_ACTOR, sw.StartSwap("s1", 2, "v3"), "s4")
    check_invariants(db)


def test_a_reservation_that_expired_cannot_start(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    rid = _book(db)
    db.clock.advance(timedelta(hours=2).total_seconds())
    with pytest.raises(InvalidTransitionError, match="expired"):
        sw.start_swap(ctx, S1_DEVICE, sw.StartSwap("s1", 1, "v1", rid), "s")
