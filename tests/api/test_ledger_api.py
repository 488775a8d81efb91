"""Ledger endpoints end to end through the REST API: swaps over HTTP, the relay, then the
checkpoint, entries, both proofs and a passport that verifies offline with public keys only."""

from __future__ import annotations

import base64

from openswap.ledger.checkpoint import verify_checkpoint
from openswap.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from openswap.ledger.passport import from_trusted_keys_json, verify_passport
from openswap.services import ledger as lg
from openswap.storage.ledger import build_ledger_uow_factory
from tests.api.conftest import Api, assert_problem

KEK = bytes(range(32))


def test_swap_over_http_then_read_the_ledger_and_verify_a_passport(api: Api) -> None:
    lctx = lg.LedgerContext(uow=build_ledger_uow_factory(api.db.engine, KEK), clock=api.db.clock)
    api.app.state.ledger = lctx
    lg.provision_keys(lctx)
    body = {"vehicle_id": "v1", "station_id": "s1", "arrive_at": api.at(30), "need_kwh": 200.0}
    assert api.post("fleet_a", "/v1/reservations", body).status_code == 201
    swap = api.post("s1", "/v1/swaps", {"station_id": "s1", "bay_no": 1, "vehicle_id": "v1"})
    assert swap.status_code == 201, swap.text
    done = api.post("s1", f"/v1/swaps/{swap.json()['id']}/complete", {})
    assert done.status_code == 200, done.text
    serial = done.json()["lines"][0]["pack_in"]

    assert_problem(api.client.get("/v1/ledger/checkpoint"), 404)  # nothing published yet
    assert lg.relay_outbox(lctx).entries == 8  # 4 packs: commissioning + swap each
    first = lg.publish_checkpoint(lctx)
    trusted = lg.trusted_keys(lctx)

    note = api.client.get("/v1/ledger/checkpoint")
    assert note.headers["content-type"].startswith("text/plain")
    cp = verify_checkpoint(note.text, list(trusted.checkpoint_verifiers), lctx.origin)
    assert cp.size == 8

    entries = api.client.get("/v1/ledger/entries", params={"start": 0, "end": 8}).json()["entries"]
    assert [e["index"] for e in entries] == list(range(8))
    e5 = entries[5]
    assert leaf_hash(e5["entry"].encode()).hex() == e5["leaf_hash"]
    for params in ({"index": 5}, {"leaf_hash": e5["leaf_hash"]}):
        p = api.client.get("/v1/ledger/proofs/inclusion", params=params).json()
        proof = [base64.b64decode(h) for h in p["proof"]]
        assert p["index"] == 5
        assert verify_inclusion(bytes.fromhex(p["leaf_hash"]), 5, cp.size, proof, cp.root)
    assert_problem(api.client.get("/v1/ledger/proofs/inclusion", params={"index": 9}), 422)
    assert_problem(api.client.get("/v1/ledger/entries", params={"start": 4, "end": 99}), 422)

    q = api.post("operator", "/v1/packs/P01/quarantine", {"reason": "insulation fault"})
    assert q.status_code == 200, q.text
    assert lg.relay_outbox(lctx).appended == 1
    second = lg.publish_checkpoint(lctx)
    c = api.client.get(
        "/v1/ledger/proofs/consistency", params={"first": first.size, "second": second.size}
    ).json()
    assert verify_consistency(
        first.size, second.size, first.root, second.root, [base64.b64decode(h) for h in c["proof"]]
    )

    doc = api.client.get(f"/v1/passports/{serial}")
    assert doc.status_code == 200
    verdict = verify_passport(doc.json(), from_trusted_keys_json(trusted.to_json()))
    assert verdict.ok, verdict.problems
    assert_problem(api.client.get("/v1/passports/NO-SUCH-PACK"), 404)
