"""OCPP-J framing: parsing frames into CALL / CALLRESULT / CALLERROR, the CALLERROR the
specification prescribes for each kind of bad input, and validation against the JSON schemas
shipped with the `ocpp` package (one set per protocol version).

OCPP 2.x error codes (OCPP-J 2.0.1 section 4.3): RpcFrameworkError when the frame is not a
valid RPC message (its id then reads "-1" when it cannot be read), MessageTypeNotSupported
for an unknown message type number, NotImplemented for an action the receiver does not know,
NotSupported for a known action it does not serve, FormatViolation / TypeConstraintViolation /
PropertyConstraintViolation / OccurrenceConstraintViolation for payloads that break the schema
(OCPP 1.6 spelled the first one FormationViolation).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

CALL, CALLRESULT, CALLERROR = 2, 3, 4
UNREADABLE_ID = "-1"
MAX_MESSAGE_ID_LENGTH = 36  # OCPP 2.x: message ids are at most 36 characters

SUBPROTOCOLS = {"ocpp2.1": "2.1", "ocpp2.0.1": "2.0.1"}  # in order of preference
SCHEMA_PACKAGES = {"2.1": "v21", "2.0.1": "v201"}


class RpcError(Exception):
    """A CALLERROR to send back: `code` is one of the OCPP 2.x RPC framework error codes."""

    def __init__(
        self, code: str, description: str, message_id: str = UNREADABLE_ID, **details: Any
    ) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description[:255]
        self.message_id = message_id
        self.details = details

    def frame(self) -> str:
        return callerror(self.message_id, self.code, self.description, self.details)


@dataclass(frozen=True, slots=True)
class Call:
    message_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    message_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    message_id: str
    code: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)


Frame = Call | CallResult | CallError


def parse_frame(text: str | bytes, max_bytes: int) -> Frame:
    """One websocket message as an OCPP-J frame. Raises `RpcError` with the prescribed code
    and, where it could be read, the message id (so the peer can match the error)."""
    size = len(text.encode() if isinstance(text, str) else text)
    if size > max_bytes:
        raise RpcError(
            "FormatViolation",
            f"message of {size} bytes exceeds the limit of {max_bytes} bytes",
            _peek_id(text),
            limit_bytes=max_bytes,
        )
    try:
        msg = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise RpcError("RpcFrameworkError", "message is not valid JSON") from None
    if not isinstance(msg, list) or len(msg) < 3:
        raise RpcError("RpcFrameworkError", "message is not a JSON array [type, id, ...]")
    kind, message_id = msg[0], msg[1]
    if not isinstance(message_id, str) or not message_id:
        raise RpcError("RpcFrameworkError", "message id is not a non-empty string")
    if len(message_id) > MAX_MESSAGE_ID_LENGTH:
        raise RpcError(
            "RpcFrameworkError", f"message id longer than {MAX_MESSAGE_ID_LENGTH} characters"
        )
    if kind == CALL and not isinstance(kind, bool):
        if len(msg) != 4 or not isinstance(msg[2], str):
            raise RpcError("RpcFrameworkError", "a CALL is [2, id, action, payload]", message_id)
        if not isinstance(msg[3], dict):
            raise RpcError("FormatViolation", "payload is not a JSON object", message_id)
        return Call(message_id, msg[2], msg[3])
    if kind == CALLRESULT and not isinstance(kind, bool):
        if len(msg) != 3 or not isinstance(msg[2], dict):
            raise RpcError("RpcFrameworkError", "a CALLRESULT is [3, id, payload]", message_id)
        return CallResult(message_id, msg[2])
    if kind == CALLERROR and not isinstance(kind, bool):
        if len(msg) != 5 or not isinstance(msg[2], str):
            raise RpcError(
                "RpcFrameworkError", "a CALLERROR is [4, id, code, text, {}]", message_id
            )
        details = msg[4] if isinstance(msg[4], dict) else {}
        return CallError(message_id, msg[2], str(msg[3]), details)
    raise RpcError("MessageTypeNotSupported", f"message type {kind!r} is not supported", message_id)


def _peek_id(text: str | bytes) -> str:
    """The message id of an oversize frame, read from its first bytes only."""
    head = text[:200] if isinstance(text, str) else text[:200].decode(errors="replace")
    parts = head.split('"')
    if head.lstrip().startswith("[") and len(parts) >= 3 and len(parts[1]) <= MAX_MESSAGE_ID_LENGTH:
        return parts[1]
    return UNREADABLE_ID


def call(message_id: str, action: str, payload: dict[str, Any]) -> str:
    return json.dumps([CALL, message_id, action, payload], separators=(",", ":"))


def callresult(message_id: str, payload: dict[str, Any]) -> str:
    return json.dumps([CALLRESULT, message_id, payload], separators=(",", ":"))


def callerror(message_id: str, code: str, description: str, details: dict[str, Any]) -> str:
    return json.dumps(
        [CALLERROR, message_id, code, description, _jsonable(details)], separators=(",", ":")
    )


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, int | float | str | bool) else str(v) for k, v in details.items()}


# --- schemas ---------------------------------------------------------------------------------


def schema_path(version: str, name: str) -> Any:
    """The schema file `name` (e.g. `BootNotificationRequest`) shipped with the `ocpp` package."""
    return resources.files("ocpp").joinpath(SCHEMA_PACKAGES[version], "schemas", f"{name}.json")


@cache
def known_actions(version: str) -> frozenset[str]:
    """Every action the version's schemas define (requests of either direction)."""
    folder = resources.files("ocpp").joinpath(SCHEMA_PACKAGES[version], "schemas")
    return frozenset(
        p.name[: -len("Request.json")] for p in folder.iterdir() if p.name.endswith("Request.json")
    )


@cache
def validator(version: str, name: str) -> Draft7Validator:
    """A cached validator of the package's schema `name` (a Request or Response)."""
    text = schema_path(version, name).read_text(encoding="utf-8-sig")
    schema = json.loads(text)
    schema.pop("$id", None)
    return Draft7Validator(schema)


_CODES = {
    "type": "TypeConstraintViolation",
    "maxLength": "TypeConstraintViolation",  # string[n] is part of an OCPP data type
    "required": "OccurrenceConstraintViolation",
    "minItems": "OccurrenceConstraintViolation",
    "maxItems": "OccurrenceConstraintViolation",
    "additionalProperties": "FormatViolation",
    "enum": "PropertyConstraintViolation",
    "minimum": "PropertyConstraintViolation",
    "maximum": "PropertyConstraintViolation",
    "pattern": "PropertyConstraintViolation",
    "format": "PropertyConstraintViolation",
}


def check_payload(version: str, name: str, payload: dict[str, Any], message_id: str) -> None:
    """Raise the CALLERROR for the first schema violation of `payload` (None when valid)."""
    errors = sorted(validator(version, name).iter_errors(payload), key=_error_rank)
    if errors:
        raise to_rpc_error(errors[0], message_id)


def _error_rank(e: ValidationError) -> tuple[int, str]:
    return (len(e.absolute_path), str(e.validator))


def to_rpc_error(e: ValidationError, message_id: str) -> RpcError:
    where = "/".join(str(p) for p in e.absolute_path) or "(payload)"
    code = _CODES.get(str(e.validator), "FormatViolation")
    return RpcError(code, f"{where}: {e.message}", message_id, field=where)


def schema_problems(version: str, name: str, payload: dict[str, Any]) -> list[str]:
    """Every schema violation of `payload`, as `path: message` (used by tests on every
    message openswap sends)."""
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(payload)'}: {e.message}"
        for e in validator(version, name).iter_errors(payload)
    ]
