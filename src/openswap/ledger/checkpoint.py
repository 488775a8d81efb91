"""Signed checkpoints: C2SP signed notes (Ed25519) whose text is a C2SP tlog-checkpoint.

A note is text ending in a newline, a blank line, then lines `— <key name> <base64(key ID ||
signature)>`; the key ID is SHA-256(name || 0x0A || 0x01 || public key)[:4]. A checkpoint's
text is the origin, the tree size in decimal and the base64 root hash, one per line. Keys travel
as verifier keys `<name>+<hex key ID>+<base64(0x01 || public key)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from openswap.ledger.merkle import HASH_SIZE

ED25519 = 0x01
"""The signed-note signature type byte of Ed25519."""
SIG_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100
_SIZE_RE = re.compile(r"0|[1-9][0-9]*")


def _b64decode(text: str) -> bytes:
    """Strict standard base64: padding required, no stray characters, canonical encoding."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError(f"not standard base64: {text!r}") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError(f"not canonical base64: {text!r}")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def check_key_name(name: str) -> list[str]:
    """Reasons `name` is not a signed-note key name (non-empty, no Unicode spaces, no '+')."""
    reasons = []
    if not name:
        reasons.append("key name is empty")
    if any(c.isspace() for c in name):
        reasons.append(f"key name {name!r} contains a space")
    if "+" in name:
        reasons.append(f"key name {name!r} contains '+'")
    if any(ord(c) < 0x20 for c in name):
        reasons.append(f"key name {name!r} contains a control character")
    return reasons


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte signed-note key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A trusted Ed25519 key of a signed note: name, key ID and the 32-byte public key."""

    name: str
    key_id: bytes
    public_key: bytes

    def to_vkey(self) -> str:
        """`<name>+<hex key ID>+<base64(0x01 || public key)>`."""
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([ED25519]) + self.public_key)}"


def from_vkey(vkey: str) -> NoteVerifier:
    """Parse a verifier key string; raises ValueError naming what is wrong with it."""
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise ValueError(f"verifier key {vkey!r}: expected name+keyid+key")
    name, hex_id, encoded = parts
    if reasons := check_key_name(name):
        raise ValueError(f"verifier key {vkey!r}: {'; '.join(reasons)}")
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise ValueError(f"verifier key {vkey!r}: key ID must be 8 lower-case hex digits")
    raw = _b64decode(encoded)
    if len(raw) != 33 or raw[0] != ED25519:
        raise ValueError(f"verifier key {vkey!r}: not an Ed25519 (type 0x01) 32-byte public key")
    public_key = raw[1:]
    if key_id(name, public_key) != bytes.fromhex(hex_id):
        raise ValueError(f"verifier key {vkey!r}: key ID does not match name and key")
    return NoteVerifier(name, bytes.fromhex(hex_id), public_key)


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """An Ed25519 signing key with its signed-note name (for the log operator's checkpoints)."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes_raw()

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, key_id(self.name, self.public_key), self.public_key)

    def to_skey(self) -> str:
        """`PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>`: keep it secret."""
        encoded = _b64(bytes([ED25519]) + self.private_key.private_bytes_raw())
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{encoded}"


def build_signer(name: str, seed: bytes | None = None) -> NoteSigner:
    """A signer named `name`: from a 32-byte Ed25519 seed, or a fresh random key if None."""
    if reasons := check_key_name(name):
        raise ValueError("; ".join(reasons))
    key = (
        Ed25519PrivateKey.generate() if seed is None else Ed25519PrivateKey.from_private_bytes(seed)
    )
    return NoteSigner(name, key)


def from_skey(skey: str) -> NoteSigner:
    """Parse `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>`."""
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise ValueError("signer key: expected PRIVATE+KEY+name+keyid+key")
    raw = _b64decode(parts[4])
    if len(raw) != 33 or raw[0] != ED25519:
        raise ValueError("signer key: not an Ed25519 (type 0x01) 32-byte seed")
    signer = build_signer(parts[2], raw[1:])
    if signer.verifier.key_id.hex() != parts[3]:
        raise ValueError("signer key: key ID does not match name and key")
    return signer


def _check_note_chars(text: str) -> None:
    bad = next((c for c in text if ord(c) < 0x20 and c != "\n"), None)
    if bad is not None:
        raise ValueError(f"note contains control character {ord(bad):#04x}")


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """The signed note of `text` (non-empty, ending in a newline) with one line per signer."""
    if not text.endswith("\n"):
        raise ValueError("note text must end in a newline")
    _check_note_chars(text)
    if not signers:
        raise ValueError("a signed note needs at least one signer")
    message = text.encode()
    lines = []
    for s in signers:
        sig = s.verifier.key_id + s.private_key.sign(message)
        lines.append(f"{SIG_PREFIX}{s.name} {_b64(sig)}\n")
    return text + "\n" + "".join(lines)


