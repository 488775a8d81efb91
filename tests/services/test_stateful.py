"""A stateful Hypothesis test: random reserve / cancel / start / complete / abort / move /
quarantine / release / retire / charge steps, the clock moving on, and retries of earlier
requests with their idempotency keys. After every step: each pack has exactly one custodian,
no pack is held twice, bills equal the sum of their lines and every completed swap has one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from openswap.domain.errors import OpenswapError
from openswap.services import custody as cu
from openswap.services import reservations as rsv
from openswap.services import swaps as sw
from openswap.services.model import SwapState
from tests.storage.support import ADMIN, Database, build_network, check_invariants

SERIALS = ("P01", "P02", "P03", "P04", "P10", "P11", "P12", "V1-1", "V1-2", "V2-1", "V3-1")
VEHICLES = ("v1", "v2", "v3")
STATIONS = ("s1", "s2")


@dataclass(frozen=True)
class Call:
    use_case: Callable[..., Any]
    command: Any
    key: str
    result: Any


class Operations(RuleBasedStateMachine):
    reservations = Bundle("reservations")
    swaps = Bundle("swaps")

    def __init__(self, db: Database) -> None:
        super().__init__()
        db.reset()
        build_network(db)
        self.db = db
        self.ctx = db.ctx()
        self.calls: list[Call] = []
        self.n = 0
        with db.uow() as uow:
            self.pack_count = len(uow.packs.all())

    def call(self, use_case: Callable[..., Any], command: Any) -> Any:
        self.n += 1
        key = f"key-{self.n}"
        try:
            result = use_case(self.ctx, ADMIN, command, key)
        except OpenswapError:
            return None  # a refusal: nothing was written, nothing to replay
        self.calls.append(Call(use_case, command, key, result))
        return result

    @rule(
        target=reservations,
        vehicle=st.sampled_from(VEHICLES),
        station=st.sampled_from(STATIONS),
        need=st.sampled_from([None, 50.0, 200.0]),
    )
    def reserve(self, vehicle: str, station: str, need: float | None) -> str:
        out = self.call(rsv.reserve, rsv.ReserveSwap(vehicle, station, self.db.clock.now(), need))
        if out is not None and not out.reserved:
            assert out.refusals, "a refusal must give its reasons"
        return out.reservation.id if out is not None and out.reservation else "none"

    @rule(reservation=reservations)
    def cancel(self, reservation: str) -> None:
        self.call(rsv.cancel_reservation, rsv.CancelReservation(reservation))

    @rule(
        target=swaps,
        vehicle=st.sampled_from(VEHICLES),
        station=st.sampled_from(STATIONS),
        bay=st.sampled_from([1, 2]),
    )
    def start(self, vehicle: str, station: str, bay: int) -> str:
        out = self.call(sw.start_swap, sw.StartSwap(station, bay, vehicle, need_kwh=50.0))
        return out.id if out is not None else "none"

    @rule(swap=consumes(swaps), soc=st.sampled_from([0.1, 0.3]), abort=st.booleans())
    def finish(self, swap: str, soc: float, abort: bool) -> None:
        if abort:
            self.call(sw.abort_swap, sw.AbortSwap(swap, "driver left"))
            return
        readings: tuple[sw.PackReading, ...] = ()
        if swap != "none":
            view = sw.get_swap(self.ctx, ADMIN, swap)
            readings = tuple(sw.PackReading(ln.pack_out, soc) for ln in view.lines if ln.pack_out)
        self.call(sw.complete_swap, sw.CompleteSwap(swap, readings))

    @rule(serial=st.sampled_from(SERIALS), slot=st.integers(1, 6), to_warehouse=st.booleans())
    def move(self, serial: str, slot: int, to_warehouse: bool) -> None:
        cmd = (
            cu.MovePack(serial, to_warehouse_id="w1")
            if to_warehouse
            else cu.MovePack(serial, "s1", slot)
        )
        self.call(cu.move_pack, cmd)

    @rule(serial=st.sampled_from(SERIALS))
    def quarantine(self, serial: str) -> None:
        self.call(cu.quarantine_pack, cu.QuarantinePack(serial, "alarm"))

    @rule(serial=st.sampled_from(SERIALS))
    def release(self, serial: str) -> None:
        self.call(cu.release_pack, cu.ReleasePack(serial))

    @rule(serial=st.sampled_from(SERIALS))
    def retire(self, serial: str) -> None:
        self.call(cu.retire_pack, cu.RetirePack(serial, "end of life"))

    @rule(serial=st.sampled_from(SERIALS))
    def charge(self, serial: str) -> None:
        self.call(cu.record_pack_reading, cu.RecordPackReading(serial, soc=1.0))

    @rule(minutes=st.sampled_from([5, 45]))
    def wait(self, minutes: int) -> None:
        self.db.clock.advance(timedelta(minutes=minutes).total_seconds())

    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        if not self.calls:
            return
        call = data.draw(st.sampled_from(self.calls))
        again = call.use_case(self.ctx, ADMIN, call.command, call.key)
        assert again == call.result

    @invariant()
    def custody_holds_and_bills(self) -> None:
        check_invariants(self.db, self.pack_count)
        with self.db.uow() as uow:
            completed = [s for s in uow.swaps.find() if s.state is SwapState.COMPLETED]
            assert {b.swap_id for b in uow.bills.find()} == {s.id for s in completed}


def test_random_operations_keep_every_invariant(db: Database) -> None:
    run_state_machine_as_test(
        lambda: Operations(db),  # type: ignore[arg-type]
        settings=settings(
            # PostgreSQL runs fewer examples: each one truncates and reseeds the schema.
            max_examples=15 if db.backend == "sqlite" else 8,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
