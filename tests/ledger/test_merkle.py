"""Merkle hashing and proofs: RFC 6962/9162 known answers, the recursive reference, bit flips."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openswap.ledger import merkle
from openswap.ledger.merkle import (
    EMPTY_ROOT,
    LevelNodes,
    build_consistency_proof,
    build_inclusion_proof,
    build_levels,
    build_root,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.ledger import reference

# The eight leaves of the Certificate Transparency reference tests (RFC 6962 test data).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [  # (index, size, path)
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def tree(entries: list[bytes]) -> LevelNodes:
    return LevelNodes(build_levels([leaf_hash(e) for e in entries]))


def entries_of(n: int) -> list[bytes]:
    return [i.to_bytes(4, "big") * (i % 3 + 1) for i in range(n)]


def flip(data: bytes, bit: int) -> bytes:
    """`data` with one bit inverted (bit counted over the whole byte string)."""
    out = bytearray(data)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert build_root(tree([]), 0) == EMPTY_ROOT == reference.mth([])
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT


def test_ct_reference_roots() -> None:
    nodes = tree(CT_LEAVES)
    for n, want in enumerate(CT_ROOTS, start=1):
        assert build_root(nodes, n).hex() == want
        assert reference.mth(CT_LEAVES[:n]).hex() == want


@pytest.mark.parametrize(("index", "size", "want"), CT_INCLUSION)
def test_ct_reference_inclusion_proofs(index: int, size: int, want: list[str]) -> None:
    nodes = tree(CT_LEAVES)
    got = build_inclusion_proof(nodes, index, size)
    assert [h.hex() for h in got] == want
    root = bytes.fromhex(CT_ROOTS[size - 1])
    assert verify_inclusion(leaf_hash(CT_LEAVES[index]), index, size, got, root)


@pytest.mark.parametrize(("old", "new", "want"), CT_CONSISTENCY)
def test_ct_reference_consistency_proofs(old: int, new: int, want: list[str]) -> None:
    got = build_consistency_proof(tree(CT_LEAVES), old, new)
    assert [h.hex() for h in got] == want
    r1, r2 = bytes.fromhex(CT_ROOTS[old - 1]), bytes.fromhex(CT_ROOTS[new - 1])
    assert verify_consistency(old, new, r1, r2, got)


def test_every_proof_matches_the_reference_up_to_33_leaves() -> None:
    entries = entries_of(33)
    nodes = tree(entries)
    for n in range(1, 34):
        d = entries[:n]
        root = build_root(nodes, n)
        assert root == reference.mth(d)
        for m in range(n):
            p = build_inclusion_proof(nodes, m, n)
            assert p == reference.path(m, d)
            assert verify_inclusion(leaf_hash(d[m]), m, n, p, root)
        for m in range(1, n + 1):
            c = build_consistency_proof(nodes, m, n)
            assert c == reference.proof(m, d)
            assert verify_consistency(m, n, build_root(nodes, m), root, c)


def test_incremental_nodes_equal_a_tree_built_at_once() -> None:
    entries = entries_of(300)
    whole = build_levels([leaf_hash(e) for e in entries])
    levels: list[list[bytes]] = []
    size = 0
    for batch in (1, 2, 5, 64, 3, 100, 125):
        new = merkle.build_new_nodes(
            size, [leaf_hash(e) for e in entries[size : size + batch]], LevelNodes(levels)
        )
        for level, hashes in enumerate(new):
            if level == len(levels):
                levels.append([])
            levels[level].extend(hashes)
        size += batch
    assert size == 300
    assert levels == whole


sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=sizes)
def test_inclusion_verifies_and_any_flipped_bit_fails(data: st.DataObject, n: int) -> None:
    entries = entries_of(n)
    nodes = tree(entries)
    root = build_root(nodes, n)
    m = data.draw(st.integers(0, n - 1), label="index")
    p = build_inclusion_proof(nodes, m, n)
    leaf = leaf_hash(entries[m])
    assert p == reference.path(m, entries)
    assert verify_inclusion(leaf, m, n, p, root)
    bit = data.draw(st.integers(0, 255), label="bit")
    assert not verify_inclusion(leaf_hash(flip(entries[m], bit)), m, n, p, root)
    assert not verify_inclusion(flip(leaf, bit), m, n, p, root)
    assert not verify_inclusion(leaf, m, n, p, flip(root, bit))
    if p:
        k = data.draw(st.integers(0, len(p) - 1), label="proof node")
        bad = [*p[:k], flip(p[k], bit), *p[k + 1 :]]
        assert not verify_inclusion(leaf, m, n, bad, root)
        assert not verify_inclusion(leaf, m, n, p[:-1], root)
    assert not verify_inclusion(leaf, m, n, [*p, root], root)
    other = data.draw(st.integers(0, n), label="other index")
    if other != m:
        assert not verify_inclusion(leaf, other, n, p, root)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=sizes)
def test_consistency_verifies_and_any_flipped_bit_fails(data: st.DataObject, n: int) -> None:
    entries = entries_of(n)
    nodes = tree(entries)
    m = data.draw(st.integers(1, n), label="old size")
    r1, r2 = build_root(nodes, m), build_root(nodes, n)
    c = build_consistency_proof(nodes, m, n)
    assert c == reference.proof(m, entries)
    assert verify_consistency(m, n, r1, r2, c)
    bit = data.draw(st.integers(0, 255), label="bit")
    assert not verify_consistency(m, n, flip(r1, bit), r2, c)
    assert not verify_consistency(m, n, r1, flip(r2, bit), c)
    if c:
        k = data.draw(st.integers(0, len(c) - 1), label="proof node")
        assert not verify_consistency(m, n, r1, r2, [*c[:k], flip(c[k], bit), *c[k + 1 :]])
        assert not verify_consistency(m, n, r1, r2, c[:-1])
    assert not verify_consistency(m, n, r1, r2, [*c, r1])


def test_exhaustive_consistency_between_every_pair_up_to_64() -> None:
    nodes = tree(entries_of(64))
    roots = [build_root(nodes, n) for n in range(65)]
    for n in range(65):
        for m in range(n + 1):
            c = build_consistency_proof(nodes, m, n)
            assert verify_consistency(m, n, roots[m], roots[n], c)
            if 0 < m < n:
                assert not verify_consistency(m, n, roots[m], roots[n - 1], c)


def test_malformed_arguments_are_rejected_not_raised() -> None:
    nodes = tree(entries_of(5))
    root = build_root(nodes, 5)
    leaf = leaf_hash(entries_of(5)[0])
    p = build_inclusion_proof(nodes, 0, 5)
    assert not verify_inclusion(leaf, 5, 5, p, root)
    assert not verify_inclusion(leaf, -1, 5, p, root)
    assert not verify_inclusion(leaf[:31], 0, 5, p, root)
    assert not verify_inclusion(leaf, 0, 5, [h + b"\x00" for h in p], root)
    assert not verify_consistency(5, 3, root, root, [])
    assert not verify_consistency(0, 5, root, root, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, root, [])
    assert not verify_consistency(3, 5, build_root(nodes, 3), root, [])
    with pytest.raises(ValueError, match="outside"):
        build_inclusion_proof(nodes, 5, 5)
    with pytest.raises(ValueError, match="old size"):
        build_consistency_proof(nodes, 6, 5)
