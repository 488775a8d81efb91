"""Lifecycle entries: a pack's life events as signed, canonical JSON (RFC 8785) log entries.

The one ledger module that knows the domain. An entry holds ids, numbers, enums and hashes only
(no free text, no personal data: the log can never forget). It names its pack, the previous
entry of that pack (`prev`, a leaf hash), the writing organisation and its key, and carries an
Ed25519 signature over everything else. Format: docs/design/ledger.md.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from openswap.domain.errors import InputError, Problem
from openswap.domain.specs import Chemistry
from openswap.ledger.merkle import HASH_SIZE, leaf_hash

ENTRY_VERSION = 1
SIGNING_CONTEXT = b"openswap/ledger-entry/v1\n"
"""Prefixed to the canonical JSON before signing, so an entry signature can sign nothing else."""
MAX_ENTRY_BYTES = 4096
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")
_HASH_RE = re.compile(r"[0-9a-f]{64}")
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ENVELOPE = ("v", "log", "type", "pack", "prev", "time", "org", "key", "event", "sig")


class Role(StrEnum):
    """What an organisation is in the battery's life; decides which events it may write."""

    MAKER = "maker"
    OWNER = "owner"  # battery-as-a-service asset owner
    OPERATOR = "operator"  # swap-network operator
    STATION = "station"  # a station's device credential
    FLEET = "fleet"
    REPAIRER = "repairer"
    LOGISTICS = "logistics"
    REPURPOSER = "repurposer"  # second-life integrator
    RECYCLER = "recycler"


class SwapDirection(StrEnum):
    INSTALLED = "installed"  # the pack went into the vehicle
    REMOVED = "removed"  # the pack came out of the vehicle onto the rack


class QuarantineReason(StrEnum):
    OVER_TEMPERATURE = "over_temperature"
    INSULATION_FAULT = "insulation_fault"
    DEEP_DISCHARGE = "deep_discharge"
    CELL_IMBALANCE = "cell_imbalance"
    MECHANICAL_DAMAGE = "mechanical_damage"
    BMS_FAULT = "bms_fault"
    RECALL = "recall"
    OTHER = "other"  # a reason outside this list (the operator's free text stays off the log)


class SecondLifeApplication(StrEnum):
    STATIONARY_STORAGE = "stationary_storage"
    BACKUP_POWER = "backup_power"
    LIGHT_MOBILITY = "light_mobility"


class Kind(StrEnum):
    """How a field is written in JSON and what values it admits."""

    ID = "id"  # an opaque identifier: [A-Za-z0-9][A-Za-z0-9._:/-]{0,127}
    HASH = "hash"  # SHA-256 as 64 lower-case hex digits (documents stay off the log)
    FRACTION = "fraction"  # a number in [0, 1]
    NONNEGATIVE = "nonnegative"  # a finite number >= 0
    REAL = "real"  # any finite number
    COUNT = "count"  # an integer >= 0
    DATE = "date"  # YYYY-MM-DD


def _optional(kind: Kind) -> Any:
    """An optional event field: absent from the JSON when None."""
    return field(default=None, metadata={"kind": kind})


@dataclass(frozen=True, slots=True)
class PackManufactured:
    TYPE: ClassVar[str] = "PackManufactured"
    model: str = field(metadata={"kind": Kind.ID})
    chemistry: Chemistry = field(metadata={"kind": Chemistry})
    rated_energy_kwh: float = field(metadata={"kind": Kind.NONNEGATIVE})
    nominal_voltage_v: float = field(metadata={"kind": Kind.NONNEGATIVE})
    plant: str = field(metadata={"kind": Kind.ID})
    manufactured_on: str = field(metadata={"kind": Kind.DATE})
    datasheet_hash: str | None = _optional(Kind.HASH)


@dataclass(frozen=True, slots=True)
class PackCommissioned:
    TYPE: ClassVar[str] = "PackCommissioned"
    owner: str = field(metadata={"kind": Kind.ID})
    operator: str | None = _optional(Kind.ID)


@dataclass(frozen=True, slots=True)
class PackSwapped:
    TYPE: ClassVar[str] = "PackSwapped"
    station: str = field(metadata={"kind": Kind.ID})
    swap: str = field(metadata={"kind": Kind.ID})
    vehicle: str = field(
        metadata={"kind": Kind.ID}
    )  # an opaque fleet vehicle id, never a plate or VIN
    direction: SwapDirection = field(metadata={"kind": SwapDirection})
    soc: float = field(metadata={"kind": Kind.FRACTION})


