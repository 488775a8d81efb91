"""Auditing a stored log: re-verify every stored hash, match signed checkpoints, check consistency.

`audit_store` finds any stored byte that changed: a rewritten entry (its leaf hash no longer
matches), a changed node (its children no longer hash to it), or a consistent rewrite of entries
and hashes together (the root no longer matches a signed checkpoint). `check_checkpoint_consistency`
checks that a new checkpoint extends the last one seen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from openswap.ledger import merkle
from openswap.ledger.checkpoint import Checkpoint
from openswap.ledger.merkle import Coord
from openswap.ledger.store import LogStore

_sha256 = hashlib.sha256


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What an audit found. `first_rewritten_entry` is the lowest entry index known to be touched;
    when a consistent rewrite can only be bounded, `rewritten_range` says between which sizes."""

    size: int
    problems: tuple[str, ...]
    first_rewritten_entry: int | None = None
    rewritten_range: tuple[int, int] | None = None
    changed: tuple[Coord, ...] = ()
    """Every stored hash or entry whose own check failed unexplained by a failing child:
    `(0, i)` is entry i, `(level, i)` a node over entries `[i << level, (i + 1) << level)`."""

    @property
    def ok(self) -> bool:
        return not self.problems


def _bad_leaves(store: LogStore, size: int, batch: int) -> list[int]:
    """Entries whose stored leaf hash is not SHA-256(0x00 || entry)."""
    bad = []
    for start in range(0, size, batch):
        end = min(size, start + batch)
        entries = store.read_entries(start, end)
        stored = store.read_hashes(0, start, end)
        for offset, (e, h) in enumerate(zip(entries, stored, strict=True)):
            if _sha256(b"\x00" + e).digest() != h:
                bad.append(start + offset)
    return bad


def _bad_nodes(store: LogStore, size: int, batch: int) -> list[Coord]:
    """Stored interior nodes that are not the hash of their stored children."""
    bad: list[Coord] = []
    level = 1
    while size >> level:
        count = size >> level
        for start in range(0, count, batch):
            end = min(count, start + batch)
            children = store.read_hashes(level - 1, 2 * start, 2 * end)
            parents = store.read_hashes(level, start, end)
            for j, parent in enumerate(parents):
                if _sha256(b"\x01" + children[2 * j] + children[2 * j + 1]).digest() != parent:
                    bad.append((level, start + j))
        level += 1
    return bad


def _unexplained(failed: list[Coord]) -> list[Coord]:
    """The failures not explained by a failing child: where the changed bytes are."""
    failing = set(failed)
    return [
        (level, index)
        for level, index in failed
        if not (
            level > 0
            and ((level - 1, 2 * index) in failing or (level - 1, 2 * index + 1) in failing)
        )
    ]


def _describe(failed: list[Coord]) -> tuple[int | None, list[str]]:
    """The first entry touched and one line per failed check.

    A changed hash fails its own check and its parent's; the parent's failure is explained by
    the failing child, so only unexplained failures (the changed bytes) locate the rewrite.
    """
    failing = set(failed)
    first: int | None = None
    problems: list[str] = []
    for level, index in failed:
        span = (index << level, (index + 1) << level)
        explained = level > 0 and (
            (level - 1, 2 * index) in failing or (level - 1, 2 * index + 1) in failing
        )
        if not explained:
            first = span[0] if first is None else min(first, span[0])
        if len(problems) >= 20:
            continue
        if level == 0:
            problems.append(f"entry {index}: bytes do not match its stored leaf hash")
        elif explained:
            problems.append(f"node ({level}, {index}): fails because a child below it changed")
        else:
            problems.append(
                f"node ({level}, {index}) over entries [{span[0]}, {span[1]}) "
                "does not match its children: the stored node changed"
            )
    return first, problems


def audit_store(
    store: LogStore, checkpoints: Sequence[Checkpoint] = (), batch: int = 65_536
) -> AuditReport:
    """Re-verify the whole stored tree, and its root at the size of every verified checkpoint.

    `checkpoints` must already be signature-verified (`checkpoint.verify_checkpoint`). Cost: one
    SHA-256 per entry and per node, about two per entry.
    """
    size = store.size()
    failed = [(0, i) for i in _bad_leaves(store, size, batch)] + _bad_nodes(store, size, batch)
    first, problems = _describe(failed)
    rewritten_range: tuple[int, int] | None = None
    matched = 0
    for cp in sorted(checkpoints, key=lambda c: c.size):
        if cp.size > size:
            problems.append(f"checkpoint of size {cp.size} is beyond the stored {size} entries")
            continue
        if merkle.build_root(store, cp.size) != cp.root:
            problems.append(
                f"root at size {cp.size} differs from the signed checkpoint "
                f"(entries before {matched} match an earlier checkpoint)"
            )
            if rewritten_range is None:
                rewritten_range = (matched, cp.size)
        else:
            matched = cp.size
    if first is None and rewritten_range is not None:
        problems.append(
            f"consistent rewrite: stored hashes agree with the entries, so the first rewritten "
            f"entry lies in [{rewritten_range[0]}, {rewritten_range[1]})"
        )
    return AuditReport(size, tuple(problems), first, rewritten_range, tuple(_unexplained(failed)))


def check_checkpoint_consistency(
    seen: Checkpoint, current: Checkpoint, proof: Sequence[bytes]
) -> list[str]:
    """Reasons `current` does not extend `seen` (both verified checkpoints of one log)."""
    if seen.origin != current.origin:
        return [f"origins differ: {seen.origin!r} and {current.origin!r}"]
    if current.size < seen.size:
        return [f"log shrank from {seen.size} to {current.size} entries"]
    if not merkle.verify_consistency(seen.size, current.size, seen.root, current.root, proof):
        return [
            f"consistency proof from size {seen.size} to {current.size} does not verify: "
            "the log was rewritten or forked"
        ]
    return []
