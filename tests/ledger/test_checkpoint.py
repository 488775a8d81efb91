"""Signed notes and checkpoints: the C2SP known answer, round trips, any flipped byte fails."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openswap.ledger.checkpoint import (
    build_checkpoint,
    build_signer,
    from_checkpoint_text,
    from_skey,
    from_vkey,
    key_id,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
    verify_note,
)

# The example key and note of the Go signed-note package (golang.org/x/mod/sumdb/note).
NEUMANN_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
NEUMANN_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
NEUMANN_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
NEUMANN_SIG = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)

ORIGIN = "ledger.openswap.example/test"
SIGNER = build_signer(ORIGIN, hashlib.sha256(b"test log key").digest())
VKEY = SIGNER.verifier.to_vkey()
ROOT = hashlib.sha256(b"some root").digest()


def test_signed_note_known_answer() -> None:
    signer = from_skey(NEUMANN_SKEY)
    assert signer.verifier.to_vkey() == NEUMANN_VKEY
    assert signer.to_skey() == NEUMANN_SKEY
    note = sign_note(NEUMANN_TEXT, [signer])
    assert note == f"{NEUMANN_TEXT}\n\u2014 PeterNeumann {NEUMANN_SIG}\n"
    assert verify_note(note, NEUMANN_VKEY) == NEUMANN_TEXT


def test_key_id_is_the_spec_definition() -> None:
    v = from_vkey(NEUMANN_VKEY)
    digest = hashlib.sha256(b"PeterNeumann\n\x01" + v.public_key).digest()
    assert key_id("PeterNeumann", v.public_key) == digest[:4] == bytes.fromhex("c74f20a3")


def test_checkpoint_round_trip_and_format() -> None:
    cp = build_checkpoint(ORIGIN, 20852163, ROOT)
    note = sign_checkpoint(cp, SIGNER)
    body, sigs = note.split("\n\n")
    assert body.split("\n") == [ORIGIN, "20852163", base64.b64encode(ROOT).decode()]
    assert sigs.startswith(f"\u2014 {ORIGIN} ")
    raw = base64.b64decode(sigs.split(" ")[2])
    assert raw[:4] == SIGNER.verifier.key_id
    assert len(raw) == 68
    assert verify_checkpoint(note, VKEY, origin=ORIGIN) == cp
    assert verify_checkpoint(note.encode(), [VKEY]) == cp
    assert from_checkpoint_text(cp.to_text()) == cp
    empty = build_checkpoint(ORIGIN, 0, hashlib.sha256(b"").digest())
    assert empty.to_text().split("\n")[1] == "0"


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(0, 7))
def test_any_flipped_bit_of_a_signed_checkpoint_fails(position: int, bit: int) -> None:
    note = sign_checkpoint(build_checkpoint(ORIGIN, 12345, ROOT), SIGNER).encode()
    tampered = bytearray(note)
    tampered[position % len(note)] ^= 1 << bit
    with pytest.raises(ValueError):  # noqa: PT011 (the reason varies with the byte hit)
        verify_checkpoint(bytes(tampered), VKEY, origin=ORIGIN)


def test_unknown_keys_are_ignored_but_a_known_bad_signature_rejects() -> None:
    other = build_signer("witness.example", hashlib.sha256(b"witness").digest())
    text = build_checkpoint(ORIGIN, 7, ROOT).to_text()
    note = sign_note(text, [other, SIGNER])
    assert verify_note(note, VKEY) == text
    with pytest.raises(ValueError, match="no signature from a trusted key"):
        verify_note(note, NEUMANN_VKEY)
    # A key with the right name and ID but a different public key is a different key: ignored.
    impostor = build_signer(ORIGIN, hashlib.sha256(b"impostor").digest())
    with pytest.raises(ValueError, match="no signature from a trusted key"):
        verify_note(sign_note(text, [impostor]), VKEY)
    # A signature line that claims the trusted key but does not verify rejects the note.
    forged_sig = base64.b64encode(SIGNER.verifier.key_id + bytes(64)).decode()
    forged = f"{text}\n\u2014 {ORIGIN} {forged_sig}\n"
    with pytest.raises(ValueError, match="does not verify"):
        verify_note(forged, VKEY)


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        ("no blank line\n\u2014 x AAAA\n", "no blank line"),
        ("text\n\n", "no signature lines"),
        ("text\n\n- x AAAAAAA=\n", "malformed signature line"),
        ("te\x07xt\n\n\u2014 x AAAAAAA=\n", "control character"),
        ("text\n\n\u2014 x AAAAAAA\n", "base64"),
        ("text\n\n\u2014 x AAAA\n", "too short"),
    ],
)
def test_malformed_notes_are_rejected(note: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        verify_note(note, VKEY)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"{ORIGIN}\n012\nAAAA\n", "leading 0"),
        (f"{ORIGIN}\n-1\nAAAA\n", "leading 0"),
        (f"{ORIGIN}\n12\nAAAA\n", "32"),
        (f"\n12\n{base64.b64encode(ROOT).decode()}\n", "origin is empty"),
        (f"{ORIGIN}\n12\n", "needs origin"),
        (f"{ORIGIN}\n12\n{base64.b64encode(ROOT).decode()}\n\n", "extension"),
    ],
)
def test_malformed_checkpoints_are_rejected(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        from_checkpoint_text(text)


def test_wrong_origin_and_bad_keys_are_rejected() -> None:
    note = sign_checkpoint(build_checkpoint(ORIGIN, 1, ROOT), SIGNER)
    with pytest.raises(ValueError, match="not the expected"):
        verify_checkpoint(note, VKEY, origin="other.example/log")
    with pytest.raises(ValueError, match="key ID does not match"):
        from_vkey(NEUMANN_VKEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(ValueError, match="contains"):
        build_signer("has space")
    with pytest.raises(ValueError, match="newline"):
        sign_note("no newline", [SIGNER])
