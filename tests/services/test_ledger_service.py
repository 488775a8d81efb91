"""Ledger wiring on the service database: the outbox relay appends every event exactly once
(crashes injected at each step), admission failures append nothing, keys rotate and revoke,
and the end-to-end acceptance: seed, swap through the services, relay, export a passport,
verify it offline, tamper with the database and watch the audit name the entry."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from openswap.catalog import builtin_catalog
from openswap.ledger.entries import decode_entry
from openswap.ledger.passport import from_trusted_keys_json, verify_passport
from openswap.services import custody as cu
from openswap.services import ledger as lg
from openswap.services import reservations as rsv
from openswap.services import swaps as sw
from openswap.services.model import SYSTEM_ACTOR, OutboxEvent
from openswap.services.seeding import seed_database
from openswap.storage.engine import build_session_factory
from openswap.storage.ledger import SqlKeyStore, build_ledger_uow_factory
from openswap.storage.models import (
    LedgerEntryRow,
    LedgerNodeRow,
    LedgerRelayRow,
    OutboxRow,
    SealedSecretRow,
)
from tests.storage.support import (
    OPERATOR_ACTOR,
    S1_DEVICE,
    Database,
    build_network,
)

KEK = bytes(range(32))


def _lctx(db: Database) -> lg.LedgerContext:
    return lg.LedgerContext(uow=build_ledger_uow_factory(db.engine, KEK), clock=db.clock)


def _swap(db: Database, vehicle: str, key: str) -> sw.SwapView:
    ctx = db.ctx()
    out = rsv.reserve(
        ctx, OPERATOR_ACTOR, rsv.ReserveSwap(vehicle, "s1", db.clock.now(), 100.0), f"r{key}"
    )
    assert out.reservation is not None, out
    started = sw.start_swap(ctx, S1_DEVICE, sw.StartSwap("s1", 1, vehicle), f"s{key}")
    db.clock.advance(240)
    return sw.complete_swap(ctx, S1_DEVICE, sw.CompleteSwap(started.id), f"c{key}")


def _network_with_events(db: Database) -> lg.LedgerContext:
    build_network(db, s1_slots=8, s1_packs=5)
    lctx = _lctx(db)
    lg.provision_keys(lctx)
    _swap(db, "v1", "1")
    _swap(db, "v2", "2")
    cu.quarantine_pack(
        db.ctx(), OPERATOR_ACTOR, cu.QuarantinePack("P01", "over-temperature alarm"), "q"
    )
    return lctx


def _log_rows(db: Database) -> list[tuple[int, bytes]]:
    with db.engine.connect() as c:
        rows = c.execute(
            select(LedgerEntryRow.idx, LedgerEntryRow.data).order_by(LedgerEntryRow.idx)
        )
        return [(int(i), bytes(d)) for i, d in rows]


def _relay_rows(db: Database) -> list[tuple[int, str, int | None, int]]:
    with db.engine.connect() as c:
        q = select(
            LedgerRelayRow.outbox_seq,
            LedgerRelayRow.status,
            LedgerRelayRow.first_index,
            LedgerRelayRow.entry_count,
        ).order_by(LedgerRelayRow.outbox_seq)
        return [(int(a), b, c_, int(d)) for a, b, c_, d in c.execute(q)]


def _unpublished(db: Database) -> int:
    with db.engine.connect() as c:
        return len(list(c.execute(select(OutboxRow.seq).where(OutboxRow.published_at.is_(None)))))


class InjectedCrashError(Exception):
    pass


def test_the_relay_maps_signs_and_appends_every_event_once(db: Database) -> None:
    lctx = _network_with_events(db)
    report = lg.relay_outbox(lctx)
    assert report.rejected == 0, report.rejections
    assert report.appended == report.events == 7  # 2 swaps (4 + 2 packs) and a quarantine
    assert _unpublished(db) == 0
    rows = _log_rows(db)
    types = Counter(decode_entry(d).type for _, d in rows)
    # each of the 7 packs (registered without an event) opens its chain at commissioning
    assert types == {"PackCommissioned": 7, "PackSwapped": 6, "PackQuarantined": 1}
    swapped = [decode_entry(d) for _, d in rows if decode_entry(d).type == "PackSwapped"]
    assert {e.org for e in swapped} == {"qiji-energy"}  # the station key: its operator's
    quarantine = next(decode_entry(d) for _, d in rows if decode_entry(d).type == "PackQuarantined")
    assert str(quarantine.event.reason) == "over_temperature"  # type: ignore[union-attr]
    assert lg.relay_outbox(lctx).events == 0  # nothing left, nothing repeated


@pytest.mark.parametrize("step", ["read", "appended", "marked"])
def test_a_crash_inside_the_relay_loses_nothing_and_duplicates_nothing(
    db: Database, step: str
) -> None:
    lctx = _network_with_events(db)
    before = _unpublished(db)

    def crash(at: str) -> None:
        if at == step:
            raise InjectedCrashError(at)

    with pytest.raises(InjectedCrashError):
        lg.relay_outbox(lctx, fault=crash)
    assert _log_rows(db) == []
    assert _relay_rows(db) == []
    assert _unpublished(db) == before
    report = lg.relay_outbox(lctx)
    assert report.events == before
    assert report.rejected == 0
    relay = _relay_rows(db)
    assert [r[0] for r in relay] == sorted({r[0] for r in relay})  # one record per event
    covered = [i for _, _, first, n in relay if first is not None for i in range(first, first + n)]
    assert covered == list(range(len(_log_rows(db))))  # every entry from exactly one event


def test_a_crash_after_the_commit_leaves_nothing_to_redo(db: Database) -> None:
    lctx = _network_with_events(db)

    def crash(at: str) -> None:
        if at == "committed":
            raise InjectedCrashError(at)

    with pytest.raises(InjectedCrashError):
        lg.relay_outbox(lctx, fault=crash)
    rows = _log_rows(db)
    assert rows
    assert _unpublished(db) == 0
    assert lg.relay_outbox(lctx).events == 0
    assert _log_rows(db) == rows


def test_admission_failures_append_nothing_and_are_recorded(db: Database) -> None:
    lctx = _network_with_events(db)
    lg.relay_outbox(lctx)
    size = len(_log_rows(db))
    # the station key's sealed private half is swapped for a stranger's: admission refuses
    keys = {k.name: k for k in lg.list_keys(lctx)}
    station = keys["station:s1"]
    with db.engine.begin() as c:
        c.execute(
            update(SealedSecretRow)
            .where(SealedSecretRow.name == f"ledger/entry-key/{station.fingerprint}")
            .values(name="moved-away")
        )
    with build_session_factory(db.engine)() as s, s.begin():
        SqlKeyStore(s, KEK).put(f"ledger/entry-key/{station.fingerprint}", bytes(range(1, 33)))
    # a malformed outbox event is refused as well
    with db.uow() as uow:
        uow.outbox.add(
            OutboxEvent("evt_bad", "PackSwapped", "P02", {"swap_id": "x"}, db.clock.now())
        )
        uow.commit()
    _swap(db, "v3", "3")
    report = lg.relay_outbox(lctx)
    assert report.appended == 0
    assert report.entries == 0
    assert report.rejected == report.events == 3
    reasons = " | ".join(r for rec in report.rejections for r in rec.reasons)
    assert "key: unknown key" in reasons
    assert "payload has no 'from'" in reasons
    assert len(_log_rows(db)) == size
    assert len(lg.rejected_events(lctx)) == 3
    # after the cause is fixed (a fresh key), the requeued swap events go through
    lg.rotate_key(lctx, "station:s1")
    assert lg.requeue_rejected(lctx) == 3
    again = lg.relay_outbox(lctx)
    assert again.appended == 2
    assert again.rejected == 1


def test_rotation_keeps_old_entries_valid_and_revocation_after_compromise_does_not(
    db: Database,
) -> None:
    lctx = _network_with_events(db)
    lg.relay_outbox(lctx)
    serial = "V1-1"
    old, new = lg.rotate_key(lctx, "station:s1")
    assert old.revoked_from == new.valid_from == len(_log_rows(db))
    db.clock.advance(3600)
    cu.release_pack(db.ctx(), OPERATOR_ACTOR, cu.ReleasePack("P01"), "rel")
    _swap(db, "v1", "again")  # V1-1 goes back in? not necessarily: any swap at s1 is signed anew
    lg.relay_outbox(lctx)
    signed_after = [
        decode_entry(d) for i, d in _log_rows(db) if i >= new.valid_from and b"PackSwapped" in d
    ]
    assert signed_after
    assert {e.key for e in signed_after} == {new.fingerprint}
    trusted = lg.trusted_keys(lctx)
    doc = lg.build_passport(lctx, serial)
    assert verify_passport(doc, trusted).ok
    # a compromise of the new key, dated back to its first use: entries after fail to verify
    lg.revoke_key(lctx, new.fingerprint, new.valid_from)
    victim = next(e.pack for e in signed_after)
    verdict = verify_passport(lg.build_passport(lctx, victim), lg.trusted_keys(lctx))
    assert not verdict.ok
    assert any("revoked from log index" in p for p in verdict.problems)


# --- acceptance: end to end ------------------------------------------------------------------


def _flip(raw: bytes, at: int) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :]


def test_end_to_end_seed_swap_relay_passport_verify_tamper_audit(db: Database) -> None:
    """Through the services (the REST adapter calls the same use cases)."""
    seed_database(db.uow(), builtin_catalog(), demo=True, clock=db.clock, ids=db.ids)
    lctx = _lctx(db)
    assert lg.provision_keys(lctx)
    ctx = db.ctx()
    outs = []
    for n, (vehicle, station) in enumerate(
        [("fj-g15-001", "changle-s"), ("fj-g15-002", "luoyangjiang-s"), ("fj-g15-001", "changle-n")]
    ):
        out = rsv.reserve(
            ctx, SYSTEM_ACTOR, rsv.ReserveSwap(vehicle, station, db.clock.now(), None), f"r{n}"
        )
        assert out.reservation is not None, out.refusals
        st = sw.start_swap(ctx, SYSTEM_ACTOR, sw.StartSwap(station, 1, vehicle), f"s{n}")
        db.clock.advance(300)
        outs.append(sw.complete_swap(ctx, SYSTEM_ACTOR, sw.CompleteSwap(st.id), f"c{n}"))
        db.clock.advance(timedelta(hours=3).total_seconds())
    serial = outs[0].lines[0].pack_in
    cu.quarantine_pack(ctx, SYSTEM_ACTOR, cu.QuarantinePack(serial, "deep discharge"), "q")
    cu.release_pack(ctx, SYSTEM_ACTOR, cu.ReleasePack(serial), "rel")

    report = lg.relay_all(lctx)
    assert report.rejected == 0, report.rejections
    first = lg.publish_checkpoint(lctx)
    audit = lg.audit_ledger(lctx)
    assert audit.ok, audit.problems
    seen = audit.current_note

    doc = json.loads(json.dumps(lg.build_passport(lctx, serial)))  # through JSON, as exported
    trusted = from_trusted_keys_json(lg.trusted_keys(lctx).to_json())
    verdict = verify_passport(doc, trusted)
    assert verdict.ok, verdict.problems
    attrs = doc["attributes"]
    assert attrs["general_information"]["owner"] == "fujian-battery-bank"
    perf = attrs["performance_and_durability"]
    assert 0 < perf["state_of_health"]["value"] <= 1
    assert perf["negative_events"]["deep_discharge"][0]["source"] == "quarantine"
    assert perf["negative_events"]["quarantines"][0]["released"] is not None
    assert [s["direction"] for s in attrs["usage_and_custody"]["swaps"]] == ["installed", "removed"]
    assert doc["datasheet"]["attested"] is False
    assert "carbon_footprint" in attrs["not_supported"]
    assert "vehicle" not in json.dumps(attrs["general_information"])  # no driver, no plate

    # the passport itself: a changed attribute, entry byte or proof byte is refused
    forged = json.loads(json.dumps(doc))
    forged["attributes"]["performance_and_durability"]["state_of_health"]["value"] = 1.0
    assert not verify_passport(forged, trusted).ok
    forged = json.loads(json.dumps(doc))
    e0 = forged["evidence"]["entries"][0]
    e0["entry"] = e0["entry"].replace('"v":1', '"v":2')
    assert not verify_passport(forged, trusted).ok
    forged = json.loads(json.dumps(doc))
    forged["evidence"]["entries"][-1]["inclusion_proof"][0] = (
        forged["evidence"]["entries"][0]["leaf_hash"][:43] + "="
    )
    assert not verify_passport(forged, trusted).ok
    forged = json.loads(json.dumps(doc))
    forged["evidence"]["checkpoint"] = forged["evidence"]["checkpoint"].replace("\n1", "\n2", 1)
    assert not verify_passport(forged, trusted).ok

    # more swaps later: the audit holding the first checkpoint checks consistency
    _ = first
    with db.uow() as uow:
        uow.outbox.add(
            OutboxEvent(
                "evt_charge",
                "PackCharged",
                serial,
                {
                    "station_id": "changle-s",
                    "session_id": "cs-1",
                    "energy_kwh": 120.5,
                    "duration_s": 3600.0,
                    "max_power_kw": 150.0,
                    "soc_start": 0.1,
                    "soc_end": 0.95,
                    "max_cell_temp_c": 61.0,
                },
                db.clock.now(),
            )
        )
        uow.commit()
    assert lg.relay_outbox(lctx).appended == 1
    lg.publish_checkpoint(lctx)
    audit = lg.audit_ledger(lctx, seen)
    assert audit.ok, audit.problems
    doc2 = lg.build_passport(lctx, serial)
    assert verify_passport(doc2, lg.trusted_keys(lctx)).ok
    charging = doc2["attributes"]["performance_and_durability"]["charging"]
    assert charging["sessions"] == 1
    assert (
        doc2["attributes"]["performance_and_durability"]["negative_events"]["over_temperature"][0][
            "max_cell_temp_c"
        ]
        == 61.0
    )

    # tamper 1: flip one byte of a stored entry of the pack
    index = doc["evidence"]["entries"][1]["index"]
    with db.engine.begin() as c:
        raw = bytes(c.scalar(select(LedgerEntryRow.data).where(LedgerEntryRow.idx == index)))
        c.execute(
            update(LedgerEntryRow)
            .where(LedgerEntryRow.idx == index)
            .values(data=_flip(raw, raw.index(b'"pack"') + 9))
        )
    found = lg.audit_ledger(lctx, seen)
    assert not found.ok
    assert [t.index for t in found.touched] == [index]
    assert any(f"entry {index}" in p for p in found.problems)
    assert found.touched[0].type is not None
    with db.engine.begin() as c:
        c.execute(update(LedgerEntryRow).where(LedgerEntryRow.idx == index).values(data=raw))
    assert lg.audit_ledger(lctx, seen).ok

    # tamper 2: flip one byte of a stored node (level 2): the audit names its first entry
    with db.engine.begin() as c:
        node = bytes(
            c.scalar(
                select(LedgerNodeRow.hash).where(LedgerNodeRow.level == 2, LedgerNodeRow.idx == 3)
            )
        )
        c.execute(
            update(LedgerNodeRow)
            .where(LedgerNodeRow.level == 2, LedgerNodeRow.idx == 3)
            .values(hash=_flip(node, 5))
        )
    found = lg.audit_ledger(lctx, seen)
    assert not found.ok
    assert [t.index for t in found.touched] == [12]
    assert "node (2, 3)" in found.touched[0].what
    assert found.touched[0].pack is not None
    with db.engine.begin() as c:
        c.execute(
            update(LedgerNodeRow)
            .where(LedgerNodeRow.level == 2, LedgerNodeRow.idx == 3)
            .values(hash=node)
        )

    # tamper 3: truncate the log: the remembered checkpoint proves it shrank
    with db.engine.begin() as c:
        size = int(c.scalar(text("SELECT count(*) FROM ledger_entries")))
        half = size // 2
        c.execute(text(f"DELETE FROM ledger_entries WHERE idx >= {half}"))
        c.execute(text(f"DELETE FROM ledger_nodes WHERE ((idx + 1) << level) > {half}"))
    found = lg.audit_ledger(lctx, seen)
    assert not found.ok
    assert any("log shrank" in p for p in found.problems)
    with db.engine.begin() as c:
        c.execute(text("DELETE FROM ledger_nodes"))  # a clumsier attacker: a broken tree
    found = lg.audit_ledger(lctx, seen)
    assert any("incomplete" in p for p in found.problems)
