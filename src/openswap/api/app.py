"""`build_api(ctx, settings)`: the FastAPI application over an operations context.

OpenAPI is served at `/openapi.json`, interactive docs at `/docs`. Error answers are
documented as `application/problem+json` with the `Problem` schema.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from openswap import __version__
from openswap.api.problems import PROBLEM_MEDIA_TYPE, Problem, install_problem_handlers
from openswap.api.routers import ROUTERS
from openswap.api.security import TokenSigner
from openswap.api.settings import ApiSettings
from openswap.services.operations import OperationsContext

DESCRIPTION = """\
Operations of an open, cross-brand battery-swap network for electric heavy trucks:
catalog, assets, compatibility checks, reservations, swap transactions with exact pack
custody, bills. Authenticate with `POST /v1/token` (OAuth2 client credentials) and send
`Authorization: Bearer <token>`. Every mutating request needs an `Idempotency-Key` header:
a retry with the same key and body returns the first result. Errors are RFC 9457 problem
details.
"""


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    # FastAPI's own validation-error schemas are never sent: every error is a problem.
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status.startswith(("4", "5")) and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    app.openapi_schema = schema
    return schema


def build_api(
    ctx: OperationsContext,
    settings: ApiSettings,
    *,
    on_shutdown: Callable[[], None] | None = None,
) -> FastAPI:
    """The REST API over `ctx`, signing tokens with `settings`; routers from `ROUTERS`.
    `on_shutdown` runs when the server stops (the composition root releases its engine)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if on_shutdown is not None:
            on_shutdown()

    app = FastAPI(
        title=settings.title, version=__version__, description=DESCRIPTION, lifespan=lifespan
    )
    app.state.ops = ctx
    app.state.signer = TokenSigner(settings)
    app.state.settings = settings
    install_problem_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
