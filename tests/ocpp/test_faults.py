"""Bad input and faults: authentication before the handshake completes, unknown stations,
malformed frames and schema violations answered with the prescribed CALLERROR on a
connection that stays up, and nothing written."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
import websockets
from websockets.asyncio.client import connect

from openswap.ocpp.emulator import StationEmulator, StationModel
from openswap.ocpp.endpoint import OcppSettings
from tests.ocpp.support import PASSWORD, central_system, emulator, s1_model, with_password
from tests.storage.support import Database, build_network


def _auth(station: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{station}:{password}".encode()).decode()}


def _rows(db: Database) -> tuple[int, int]:
    with db.uow() as uow:
        links = uow.station_links.link("s1")
        return (0 if links is None else 1, len(uow.station_commands.find("s1")))


@pytest.mark.parametrize(
    ("station", "password"),
    [("s1", "wrong-password-000000"), ("s1", ""), ("s2", PASSWORD), ("nowhere", PASSWORD)],
)
def test_wrong_credentials_are_refused_before_any_handler(
    db: Database, station: str, password: str
) -> None:
    build_network(db)
    with_password(db)
    before = _rows(db)
    with central_system(db.ctx()) as server:

        async def scenario() -> int:
            with pytest.raises(websockets.exceptions.InvalidStatus) as info:
                async with connect(
                    f"{server.url}/{station}",
                    subprotocols=["ocpp2.1"],  # type: ignore[list-item]
                    additional_headers=_auth("s1" if station == "s2" else station, password),
                ):
                    pass
            return info.value.response.status_code

        assert asyncio.run(scenario()) == 401
    assert _rows(db) == before


def test_unknown_station_is_rejected_at_boot(db: Database) -> None:
    build_network(db)
    with central_system(db.ctx(), OcppSettings(security_profile=0)) as server:

        async def scenario() -> str | None:
            em = StationEmulator("ghost-7", server.url, StationModel({}))
            runner = asyncio.ensure_future(em.run())
            await asyncio.wait_for(em.booted.wait(), 10)
            await em.stop()
            runner.cancel()
            return em.boot_status

        assert asyncio.run(scenario()) == "Rejected"


BAD_FRAMES = [
    ("not json", "-1", "RpcFrameworkError"),
    ('{"a": 1}', "-1", "RpcFrameworkError"),
    ('[2, "m1"]', "-1", "RpcFrameworkError"),
    ('[7, "m2", "Heartbeat", {}]', "m2", "MessageTypeNotSupported"),
    ('[2, "m3", "Heartbeat", []]', "m3", "FormatViolation"),
    ('[2, "m4", "FlyToTheMoon", {}]', "m4", "NotImplemented"),
    (
        '[2, "m5", "RequestBatterySwap", {"idToken": {"idToken": "x", "type": "Central"}, "requestId": 1}]',  # noqa: E501
        "m5",
        "NotSupported",
    ),
    ('[2, "m6", "Heartbeat", {"extra": 1}]', "m6", "FormatViolation"),
    (
        '[2, "m7", "StatusNotification", {"timestamp": "2025-01-01T00:00:00Z", "connectorStatus": "Occupied", "evseId": "one", "connectorId": 1}]',  # noqa: E501
        "m7",
        "TypeConstraintViolation",
    ),
    (
        '[2, "m8", "StatusNotification", {"timestamp": "2025-01-01T00:00:00Z", "connectorStatus": "Sleepy", "evseId": 1, "connectorId": 1}]',  # noqa: E501
        "m8",
        "PropertyConstraintViolation",
    ),
    (
        '[2, "m9", "StatusNotification", {"timestamp": "2025-01-01T00:00:00Z", "evseId": 1, "connectorId": 1}]',  # noqa: E501
        "m9",
        "OccurrenceConstraintViolation",
    ),
    (
        '[2, "m10", "BatterySwap", {"eventType": "BatteryIn", "requestId": 1, "idToken": {"idToken": "v2", "type": "Central"}, "batteryData": [{"evseId": 1, "serialNumber": "P01", "soC": 150, "soH": 90}]}]',  # noqa: E501
        "m10",
        "PropertyConstraintViolation",
    ),
    ('[2, "m11", "Heartbeat", {"pad": "' + "x" * 70000 + '"}]', "m11", "FormatViolation"),
]


def test_malformed_frames_get_the_prescribed_callerror_and_the_connection_stays_up(
    db: Database,
) -> None:
    build_network(db)
    with_password(db)
    with central_system(db.ctx()) as server:

        async def scenario() -> None:
            async with connect(
                f"{server.url}/s1",
                subprotocols=["ocpp2.1"],  # type: ignore[list-item]
                additional_headers=_auth("s1", PASSWORD),
                max_size=None,
            ) as ws:
                boot = {"chargingStation": {"model": "m", "vendorName": "v"}, "reason": "PowerUp"}
                await ws.send(json.dumps([2, "b1", "BootNotification", boot]))
                assert json.loads(await ws.recv())[2]["status"] == "Accepted"
                before = _outbox_and_log(db)
                for frame, message_id, code in BAD_FRAMES:
                    await ws.send(frame)
                    reply = json.loads(await ws.recv())
                    assert reply[:3] == [4, message_id, code], (frame[:60], reply)
                assert _outbox_and_log(db) == before  # nothing written
                await ws.send(json.dumps([2, "h1", "Heartbeat", {}]))
                ok = json.loads(await ws.recv())
                assert ok[0] == 3
                assert ok[1] == "h1"
                assert "currentTime" in ok[2]

        asyncio.run(scenario())


def test_messages_before_an_accepted_boot_get_a_security_error(db: Database) -> None:
    build_network(db)
    with_password(db)
    with central_system(db.ctx()) as server:

        async def scenario() -> list[object]:
            async with connect(
                f"{server.url}/s1",
                subprotocols=["ocpp2.1"],  # type: ignore[list-item]
                additional_headers=_auth("s1", PASSWORD),
            ) as ws:
                await ws.send(json.dumps([2, "h0", "Heartbeat", {}]))
                return list(json.loads(await ws.recv())[:3])

        assert asyncio.run(scenario()) == [4, "h0", "SecurityError"]


def test_no_supported_subprotocol_closes_the_connection(db: Database) -> None:
    build_network(db)
    with_password(db)
    with central_system(db.ctx()) as server:

        async def scenario() -> int | None:
            async with connect(
                f"{server.url}/s1",
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                additional_headers=_auth("s1", PASSWORD),
            ) as ws:
                with pytest.raises(websockets.exceptions.ConnectionClosed):
                    await ws.recv()
                return ws.close_code

        assert asyncio.run(scenario()) == 1002


def test_plain_chargers_speak_ocpp_2_0_1(db: Database) -> None:
    build_network(db)
    with_password(db)
    with central_system(db.ctx()) as server:

        async def scenario() -> str | None:
            async with connect(
                f"{server.url}/s1",
                subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
                additional_headers=_auth("s1", PASSWORD),
            ) as ws:
                assert ws.subprotocol == "ocpp2.0.1"
                await ws.send(json.dumps([2, "x", "BatterySwap", {}]))
                return str(json.loads(await ws.recv())[2])

        assert asyncio.run(scenario()) == "NotImplemented"


def _outbox_and_log(db: Database) -> tuple[int, int]:
    with db.uow() as uow:
        return (len(uow.outbox.unpublished(10_000)), len(uow.station_links.connectors("s1")))


def test_emulator_with_the_wrong_password_stops(db: Database) -> None:
    build_network(db)
    with_password(db)
    with central_system(db.ctx()) as server:

        async def scenario() -> str | None:
            em = emulator(server, s1_model(db), password="not-the-password-123")
            with pytest.raises(websockets.exceptions.InvalidStatus):
                await em.run()
            return em.boot_status

        assert asyncio.run(scenario()) == "HTTP 401"
