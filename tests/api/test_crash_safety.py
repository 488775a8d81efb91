"""Crash safety: SIGKILL the server in the middle of swap completions under load, restart it,
and show every swap fully applied (custody, bill, reservation, lifecycle events) or not at
all; retrying the interrupted requests with their keys then completes each exactly once.

The server is a real `uvicorn` process on a loopback port over a SQLite file.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from openswap.api.security import TokenSigner
from openswap.api.settings import ApiSettings
from openswap.catalog import builtin_catalog
from openswap.domain.assets import Station, Vehicle
from openswap.services.model import (
    Actor,
    Custody,
    CustodyKind,
    Organisation,
    OrgRole,
    Role,
    StationRecord,
    SwapState,
    VehicleRecord,
)
from openswap.services.seeding import seed_database
from openswap.storage import Base, build_engine, build_uow_factory
from tests.api.conftest import SECRET
from tests.storage.support import (
    QIJI,
    STATION_DESIGN,
    VEHICLE_MODEL,
    Database,
    charged,
    check_invariants,
)

VEHICLES = 24


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(url: str) -> None:
    engine = build_engine(url)
    Base.metadata.create_all(engine)  # the migration test lives in tests/storage
    try:
        specs = builtin_catalog(assets=False)
        seed_database(build_uow_factory(engine)(), specs)
        now = datetime.now(UTC)
        with build_uow_factory(engine)() as uow:
            uow.organisations.add(Organisation("op", "Op", frozenset({OrgRole.OPERATOR})))
            uow.organisations.add(Organisation("fleet", "Fleet", frozenset({OrgRole.FLEET})))
            design = specs.station_design(STATION_DESIGN)
            uow.stations.add(
                StationRecord(Station("s1", design, "S1", (QIJI,)), "op"),
                bays=2,
                slots=["gbt"] * (2 * VEHICLES),
            )
            vm = specs.vehicle_model(VEHICLE_MODEL)
            for i in range(VEHICLES):
                uow.vehicles.add(VehicleRecord(Vehicle(f"v{i:02d}", vm, "fleet", 1)))
                uow.packs.add(
                    charged(f"OLD-{i:02d}", owner="fleet", soc=0.2),
                    Custody.in_vehicle(f"v{i:02d}", 1),
                    now,
                )
                uow.packs.add(
                    charged(f"NEW-{i:02d}", owner="op"), Custody.in_slot("s1", i + 1), now
                )
            uow.commit()
    finally:
        engine.dispose()


class Server:
    def __init__(self, url: str, tmp: Path) -> None:
        self.url, self.tmp, self.port = url, tmp, _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "OPENSWAP_DATABASE_URL": self.url,
            "OPENSWAP_JWT_SECRET": SECRET.decode(),
        }
        with (self.tmp / "server.log").open("ab") as log:
            self.proc = self._spawn(env, log)
        self._wait()

    def _spawn(self, env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "openswap.asgi:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def _wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/v1/ping", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    _seed(url)
    srv = Server(url, tmp_path)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _drive(base: str, token: str, vehicles: list[str], bay: int, log: dict[str, Any]) -> None:
    """reserve, start, complete each vehicle in turn; record keys and what was answered."""
    headers = {"Authorization": f"Bearer {token}"}
    arrive = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    with httpx.Client(base_url=base, headers=headers, timeout=5) as http:
        for vid in vehicles:
            try:
                r = http.post(
                    "/v1/reservations",
                    json={"vehicle_id": vid, "station_id": "s1", "arrive_at": arrive},
                    headers={"Idempotency-Key": f"r-{vid}"},
                )
                if r.status_code != 201:
                    return
                s = http.post(
                    "/v1/swaps",
                    json={"station_id": "s1", "bay_no": bay, "vehicle_id": vid},
                    headers={"Idempotency-Key": f"s-{vid}"},
                )
                swap_id = s.json()["id"]
                log[vid] = {"swap": swap_id, "done": False}
                c = http.post(
                    f"/v1/swaps/{swap_id}/complete",
                    json={"readings": []},
                    headers={"Idempotency-Key": f"c-{vid}"},
                )
                log[vid]["done"] = c.status_code == 200
            except httpx.HTTPError:
                return  # the server died under us


def _check_all_or_nothing(db: Database) -> dict[str, SwapState]:
    """Every swap is completed with everything, or still started with nothing applied."""
    states: dict[str, SwapState] = {}
    with db.uow() as uow:
        for swap in uow.swaps.find():
            states[swap.vehicle_id] = swap.state
            bill = uow.bills.for_swap(swap.id)
            line = swap.lines[0]
            p_in = uow.packs.get(line.pack_in)
            p_out = uow.packs.get(line.pack_out or "")
            assert p_in is not None
            assert p_out is not None
            events = [
                e
                for s in (line.pack_in, p_out.serial)
                for e in uow.outbox.for_pack(s)
                if e.payload.get("swap_id") == swap.id
            ]
            rsv = uow.reservations.get(swap.reservation_id)
            assert rsv is not None
            if swap.state is SwapState.COMPLETED:
                assert bill is not None
                assert bill.total_fen == sum(x.amount_fen for x in bill.lines)
                assert p_in.custody == Custody.in_vehicle(swap.vehicle_id, 1)
                assert p_out.custody.kind is CustodyKind.SLOT
                assert len(events) == 2
                assert rsv.state.value == "fulfilled"
            else:
                assert swap.state is SwapState.STARTED
                assert bill is None
                assert events == []
                assert p_in.custody.kind is CustodyKind.SLOT
                assert p_out.custody == Custody.in_vehicle(swap.vehicle_id, 1)
                assert rsv.state.value == "in_use"
    check_invariants(db, pack_count=2 * VEHICLES)
    return states


def test_sigkill_mid_completions_leaves_each_swap_whole_or_untouched(server: Server) -> None:
    token = (
        TokenSigner(ApiSettings(jwt_secret=SECRET)).issue(Actor("admin", Role.ADMIN)).access_token
    )
    log: dict[str, Any] = {}
    vids = [f"v{i:02d}" for i in range(VEHICLES)]
    threads = [
        threading.Thread(target=_drive, args=(server.base, token, vids[b::2], b + 1, log))
        for b in range(2)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while sum(1 for v in log.values() if v["done"]) < 4 and time.monotonic() < deadline:
        time.sleep(0.005)
    server.kill()
    for t in threads:
        t.join(30)
    completed_before = {v for v, x in log.items() if x["done"]}
    assert len(completed_before) >= 4
    assert len(completed_before) < VEHICLES, "the kill came too late to interrupt anything"

    engine = build_engine(server.url)
    db = Database("sqlite", engine)
    try:
        states = _check_all_or_nothing(db)
        # Every completion the client saw acknowledged survived the crash.
        assert all(states[v] is SwapState.COMPLETED for v in completed_before)

        server.start()
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.base, headers=headers, timeout=10) as http:
            for vid, entry in log.items():
                resp = http.post(
                    f"/v1/swaps/{entry['swap']}/complete",
                    json={"readings": []},
                    headers={"Idempotency-Key": f"c-{vid}"},
                )
                assert resp.status_code == 200, resp.text
                assert resp.json()["state"] == "completed"
        states = _check_all_or_nothing(db)
        assert all(states[v] is SwapState.COMPLETED for v in log)
        with db.uow() as uow:
            assert len(uow.bills.find()) == len(log)
    finally:
        engine.dispose()
