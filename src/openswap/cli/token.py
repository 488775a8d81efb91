"""`openswap token create`: issue an API client (printing its id and secret once) and a token."""

from __future__ import annotations

import os
import uuid

import typer

from openswap.api.security import TokenSigner
from openswap.api.settings import api_settings
from openswap.cli.render import console
from openswap.services.auth import CreateApiClient, create_api_client
from openswap.services.model import SYSTEM_ACTOR, Actor, Role
from openswap.services.operations import OperationsContext
from openswap.storage import build_engine, build_uow_factory, database_url

app = typer.Typer(help="API clients and bearer tokens.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """API clients and bearer tokens."""


@app.command("create")
def create(
    role: Role = typer.Option(..., "--role", help="admin, operator, fleet, station or auditor"),
    org: str | None = typer.Option(None, "--org", help="organisation (operator, fleet)"),
    station: str | None = typer.Option(None, "--station", help="the station a device acts for"),
    ttl: int | None = typer.Option(
        None, "--ttl", min=1, max=7 * 24 * 3600, help="token lifetime, s (default: settings)"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print the token only"),
) -> None:
    """Create an API client with ROLE and print its credentials and a bearer token."""
    settings = api_settings(os.environ)
    engine = build_engine(database_url())
    try:
        ctx = OperationsContext(uow=build_uow_factory(engine))
        cmd = CreateApiClient(role, org, station, label="openswap token create")
        client = create_api_client(ctx, SYSTEM_ACTOR, cmd, f"cli-{uuid.uuid4()}")
    finally:
        engine.dispose()
    actor = Actor(client.client_id, client.role, client.org_id, client.station_id)
    token = TokenSigner(settings).issue(actor, ttl)
    if quiet:
        typer.echo(token.access_token)
        return
    console().print(f"client_id     {client.client_id}", highlight=False)
    console().print(f"client_secret {client.client_secret}", highlight=False)
    console().print(
        f"role          {client.role}  org {client.org_id}  station {client.station_id}"
    )
    console().print(f"expires_in    {token.expires_in} s", highlight=False)
    typer.echo(token.access_token)
