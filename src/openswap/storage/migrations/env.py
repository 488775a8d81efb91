"""Alembic environment of openswap: migrates the database named in the Alembic config.

The URL comes from the config's `sqlalchemy.url` (set by `openswap.storage.migrate`), else
from `OPENSWAP_DATABASE_URL`, else the default SQLite file. A caller may instead hand over an
open connection in `config.attributes["connection"]` (tests migrate inside their own schema).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from openswap.storage.engine import build_engine, database_url
from openswap.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or database_url()


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER via table copies
        compare_type=True,
    )


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _configure(given)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = build_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
