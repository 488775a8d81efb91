"""Engine settings per backend and the URL taken from the environment."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from openswap.catalog import builtin_catalog
from openswap.services.model import Custody
from openswap.storage import build_engine, database_url
from openswap.storage.models import UtcDateTime
from tests.storage.support import Database, build_network, charged


def test_database_url_defaults_to_a_local_sqlite_file() -> None:
    assert database_url({}) == "sqlite:///openswap.db"
    assert database_url({"OPENSWAP_DATABASE_URL": "  "}) == "sqlite:///openswap.db"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_database_url_gives_postgres_the_psycopg_driver(scheme: str) -> None:
    env = {"OPENSWAP_DATABASE_URL": f"{scheme}://u@h:5432/db"}
    assert database_url(env) == "postgresql+psycopg://u@h:5432/db"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as c:
            assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        UtcDateTime().process_bind_param(datetime(2025, 1, 1), build_engine("sqlite://").dialect)


def test_specs_round_trip_through_the_database(db: Database) -> None:
    build_network(db)
    with db.uow() as uow:
        stored = uow.catalog.specs()
    expected = builtin_catalog(assets=False)
    for kind in ("frames", "pack_models", "vehicle_models", "station_designs", "adapters"):
        assert dict(getattr(stored, kind)) == dict(getattr(expected, kind)), kind


def test_packs_and_custody_round_trip(db: Database) -> None:
    build_network(db)
    with db.uow() as uow:
        uow.packs.add(charged("RT-1", soc=0.5), Custody.in_warehouse("w1"), db.clock.now())
        uow.commit()
    with db.uow() as uow:
        rec = uow.packs.get("RT-1")
        assert rec is not None
        assert rec.pack == charged("RT-1", soc=0.5)
        assert rec.custody == Custody.in_warehouse("w1")
        assert rec.custody_since == db.clock.now()
        assert [p.serial for p in uow.packs.in_vehicle("v1")] == ["V1-1", "V1-2"]
        assert [p.custody.slot_no for p in uow.packs.at_station("s1")] == [1, 2, 3, 4]
