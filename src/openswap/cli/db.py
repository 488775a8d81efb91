"""`openswap db`: migrate the operations database and seed it (catalog, demo network)."""

from __future__ import annotations

import typer

from openswap.catalog import builtin_catalog
from openswap.cli.render import console
from openswap.services.seeding import seed_database
from openswap.storage import build_engine, build_uow_factory, database_url, upgrade

app = typer.Typer(help="Migrate and seed the operations database.", no_args_is_help=True)

DB_OPTION = typer.Option(
    None, "--database-url", help="database URL (default: OPENSWAP_DATABASE_URL or ./openswap.db)"
)


@app.command("upgrade")
def upgrade_cmd(url: str | None = DB_OPTION) -> None:
    """Apply every schema migration (alembic upgrade head)."""
    target = url or database_url()
    upgrade(target)
    console().print(f"database at [bold]{_redact(target)}[/] is up to date")


@app.command("seed")
def seed_cmd(
    demo: bool = typer.Option(
        False, "--demo", help="also the demo network: Ningde–Xiamen stations, packs, a fleet"
    ),
    url: str | None = DB_OPTION,
) -> None:
    """Store the built-in catalog (and the demo network); re-running adds only what is missing."""
    target = url or database_url()
    upgrade(target)
    engine = build_engine(target)
    try:
        report = seed_database(build_uow_factory(engine)(), builtin_catalog(assets=demo), demo=demo)
    finally:
        engine.dispose()
    console().print(
        f"seeded: {report.specs} specifications, {report.organisations} organisations, "
        f"{report.stations} stations, {report.warehouses} warehouses, "
        f"{report.vehicles} vehicles, {report.packs} packs"
    )


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