@dataclass(frozen=True, slots=True)
class PackCharged:
    """One charging session, aggregated: energy, duration, peak power, SoC window, hottest cell."""

    TYPE: ClassVar[str] = "PackCharged"
    station: str = field(metadata={"kind": Kind.ID})
    session: str = field(metadata={"kind": Kind.ID})
    energy_kwh: float = field(metadata={"kind": Kind.NONNEGATIVE})
    duration_s: float = field(metadata={"kind": Kind.NONNEGATIVE})
    max_power_kw: float = field(metadata={"kind": Kind.NONNEGATIVE})
    soc_start: float = field(metadata={"kind": Kind.FRACTION})
    soc_end: float = field(metadata={"kind": Kind.FRACTION})
    max_cell_temp_c: float = field(metadata={"kind": Kind.REAL})


@dataclass(frozen=True, slots=True)
class PackInspected:
    TYPE: ClassVar[str] = "PackInspected"
    soh: float = field(metadata={"kind": Kind.FRACTION})
    insulation_resistance_ohm: float = field(metadata={"kind": Kind.NONNEGATIVE})
    max_cell_temp_spread_c: float = field(metadata={"kind": Kind.NONNEGATIVE})
    cycle_count: int = field(metadata={"kind": Kind.COUNT})
    report_hash: str | None = _optional(Kind.HASH)


@dataclass(frozen=True, slots=True)
class PackQuarantined:
    TYPE: ClassVar[str] = "PackQuarantined"
    reason: QuarantineReason = field(metadata={"kind": QuarantineReason})
    site: str = field(metadata={"kind": Kind.ID})


@dataclass(frozen=True, slots=True)
class PackReleased:
    TYPE: ClassVar[str] = "PackReleased"
    site: str = field(metadata={"kind": Kind.ID})
    inspection: str | None = _optional(Kind.HASH)  # leaf hash of the clearing inspection


@dataclass(frozen=True, slots=True)
class PackRepaired:
    TYPE: ClassVar[str] = "PackRepaired"
    work_order: str = field(metadata={"kind": Kind.ID})
    modules_replaced: int = field(metadata={"kind": Kind.COUNT})
    report_hash: str | None = _optional(Kind.HASH)


@dataclass(frozen=True, slots=True)
class PackShipped:
    TYPE: ClassVar[str] = "PackShipped"
    shipment: str = field(metadata={"kind": Kind.ID})
    from_site: str = field(metadata={"kind": Kind.ID})
    to_site: str = field(metadata={"kind": Kind.ID})


@dataclass(frozen=True, slots=True)
class PackReceived:
    TYPE: ClassVar[str] = "PackReceived"
    shipment: str = field(metadata={"kind": Kind.ID})
    site: str = field(metadata={"kind": Kind.ID})


@dataclass(frozen=True, slots=True)
class PackRepurposed:
    TYPE: ClassVar[str] = "PackRepurposed"
    application: SecondLifeApplication = field(metadata={"kind": SecondLifeApplication})
    new_owner: str = field(metadata={"kind": Kind.ID})


@dataclass(frozen=True, slots=True)
class PackRecycled:
    TYPE: ClassVar[str] = "PackRecycled"
    facility: str = field(metadata={"kind": Kind.ID})
    certificate_hash: str | None = _optional(Kind.HASH)


LifecycleEvent = (
    PackManufactured
    | PackCommissioned
    | PackSwapped
    | PackCharged
    | PackInspected
    | PackQuarantined
    | PackReleased
    | PackRepaired
    | PackShipped
    | PackReceived
    | PackRepurposed
    | PackRecycled
)
EVENT_TYPES: Mapping[str, type[LifecycleEvent]] = {
    cls.TYPE: cls
    for cls in (
        PackManufactured,
        PackCommissioned,
        PackSwapped,
        PackCharged,
        PackInspected,
        PackQuarantined,
        PackReleased,
        PackRepaired,
        PackShipped,
        PackReceived,
        PackRepurposed,
        PackRecycled,
    )
}


def _check_value(name: str, kind: Kind | type[StrEnum], value: object) -> str | None:
    """Why `value` is not a valid `kind`, or None."""
    if isinstance(kind, type):
        if isinstance(value, str) and value in {m.value for m in kind}:
            return None
        return f"{name}: {value!r} is not one of {sorted(m.value for m in kind)}"
    if kind in (Kind.ID, Kind.HASH, Kind.DATE):
        if not isinstance(value, str):
            return f"{name}: expected a string, got {type(value).__name__}"
        if kind is Kind.ID and not _ID_RE.fullmatch(value):
            return f"{name}: {value!r} is not an id ([A-Za-z0-9][A-Za-z0-9._:/-], <= 128)"
        if kind is Kind.HASH and not _HASH_RE.fullmatch(value):
            return f"{name}: {value!r} is not 64 lower-case hex digits"
        if kind is Kind.DATE:
            try:
                if not _DATE_RE.fullmatch(value):
                    raise ValueError
                date.fromisoformat(value)
            except ValueError:
                return f"{name}: {value!r} is not a YYYY-MM-DD date"
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{name}: expected a number, got {type(value).__name__}"
    if not math.isfinite(value):
        return f"{name}: {value!r} is not finite"
    if kind is Kind.COUNT and (not isinstance(value, int) or value < 0):
        return f"{name}: {value!r} is not a whole number >= 0"
    if kind is Kind.FRACTION and not 0 <= value <= 1:
        return f"{name}: {value!r} is not a fraction in [0, 1]"
    if kind is Kind.NONNEGATIVE and value < 0:
        return f"{name}: {value!r} is negative"
    return None


