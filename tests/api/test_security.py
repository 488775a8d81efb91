"""Authentication (client credentials, password, expiry) and tenant isolation over HTTP."""

from __future__ import annotations

import base64
import time

import jwt

from openswap.services.auth import hash_secret, verify_secret
from openswap.services.model import Actor, Role
from tests.api.conftest import SECRET, Api, assert_problem


def _client(api: Api, **body: object) -> dict[str, str]:
    resp = api.post("admin", "/v1/clients", body)
    assert resp.status_code == 201, resp.text
    out: dict[str, str] = resp.json()
    return out


def test_client_credentials_flow(api: Api) -> None:
    client = _client(api, role="fleet", org_id="fleet-a")
    assert client["client_secret"]
    assert client["org_id"] == "fleet-a"
    form = {
        "grant_type": "client_credentials",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
    }
    token = api.client.post("/v1/token", data=form)
    assert token.status_code == 200, token.text
    issued = token.json()
    assert issued["token_type"] == "bearer"
    assert issued["expires_in"] == 600
    claims = jwt.decode(issued["access_token"], SECRET, algorithms=["HS256"], issuer="openswap")
    assert (claims["sub"], claims["role"], claims["org"]) == (
        client["client_id"],
        "fleet",
        "fleet-a",
    )
    auth = {"Authorization": f"Bearer {issued['access_token']}"}
    vehicles = api.client.get("/v1/vehicles", headers=auth).json()
    assert {v["id"] for v in vehicles["items"]} == {"v1", "v2"}

    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    via_basic = api.client.post(
        "/v1/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert via_basic.status_code == 200

    wrong = api.client.post("/v1/token", data={**form, "client_secret": "nope"})
    assert assert_problem(wrong, 401)["error"] == "invalid_client"
    unknown = api.client.post("/v1/token", data={**form, "client_id": "cli_nobody"})
    assert assert_problem(unknown, 401)["error"] == "invalid_client"
    grant = api.client.post("/v1/token", data={"grant_type": "implicit"})
    assert assert_problem(grant, 400)["error"] == "unsupported_grant_type"


def test_station_client_acts_for_its_station_only(api: Api) -> None:
    client = _client(api, role="station", station_id="s2")
    assert client["org_id"] == "qiji-energy"
    missing = api.post("admin", "/v1/clients", {"role": "station"})
    assert assert_problem(missing, 422)["errors"][0]["field"] == "station_id"
    assert_problem(api.post("fleet_a", "/v1/clients", {"role": "admin"}), 403)


def test_password_flow(api: Api) -> None:
    user = api.post(
        "admin",
        "/v1/users",
        {
            "username": "dispatch",
            "password": "correct horse battery",
            "role": "fleet",
            "org_id": "fleet-b",
        },
    )
    assert user.status_code == 201, user.text
    form = {"grant_type": "password", "username": "dispatch", "password": "correct horse battery"}
    token = api.client.post("/v1/token", data=form)
    assert token.status_code == 200, token.text
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert {v["id"] for v in api.client.get("/v1/vehicles", headers=auth).json()["items"]} == {"v3"}
    bad = api.client.post("/v1/token", data={**form, "password": "wrong"})
    assert assert_problem(bad, 401)["error"] == "invalid_grant"


def test_missing_wrong_and_expired_tokens_get_401(api: Api) -> None:
    assert_problem(api.client.get("/v1/stations"), 401)
    resp = api.client.get("/v1/stations", headers={"Authorization": "Bearer not-a-jwt"})
    assert assert_problem(resp, 401)["detail"] == "the bearer token is not valid"
    assert resp.headers["www-authenticate"] == "Bearer"
    forged = jwt.encode(
        {
            "iss": "openswap",
            "sub": "x",
            "role": "admin",
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
        },
        b"another-secret-of-at-least-32-bytes-long",
        algorithm="HS256",
    )
    assert_problem(
        api.client.get("/v1/stations", headers={"Authorization": f"Bearer {forged}"}), 401
    )
    expired = api.signer.issue(Actor("admin-client", Role.ADMIN), now=time.time() - 3600)
    resp = api.client.get(
        "/v1/stations", headers={"Authorization": f"Bearer {expired.access_token}"}
    )
    assert assert_problem(resp, 401)["detail"] == "the bearer token has expired"


def test_fleets_never_see_each_other(api: Api) -> None:
    body = {"vehicle_id": "v1", "station_id": "s1", "arrive_at": api.at(30)}
    rsv = api.post("fleet_a", "/v1/reservations", body).json()["reservation"]
    assert_problem(api.get("fleet_b", f"/v1/reservations/{rsv['id']}"), 404)
    assert api.get("fleet_b", "/v1/reservations").json()["items"] == []
    assert_problem(api.get("fleet_b", "/v1/vehicles/v1"), 404)
    assert {v["id"] for v in api.get("fleet_b", "/v1/vehicles").json()["items"]} == {"v3"}
    assert api.get("fleet_b", "/v1/vehicles", fleet_org_id="fleet-a").json()["items"] == []
    assert_problem(api.post("fleet_b", f"/v1/reservations/{rsv['id']}/cancel"), 403)
    other = {"vehicle_id": "v1", "station_id": "s2", "arrive_at": api.at(30)}
    assert_problem(api.post("fleet_b", "/v1/reservations", other), 403)

    swap = api.post("s1", "/v1/swaps", {"station_id": "s1", "bay_no": 1, "vehicle_id": "v1"})
    swap_id = swap.json()["id"]
    assert api.post("s1", f"/v1/swaps/{swap_id}/complete", {}).status_code == 200
    assert_problem(api.get("fleet_b", f"/v1/swaps/{swap_id}"), 404)
    assert_problem(api.get("fleet_b", f"/v1/swaps/{swap_id}/bill"), 404)
    assert api.get("fleet_b", "/v1/bills").json()["items"] == []
    assert api.get("fleet_a", "/v1/bills").json()["total"] == 1
    assert_problem(api.get("fleet_b", "/v1/packs/V1-1"), 404)
    assert api.get("s2", "/v1/bills").json()["items"] == []
    assert api.get("s1", "/v1/bills").json()["total"] == 1


def test_roles_and_stations_are_enforced(api: Api) -> None:
    start = {"station_id": "s1", "bay_no": 1, "vehicle_id": "v2"}
    assert_problem(api.post("s2", "/v1/swaps", start), 403)
    assert_problem(api.post("fleet_a", "/v1/swaps", start), 403)
    assert_problem(api.post("auditor", "/v1/swaps", start), 403)
    assert_problem(api.post("s2", "/v1/packs/P01/quarantine", {"reason": "x"}), 403)
    swap = api.post("s1", "/v1/swaps", start).json()
    assert_problem(api.post("s2", f"/v1/swaps/{swap['id']}/complete", {}), 403)
    assert_problem(api.get("s2", f"/v1/swaps/{swap['id']}"), 404)
    assert api.get("auditor", f"/v1/swaps/{swap['id']}").status_code == 200
    assert api.get("auditor", "/v1/reservations").json()["total"] == 1


def test_secrets_are_salted_scrypt_hashes() -> None:
    first, second = hash_secret("s3cret", n=2**10), hash_secret("s3cret", n=2**10)
    assert first != second
    assert first.startswith("scrypt$1024$")
    assert verify_secret("s3cret", first)
    assert not verify_secret("s3cret!", first)
    assert not verify_secret("s3cret", "plain$text")
    assert not verify_secret("x", "")
