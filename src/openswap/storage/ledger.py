"""The ledger in the service database: the Merkle log's store, pack chain heads, the key
registry, published checkpoints, the outbox relay's record and sealed secrets.

`SqlLogStore` implements `ledger.store.LogStore` inside a session: an append is a few bulk
INSERTs that commit with the unit of work (one transaction per batch); `DatabaseLogStore` is the
same store committing each append on its own. `SqlLedgerUnitOfWork` is the operations unit of
work plus these repositories, so the relay appends and marks the outbox in one transaction.
Private keys are sealed with AES-256-GCM under a key-encryption key that never enters the
database. Tables: docs/design/ledger.md.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, delete, func, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from openswap.ledger.admission import PackHead
from openswap.ledger.merkle import HASH_SIZE, Coord
from openswap.services.model import LedgerKey, PublishedCheckpoint, RelayRecord, RelayStatus
from openswap.storage.engine import READ_ONLY_OPTION, build_session_factory
from openswap.storage.models import (
    LedgerCheckpointRow,
    LedgerEntryRow,
    LedgerKeyRow,
    LedgerNodeRow,
    LedgerPackHeadRow,
    LedgerRelayRow,
    OutboxRow,
    SealedSecretRow,
)
from openswap.storage.uow import SqlUnitOfWork

KEK_BYTES = 32
_SEAL_VERSION = b"\x01"
_NONCE = 12
_IN_CHUNK = 500  # coordinates per IN (...) list: well under every backend's parameter limit


def _check_shape(
    size: int, start: int, entries: Sequence[bytes], nodes: Sequence[Sequence[bytes]]
) -> None:
    """ValueError unless `start` is the size and `nodes` are exactly the newly complete ones."""
    if start != size:
        raise ValueError(f"append at {start} but the log has {size} entries (concurrent writer?)")
    new_size = size + len(entries)
    if len(nodes) < 1 or len(nodes[0]) != len(entries):
        raise ValueError("nodes[0] must hold one leaf hash per entry")
    for level in range(max(len(nodes), new_size.bit_length())):
        want = (new_size >> level) - (size >> level)
        got = len(nodes[level]) if level < len(nodes) else 0
        if got != want:
            raise ValueError(f"level {level}: {got} new nodes given, {want} expected")
        if got and any(len(h) != HASH_SIZE for h in nodes[level]):
            raise ValueError(f"level {level}: every node hash must be {HASH_SIZE} bytes")


class SqlLogStore:
    """A `LogStore` (and `services.ports.LedgerLogStore`) over an open session.

    Entries and their leaf hashes live in `ledger_entries` (level 0), complete subtrees of
    level >= 1 in `ledger_nodes`. Nothing commits here: the session's owner does. Two writers
    racing for the same indices collide on the primary key (the compare-and-set of `append`).
    """

    def __init__(self, session: Session) -> None:
        self.s = session

    def size(self) -> int:
        top = self.s.scalar(select(func.max(LedgerEntryRow.idx)))
        return 0 if top is None else int(top) + 1

    def append(
        self, start: int, entries: Sequence[bytes], nodes: Sequence[Sequence[bytes]]
    ) -> None:
        _check_shape(self.size(), start, entries, nodes)
        if not entries:
            return
        self.s.execute(
            insert(LedgerEntryRow),
            [
                {"idx": start + i, "leaf_hash": h, "data": e}
                for i, (e, h) in enumerate(zip(entries, nodes[0], strict=True))
            ],
        )
        rows = [
            {"level": level, "idx": (start >> level) + i, "hash": h}
            for level in range(1, len(nodes))
            for i, h in enumerate(nodes[level])
        ]
        if rows:
            self.s.execute(insert(LedgerNodeRow), rows)

    def read_entries(self, start: int, end: int) -> list[bytes]:
        size = self.size()
        if not 0 <= start <= end <= size:
            raise IndexError(f"entries [{start}, {end}) is outside [0, {size})")
        q = (
            select(LedgerEntryRow.data)
            .where(LedgerEntryRow.idx >= start, LedgerEntryRow.idx < end)
            .order_by(LedgerEntryRow.idx)
        )
        out = [bytes(d) for d in self.s.scalars(q)]
        if len(out) != end - start:
            raise IndexError(f"entries [{start}, {end}): {end - start - len(out)} missing")
        return out

    def read_hashes(self, level: int, start: int, end: int) -> list[bytes]:
        have = self.size() >> level if level >= 0 else 0
        if not 0 <= start <= end <= have:
            raise IndexError(f"level {level} nodes [{start}, {end}) is outside [0, {have})")
        if level == 0:
            q = (
                select(LedgerEntryRow.leaf_hash)
                .where(LedgerEntryRow.idx >= start, LedgerEntryRow.idx < end)
                .order_by(LedgerEntryRow.idx)
            )
        else:
            q = (
                select(LedgerNodeRow.hash)
                .where(
                    LedgerNodeRow.level == level,
                    LedgerNodeRow.idx >= start,
                    LedgerNodeRow.idx < end,
                )
                .order_by(LedgerNodeRow.idx)
            )
        out = [bytes(h) for h in self.s.scalars(q)]
        if len(out) != end - start:
            raise IndexError(f"level {level} nodes [{start}, {end}): some are missing")
        return out

    def read_nodes(self, coords: Sequence[Coord]) -> list[bytes]:
        found: dict[Coord, bytes] = {}
        leaves = sorted({i for level, i in coords if level == 0})
        by_level: dict[int, list[int]] = {}
        for level, i in sorted({c for c in coords if c[0] > 0}):
            by_level.setdefault(level, []).append(i)
        # Plain SQL with the integer coordinates inlined (they are ints, never user text): the
        # shape of these statements varies with every tree size, so building them as
        # expressions costs more than running them. Each `level = L AND idx IN (...)` term
        # uses the primary key (a row-value IN list would be a full scan on SQLite).
        for k in range(0, len(leaves), _IN_CHUNK):
            ids = ",".join(str(int(i)) for i in leaves[k : k + _IN_CHUNK])
            rows = self.s.execute(
                text(f"SELECT idx, leaf_hash FROM ledger_entries WHERE idx IN ({ids})")
            )
            found.update(((0, int(i)), bytes(h)) for i, h in rows)
        if by_level:
            terms = " OR ".join(
                f"(level = {int(level)} AND idx IN ({','.join(str(int(i)) for i in indices)}))"
                for level, indices in by_level.items()
            )
            rows = self.s.execute(text(f"SELECT level, idx, hash FROM ledger_nodes WHERE {terms}"))
            found.update(((int(lv), int(i)), bytes(h)) for lv, i, h in rows)
        try:
            return [found[(level, index)] for level, index in coords]
        except KeyError as missing:
            raise IndexError(f"node {missing.args[0]} does not exist") from None

    def leaf_index(self, leaf_hash: bytes) -> int | None:
        q = (
            select(LedgerEntryRow.idx)
            .where(LedgerEntryRow.leaf_hash == leaf_hash)
            .order_by(LedgerEntryRow.idx)
            .limit(1)
        )
        idx = self.s.scalar(q)
        return None if idx is None else int(idx)


class DatabaseLogStore:
    """A durable `LogStore` over an engine: every `append` is its own committed transaction
    (for tools and benchmarks; services append inside their unit of work instead)."""

    def __init__(self, engine: Engine) -> None:
        self._write = build_session_factory(engine)
        self._read = build_session_factory(engine.execution_options(**{READ_ONLY_OPTION: True}))

    def _reading(self) -> Session:
        return self._read()

    def size(self) -> int:
        with self._reading() as s:
            return SqlLogStore(s).size()

    def append(
        self, start: int, entries: Sequence[bytes], nodes: Sequence[Sequence[bytes]]
    ) -> None:
        with self._write() as s, s.begin():
            SqlLogStore(s).append(start, entries, nodes)

    def read_entries(self, start: int, end: int) -> list[bytes]:
        with self._reading() as s:
            return SqlLogStore(s).read_entries(start, end)

    def read_hashes(self, level: int, start: int, end: int) -> list[bytes]:
        with self._reading() as s:
            return SqlLogStore(s).read_hashes(level, start, end)

    def read_nodes(self, coords: Sequence[Coord]) -> list[bytes]:
        with self._reading() as s:
            return SqlLogStore(s).read_nodes(coords)

    def leaf_index(self, leaf_hash: bytes) -> int | None:
        with self._reading() as s:
            return SqlLogStore(s).leaf_index(leaf_hash)


class SqlChainHeads:
    """`ledger.admission.ChainHeads` in `ledger_pack_heads`, advanced in the append's
    transaction."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def head(self, pack: str) -> PackHead | None:
        row = self.s.get(LedgerPackHeadRow, pack)
        return None if row is None else PackHead(int(row.idx), bytes(row.leaf_hash), row.type)

    def advance(self, pack: str, head: PackHead) -> None:
        row = self.s.get(LedgerPackHeadRow, pack)
        if row is None:
            self.s.add(
                LedgerPackHeadRow(
                    pack=pack, idx=head.index, leaf_hash=head.leaf_hash, type=head.type
                )
            )
        else:
            row.idx, row.leaf_hash, row.type = head.index, head.leaf_hash, head.type


class SqlLedgerKeyRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    @staticmethod
    def _key(row: LedgerKeyRow) -> LedgerKey:
        return LedgerKey(
            fingerprint=row.fingerprint,
            name=row.name,
            org=row.org,
            roles=tuple(r for r in row.roles.split(",") if r),
            public_key=bytes(row.public_key),
            valid_from=int(row.valid_from),
            revoked_from=None if row.revoked_from is None else int(row.revoked_from),
            created_at=row.created_at,
        )

    def all(self) -> list[LedgerKey]:
        q = select(LedgerKeyRow).order_by(LedgerKeyRow.created_at, LedgerKeyRow.fingerprint)
        return [self._key(r) for r in self.s.scalars(q)]

    def add(self, key: LedgerKey) -> None:
        self.s.add(
            LedgerKeyRow(
                fingerprint=key.fingerprint,
                name=key.name,
                org=key.org,
                roles=",".join(sorted(key.roles)),
                public_key=key.public_key,
                valid_from=key.valid_from,
                revoked_from=key.revoked_from,
                created_at=key.created_at,
            )
        )
        self.s.flush()

    def set_revoked_from(self, fingerprint: str, revoked_from: int) -> None:
        self.s.execute(
            update(LedgerKeyRow)
            .where(LedgerKeyRow.fingerprint == fingerprint)
            .values(revoked_from=revoked_from)
        )


class SqlCheckpointRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    @staticmethod
    def _cp(row: LedgerCheckpointRow) -> PublishedCheckpoint:
        return PublishedCheckpoint(
            int(row.id), int(row.size), bytes(row.root), row.note, row.published_at
        )

    def add(self, size: int, root: bytes, note: str, at: datetime) -> PublishedCheckpoint:
        row = LedgerCheckpointRow(size=size, root=root, note=note, published_at=at)
        self.s.add(row)
        self.s.flush()
        return self._cp(row)

    def latest(self) -> PublishedCheckpoint | None:
        q = select(LedgerCheckpointRow).order_by(LedgerCheckpointRow.id.desc()).limit(1)
        row = self.s.scalar(q)
        return None if row is None else self._cp(row)

    def all(self) -> list[PublishedCheckpoint]:
        q = select(LedgerCheckpointRow).order_by(LedgerCheckpointRow.id)
        return [self._cp(r) for r in self.s.scalars(q)]


class SqlRelayRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, records: Sequence[RelayRecord]) -> None:
        if not records:
            return
        self.s.execute(
            insert(LedgerRelayRow),
            [
                {
                    "outbox_seq": r.outbox_seq,
                    "event_id": r.event_id,
                    "status": str(r.status),
                    "first_index": r.first_index,
                    "entry_count": r.entry_count,
                    "reasons": list(r.reasons),
                    "relayed_at": r.relayed_at,
                }
                for r in records
            ],
        )

    def find(self, status: RelayStatus | None = None, limit: int = 1000) -> list[RelayRecord]:
        q = select(LedgerRelayRow).order_by(LedgerRelayRow.outbox_seq).limit(limit)
        if status is not None:
            q = q.where(LedgerRelayRow.status == str(status))
        return [
            RelayRecord(
                outbox_seq=int(r.outbox_seq),
                event_id=r.event_id,
                status=RelayStatus(r.status),
                first_index=None if r.first_index is None else int(r.first_index),
                entry_count=int(r.entry_count),
                reasons=tuple(r.reasons),
                relayed_at=r.relayed_at,
            )
            for r in self.s.scalars(q)
        ]

    def requeue_rejected(self) -> int:
        seqs = list(
            self.s.scalars(
                select(LedgerRelayRow.outbox_seq).where(
                    LedgerRelayRow.status == str(RelayStatus.REJECTED)
                )
            )
        )
        if not seqs:
            return 0
        self.s.execute(update(OutboxRow).where(OutboxRow.seq.in_(seqs)).values(published_at=None))
        self.s.execute(delete(LedgerRelayRow).where(LedgerRelayRow.outbox_seq.in_(seqs)))
        return len(seqs)


