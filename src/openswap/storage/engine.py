"""Engines and sessions: SQLite (default, a WAL-mode file) or PostgreSQL through psycopg 3.

SQLite: foreign keys on, WAL journal, a busy timeout, and every write transaction opened with
BEGIN IMMEDIATE, so writers are serialised from their first statement (no lost updates, no
upgrade deadlocks); read-only units of work open a deferred transaction.
PostgreSQL: READ COMMITTED; use cases lock the rows they change (SELECT ... FOR UPDATE).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

DATABASE_URL_ENV = "OPENSWAP_DATABASE_URL"
DEFAULT_SQLITE_FILE = "openswap.db"
READ_ONLY_OPTION = "openswap_read_only"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """The database URL: `OPENSWAP_DATABASE_URL`, else the SQLite file `./openswap.db`.

    A `postgresql://` or `postgres://` URL is given the psycopg 3 driver.
    """
    env = os.environ if environ is None else environ
    url = env.get(DATABASE_URL_ENV, "").strip()
    if not url:
        return f"sqlite:///{DEFAULT_SQLITE_FILE}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's `begin` event issue BEGIN itself (pysqlite's implicit BEGIN is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # durable across crashes of the process
    finally:
        cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(READ_ONLY_OPTION):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def build_engine(url: str | None = None, *, echo: bool = False, **kwargs: Any) -> Engine:
    """An engine for `url` (default: `database_url()`), with the per-backend settings above.

    Extra keyword arguments go to `sqlalchemy.create_engine` (e.g. `connect_args`).
    """
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, echo=echo, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, echo=echo, **kwargs)
    return create_engine(url, echo=echo, **kwargs)


def build_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (results are read after the commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
