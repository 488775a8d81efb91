"""Audits: every changed stored byte is found, consistent rewrites are caught by checkpoints."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from openswap.ledger.audit import audit_store, check_checkpoint_consistency
from openswap.ledger.checkpoint import (
    build_checkpoint,
    build_signer,
    sign_checkpoint,
    verify_checkpoint,
)
from openswap.ledger.log import MerkleLog
from openswap.ledger.merkle import build_levels, leaf_hash
from openswap.ledger.store import FileLogStore, MemoryLogStore

ORIGIN = "ledger.openswap.example/audit"
SIGNER = build_signer(ORIGIN, hashlib.sha256(b"audit key").digest())


def entries_of(start: int, n: int) -> list[bytes]:
    return [f'{{"pack":"P-{i}","n":{i}}}'.encode() for i in range(start, start + n)]


def checkpoint(log: MerkleLog, size: int | None = None) -> str:
    n = log.size if size is None else size
    return sign_checkpoint(build_checkpoint(ORIGIN, n, log.root(n)), SIGNER)


def build(tmp_path: Path, n: int) -> tuple[Path, list[str]]:
    """A file log of n entries appended in batches, with a checkpoint after each batch."""
    notes = []
    with FileLogStore(tmp_path) as store:
        log = MerkleLog(store)
        for start in range(0, n, 17):
            log.append(entries_of(start, min(17, n - start)))
            notes.append(checkpoint(log))
    return tmp_path, notes


def test_clean_store_audits_clean(tmp_path: Path) -> None:
    path, notes = build(tmp_path, 100)
    cps = [verify_checkpoint(n, SIGNER.verifier.to_vkey()) for n in notes]
    with FileLogStore(path) as store:
        report = audit_store(store, cps, batch=7)
    assert report.ok
    assert report.size == 100
    assert report.first_rewritten_entry is None


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_flipped_stored_byte_is_found(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        flip_and_audit(Path(tmp), data)


def flip_and_audit(path: Path, data: st.DataObject) -> None:
    n = 100
    _, notes = build(path, n)
    cp = verify_checkpoint(notes[-1], SIGNER.verifier.to_vkey())
    name = data.draw(
        st.sampled_from(["entries.dat", "level-00.dat", "level-01.dat", "level-03.dat"])
    )
    blob = bytearray((path / name).read_bytes())
    pos = data.draw(st.integers(0, len(blob) - 1))
    blob[pos] ^= 1 << data.draw(st.integers(0, 7))
    (path / name).write_bytes(bytes(blob))
    with FileLogStore(path) as store:
        report = audit_store(store, [cp])
    assert not report.ok
    if name == "entries.dat":
        offsets = [0]
        for e in entries_of(0, n):
            offsets.append(offsets[-1] + len(e))
        touched = max(i for i in range(n) if offsets[i] <= pos)
        assert report.first_rewritten_entry == touched
        assert f"entry {touched}:" in report.problems[0]
    elif name == "level-00.dat":
        assert report.first_rewritten_entry == pos // 32
    else:
        level = int(name[6:8])
        assert report.first_rewritten_entry == (pos // 32) << level


def test_a_consistent_rewrite_is_bounded_by_checkpoints_and_breaks_consistency() -> None:
    honest = MerkleLog(MemoryLogStore())
    honest.append(entries_of(0, 40))
    seen = [checkpoint(honest, s) for s in (10, 20, 30, 40)]
    # An attacker with write access rebuilds the store with entry 23 changed, hashes and all.
    forged_entries = entries_of(0, 40)
    forged_entries[23] = b'{"pack":"P-23","n":-1}'
    forged = MerkleLog(MemoryLogStore())
    forged.append(forged_entries)
    vkey = SIGNER.verifier.to_vkey()
    cps = [verify_checkpoint(n, vkey) for n in seen]
    report = audit_store(forged.store, cps)
    assert not report.ok
    assert report.first_rewritten_entry is None
    assert report.rewritten_range == (20, 30)
    # The forger cannot produce a consistency proof from the last honest checkpoint either.
    forged.append(entries_of(40, 5))
    new = verify_checkpoint(checkpoint(forged), vkey)  # even if the operator key signs it
    proof = forged.consistency_proof(40)
    assert check_checkpoint_consistency(cps[-1], new, proof)
    honest.append(entries_of(40, 5))
    good = verify_checkpoint(checkpoint(honest), vkey)
    assert check_checkpoint_consistency(cps[-1], good, honest.consistency_proof(40)) == []
    assert check_checkpoint_consistency(good, cps[-1], []) == ["log shrank from 45 to 40 entries"]


def test_audit_of_a_memory_tree_matches_build_levels() -> None:
    log = MerkleLog(MemoryLogStore())
    log.append(entries_of(0, 33))
    levels = build_levels([leaf_hash(e) for e in entries_of(0, 33)])
    assert log.store.read_hashes(5, 0, 1) == levels[5]
    assert audit_store(log.store).ok
