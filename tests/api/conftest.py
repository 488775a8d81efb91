"""An API over the test network of tests/storage/support.py, on every backend, with bearer
tokens for each role of the network and an in-process client."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from openswap.api.app import build_api
from openswap.api.security import TokenSigner
from openswap.api.settings import ApiSettings
from openswap.services.model import Actor, Role
from tests.storage.support import (
    ADMIN,
    FLEET_A_ACTOR,
    FLEET_B_ACTOR,
    OPERATOR,
    OPERATOR_ACTOR,
    S1_DEVICE,
    Database,
    build_network,
)

with warnings.catch_warnings():
    # starlette asks for `httpx2`, which is not a dependency; the client works with httpx.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SECRET = b"test-secret-of-at-least-thirty-two-bytes!"
AUDITOR = Actor("auditor-client", Role.AUDITOR)
S2_DEVICE = Actor("s2-device", Role.STATION, OPERATOR, "s2")
ROLES = {
    "admin": ADMIN,
    "fleet_a": FLEET_A_ACTOR,
    "fleet_b": FLEET_B_ACTOR,
    "operator": OPERATOR_ACTOR,
    "s1": S1_DEVICE,
    "s2": S2_DEVICE,
    "auditor": AUDITOR,
}


@dataclass
class Api:
    """A client and a token per role; `as_(role)` gives the headers of that role."""

    db: Database
    app: FastAPI
    client: TestClient
    signer: TokenSigner

    def headers(self, role: str, key: str | None = None) -> dict[str, str]:
        token = self.signer.issue(ROLES[role]).access_token
        out = {"Authorization": f"Bearer {token}"}
        if key is not None:
            out["Idempotency-Key"] = key
        return out

    def post(self, role: str, path: str, json: Any = None, key: str | None = None) -> Any:
        return self.client.post(
            path, json=json, headers=self.headers(role, key or str(uuid.uuid4()))
        )

    def get(self, role: str, path: str, **params: Any) -> Any:
        return self.client.get(path, headers=self.headers(role), params=params)

    def at(self, minutes: float) -> str:
        """An RFC 3339 time `minutes` after the test clock's now."""
        t: datetime = self.db.clock.now() + timedelta(minutes=minutes)
        return t.isoformat()


def make_api(db: Database) -> Api:
    settings = ApiSettings(jwt_secret=SECRET, token_ttl_s=600)
    app = build_api(db.ctx(), settings)
    return Api(db, app, TestClient(app, raise_server_exceptions=False), TokenSigner(settings))


@pytest.fixture
def api(db: Database) -> Iterator[Api]:
    build_network(db)
    made = make_api(db)
    with made.client:
        yield made


def assert_problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "instance"} <= set(body)
    return body
