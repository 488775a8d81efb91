"""Assets: organisations, stations (with bays, rack slots and inventory), vehicles and packs
(registration, history and custody actions: move, quarantine, release, retire)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from openswap.api.deps import Ctx, CurrentActor, IdempotencyKey, Paging
from openswap.api.problems import READ_PROBLEMS, WRITE_PROBLEMS
from openswap.api.schemas import (
    ID_PATTERN,
    IdPath,
    MoveBody,
    OrganisationBody,
    PackBody,
    Page,
    QuarantineBody,
    ReleaseBody,
    RetireBody,
    StationBody,
    VehicleBody,
    paginate,
)
from openswap.domain.assets import SafetyState
from openswap.services import custody, queries, registry
from openswap.services.custody import PackView
from openswap.services.model import CustodyKind, Organisation, OrgRole, OutboxEvent
from openswap.services.queries import StationInventory
from openswap.services.registry import StationView, VehicleView

router = APIRouter(prefix="/v1", tags=["assets"])

IdFilter = Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)]


# --- organisations ---------------------------------------------------------------------------


@router.post(
    "/organisations", status_code=201, response_model=Organisation, responses=WRITE_PROBLEMS
)
def create_organisation(
    body: OrganisationBody, ctx: Ctx, actor: CurrentActor, key: IdempotencyKey
) -> Organisation:
    cmd = registry.CreateOrganisation(body.id, body.name, tuple(body.roles))
    return registry.create_organisation(ctx, actor, cmd, key)


@router.get("/organisations", response_model=Page[Organisation], responses=READ_PROBLEMS)
def list_organisations(
    ctx: Ctx, actor: CurrentActor, page: Paging, role: OrgRole | None = None
) -> Any:
    return paginate(registry.list_organisations(ctx, actor, role=role), page)


@router.get("/organisations/{org_id}", response_model=Organisation, responses=READ_PROBLEMS)
def get_organisation(org_id: IdPath, ctx: Ctx, actor: CurrentActor) -> Organisation:
    return registry.get_organisation(ctx, actor, org_id)


# --- stations --------------------------------------------------------------------------------


@router.post("/stations", status_code=201, response_model=StationView, responses=WRITE_PROBLEMS)
def create_station(
    body: StationBody, ctx: Ctx, actor: CurrentActor, key: IdempotencyKey
) -> StationView:
    cmd = registry.CreateStation(
        id=body.id,
        name=body.name,
        design_id=body.design_id,
        operator_org_id=body.operator_org_id,
        stocked_models=tuple(body.stocked_models),
        adapter_ids=tuple(body.adapter_ids),
        corridor=body.corridor,
        km=body.km,
        direction=body.direction,
        utc_offset_min=body.utc_offset_min,
        tariff=body.tariff,
        service_fee_cny_per_kwh=body.service_fee_cny_per_kwh,
        battery_fee_cny_per_kwh=body.battery_fee_cny_per_kwh,
    )
    return registry.create_station(ctx, actor, cmd, key)


@router.get("/stations", response_model=Page[StationView], responses=READ_PROBLEMS)
def list_stations(
    ctx: Ctx,
    actor: CurrentActor,
    page: Paging,
    corridor: IdFilter = None,
    operator_org_id: IdFilter = None,
) -> Any:
    found = registry.list_stations(ctx, actor, corridor=corridor, operator_org_id=operator_org_id)
    return paginate(found, page)


@router.get("/stations/{station_id}", response_model=StationView, responses=READ_PROBLEMS)
def get_station(station_id: IdPath, ctx: Ctx, actor: CurrentActor) -> StationView:
    return registry.get_station(ctx, actor, station_id)


@router.get(
    "/stations/{station_id}/inventory",
    response_model=StationInventory,
    summary="Rack slots with their packs, and stock by pack model and SoC band",
    responses=READ_PROBLEMS,
)
def station_inventory(station_id: IdPath, ctx: Ctx, actor: CurrentActor) -> StationInventory:
    return queries.station_inventory(ctx, actor, station_id)


# --- vehicles --------------------------------------------------------------------------------


@router.post("/vehicles", status_code=201, response_model=VehicleView, responses=WRITE_PROBLEMS)
def create_vehicle(
    body: VehicleBody, ctx: Ctx, actor: CurrentActor, key: IdempotencyKey
) -> VehicleView:
    cmd = registry.CreateVehicle(
        body.id, body.model_id, body.fleet_org_id, body.pack_count, tuple(body.adapter_ids)
    )
    return registry.create_vehicle(ctx, actor, cmd, key)


@router.get("/vehicles", response_model=Page[VehicleView], responses=READ_PROBLEMS)
def list_vehicles(
    ctx: Ctx, actor: CurrentActor, page: Paging, fleet_org_id: IdFilter = None
) -> Any:
    return paginate(registry.list_vehicles(ctx, actor, fleet_org_id=fleet_org_id), page)


@router.get("/vehicles/{vehicle_id}", response_model=VehicleView, responses=READ_PROBLEMS)
def get_vehicle(vehicle_id: IdPath, ctx: Ctx, actor: CurrentActor) -> VehicleView:
    return registry.get_vehicle(ctx, actor, vehicle_id)


# --- packs -----------------------------------------------------------------------------------


@router.post("/packs", status_code=201, response_model=PackView, responses=WRITE_PROBLEMS)
def register_pack(body: PackBody, ctx: Ctx, actor: CurrentActor, key: IdempotencyKey) -> PackView:
    cmd = registry.RegisterPack(**body.model_dump())
    return registry.register_pack(ctx, actor, cmd, key)


@router.get("/packs", response_model=Page[PackView], responses=READ_PROBLEMS)
def list_packs(
    ctx: Ctx,
    actor: CurrentActor,
    page: Paging,
    station_id: IdFilter = None,
    vehicle_id: IdFilter = None,
    pack_model: IdFilter = None,
    owner_org_id: IdFilter = None,
    custody_kind: CustodyKind | None = None,
    safety_state: SafetyState | None = None,
) -> Any:
    found = registry.list_packs(
        ctx,
        actor,
        station_id=station_id,
        vehicle_id=vehicle_id,
        pack_model=pack_model,
        owner_org_id=owner_org_id,
        custody=custody_kind,
        safety_state=safety_state,
    )
    return paginate(found, page)


@router.get("/packs/{serial}", response_model=PackView, responses=READ_PROBLEMS)
def get_pack(serial: IdPath, ctx: Ctx, actor: CurrentActor) -> PackView:
    return queries.get_pack(ctx, actor, serial)


@router.get(
    "/packs/{serial}/history",
    response_model=list[OutboxEvent],
    summary="Every lifecycle event of a pack, oldest first",
    responses=READ_PROBLEMS,
)
def pack_history(serial: IdPath, ctx: Ctx, actor: CurrentActor) -> Any:
    return list(queries.pack_history(ctx, actor, serial))


@router.post("/packs/{serial}/move", response_model=PackView, responses=WRITE_PROBLEMS)
def move_pack(
    serial: IdPath, body: MoveBody, ctx: Ctx, actor: CurrentActor, key: IdempotencyKey
) -> PackView:
    cmd = custody.MovePack(serial, body.to_station_id, body.to_slot_no, body.to_warehouse_id)
    return custody.move_pack(ctx, actor, cmd, key)


@router.post("/packs/{serial}/quarantine", response_model=PackView, responses=WRITE_PROBLEMS)
def quarantine_pack(
    serial: IdPath, body: QuarantineBody, ctx: Ctx, actor: CurrentActor, key: IdempotencyKey
) -> PackView:
    return custody.quarantine_pack(ctx, actor, custody.QuarantinePack(serial, body.reason), key)


@router.post("/packs/{serial}/release", response_model=PackView, responses=WRITE_PROBLEMS)
def release_pack(
    serial: IdPath, body: ReleaseBody, ctx: Ctx, actor: CurrentActor, key: IdempotencyKey
) -> PackView:
    return custody.release_pack(ctx, actor, custody.ReleasePack(serial, body.note), key)


@router.post("/packs/{serial}/retire", response_model=PackView, responses=WRITE_PROBLEMS)
def retire_pack(
    serial: IdPath, body: RetireBody, ctx: Ctx, actor: CurrentActor, key: IdempotencyKey
) -> PackView:
    return custody.retire_pack(ctx, actor, custody.RetirePack(serial, body.reason), key)
