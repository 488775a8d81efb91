"""`openswap station emulate`: run an emulated swap station against a central system."""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl

import typer

from openswap.ocpp.emulator import Slot, StationEmulator, StationModel, Truck

app = typer.Typer(help="Swap stations over OCPP: the emulator.", no_args_is_help=True)


def build_model(station_id: str, slots: int, packs: list[str], seed: int) -> StationModel:
    """Slots 1..`slots`, the first ones holding `packs` (default: one emulated pack per slot
    but the last, which stays free for an incoming pack)."""
    rng = random.Random(seed)
    serials = packs or [f"EMU-{station_id}-{n}" for n in range(1, slots)]
    model = StationModel({})
    for n in range(1, slots + 1):
        serial = serials[n - 1] if n - 1 < len(serials) else None
        soc = round(rng.uniform(0.3, 1.0), 2)
        model.slots[n] = Slot(serial, soc, 0.95) if serial else Slot()
    return model


def _truck(spec: str) -> Truck:
    vehicle, _, packs = spec.partition(":")
    if not vehicle or not packs:
        raise typer.BadParameter(f"expected VEHICLE:SERIAL[,SERIAL...], got {spec!r}")
    return Truck(vehicle, [(s, 0.2, 0.95) for s in packs.split(",")])


@app.command("emulate")
def emulate(
    station: str = typer.Option(..., "--station", help="Station id (the URL's last segment)."),
    url: str = typer.Option(..., "--url", help="Central system, e.g. ws://127.0.0.1:8000/ocpp"),
    slots: int = typer.Option(8, "--slots", min=1, max=512, help="Rack slots (EVSEs)."),
    password: str | None = typer.Option(None, "--password", help="Basic auth password."),
    pack: list[str] = typer.Option([], "--pack", help="Serial of a pack on the rack, slot order."),
    truck: list[str] = typer.Option([], "--truck", help="VEHICLE:SERIAL[,SERIAL] arriving."),
    truck_interval_s: float = typer.Option(
        30.0, "--truck-interval", help="Seconds between trucks."
    ),
    meter_interval_s: float = typer.Option(
        60.0, "--meter-interval", help="Seconds between meter reports."
    ),
    ocpp_version: str = typer.Option("2.1", "--ocpp", help="2.1 (swap station) or 2.0.1."),
    cafile: str | None = typer.Option(None, "--cafile", help="CA certificate to trust (wss)."),
    duration_s: float = typer.Option(
        0.0, "--duration", help="Stop after this many seconds (0: run until interrupted)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the backoff jitter and pack SoCs."),
) -> None:
    """Connect as a swap station: boot, report slots, charge packs, let trucks arrive, answer
    the central system's commands, and reconnect with backoff when the connection drops."""
    if ocpp_version not in ("2.1", "2.0.1"):
        raise typer.BadParameter("--ocpp must be 2.1 or 2.0.1")
    ssl_context = ssl.create_default_context(cafile=cafile) if cafile else None
    model = build_model(station, slots, pack, seed)
    trucks = [_truck(t) for t in truck]
    emulator = StationEmulator(
        station,
        url,
        model,
        password=password,
        version=ocpp_version,
        ssl_context=ssl_context,
        seed=seed,
    )
    typer.echo(f"station {station}: {slots} slots, connecting to {emulator.url}")
    asyncio.run(_run(emulator, trucks, truck_interval_s, meter_interval_s, duration_s))


async def _run(
    emulator: StationEmulator,
    trucks: list[Truck],
    truck_interval_s: float,
    meter_interval_s: float,
    duration_s: float,
) -> None:
    runner = asyncio.ensure_future(emulator.run())

    async def activity() -> None:
        await emulator.booted.wait()
        typer.echo(f"boot: {emulator.boot_status}")
        pending = list(trucks)
        next_truck = asyncio.get_running_loop().time() + truck_interval_s
        while True:
            await asyncio.sleep(
                meter_interval_s if not pending else min(meter_interval_s, truck_interval_s)
            )
            await emulator.report_meters(meter_interval_s)
            if pending and asyncio.get_running_loop().time() >= next_truck:
                t = pending.pop(0)
                info = await emulator.arrive(t)
                typer.echo(f"truck {t.vehicle_id}: {info.get('status')}")
                next_truck += truck_interval_s

    work = asyncio.ensure_future(activity())
    try:
        if duration_s > 0:
            await asyncio.wait(
                {runner, work}, timeout=duration_s, return_when=asyncio.FIRST_EXCEPTION
            )
        else:
            await asyncio.wait({runner, work}, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        work.cancel()
        await emulator.stop()
        runner.cancel()
        with contextlib.suppress(BaseException):
            await runner
    typer.echo(
        f"swaps done: {emulator.model.swaps_done}, reconnects: {max(0, emulator.connections - 1)}"
    )
