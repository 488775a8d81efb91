"""Storage of a Merkle log behind a small protocol: entries, leaf hashes and complete-subtree nodes.

`LogStore` is what `MerkleLog` needs; a store only keeps bytes and never hashes. Two
implementations live here: `MemoryLogStore` for tests and `FileLogStore`, durable
(append-only files, fsync, then an atomic commit record per batch). The production store is the
service database, which implements the same five methods.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import sys
from collections.abc import Sequence
from itertools import accumulate
from pathlib import Path
from typing import Protocol

from openswap.ledger.merkle import HASH_SIZE, Coord


class LogStore(Protocol):
    """An append-only sequence of entries with the hashes of every complete subtree.

    Node `(level, index)` exists once `size() >= (index + 1) << level`; level 0 is the leaf
    hashes. Stores never compute hashes: the log hands them over on `append`.
    """

    def size(self) -> int:
        """Number of committed entries."""
        ...

    def append(
        self, start: int, entries: Sequence[bytes], nodes: Sequence[Sequence[bytes]]
    ) -> None:
        """Commit `entries` as indices `start..` atomically and durably, or nothing at all.

        `nodes[L]` holds the newly complete nodes of level L, from index `start >> L`, as
        `merkle.build_new_nodes` returns them (`nodes[0]` are the leaf hashes). Raises
        `ValueError` when `start != size()` (another writer got there first) or the shapes
        disagree; nothing is written then.
        """
        ...

    def read_entries(self, start: int, end: int) -> list[bytes]:
        """Entries `[start, end)`; raises `IndexError` past the committed size."""
        ...

    def read_hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Nodes `[start, end)` of one level (level 0: leaf hashes); `IndexError` if missing."""
        ...

    def read_nodes(self, coords: Sequence[Coord]) -> list[bytes]:
        """Nodes at `(level, index)` coordinates, in order: one round trip for a whole proof."""
        ...


def _check_append_shape(
    size: int, start: int, entries: Sequence[bytes], nodes: Sequence[Sequence[bytes]]
) -> None:
    """Raise ValueError unless `nodes` holds exactly the nodes that `entries` complete."""
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


def _check_range(start: int, end: int, limit: int, what: str) -> None:
    if not 0 <= start <= end <= limit:
        raise IndexError(f"{what} [{start}, {end}) is outside [0, {limit})")


class MemoryLogStore:
    """A `LogStore` in lists: fast, for tests and for rebuilding a tree during an audit."""

    def __init__(self) -> None:
        self._entries: list[bytes] = []
        self._levels: list[list[bytes]] = []

    def size(self) -> int:
        return len(self._entries)

    def append(
        self, start: int, entries: Sequence[bytes], nodes: Sequence[Sequence[bytes]]
    ) -> None:
        _check_append_shape(len(self._entries), start, entries, nodes)
        self._entries.extend(entries)
        for level, hashes in enumerate(nodes):
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].extend(hashes)

    def read_entries(self, start: int, end: int) -> list[bytes]:
        _check_range(start, end, len(self._entries), "entries")
        return self._entries[start:end]

    def read_hashes(self, level: int, start: int, end: int) -> list[bytes]:
        have = len(self._levels[level]) if 0 <= level < len(self._levels) else 0
        _check_range(start, end, have, f"level {level} nodes")
        return self._levels[level][start:end]

    def read_nodes(self, coords: Sequence[Coord]) -> list[bytes]:
        levels = self._levels
        try:
            return [levels[level][index] for level, index in coords]
        except IndexError:
            raise IndexError(f"a node of {list(coords)} does not exist") from None


_HEAD = "HEAD"
_HEAD_MAGIC = "openswap-ledger-store 1"
_DATA = "entries.dat"
_INDEX = "entries.idx"  # little-endian u64 end offset of each entry in entries.dat
_OFFSET = struct.Struct("<Q")


def _level_file(level: int) -> str:
    return f"level-{level:02d}.dat"


def _sync(fd: int) -> None:
    if sys.platform == "linux":
        os.fdatasync(fd)
    else:
        os.fsync(fd)


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


