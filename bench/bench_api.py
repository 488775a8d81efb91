"""REST API benchmark: swap transactions (reserve + start + complete) and compatibility checks
against one uvicorn worker on loopback, on SQLite and (when reachable) PostgreSQL.

Each figure is printed beside a reference measured in the same run against the same server:
a trivial JSON GET (`/v1/ping`, no authentication, no database), the ceiling of the stack
(FastAPI + uvicorn + this load generator) on this machine. The load generator is an httpx
async client with a fixed number of concurrent workers, in this process; it shares the two
cores with the server, so figures are a floor on what a dedicated client would see.

    python -m bench.bench_api          # 10 s per figure
    python -m bench.bench_api --quick  # 3 s per figure
PostgreSQL: OPENSWAP_BENCH_POSTGRES_URL, else OPENSWAP_TEST_POSTGRES_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/test; skipped when it does not answer.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from openswap.api.security import TokenSigner
from openswap.api.settings import ApiSettings
from openswap.catalog import builtin_catalog
from openswap.domain.assets import Pack, SafetyState, Station, Vehicle
from openswap.services.model import (
    Actor,
    Custody,
    Organisation,
    OrgRole,
    Role,
    StationRecord,
    VehicleRecord,
)
from openswap.services.seeding import seed_database
from openswap.storage import Base, build_engine, build_uow_factory

SECRET = "bench-secret-of-at-least-thirty-two-bytes"
QIJI = "catl-qiji-171-lfp"
DESIGN = "qiji-chassis-4000"
VEHICLE_MODEL = "deepway-xingtu-6x4-qiji"
STATIONS = 16  # one load worker per bay: 32 concurrent swap lanes
BAYS = 2
VEHICLES_PER_BAY = 3
PACKS_PER_STATION = 6
NEED_KWH = 10.0  # small, so swapped-out packs qualify again and the load can run for ever
CONCURRENCY = 32


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(url: str, connect_args: dict[str, Any]) -> None:
    engine = build_engine(url, connect_args=connect_args)
    Base.metadata.create_all(engine)
    specs = builtin_catalog(assets=False)
    seed_database(build_uow_factory(engine)(), specs)
    now = datetime.now(UTC)
    model = specs.pack_model(QIJI)

    def pack(serial: str, soc: float) -> Pack:
        return Pack(serial, model, "bank", soc, 0.96, 500, SafetyState.OK, 2_000_000.0, 2.0)

    with build_uow_factory(engine)() as uow:
        uow.organisations.add(Organisation("op", "Op", frozenset({OrgRole.OPERATOR})))
        uow.organisations.add(Organisation("fleet", "Fleet", frozenset({OrgRole.FLEET})))
        uow.organisations.add(Organisation("bank", "Bank", frozenset({OrgRole.BATTERY_OWNER})))
        design = specs.station_design(DESIGN)
        vm = specs.vehicle_model(VEHICLE_MODEL)
        for s in range(STATIONS):
            sid = f"s{s:02d}"
            uow.stations.add(
                StationRecord(Station(sid, design, sid, (QIJI,)), "op"),
                bays=BAYS,
                slots=["gbt"] * (PACKS_PER_STATION + 2),
            )
            for p in range(PACKS_PER_STATION):
                uow.packs.add(pack(f"{sid}-P{p}", 0.95), Custody.in_slot(sid, p + 1), now)
            for b in range(BAYS):
                for v in range(VEHICLES_PER_BAY):
                    vid = f"{sid}-b{b + 1}-v{v}"
                    uow.vehicles.add(VehicleRecord(Vehicle(vid, vm, "fleet", 1)))
                    uow.packs.add(pack(f"{vid}-P", 0.2), Custody.in_vehicle(vid, 1), now)
        uow.commit()
    engine.dispose()


@dataclass
class Server:
    url: str
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _start(url: str) -> Server:
    port = _free_port()
    env = {**os.environ, "OPENSWAP_DATABASE_URL": url, "OPENSWAP_JWT_SECRET": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "openswap.asgi:app", "--host",
         "127.0.0.1", "--port", str(port), "--workers", "1", "--log-level", "warning",
         "--no-access-log"],
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/ping", timeout=1).status_code == 200:
                return Server(url, port, proc)
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


@dataclass
class Figure:
    done: int
    seconds: float
    latencies_s: list[float]

    @property
    def rate(self) -> float:
        return self.done / self.seconds

    def pct_ms(self, q: float) -> float:
        if not self.latencies_s:
            return float("nan")
        ordered = sorted(self.latencies_s)
        return 1000.0 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _load(
    workers: list[Callable[[httpx.AsyncClient, list[float]], Awaitable[int]]],
    base: str,
    token: str,
    seconds: float,
) -> Figure:
    """Run every worker in a loop for `seconds`; each call returns how many units it did."""
    limits = httpx.Limits(max_connections=len(workers), max_keepalive_connections=len(workers))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as http:
        stop = time.perf_counter() + seconds
        latencies: list[float] = []

        async def loop(work: Callable[[httpx.AsyncClient, list[float]], Awaitable[int]]) -> int:
            n = 0
            while time.perf_counter() < stop:
                n += await work(http, latencies)
            return n

        start = time.perf_counter()
        counts = await asyncio.gather(*(loop(w) for w in workers))
        return Figure(sum(counts), time.perf_counter() - start, latencies)


def _timed(
    method: str, path: str, body: Any = None
) -> Callable[[httpx.AsyncClient, list[float]], Awaitable[int]]:
    async def work(http: httpx.AsyncClient, latencies: list[float]) -> int:
        t = time.perf_counter()
        r = await http.request(method, path, json=body)
        latencies.append(time.perf_counter() - t)
        if r.status_code != 200:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:200]}")
        return 1

    return work


@dataclass
class SwapLatencies:
    cycle: list[float]
    complete: list[float]


def _swap_lane(
    station: str, bay: int, lat: SwapLatencies
) -> Callable[[httpx.AsyncClient, list[float]], Awaitable[int]]:
    vehicles = [f"{station}-b{bay}-v{v}" for v in range(VEHICLES_PER_BAY)]
    turn = [0]

    async def work(http: httpx.AsyncClient, _unused: list[float]) -> int:
        vid = vehicles[turn[0] % len(vehicles)]
        turn[0] += 1
        arrive = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        t0 = time.perf_counter()
        r = await http.post(
            "/v1/reservations",
            json={"vehicle_id": vid, "station_id": station, "arrive_at": arrive,
                  "need_kwh": NEED_KWH},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        if r.status_code != 201:
            raise RuntimeError(f"reserve {vid}: {r.status_code} {r.text[:300]}")
        r = await http.post(
            "/v1/swaps",
            json={"station_id": station, "bay_no": bay, "vehicle_id": vid},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if r.status_code != 201:
            raise RuntimeError(f"start {vid}: {r.status_code} {r.text[:300]}")
        t1 = time.perf_counter()
        r = await http.post(
            f"/v1/swaps/{r.json()['id']}/complete",
            json={"readings": []},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if r.status_code != 200:
            raise RuntimeError(f"complete {vid}: {r.status_code} {r.text[:300]}")
        t2 = time.perf_counter()
        lat.cycle.append(t2 - t0)
        lat.complete.append(t2 - t1)
        return 1

    return work


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000.0 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _measure(label: str, url: str, connect_args: dict[str, Any], seconds: float) -> None:
    _seed(url, connect_args)
    server_url = url
    if connect_args.get("options"):
        sep = "&" if "?" in url else "?"
        server_url = f"{url}{sep}options={connect_args['options'].replace('=', '%3D')}"
    server = _start(server_url)
    token = TokenSigner(ApiSettings(SECRET.encode())).issue(Actor("bench", Role.ADMIN)).access_token
    try:
        warm = min(1.0, seconds / 3)
        asyncio.run(_load([_timed("GET", "/v1/ping")] * CONCURRENCY, server.base, token, warm))
        ping = asyncio.run(
            _load([_timed("GET", "/v1/ping")] * CONCURRENCY, server.base, token, seconds)
        )
        compat_body = {
            "vehicle_id": "s00-b1-v0",
            "pack_serial": "s00-P0",
            "station_id": "s00",
            "need_kwh": 100.0,
        }
        compat = asyncio.run(
            _load(
                [_timed("POST", "/v1/compatibility/check", compat_body)] * CONCURRENCY,
                server.base,
                token,
                seconds,
            )
        )
        lat = SwapLatencies([], [])
        lanes = [_swap_lane(f"s{s:02d}", b + 1, lat) for s in range(STATIONS) for b in range(BAYS)]
        swaps = asyncio.run(_load(lanes, server.base, token, seconds))
    finally:
        server.proc.terminate()
        server.proc.wait(10)
    print(f"  {label}")
    print(
        f"    reference GET /v1/ping          {ping.rate:8.0f} req/s  "
        f"p50 {ping.pct_ms(0.5):6.1f} ms  p99 {ping.pct_ms(0.99):6.1f} ms"
    )
    print(
        f"    POST /v1/compatibility/check    {compat.rate:8.0f} req/s  "
        f"p50 {compat.pct_ms(0.5):6.1f} ms  p99 {compat.pct_ms(0.99):6.1f} ms  "
        f"({compat.rate / ping.rate:.2f}x reference)"
    )
    print(
        f"    swap transactions               {swaps.rate:8.1f} /s     "
        f"({3 * swaps.rate:.0f} req/s, {3 * swaps.rate / ping.rate:.2f}x reference)"
    )
    print(
        f"      whole transaction (3 requests) p50 {_pct(lat.cycle, 0.5):6.1f} ms  "
        f"p99 {_pct(lat.cycle, 0.99):6.1f} ms"
    )
    print(
        f"      complete request               p50 {_pct(lat.complete, 0.5):6.1f} ms  "
        f"p99 {_pct(lat.complete, 0.99):6.1f} ms"
    )


def _postgres_url() -> str:
    return (
        os.environ.get("OPENSWAP_BENCH_POSTGRES_URL")
        or os.environ.get("OPENSWAP_TEST_POSTGRES_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )


def run(quick: bool = False) -> None:
    seconds = 3.0 if quick else 10.0
    print(
        f"openswap REST API, 1 uvicorn worker, {CONCURRENCY} concurrent clients, "
        f"{seconds:g} s per figure" + (" (quick)" if quick else "")
    )
    with tempfile.TemporaryDirectory() as tmp:
        _measure("SQLite (WAL file)", f"sqlite:///{Path(tmp) / 'bench.db'}", {}, seconds)
    url = _postgres_url()
    schema = f"openswap_bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = build_engine(url)
        with admin.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # any failure to reach PostgreSQL skips it, with the reason
        print(f"  PostgreSQL: skipped ({type(exc).__name__}: {str(exc).splitlines()[0]})")
        return
    try:
        _measure("PostgreSQL", url, {"options": f"-csearch_path={schema}"}, seconds)
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    run(quick="--quick" in sys.argv)


if __name__ == "__main__":
    main()
