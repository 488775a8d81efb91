"""The OCPP websocket endpoint `/ocpp/{station_id}` and this worker's central system.

`add_ocpp_routes(app, ctx, settings)` mounts it on a Starlette / FastAPI app. A connection is
authenticated before the websocket is accepted (security profile 1: HTTP Basic auth with the
station's password, the user name being the station id; profile 2: the same over TLS, which
uvicorn terminates with its ssl options), then the subprotocol is negotiated (ocpp2.1 is
preferred over ocpp2.0.1). A wrong password never reaches a handler: the handshake is
answered 401.

Each worker holds the websockets it accepted. Commands are rows in `station_commands`; the
worker holding a station delivers them when woken: by the station connecting or booting, by a
local use case, by the command channel (PostgreSQL LISTEN/NOTIFY: a trigger notifies on every
insert, whichever worker or API process queued it) or, as a safety net, by a periodic poll.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from starlette.responses import Response
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from openswap.ocpp.protocol import SUBPROTOCOLS
from openswap.ocpp.session import SessionLimits, StationSession
from openswap.services import stations as st
from openswap.services.model import Actor
from openswap.services.operations import OperationsContext
from openswap.services.station_records import StationCommandChannel

log = logging.getLogger("openswap.ocpp")


@dataclass(frozen=True)
class OcppSettings:
    """How the central system runs (built by the composition root).

    `security_profile` 0 accepts stations without a password (labs and benchmarks only);
    1 and 2 require HTTP Basic auth (2 is 1 behind TLS: give uvicorn `ssl_certfile` and
    `ssl_keyfile`). `channel` wakes this worker for commands queued elsewhere (None: one
    worker, or rely on the poll).
    """

    security_profile: int = 1
    heartbeat_interval_s: int = 300
    max_message_bytes: int = 64 * 1024
    response_timeout_s: float = 30.0
    poll_interval_s: float = 5.0
    auth_cache_s: float = 300.0
    validate_outgoing: bool = True
    worker_id: str = field(default_factory=lambda: f"w-{uuid.uuid4().hex[:12]}")
    channel: StationCommandChannel | None = None
    path: str = "/ocpp/{station_id}"


class CentralSystem:
    """This worker's stations: sessions by station id, command delivery, wake-ups."""

    def __init__(self, ctx: OperationsContext, settings: OcppSettings) -> None:
        self.ctx = ctx
        self.settings = settings
        self.sessions: dict[str, StationSession] = {}
        self._delivering: set[str] = set()
        self._again: set[str] = set()
        self._auth_cache: dict[tuple[str, str], tuple[Actor, float]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._started = False
        self.limits = SessionLimits(
            settings.max_message_bytes,
            settings.response_timeout_s,
            settings.heartbeat_interval_s,
            settings.validate_outgoing,
        )

    # --- background --------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def ensure_started(self) -> None:
        """Start the poll and the channel listener in the server's event loop (lazily, on the
        first connection, so no lifespan hook is needed)."""
        if self._started:
            return
        self._started = True
        self._spawn(self._poll())
        if self.settings.channel is not None:
            self._spawn(self._listen(self.settings.channel))

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.settings.poll_interval_s)
            try:
                ids = list(self.sessions)
                due = await anyio.to_thread.run_sync(st.stations_with_commands, self.ctx, ids)
                for sid in due:
                    self.wake(sid)
            except Exception:
                log.exception("command poll failed")

    async def _listen(self, channel: StationCommandChannel) -> None:
        async for station_id in channel.listen():
            self.wake(station_id)

    async def close(self) -> None:
        for session in list(self.sessions.values()):
            session.stop()
        for task in list(self._tasks):
            task.cancel()
        if self.settings.channel is not None:
            await self.settings.channel.close()

    # --- delivery ----------------------------------------------------------------------------

    def wake(self, station_id: str) -> None:
        """Deliver the station's queued commands if this worker holds it (else nothing)."""
        session = self.sessions.get(station_id)
        if session is not None:
            self.kick(session)

    def kick(self, session: StationSession) -> None:
        sid = session.station_id
        if sid in self._delivering:
            self._again.add(sid)
            return
        self._delivering.add(sid)
        self._spawn(self._deliver(session))

    async def _deliver(self, session: StationSession) -> None:
        sid = session.station_id
        try:
            while True:
                self._again.discard(sid)
                await session.deliver_commands()
                if sid not in self._again:
                    return
        except Exception:
            log.exception("station %s: command delivery failed", sid)
        finally:
            self._delivering.discard(sid)

    async def notify(self, station_id: str) -> None:
        """After queueing commands: deliver here, or wake the worker that holds the station."""
        if station_id in self.sessions:
            self.wake(station_id)
        elif self.settings.channel is not None:
            await self.settings.channel.publish(station_id)

    # --- connections -------------------------------------------------------------------------

    async def authenticate(self, websocket: WebSocket, station_id: str) -> Actor | None:
        if self.settings.security_profile == 0:
            return await anyio.to_thread.run_sync(st.unauthenticated_actor, self.ctx, station_id)
        creds = _basic_credentials(websocket.headers.get("authorization"))
        if creds is None or creds[0] != station_id:
            return None
        key = (station_id, hashlib.sha256(creds[1].encode()).hexdigest())
        cached = self._auth_cache.get(key)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        actor = await anyio.to_thread.run_sync(
            st.authenticate_station, self.ctx, station_id, creds[1]
        )
        if actor is not None:
            self._auth_cache[key] = (actor, now + self.settings.auth_cache_s)
        return actor

    async def serve(self, websocket: WebSocket) -> None:
        self.ensure_started()
        station_id = str(websocket.path_params["station_id"])
        actor = await self.authenticate(websocket, station_id)
        if actor is None:
            await _deny(websocket, 401)
            return
        offered = list(websocket.scope.get("subprotocols", []))
        chosen = next((p for p in SUBPROTOCOLS if p in offered), None)
        if chosen is None:
            # OCPP-J: complete the handshake without a subprotocol, then close at once.
            await websocket.accept()
            await websocket.close(code=1002, reason="no supported OCPP subprotocol offered")
            return
        await websocket.accept(subprotocol=chosen)
        session = StationSession(
            self.ctx,
            actor,
            station_id,
            SUBPROTOCOLS[chosen],
            websocket.send_text,
            self.limits,
            self.kick,
        )
        # Registration (an accepted boot) is looked up once, at connect, not per message.
        session.registered = await anyio.to_thread.run_sync(st.is_registered, self.ctx, station_id)
        previous = self.sessions.get(station_id)
        if previous is not None:
            previous.stop()
        self.sessions[station_id] = session
        await anyio.to_thread.run_sync(
            st.record_connection,
            self.ctx,
            station_id,
            self.settings.worker_id,
            session.version,
            True,
        )
        worker = asyncio.get_running_loop().create_task(session.run_calls())
        self.kick(session)  # commands queued while it was away
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("text")
                if data is None:
                    data = message.get("bytes") or b""
                await session.receive(data)
        except WebSocketDisconnect:
            pass
        finally:
            session.stop()  # calls already received are still answered (or at least applied)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(worker, self.settings.response_timeout_s)
            if self.sessions.get(station_id) is session:
                del self.sessions[station_id]
                await anyio.to_thread.run_sync(
                    st.record_connection,
                    self.ctx,
                    station_id,
                    self.settings.worker_id,
                    session.version,
                    False,
                )


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


async def _deny(websocket: WebSocket, status: int) -> None:
    """Refuse the handshake with an HTTP status (401 asks for Basic credentials)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        headers = {"WWW-Authenticate": 'Basic realm="openswap-ocpp"'} if status == 401 else {}
        await websocket.send_denial_response(Response(status_code=status, headers=headers))
    else:
        await websocket.close(code=1008)


def add_ocpp_routes(app: Any, ctx: OperationsContext, settings: OcppSettings) -> CentralSystem:
    """Mount the OCPP endpoint on a Starlette or FastAPI `app`; returns this worker's central
    system (kept on `app.state.ocpp` too) so other adapters can wake stations."""
    central = CentralSystem(ctx, settings)
    app.router.routes.append(WebSocketRoute(settings.path, central.serve))
    app.state.ocpp = central
    return central