def kek_from_text(text: str) -> bytes:
    """A key-encryption key from its base64 text (32 bytes); ValueError otherwise."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the key-encryption key is not base64") from None
    if len(raw) != KEK_BYTES:
        raise ValueError(f"the key-encryption key must be {KEK_BYTES} bytes, got {len(raw)}")
    return raw


def build_kek_text() -> str:
    """A fresh random key-encryption key, as base64 text."""
    return base64.b64encode(os.urandom(KEK_BYTES)).decode("ascii")


class SqlKeyStore:
    """`services.ports.KeyStore` in `sealed_secrets`: AES-256-GCM under `kek` (kept outside the
    database), a fresh 96-bit nonce per value, the secret's name as associated data (a sealed
    value moved to another name does not open). Without a `kek`, every call refuses."""

    def __init__(self, session: Session, kek: bytes | None) -> None:
        self.s = session
        self._aead = None if kek is None else AESGCM(kek)

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            raise RuntimeError("no key-encryption key is configured for sealed secrets")
        return self._aead

    def get(self, name: str) -> bytes | None:
        row = self.s.get(SealedSecretRow, name)
        if row is None:
            return None
        sealed = bytes(row.sealed)
        if sealed[:1] != _SEAL_VERSION or len(sealed) < 1 + _NONCE + 16:
            raise RuntimeError(f"sealed secret {name!r} is malformed")
        nonce, body = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
        try:
            return self._cipher().decrypt(nonce, body, name.encode())
        except InvalidTag:
            raise RuntimeError(
                f"sealed secret {name!r} does not open: wrong key-encryption key or altered"
            ) from None

    def put(self, name: str, value: bytes) -> None:
        nonce = os.urandom(_NONCE)
        sealed = _SEAL_VERSION + nonce + self._cipher().encrypt(nonce, value, name.encode())
        row = self.s.get(SealedSecretRow, name)
        if row is None:
            self.s.add(SealedSecretRow(name=name, sealed=sealed, created_at=datetime.now(UTC)))
        else:
            row.sealed = sealed
        self.s.flush()


class SqlLedgerUnitOfWork(SqlUnitOfWork):
    """`services.ports.LedgerUnitOfWork`: the operations repositories plus the ledger's."""

    def __init__(self, session_factory: sessionmaker[Session], kek: bytes | None) -> None:
        super().__init__(session_factory)
        self._kek = kek

    def __enter__(self) -> Self:
        super().__enter__()
        s = self.session
        self.log_store = SqlLogStore(s)
        self.chain_heads = SqlChainHeads(s)
        self.ledger_keys = SqlLedgerKeyRepo(s)
        self.checkpoints = SqlCheckpointRepo(s)
        self.relay = SqlRelayRepo(s)
        self.secrets = SqlKeyStore(s, self._kek)
        return self


def build_ledger_uow_factory(
    engine: Engine, kek: bytes | None = None, *, read_only: bool = False
) -> Callable[[], SqlLedgerUnitOfWork]:
    """A `services.ports.LedgerUnitOfWorkFactory` over `engine`; `kek` opens sealed secrets
    (signing needs it; reading proofs and passports does not)."""
    bind = engine.execution_options(**{READ_ONLY_OPTION: True}) if read_only else engine
    factory = build_session_factory(bind)
    return lambda: SqlLedgerUnitOfWork(factory, kek)
