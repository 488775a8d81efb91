"""Two workers act as one central system: a station held by worker A gets a command queued
through worker B, woken by PostgreSQL LISTEN/NOTIFY (not by the poll, which is set to an
hour here)."""

from __future__ import annotations

import asyncio
import time

import pytest

from openswap.ocpp.endpoint import OcppSettings
from openswap.services.station_records import CommandState
from openswap.services.stations import CommandKind, QueueCommand, get_command, queue_command
from openswap.storage.notify import PgCommandChannel
from tests.ocpp.support import central_system, emulator, s1_model, wait_for, with_password
from tests.storage.support import ADMIN, OPERATOR_ACTOR, Database, build_network, postgres_url

pytestmark = pytest.mark.postgres


def test_command_queued_on_one_worker_reaches_a_station_held_by_another(db: Database) -> None:
    if db.backend != "postgres":
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL")
    url = postgres_url()
    assert url is not None
    build_network(db)
    with_password(db)

    def settings(name: str) -> OcppSettings:
        return OcppSettings(poll_interval_s=3600, worker_id=name, channel=PgCommandChannel(url))

    with (
        central_system(db.ctx(), settings("worker-a")) as a,
        central_system(db.ctx(), settings("worker-b")) as b,
    ):

        async def scenario() -> float:
            em = emulator(a, s1_model(db))
            runner = asyncio.ensure_future(em.run())
            await asyncio.wait_for(em.booted.wait(), 10)
            await asyncio.sleep(0.5)  # the listeners are up
            assert "s1" in a.central.sessions
            assert "s1" not in b.central.sessions
            with db.uow() as uow:
                link = uow.station_links.link("s1")
            assert link is not None
            assert link.worker_id == "worker-a"
            t0 = time.monotonic()
            cmd = queue_command(
                db.ctx(),
                OPERATOR_ACTOR,
                QueueCommand(
                    "s1",
                    CommandKind.SET_SLOT_AVAILABILITY,
                    {"slot_no": 6, "operative": False},
                ),
                "k-avail",
            )
            await b.central.notify("s1")  # worker B does not hold s1: it publishes
            await wait_for(
                lambda: get_command(db.ctx(), ADMIN, cmd.id).state is CommandState.ACCEPTED,
                what="delivery through worker A",
            )
            took = time.monotonic() - t0
            assert em.model.slots[6].operative is False
            await em.stop()
            runner.cancel()
            return took

        assert asyncio.run(scenario()) < 5.0
