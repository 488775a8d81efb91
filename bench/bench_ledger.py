"""Ledger benchmarks: durable batched appends, inclusion proofs and their verification.

Each figure is printed beside the primitives it is made of, measured in the same run: raw
SHA-256 of 256 B and Ed25519 sign/verify (cryptography), the physical limit on this machine.
Full mode builds a 1,000,000-entry durable log in a temporary directory (about 0.4 GB of I/O).
"""

from __future__ import annotations

import hashlib
import random
import tempfile
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openswap.ledger.log import MerkleLog
from openswap.ledger.merkle import verify_inclusion
from openswap.ledger.store import FileLogStore

ENTRY_BYTES = 300  # about the size of a canonical signed lifecycle entry
BATCH = 10_000


def _rate(fn: Callable[[], int], min_s: float = 0.5) -> float:
    """Operations per second of `fn` (which returns how many it did), repeated for >= min_s."""
    done, start = 0, time.perf_counter()
    while True:
        done += fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_s:
            return done / elapsed


def _references() -> dict[str, float]:
    block = bytes(256)
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"bench").digest())
    public = key.public_key()
    message = bytes(300)
    signature = key.sign(message)

    def sha() -> int:
        for _ in range(10_000):
            hashlib.sha256(block).digest()
        return 10_000

    def sign() -> int:
        for _ in range(200):
            key.sign(message)
        return 200

    def verify() -> int:
        for _ in range(200):
            public.verify(signature, message)
        return 200

    return {"sha256_256B": _rate(sha), "ed25519_sign": _rate(sign), "ed25519_verify": _rate(verify)}


def _admission_rate(n: int) -> float:
    """Signed lifecycle entries admitted per second (format, key, role, chain, signature)."""
    from datetime import UTC, datetime

    from openswap.ledger.admission import KeyRegistry, Ledger, MemoryChainHeads
    from openswap.ledger.entries import PackCommissioned, Role, build_entry
    from openswap.ledger.store import MemoryLogStore

    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"operator").digest())
    registry = KeyRegistry()
    registry.register(key.public_key().public_bytes_raw(), "org-op", [Role.OPERATOR], 0)
    ledger = Ledger(MerkleLog(MemoryLogStore()), "bench.example/log", registry, MemoryChainHeads())
    when = datetime(2026, 1, 1, tzinfo=UTC)
    event = PackCommissioned(owner="org-owner")
    batch = [
        build_entry(
            event,
            log="bench.example/log",
            pack=f"P-{i}",
            org="org-op",
            time=when,
            prev=None,
            private_key=key,
        )
        for i in range(n)
    ]
    start = time.perf_counter()
    ledger.submit(batch)
    elapsed = time.perf_counter() - start
    if ledger.log.size != n:
        raise AssertionError("benchmark entries were rejected")
    return n / elapsed


def _database_rates(n: int, batch: int = 5_000) -> tuple[float, float]:
    """Appends/s (one committed transaction per batch) and inclusion proofs/s of the service
    database's store (SQLite WAL file), for `n` entries of `ENTRY_BYTES`."""
    from openswap.storage import Base, build_engine
    from openswap.storage.ledger import DatabaseLogStore

    rng = random.Random(7)
    payload = [rng.randbytes(ENTRY_BYTES) for _ in range(batch)]
    with tempfile.TemporaryDirectory(prefix="openswap-bench-ledger-db-") as tmp:
        engine = build_engine(f"sqlite:///{tmp}/ledger.db")
        Base.metadata.create_all(engine)
        log = MerkleLog(DatabaseLogStore(engine))
        start = time.perf_counter()
        for _ in range(n // batch):
            log.append(payload)
        appends = n / (time.perf_counter() - start)
        indices = [rng.randrange(n) for _ in range(2_000)]
        start = time.perf_counter()
        for i in indices:
            log.inclusion_proof(i, n)
        proofs = len(indices) / (time.perf_counter() - start)
        engine.dispose()
    return appends, proofs


def run(quick: bool = False) -> dict[str, float]:
    """Run the ledger benchmarks; returns the figures (per second) it printed."""
    size = 100_000 if quick else 1_000_000
    rng = random.Random(20261122)
    payload = [rng.randbytes(ENTRY_BYTES) for _ in range(BATCH)]
    refs = _references()
    with tempfile.TemporaryDirectory(prefix="openswap-bench-ledger-") as tmp:
        store = FileLogStore(tmp)
        log = MerkleLog(store)
        start = time.perf_counter()
        for _ in range(size // BATCH):
            log.append(payload)  # one fsync'd commit per batch
        appends = size / (time.perf_counter() - start)

        root = log.root()
        indices = [rng.randrange(size) for _ in range(20_000 if quick else 100_000)]
        start = time.perf_counter()
        proofs = [log.inclusion_proof(i, size) for i in indices]
        proofs_per_s = len(indices) / (time.perf_counter() - start)

        leaves = store.read_nodes([(0, i) for i in indices])
        start = time.perf_counter()
        ok = all(
            verify_inclusion(leaf, i, size, p, root)
            for leaf, i, p in zip(leaves, indices, proofs, strict=True)
        )
        verifies = len(indices) / (time.perf_counter() - start)
        store.close()
    if not ok:
        raise AssertionError("an inclusion proof failed to verify")
    admissions = _admission_rate(2_000 if quick else 10_000)
    db_size = 20_000 if quick else 100_000
    db_appends, db_proofs = _database_rates(db_size)
    figures = {
        "database_appends": db_appends,
        "database_inclusion_proofs": db_proofs,
        "admissions": admissions,
        "durable_appends": appends,
        "inclusion_proofs": proofs_per_s,
        "inclusion_verifications": verifies,
        **refs,
    }
    sha = refs["sha256_256B"]
    print(
        f"ledger: {size:,}-entry durable file log, {ENTRY_BYTES} B entries"
        + (" (quick)" if quick else "")
    )
    print(
        f"  durable batched appends   {appends:>12,.0f} /s  (target 50,000; batches of {BATCH:,})"
    )
    print(f"  inclusion proofs          {proofs_per_s:>12,.0f} /s  (target 20,000)")
    print(f"  inclusion verifications   {verifies:>12,.0f} /s  (target 50,000)")
    print(f"  admitted signed entries   {admissions:>12,.0f} /s  (checks + Ed25519 verify)")
    print(
        f"  database store (SQLite)   {db_appends:>12,.0f} appends/s, {db_proofs:,.0f} "
        f"proofs/s  ({db_size:,} entries, one transaction per 5,000)"
    )
    print(
        f"  reference SHA-256 (256 B) {sha:>12,.0f} /s  (appends = 1/{sha / appends:.1f} of it; "
        f"a verification costs {sha / verifies:.1f} SHA-256)"
    )
    print(f"  reference Ed25519 sign    {refs['ed25519_sign']:>12,.0f} /s")
    print(
        f"  reference Ed25519 verify  {refs['ed25519_verify']:>12,.0f} /s  (caps admission of "
        "signed entries)"
    )
    return figures


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
