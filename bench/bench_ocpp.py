"""OCPP central system under load: one uvicorn worker holding N emulated stations (the
emulator's lightweight mode: one Heartbeat CALL per station per second, spread evenly) on
loopback; p50/p99 handling latency as the station count steps up, and the CPU used by the
server and by the load generator (they share the machine's cores). Reference, same run and
same load: a bare websockets echo server answering each frame with a canned CALLRESULT.

    python -m bench.bench_ocpp [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_PREFIX = "bench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def seed_stations(url: str, count: int) -> None:
    """`count` registered stations bench-00000.. (no slots) in a fresh database."""
    from openswap.catalog import builtin_catalog
    from openswap.domain.assets import Station
    from openswap.services.model import Organisation, OrgRole, StationRecord
    from openswap.services.seeding import seed_database
    from openswap.services.station_records import StationLink
    from openswap.storage import Base, build_engine, build_uow_factory

    engine = build_engine(url)
    Base.metadata.create_all(engine)
    uow = build_uow_factory(engine)
    seed_database(uow(), builtin_catalog(assets=False))
    design = builtin_catalog(assets=False).station_design("qiji-chassis-4000")
    with uow() as u:
        u.organisations.add(Organisation("op", "Operator", frozenset({OrgRole.OPERATOR})))
        for i in range(count):
            sid = f"{BENCH_PREFIX}-{i:05d}"
            u.stations.add(StationRecord(Station(sid, design, sid, ()), "op"), bays=1, slots=[])
            u.station_links.put_link(StationLink(sid, boot_status="Accepted"))
        u.commit()
    engine.dispose()


def serve_openswap(url: str, port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette

    from openswap.ocpp.endpoint import OcppSettings, add_ocpp_routes
    from openswap.services.operations import OperationsContext
    from openswap.storage import build_engine, build_uow_factory

    engine = build_engine(url)
    ctx = OperationsContext(uow=build_uow_factory(engine))
    app = Starlette()
    add_ocpp_routes(app, ctx, OcppSettings(security_profile=0, poll_interval_s=5.0))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="error",
        ws="websockets-sansio",
        lifespan="off",
        backlog=4096,
    )


def serve_echo(port: int) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    async def echo(ws: ServerConnection) -> None:
        import json

        async for message in ws:
            frame = json.loads(message)
            await ws.send(json.dumps([3, frame[1], {"currentTime": "2025-01-01T00:00:00Z"}]))

    async def main() -> None:
        async with serve(echo, "127.0.0.1", port, subprotocols=["ocpp2.1"], backlog=4096):  # type: ignore[list-item]
            await asyncio.Future()

    asyncio.run(main())


def _wait_port(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


def measure(
    target: Any, args: tuple[Any, ...], port: int, stations: int, duration_s: float, path: str
) -> dict[str, float]:
    from openswap.ocpp.emulator import run_light_fleet

    proc = mp.get_context("spawn").Process(target=target, args=args, daemon=True)
    proc.start()
    try:
        _wait_port(port)
        assert proc.pid is not None
        pid = proc.pid
        marks: dict[str, tuple[float, float, float]] = {}

        def mark(phase: str) -> None:  # CPU over the steady phase only (not connecting)
            marks[phase] = (_cpu_s(pid), time.process_time(), time.perf_counter())

        result = asyncio.run(
            run_light_fleet(
                f"ws://127.0.0.1:{port}{path}",
                stations,
                duration_s=duration_s,
                warmup_s=3.0,
                on_phase=mark,
            )
        )
        (s0, c0, w0), (s1, c1, w1) = marks["steady"], marks["end"]
        wall = w1 - w0
        server_cpu, client_cpu = s1 - s0, c1 - c0
    finally:
        proc.terminate()
        proc.join(5)
    lat = result.latencies_s
    q = (
        (lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] * 1000.0)
        if lat
        else (lambda f: float("nan"))
    )
    return {
        "connected": result.connected,
        "answered": result.answered,
        "errors": result.errors,
        "rate": len(lat) / wall,
        "p50_ms": q(0.50),
        "p99_ms": q(0.99),
        "server_cpu": server_cpu / wall,
        "client_cpu": client_cpu / wall,
    }


def run(quick: bool = False) -> None:
    steps = [200] if quick else [500, 1000, 1500, 2000]
    duration_s = 4.0 if quick else 15.0
    cores = os.cpu_count()
    print(f"OCPP central system, 1 worker, 1 Heartbeat/s per station, loopback ({cores} cores)")
    heads = ("stations", "server", "msg/s", "p50 ms", "p99 ms", "srv CPU", "gen CPU", "errors")
    widths = (8, 8, 7, 7, 7, 8, 8, 6)
    print(" ".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True)))
    with tempfile.TemporaryDirectory() as tmp:
        for n in steps:
            url = f"sqlite:///{Path(tmp) / f'bench-{n}.db'}"
            seed_stations(url, n)
            rows = []
            port = _free_port()
            rows.append(
                ("openswap", measure(serve_openswap, (url, port), port, n, duration_s, "/ocpp"))
            )
            port = _free_port()
            rows.append(("echo", measure(serve_echo, (port,), port, n, duration_s, "")))
            for name, r in rows:
                print(
                    f"{n:>8} {name:>8} {r['rate']:>7.0f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} "
                    f"{r['server_cpu']:>7.0%} {r['client_cpu']:>7.0%} {r['errors']:>6.0f}"
                )
            ratio = (
                rows[0][1]["p99_ms"] / rows[1][1]["p99_ms"]
                if rows[1][1]["p99_ms"]
                else float("nan")
            )
            print(f"{'':>8} p99 openswap / echo: {ratio:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    run(quick=parser.parse_args().quick)
