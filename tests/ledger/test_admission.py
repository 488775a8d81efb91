"""Entries and admission: canonical signed entries, roles, keys, chains; attacks append nothing."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openswap.domain.errors import InputError
from openswap.domain.specs import Chemistry
from openswap.ledger.admission import (
    Admitted,
    KeyRegistry,
    Ledger,
    MemoryChainHeads,
    Rejected,
    build_chain_heads,
    check_entry,
    check_pack_history,
    from_registry_json,
)
from openswap.ledger.entries import (
    LifecycleEvent,
    PackCharged,
    PackInspected,
    PackManufactured,
    PackQuarantined,
    PackRecycled,
    PackSwapped,
    QuarantineReason,
    Role,
    SwapDirection,
    build_entry,
    check_entry_format,
    decode_entry,
    entry_leaf_hash,
)
from openswap.ledger.log import MerkleLog
from openswap.ledger.store import MemoryLogStore

LOG = "ledger.openswap.example/test"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def key(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(name.encode()).digest())


def pub(k: Ed25519PrivateKey) -> bytes:
    return k.public_key().public_bytes_raw()


MAKER, STATION, RECYCLER = key("catl"), key("station-ningde-1"), key("brunp")
MADE = PackManufactured(
    model="catl-282kwh-lfp",
    chemistry=Chemistry.LFP,
    rated_energy_kwh=282.0,
    nominal_voltage_v=614.4,
    plant="catl-ningde-3",
    manufactured_on="2026-01-15",
)
SWAP = PackSwapped(
    station="st-ningde-1",
    swap="sw-1",
    vehicle="veh-17",
    direction=SwapDirection.INSTALLED,
    soc=0.97,
)


def fresh() -> tuple[Ledger, KeyRegistry]:
    registry = KeyRegistry()
    registry.register(pub(MAKER), "org-catl", [Role.MAKER], valid_from=0)
    registry.register(pub(STATION), "org-swapco", [Role.STATION], valid_from=0)
    registry.register(pub(RECYCLER), "org-brunp", [Role.RECYCLER], valid_from=0)
    return Ledger(MerkleLog(MemoryLogStore()), LOG, registry, MemoryChainHeads()), registry


def entry(
    event: LifecycleEvent,
    signer: Ed25519PrivateKey,
    org: str,
    prev: bytes | None,
    pack: str = "P-0001",
    log: str = LOG,
) -> bytes:
    return build_entry(event, log=log, pack=pack, org=org, time=T0, prev=prev, private_key=signer)


def admit(ledger: Ledger, data: bytes) -> Admitted:
    [outcome] = ledger.submit([data])
    assert isinstance(outcome, Admitted), outcome
    return outcome


def reject(ledger: Ledger, data: bytes, reason: str) -> None:
    size, root = ledger.log.size, ledger.log.root()
    [outcome] = ledger.submit([data])
    assert isinstance(outcome, Rejected)
    assert any(reason in r for r in outcome.reasons), outcome.reasons
    assert ledger.log.size == size
    assert ledger.log.root() == root


def test_entry_is_canonical_signed_json_with_ids_only() -> None:
    data = entry(MADE, MAKER, "org-catl", None)
    obj = json.loads(data)
    assert rfc8785.dumps(obj) == data
    assert list(obj) == sorted(obj)
    assert set(obj) == {"v", "log", "type", "pack", "time", "org", "key", "event", "sig"}
    assert obj["time"] == "2026-03-01T08:00:00Z"
    assert obj["key"] == hashlib.sha256(pub(MAKER)).hexdigest()
    assert obj["event"]["chemistry"] == "LFP"
    e = decode_entry(data)
    assert e.event == MADE
    assert e.prev is None
    assert e.to_bytes() == data


def test_a_pack_life_is_admitted_and_chained() -> None:
    ledger, _ = fresh()
    first = admit(ledger, entry(MADE, MAKER, "org-catl", None))
    swapped = admit(ledger, entry(SWAP, STATION, "org-swapco", first.leaf_hash))
    charge = PackCharged(
        station="st-ningde-1",
        session="cs-9",
        energy_kwh=240.5,
        duration_s=3600,
        max_power_kw=300,
        soc_start=0.12,
        soc_end=0.98,
        max_cell_temp_c=38.5,
    )
    charged = admit(ledger, entry(charge, STATION, "org-swapco", swapped.leaf_hash))
    recycled = admit(
        ledger,
        entry(PackRecycled(facility="brunp-foshan"), RECYCLER, "org-brunp", charged.leaf_hash),
    )
    assert [first.index, swapped.index, charged.index, recycled.index] == [0, 1, 2, 3]
    history = ledger.log.store.read_entries(0, 4)
    assert check_pack_history(history) == []
    assert check_pack_history([history[0], history[2]]) != []
    heads = build_chain_heads(ledger.log)
    assert heads.head("P-0001") == ledger.heads.head("P-0001")
    # Recycling closes the history.
    reject(ledger, entry(SWAP, STATION, "org-swapco", recycled.leaf_hash), "recycled")


def test_wrong_signature_is_rejected() -> None:
    ledger, _ = fresh()
    data = entry(MADE, MAKER, "org-catl", None)
    obj = json.loads(data)
    obj["sig"] = base64.b64encode(bytes(64)).decode()
    reject(ledger, rfc8785.dumps(obj), "signature does not verify")
    obj = json.loads(data)
    obj["event"]["rated_energy_kwh"] = 300  # changed after signing
    reject(ledger, rfc8785.dumps(obj), "signature does not verify")


def test_unknown_key_and_impersonation_are_rejected() -> None:
    ledger, _ = fresh()
    reject(ledger, entry(MADE, key("stranger"), "org-catl", None), "unknown key")
    reject(ledger, entry(MADE, MAKER, "org-byd", None), "key belongs to 'org-catl'")


def test_roles_limit_event_types() -> None:
    ledger, _ = fresh()
    reject(ledger, entry(MADE, STATION, "org-swapco", None), "may not write PackManufactured")
    first = admit(ledger, entry(MADE, MAKER, "org-catl", None))
    reject(
        ledger,
        entry(PackRecycled(facility="x"), STATION, "org-swapco", first.leaf_hash),
        "may not write PackRecycled",
    )
    reject(ledger, entry(SWAP, RECYCLER, "org-brunp", first.leaf_hash), "may not write PackSwapped")


def test_rotation_keeps_old_entries_and_revocation_stops_new_ones() -> None:
    ledger, registry = fresh()
    first = admit(ledger, entry(MADE, MAKER, "org-catl", None))
    second = admit(ledger, entry(SWAP, STATION, "org-swapco", first.leaf_hash))
    new_station = key("station-ningde-1-2027")
    registry.register(pub(new_station), "org-swapco", [Role.STATION], valid_from=ledger.log.size)
    registry.revoke(hashlib.sha256(pub(STATION)).hexdigest(), ledger.log.size)
    reject(ledger, entry(SWAP, STATION, "org-swapco", second.leaf_hash), "revoked from log index 2")
    third = admit(ledger, entry(SWAP, new_station, "org-swapco", second.leaf_hash))
    assert third.index == 2
    # The old entry still verifies under the registry as it is now (offline verifier's view).
    offline = from_registry_json(registry.to_json())
    old = ledger.log.entry(1)
    _, reasons = check_entry(old, 1, LOG, offline, ledger.heads.head("P-0000"))
    assert [r for r in reasons if not r.startswith("prev")] == []
    # A key is not valid before its registration index either.
    registry.register(pub(key("late")), "org-swapco", [Role.STATION], valid_from=100)
    reject(ledger, entry(SWAP, key("late"), "org-swapco", third.leaf_hash), "not valid before")


def test_forks_and_replays_are_rejected() -> None:
    ledger, _ = fresh()
    first = admit(ledger, entry(MADE, MAKER, "org-catl", None))
    admit(ledger, entry(SWAP, STATION, "org-swapco", first.leaf_hash))
    inspected = PackInspected(
        soh=0.97, insulation_resistance_ohm=2.0e6, max_cell_temp_spread_c=2.5, cycle_count=12
    )
    reject(ledger, entry(inspected, STATION, "org-swapco", first.leaf_hash), "fork")
    reject(ledger, entry(MADE, MAKER, "org-catl", None), "already has history")
    reject(ledger, ledger.log.entry(1), "fork")  # a replayed entry
    reject(ledger, entry(inspected, STATION, "org-swapco", None, pack="P-0002"), "first entry")
    reject(ledger, entry(inspected, STATION, "org-swapco", bytes(32), pack="P-0002"), "no history")


def test_entries_for_another_log_are_rejected() -> None:
    ledger, _ = fresh()
    reject(
        ledger, entry(MADE, MAKER, "org-catl", None, log="staging.example/log"), "signed for log"
    )


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d.replace(b'{"event"', b'{ "event"'), "canonical"),
        (lambda d: d[:-1], "not JSON"),
        (lambda d: b"[1]", "not a JSON object"),
        (lambda d: d.replace(b'"v":1', b'"v":2'), "unsupported entry version"),
        (lambda d: d.replace(b'"type":"PackManufactured"', b'"type":"PackTeleported"'), "unknown"),
        (
            lambda d: d.replace(b'"plant":"catl-ningde-3"', b'"plant":"Zhang San, +86 138"'),
            "not an id",
        ),
        (
            lambda d: d.replace(b'"time":"2026-03-01T08:00:00Z"', b'"time":"2026-03-01 08:00"'),
            "RFC 3339",
        ),
        (lambda d: d.replace(b"282", b"-282"), "negative"),
        (lambda d: d.replace(b"LFP", b"LiPo"), "not one of"),
        (lambda d: b'{"a":NaN}', "not JSON"),
        (lambda d: b"\xff" + d, "not JSON"),
    ],
)
def test_malformed_or_non_canonical_entries_are_rejected(mutate: object, reason: str) -> None:
    ledger, _ = fresh()
    data = entry(MADE, MAKER, "org-catl", None)
    assert callable(mutate)
    bad = mutate(data)
    _, why = check_entry_format(bad)
    assert any(reason in r for r in why), why
    reject(ledger, bad, reason)


def test_duplicate_json_keys_and_extra_fields_are_rejected() -> None:
    data = entry(MADE, MAKER, "org-catl", None)
    dup = data.replace(b'{"event":{', b'{"event":{"model":"x",', 1)
    assert check_entry_format(dup)[1]
    obj = json.loads(data)
    obj["driver"] = "someone"
    assert any("unknown envelope field" in r for r in check_entry_format(rfc8785.dumps(obj))[1])
    obj = json.loads(data)
    obj["event"]["owner_phone"] = "123"
    assert any("unknown field" in r for r in check_entry_format(rfc8785.dumps(obj))[1])


def test_build_entry_refuses_bad_events() -> None:
    bad = PackQuarantined(reason=QuarantineReason.OVER_TEMPERATURE, site="has space")
    with pytest.raises(InputError, match="not an id"):
        entry(bad, STATION, "org-swapco", None)
    with pytest.raises(InputError, match="fraction"):
        entry(PackSwapped("s", "w", "v", SwapDirection.REMOVED, soc=97.0), STATION, "o", None)


def test_a_batch_chains_within_itself_and_rejects_only_the_bad() -> None:
    ledger, _ = fresh()
    a = entry(MADE, MAKER, "org-catl", None)
    b = entry(SWAP, STATION, "org-swapco", entry_leaf_hash(a))
    bad = entry(SWAP, key("stranger"), "org-swapco", entry_leaf_hash(b))
    c = build_entry(
        SWAP,
        log=LOG,
        pack="P-0001",
        org="org-swapco",
        time=T0 + timedelta(hours=1),
        prev=entry_leaf_hash(b),
        private_key=STATION,
    )
    outcomes = ledger.submit([a, b, bad, c])
    assert [type(o).__name__ for o in outcomes] == ["Admitted", "Admitted", "Rejected", "Admitted"]
    assert ledger.log.size == 3
    assert ledger.log.store.read_entries(0, 3) == [a, b, c]
