"""Database fixtures of the OCPP tests: SQLite always, PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.storage.support import BACKENDS, Database, open_backend


@pytest.fixture(scope="session", params=BACKENDS)
def session_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    yield from open_backend(request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture
def db(session_db: Database) -> Database:
    session_db.reset()
    return session_db
