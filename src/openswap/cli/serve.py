"""`openswap serve`: the REST API and the OCPP central system under uvicorn (`openswap.asgi`)."""

from __future__ import annotations

import os

import typer
import uvicorn

from openswap.api.settings import jwt_secret
from openswap.catalog import builtin_catalog
from openswap.cli.render import console
from openswap.services.seeding import seed_database
from openswap.storage import build_engine, build_uow_factory, database_url, upgrade


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="processes; more than one needs PostgreSQL"
    ),
    migrate: bool = typer.Option(True, "--migrate/--no-migrate", help="alembic upgrade first"),
    demo: bool = typer.Option(False, "--demo", help="seed the catalog and the demo network"),
    ssl_certfile: str | None = typer.Option(
        None, "--ssl-certfile", help="TLS certificate (OCPP security profile 2; HTTPS for the API)"
    ),
    ssl_keyfile: str | None = typer.Option(None, "--ssl-keyfile", help="TLS private key"),
) -> None:
    """Serve the operations API and the OCPP 2.1 / 2.0.1 central system.

    The REST API is under /v1 (OpenAPI at /openapi.json, docs at /docs); swap stations connect to
    the websocket /ocpp/{station_id} with HTTP basic auth (TLS with --ssl-certfile/--ssl-keyfile).
    """
    url = database_url()
    if migrate or demo:
        upgrade(url)
    if demo:
        engine = build_engine(url)
        try:
            seed_database(build_uow_factory(engine)(), builtin_catalog(assets=True), demo=True)
        finally:
            engine.dispose()
    if workers > 1 and url.startswith("sqlite"):
        console().print("[yellow]warning:[/] several workers on one SQLite file serialise writes")
    jwt_secret(os.environ)  # create the key file once, before the workers start
    uvicorn.run(
        "openswap.asgi:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
    )
