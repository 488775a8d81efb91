"""Schemathesis against the served OpenAPI, in process, as the admin: for every operation a
few generated requests (valid and invalid); no answer may be a 5xx and every answer must match
the documented schema (status, content type, body). Bounded: a handful of examples each.

One app serves every test; each test points it at a fresh network on its backend.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from openswap.api.app import build_api
from openswap.api.security import TokenSigner
from openswap.api.settings import ApiSettings
from openswap.services.health import HealthService
from openswap.services.operations import OperationsContext
from openswap.storage import SqlTelemetryStore
from tests.api.conftest import ROLES, SECRET
from tests.storage.support import Database, build_network


def _unset() -> object:
    raise RuntimeError("the test points the app at its database first")


SETTINGS = ApiSettings(jwt_secret=SECRET)
APP = build_api(OperationsContext(uow=_unset), SETTINGS)  # type: ignore[arg-type]
TOKEN = TokenSigner(SETTINGS).issue(ROLES["admin"], ttl_s=3600).access_token
# The ledger routes need the ledger's own wiring (app.state.ledger); their suite covers them.
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(
    path_regex=r"^/v1/(ledger|passports)"
)


@pytest.fixture
def network(db: Database) -> Database:
    build_network(db)
    APP.state.ops = db.ctx()
    APP.state.health = HealthService(db.ctx(), SqlTelemetryStore(db.engine))
    return db


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_responses_match_the_schema(
    case: schemathesis.Case[Any], network: Database
) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"},
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
        ],
    )
