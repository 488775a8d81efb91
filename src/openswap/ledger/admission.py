"""Admission: which entries may join the log, and the key registry that decides who signed them.

An entry is admitted when it is well-formed and canonical, names this log, is signed by a key
that is registered and not revoked at the log index it would take, belongs to an organisation
whose role may write that event type, and extends its pack's chain without forking it. A
rejection gives every reason and appends nothing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from openswap.ledger.entries import (
    Entry,
    PackCommissioned,
    PackManufactured,
    PackRecycled,
    Role,
    check_entry_format,
    entry_leaf_hash,
    key_fingerprint,
    verify_entry_signature,
)
from openswap.ledger.log import MerkleLog

WRITERS: Mapping[str, frozenset[Role]] = {
    "PackManufactured": frozenset({Role.MAKER}),
    "PackCommissioned": frozenset({Role.MAKER, Role.OWNER, Role.OPERATOR}),
    "PackSwapped": frozenset({Role.STATION, Role.OPERATOR}),
    "PackCharged": frozenset({Role.STATION, Role.OPERATOR}),
    "PackInspected": frozenset(
        {Role.MAKER, Role.OPERATOR, Role.STATION, Role.REPAIRER, Role.REPURPOSER, Role.RECYCLER}
    ),
    "PackQuarantined": frozenset({Role.OPERATOR, Role.STATION, Role.REPAIRER}),
    "PackReleased": frozenset({Role.OPERATOR, Role.REPAIRER}),
    "PackRepaired": frozenset({Role.REPAIRER}),
    "PackShipped": frozenset(
        {Role.MAKER, Role.OWNER, Role.OPERATOR, Role.LOGISTICS, Role.REPAIRER, Role.REPURPOSER}
    ),
    "PackReceived": frozenset(
        {
            Role.OWNER,
            Role.OPERATOR,
            Role.STATION,
            Role.LOGISTICS,
            Role.REPAIRER,
            Role.REPURPOSER,
            Role.RECYCLER,
        }
    ),
    "PackRepurposed": frozenset({Role.REPURPOSER}),
    "PackRecycled": frozenset({Role.RECYCLER}),
}
"""Which organisation roles may write each event type."""

OPENING_TYPES = frozenset({PackManufactured.TYPE, PackCommissioned.TYPE})
"""Event types that may open a pack's chain (packs already in service start at commissioning)."""


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A registered Ed25519 key: whose it is, what it may write, and from/until which log index.

    The key signs entries at log indices `valid_from <= index < revoked_from`. Rotation
    registers a new key and revokes the old one at the current log size, so every entry it
    signed before stays valid; after a compromise, `revoked_from` may name an earlier index.
    """

    public_key: bytes
    org: str
    roles: frozenset[Role]
    valid_from: int = 0
    revoked_from: int | None = None

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.public_key)

    def active_at(self, index: int) -> bool:
        return self.valid_from <= index and (self.revoked_from is None or index < self.revoked_from)


class KeyRegistry:
    """The keys of every organisation that writes to the log, by fingerprint."""

    def __init__(self, records: Iterable[KeyRecord] = ()) -> None:
        self._records: dict[str, KeyRecord] = {}
        for r in records:
            self._records[r.fingerprint] = r

    def get(self, fingerprint: str) -> KeyRecord | None:
        return self._records.get(fingerprint)

    def records(self) -> list[KeyRecord]:
        return list(self._records.values())

    def register(
        self, public_key: bytes, org: str, roles: Iterable[Role], valid_from: int
    ) -> KeyRecord:
        """Add a key valid from log index `valid_from`; a key is registered once, ever."""
        if len(public_key) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        record = KeyRecord(public_key, org, frozenset(roles), valid_from)
        if record.fingerprint in self._records:
            raise ValueError(f"key {record.fingerprint} is already registered")
        if not record.roles:
            raise ValueError("a key needs at least one role")
        self._records[record.fingerprint] = record
        return record

    def revoke(self, fingerprint: str, revoked_from: int) -> KeyRecord:
        """Stop the key signing at log index `revoked_from` and after; never un-revokes."""
        record = self._records.get(fingerprint)
        if record is None:
            raise ValueError(f"unknown key {fingerprint}")
        if record.revoked_from is not None:
            revoked_from = min(revoked_from, record.revoked_from)
        record = KeyRecord(
            record.public_key, record.org, record.roles, record.valid_from, revoked_from
        )
        self._records[fingerprint] = record
        return record

    def to_json(self) -> str:
        """The registry as JSON: the public half that offline verifiers need."""
        keys = [
            {
                "public_key": base64.b64encode(r.public_key).decode("ascii"),
                "org": r.org,
                "roles": sorted(r.roles),
                "valid_from": r.valid_from,
                "revoked_from": r.revoked_from,
            }
            for r in self._records.values()
        ]
        return json.dumps({"keys": keys}, indent=2, sort_keys=True)


def from_registry_json(text: str) -> KeyRegistry:
    """Parse `KeyRegistry.to_json` output; raises ValueError on anything malformed."""
    try:
        obj: Any = json.loads(text)
        records = [
            KeyRecord(
                public_key=base64.b64decode(k["public_key"], validate=True),
                org=str(k["org"]),
                roles=frozenset(Role(r) for r in k["roles"]),
                valid_from=int(k["valid_from"]),
                revoked_from=None if k["revoked_from"] is None else int(k["revoked_from"]),
            )
            for k in obj["keys"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed key registry: {exc}") from None
    if any(len(r.public_key) != 32 for r in records):
        raise ValueError("malformed key registry: a public key is not 32 bytes")
    return KeyRegistry(records)


@dataclass(frozen=True, slots=True)
class PackHead:
    """The newest entry of one pack: its log index, leaf hash and event type."""

    index: int
    leaf_hash: bytes
    type: str


class ChainHeads(Protocol):
    """The head of every pack's chain (the service database keeps it in the log's transaction)."""

    def head(self, pack: str) -> PackHead | None: ...

    def advance(self, pack: str, head: PackHead) -> None: ...


@dataclass
class MemoryChainHeads:
    """`ChainHeads` in a dict; `build_chain_heads` fills it from an existing log."""

    heads: dict[str, PackHead] = field(default_factory=dict)

    def head(self, pack: str) -> PackHead | None:
        return self.heads.get(pack)

    def advance(self, pack: str, head: PackHead) -> None:
        self.heads[pack] = head


def build_chain_heads(log: MerkleLog, batch: int = 10_000) -> MemoryChainHeads:
    """Every pack's head, by reading the whole log (at start-up of a file-backed log)."""
    heads = MemoryChainHeads()
    size = log.size
    for start in range(0, size, batch):
        entries = log.store.read_entries(start, min(size, start + batch))
        hashes = log.store.read_hashes(0, start, start + len(entries))
        for offset, (data, h) in enumerate(zip(entries, hashes, strict=True)):
            obj = json.loads(data)
            heads.advance(obj["pack"], PackHead(start + offset, h, obj["type"]))
    return heads


