"""A swap-station emulator on the `ocpp` package's charge-point side (the real OCPP client the
tests and benchmarks use), and a lightweight fleet of heartbeat-only stations for load.

`StationEmulator` models rack slots (each an EVSE with a charger and a pack), a swap robot,
trucks at the gate and packs charging under per-slot power limits. It reconnects after a
dropped connection with exponential backoff (seeded jitter) and resends every message not
yet answered with the same message id, so the central system can apply it once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import logging
import random
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import websockets
from ocpp.routing import on as _untyped_on
from ocpp.v21 import ChargePoint, call, call_result
from ocpp.v21.enums import Action
from websockets.asyncio.client import ClientConnection, connect

log = logging.getLogger("openswap.ocpp.emulator")

_F = TypeVar("_F", bound=Callable[..., Any])
on = cast(Callable[[str], Callable[[_F], _F]], _untyped_on)

PACK_CAPACITY_KWH = 250.0  # usable energy the emulator assumes when it charges a pack
DEFAULT_SLOT_POWER_KW = 120.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Slot:
    """A rack slot (EVSE): its pack (serial, SoC and SoH as fractions), power limit and
    reservation."""

    serial: str | None = None
    soc: float = 0.0
    soh: float = 1.0
    limit_kw: float | None = None
    reserved_for: str | None = None
    reservation_no: int | None = None
    operative: bool = True
    energy_kwh: float = 0.0
    transaction_id: str | None = None
    seq_no: int = 0


@dataclass
class Truck:
    """A truck at the gate: its token (vehicle id) and packs (serial, SoC, SoH as fractions)."""

    vehicle_id: str
    packs: list[tuple[str, float, float]]


@dataclass
class StationModel:
    """The emulated station's physical state and what it was asked to do."""

    slots: dict[int, Slot]
    variables: dict[tuple[str, str], str] = field(
        default_factory=lambda: {
            ("OCPPCommCtrlr", "HeartbeatInterval"): "300",
            ("SecurityCtrlr", "SecurityProfile"): "1",
            ("SwapRobot", "Available"): "true",
        }
    )
    trucks: dict[str, Truck] = field(default_factory=dict)
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    resets: int = 0
    swaps_done: int = 0


