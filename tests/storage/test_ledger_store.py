"""The database log store: the same tree and proofs as the in-memory store, one transaction per
batch (a failed batch leaves nothing), compare-and-set appends, sealed secrets."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select, update

from openswap.ledger import merkle
from openswap.ledger.log import MerkleLog
from openswap.ledger.store import MemoryLogStore
from openswap.storage.engine import build_session_factory
from openswap.storage.ledger import DatabaseLogStore, SqlKeyStore, SqlLogStore
from openswap.storage.models import SealedSecretRow
from tests.storage.support import Database

KEK = bytes(range(32))


def _entries(rng: random.Random, n: int) -> list[bytes]:
    return [rng.randbytes(rng.randrange(1, 60)) for _ in range(n)]


def test_database_store_builds_the_same_tree_and_proofs_as_memory(db: Database) -> None:
    rng = random.Random(7)
    mem, sql = MerkleLog(MemoryLogStore()), MerkleLog(DatabaseLogStore(db.engine))
    for batch in (1, 2, 5, 1, 8, 13, 3):
        data = _entries(rng, batch)
        assert mem.append(data) == sql.append(data)
    n = mem.size
    assert sql.size == n == 33
    for size in range(1, n + 1):
        assert sql.root(size) == mem.root(size)
        for index in range(0, size, 3):
            proof = sql.inclusion_proof(index, size)
            assert proof == mem.inclusion_proof(index, size)
            assert merkle.verify_inclusion(sql.leaf_hash(index), index, size, proof, sql.root(size))
        for old in range(0, size + 1, 4):
            assert sql.consistency_proof(old, size) == mem.consistency_proof(old, size)
    assert sql.store.read_entries(3, 9) == mem.store.read_entries(3, 9)
    assert sql.store.read_hashes(2, 0, 8) == mem.store.read_hashes(2, 0, 8)
    store = DatabaseLogStore(db.engine)
    assert store.leaf_index(sql.leaf_hash(17)) == 17
    assert store.leaf_index(bytes(32)) is None
    with pytest.raises(IndexError):
        store.read_entries(30, 40)
    with pytest.raises(IndexError):
        store.read_nodes([(5, 1)])


def test_append_is_a_compare_and_set_and_writes_nothing_on_a_bad_batch(db: Database) -> None:
    store = DatabaseLogStore(db.engine)
    log = MerkleLog(store)
    log.append([b"a", b"b", b"c"])
    with pytest.raises(ValueError, match="concurrent writer"):
        store.append(2, [b"x"], [[merkle.leaf_hash(b"x")]])
    with pytest.raises(ValueError, match="level 1"):
        store.append(3, [b"x"], [[merkle.leaf_hash(b"x")]])  # misses the new (1, 1) node
    assert store.size() == 3
    assert store.read_entries(0, 3) == [b"a", b"b", b"c"]


def test_a_batch_rolled_back_with_its_transaction_leaves_no_trace(db: Database) -> None:
    log = MerkleLog(DatabaseLogStore(db.engine))
    log.append([b"one"])
    root = log.root()
    factory = build_session_factory(db.engine)
    with factory() as s:
        s.begin()
        inner = MerkleLog(SqlLogStore(s))
        inner.append([b"two", b"three", b"four"])
        assert inner.size == 4
        s.rollback()  # a crash before commit
    assert log.size == 1
    assert log.root() == root


def test_sealed_secrets_open_only_with_their_key_and_name(db: Database) -> None:
    factory = build_session_factory(db.engine)
    secret = b"an ed25519 seed of 32 bytes!!!!!"
    with factory() as s, s.begin():
        SqlKeyStore(s, KEK).put("ledger/entry-key/a", secret)
    with factory() as s, s.begin():
        assert SqlKeyStore(s, KEK).get("ledger/entry-key/a") == secret
        assert SqlKeyStore(s, KEK).get("missing") is None
        stored = s.scalar(select(SealedSecretRow.sealed))
        assert stored is not None
        assert secret not in bytes(stored)
        with pytest.raises(RuntimeError, match="does not open"):
            SqlKeyStore(s, bytes(32)).get("ledger/entry-key/a")
        with pytest.raises(RuntimeError, match="no key-encryption key"):
            SqlKeyStore(s, None).get("ledger/entry-key/a")
        # a sealed value copied under another name does not open there
        s.add(SealedSecretRow(name="other", sealed=bytes(stored), created_at=db.clock.now()))
        s.flush()
        with pytest.raises(RuntimeError, match="does not open"):
            SqlKeyStore(s, KEK).get("other")
        s.execute(
            update(SealedSecretRow).values(sealed=bytes(stored)[:-1] + bytes([stored[-1] ^ 1]))
        )
        with pytest.raises(RuntimeError):
            SqlKeyStore(s, KEK).get("ledger/entry-key/a")