def check_event(event: LifecycleEvent) -> list[str]:
    """Reasons `event` cannot go on the log (empty when every field is valid)."""
    reasons = []
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if value is None and f.default is None:
            continue
        if (why := _check_value(f.name, f.metadata["kind"], value)) is not None:
            reasons.append(why)
    return reasons


def to_event_json(event: LifecycleEvent) -> dict[str, Any]:
    """The JSON object of an event's fields (absent optional fields left out)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if value is None:
            continue
        out[f.name] = value.value if isinstance(value, StrEnum) else value
    return out


def _from_event_json(type_name: str, obj: object) -> tuple[LifecycleEvent | None, list[str]]:
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        return None, [f"type: unknown event type {type_name!r}"]
    if not isinstance(obj, dict):
        return None, ["event: expected an object"]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    reasons = [f"event.{k}: unknown field of {type_name}" for k in obj if k not in fields]
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in obj:
            if f.default is not None:
                reasons.append(f"event.{name}: missing")
            continue
        value = obj[name]
        kind = f.metadata["kind"]
        if (why := _check_value(f"event.{name}", kind, value)) is not None:
            reasons.append(why)
            continue
        if isinstance(kind, type):
            value = kind(value)
        elif kind in (Kind.FRACTION, Kind.NONNEGATIVE, Kind.REAL):
            value = float(value)
        values[name] = value
    if reasons:
        return None, reasons
    return cls(**values), []


def format_time(when: datetime) -> str:
    """RFC 3339 UTC with a Z, microseconds only when non-zero: one spelling per instant."""
    if when.tzinfo is None:
        raise ValueError("entry time must be timezone-aware")
    when = when.astimezone(UTC)
    pattern = "%Y-%m-%dT%H:%M:%S.%fZ" if when.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return when.strftime(pattern)


def key_fingerprint(public_key: bytes) -> str:
    """How an entry names its signing key: SHA-256 of the raw 32-byte Ed25519 key, in hex."""
    return hashlib.sha256(public_key).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """A decoded, well-formed log entry (its signature is not yet checked: see admission)."""

    log: str  # the origin of the log it was signed for: no replay into another log
    event: LifecycleEvent
    pack: str
    prev: bytes | None  # leaf hash of the pack's previous entry; None for its first
    time: str  # RFC 3339 UTC, as signed; asserted by the writer, not trusted for ordering
    org: str
    key: str  # key_fingerprint of the signing key
    sig: bytes

    @property
    def type(self) -> str:
        return self.event.TYPE

    def _unsigned(self) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "v": ENTRY_VERSION,
            "log": self.log,
            "type": self.event.TYPE,
            "pack": self.pack,
            "time": self.time,
            "org": self.org,
            "key": self.key,
            "event": to_event_json(self.event),
        }
        if self.prev is not None:
            obj["prev"] = self.prev.hex()
        return obj

    def signed_message(self) -> bytes:
        """What the signature covers: the context string, then the canonical JSON without `sig`."""
        return SIGNING_CONTEXT + rfc8785.dumps(self._unsigned())

    def to_bytes(self) -> bytes:
        """The log entry: canonical JSON (RFC 8785) of every field, `sig` in base64."""
        obj = self._unsigned()
        obj["sig"] = base64.b64encode(self.sig).decode("ascii")
        return rfc8785.dumps(obj)


def build_entry(
    event: LifecycleEvent,
    *,
    log: str,
    pack: str,
    org: str,
    time: datetime,
    prev: bytes | None,
    private_key: Ed25519PrivateKey,
) -> bytes:
    """A signed log entry; raises `InputError` naming every invalid field."""
    problems = [Problem(r, field="event") for r in check_event(event)]
    for name, value in (("log", log), ("pack", pack), ("org", org)):
        if (why := _check_value(name, Kind.ID, value)) is not None:
            problems.append(Problem(why, field=name))
    if prev is not None and len(prev) != HASH_SIZE:
        problems.append(Problem(f"prev must be a {HASH_SIZE}-byte leaf hash", field="prev"))
    if problems:
        raise InputError(problems)
    fingerprint = key_fingerprint(private_key.public_key().public_bytes_raw())
    draft = Entry(log, event, pack, prev, format_time(time), org, fingerprint, b"")
    signed = dataclasses.replace(draft, sig=private_key.sign(draft.signed_message()))
    data = signed.to_bytes()
    if len(data) > MAX_ENTRY_BYTES:
        raise InputError([Problem(f"entry is {len(data)} bytes, over {MAX_ENTRY_BYTES}")])
    return data


def check_entry_format(data: bytes) -> tuple[Entry | None, list[str]]:
    """Decode a log entry; the reasons it is malformed or not canonical, or none.

    Well-formed means: at most `MAX_ENTRY_BYTES`, UTF-8 JSON whose RFC 8785 canonical form is
    exactly `data`, the envelope fields and no others, a known event type with valid fields.
    """
    if len(data) > MAX_ENTRY_BYTES:
        return None, [f"entry is {len(data)} bytes, over {MAX_ENTRY_BYTES}"]
    try:
        obj = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        return None, [f"not JSON: {exc}"]
    if not isinstance(obj, dict):
        return None, ["entry is not a JSON object"]
    try:
        canonical = rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, ValueError) as exc:
        return None, [f"cannot be canonicalised (RFC 8785): {exc}"]
    if canonical != data:
        return None, ["not in RFC 8785 canonical form"]
    reasons = [f"{k}: unknown envelope field" for k in obj if k not in _ENVELOPE]
    reasons += [f"{k}: missing" for k in _ENVELOPE if k not in obj and k != "prev"]
    if reasons:
        return None, reasons
    if obj["v"] != ENTRY_VERSION or isinstance(obj["v"], bool):
        reasons.append(f"v: unsupported entry version {obj['v']!r}")
    for name in ("log", "pack", "org"):
        if (why := _check_value(name, Kind.ID, obj[name])) is not None:
            reasons.append(why)
    if not isinstance(obj["key"], str) or not _HASH_RE.fullmatch(obj["key"]):
        reasons.append("key: not a 64-hex-digit key fingerprint")
    prev = obj.get("prev")
    if "prev" in obj and (not isinstance(prev, str) or not _HASH_RE.fullmatch(prev)):
        reasons.append("prev: not a 64-hex-digit leaf hash")
    time_text = obj["time"]
    if not isinstance(time_text, str) or not _TIME_RE.fullmatch(time_text):
        reasons.append("time: not RFC 3339 UTC (YYYY-MM-DDTHH:MM:SS[.ffffff]Z)")
    else:
        try:
            datetime.fromisoformat(time_text.replace("Z", "+00:00"))
        except ValueError:
            reasons.append(f"time: {time_text!r} is not a real instant")
    sig = b""
    with contextlib.suppress(binascii.Error):
        sig = base64.b64decode(obj["sig"], validate=True) if isinstance(obj["sig"], str) else b""
    if len(sig) != 64 or base64.b64encode(sig).decode("ascii") != obj["sig"]:
        reasons.append("sig: not a base64 64-byte Ed25519 signature")
    type_name = obj["type"]
    if not isinstance(type_name, str):
        reasons.append("type: not a string")
        return None, reasons
    event, event_reasons = _from_event_json(type_name, obj["event"])
    reasons += event_reasons
    if reasons or event is None:
        return None, reasons
    entry = Entry(
        log=obj["log"],
        event=event,
        pack=obj["pack"],
        prev=bytes.fromhex(prev) if isinstance(prev, str) else None,
        time=time_text,
        org=obj["org"],
        key=obj["key"],
        sig=sig,
    )
    # The signature is checked over the re-encoded entry: it must be these very bytes.
    if entry.to_bytes() != data:
        return None, ["entry does not re-encode to the same bytes"]
    return entry, []


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_entry(data: bytes) -> Entry:
    """The entry in `data`; raises `InputError` with every reason it is malformed."""
    entry, reasons = check_entry_format(data)
    if entry is None:
        raise InputError([Problem(r, field="entry") for r in reasons])
    return entry


def verify_entry_signature(entry: Entry, public_key: bytes) -> bool:
    """True when `entry.sig` is `public_key`'s Ed25519 signature and `entry.key` names that key."""
    if entry.key != key_fingerprint(public_key):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(entry.sig, entry.signed_message())
    except (InvalidSignature, ValueError):
        return False
    return True


def entry_leaf_hash(data: bytes) -> bytes:
    """The leaf hash of an entry's bytes: what the next entry of the same pack names as `prev`."""
    return leaf_hash(data)