def verify_note(note: str | bytes, verifiers: str | Sequence[str | NoteVerifier]) -> str:
    """The text of `note` once a signature by one of `verifiers` verifies, else ValueError.

    C2SP signed-note rules: signatures from unknown keys are ignored; a signature from a known
    key (name and key ID match) that fails to verify rejects the whole note; at least one known
    key must have signed. Malformed notes (bad UTF-8, control characters, bad signature lines,
    more than `MAX_SIGNATURES`) are rejected.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("note is not valid UTF-8") from None
    _check_note_chars(note)
    listed = [verifiers] if isinstance(verifiers, str) else verifiers
    keys = [from_vkey(v) if isinstance(v, str) else v for v in listed]
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise ValueError("malformed note: no blank line before the signatures")
    text, block = note[: cut + 1], note[cut + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise ValueError("malformed note: no signature lines")
    if len(lines) > MAX_SIGNATURES:
        raise ValueError(f"note has {len(lines)} signatures, more than {MAX_SIGNATURES}")
    known = {(k.name, k.key_id): k for k in keys}
    message = text.encode()
    verified = 0
    for line in lines:
        if not line.startswith(SIG_PREFIX):
            raise ValueError(f"malformed signature line {line!r}")
        name, sep, encoded = line[len(SIG_PREFIX) :].rpartition(" ")
        if not sep or check_key_name(name):
            raise ValueError(f"malformed signature line {line!r}")
        raw = _b64decode(encoded)
        if len(raw) < 5:
            raise ValueError(f"signature line {line!r} is too short")
        key = known.get((name, raw[:4]))
        if key is None:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(key.public_key).verify(raw[4:], message)
        except InvalidSignature:
            raise ValueError(f"signature by {name} (key {raw[:4].hex()}) does not verify") from None
        verified += 1
    if not verified:
        raise ValueError("no signature from a trusted key")
    return text


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: the log's origin, its size (entries) and its RFC 9162 root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def to_text(self) -> str:
        """The C2SP tlog-checkpoint note text (ends in a newline)."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


def build_checkpoint(
    origin: str, size: int, root: bytes, extensions: Sequence[str] = ()
) -> Checkpoint:
    """A checkpoint, with every field checked against the tlog-checkpoint rules."""
    if not origin or "\n" in origin:
        raise ValueError("checkpoint origin must be one non-empty line")
    if size < 0:
        raise ValueError(f"tree size must be >= 0, got {size}")
    if len(root) != HASH_SIZE:
        raise ValueError(f"root hash must be {HASH_SIZE} bytes, got {len(root)}")
    if any(not e or "\n" in e for e in extensions):
        raise ValueError("checkpoint extension lines must be non-empty single lines")
    cp = Checkpoint(origin, size, root, tuple(extensions))
    _check_note_chars(cp.to_text())
    return cp


def from_checkpoint_text(text: str) -> Checkpoint:
    """Parse checkpoint note text (unverified: use `verify_checkpoint` on a signed note)."""
    if not text.endswith("\n"):
        raise ValueError("checkpoint text must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise ValueError("checkpoint needs origin, tree size and root hash lines")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise ValueError("checkpoint origin is empty")
    if not _SIZE_RE.fullmatch(size_text):
        raise ValueError(f"checkpoint tree size {size_text!r} is not a decimal without leading 0")
    root = _b64decode(root_text)
    if len(root) != HASH_SIZE:
        raise ValueError(f"checkpoint root hash is {len(root)} bytes, not {HASH_SIZE}")
    if any(not e for e in extensions):
        raise ValueError("checkpoint extension lines must be non-empty")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The signed note of `checkpoint` (the operator signs; its key name should be the origin)."""
    return sign_note(checkpoint.to_text(), [signer])


def verify_checkpoint(
    note: str | bytes, verifiers: str | Sequence[str | NoteVerifier], origin: str | None = None
) -> Checkpoint:
    """The checkpoint in `note` once its signature verifies (and its origin is `origin`)."""
    cp = from_checkpoint_text(verify_note(note, verifiers))
    if origin is not None and cp.origin != origin:
        raise ValueError(f"checkpoint origin {cp.origin!r} is not the expected {origin!r}")
    return cp
