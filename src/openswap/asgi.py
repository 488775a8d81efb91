"""Composition root of the server: settings from the environment, the database engine, the
operations and ledger contexts, the REST API and the OCPP central system (`/ocpp/{station_id}`).
Run with `openswap serve`, or `uvicorn --factory openswap.asgi:app`.

Environment: `OPENSWAP_DATABASE_URL` (default: SQLite `./openswap.db`; migrate first with
`openswap db upgrade`), the token settings of `openswap.api.settings` (`OPENSWAP_JWT_SECRET` or a
key file, `OPENSWAP_TOKEN_TTL_S`) and `OPENSWAP_LEDGER_ORIGIN` (the log's origin line). The
server only reads the ledger (checkpoints, entries, proofs, passports), so it never holds the
key-encryption key that signing needs; `openswap ledger relay` does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import FastAPI

from openswap.api.app import build_api
from openswap.api.settings import LEDGER_ORIGIN_ENV, ApiSettings, api_settings
from openswap.ocpp.endpoint import OcppSettings, add_ocpp_routes
from openswap.services.health import HealthService
from openswap.services.ledger import DEFAULT_ORIGIN, LedgerContext
from openswap.services.operations import OperationsContext
from openswap.storage import build_engine, build_uow_factory, database_url
from openswap.storage.ledger import build_ledger_uow_factory
from openswap.storage.notify import PgCommandChannel
from openswap.storage.telemetry import SqlTelemetryStore


@dataclass(frozen=True, slots=True)
class ServerSettings:
    database_url: str
    api: ApiSettings
    ledger_origin: str = DEFAULT_ORIGIN


def settings_from_env(environ: Mapping[str, str] | None = None) -> ServerSettings:
    env = os.environ if environ is None else environ
    origin = env.get(LEDGER_ORIGIN_ENV, "").strip() or DEFAULT_ORIGIN
    return ServerSettings(database_url(env), api_settings(env), origin)


def build_app(settings: ServerSettings) -> FastAPI:
    """Engine, the operations, ledger and health services, the API and OCPP for `settings`."""
    engine = build_engine(settings.database_url)
    ctx = OperationsContext(uow=build_uow_factory(engine))
    api = build_api(ctx, settings.api, on_shutdown=engine.dispose)
    api.state.ledger = LedgerContext(
        uow=build_ledger_uow_factory(engine), origin=settings.ledger_origin
    )
    api.state.health = HealthService(ctx, SqlTelemetryStore(engine))
    # Several workers on PostgreSQL route commands to the worker holding a station's socket
    # through LISTEN/NOTIFY; on SQLite there is one worker and nothing to route.
    channel = (
        PgCommandChannel(settings.database_url)
        if settings.database_url.startswith("postgresql")
        else None
    )
    add_ocpp_routes(api, ctx, OcppSettings(channel=channel))
    return api


def app() -> FastAPI:
    """The ASGI application from the environment (a factory: `uvicorn --factory`)."""
    return build_app(settings_from_env())
