"""Log stores: the file store equals the memory store, survives reopening and torn batches."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openswap.ledger.log import MerkleLog
from openswap.ledger.merkle import build_levels, leaf_hash, verify_consistency, verify_inclusion
from openswap.ledger.store import FileLogStore, MemoryLogStore
from tests.ledger import reference


def entries_of(start: int, n: int) -> list[bytes]:
    return [f"entry-{i}".encode() * (i % 4 + 1) for i in range(start, start + n)]


BATCHES = (1, 1, 3, 8, 50, 7, 130)


def test_file_store_matches_memory_store_and_reference(tmp_path: Path) -> None:
    mem = MerkleLog(MemoryLogStore())
    with FileLogStore(tmp_path / "log") as store:
        disk = MerkleLog(store)
        size = 0
        for n in BATCHES:
            batch = entries_of(size, n)
            assert mem.append(batch) == disk.append(batch) == size
            size += n
        everything = entries_of(0, size)
        assert disk.size == mem.size == size
        assert store.read_entries(0, size) == everything
        for level, hashes in enumerate(build_levels([leaf_hash(e) for e in everything])):
            assert store.read_hashes(level, 0, len(hashes)) == hashes
        for n in (1, 2, 9, 63, 64, 65, size):
            assert disk.root(n) == mem.root(n) == reference.mth(everything[:n])
        for index in (0, 1, 63, 64, size - 1):
            proof = disk.inclusion_proof(index)
            assert proof == reference.path(index, everything)
            assert verify_inclusion(disk.leaf_hash(index), index, size, proof, disk.root())
        proof = disk.consistency_proof(70)
        assert verify_consistency(70, size, disk.root(70), disk.root(), proof)


def test_file_store_survives_reopen(tmp_path: Path) -> None:
    with FileLogStore(tmp_path) as store:
        log = MerkleLog(store)
        log.append(entries_of(0, 100))
        root = log.root()
    with FileLogStore(tmp_path) as store:
        log = MerkleLog(store)
        assert log.size == 100
        assert log.root() == root
        log.append(entries_of(100, 28))
        assert log.root() == reference.mth(entries_of(0, 128))
    with FileLogStore(tmp_path) as store:
        assert store.read_entries(126, 128) == entries_of(126, 2)


def test_a_torn_batch_is_cut_away_on_reopen(tmp_path: Path) -> None:
    with FileLogStore(tmp_path) as store:
        log = MerkleLog(store)
        log.append(entries_of(0, 10))
        root = log.root()
    # A crash after the data files were written but before HEAD was replaced.
    for name in ("entries.dat", "entries.idx", "level-00.dat", "level-01.dat"):
        with open(tmp_path / name, "ab") as f:
            f.write(b"\xff" * 13)
    with FileLogStore(tmp_path) as store:
        log = MerkleLog(store)
        assert log.size == 10
        assert log.root() == root
        assert os.path.getsize(tmp_path / "level-00.dat") == 10 * 32
        log.append(entries_of(10, 5))
        assert log.root() == reference.mth(entries_of(0, 15))


def test_a_store_that_lost_committed_bytes_is_refused(tmp_path: Path) -> None:
    with FileLogStore(tmp_path) as store:
        MerkleLog(store).append(entries_of(0, 10))
    with open(tmp_path / "level-00.dat", "r+b") as f:
        f.truncate(32 * 9)
    with pytest.raises(ValueError, match="committed size needs"):
        FileLogStore(tmp_path)


def test_one_writer_per_directory(tmp_path: Path) -> None:
    with FileLogStore(tmp_path), pytest.raises(RuntimeError, match="another process"):
        FileLogStore(tmp_path)


@pytest.mark.parametrize("make", [MemoryLogStore, None])
def test_append_refuses_a_stale_start_or_wrong_nodes(tmp_path: Path, make: object) -> None:
    store = MemoryLogStore() if make else FileLogStore(tmp_path)
    log = MerkleLog(store)
    log.append(entries_of(0, 3))
    h = leaf_hash(b"x")
    with pytest.raises(ValueError, match="concurrent writer"):
        store.append(2, [b"x"], [[h]])
    with pytest.raises(ValueError, match="level 1"):
        store.append(3, [b"x"], [[h]])  # the fourth leaf completes nodes (1, 1) and (2, 0)
    with pytest.raises(ValueError, match="leaf hash"):
        store.append(3, [b"x"], [[]])
    assert store.size() == 3
    with pytest.raises(IndexError):
        store.read_entries(0, 4)
    with pytest.raises(IndexError):
        store.read_nodes([(1, 1)])
    with pytest.raises(ValueError, match="outside"):
        log.root(4)
    if isinstance(store, FileLogStore):
        store.close()
