"""Passports and their offline verification (in memory, no database), the quarantine reason
codes, and the `openswap ledger` commands end to end on a SQLite file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from openswap.ledger.admission import KeyRegistry, Ledger, MemoryChainHeads
from openswap.ledger.checkpoint import build_checkpoint, build_signer, sign_checkpoint
from openswap.ledger.entries import (
    PackCommissioned,
    PackInspected,
    PackQuarantined,
    PackSwapped,
    QuarantineReason,
    Role,
    SwapDirection,
    build_entry,
    entry_leaf_hash,
)
from openswap.ledger.log import MerkleLog
from openswap.ledger.passport import (
    PassportEntry,
    TrustedKeys,
    build_passport_document,
    from_trusted_keys_json,
    verify_passport,
)
from openswap.ledger.store import MemoryLogStore
from openswap.services.ledger import quarantine_reason

ORIGIN = "ledger.test/passport"
T = datetime(2026, 3, 1, 8, tzinfo=UTC)


def _passport() -> tuple[dict[str, object], TrustedKeys]:
    op = Ed25519PrivateKey.from_private_bytes(bytes(32))
    st = Ed25519PrivateKey.from_private_bytes(bytes([1] * 32))
    registry = KeyRegistry()
    registry.register(op.public_key().public_bytes_raw(), "op", [Role.OPERATOR], 0)
    registry.register(st.public_key().public_bytes_raw(), "op", [Role.STATION], 0)
    ledger = Ledger(MerkleLog(MemoryLogStore()), ORIGIN, registry, MemoryChainHeads())
    events = [
        (PackCommissioned(owner="bank"), op),
        (PackInspected(0.93, 2e6, 2.5, 800), op),
        (PackSwapped("s1", "sw-1", "veh-1", SwapDirection.INSTALLED, 0.97), st),
        (PackQuarantined(QuarantineReason.OVER_TEMPERATURE, "s1"), st),
    ]
    prev = None
    mine = []
    for n, (event, key) in enumerate(events):
        other = build_entry(
            PackCommissioned(owner="bank"),
            log=ORIGIN,
            pack=f"X-{n}",
            org="op",
            time=T,
            prev=None,
            private_key=op,
        )
        data = build_entry(
            event, log=ORIGIN, pack="P-1", org="op", time=T, prev=prev, private_key=key
        )
        outcomes = ledger.submit([other, data])
        mine.append(outcomes[1].index)  # type: ignore[union-attr]
        prev = entry_leaf_hash(data)
    signer = build_signer(ORIGIN)
    log = ledger.log
    note = sign_checkpoint(build_checkpoint(ORIGIN, log.size, log.root()), signer)
    entries = [PassportEntry(i, log.entry(i), tuple(log.inclusion_proof(i))) for i in mine]
    doc = build_passport_document(
        "P-1", entries, note, registry.records(), generated_at="2026-03-02T00:00:00Z"
    )
    trusted = TrustedKeys(ORIGIN, (signer.verifier.to_vkey(),), registry)
    return json.loads(json.dumps(doc)), from_trusted_keys_json(trusted.to_json())


def test_a_passport_verifies_offline_and_says_what_its_entries_say() -> None:
    doc, trusted = _passport()
    verdict = verify_passport(doc, trusted)
    assert verdict.ok, verdict.problems
    assert verdict.entries == 4
    assert verdict.tree_size == 8
    perf = doc["attributes"]["performance_and_durability"]  # type: ignore[index]
    assert perf["state_of_health"]["value"] == 0.93
    assert perf["capacity_fade"] == pytest.approx(0.07)
    assert perf["negative_events"]["over_temperature"][0]["source"] == "quarantine"


def test_every_flipped_byte_of_an_entry_proof_or_checkpoint_is_detected() -> None:
    doc, trusted = _passport()
    evidence = doc["evidence"]
    for k in range(4):
        entry = evidence["entries"][k]["entry"]  # type: ignore[index]
        for at in range(0, len(entry), 7):
            bad = json.loads(json.dumps(doc))
            flipped = chr(ord(entry[at]) ^ 1)
            bad["evidence"]["entries"][k]["entry"] = entry[:at] + flipped + entry[at + 1 :]
            assert not verify_passport(bad, trusted).ok, (k, at)
    note = evidence["checkpoint"]  # type: ignore[index]
    for at in range(len(note)):
        bad = json.loads(json.dumps(doc))
        bad["evidence"]["checkpoint"] = note[:at] + chr(ord(note[at]) ^ 1) + note[at + 1 :]
        assert not verify_passport(bad, trusted).ok, at
    proof = evidence["entries"][2]["inclusion_proof"]  # type: ignore[index]
    for j, h in enumerate(proof):
        bad = json.loads(json.dumps(doc))
        bad["evidence"]["entries"][2]["inclusion_proof"][j] = ("A" if h[0] != "A" else "B") + h[1:]
        assert not verify_passport(bad, trusted).ok, j


def test_a_passport_missing_an_entry_or_trusting_other_keys_fails() -> None:
    doc, trusted = _passport()
    gap = json.loads(json.dumps(doc))
    del gap["evidence"]["entries"][1]
    assert any("chain" in p for p in verify_passport(gap, trusted).problems)
    stranger = TrustedKeys(ORIGIN, (build_signer(ORIGIN).verifier.to_vkey(),), trusted.registry)
    assert not verify_passport(doc, stranger).ok
    no_station = TrustedKeys(
        ORIGIN,
        trusted.checkpoint_verifiers,
        KeyRegistry(r for r in trusted.registry.records() if Role.STATION not in r.roles),
    )
    assert any("unknown key" in p for p in verify_passport(doc, no_station).problems)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("over_temperature", "over_temperature"),
        ("Thermal runaway warning", "over_temperature"),
        ("deep discharge below 2 V/cell", "deep_discharge"),
        ("insulation fault at terminal", "insulation_fault"),
        ("driver reported a smell", "other"),
    ],
)
def test_free_text_quarantine_reasons_become_codes(text: str, code: str) -> None:
    assert quarantine_reason(text).value == code


def test_the_ledger_commands_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openswap.catalog import builtin_catalog
    from openswap.cli.ledger import app
    from openswap.services.seeding import seed_database
    from openswap.storage import Base, build_engine, build_uow_factory

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = build_engine(url)
    Base.metadata.create_all(engine)
    seed_database(build_uow_factory(engine)(), builtin_catalog(), demo=True)
    engine.dispose()
    monkeypatch.setenv("OPENSWAP_DATABASE_URL", url)
    monkeypatch.setenv("OPENSWAP_LEDGER_KEK_FILE", str(tmp_path / "kek"))
    monkeypatch.chdir(tmp_path)
    run = CliRunner()

    def ok(*args: str) -> str:
        result = run.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    assert "created" in ok("keys", "init")
    assert oct((tmp_path / "kek").stat().st_mode & 0o777) == "0o600"
    assert "appended" in ok("relay")
    assert ok("checkpoint").startswith("ledger.openswap.example/demo\n")
    ok("passport", "Q75-100001", "--out", "p.json")
    ok("keys", "export", "--out", "keys.json")
    assert "ok" in ok("verify-passport", "p.json", "--keys", "keys.json")
    assert "ok" in ok("audit")
    assert (tmp_path / ".openswap-audit-checkpoint").exists()
    assert "signer" in ok("keys", "list")
    assert "revoked from" in ok("keys", "rotate", "station:changle-s")
    doc = json.loads((tmp_path / "p.json").read_text())
    doc["attributes"]["general_information"]["owner"] = "someone-else"
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    bad = run.invoke(app, ["verify-passport", "bad.json", "--keys", "keys.json"])
    assert bad.exit_code == 1
    assert "attributes differ" in bad.output
