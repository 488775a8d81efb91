"""Test databases on every backend, a manual clock, sequential ids, a small swap network and
the invariant checks the operations tests share.

SQLite runs always (one file per test session, emptied between tests); PostgreSQL runs when
OPENSWAP_TEST_POSTGRES_URL is set, in a uniquely named schema dropped at the end of the session.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from openswap.catalog import builtin_catalog
from openswap.domain.assets import Pack, SafetyState, Station, Vehicle
from openswap.services.model import (
    OPEN_RESERVATION_STATES,
    Actor,
    Custody,
    CustodyKind,
    Organisation,
    OrgRole,
    Role,
    StationRecord,
    SwapState,
    VehicleRecord,
    Warehouse,
)
from openswap.services.operations import OperationsContext
from openswap.services.ports import UnitOfWork
from openswap.services.seeding import seed_database
from openswap.storage import Base, build_engine, build_uow_factory

POSTGRES_ENV = "OPENSWAP_TEST_POSTGRES_URL"
T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 in Fujian (UTC+8): peak price

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


class ManualClock:
    """A clock tests move by hand (aware UTC)."""

    def __init__(self, start: datetime = T0) -> None:
        self.t = start

    def now(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


class SeqIds:
    """Ids `prefix` + a counter; thread-safe."""

    def __init__(self) -> None:
        self.n = 0
        self.lock = threading.Lock()

    def new_id(self, prefix: str) -> str:
        with self.lock:
            self.n += 1
            return f"{prefix}{self.n:06d}"


@dataclass
class Database:
    backend: str
    engine: Engine
    schema: str | None = None
    clock: ManualClock = field(default_factory=ManualClock)
    ids: SeqIds = field(default_factory=SeqIds)

    def reset(self) -> None:
        """Empty every table (fast enough to run per test and per Hypothesis example)."""
        tables = list(reversed(Base.metadata.sorted_tables))
        with self.engine.begin() as c:
            if self.backend == "postgres":
                names = ", ".join(t.name for t in tables)
                c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for t in tables:
                    c.execute(t.delete())
        self.clock = ManualClock()
        self.ids = SeqIds()

    def uow(self) -> UnitOfWork:
        return build_uow_factory(self.engine)()

    def ctx(self, **kwargs: object) -> OperationsContext:
        return OperationsContext(
            uow=build_uow_factory(self.engine),
            clock=self.clock,
            ids=self.ids,
            **kwargs,  # type: ignore[arg-type]
        )


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def open_backend(backend: str, tmp: Path) -> Iterator[Database]:
    """A migrated-by-metadata database for one test session on `backend`."""
    if backend == "sqlite":
        engine = build_engine(f"sqlite:///{tmp / 'ops.db'}")
        Base.metadata.create_all(engine)
        try:
            yield Database("sqlite", engine)
        finally:
            engine.dispose()
        return
    url = postgres_url()
    if url is None:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    schema = f"openswap_test_{uuid.uuid4().hex[:12]}"
    admin = build_engine(url)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = build_engine(url, connect_args={"options": f"-csearch_path={schema}"}, pool_size=20)
    try:
        Base.metadata.create_all(engine)
        yield Database("postgres", engine, schema)
    finally:
        engine.dispose()
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# --- a small network -------------------------------------------------------------------------

OPERATOR = "qiji-energy"
FLEET_A = "fleet-a"
FLEET_B = "fleet-b"
BANK = "battery-bank"
ADMIN = Actor("admin-client", Role.ADMIN)
FLEET_A_ACTOR = Actor("fleet-a-client", Role.FLEET, FLEET_A)
FLEET_B_ACTOR = Actor("fleet-b-client", Role.FLEET, FLEET_B)
OPERATOR_ACTOR = Actor("op-client", Role.OPERATOR, OPERATOR)
S1_DEVICE = Actor("s1-device", Role.STATION, OPERATOR, "s1")
QIJI = "catl-qiji-171-lfp"
STATION_DESIGN = "qiji-chassis-4000"
VEHICLE_MODEL = "deepway-xingtu-6x4-qiji"


def charged(serial: str, owner: str = BANK, soc: float = 0.95, **changes: object) -> Pack:
    model = builtin_catalog().pack_model(QIJI)
    fields: dict[str, object] = {
        "serial": serial,
        "model": model,
        "owner": owner,
        "soc": soc,
        "soh": 0.96,
        "cycle_count": 500,
        "safety_state": SafetyState.OK,
        "insulation_resistance_ohm": 2_000_000.0,
        "max_cell_temp_spread_c": 2.0,
    }
    fields.update(changes)
    return Pack(**fields)  # type: ignore[arg-type]


def build_network(db: Database, *, s1_slots: int = 6, s1_packs: int = 4) -> None:
    """Specs of the built-in catalog plus: operator, two fleets, a battery bank; stations s1
    (km 150) and s2 (km 310) on corridor g15 and s3 off it; vehicles v1 (2 packs, fleet A),
    v2 and v3 (1 pack, fleets A and B) with low packs; charged packs P01.. on s1, P10.. on s2;
    warehouse w1."""
    seed_database(db.uow(), builtin_catalog(assets=False), clock=db.clock)
    specs = builtin_catalog(assets=False)
    design = specs.station_design(STATION_DESIGN)
    vm = specs.vehicle_model(VEHICLE_MODEL)
    with db.uow() as uow:
        for oid, role in (
            (OPERATOR, OrgRole.OPERATOR),
            (FLEET_A, OrgRole.FLEET),
            (FLEET_B, OrgRole.FLEET),
            (BANK, OrgRole.BATTERY_OWNER),
        ):
            uow.organisations.add(
                Organisation(oid, oid.replace("-", " ").title(), frozenset({role}))
            )
        for sid, km, slots in (("s1", 150.0, s1_slots), ("s2", 310.0, 4), ("s3", None, 2)):
            uow.stations.add(
                StationRecord(
                    Station(sid, design, f"Station {sid}", (QIJI,)),
                    OPERATOR,
                    corridor="g15" if km is not None else None,
                    km=km,
                    direction="southbound",
                ),
                bays=2,
                slots=["gbt"] * slots,
            )
        uow.warehouses.add(Warehouse("w1", "Depot", OPERATOR))
        for vid, fleet, n in (("v1", FLEET_A, 2), ("v2", FLEET_A, 1), ("v3", FLEET_B, 1)):
            uow.vehicles.add(VehicleRecord(Vehicle(vid, vm, fleet, n)))
            for pos in range(1, n + 1):
                uow.packs.add(
                    charged(f"{vid.upper()}-{pos}", owner=BANK, soc=0.2),
                    Custody.in_vehicle(vid, pos),
                    db.clock.now(),
                )
        for i in range(s1_packs):
            uow.packs.add(
                charged(f"P0{i + 1}", soc=0.95 + 0.01 * i),
                Custody.in_slot("s1", i + 1),
                db.clock.now(),
            )
        for i in range(3):
            uow.packs.add(charged(f"P1{i}"), Custody.in_slot("s2", i + 1), db.clock.now())
        uow.commit()


# --- invariants ------------------------------------------------------------------------------


def check_invariants(db: Database, pack_count: int | None = None) -> None:
    """Every pack has exactly one custodian, no pack is held twice, started swaps and in-use
    reservations match, every bill total equals the sum of its lines."""
    with db.uow() as uow:
        packs = uow.packs.all()
        if pack_count is not None:
            assert len(packs) == pack_count
        places: Counter[tuple[object, ...]] = Counter()
        for p in packs:
            c = p.custody
            assert c.kind in CustodyKind
            set_fields = {k for k, v in c.to_dict().items() if k != "kind"}
            expected = {
                CustodyKind.VEHICLE: {"vehicle_id", "position_no"},
                CustodyKind.SLOT: {"station_id", "slot_no"},
                CustodyKind.BAY: {"station_id", "bay_no"},
                CustodyKind.SHIPMENT: {"shipment_id"},
                CustodyKind.WAREHOUSE: {"warehouse_id"},
                CustodyKind.RETIRED: set(),
            }[c.kind]
            assert set_fields == expected, (p.serial, c)
            assert c.kind is not CustodyKind.BAY, f"{p.serial} left on the robot"
            if c.kind in (CustodyKind.VEHICLE, CustodyKind.SLOT):
                places[(c.kind, c.vehicle_id, c.position_no, c.station_id, c.slot_no)] += 1
        assert all(n == 1 for n in places.values()), places
        open_res = uow.reservations.find(states=tuple(OPEN_RESERVATION_STATES))
        held = Counter(h.serial for r in open_res for h in r.holds)
        assert all(n == 1 for n in held.values()), held
        assert set(held) == uow.reservations.held_serials()
        by_serial = {p.serial: p for p in packs}
        for r in open_res:
            for h in r.holds:
                c = by_serial[h.serial].custody
                assert c.kind is CustodyKind.SLOT, (r.id, h, c)
                assert c.station_id == r.station_id, (r.id, h, c)
        started = [s for s in uow.swaps.find() if s.state is SwapState.STARTED]
        in_use = {r.id for r in open_res if r.state.value == "in_use"}
        assert {s.reservation_id for s in started} == in_use
        for bill in uow.bills.find():
            assert bill.total_fen == sum(line.amount_fen for line in bill.lines)
