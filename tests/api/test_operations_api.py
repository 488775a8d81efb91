"""Happy paths of every route family, transitions, idempotency and validation over HTTP."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, assert_problem
from tests.storage.support import check_invariants


def _set(custody: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in custody.items() if v is not None}


def _reserve(api: Api, vehicle: str = "v1", station: str = "s1", **extra: Any) -> Any:
    body = {"vehicle_id": vehicle, "station_id": station, "arrive_at": api.at(30), **extra}
    return api.post("fleet_a", "/v1/reservations", body)


def test_ping_openapi_and_docs(api: Api) -> None:
    assert api.client.get("/v1/ping").json() == {"status": "ok"}
    spec = api.client.get("/openapi.json").json()
    assert "/v1/reservations" in spec["paths"]
    assert "Problem" in spec["components"]["schemas"]
    responses = spec["paths"]["/v1/swaps/{swap_id}/complete"]["post"]["responses"]
    assert "application/problem+json" in responses["409"]["content"]
    assert api.client.get("/docs").status_code == 200


def test_reserve_start_complete_with_custody_bill_and_history(api: Api) -> None:
    resp = _reserve(api, need_kwh=200.0)
    assert resp.status_code == 201, resp.text
    outcome = resp.json()
    assert outcome["reserved"] is True
    rsv = outcome["reservation"]
    assert [h["serial"] for h in outcome["held"]] == [h["serial"] for h in rsv["holds"]]
    assert len(rsv["holds"]) == 2

    got = api.get("fleet_a", f"/v1/reservations/{rsv['id']}")
    assert got.json()["state"] == "active"
    listed = api.get("fleet_a", "/v1/reservations", state="active").json()
    assert [r["id"] for r in listed["items"]] == [rsv["id"]]

    start = api.post("s1", "/v1/swaps", {"station_id": "s1", "bay_no": 1, "vehicle_id": "v1"})
    assert start.status_code == 201, start.text
    swap = start.json()
    assert swap["state"] == "started"
    assert swap["reservation_id"] == rsv["id"]
    held = [h["serial"] for h in rsv["holds"]]
    readings = [{"serial": s, "soc": 0.97} for s in held]
    done = api.post("s1", f"/v1/swaps/{swap['id']}/complete", {"readings": readings})
    assert done.status_code == 200, done.text
    completed = done.json()
    assert completed["state"] == "completed"
    bill = completed["bill"]
    assert bill["total_fen"] == sum(line["amount_fen"] for line in bill["lines"]) > 0
    assert {line["kind"] for line in bill["lines"]} == {"energy", "service", "battery_usage"}

    assert api.get("fleet_a", f"/v1/swaps/{swap['id']}").json()["bill"]["id"] == bill["id"]
    assert api.get("fleet_a", f"/v1/swaps/{swap['id']}/bill").json()["id"] == bill["id"]
    assert [b["id"] for b in api.get("fleet_a", "/v1/bills").json()["items"]] == [bill["id"]]
    assert api.get("fleet_a", f"/v1/reservations/{rsv['id']}").json()["state"] == "fulfilled"

    pack = api.get("fleet_a", f"/v1/packs/{held[0]}").json()
    assert _set(pack["custody"]) == {"kind": "vehicle", "vehicle_id": "v1", "position_no": 1}
    history = api.get("admin", f"/v1/packs/{held[0]}/history").json()
    assert history[-1]["event_type"] == "PackSwapped"
    assert history[-1]["payload"]["direction"] == "into_vehicle"

    inventory = api.get("fleet_a", "/v1/stations/s1/inventory").json()
    on_rack = {s["pack"]["serial"] for s in inventory["slots"] if s["pack"]}
    assert {"V1-1", "V1-2"} <= on_rack
    assert not set(held) & on_rack
    assert sum(c["packs"] for c in inventory["stock"]) == len(on_rack)
    check_invariants(api.db)


def test_invalid_transitions_answer_409_with_the_reason(api: Api) -> None:
    rsv = _reserve(api).json()["reservation"]
    swap = api.post("s1", "/v1/swaps", {"station_id": "s1", "bay_no": 1, "vehicle_id": "v1"}).json()
    body = assert_problem(api.post("fleet_a", f"/v1/reservations/{rsv['id']}/cancel"), 409)
    assert "in state 'in_use'" in body["detail"]
    assert body["reasons"]
    aborted = api.post("s1", f"/v1/swaps/{swap['id']}/abort", {"reason": "driver left"})
    assert aborted.json()["state"] == "aborted"
    assert api.get("fleet_a", f"/v1/reservations/{rsv['id']}").json()["state"] == "active"
    again = assert_problem(api.post("s1", f"/v1/swaps/{swap['id']}/complete", {}), 409)
    assert again["type"].endswith("invalid-transition")
    assert "cannot complete swap" in again["detail"]
    cancelled = api.post("fleet_a", f"/v1/reservations/{rsv['id']}/cancel", {"reason": "x"})
    assert cancelled.json()["state"] == "cancelled"
    check_invariants(api.db)


def test_refused_start_lists_every_reason(api: Api) -> None:
    resp = api.post("admin", "/v1/swaps", {"station_id": "s3", "bay_no": 1, "vehicle_id": "v3"})
    body = assert_problem(resp, 409)
    assert body["type"].endswith("swap-refused")
    assert any("no packs" in r for r in body["reasons"])


def test_refused_reservation_is_a_result_with_alternatives(api: Api) -> None:
    resp = _reserve(api, vehicle="v2", station="s3")
    assert resp.status_code == 200, resp.text
    outcome = resp.json()
    assert outcome["reserved"] is False
    assert {r["code"] for r in outcome["refusals"]} >= {"no_packs", "shortfall"}


def test_idempotent_retry_returns_the_first_result(api: Api) -> None:
    body = {"vehicle_id": "v2", "station_id": "s1", "arrive_at": api.at(20)}
    first = api.post("fleet_a", "/v1/reservations", body, key="k-1")
    again = api.post("fleet_a", "/v1/reservations", body, key="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(api.get("admin", "/v1/reservations").json()["items"]) == 1
    other = api.post("fleet_a", "/v1/reservations", {**body, "need_kwh": 5.0}, key="k-1")
    problem = assert_problem(other, 422)
    assert problem["errors"][0]["field"] == "Idempotency-Key"

    swap = api.post(
        "s1", "/v1/swaps", {"station_id": "s1", "bay_no": 2, "vehicle_id": "v2"}, key="s-1"
    ).json()
    done = [api.post("s1", f"/v1/swaps/{swap['id']}/complete", {}, key="c-1") for _ in range(3)]
    assert all(d.status_code == 200 for d in done)
    assert len({d.json()["bill"]["id"] for d in done}) == 1
    assert len(api.get("admin", "/v1/bills").json()["items"]) == 1
    check_invariants(api.db)


def test_missing_idempotency_key_and_bad_fields_name_the_field(api: Api) -> None:
    resp = api.client.post(
        "/v1/reservations",
        json={"vehicle_id": "v1", "station_id": "s1", "arrive_at": api.at(10)},
        headers=api.headers("fleet_a"),
    )
    problem = assert_problem(resp, 422)
    assert problem["errors"][0] == {
        "field": "Idempotency-Key",
        "location": "header",
        "message": "Field required",
    }
    naive = _reserve(api, arrive_at="2025-03-03T02:00:00")
    assert assert_problem(naive, 422)["errors"][0]["field"] == "arrive_at"
    swap = api.post("s1", "/v1/swaps", {"station_id": "s1", "bay_no": 1, "vehicle_id": "v2"}).json()
    bad = api.post(
        "s1", f"/v1/swaps/{swap['id']}/complete", {"readings": [{"serial": "P01", "soc": 1.5}]}
    )
    assert assert_problem(bad, 422)["errors"][0]["field"] == "readings[0].soc"
    stranger = api.post(
        "s1", f"/v1/swaps/{swap['id']}/complete", {"readings": [{"serial": "P12", "soc": 0.5}]}
    )
    assert assert_problem(stranger, 422)["errors"][0]["field"] == "readings"
    extra = api.post("fleet_a", "/v1/reservations", {"vehicle_id": "v1", "bogus": 1})
    fields = {e["field"] for e in assert_problem(extra, 422)["errors"]}
    assert {"station_id", "arrive_at", "bogus"} <= fields


def test_compatibility_check_lists_every_rule(api: Api) -> None:
    body = {"vehicle_id": "v1", "pack_serial": "P01", "station_id": "s1", "need_kwh": 100.0}
    ok = api.post("fleet_a", "/v1/compatibility/check", body)
    assert ok.status_code == 200, ok.text
    verdict = ok.json()
    assert verdict["compatible"] is True
    assert verdict["failed"] == []
    rules = [r["rule"] for r in verdict["results"]]
    assert len(rules) == len(set(rules)) > 5
    quarantine = api.post("operator", "/v1/packs/P01/quarantine", {"reason": "smoke"})
    assert quarantine.json()["safety_state"] == "quarantined"
    refused = api.post("fleet_a", "/v1/compatibility/check", {**body, "need_kwh": 9000.0}).json()
    assert refused["compatible"] is False
    assert "safety_state" in refused["failed"]
    assert "energy" in refused["failed"]
    assert all(r["reason"] for r in refused["results"])
    released = api.post("operator", "/v1/packs/P01/release", {})
    assert released.json()["safety_state"] == "ok"


def test_catalog_list_get_define(api: Api) -> None:
    page = api.get("fleet_a", "/v1/frames", limit=2).json()
    assert len(page["items"]) == 2
    assert page["next_offset"] == 2
    assert page["total"] > 2
    rest = api.get("fleet_a", "/v1/frames", limit=100, offset=2).json()
    assert rest["next_offset"] is None
    assert len(rest["items"]) == page["total"] - 2
    frame = api.get("fleet_a", "/v1/frames/qiji-75").json()
    assert frame["mount"] == "chassis"
    for path in ("/v1/pack-models", "/v1/vehicle-models", "/v1/station-designs", "/v1/adapters"):
        listed = api.get("auditor", path).json()
        assert listed["total"] == len(listed["items"]) > 0
        one = listed["items"][0]["id"]
        assert api.get("auditor", f"{path}/{one}").json()["id"] == one
    entry = {
        "id": "test-frame",
        "name": "Test frame",
        "envelope": {"length_mm": 1500, "width_mm": 1000, "height_mm": 600},
        "max_mass_kg": 1100,
        "mount": "chassis",
        "lock": "twist_lock",
        "interface_id": "test-if",
        "sources": [{"ref": "test", "confidence": "estimate"}],
    }
    created = api.post("admin", "/v1/frames", entry)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == "test-frame"
    assert assert_problem(api.post("admin", "/v1/frames", entry), 409)
    bad = api.post("admin", "/v1/frames", {**entry, "id": "t2", "envelope": {"length_mm": -1}})
    fields = {e["field"] for e in assert_problem(bad, 422)["errors"]}
    assert "entry.envelope.length_mm" in fields
    assert_problem(api.post("fleet_a", "/v1/frames", {**entry, "id": "t3"}), 403)
    assert_problem(api.get("fleet_a", "/v1/frames/nope"), 404)


def test_assets_create_list_filter(api: Api) -> None:
    org = api.post("admin", "/v1/organisations", {"id": "fleet-c", "name": "C", "roles": ["fleet"]})
    assert org.status_code == 201, org.text
    station = api.post(
        "operator",
        "/v1/stations",
        {
            "id": "s9",
            "name": "Station 9",
            "design_id": "qiji-chassis-4000",
            "operator_org_id": "qiji-energy",
            "stocked_models": ["catl-qiji-171-lfp"],
            "corridor": "g15",
            "km": 400.0,
        },
    )
    assert station.status_code == 201, station.text
    assert station.json()["slots"] > 0
    assert station.json()["bays"]
    assert [
        s["id"] for s in api.get("fleet_a", "/v1/stations", corridor="g15").json()["items"]
    ] == [
        "s1",
        "s2",
        "s9",
    ]
    vehicle = api.post(
        "fleet_a",
        "/v1/vehicles",
        {
            "id": "v9",
            "model_id": "deepway-xingtu-6x4-qiji",
            "fleet_org_id": "fleet-a",
            "pack_count": 1,
        },
    )
    assert vehicle.status_code == 201, vehicle.text
    assert_problem(
        api.post(
            "fleet_a",
            "/v1/vehicles",
            {
                "id": "v8",
                "model_id": "deepway-xingtu-6x4-qiji",
                "fleet_org_id": "fleet-b",
                "pack_count": 1,
            },
        ),
        403,
    )
    pack = api.post(
        "s1",
        "/v1/packs",
        {
            "serial": "NEW-1",
            "model_id": "catl-qiji-171-lfp",
            "owner_org_id": "battery-bank",
            "station_id": "s1",
            "slot_no": 6,
        },
    )
    assert pack.status_code == 201, pack.text
    assert _set(pack.json()["custody"]) == {"kind": "slot", "station_id": "s1", "slot_no": 6}
    history = api.get("admin", "/v1/packs/NEW-1/history").json()
    assert [e["event_type"] for e in history] == ["PackRegistered"]
    charged = api.get("admin", "/v1/packs", station_id="s1", custody_kind="slot").json()
    assert "NEW-1" in {p["serial"] for p in charged["items"]}
    assert api.get("admin", "/v1/vehicles", fleet_org_id="fleet-b").json()["total"] == 1
    check_invariants(api.db)
