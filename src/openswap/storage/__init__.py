"""Persistence: SQLAlchemy 2 + Alembic, the only place SQL is spoken (SQLite or PostgreSQL).

Wiring (composition roots only):

    engine = build_engine()                  # OPENSWAP_DATABASE_URL or ./openswap.db
    upgrade()                                # alembic upgrade head
    uow_factory = build_uow_factory(engine)  # services.ports.UnitOfWorkFactory
"""

from openswap.storage.engine import build_engine, build_session_factory, database_url
from openswap.storage.migrate import current_revision, head_revision, upgrade
from openswap.storage.models import Base
from openswap.storage.telemetry import SqlTelemetryStore
from openswap.storage.uow import SqlUnitOfWork, build_uow_factory

__all__ = [
    "Base",
    "SqlTelemetryStore",
    "SqlUnitOfWork",
    "build_engine",
    "build_session_factory",
    "build_uow_factory",
    "current_revision",
    "database_url",
    "head_revision",
    "upgrade",
]
