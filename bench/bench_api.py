"""REST API benchmark: swap transactions (reserve + start + complete) and compatibility checks
against one uvicorn worker on loopback, on SQLite and (when reachable) PostgreSQL.

Each figure is printed beside a reference measured in the same run against the same server:
a trivial JSON GET (`/v1/ping`, no authentication, no database), the ceiling of the stack
(FastAPI + uvicorn) on this machine. The load generator runs in a separate process: a fixed
number of concurrent workers, each on its own keep-alive HTTP/1.1 connection written and parsed
by hand over asyncio streams (a few µs of client work per request, where an httpx client spent
more than the server). It still shares the machine's cores with the server, so figures are a
floor on what a dedicated client machine would see.

    python -m bench.bench_api          # 10 s per figure
    python -m bench.bench_api --quick  # 3 s per figure
PostgreSQL: OPENSWAP_BENCH_POSTGRES_URL, else OPENSWAP_TEST_POSTGRES_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/test; skipped when it does not answer.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
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


class HttpError(RuntimeError):
    pass


class _Conn:
    """One keep-alive HTTP/1.1 connection over asyncio streams: the least client work per
    request, so the figures measure the server rather than the load generator."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: Any = None, key: str | None = None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            + (f"Idempotency-Key: {key}\r\n" if key is not None else "")
            + (
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                if body is not None
                else ""
            )
        ).encode()
        self.writer.write(head + self.auth + b"\r\n" + payload)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
        if "content-length" in fields:
            data = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            data = b"".join(p[:-2] for p in parts)
        else:
            data = b""
        if fields.get("connection", "").lower() == "close":
            self.writer.close()
            self.writer = None
        return status, data


# A worker is plain data (picklable): ("timed", method, path, body) or ("swap", station, bay).
Worker = tuple[Any, ...]


@dataclass
class LoadResult:
    figure: Figure
    cycle: list[float]
    complete: list[float]


async def _run_load(workers: list[Worker], port: int, token: str, seconds: float) -> LoadResult:
    """Run every worker in a loop for `seconds`, each on its own keep-alive connection."""
    stop = time.perf_counter() + seconds
    latencies: list[float] = []
    lat = SwapLatencies([], [])

    async def loop(spec: Worker) -> int:
        conn = _Conn("127.0.0.1", port, token)
        work = _timed(*spec[1:]) if spec[0] == "timed" else _swap_lane(spec[1], spec[2], lat)
        n = 0
        try:
            while time.perf_counter() < stop:
                n += await work(conn, latencies)
        finally:
            if conn.writer is not None:
                conn.writer.close()
        return n

    start = time.perf_counter()
    counts = await asyncio.gather(*(loop(w) for w in workers))
    figure = Figure(sum(counts), time.perf_counter() - start, latencies)
    return LoadResult(figure, lat.cycle, lat.complete)


def _load_process(workers: list[Worker], port: int, token: str, seconds: float) -> LoadResult:
    return asyncio.run(_run_load(workers, port, token, seconds))


def _load(workers: list[Worker], port: int, token: str, seconds: float) -> LoadResult:
    """The load, generated in a separate process so the client's work is not the server's."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(_load_process, workers, port, token, seconds).result()


def _timed(method: str, path: str, body: Any = None) -> Callable[[_Conn, list[float]], Any]:
    async def work(conn: _Conn, latencies: list[float]) -> int:
        t = time.perf_counter()
        status, data = await conn.request(method, path, body)
        latencies.append(time.perf_counter() - t)
        if status != 200:
            raise HttpError(f"{method} {path}: {status} {data[:200]!r}")
        return 1

    return work


@dataclass
class SwapLatencies:
    cycle: list[float]
    complete: list[float]


def _swap_lane(station: str, bay: int, lat: SwapLatencies) -> Callable[[_Conn, list[float]], Any]:
    vehicles = [f"{station}-b{bay}-v{v}" for v in range(VEHICLES_PER_BAY)]
    turn = [0]

    async def work(conn: _Conn, _unused: list[float]) -> int:
        vid = vehicles[turn[0] % len(vehicles)]
        turn[0] += 1
        arrive = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        t0 = time.perf_counter()
        status, data = await conn.request(
            "POST",
            "/v1/reservations",
            {"vehicle_id": vid, "station_id": station, "arrive_at": arrive, "need_kwh": NEED_KWH},
            str(uuid.uuid4()),
        )
        if status != 201:
            raise HttpError(f"reserve {vid}: {status} {data[:300]!r}")
        status, data = await conn.request(
            "POST",
            "/v1/swaps",
            {"station_id": station, "bay_no": bay, "vehicle_id": vid},
            str(uuid.uuid4()),
        )
        if status != 201:
            raise HttpError(f"start {vid}: {status} {data[:300]!r}")
        t1 = time.perf_counter()
        swap_id = json.loads(data)["id"]
        status, data = await conn.request(
            "POST", f"/v1/swaps/{swap_id}/complete", {"readings": []}, str(uuid.uuid4())
        )
        if status != 200:
            raise HttpError(f"complete {vid}: {status} {data[:300]!r}")
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
        ping_w: list[Worker] = [("timed", "GET", "/v1/ping", None)] * CONCURRENCY
        _load(ping_w, server.port, token, min(1.0, seconds / 3))  # warm-up
        ping = _load(ping_w, server.port, token, seconds).figure
        compat_body = {
            "vehicle_id": "s00-b1-v0",
            "pack_serial": "s00-P0",
            "station_id": "s00",
            "need_kwh": 100.0,
        }
        compat_w: list[Worker] = [
            ("timed", "POST", "/v1/compatibility/check", compat_body)
        ] * CONCURRENCY
        compat = _load(compat_w, server.port, token, seconds).figure
        lanes: list[Worker] = [
            ("swap", f"s{s:02d}", b + 1) for s in range(STATIONS) for b in range(BAYS)
        ]
        result = _load(lanes, server.port, token, seconds)
        swaps = result.figure
        lat = SwapLatencies(result.cycle, result.complete)
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
