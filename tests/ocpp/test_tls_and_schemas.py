"""Security profile 2 (TLS with a self-signed certificate made here, plus Basic auth), and
every message the central system sends checked against the JSON schemas that ship with the
`ocpp` package."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from openswap.ocpp import protocol
from openswap.ocpp.emulator import Truck
from openswap.ocpp.session import StationSession
from openswap.services.reservations import ReserveSwap, reserve
from openswap.services.stations import (
    CommandKind,
    LimitSlotPower,
    QueueCommand,
    ReserveSlots,
    limit_slot_power,
    queue_command,
    reserve_slots,
)
from tests.ocpp.support import central_system, emulator, s1_model, wait_for, with_password
from tests.ocpp.test_swap_flow import _reserve_v2, _swap_state
from tests.storage.support import FLEET_A_ACTOR, OPERATOR_ACTOR, Database, build_network


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_security_profile_2_tls_with_basic_auth(db: Database, tmp_path: Path) -> None:
    build_network(db)
    with_password(db)
    cert, key = _self_signed(tmp_path)
    trusted = ssl.create_default_context(cafile=str(cert))
    untrusted = ssl.create_default_context()  # system roots: the self-signed cert fails
    with central_system(db.ctx(), ssl_certfile=str(cert), ssl_keyfile=str(key)) as server:
        assert server.url.startswith("wss://")

        async def scenario() -> None:
            em = emulator(server, s1_model(db), ssl_context=trusted)
            runner = asyncio.ensure_future(em.run())
            await asyncio.wait_for(em.booted.wait(), 10)
            assert em.boot_status == "Accepted"
            await em.stop()
            runner.cancel()
            stranger = emulator(server, s1_model(db), ssl_context=untrusted, backoff_max_s=0.1)
            runner = asyncio.ensure_future(stranger.run())
            await asyncio.sleep(1.0)
            assert stranger.connections == 0
            assert not stranger.booted.is_set()
            await stranger.stop()
            runner.cancel()

        asyncio.run(scenario())


def test_every_message_openswap_sends_validates_against_the_package_schemas(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_network(db)
    with_password(db)
    sent: list[str] = []
    original = StationSession.send

    async def recording(self: StationSession, text: str) -> None:
        sent.append(text)
        await original(self, text)

    answered: list[tuple[str, str]] = []
    original_answer = StationSession.answer

    async def answering(self: StationSession, call: protocol.Call) -> str:
        frame = await original_answer(self, call)
        answered.append((call.action, frame))
        return frame

    monkeypatch.setattr(StationSession, "send", recording)
    monkeypatch.setattr(StationSession, "answer", answering)
    _reserve_v2(db)
    ctx = db.ctx()
    limit_slot_power(ctx, OPERATOR_ACTOR, LimitSlotPower("s1", ((3, 50.0),), 100.0), "l")
    for kind, args in (
        (CommandKind.GET_VARIABLES, {"variables": [{"component": "X", "variable": "Y"}]}),
        (
            CommandKind.SET_VARIABLES,
            {"variables": [{"component": "X", "variable": "Y", "value": "1"}]},
        ),
        (CommandKind.RESET, {"when": "on_idle"}),
        (CommandKind.SET_SLOT_AVAILABILITY, {"slot_no": 5, "operative": True}),
    ):
        queue_command(ctx, OPERATOR_ACTOR, QueueCommand("s1", kind, args), f"k-{kind}")
    with central_system(ctx) as server:

        async def scenario() -> None:
            em = emulator(server, s1_model(db))
            runner = asyncio.ensure_future(em.run())
            await asyncio.wait_for(em.booted.wait(), 10)
            await em.arrive(Truck("v2", [("V2-1", 0.2, 0.96)]))
            await wait_for(lambda: _swap_state(db) is not None and em.model.swaps_done == 1)
            await em.report_meters(60.0)
            await em.report_fault(4)
            await em.arrive(Truck("v3", [("V3-1", 0.2, 0.96)]))
            later = reserve(
                db.ctx(),
                FLEET_A_ACTOR,
                ReserveSwap("v1", "s1", db.clock.now() + dt.timedelta(hours=1)),
                "v1",
            )
            assert later.reservation is not None
            rid = later.reservation.id
            reserve_slots(db.ctx(), OPERATOR_ACTOR, ReserveSlots(rid), "r")
            reserve_slots(db.ctx(), OPERATOR_ACTOR, ReserveSlots(rid, cancel=True), "c")
            await asyncio.sleep(1.0)
            await em.stop()
            runner.cancel()

        asyncio.run(scenario())
    checked: set[str] = set()
    for text in sent:
        frame = json.loads(text)
        if frame[0] == protocol.CALL:
            name = f"{frame[2]}Request"
            payload: Any = frame[3]
        else:
            assert frame[0] == protocol.CALLRESULT, f"a CALLERROR to a well-behaved station: {text}"
            continue  # checked below, with the action each answers
        assert protocol.schema_problems("2.1", name, payload) == [], (name, payload)
        checked.add(name)
    for action, text in answered:  # every answer to the station's CALLs
        frame = json.loads(text)
        assert frame[0] == protocol.CALLRESULT, text
        assert protocol.schema_problems("2.1", f"{action}Response", frame[2]) == [], action
        checked.add(f"{action}Response")
    assert {
        "RequestBatterySwapRequest",
        "ReserveNowRequest",
        "CancelReservationRequest",
        "SetChargingProfileRequest",
        "GetVariablesRequest",
        "SetVariablesRequest",
        "ResetRequest",
        "ChangeAvailabilityRequest",
        "BootNotificationResponse",
        "AuthorizeResponse",
        "BatterySwapResponse",
        "StatusNotificationResponse",
        "MeterValuesResponse",
        "TransactionEventResponse",
        "NotifyEventResponse",
    } <= checked