class _ChargePoint(ChargePoint):  # type: ignore[misc]
    """The `ocpp` charge point, answering the central system from the emulator's model."""

    emulator: StationEmulator

    @on(Action.request_battery_swap)
    def on_request_swap(self, id_token: dict[str, Any], request_id: int, **_: Any) -> Any:
        em = self.emulator
        em.model.received.append(
            ("RequestBatterySwap", {"id_token": id_token, "request_id": request_id})
        )
        truck = em.model.trucks.get(id_token["id_token"])
        if truck is None:
            return call_result.RequestBatterySwap(
                status="Rejected", status_info={"reason_code": "NoTruck"}
            )
        em.spawn(em.run_robot(truck, request_id))
        return call_result.RequestBatterySwap(status="Accepted")

    @on(Action.reserve_now)
    def on_reserve_now(
        self,
        id: int,
        expiry_date_time: str,
        id_token: dict[str, Any],
        evse_id: int | None = None,
        **_: Any,
    ) -> Any:
        em = self.emulator
        em.model.received.append(("ReserveNow", {"id": id, "evse_id": evse_id}))
        slot = em.model.slots.get(evse_id or 0)
        if slot is None or slot.serial is None or not slot.operative:
            return call_result.ReserveNow(status="Unavailable")
        if slot.reserved_for not in (None, id_token["id_token"]):
            return call_result.ReserveNow(status="Occupied")
        slot.reserved_for, slot.reservation_no = id_token["id_token"], id
        return call_result.ReserveNow(status="Accepted")

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        em = self.emulator
        em.model.received.append(("CancelReservation", {"reservation_id": reservation_id}))
        for slot in em.model.slots.values():
            if slot.reservation_no == reservation_id:
                slot.reserved_for = slot.reservation_no = None
                return call_result.CancelReservation(status="Accepted")
        return call_result.CancelReservation(status="Rejected")

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> Any:
        em = self.emulator
        em.model.received.append(("SetChargingProfile", {"evse_id": evse_id}))
        slot = em.model.slots.get(evse_id)
        if slot is None:
            return call_result.SetChargingProfile(status="Rejected")
        schedule = charging_profile["charging_schedule"][0]
        limit = float(schedule["charging_schedule_period"][0]["limit"])
        slot.limit_kw = limit / 1000.0 if schedule["charging_rate_unit"] == "W" else limit * 0.4
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.get_variables)
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        em = self.emulator
        em.model.received.append(("GetVariables", {"n": len(get_variable_data)}))
        results = []
        for d in get_variable_data:
            key = (d["component"]["name"], d["variable"]["name"])
            value = em.model.variables.get(key)
            item: dict[str, Any] = {
                "attribute_status": "Accepted" if value is not None else "UnknownVariable",
                "component": d["component"],
                "variable": d["variable"],
            }
            if value is not None:
                item["attribute_value"] = value
            results.append(item)
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.set_variables)
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        em = self.emulator
        em.model.received.append(("SetVariables", {"n": len(set_variable_data)}))
        results = []
        for d in set_variable_data:
            key = (d["component"]["name"], d["variable"]["name"])
            known = key in em.model.variables
            if known:
                em.model.variables[key] = d["attribute_value"]
            results.append(
                {
                    "attribute_status": "Accepted" if known else "UnknownVariable",
                    "component": d["component"],
                    "variable": d["variable"],
                }
            )
        return call_result.SetVariables(set_variable_result=results)

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> Any:
        em = self.emulator
        em.model.received.append(("Reset", {"type": type}))
        em.model.resets += 1
        em.spawn(em.reboot())
        return call_result.Reset(status="Accepted")

    @on(Action.change_availability)
    def on_change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        em = self.emulator
        em.model.received.append(
            ("ChangeAvailability", {"evse": evse, "status": operational_status})
        )
        if evse is not None and evse.get("id") in em.model.slots:
            em.model.slots[evse["id"]].operative = operational_status == "Operative"
            em.spawn(em.send_status(evse["id"]))
        return call_result.ChangeAvailability(status="Accepted")


