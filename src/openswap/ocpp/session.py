"""One station's websocket: reads frames, answers CALLs in order (one at a time, as OCPP-J
requires of the sender), matches CALLRESULTs to the commands it sent, and never lets bad
input end the connection: every malformed or invalid frame gets the CALLERROR the
specification prescribes and nothing is written.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio.to_thread

from openswap.domain.errors import (
    InputError,
    NotFoundError,
    OpenswapError,
    PermissionDeniedError,
)
from openswap.ocpp import handlers, protocol
from openswap.ocpp import messages as m
from openswap.ocpp.protocol import Call, CallResult, RpcError
from openswap.services import stations as st
from openswap.services.model import Actor
from openswap.services.operations import OperationsContext

log = logging.getLogger("openswap.ocpp")

SendText = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SessionLimits:
    max_message_bytes: int
    response_timeout_s: float
    heartbeat_interval_s: int
    validate_outgoing: bool


class CommandFailedError(Exception):
    """The station answered a CALL with a CALLERROR, or did not answer in time."""


class StationSession:
    """The central system's side of one station connection."""

    def __init__(
        self,
        ctx: OperationsContext,
        actor: Actor,
        station_id: str,
        version: str,
        send_text: SendText,
        limits: SessionLimits,
        on_kick: Callable[[StationSession], None],
    ) -> None:
        self.ctx = ctx
        self.actor = actor
        self.station_id = station_id
        self.version = version
        self._send_text = send_text
        self.limits = limits
        self._on_kick = on_kick
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._calls: asyncio.Queue[Call | None] = asyncio.Queue()
        self._send_lock = asyncio.Lock()
        self._command_lock = asyncio.Lock()
        self.registered: bool | None = None  # None: not looked up yet
        self.closed = False

    async def send(self, text: str) -> None:
        async with self._send_lock:
            await self._send_text(text)

    # --- incoming ---------------------------------------------------------------------------

    async def receive(self, text: str | bytes) -> None:
        """One websocket message: responses resolve waiting commands at once; CALLs queue up
        for the worker (so a handler never blocks a response it is waiting for)."""
        try:
            frame = protocol.parse_frame(text, self.limits.max_message_bytes)
        except RpcError as err:
            log.info("station %s: %s", self.station_id, err)
            await self.send(err.frame())
            return
        if isinstance(frame, Call):
            self._calls.put_nowait(frame)
            return
        waiter = self._pending.pop(frame.message_id, None)
        if waiter is None or waiter.done():
            log.info(
                "station %s: response to unknown message %s", self.station_id, frame.message_id
            )
            return
        if isinstance(frame, CallResult):
            waiter.set_result(frame.payload)
        else:
            waiter.set_exception(CommandFailedError(f"{frame.code}: {frame.description}"))

    async def run_calls(self) -> None:
        while True:
            item = await self._calls.get()
            if item is None:
                return
            frame = await self.answer(item)
            try:
                await self.send(frame)
            except Exception:  # the connection went away after the effect: a replay gets it
                log.info("station %s: could not answer %s", self.station_id, item.message_id)

    def stop(self) -> None:
        self.closed = True
        self._calls.put_nowait(None)
        for waiter in self._pending.values():
            if not waiter.done():
                waiter.set_exception(CommandFailedError("connection closed"))
        self._pending.clear()

    async def answer(self, call: Call) -> str:
        """The frame answering one CALL (a CALLRESULT or the prescribed CALLERROR)."""
        try:
            handled = await self._dispatch(call)
        except RpcError as err:
            return err.frame()
        if handled.kick:
            self._on_kick(self)
        return protocol.callresult(call.message_id, handled.response)

    async def _dispatch(self, call: Call) -> handlers.Handled:
        handler = handlers.HANDLERS.get(call.action)
        if call.action not in protocol.known_actions(self.version):
            raise RpcError("NotImplemented", f"unknown action {call.action!r}", call.message_id)
        if handler is None:
            raise RpcError(
                "NotSupported",
                f"{call.action} is not served by this central system",
                call.message_id,
            )
        protocol.check_payload(self.version, f"{call.action}Request", call.payload, call.message_id)
        if call.action != "BootNotification":
            if self.registered is None:
                self.registered = await anyio.to_thread.run_sync(
                    st.is_registered, self.ctx, self.station_id
                )
            if not self.registered:
                raise RpcError(
                    "SecurityError", "BootNotification not accepted yet", call.message_id
                )
        request = handlers.Request(
            self.ctx,
            self.actor,
            self.station_id,
            self.version,
            call.action,
            call.message_id,
            call.payload,
            self.limits.heartbeat_interval_s,
        )
        logged = call.action not in handlers.UNLOGGED
        digest = st.message_digest(call.action, call.payload) if logged else ""
        try:
            if call.action in handlers.INLINE:  # no I/O: not worth a thread hop
                handled = handler(request)
            else:
                handled = await anyio.to_thread.run_sync(
                    self._run, handler, request, logged, digest
                )
        except RpcError:
            raise
        except InputError as exc:
            raise RpcError("PropertyConstraintViolation", str(exc), call.message_id) from None
        except (NotFoundError, PermissionDeniedError) as exc:
            raise RpcError(
                "SecurityError" if isinstance(exc, PermissionDeniedError) else "GenericError",
                str(exc),
                call.message_id,
            ) from None
        except OpenswapError as exc:
            raise RpcError("GenericError", str(exc), call.message_id) from None
        except Exception:
            log.exception("station %s: %s failed", self.station_id, call.action)
            raise RpcError("InternalError", "the central system failed", call.message_id) from None
        if handled.registered is not None:
            self.registered = handled.registered
        if self.limits.validate_outgoing:
            protocol.check_payload(
                self.version, f"{call.action}Response", handled.response, call.message_id
            )
        return handled

    def _run(
        self, handler: handlers.Handler, request: handlers.Request, logged: bool, digest: str
    ) -> handlers.Handled:
        if logged:
            seen = st.seen_message(
                self.ctx, self.station_id, request.message_id, request.action, digest
            )
            if seen is not None:
                return handlers.Handled(seen)
        handled = handler(request)
        if logged:
            st.remember_message(
                self.ctx,
                self.station_id,
                request.message_id,
                request.action,
                digest,
                handled.response,
            )
        return handled

    # --- outgoing ---------------------------------------------------------------------------

    async def call(self, action: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Send one CALL and wait for its result (raises `CommandFailedError`)."""
        if self.limits.validate_outgoing:
            problems = protocol.schema_problems(self.version, f"{action}Request", payload)
            if problems:
                raise CommandFailedError(f"{action} payload breaks the schema: {problems[0]}")
        message_id = str(uuid.uuid4())
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = waiter
        await self.send(protocol.call(message_id, action, payload))
        try:
            return message_id, await asyncio.wait_for(waiter, self.limits.response_timeout_s)
        except TimeoutError:
            raise CommandFailedError(
                f"no answer within {self.limits.response_timeout_s:g} s"
            ) from None
        finally:
            self._pending.pop(message_id, None)

    async def deliver_commands(self) -> int:
        """Send this station's queued commands, oldest first, one at a time; returns how many
        were sent. Each is claimed in the database first, so two workers never both send one."""
        sent = 0
        async with self._command_lock:
            if self.closed or not self.registered:
                return 0
            queued = await anyio.to_thread.run_sync(
                st.commands_to_deliver, self.ctx, self.station_id
            )
            for command in queued:
                if self.closed:
                    break
                if st.CommandKind(command.action) in m.ONLY_2_1 and self.version != "2.1":
                    await anyio.to_thread.run_sync(
                        partial(
                            st.finish_command,
                            self.ctx,
                            command.id,
                            accepted=None,
                            error=f"not supported over OCPP {self.version}",
                        )
                    )
                    continue
                action, payload = m.to_ocpp(command)
                message_id = str(uuid.uuid4())
                claimed = await anyio.to_thread.run_sync(
                    st.mark_command_sent, self.ctx, command.id, message_id
                )
                if claimed is None:
                    continue
                sent += 1
                try:
                    _, response = await self.call(action, payload)
                except CommandFailedError as exc:
                    await anyio.to_thread.run_sync(
                        partial(
                            st.finish_command, self.ctx, command.id, accepted=None, error=str(exc)
                        )
                    )
                    continue
                ok = m.accepted(action, response)
                await anyio.to_thread.run_sync(
                    partial(st.finish_command, self.ctx, command.id, accepted=ok, response=response)
                )
        return sent
