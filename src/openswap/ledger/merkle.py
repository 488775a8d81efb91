"""RFC 9162 Merkle tree hashing over bytes: tree heads, inclusion and consistency proofs.

Building reads complete-subtree hashes through `NodeReader` (one batched read per proof);
verifying (`verify_inclusion`, `verify_consistency`) is pure and needs only the proof.
A node is addressed by `(level, index)`: the complete subtree over leaves
`[index << level, (index + 1) << level)`; level 0 holds the leaf hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) of RFC 9162 section 2.1.1: the hash of the empty string."""

Coord = tuple[int, int]
"""`(level, index)` of a complete subtree: leaves `[index << level, (index + 1) << level)`."""

_sha256 = hashlib.sha256


class NodeReader(Protocol):
    """Reads hashes of complete subtrees that already exist (every level-0 leaf hash included)."""

    def read_nodes(self, coords: Sequence[Coord]) -> list[bytes]:
        """The hashes at `coords`, in the same order; raises `IndexError` for a missing node."""
        ...


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry): the hash of one log entry."""
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return _sha256(b"\x01" + left + right).digest()


def subtree_coords(start: int, end: int) -> list[Coord]:
    """The complete subtrees that tile leaves `[start, end)`, left to right, largest first.

    Precondition: `start` is a multiple of the largest power of two below `end - start` (true of
    every range the RFC 9162 recursion visits), so folding these from the right gives MTH.
    """
    coords: list[Coord] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        coords.append((level, start >> level))
        start += 1 << level
    return coords


def fold(hashes: Sequence[bytes]) -> bytes:
    """Fold complete-subtree hashes (left to right, largest first) into one MTH, from the right."""
    acc = hashes[-1]
    for i in range(len(hashes) - 2, -1, -1):
        acc = _sha256(b"\x01" + hashes[i] + acc).digest()
    return acc


def _read_ranges(reader: NodeReader, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """MTH of each leaf range, with all node hashes fetched in one batched read."""
    plans = [subtree_coords(a, b) for a, b in ranges]
    flat = [c for plan in plans for c in plan]
    hashes = reader.read_nodes(flat) if flat else []
    out: list[bytes] = []
    pos = 0
    for plan in plans:
        n = len(plan)
        out.append(hashes[pos] if n == 1 else fold(hashes[pos : pos + n]))
        pos += n
    return out


def build_root(reader: NodeReader, size: int) -> bytes:
    """MTH of the first `size` leaves (RFC 9162 section 2.1.1); `EMPTY_ROOT` for size 0."""
    if size < 0:
        raise ValueError(f"tree size must be >= 0, got {size}")
    if size == 0:
        return EMPTY_ROOT
    return _read_ranges(reader, [(0, size)])[0]


def _largest_power_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose MTHs form PROOF(old_size, D[new_size]) of RFC 9162 section 2.1.4.1."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"need 0 <= old size <= new size, got {old_size} and {new_size}")
    ranges: list[tuple[int, int]] = []
    if old_size in (0, new_size):
        return ranges
    start, end, m, complete = 0, new_size, old_size, True
    while m != end - start:
        mid = start + _largest_power_below(end - start)
        if m <= mid - start:
            ranges.append((mid, end))
            end = mid
        else:
            ranges.append((start, mid))
            m -= mid - start
            start = mid
            complete = False
    if not complete:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def build_inclusion_proof(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree of the first `size` leaves (0 <= index < size).

    PATH(index, D[size]) of RFC 9162 section 2.1.3.1, read off the peaks (the complete subtrees
    tiling `[0, size)`): siblings inside the peak holding the leaf, then the MTH of all peaks to
    its right (one hash), then the peaks to its left, nearest first.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    peaks = subtree_coords(0, size)
    at = 0
    while (peaks[at][1] + 1) << peaks[at][0] <= index:
        at += 1
    height = peaks[at][0]
    coords = [(level, (index >> level) ^ 1) for level in range(height)]
    right = peaks[at + 1 :]
    coords.extend(right)
    coords.extend(reversed(peaks[:at]))
    hashes = reader.read_nodes(coords)
    if len(right) <= 1:
        return hashes
    cut = height + len(right)
    return [*hashes[:height], fold(hashes[height:cut]), *hashes[cut:]]


def build_consistency_proof(reader: NodeReader, old_size: int, new_size: int) -> list[bytes]:
    """The consistency proof from tree size `old_size` to `new_size` (0 <= old <= new)."""
    return _read_ranges(reader, consistency_ranges(old_size, new_size))


def build_new_nodes(
    old_size: int, leaf_hashes: Sequence[bytes], reader: NodeReader
) -> list[list[bytes]]:
    """Every complete subtree that appending `leaf_hashes` to a tree of `old_size` leaves completes.

    Result `[L]` holds the new nodes of level L, from index `old_size >> L` upwards; `[0]` is
    `leaf_hashes` itself. At most one existing node per level is read (a left sibling).
    """
    levels: list[list[bytes]] = [list(leaf_hashes)]
    new_size = old_size + len(leaf_hashes)
    level = 0
    while True:
        lo, hi = old_size >> (level + 1), new_size >> (level + 1)
        if hi <= lo:
            break
        children = levels[level]
        if 2 * lo < old_size >> level:  # the left child exists already
            children = reader.read_nodes([(level, 2 * lo)]) + children
        parents = [
            _sha256(b"\x01" + children[j] + children[j + 1]).digest()
            for j in range(0, 2 * (hi - lo), 2)
        ]
        levels.append(parents)
        level += 1
    return levels


class _NoNodes:
    def read_nodes(self, coords: Sequence[Coord]) -> list[bytes]:
        raise IndexError(f"no stored nodes to read {list(coords)}")


def build_levels(leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """All complete-subtree hashes of a tree built from `leaf_hashes`, level by level."""
    return build_new_nodes(0, leaf_hashes, _NoNodes())


class LevelNodes:
    """A `NodeReader` over in-memory levels as `build_levels` returns them."""

    def __init__(self, levels: Sequence[Sequence[bytes]]) -> None:
        self.levels = levels

    def read_nodes(self, coords: Sequence[Coord]) -> list[bytes]:
        levels = self.levels
        return [levels[level][index] for level, index in coords]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True when `proof` shows the leaf hash `leaf` at `index` in the tree of `size` with `root`.

    RFC 9162 section 2.1.3.2; every malformed input (index out of range, wrong length or count of
    proof hashes) gives False rather than an exception.
    """
    if not 0 <= index < size or len(leaf) != HASH_SIZE:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0 or len(p) != HASH_SIZE:
            return False
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True when `proof` shows the tree (`new_size`, `new_root`) extends (`old_size`, `old_root`).

    RFC 9162 section 2.1.4.2, with the two trivial cases made explicit: equal sizes need an empty
    proof and equal roots; every tree extends the empty tree (whose root is `EMPTY_ROOT`).
    """
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root and (old_size > 0 or old_root == EMPTY_ROOT)
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof or any(len(c) != HASH_SIZE for c in proof):
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