def check_signer(entry: Entry, index: int, registry: KeyRegistry) -> list[str]:
    """Reasons the signer of `entry` may not write it at log `index` (signature included)."""
    record = registry.get(entry.key)
    if record is None:
        return [f"key: unknown key {entry.key}"]
    reasons = []
    if not record.active_at(index):
        if index < record.valid_from:
            reasons.append(f"key: not valid before log index {record.valid_from}")
        else:
            reasons.append(f"key: revoked from log index {record.revoked_from}")
    if entry.org != record.org:
        reasons.append(f"org: key belongs to {record.org!r}, entry claims {entry.org!r}")
    allowed = WRITERS.get(entry.type, frozenset())
    if not record.roles & allowed:
        roles = ", ".join(sorted(record.roles))
        reasons.append(f"role: {record.org!r} ({roles}) may not write {entry.type}")
    if not verify_entry_signature(entry, record.public_key):
        reasons.append("sig: signature does not verify")
    return reasons


def check_chain(entry: Entry, head: PackHead | None) -> list[str]:
    """Reasons `entry` does not extend its pack's chain whose newest entry is `head`."""
    if head is None:
        if entry.prev is not None:
            return [f"prev: pack {entry.pack!r} has no history, but prev names {entry.prev.hex()}"]
        if entry.type not in OPENING_TYPES:
            return [f"type: a pack's first entry must be one of {sorted(OPENING_TYPES)}"]
        return []
    if head.type == PackRecycled.TYPE:
        return [f"pack {entry.pack!r} was recycled (index {head.index}): its history is closed"]
    if entry.prev is None:
        return [
            f"prev: pack {entry.pack!r} already has history; prev must be {head.leaf_hash.hex()}"
        ]
    if entry.prev != head.leaf_hash:
        return [
            f"prev: fork: {entry.prev.hex()} is not the head of pack {entry.pack!r} "
            f"({head.leaf_hash.hex()}, index {head.index})"
        ]
    if entry.type == PackManufactured.TYPE:
        return ["type: PackManufactured can only open a pack's chain"]
    return []


