"""Reservations: holds, every reason for a refusal, alternatives, expiry, cancellation,
idempotent retries and tenant rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from openswap.domain.errors import (
    IdempotencyConflict,
    InputError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
)
from openswap.services import reservations as rsv
from openswap.services.custody import (
    QuarantinePack,
    RecordPackReading,
    quarantine_pack,
    record_pack_reading,
)
from openswap.services.model import ReservationState
from tests.storage.support import (
    ADMIN,
    FLEET_A_ACTOR,
    FLEET_B_ACTOR,
    OPERATOR_ACTOR,
    Database,
    build_network,
    check_invariants,
)


def _reserve(
    db: Database, vehicle: str = "v1", station: str = "s1", key: str = "k", **kw: object
) -> rsv.ReservationOutcome:
    ctx = db.ctx()
    cmd = rsv.ReserveSwap(vehicle, station, db.clock.now() + timedelta(minutes=30), **kw)  # type: ignore[arg-type]
    return rsv.reserve(ctx, FLEET_A_ACTOR if vehicle != "v3" else FLEET_B_ACTOR, cmd, key)


def test_reserve_holds_the_best_charged_pack_per_position(db: Database) -> None:
    build_network(db)
    out = _reserve(db, need_kwh=200.0)
    assert out.reserved
    assert out.reservation is not None
    assert [h.serial for h in out.held] == ["P04", "P03"]  # most energy first
    assert [h.position_no for h in out.held] == [1, 2]
    assert out.reservation.state is ReservationState.ACTIVE
    assert out.reservation.expires_at == db.clock.now() + timedelta(minutes=60)
    check_invariants(db)


def test_a_retry_returns_the_first_answer_and_holds_nothing_more(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    cmd = rsv.ReserveSwap("v1", "s1", db.clock.now(), 200.0)
    first = rsv.reserve(ctx, FLEET_A_ACTOR, cmd, "same")
    again = rsv.reserve(ctx, FLEET_A_ACTOR, cmd, "same")
    assert again == first
    with db.uow() as uow:
        assert len(uow.reservations.find()) == 1
    with pytest.raises(IdempotencyConflict):
        rsv.reserve(ctx, FLEET_A_ACTOR, replace(cmd, need_kwh=100.0), "same")
    # keys are per client: another client may use the same key
    other = rsv.reserve(ctx, ADMIN, rsv.ReserveSwap("v2", "s1", db.clock.now(), 50.0), "same")
    assert other.reserved


def test_refusal_lists_every_reason_and_the_stations_that_could(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    # P01 quarantined, P02 in alarm, P03 nearly empty, P04 held by another vehicle
    quarantine_pack(ctx, ADMIN, QuarantinePack("P01", "swollen cell"), "q")
    record_pack_reading(
        ctx, ADMIN, RecordPackReading("P02", safety_state=None, max_cell_temp_spread_c=7.5), "r1"
    )
    record_pack_reading(ctx, ADMIN, RecordPackReading("P03", soc=0.05), "r2")
    assert _reserve(db, "v2", key="other", need_kwh=100.0).reserved
    out = _reserve(db, "v1", need_kwh=200.0)
    assert not out.reserved
    assert out.reservation is None
    assert out.held == ()
    codes = {r.code: r for r in out.refusals}
    assert {"safety_state", "temp_spread", "energy", "packs_held", "shortfall"} <= set(codes)
    assert codes["safety_state"].serials == ("P01",)
    assert codes["temp_spread"].serials == ("P02",)
    assert codes["packs_held"].serials == ("P04",)
    assert "needs 2" in codes["shortfall"].message
    assert [a.station_id for a in out.alternatives] == ["s2"]
    assert out.alternatives[0].compatible_charged_packs == 3
    check_invariants(db)


def test_a_vehicle_with_an_open_reservation_is_refused(db: Database) -> None:
    build_network(db)
    assert _reserve(db, key="a", need_kwh=100.0).reserved
    out = _reserve(db, station="s2", key="b", need_kwh=100.0)
    assert [r.code for r in out.refusals] == ["vehicle_busy"]


def test_expired_holds_are_released_lazily_and_by_the_sweep(db: Database) -> None:
    build_network(db, s1_packs=2)
    ctx = db.ctx()
    first = _reserve(db, key="a", need_kwh=100.0)
    assert first.reserved
    assert first.reservation is not None
    db.clock.advance(3601)
    # the same packs can be held again: the overdue reservation expires first
    again = _reserve(db, "v1", key="b", need_kwh=100.0)
    assert again.reserved
    view = rsv.get_reservation(ctx, FLEET_A_ACTOR, first.reservation.id)
    assert view.state is ReservationState.EXPIRED
    assert view.closed_at == db.clock.now()
    db.clock.advance(3601)
    assert rsv.sweep(ctx) == [again.reservation.id]  # type: ignore[union-attr]
    assert rsv.sweep(ctx) == []
    check_invariants(db)


def test_cancel_releases_the_hold_once(db: Database) -> None:
    build_network(db, s1_packs=2)
    ctx = db.ctx()
    out = _reserve(db, key="a", need_kwh=100.0)
    assert out.reservation is not None
    cancel = rsv.CancelReservation(out.reservation.id)
    view = rsv.cancel_reservation(ctx, FLEET_A_ACTOR, cancel, "c")
    assert view.state is ReservationState.CANCELLED
    assert rsv.cancel_reservation(ctx, FLEET_A_ACTOR, cancel, "c") == view  # a retry
    with pytest.raises(InvalidTransitionError, match="cancelled"):
        rsv.cancel_reservation(ctx, FLEET_A_ACTOR, cancel, "c2")
    with db.uow() as uow:
        assert uow.reservations.held_serials() == set()
    assert _reserve(db, "v1", key="b", need_kwh=100.0).reserved


def test_tenants_are_isolated(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    out = _reserve(db, key="a", need_kwh=100.0)
    assert out.reservation is not None
    with pytest.raises(PermissionDeniedError):
        rsv.reserve(ctx, FLEET_B_ACTOR, rsv.ReserveSwap("v1", "s1", db.clock.now()), "x")
    with pytest.raises(NotFoundError):
        rsv.get_reservation(ctx, FLEET_B_ACTOR, out.reservation.id)
    with pytest.raises(PermissionDeniedError):
        rsv.cancel_reservation(ctx, FLEET_B_ACTOR, rsv.CancelReservation(out.reservation.id), "x")
    assert rsv.list_reservations(ctx, FLEET_B_ACTOR) == ()
    assert len(rsv.list_reservations(ctx, FLEET_A_ACTOR)) == 1
    assert len(rsv.list_reservations(ctx, OPERATOR_ACTOR, station_id="s1")) == 1


def test_bad_requests_name_the_field(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    far = rsv.ReserveSwap("v1", "s1", db.clock.now() + timedelta(hours=7))
    with pytest.raises(InputError, match="arrive_at"):
        rsv.reserve(ctx, ADMIN, far, "a")
    with pytest.raises(InputError, match="need_kwh"):
        rsv.reserve(ctx, ADMIN, rsv.ReserveSwap("v1", "s1", db.clock.now(), float("nan")), "b")
    with pytest.raises(InputError, match="Idempotency-Key"):
        rsv.reserve(ctx, ADMIN, rsv.ReserveSwap("v1", "s1", db.clock.now()), "")
    with pytest.raises(NotFoundError, match="station"):
        rsv.reserve(ctx, ADMIN, rsv.ReserveSwap("v1", "nowhere", db.clock.now()), "c")