class StationEmulator:
    """One emulated swap station connected to a central system (see the module docstring)."""

    def __init__(
        self,
        station_id: str,
        url: str,
        model: StationModel,
        *,
        password: str | None = None,
        version: str = "2.1",
        ssl_context: ssl.SSLContext | None = None,
        backoff_base_s: float = 0.1,
        backoff_max_s: float = 10.0,
        seed: int = 0,
        response_timeout_s: float = 10.0,
        robot_step_s: float = 0.05,
    ) -> None:
        self.station_id = station_id
        self.url = url.rstrip("/") + "/" + station_id
        self.model = model
        self.password = password
        self.version = version
        self.ssl_context = ssl_context
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.rng = random.Random(seed)
        self.response_timeout_s = response_timeout_s
        self.robot_step_s = robot_step_s
        self.connected = asyncio.Event()
        self.booted = asyncio.Event()
        self.boot_status: str | None = None
        self.connections = 0
        self.replayed: list[str] = []  # message ids sent again after a reconnect
        self.drop_after_send: set[str] = set()  # test hook: lose the answer to these actions
        self._cp: _ChargePoint | None = None
        self._ws: ClientConnection | None = None
        self._lost = asyncio.Event()
        self._stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ids = (f"{station_id}-{uuid.uuid4().hex[:8]}-{n}" for n in itertools.count(1))

    # --- connection ---------------------------------------------------------------------------

    def spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _headers(self) -> dict[str, str]:
        if self.password is None:
            return {}
        token = base64.b64encode(f"{self.station_id}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def run(self) -> None:
        """Connect, boot and serve until `stop()`; reconnect with backoff when dropped."""
        failures = 0
        protocols = ["ocpp2.1", "ocpp2.0.1"] if self.version == "2.1" else ["ocpp2.0.1"]
        while not self._stopping:
            try:
                async with connect(
                    self.url,
                    subprotocols=protocols,  # type: ignore[arg-type]
                    additional_headers=self._headers(),
                    ssl=self.ssl_context,
                    open_timeout=10,
                    ping_interval=None,
                    max_size=2**22,
                ) as ws:
                    failures = 0
                    await self._serve(ws)
            except (OSError, websockets.exceptions.WebSocketException, TimeoutError) as exc:
                if isinstance(
                    exc, websockets.exceptions.InvalidStatus
                ) and exc.response.status_code in (401, 403):
                    self.boot_status = f"HTTP {exc.response.status_code}"
                    self.booted.set()
                    raise
                log.info("station %s: connection failed: %s", self.station_id, exc)
            if self._stopping:
                break
            failures += 1
            delay = min(self.backoff_max_s, self.backoff_base_s * 2 ** (failures - 1))
            await asyncio.sleep(delay * (0.5 + self.rng.random() / 2))

    async def _serve(self, ws: ClientConnection) -> None:
        cp = _ChargePoint(self.station_id, ws, response_timeout=self.response_timeout_s)
        cp.emulator = self
        self._cp, self._ws = cp, ws
        self._lost = asyncio.Event()
        self.connections += 1
        self.connected.set()
        reader = asyncio.ensure_future(cp.start())
        try:
            if not self.booted.is_set():
                self.spawn(self.boot())
            await reader
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            reader.cancel()
            self.connected.clear()
            self._lost.set()
            self._cp = self._ws = None

    async def stop(self) -> None:
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        if self._ws is not None:
            await self._ws.close()

    async def drop(self) -> None:
        """Cut the connection (the emulator reconnects by itself)."""
        if self._ws is not None:
            await self._ws.close()

    async def send(self, payload: Any) -> Any:
        """Send one CALL and return its result, resending it with the same message id after
        every reconnect until it is answered."""
        message_id = next(self._ids)
        attempt = 0
        while True:
            await self.connected.wait()
            cp, lost = self._cp, self._lost
            assert cp is not None
            if attempt:
                self.replayed.append(message_id)
            attempt += 1
            task = asyncio.ensure_future(cp.call(payload, suppress=False, unique_id=message_id))
            if type(payload).__name__ in self.drop_after_send:
                self.drop_after_send.discard(type(payload).__name__)
                await asyncio.sleep(0.3)  # the central system has it; lose the answer
                task.cancel()
                await self.drop()
                await lost.wait()
                continue
            waiter = asyncio.ensure_future(lost.wait())
            done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if task in done:
                return task.result()
            task.cancel()

    # --- station behaviour --------------------------------------------------------------------

    async def boot(self, reason: str = "PowerUp") -> str:
        res = await self.send(
            call.BootNotification(
                charging_station={"vendor_name": "openswap", "model": "swap-emulator"},
                reason=reason,
            )
        )
        self.boot_status = res.status
        self.booted.set()
        if res.status == "Accepted":
            for evse_id in sorted(self.model.slots):
                await self.send_status(evse_id)
            self.spawn(self._heartbeats(res.interval))
        return str(res.status)

    async def reboot(self) -> None:
        await asyncio.sleep(0.05)
        await self.boot("RemoteReset")

    async def _heartbeats(self, interval_s: int) -> None:
        while not self._stopping:
            await asyncio.sleep(max(1, interval_s))
            await self.send(call.Heartbeat())

    async def send_status(self, evse_id: int) -> None:
        slot = self.model.slots[evse_id]
        if not slot.operative:
            status = "Unavailable"
        elif slot.reserved_for is not None:
            status = "Reserved"
        else:
            status = "Occupied" if slot.serial is not None else "Available"
        await self.send(
            call.StatusNotification(
                timestamp=_now(), connector_status=status, evse_id=evse_id, connector_id=1
            )
        )

    async def arrive(self, truck: Truck) -> dict[str, Any]:
        """A truck reaches the gate: its token is authorised (a reserved truck's swap is then
        requested by the central system)."""
        self.model.trucks[truck.vehicle_id] = truck
        res = await self.send(
            call.Authorize(id_token={"id_token": truck.vehicle_id, "type": "Central"})
        )
        return dict(res.id_token_info)

    async def run_robot(self, truck: Truck, request_id: int) -> None:
        """The swap: the truck's packs go into free slots (BatteryIn), the packs reserved for
        the truck come out of theirs (BatteryOut)."""
        await asyncio.sleep(self.robot_step_s)
        token = {"id_token": truck.vehicle_id, "type": "Central"}
        free = [n for n, s in sorted(self.model.slots.items()) if s.serial is None and s.operative]
        battery_in = []
        for (serial, soc, soh), evse_id in zip(truck.packs, free, strict=False):
            self.model.slots[evse_id] = Slot(serial=serial, soc=soc, soh=soh)
            battery_in.append(_battery(evse_id, serial, soc, soh))
        await self.send(
            call.BatterySwap(
                battery_data=battery_in,
                event_type="BatteryIn",
                id_token=token,
                request_id=request_id,
            )
        )
        await asyncio.sleep(self.robot_step_s)
        reserved = [
            n for n, s in sorted(self.model.slots.items()) if s.reserved_for == truck.vehicle_id
        ]
        battery_out = []
        new_packs = []
        for evse_id in reserved:
            s = self.model.slots[evse_id]
            assert s.serial is not None
            battery_out.append(_battery(evse_id, s.serial, s.soc, s.soh))
            new_packs.append((s.serial, s.soc, s.soh))
            self.model.slots[evse_id] = Slot(limit_kw=s.limit_kw)
        await self.send(
            call.BatterySwap(
                battery_data=battery_out,
                event_type="BatteryOut",
                id_token=token,
                request_id=request_id,
            )
        )
        truck.packs = new_packs
        self.model.swaps_done += 1
        for evse_id in sorted({b["evse_id"] for b in battery_in + battery_out}):
            await self.send_status(evse_id)

    async def report_meters(self, dt_s: float = 60.0) -> None:
        """Charge every pack for `dt_s` seconds under its slot's limit and report per-slot
        energy, power and SoC (a charging session per pack: TransactionEvent)."""
        for evse_id, s in sorted(self.model.slots.items()):
            if s.serial is None or not s.operative or s.soc >= 1.0:
                continue
            power_kw = s.limit_kw if s.limit_kw is not None else DEFAULT_SLOT_POWER_KW
            delta = power_kw * dt_s / 3600.0
            s.soc = min(1.0, s.soc + delta / (PACK_CAPACITY_KWH * s.soh))
            s.energy_kwh += delta
            meter = [
                {
                    "timestamp": _now(),
                    "sampled_value": [
                        {
                            "value": round(s.energy_kwh * 1000.0, 1),
                            "measurand": "Energy.Active.Import.Register",
                            "unit_of_measure": {"unit": "Wh"},
                        },
                        {
                            "value": round(power_kw * 1000.0, 1),
                            "measurand": "Power.Active.Import",
                            "unit_of_measure": {"unit": "W"},
                        },
                        {
                            "value": round(s.soc * 100.0, 2),
                            "measurand": "SoC",
                            "unit_of_measure": {"unit": "Percent"},
                        },
                    ],
                }
            ]
            if s.transaction_id is None:
                s.transaction_id, s.seq_no, event = (
                    f"{self.station_id}-{evse_id}-{uuid.uuid4().hex[:6]}",
                    0,
                    "Started",
                )
            else:
                s.seq_no += 1
                event = "Ended" if s.soc >= 1.0 else "Updated"
            await self.send(
                call.TransactionEvent(
                    event_type=event,
                    seq_no=s.seq_no,
                    timestamp=_now(),
                    transaction_info={
                        "transaction_id": s.transaction_id,
                        **({"stopped_reason": "SOCLimitReached"} if event == "Ended" else {}),
                    },
                    trigger_reason="ChargingStateChanged"
                    if event != "Updated"
                    else "MeterValuePeriodic",
                    evse={"id": evse_id, "connector_id": 1},
                    meter_value=meter,
                )
            )
            await self.send(call.MeterValues(evse_id=evse_id, meter_value=meter))
            if event == "Ended":
                s.transaction_id = None

    async def report_fault(self, evse_id: int) -> None:
        await self.send(
            call.NotifyEvent(
                generated_at=_now(),
                seq_no=0,
                event_data=[
                    {
                        "event_id": 1,
                        "timestamp": _now(),
                        "trigger": "Alerting",
                        "actual_value": "true",
                        "event_notification_type": "HardWiredNotification",
                        "component": {"name": "BatterySlot", "evse": {"id": evse_id}},
                        "variable": {"name": "Problem"},
                    }
                ],
            )
        )


def _battery(evse_id: int, serial: str, soc: float, soh: float) -> dict[str, Any]:
    return {
        "evse_id": evse_id,
        "serial_number": serial,
        "so_c": round(soc * 100, 2),
        "so_h": round(soh * 100, 2),
    }


# --- lightweight fleet (benchmarks) ------------------------------------------------------------


@dataclass
class FleetResult:
    connected: int
    sent: int
    answered: int
    latencies_s: list[float]
    errors: int


async def run_light_fleet(
    url: str,
    stations: int,
    *,
    rate_hz: float = 1.0,
    duration_s: float = 10.0,
    warmup_s: float = 2.0,
    prefix: str = "bench",
    frame: Callable[[str], str] | None = None,
    subprotocol: str = "ocpp2.1",
    on_phase: Callable[[str], None] | None = None,
) -> FleetResult:
    """`stations` raw websocket clients each sending one Heartbeat CALL per 1/`rate_hz`
    seconds (spread evenly) for `duration_s`; latencies of answers after `warmup_s`."""
    make = frame or (lambda mid: json.dumps([2, mid, "Heartbeat", {}]))
    latencies: list[float] = []
    counts = {"sent": 0, "answered": 0, "errors": 0, "connected": 0}
    all_connected = asyncio.Event()
    clock = {"start": 0.0, "stop": 0.0}

    async def one(i: int) -> None:
        try:
            async with connect(
                f"{url.rstrip('/')}/{prefix}-{i:05d}",
                subprotocols=[subprotocol],  # type: ignore[list-item]
                open_timeout=60,
                ping_interval=None,
            ) as ws:
                counts["connected"] += 1
                if counts["connected"] == stations:  # the clock starts once all are connected
                    clock["start"] = time.perf_counter() + 0.5
                    clock["stop"] = clock["start"] + warmup_s + duration_s
                    all_connected.set()
                await all_connected.wait()
                start, stop_at = clock["start"], clock["stop"]
                t = start + (i / stations) / rate_hz
                n = 0
                while t < stop_at:
                    await asyncio.sleep(max(0.0, t - time.perf_counter()))
                    n += 1
                    sent = time.perf_counter()
                    await ws.send(make(f"{i}-{n}"))
                    counts["sent"] += 1
                    reply = await ws.recv()
                    got = time.perf_counter()
                    if isinstance(reply, str) and reply.startswith("[3"):
                        counts["answered"] += 1
                        if sent >= start + warmup_s:
                            latencies.append(got - sent)
                    else:
                        counts["errors"] += 1
                    t += 1.0 / rate_hz
        except (OSError, websockets.exceptions.WebSocketException, TimeoutError):
            counts["errors"] += 1
            counts["connected"] += 0
            if not all_connected.is_set() and counts["errors"] + counts["connected"] >= stations:
                all_connected.set()

    async def phases() -> None:
        if on_phase is None:
            return
        await all_connected.wait()
        await asyncio.sleep(max(0.0, clock["start"] + warmup_s - time.perf_counter()))
        on_phase("steady")
        await asyncio.sleep(max(0.0, clock["stop"] - time.perf_counter()))
        on_phase("end")

    await asyncio.gather(phases(), *(one(i) for i in range(stations)))
    with contextlib.suppress(Exception):
        latencies.sort()
    return FleetResult(
        counts["connected"], counts["sent"], counts["answered"], latencies, counts["errors"]
    )