def check_entry(
    data: bytes, index: int, origin: str, registry: KeyRegistry, head: PackHead | None
) -> tuple[Entry | None, list[str]]:
    """Every reason `data` may not take log `index` after `head`; the decoded entry if none."""
    entry, reasons = check_entry_format(data)
    if entry is None:
        return None, reasons
    if entry.log != origin:
        reasons.append(f"log: entry was signed for log {entry.log!r}, not {origin!r}")
    reasons += check_signer(entry, index, registry)
    reasons += check_chain(entry, head)
    return (None, reasons) if reasons else (entry, [])


@dataclass(frozen=True, slots=True)
class Admitted:
    index: int
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class Rejected:
    reasons: tuple[str, ...]


class Ledger:
    """The admission gate in front of a `MerkleLog`: check a batch, append what passes, at once."""

    def __init__(
        self, log: MerkleLog, origin: str, registry: KeyRegistry, heads: ChainHeads
    ) -> None:
        self.log = log
        self.origin = origin
        self.registry = registry
        self.heads = heads

    def submit(self, batch: Sequence[bytes]) -> list[Admitted | Rejected]:
        """One outcome per submitted entry, in order; admitted ones are appended in one commit.

        Entries later in the batch see the chain heads of admitted ones earlier in it. Nothing is
        appended for a rejected entry; if the commit fails, nothing is appended at all.
        """
        start = self.log.size
        pending: dict[str, PackHead] = {}
        accepted: list[bytes] = []
        outcomes: list[Admitted | Rejected] = []
        for data in batch:
            index = start + len(accepted)
            pack = _pack_of(data)
            head = pending.get(pack) if pack in pending else self.heads.head(pack)
            entry, reasons = check_entry(data, index, self.origin, self.registry, head)
            if entry is None:
                outcomes.append(Rejected(tuple(reasons)))
                continue
            h = entry_leaf_hash(data)
            pending[entry.pack] = PackHead(index, h, entry.type)
            accepted.append(data)
            outcomes.append(Admitted(index, h))
        if accepted:
            self.log.append(accepted)
            for pack, head in pending.items():
                self.heads.advance(pack, head)
        return outcomes


def _pack_of(data: bytes) -> str:
    """The pack an entry claims, for the chain-head lookup ("" if unreadable: check rejects it)."""
    try:
        obj = json.loads(data)
    except ValueError:
        return ""
    pack = obj.get("pack") if isinstance(obj, dict) else None
    return pack if isinstance(pack, str) else ""


def check_pack_history(entries: Sequence[bytes]) -> list[str]:
    """Reasons a pack's entries, oldest first, do not form one unbroken chain (for passports)."""
    reasons: list[str] = []
    head: PackHead | None = None
    pack: str | None = None
    for position, data in enumerate(entries):
        entry, why = check_entry_format(data)
        if entry is None:
            reasons += [f"entry {position}: {r}" for r in why]
            return reasons
        if pack is not None and entry.pack != pack:
            reasons.append(f"entry {position}: belongs to pack {entry.pack!r}, not {pack!r}")
        pack = entry.pack
        reasons += [f"entry {position}: {r}" for r in check_chain(entry, head)]
        head = PackHead(position, entry_leaf_hash(data), entry.type)
    return reasons
