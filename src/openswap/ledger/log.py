"""`MerkleLog`: an append-only RFC 9162 log over a `LogStore`, with tree heads and proofs.

The log hashes, the store keeps bytes. Appends are batched: one store commit per call, however
many entries. Proofs are built for any tree size up to the current one, so a client holding an
older checkpoint gets proofs against exactly that tree.
"""

from __future__ import annotations

from collections.abc import Sequence

from openswap.ledger import merkle
from openswap.ledger.store import LogStore


class MerkleLog:
    """An append-only log of byte entries; `store` is the single source of truth."""

    def __init__(self, store: LogStore) -> None:
        self.store = store

    @property
    def size(self) -> int:
        """Number of entries committed."""
        return self.store.size()

    def append(self, entries: Sequence[bytes]) -> int:
        """Commit `entries` in one durable batch; returns the index of the first of them."""
        start = self.store.size()
        if not entries:
            return start
        leaves = [merkle.leaf_hash(e) for e in entries]
        nodes = merkle.build_new_nodes(start, leaves, self.store)
        self.store.append(start, entries, nodes)
        return start

    def _tree_size(self, size: int | None) -> int:
        current = self.store.size()
        if size is None:
            return current
        if not 0 <= size <= current:
            raise ValueError(f"tree size {size} is outside [0, {current}]")
        return size

    def root(self, size: int | None = None) -> bytes:
        """The tree head (MTH) at `size` entries, by default the current size."""
        return merkle.build_root(self.store, self._tree_size(size))

    def entry(self, index: int) -> bytes:
        """The entry at `index`."""
        return self.store.read_entries(index, index + 1)[0]

    def leaf_hash(self, index: int) -> bytes:
        """The stored leaf hash of entry `index`."""
        return self.store.read_nodes([(0, index)])[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Audit path of entry `index` in the tree of `size` entries (default: current)."""
        return merkle.build_inclusion_proof(self.store, index, self._tree_size(size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Proof that the tree of `new_size` entries (default: current) extends `old_size`."""
        new = self._tree_size(new_size)
        if not 0 <= old_size <= new:
            raise ValueError(f"old size {old_size} is outside [0, {new}]")
        return merkle.build_consistency_proof(self.store, old_size, new)
