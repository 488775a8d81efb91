"""Alembic migrations: `upgrade head` on an empty database matches the models exactly, and the
schema itself refuses states that break custody, hold and swap invariants."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from openswap.storage import Base, build_engine, current_revision, head_revision
from openswap.storage.migrate import alembic_config, upgrade, upgrade_connection
from tests.storage.support import POSTGRES_ENV, postgres_url

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database (a fresh SQLite file or a fresh PostgreSQL schema)."""
    if request.param == "sqlite":
        engine = build_engine(f"sqlite:///{tmp_path / 'm.db'}")
        yield engine
        engine.dispose()
        return
    url = postgres_url()
    if url is None:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    schema = f"openswap_mig_{uuid.uuid4().hex[:12]}"
    admin = build_engine(url)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = build_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _migrate(engine: Engine) -> None:
    with engine.begin() as connection:
        upgrade_connection(connection)


def test_upgrade_head_matches_the_models(empty_engine: Engine) -> None:
    assert current_revision(empty_engine) is None
    _migrate(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    with empty_engine.connect() as connection:
        ctx = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []
    tables = set(inspect(empty_engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


def test_downgrade_to_base_removes_every_table(empty_engine: Engine) -> None:
    _migrate(empty_engine)
    with empty_engine.begin() as connection:
        config = alembic_config(connection=connection)
        command.downgrade(config, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}


def test_upgrade_by_url_creates_the_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'by-url.db'}"
    upgrade(url)
    engine = build_engine(url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def _insert_station(c: Connection) -> None:
    c.execute(text("INSERT INTO frame_standards VALUES ('f', 'F', 'chassis', '{}')"))
    c.execute(text("INSERT INTO pack_models VALUES ('pm', 'M', 'f', 100, '{}')"))
    c.execute(text("INSERT INTO station_designs VALUES ('d', 'chassis', 1, 2, '{}')"))
    c.execute(text("INSERT INTO organisations VALUES ('o', 'O')"))
    c.execute(
        text(
            "INSERT INTO stations VALUES ('s', 'S', 'd', 'o', NULL, NULL, NULL, 480, 't', 0.3, "
            "0.25, '[]', '[]')"
        )
    )
    c.execute(text("INSERT INTO rack_slots (id, station_id, number) VALUES (1, 's', 1)"))


def _insert_pack(c: Connection, serial: str, kind: str, slot_id: int | None) -> None:
    c.execute(
        text(
            "INSERT INTO packs (serial, model_id, owner_org_id, soc, soh, cycle_count, "
            "safety_state, insulation_resistance_ohm, max_cell_temp_spread_c, custody_kind, "
            "slot_id, custody_since) VALUES (:s, 'pm', 'o', 0.5, 0.9, 0, 'ok', 1e6, 1, :k, "
            ":slot, :t)"
        ),
        {"s": serial, "k": kind, "slot": slot_id, "t": NOW.replace(tzinfo=None)},
    )


@pytest.mark.parametrize(
    ("kind", "slot_id"),
    [("slot", None), ("retired", 1), ("warehouse", None), ("nowhere", None)],
    ids=["slot-without-slot", "retired-in-a-slot", "warehouse-without-id", "unknown-kind"],
)
def test_schema_refuses_a_pack_without_exactly_one_custodian(
    empty_engine: Engine, kind: str, slot_id: int | None
) -> None:
    _migrate(empty_engine)
    with empty_engine.connect() as c, c.begin():
        _insert_station(c)
    with pytest.raises(IntegrityError), empty_engine.begin() as c:
        _insert_pack(c, "X1", kind, slot_id)


def test_schema_refuses_two_packs_in_one_slot_and_a_double_hold(empty_engine: Engine) -> None:
    _migrate(empty_engine)
    with empty_engine.begin() as c:
        _insert_station(c)
        _insert_pack(c, "A", "slot", 1)
        _insert_pack(c, "B", "retired", None)
    with pytest.raises(IntegrityError), empty_engine.begin() as c:
        _insert_pack(c, "C", "slot", 1)
    with empty_engine.begin() as c:
        c.execute(text("INSERT INTO vehicle_models VALUES ('vm', 'O', 'chassis', 1, '{}')"))
        c.execute(
            text(
                "INSERT INTO vehicles VALUES ('v1', 'vm', 'o', 1, '[]'), ('v2', 'vm', 'o', 1, '[]')"
            )
        )
        for rid, vid in (("r1", "v1"), ("r2", "v2")):
            c.execute(
                text(
                    "INSERT INTO reservations (id, fleet_org_id, vehicle_id, station_id, walk_in, "
                    "arrive_at, expires_at, state, created_at, open_vehicle_id) VALUES "
                    "(:r, 'o', :v, 's', false, :t, :t, 'active', :t, :v)"
                ),
                {"r": rid, "v": vid, "t": NOW.replace(tzinfo=None)},
            )
        c.execute(
            text(
                "INSERT INTO reservation_holds (reservation_id, position_no, pack_serial, "
                "held_serial) VALUES ('r1', 1, 'A', 'A')"
            )
        )
    with pytest.raises(IntegrityError), empty_engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO reservation_holds (reservation_id, position_no, pack_serial, "
                "held_serial) VALUES ('r2', 1, 'A', 'A')"
            )
        )
