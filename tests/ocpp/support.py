"""An in-process central system on loopback for the OCPP tests: a minimal Starlette app with
the OCPP route, served by uvicorn in a thread, over a test database (tests/storage/support)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette

from openswap.ocpp.emulator import Slot, StationEmulator, StationModel
from openswap.ocpp.endpoint import CentralSystem, OcppSettings, add_ocpp_routes
from openswap.services.operations import OperationsContext
from openswap.services.stations import SetStationPassword, set_station_password
from tests.storage.support import ADMIN, Database

PASSWORD = "s1-secret-password-0123"


@dataclass
class Server:
    port: int
    central: CentralSystem
    scheme: str = "ws"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/ocpp"


@contextmanager
def central_system(
    ctx: OperationsContext, settings: OcppSettings | None = None, **uvicorn_options: Any
) -> Iterator[Server]:
    app = Starlette()
    central = add_ocpp_routes(app, ctx, settings or OcppSettings(poll_interval_s=0.5))
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        ws="websockets-sansio",
        lifespan="off",
        **uvicorn_options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Server(port, central, "wss" if "ssl_certfile" in uvicorn_options else "ws")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def s1_model(db: Database) -> StationModel:
    """The emulated station s1 with the packs the database has on its rack."""
    with db.uow() as uow:
        slots = {v.slot_no: v for v in uow.stations.slots("s1")}
        packs = {p.serial: p for p in uow.packs.at_station("s1")}
    model = StationModel({})
    for n, v in slots.items():
        p = packs.get(v.pack_serial or "")
        model.slots[n] = Slot(p.serial, p.pack.soc, p.pack.soh) if p is not None else Slot()
    return model


def with_password(db: Database, station_id: str = "s1", password: str = PASSWORD) -> None:
    set_station_password(db.ctx(), ADMIN, SetStationPassword(station_id, password))


async def wait_for(predicate: Any, timeout_s: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def emulator(server: Server, model: StationModel, **kwargs: Any) -> StationEmulator:
    kwargs.setdefault("password", PASSWORD)
    return StationEmulator("s1", server.url, model, **kwargs)
