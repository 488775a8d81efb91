"""Catalog specifications: `/v1/frames`, `/v1/pack-models`, `/v1/vehicle-models`,
`/v1/station-designs`, `/v1/adapters` (list, get, create; specifications are immutable).

A new specification is posted as one entry in the catalog file format (docs/catalog.md);
problems name the field under `entry`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from openswap.api.deps import Ctx, CurrentActor, IdempotencyKey, Paging
from openswap.api.problems import READ_PROBLEMS, WRITE_PROBLEMS
from openswap.api.schemas import IdPath, Page, paginate
from openswap.domain.specs import Adapter, FrameStandard, PackModel, StationDesign, VehicleModel
from openswap.services import registry
from openswap.services.registry import SpecKind

router = APIRouter(prefix="/v1", tags=["catalog"])

KINDS: tuple[tuple[SpecKind, str, type[Any]], ...] = (
    (SpecKind.FRAMES, "frames", FrameStandard),
    (SpecKind.PACK_MODELS, "pack-models", PackModel),
    (SpecKind.VEHICLE_MODELS, "vehicle-models", VehicleModel),
    (SpecKind.STATION_DESIGNS, "station-designs", StationDesign),
    (SpecKind.ADAPTERS, "adapters", Adapter),
)


def _add_routes(kind: SpecKind, path: str, model: type[Any]) -> None:
    noun = kind.value.replace("_", " ")

    @router.get(
        f"/{path}",
        response_model=Page[model],  # type: ignore[valid-type]
        summary=f"List {noun}",
        responses=READ_PROBLEMS,
        operation_id=f"list_{kind.value}",
    )
    def list_specs(ctx: Ctx, actor: CurrentActor, page: Paging) -> Any:
        return paginate(registry.list_specs(ctx, actor, kind), page)

    @router.get(
        f"/{path}/{{spec_id}}",
        response_model=model,
        summary=f"Get one of the {noun}",
        responses=READ_PROBLEMS,
        operation_id=f"get_{kind.value}",
    )
    def get_spec(spec_id: IdPath, ctx: Ctx, actor: CurrentActor) -> Any:
        return registry.get_spec(ctx, actor, kind, spec_id)

    @router.post(
        f"/{path}",
        status_code=201,
        response_model=model,
        summary=f"Define one of the {noun} (admin; catalog file format)",
        responses=WRITE_PROBLEMS,
        operation_id=f"define_{kind.value}",
    )
    def define_spec(
        entry: Annotated[dict[str, Any], Body(description="one catalog entry")],
        ctx: Ctx,
        actor: CurrentActor,
        key: IdempotencyKey,
    ) -> Any:
        ref = registry.define_spec(ctx, actor, registry.DefineSpec(kind, entry), key)
        return registry.get_spec(ctx, actor, kind, ref.id)


for _kind, _path, _model in KINDS:
    _add_routes(_kind, _path, _model)
