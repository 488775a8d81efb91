"""SQLAlchemy repositories implementing `services.ports`: rows in, records and domain objects out.

Each repository works inside the session of one `SqlUnitOfWork`. `for_update=True` issues
SELECT ... FOR UPDATE (PostgreSQL; SQLite already serialises writers with BEGIN IMMEDIATE).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, aliased

from openswap.domain.assets import Pack, SafetyState, Station, Vehicle
from openswap.domain.catalog import Catalog
from openswap.domain.errors import ConflictError, NotFoundError
from openswap.domain.specs import FrameStandard, PackModel, StationDesign, VehicleModel
from openswap.services.model import (
    OPEN_RESERVATION_STATES,
    ApiClientRecord,
    BillLine,
    BillLineKind,
    BillRecord,
    CatalogCounts,
    Custody,
    CustodyKind,
    Hold,
    IdempotencyRecord,
    Organisation,
    OrgRole,
    OutboxEvent,
    PackRecord,
    ReservationRecord,
    ReservationState,
    Role,
    ShipmentRecord,
    ShipmentState,
    SlotView,
    StationRecord,
    SwapLine,
    SwapRecord,
    SwapState,
    UserRecord,
    VehicleRecord,
    Warehouse,
)
from openswap.services.ports import Spec
from openswap.storage import codec
from openswap.storage.models import (
    AdapterRow,
    ApiClientRow,
    BayRow,
    BillLineRow,
    BillRow,
    FrameRow,
    HoldRow,
    IdempotencyRow,
    OrganisationRoleRow,
    OrganisationRow,
    OutboxRow,
    PackModelRow,
    PackRow,
    PositionRow,
    ReservationRow,
    ShipmentRow,
    SlotRow,
    StationDesignRow,
    StationRow,
    SwapLineRow,
    SwapRow,
    UserRow,
    VehicleModelRow,
    VehicleRow,
    WarehouseRow,
)


class CatalogCache:
    """The stored specifications, shared by the units of work of one factory.

    Specifications are immutable once stored (a changed one gets a new id), so an entry read
    once stays right; an id the cache does not hold yet (defined since, perhaps by another
    worker) makes the asking unit of work read the catalog again. Only catalogs read by
    units of work that defined nothing are published, so an uncommitted entry never leaks.
    """

    def __init__(self) -> None:
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()

    def get(self) -> Catalog | None:
        return self._catalog

    def publish(self, catalog: Catalog) -> None:
        with self._lock:
            self._catalog = catalog


class CatalogRepo:
    def __init__(self, session: Session, cache: CatalogCache | None = None) -> None:
        self.s = session
        self._specs: Catalog | None = None
        self._cache = cache
        self._defined = False

    def resolved(self, **wanted: Iterable[str]) -> Catalog:
        """A catalog holding every id asked for (`station_designs=[...]`, `adapters=[...]`,
        any `Catalog` mapping): the shared cache when it holds them all, else `specs()`."""
        if self._specs is None and self._cache is not None and not self._defined:
            cached = self._cache.get()
            if cached is not None and all(
                i in getattr(cached, table) for table, ids in wanted.items() for i in ids
            ):
                return cached
        return self.specs()

    def add(self, spec: Spec) -> None:
        self._specs = None
        self._defined = True
        if isinstance(spec, FrameStandard):
            self.s.add(
                FrameRow(
                    id=spec.id,
                    name=spec.name,
                    mount=str(spec.mount),
                    spec=codec.frame_to_json(spec),
                )
            )
        elif isinstance(spec, PackModel):
            self.s.add(
                PackModelRow(
                    id=spec.id,
                    maker=spec.maker,
                    frame_id=spec.frame.id,
                    usable_energy_kwh=spec.usable_energy_kwh,
                    spec=codec.pack_model_to_json(spec),
                )
            )
        elif isinstance(spec, VehicleModel):
            self.s.add(
                VehicleModelRow(
                    id=spec.id,
                    oem=spec.oem,
                    mount=str(spec.mount),
                    pack_positions=spec.pack_positions,
                    spec=codec.vehicle_model_to_json(spec),
                )
            )
        elif isinstance(spec, StationDesign):
            self.s.add(
                StationDesignRow(
                    id=spec.id,
                    swap_type=str(spec.swap_type),
                    bays=spec.bays,
                    slots=spec.slots,
                    spec=codec.station_design_to_json(spec),
                )
            )
        else:
            self.s.add(
                AdapterRow(
                    id=spec.id,
                    kind=str(spec.kind),
                    from_id=spec.from_id,
                    to_id=spec.to_id,
                    spec=codec.adapter_to_json(spec),
                )
            )
        self.s.flush()

    def specs(self) -> Catalog:
        if self._specs is not None:
            return self._specs
        i = codec.INTERNER
        frames: dict[str, FrameStandard] = {}
        frame_json: dict[str, dict[str, Any]] = {}
        for fr in self.s.scalars(select(FrameRow)):
            frames[fr.id] = i.get("frame", fr.spec, partial(codec.frame_from_json, fr.spec))
            frame_json[fr.id] = fr.spec
        pack_models: dict[str, PackModel] = {}
        for pr in self.s.scalars(select(PackModelRow)):
            frame = frames[pr.frame_id]
            key = {**pr.spec, "frame": frame_json[pr.frame_id]}
            build = partial(codec.pack_model_from_json, pr.spec, frame)
            pack_models[pr.id] = i.get("pack_model", key, build)
        vehicle_models = {
            r.id: i.get("vehicle_model", r.spec, partial(codec.vehicle_model_from_json, r.spec))
            for r in self.s.scalars(select(VehicleModelRow))
        }
        designs = {
            r.id: i.get("station_design", r.spec, partial(codec.station_design_from_json, r.spec))
            for r in self.s.scalars(select(StationDesignRow))
        }
        adapters = {
            r.id: i.get("adapter", r.spec, partial(codec.adapter_from_json, r.spec))
            for r in self.s.scalars(select(AdapterRow))
        }
        self._specs = Catalog(
            frames=frames,
            pack_models=pack_models,
            vehicle_models=vehicle_models,
            station_designs=designs,
            adapters=adapters,
        )
        if self._cache is not None and not self._defined:
            self._cache.publish(self._specs)
        return self._specs

    def counts(self) -> CatalogCounts:
        def n(model: Any) -> int:
            return int(self.s.scalar(select(func.count()).select_from(model)) or 0)

        return CatalogCounts(
            frames=n(FrameRow),
            pack_models=n(PackModelRow),
            vehicle_models=n(VehicleModelRow),
            station_designs=n(StationDesignRow),
            adapters=n(AdapterRow),
        )


class OrganisationRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, org: Organisation) -> None:
        self.s.add(OrganisationRow(id=org.id, name=org.name))
        self.s.flush()
        for role in sorted(org.roles):
            self.s.add(OrganisationRoleRow(org_id=org.id, role=str(role)))
        self.s.flush()

    def _roles(self, org_id: str) -> frozenset[OrgRole]:
        rows = self.s.scalars(
            select(OrganisationRoleRow.role).where(OrganisationRoleRow.org_id == org_id)
        )
        return frozenset(OrgRole(r) for r in rows)

    def get(self, org_id: str) -> Organisation | None:
        row = self.s.get(OrganisationRow, org_id)
        if row is None:
            return None
        return Organisation(row.id, row.name, self._roles(row.id))

    def find(self) -> list[Organisation]:
        rows = self.s.scalars(select(OrganisationRow).order_by(OrganisationRow.id))
        return [Organisation(r.id, r.name, self._roles(r.id)) for r in rows]


class UserRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, user: UserRecord) -> None:
        self.s.add(
            UserRow(
                id=user.id,
                org_id=user.org_id,
                username=user.username,
                password_hash=user.password_hash,
                role=str(user.role),
                active=user.active,
            )
        )
        self.s.flush()

    def by_username(self, username: str) -> UserRecord | None:
        row = self.s.scalar(select(UserRow).where(UserRow.username == username))
        if row is None:
            return None
        return UserRecord(
            row.id, row.org_id, row.username, row.password_hash, Role(row.role), row.active
        )


class ApiClientRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, client: ApiClientRecord) -> None:
        self.s.add(
            ApiClientRow(
                client_id=client.client_id,
                org_id=client.org_id,
                secret_hash=client.secret_hash,
                role=str(client.role),
                station_id=client.station_id,
                active=client.active,
            )
        )
        self.s.flush()

    def get(self, client_id: str) -> ApiClientRecord | None:
        row = self.s.get(ApiClientRow, client_id)
        if row is None:
            return None
        return ApiClientRecord(
            row.client_id, row.org_id, row.secret_hash, Role(row.role), row.station_id, row.active
        )


class StationRepo:
    def __init__(self, session: Session, catalog: CatalogRepo) -> None:
        self.s = session
        self.catalog = catalog

    def add(self, record: StationRecord, *, bays: int, slots: Sequence[str | None]) -> None:
        st = record.station
        self.s.add(
            StationRow(
                id=st.id,
                name=st.name,
                design_id=st.design.id,
                operator_org_id=record.operator_org_id,
                corridor=record.corridor,
                km=record.km,
                direction=record.direction,
                utc_offset_min=record.utc_offset_min,
                tariff=record.tariff,
                service_fee_cny_per_kwh=record.service_fee_cny_per_kwh,
                battery_fee_cny_per_kwh=record.battery_fee_cny_per_kwh,
                stocked_models=list(st.stocked_models),
                adapter_ids=[a.id for a in st.adapters],
            )
        )
        self.s.flush()
        self.s.add_all(BayRow(station_id=st.id, number=n) for n in range(1, bays + 1))
        self.s.add_all(
            SlotRow(station_id=st.id, number=n, charger_standard=std)
            for n, std in enumerate(slots, start=1)
        )
        self.s.flush()

    def _record(self, row: StationRow) -> StationRecord:
        specs = self.catalog.resolved(
            station_designs=(row.design_id,), adapters=tuple(row.adapter_ids)
        )
        station = Station(
            id=row.id,
            design=specs.station_design(row.design_id),
            name=row.name,
            stocked_models=tuple(row.stocked_models),
            adapters=tuple(specs.adapter(a) for a in row.adapter_ids),
        )
        return StationRecord(
            station=station,
            operator_org_id=row.operator_org_id,
            corridor=row.corridor,
            km=row.km,
            direction=row.direction,
            utc_offset_min=row.utc_offset_min,
            tariff=row.tariff,
            service_fee_cny_per_kwh=row.service_fee_cny_per_kwh,
            battery_fee_cny_per_kwh=row.battery_fee_cny_per_kwh,
        )

    def get(self, station_id: str, *, for_update: bool = False) -> StationRecord | None:
        q = select(StationRow).where(StationRow.id == station_id)
        if for_update:
            q = q.with_for_update()
        row = self.s.scalar(q)
        return None if row is None else self._record(row)

    def find(
        self, *, corridor: str | None = None, operator_org_id: str | None = None
    ) -> list[StationRecord]:
        q = select(StationRow).order_by(StationRow.id)
        if corridor is not None:
            q = q.where(StationRow.corridor == corridor)
        if operator_org_id is not None:
            q = q.where(StationRow.operator_org_id == operator_org_id)
        return [self._record(r) for r in self.s.scalars(q)]

    def slots(self, station_id: str) -> list[SlotView]:
        q = (
            select(SlotRow.number, SlotRow.charger_standard, PackRow.serial)
            .outerjoin(PackRow, PackRow.slot_id == SlotRow.id)
            .where(SlotRow.station_id == station_id)
            .order_by(SlotRow.number)
        )
        return [SlotView(n, std, serial) for n, std, serial in self.s.execute(q)]

    def bay_numbers(self, station_id: str) -> list[int]:
        q = select(BayRow.number).where(BayRow.station_id == station_id).order_by(BayRow.number)
        return list(self.s.scalars(q))


class VehicleRepo:
    def __init__(self, session: Session, catalog: CatalogRepo) -> None:
        self.s = session
        self.catalog = catalog

    def add(self, record: VehicleRecord) -> None:
        v = record.vehicle
        self.s.add(
            VehicleRow(
                id=v.id,
                model_id=v.model.id,
                fleet_org_id=v.fleet,
                pack_count=v.pack_count,
                adapter_ids=[a.id for a in v.adapters],
            )
        )
        self.s.flush()
        self.s.add_all(PositionRow(vehicle_id=v.id, number=n) for n in range(1, v.pack_count + 1))
        self.s.flush()

    def _record(self, row: VehicleRow) -> VehicleRecord:
        specs = self.catalog.resolved(
            vehicle_models=(row.model_id,), adapters=tuple(row.adapter_ids)
        )
        return VehicleRecord(
            Vehicle(
                id=row.id,
                model=specs.vehicle_model(row.model_id),
                fleet=row.fleet_org_id,
                pack_count=row.pack_count,
                adapters=tuple(specs.adapter(a) for a in row.adapter_ids),
            )
        )

    def get(self, vehicle_id: str, *, for_update: bool = False) -> VehicleRecord | None:
        q = select(VehicleRow).where(VehicleRow.id == vehicle_id)
        if for_update:
            q = q.with_for_update()
        row = self.s.scalar(q)
        return None if row is None else self._record(row)

    def find(self, *, fleet_org_id: str | None = None) -> list[VehicleRecord]:
        q = select(VehicleRow).order_by(VehicleRow.id)
        if fleet_org_id is not None:
            q = q.where(VehicleRow.fleet_org_id == fleet_org_id)
        return [self._record(r) for r in self.s.scalars(q)]


class WarehouseRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, warehouse: Warehouse) -> None:
        self.s.add(WarehouseRow(id=warehouse.id, name=warehouse.name, org_id=warehouse.org_id))
        self.s.flush()

    def get(self, warehouse_id: str) -> Warehouse | None:
        row = self.s.get(WarehouseRow, warehouse_id)
        return None if row is None else Warehouse(row.id, row.name, row.org_id)


class ShipmentRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, shipment: ShipmentRecord) -> None:
        self.s.add(
            ShipmentRow(
                id=shipment.id,
                carrier=shipment.carrier,
                destination_station_id=shipment.destination_station_id,
                destination_warehouse_id=shipment.destination_warehouse_id,
                state=str(shipment.state),
                shipped_at=shipment.shipped_at,
                received_at=shipment.received_at,
            )
        )
        self.s.flush()

    def get(self, shipment_id: str, *, for_update: bool = False) -> ShipmentRecord | None:
        q = select(ShipmentRow).where(ShipmentRow.id == shipment_id)
        if for_update:
            q = q.with_for_update()
        row = self.s.scalar(q)
        if row is None:
            return None
        return ShipmentRecord(
            row.id,
            row.carrier,
            row.destination_station_id,
            row.destination_warehouse_id,
            ShipmentState(row.state),
            row.shipped_at,
            row.received_at,
        )

    def update(self, shipment: ShipmentRecord) -> None:
        row = self.s.get(ShipmentRow, shipment.id)
        if row is None:
            raise NotFoundError("shipment", shipment.id)
        row.state = str(shipment.state)
        row.received_at = shipment.received_at
        self.s.flush()


_Slot = aliased(SlotRow)
_Pos = aliased(PositionRow)
_Bay = aliased(BayRow)
# A pack row with (station, slot no), (vehicle, position no) and (station, bay no) of its
# custodian; outer-joined, so the pairs not matching the custody kind are NULL.
PackSelect = Select[PackRow, str, int, str, int, str, int]


class PackRepo:
    def __init__(self, session: Session, catalog: CatalogRepo) -> None:
        self.s = session
        self.catalog = catalog

    # custody <-> columns

    def _columns(self, custody: Custody) -> dict[str, Any]:
        cols: dict[str, Any] = {
            "custody_kind": str(custody.kind),
            "slot_id": None,
            "position_id": None,
            "bay_id": None,
            "shipment_id": None,
            "warehouse_id": None,
        }
        match custody.kind:
            case CustodyKind.SLOT:
                cols["slot_id"] = self._id(
                    SlotRow, "rack slot", custody.station_id, custody.slot_no
                )
            case CustodyKind.VEHICLE:
                cols["position_id"] = self._id(
                    PositionRow, "pack position", custody.vehicle_id, custody.position_no
                )
            case CustodyKind.BAY:
                cols["bay_id"] = self._id(BayRow, "bay", custody.station_id, custody.bay_no)
            case CustodyKind.SHIPMENT:
                cols["shipment_id"] = custody.shipment_id
            case CustodyKind.WAREHOUSE:
                cols["warehouse_id"] = custody.warehouse_id
            case _:
                pass
        return cols

    def _id(self, model: Any, kind: str, owner: str | None, number: int | None) -> int:
        owner_col = model.vehicle_id if model is PositionRow else model.station_id
        found = self.s.scalar(
            select(model.id).where(owner_col == owner).where(model.number == number)
        )
        if found is None:
            raise NotFoundError(kind, f"{owner}/{number}")
        return int(found)

    def _select(self) -> PackSelect:
        return (
            select(
                PackRow,
                _Slot.station_id,
                _Slot.number,
                _Pos.vehicle_id,
                _Pos.number,
                _Bay.station_id,
                _Bay.number,
            )
            .outerjoin(_Slot, _Slot.id == PackRow.slot_id)
            .outerjoin(_Pos, _Pos.id == PackRow.position_id)
            .outerjoin(_Bay, _Bay.id == PackRow.bay_id)
        )

    def _record(self, r: Any) -> PackRecord:
        row: PackRow = r[0]
        kind = CustodyKind(row.custody_kind)
        match kind:
            case CustodyKind.SLOT:
                custody = Custody.in_slot(r[1], r[2])
            case CustodyKind.VEHICLE:
                custody = Custody.in_vehicle(r[3], r[4])
            case CustodyKind.BAY:
                custody = Custody.in_bay(r[5], r[6])
            case CustodyKind.SHIPMENT:
                custody = Custody.in_shipment(str(row.shipment_id))
            case CustodyKind.WAREHOUSE:
                custody = Custody.in_warehouse(str(row.warehouse_id))
            case _:
                custody = Custody.retired()
        pack = Pack(
            serial=row.serial,
            model=self.catalog.resolved(pack_models=(row.model_id,)).pack_model(row.model_id),
            owner=row.owner_org_id,
            soc=row.soc,
            soh=row.soh,
            cycle_count=row.cycle_count,
            safety_state=SafetyState(row.safety_state),
            insulation_resistance_ohm=row.insulation_resistance_ohm,
            max_cell_temp_spread_c=row.max_cell_temp_spread_c,
        )
        return PackRecord(pack, custody, row.custody_since)

    def _run(self, q: PackSelect, for_update: bool = False) -> list[PackRecord]:
        if for_update:
            q = q.with_for_update(of=PackRow)
        return [self._record(r) for r in self.s.execute(q)]

    def add(self, pack: Pack, custody: Custody, at: datetime) -> None:
        self.s.add(
            PackRow(
                serial=pack.serial,
                model_id=pack.model.id,
                owner_org_id=pack.owner,
                soc=pack.soc,
                soh=pack.soh,
                cycle_count=pack.cycle_count,
                safety_state=str(pack.safety_state),
                insulation_resistance_ohm=pack.insulation_resistance_ohm,
                max_cell_temp_spread_c=pack.max_cell_temp_spread_c,
                custody_since=at,
                **self._columns(custody),
            )
        )
        self.s.flush()

    def get(self, serial: str, *, for_update: bool = False) -> PackRecord | None:
        found = self._run(self._select().where(PackRow.serial == serial), for_update)
        return found[0] if found else None

    def get_many(self, serials: Sequence[str], *, for_update: bool = False) -> list[PackRecord]:
        if not serials:
            return []
        q = self._select().where(PackRow.serial.in_(sorted(set(serials))))
        return self._run(q.order_by(PackRow.serial), for_update)

    def at_station(self, station_id: str) -> list[PackRecord]:
        q = self._select().where(_Slot.station_id == station_id).order_by(_Slot.number)
        return self._run(q)

    def in_vehicle(self, vehicle_id: str) -> list[PackRecord]:
        q = self._select().where(_Pos.vehicle_id == vehicle_id).order_by(_Pos.number)
        return self._run(q)

    def in_shipment(self, shipment_id: str) -> list[PackRecord]:
        q = self._select().where(PackRow.shipment_id == shipment_id).order_by(PackRow.serial)
        return self._run(q)

    def all(self) -> list[PackRecord]:
        return self._run(self._select().order_by(PackRow.serial))

    def set_custody(self, serial: str, custody: Custody, at: datetime) -> None:
        values = {**self._columns(custody), "custody_since": at}
        done = self.s.execute(update(PackRow).where(PackRow.serial == serial).values(**values))
        if getattr(done, "rowcount", 1) != 1:
            raise NotFoundError("pack", serial)

    def set_state(self, pack: Pack) -> None:
        done = self.s.execute(
            update(PackRow)
            .where(PackRow.serial == pack.serial)
            .values(
                soc=pack.soc,
                soh=pack.soh,
                cycle_count=pack.cycle_count,
                safety_state=str(pack.safety_state),
                insulation_resistance_ohm=pack.insulation_resistance_ohm,
                max_cell_temp_spread_c=pack.max_cell_temp_spread_c,
            )
        )
        if getattr(done, "rowcount", 1) != 1:
            raise NotFoundError("pack", pack.serial)


class ReservationRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, record: ReservationRecord) -> None:
        is_open = record.state in OPEN_RESERVATION_STATES
        self.s.add(
            ReservationRow(
                id=record.id,
                fleet_org_id=record.fleet_org_id,
                vehicle_id=record.vehicle_id,
                station_id=record.station_id,
                walk_in=record.walk_in,
                need_kwh=record.need_kwh,
                arrive_at=record.arrive_at,
                expires_at=record.expires_at,
                state=str(record.state),
                created_at=record.created_at,
                closed_at=record.closed_at,
                close_reason=record.close_reason,
                open_vehicle_id=record.vehicle_id if is_open else None,
            )
        )
        self.s.flush()
        self.s.add_all(
            HoldRow(
                reservation_id=record.id,
                position_no=h.position_no,
                pack_serial=h.serial,
                held_serial=h.serial if is_open else None,
            )
            for h in record.holds
        )
        self.s.flush()

    def _record(self, row: ReservationRow) -> ReservationRecord:
        holds = self.s.scalars(
            select(HoldRow).where(HoldRow.reservation_id == row.id).order_by(HoldRow.position_no)
        )
        return ReservationRecord(
            id=row.id,
            fleet_org_id=row.fleet_org_id,
            vehicle_id=row.vehicle_id,
            station_id=row.station_id,
            need_kwh=row.need_kwh,
            arrive_at=row.arrive_at,
            expires_at=row.expires_at,
            state=ReservationState(row.state),
            created_at=row.created_at,
            holds=tuple(Hold(h.position_no, h.pack_serial) for h in holds),
            walk_in=row.walk_in,
            closed_at=row.closed_at,
            close_reason=row.close_reason,
        )

    def get(self, reservation_id: str, *, for_update: bool = False) -> ReservationRecord | None:
        q = select(ReservationRow).where(ReservationRow.id == reservation_id)
        if for_update:
            q = q.with_for_update()
        row = self.s.scalar(q)
        return None if row is None else self._record(row)

    def set_state(
        self,
        reservation_id: str,
        state: ReservationState,
        *,
        at: datetime | None = None,
        reason: str | None = None,
    ) -> None:
        row = self.s.get(ReservationRow, reservation_id)
        if row is None:
            raise NotFoundError("reservation", reservation_id)
        is_open = state in OPEN_RESERVATION_STATES
        row.state = str(state)
        row.open_vehicle_id = row.vehicle_id if is_open else None
        if not is_open:
            row.closed_at = at
            row.close_reason = reason
        self.s.flush()
        if not is_open:
            self.s.execute(
                update(HoldRow)
                .where(HoldRow.reservation_id == reservation_id)
                .values(held_serial=None)
            )

    def open_for_vehicle(self, vehicle_id: str) -> ReservationRecord | None:
        row = self.s.scalar(
            select(ReservationRow).where(ReservationRow.open_vehicle_id == vehicle_id)
        )
        return None if row is None else self._record(row)

    def open_holding(self, serial: str) -> ReservationRecord | None:
        rid = self.s.scalar(select(HoldRow.reservation_id).where(HoldRow.held_serial == serial))
        return None if rid is None else self.get(rid)

    def held_serials(self, serials: Sequence[str] | None = None) -> set[str]:
        q = select(HoldRow.held_serial).where(HoldRow.held_serial.is_not(None))
        if serials is not None:
            q = q.where(HoldRow.held_serial.in_(list(serials)))
        return {s for s in self.s.scalars(q) if s is not None}

    def due_for_expiry(self, now: datetime, station_id: str | None = None) -> list[str]:
        q = (
            select(ReservationRow.id)
            .where(ReservationRow.state == str(ReservationState.ACTIVE))
            .where(ReservationRow.expires_at <= now)
            .order_by(ReservationRow.id)
        )
        if station_id is not None:
            q = q.where(ReservationRow.station_id == station_id)
        return list(self.s.scalars(q))

    def find(
        self,
        *,
        fleet_org_id: str | None = None,
        station_id: str | None = None,
        states: Sequence[ReservationState] | None = None,
    ) -> list[ReservationRecord]:
        q = select(ReservationRow).order_by(ReservationRow.created_at, ReservationRow.id)
        if fleet_org_id is not None:
            q = q.where(ReservationRow.fleet_org_id == fleet_org_id)
        if station_id is not None:
            q = q.where(ReservationRow.station_id == station_id)
        if states is not None:
            q = q.where(ReservationRow.state.in_([str(s) for s in states]))
        return [self._record(r) for r in self.s.scalars(q)]


class SwapRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    def _bay_id(self, station_id: str, bay_no: int) -> int:
        found = self.s.scalar(
            select(BayRow.id).where(BayRow.station_id == station_id, BayRow.number == bay_no)
        )
        if found is None:
            raise NotFoundError("bay", f"{station_id}/{bay_no}")
        return int(found)

    def add(self, record: SwapRecord) -> None:
        bay_id = self._bay_id(record.station_id, record.bay_no)
        started = record.state is SwapState.STARTED
        self.s.add(
            SwapRow(
                id=record.id,
                station_id=record.station_id,
                bay_id=bay_id,
                vehicle_id=record.vehicle_id,
                reservation_id=record.reservation_id,
                state=str(record.state),
                need_kwh=record.need_kwh,
                started_at=record.started_at,
                finished_at=record.finished_at,
                abort_reason=record.abort_reason,
                energy_delivered_kwh=record.energy_delivered_kwh,
                active_bay_id=bay_id if started else None,
                active_vehicle_id=record.vehicle_id if started else None,
            )
        )
        self.s.flush()
        self.s.add_all(self._line_row(record.id, line) for line in record.lines)
        self.s.flush()

    @staticmethod
    def _line_row(swap_id: str, line: SwapLine) -> SwapLineRow:
        return SwapLineRow(
            swap_id=swap_id,
            position_no=line.position_no,
            pack_in=line.pack_in,
            pack_out=line.pack_out,
            soc_in=line.soc_in,
            soc_out=line.soc_out,
            energy_in_kwh=line.energy_in_kwh,
            energy_out_kwh=line.energy_out_kwh,
            slot_out_no=line.slot_out_no,
        )

    def _record(self, row: SwapRow) -> SwapRecord:
        bay_no = self.s.scalar(select(BayRow.number).where(BayRow.id == row.bay_id))
        lines = self.s.scalars(
            select(SwapLineRow)
            .where(SwapLineRow.swap_id == row.id)
            .order_by(SwapLineRow.position_no)
        )
        return SwapRecord(
            id=row.id,
            station_id=row.station_id,
            bay_no=int(bay_no or 0),
            vehicle_id=row.vehicle_id,
            reservation_id=row.reservation_id,
            state=SwapState(row.state),
            started_at=row.started_at,
            lines=tuple(
                SwapLine(
                    position_no=ln.position_no,
                    pack_in=ln.pack_in,
                    pack_out=ln.pack_out,
                    soc_in=ln.soc_in,
                    soc_out=ln.soc_out,
                    energy_in_kwh=ln.energy_in_kwh,
                    energy_out_kwh=ln.energy_out_kwh,
                    slot_out_no=ln.slot_out_no,
                )
                for ln in lines
            ),
            need_kwh=row.need_kwh,
            finished_at=row.finished_at,
            abort_reason=row.abort_reason,
            energy_delivered_kwh=row.energy_delivered_kwh,
        )

    def get(self, swap_id: str, *, for_update: bool = False) -> SwapRecord | None:
        q = select(SwapRow).where(SwapRow.id == swap_id)
        if for_update:
            q = q.with_for_update()
        row = self.s.scalar(q)
        return None if row is None else self._record(row)

    def update(self, record: SwapRecord) -> None:
        row = self.s.get(SwapRow, record.id)
        if row is None:
            raise NotFoundError("swap", record.id)
        started = record.state is SwapState.STARTED
        row.state = str(record.state)
        row.finished_at = record.finished_at
        row.abort_reason = record.abort_reason
        row.energy_delivered_kwh = record.energy_delivered_kwh
        row.active_bay_id = row.bay_id if started else None
        row.active_vehicle_id = row.vehicle_id if started else None
        by_position = {
            ln.position_no: ln
            for ln in self.s.scalars(select(SwapLineRow).where(SwapLineRow.swap_id == record.id))
        }
        for line in record.lines:
            lr = by_position.get(line.position_no)
            if lr is None:
                raise ConflictError(f"swap {record.id} has no position {line.position_no}")
            lr.pack_out = line.pack_out
            lr.soc_in = line.soc_in
            lr.soc_out = line.soc_out
            lr.energy_in_kwh = line.energy_in_kwh
            lr.energy_out_kwh = line.energy_out_kwh
            lr.slot_out_no = line.slot_out_no
        self.s.flush()

    def started_on_bay(self, station_id: str, bay_no: int) -> SwapRecord | None:
        bay_id = self._bay_id(station_id, bay_no)
        row = self.s.scalar(select(SwapRow).where(SwapRow.active_bay_id == bay_id))
        return None if row is None else self._record(row)

    def started_for_vehicle(self, vehicle_id: str) -> SwapRecord | None:
        row = self.s.scalar(select(SwapRow).where(SwapRow.active_vehicle_id == vehicle_id))
        return None if row is None else self._record(row)

    def find(self, *, station_id: str | None = None) -> list[SwapRecord]:
        q = select(SwapRow).order_by(SwapRow.started_at, SwapRow.id)
        if station_id is not None:
            q = q.where(SwapRow.station_id == station_id)
        return [self._record(r) for r in self.s.scalars(q)]


class BillRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, bill: BillRecord) -> None:
        self.s.add(
            BillRow(
                id=bill.id,
                swap_id=bill.swap_id,
                payer_org_id=bill.payer_org_id,
                currency=bill.currency,
                total_fen=bill.total_fen,
                created_at=bill.created_at,
            )
        )
        self.s.flush()
        self.s.add_all(
            BillLineRow(
                bill_id=bill.id,
                line_no=ln.line_no,
                kind=str(ln.kind),
                payee_org_id=ln.payee_org_id,
                description=ln.description,
                quantity=ln.quantity,
                unit=ln.unit,
                unit_price_cny=ln.unit_price_cny,
                amount_fen=ln.amount_fen,
            )
            for ln in bill.lines
        )
        self.s.flush()

    def _record(self, row: BillRow) -> BillRecord:
        lines = self.s.scalars(
            select(BillLineRow).where(BillLineRow.bill_id == row.id).order_by(BillLineRow.line_no)
        )
        return BillRecord(
            id=row.id,
            swap_id=row.swap_id,
            payer_org_id=row.payer_org_id,
            created_at=row.created_at,
            total_fen=row.total_fen,
            lines=tuple(
                BillLine(
                    ln.line_no,
                    BillLineKind(ln.kind),
                    ln.payee_org_id,
                    ln.description,
                    ln.quantity,
                    ln.unit,
                    ln.unit_price_cny,
                    ln.amount_fen,
                )
                for ln in lines
            ),
            currency=row.currency,
        )

    def for_swap(self, swap_id: str) -> BillRecord | None:
        row = self.s.scalar(select(BillRow).where(BillRow.swap_id == swap_id))
        return None if row is None else self._record(row)

    def find(self, *, payer_org_id: str | None = None) -> list[BillRecord]:
        q = select(BillRow).order_by(BillRow.created_at, BillRow.id)
        if payer_org_id is not None:
            q = q.where(BillRow.payer_org_id == payer_org_id)
        return [self._record(r) for r in self.s.scalars(q)]


class IdempotencyRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, client_id: str, key: str) -> IdempotencyRecord | None:
        row = self.s.get(IdempotencyRow, (client_id, key))
        if row is None:
            return None
        return IdempotencyRecord(
            row.client_id, row.key, row.operation, row.fingerprint, row.response, row.created_at
        )

    def add(self, record: IdempotencyRecord) -> None:
        self.s.add(
            IdempotencyRow(
                client_id=record.client_id,
                key=record.key,
                operation=record.operation,
                fingerprint=record.fingerprint,
                response=record.response,
                created_at=record.created_at,
            )
        )
        self.s.flush()


class OutboxRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, event: OutboxEvent) -> None:
        self.s.add(
            OutboxRow(
                event_id=event.event_id,
                event_type=event.event_type,
                pack_serial=event.pack_serial,
                payload=event.payload,
                occurred_at=event.occurred_at,
                published_at=event.published_at,
            )
        )

    @staticmethod
    def _event(row: OutboxRow) -> OutboxEvent:
        return OutboxEvent(
            event_id=row.event_id,
            event_type=row.event_type,
            pack_serial=row.pack_serial,
            payload=row.payload,
            occurred_at=row.occurred_at,
            seq=row.seq,
            published_at=row.published_at,
        )

    def unpublished(self, limit: int) -> list[OutboxEvent]:
        self.s.flush()
        q = (
            select(OutboxRow)
            .where(OutboxRow.published_at.is_(None))
            .order_by(OutboxRow.seq)
            .limit(limit)
        )
        return [self._event(r) for r in self.s.scalars(q)]

    def mark_published(self, seqs: Sequence[int], at: datetime) -> int:
        if not seqs:
            return 0
        done = self.s.execute(
            update(OutboxRow)
            .where(OutboxRow.seq.in_(list(seqs)))
            .where(OutboxRow.published_at.is_(None))
            .values(published_at=at)
        )
        return int(getattr(done, "rowcount", 0))

    def for_pack(self, serial: str) -> list[OutboxEvent]:
        self.s.flush()
        q = select(OutboxRow).where(OutboxRow.pack_serial == serial).order_by(OutboxRow.seq)
        return [self._event(r) for r in self.s.scalars(q)]
