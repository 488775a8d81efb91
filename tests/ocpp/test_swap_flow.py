"""End to end over real websockets on loopback: an emulated swap station (the `ocpp`
package's charge-point side) against the central system, with the database checked after."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from openswap.ocpp.emulator import Truck
from openswap.services.model import CustodyKind, SwapState
from openswap.services.reservations import ReserveSwap, reserve
from openswap.services.station_records import CommandState
from tests.ocpp.support import central_system, emulator, s1_model, wait_for, with_password
from tests.storage.support import FLEET_A_ACTOR, Database, build_network, check_invariants


def _reserve_v2(db: Database) -> str:
    ctx = db.ctx()
    out = reserve(
        ctx, FLEET_A_ACTOR, ReserveSwap("v2", "s1", db.clock.now() + timedelta(minutes=10)), "k1"
    )
    assert out.reserved, out.refusals
    assert out.reservation is not None
    return out.reservation.id


def test_reserved_truck_arrives_and_swaps(db: Database) -> None:
    build_network(db)
    with_password(db)
    rsv = _reserve_v2(db)
    ctx = db.ctx()
    with central_system(ctx) as server:

        async def scenario() -> None:
            em = emulator(server, s1_model(db))
            runner = asyncio.ensure_future(em.run())
            await asyncio.wait_for(em.booted.wait(), 10)
            assert em.boot_status == "Accepted"
            info = await em.arrive(Truck("v2", [("V2-1", 0.2, 0.96)]))
            assert info["status"] == "Accepted"
            assert info["group_id_token"]["id_token"] == "fleet-a"
            await wait_for(lambda: em.model.swaps_done == 1, what="the swap")
            await wait_for(lambda: _swap_state(db) == SwapState.COMPLETED, what="completion")
            await em.stop()
            runner.cancel()

        asyncio.run(scenario())
    with db.uow() as uow:
        swap = uow.swaps.find(station_id="s1")[0]
        assert swap.reservation_id == rsv
        bill = uow.bills.for_swap(swap.id)
        assert bill is not None
        assert bill.total_fen > 0
        held = swap.lines[0].pack_in
        assert uow.packs.get(held).custody.kind is CustodyKind.VEHICLE  # type: ignore[union-attr]
        back = uow.packs.get("V2-1")
        assert back is not None
        assert back.custody.kind is CustodyKind.SLOT
        cmds = uow.station_commands.find("s1")
        assert {c.action for c in cmds} >= {"reserve_slot", "request_swap"}
        assert all(c.state is CommandState.ACCEPTED for c in cmds)
    check_invariants(db)


def _swap_state(db: Database) -> SwapState | None:
    with db.uow() as uow:
        swaps = uow.swaps.find(station_id="s1")
    return swaps[0].state if swaps else None


def test_reconnect_in_the_middle_of_a_swap_applies_each_report_once(db: Database) -> None:
    build_network(db)
    with_password(db)
    _reserve_v2(db)
    with central_system(db.ctx()) as server:

        async def scenario() -> list[str]:
            em = emulator(server, s1_model(db))
            runner = asyncio.ensure_future(em.run())
            await asyncio.wait_for(em.booted.wait(), 10)
            em.drop_after_send.add(
                "BatterySwap"
            )  # BatteryIn reaches the server, its answer is lost
            await em.arrive(Truck("v2", [("V2-1", 0.2, 0.96)]))
            await wait_for(lambda: em.model.swaps_done == 1, what="the swap")
            await wait_for(lambda: _swap_state(db) == SwapState.COMPLETED, what="completion")
            await em.stop()
            runner.cancel()
            assert em.connections >= 2
            return em.replayed

        replayed = asyncio.run(scenario())
    assert replayed, "the BatteryIn report was not resent"
    with db.uow() as uow:
        swaps = uow.swaps.find(station_id="s1")
        assert len(swaps) == 1
        assert len(uow.bills.find()) == 1
        events = [e for e in uow.outbox.for_pack("V2-1") if e.event_type == "PackSwapped"]
        assert len(events) == 1
    check_invariants(db)


def test_unknown_pack_from_the_truck_is_refused_and_its_slot_taken_out_of_service(
    db: Database,
) -> None:
    build_network(db)
    with_password(db)
    _reserve_v2(db)
    with central_system(db.ctx()) as server:

        async def scenario() -> None:
            em = emulator(server, s1_model(db))
            runner = asyncio.ensure_future(em.run())
            await asyncio.wait_for(em.booted.wait(), 10)
            await em.arrive(Truck("v2", [("STRANGER-9", 0.2, 0.9)]))
            await wait_for(lambda: _swap_state(db) == SwapState.ABORTED, what="abort")
            await wait_for(
                lambda: any(a == "ChangeAvailability" for a, _ in em.model.received),
                what="slot out of service",
            )
            await em.stop()
            runner.cancel()
            assert not any(
                s.operative is False and s.serial is None for s in em.model.slots.values()
            )

        asyncio.run(scenario())
    with db.uow() as uow:
        events = uow.outbox.for_pack("STRANGER-9")
        assert [e.event_type for e in events] == ["PackQuarantined"]
        assert events[0].payload["known"] is False
        assert uow.bills.find() == []
        assert uow.packs.get("V2-1").custody.kind is CustodyKind.VEHICLE  # type: ignore[union-attr]
    check_invariants(db)


def test_unsafe_pack_handed_out_is_refused_and_quarantined(db: Database) -> None:
    build_network(db)
    with_password(db)
    _reserve_v2(db)
    with central_system(db.ctx()) as server:

        async def scenario() -> None:
            model = s1_model(db)
            for slot in model.slots.values():  # the station measures a worn-out pack
                slot.soh = 0.5
            em = emulator(server, model)
            runner = asyncio.ensure_future(em.run())
            await asyncio.wait_for(em.booted.wait(), 10)
            await em.arrive(Truck("v2", [("V2-1", 0.2, 0.96)]))
            await wait_for(lambda: _swap_state(db) == SwapState.ABORTED, what="abort")
            await em.stop()
            runner.cancel()

        asyncio.run(scenario())
    with db.uow() as uow:
        swap = uow.swaps.find(station_id="s1")[0]
        assert "soh_floor" in (swap.abort_reason or "")
        pack = uow.packs.get(swap.lines[0].pack_in)
        assert pack is not None
        assert pack.pack.safety_state.value == "quarantined"
        assert uow.bills.find() == []
    check_invariants(db)
