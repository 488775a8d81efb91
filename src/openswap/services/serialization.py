"""JSON form of commands and results, for idempotency fingerprints and stored responses.

`to_jsonable` turns a dataclass (nested dataclasses, tuples, enums, aware datetimes, numbers,
strings, dicts) into plain JSON data; `from_jsonable(T, data)` rebuilds a `T` from it, guided
by `T`'s type hints. A round trip returns an equal object.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for `value` (see the module docstring)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: wall-clock times must be UTC-aware")
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot serialise {type(value).__name__}")


def from_jsonable(tp: Any, data: Any) -> Any:
    """Rebuild a value of type `tp` from `to_jsonable` output."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return data
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return from_jsonable(arg, data)
            except (TypeError, ValueError, KeyError):
                continue
        raise ValueError(f"{data!r} matches no member of {tp}")
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_jsonable(args[0], v) for v in data)
        return tuple(from_jsonable(a, v) for a, v in zip(args, data, strict=True))
    if origin is frozenset:
        (arg,) = typing.get_args(tp)
        return frozenset(from_jsonable(arg, v) for v in data)
    if origin is dict:
        return dict(data)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise TypeError(f"expected an object for {tp.__name__}")
        hints = typing.get_type_hints(tp)
        kwargs = {
            f.name: from_jsonable(hints[f.name], data[f.name])
            for f in dataclasses.fields(tp)
            if f.init and f.name in data
        }
        return tp(**kwargs)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(data)
    if tp is datetime:
        if not isinstance(data, str):
            raise TypeError("expected an ISO 8601 string")
        return datetime.fromisoformat(data)
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise TypeError("expected a number")
        return float(data)
    if tp in (int, str, bool):
        if not isinstance(data, tp) or (tp is int and isinstance(data, bool)):
            raise TypeError(f"expected {tp.__name__}")
        return data
    raise TypeError(f"cannot rebuild {tp!r}")


def rebuild(tp: type[T], data: Any) -> T:
    """`from_jsonable` with the result typed as `tp`."""
    return typing.cast(T, from_jsonable(tp, data))


def fingerprint(operation: str, command: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of an operation name and its command."""
    text = json.dumps(
        {"operation": operation, "command": to_jsonable(command)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()
