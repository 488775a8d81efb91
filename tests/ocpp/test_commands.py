"""Commands to a station: charging profiles under the grid cap, variables, reset, and the
queue for a station that is offline (delivered on reconnect, or expired with a status)."""

from __future__ import annotations

import asyncio

import pytest

from openswap.domain.errors import InputError
from openswap.ocpp.emulator import StationModel
from openswap.services.station_records import CommandState
from openswap.services.stations import (
    CommandKind,
    LimitSlotPower,
    QueueCommand,
    commands_to_deliver,
    get_command,
    limit_slot_power,
    queue_command,
)
from tests.ocpp.support import central_system, emulator, s1_model, wait_for, with_password
from tests.storage.support import ADMIN, OPERATOR_ACTOR, Database, build_network


def _done(db: Database, ids: list[str]) -> bool:
    states = [get_command(db.ctx(), ADMIN, i).state for i in ids]
    return all(s is not CommandState.QUEUED and s is not CommandState.SENT for s in states)


def test_commands_queued_offline_are_delivered_on_connect(db: Database) -> None:
    build_network(db)
    with_password(db)
    ctx = db.ctx()
    limits = limit_slot_power(
        ctx, OPERATOR_ACTOR, LimitSlotPower("s1", ((1, 60.0), (2, 90.0)), 200.0), "lim-1"
    )
    get_vars = queue_command(
        ctx,
        OPERATOR_ACTOR,
        QueueCommand(
            "s1",
            CommandKind.GET_VARIABLES,
            {"variables": [{"component": "SwapRobot", "variable": "Available"}]},
        ),
        "gv-1",
    )
    set_vars = queue_command(
        ctx,
        OPERATOR_ACTOR,
        QueueCommand(
            "s1",
            CommandKind.SET_VARIABLES,
            {
                "variables": [
                    {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "60"}
                ]
            },
        ),
        "sv-1",
    )
    reset = queue_command(ctx, OPERATOR_ACTOR, QueueCommand("s1", CommandKind.RESET, {}), "rs-1")
    ids = [c.id for c in limits] + [get_vars.id, set_vars.id, reset.id]
    with central_system(ctx) as server:

        async def scenario() -> StationModel:
            em = emulator(server, s1_model(db))
            runner = asyncio.ensure_future(em.run())
            await wait_for(lambda: _done(db, ids), what="delivery")
            await wait_for(lambda: em.model.resets == 1, what="reset")
            await em.report_meters(600.0)
            await em.stop()
            runner.cancel()
            return em.model

        model = asyncio.run(scenario())
    assert model.slots[1].limit_kw == pytest.approx(60.0)
    assert model.slots[2].limit_kw == pytest.approx(90.0)
    assert model.variables[("OCPPCommCtrlr", "HeartbeatInterval")] == "60"
    for cid in ids:
        assert get_command(db.ctx(), ADMIN, cid).state is CommandState.ACCEPTED
    got = get_command(db.ctx(), ADMIN, get_vars.id)
    assert got.response is not None
    assert got.response["getVariableResult"][0]["attributeValue"] == "true"
    with db.uow() as uow:  # packs charged under the limits: SoC and sessions recorded
        p01 = uow.packs.get("P01")
        assert p01 is not None
        assert p01.pack.soc > 0.95
        sessions = uow.station_links.sessions("s1")
        assert {s.evse_id for s in sessions} >= {1, 2}
        one = next(s for s in sessions if s.evse_id == 1)
        assert one.power_kw == pytest.approx(60.0)


def test_limits_above_the_grid_cap_are_refused(db: Database) -> None:
    build_network(db)
    with pytest.raises(InputError, match="grid cap"):
        limit_slot_power(
            db.ctx(), OPERATOR_ACTOR, LimitSlotPower("s1", ((1, 150.0), (2, 90.0)), 200.0), "k"
        )


def test_a_command_to_an_offline_station_expires_with_a_status(db: Database) -> None:
    build_network(db)
    ctx = db.ctx()
    cmd = queue_command(
        ctx, OPERATOR_ACTOR, QueueCommand("s1", CommandKind.RESET, {}, ttl_s=60), "rs-2"
    )
    db.clock.advance(61)
    assert commands_to_deliver(ctx, "s1") == ()
    got = get_command(ctx, ADMIN, cmd.id)
    assert got.state is CommandState.EXPIRED
    assert got.error == "expired"