class FileLogStore:
    """A durable `LogStore` in a directory of append-only files.

    Layout: `entries.dat` (entries back to back), `entries.idx` (u64 end offsets),
    `level-LL.dat` (32-byte node hashes of level LL by index) and `HEAD` (the committed size).
    A batch is written past the committed end of every file, fsynced, and committed by
    atomically replacing `HEAD`; on open, anything past the committed size (a batch cut short
    by a crash) is truncated away. One writer per directory (an exclusive `flock`).
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock_fd)
            raise RuntimeError(f"{self.directory}: another process has this log open") from None
        self._fds: dict[str, int] = {}
        self._maps: dict[str, mmap.mmap] = {}
        self._level_maps: dict[int, mmap.mmap] = {}  # the same maps, by level, for read_nodes
        self._size = self._read_head()
        self._data_len = 0
        self._recover()

    # --- opening -------------------------------------------------------------------------

    def _read_head(self) -> int:
        path = self.directory / _HEAD
        if not path.exists():
            return 0
        lines = path.read_text("ascii").splitlines()
        if len(lines) != 2 or lines[0] != _HEAD_MAGIC or not lines[1].isdigit():
            raise ValueError(f"{path}: not an openswap ledger store HEAD")
        return int(lines[1])

    def _fd(self, name: str) -> int:
        fd = self._fds.get(name)
        if fd is None:
            fd = os.open(self.directory / name, os.O_RDWR | os.O_CREAT, 0o644)
            self._fds[name] = fd
        return fd

    def _recover(self) -> None:
        """Cut every file back to the committed size; refuse a store that lost committed bytes."""
        size = self._size
        want = {_INDEX: size * _OFFSET.size}
        for level in range(max(size.bit_length(), 1)):
            want[_level_file(level)] = (size >> level) * HASH_SIZE
        for name, length in want.items():
            self._fit(name, length)
        if size:
            (end,) = _OFFSET.unpack(os.pread(self._fd(_INDEX), _OFFSET.size, (size - 1) * 8))
            self._data_len = end
        self._fit(_DATA, self._data_len)
        for path in self.directory.glob("level-*.dat"):  # levels above the committed height
            if path.name not in want:
                self._fit(path.name, 0)

    def _fit(self, name: str, length: int) -> None:
        fd = self._fd(name)
        have = os.fstat(fd).st_size
        if have < length:
            raise ValueError(
                f"{self.directory / name}: {have} bytes, but the committed size needs {length}"
            )
        if have > length:
            os.ftruncate(fd, length)
            os.fsync(fd)

    def close(self) -> None:
        """Release files, maps and the writer lock."""
        self._drop_maps()
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> FileLogStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- LogStore --------------------------------------------------------------------------

    def size(self) -> int:
        return self._size

    def append(
        self, start: int, entries: Sequence[bytes], nodes: Sequence[Sequence[bytes]]
    ) -> None:
        _check_append_shape(self._size, start, entries, nodes)
        if not entries:
            return
        old = self._size
        new = old + len(entries)
        ends = list(accumulate((len(e) for e in entries), initial=self._data_len))
        touched = [self._fd(_DATA), self._fd(_INDEX)]
        _write_all(touched[0], b"".join(entries), self._data_len)
        _write_all(touched[1], struct.pack(f"<{len(entries)}Q", *ends[1:]), old * 8)
        for level, hashes in enumerate(nodes):
            if hashes:
                fd = self._fd(_level_file(level))
                _write_all(fd, b"".join(hashes), (old >> level) * HASH_SIZE)
                touched.append(fd)
        for fd in touched:
            _sync(fd)
        self._commit(new)
        self._size = new
        self._data_len = ends[-1]
        self._drop_maps()

    def _commit(self, size: int) -> None:
        tmp = self.directory / (_HEAD + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, f"{_HEAD_MAGIC}\n{size}\n".encode("ascii"), 0)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.directory / _HEAD)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _drop_maps(self) -> None:
        for m in self._maps.values():
            m.close()
        self._maps.clear()
        self._level_maps.clear()

    def _map(self, name: str) -> mmap.mmap:
        m = self._maps.get(name)
        if m is None:
            m = mmap.mmap(self._fd(name), 0, access=mmap.ACCESS_READ)
            self._maps[name] = m
        return m

    def read_entries(self, start: int, end: int) -> list[bytes]:
        _check_range(start, end, self._size, "entries")
        if start == end:
            return []
        index = self._map(_INDEX)
        ends = struct.unpack_from(f"<{end - start}Q", index, start * 8)
        first = _OFFSET.unpack_from(index, (start - 1) * 8)[0] if start else 0
        data = self._map(_DATA)
        out = []
        for stop in ends:
            out.append(data[first:stop])
            first = stop
        return out

    def read_hashes(self, level: int, start: int, end: int) -> list[bytes]:
        _check_range(start, end, self._size >> level if level >= 0 else 0, f"level {level} nodes")
        if start == end:
            return []
        m = self._map(_level_file(level))
        return [m[i : i + HASH_SIZE] for i in range(start * HASH_SIZE, end * HASH_SIZE, HASH_SIZE)]

    def read_nodes(self, coords: Sequence[Coord]) -> list[bytes]:
        size = self._size
        maps = self._level_maps
        out = []
        for level, index in coords:
            if not 0 <= index < size >> level:
                raise IndexError(f"node ({level}, {index}) does not exist in a log of {size}")
            m = maps.get(level)
            if m is None:
                m = maps[level] = self._map(_level_file(level))
            off = index * HASH_SIZE
            out.append(m[off : off + HASH_SIZE])
        return out
