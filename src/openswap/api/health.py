"""Pack health endpoints: bulk telemetry upload, one pack's health report, the fleet's health.

`POST /v1/telemetry` takes a JSON array of readings (fields of `health.telemetry.Reading`,
`time_s` in Unix epoch seconds) and answers what was stored and what was rejected with the
reasons (rejected readings also go to the dead-letter table); bad readings never fail the
request. The composition root puts a `services.health.HealthService` on `app.state.health`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from openswap.api.deps import CurrentActor
from openswap.api.problems import READ_PROBLEMS, WRITE_PROBLEMS
from openswap.domain.errors import InputError, PermissionDeniedError, Problem
from openswap.services.health import HealthService, IngestItem, json_safe
from openswap.services.model import Role

router = APIRouter(tags=["health"])
MAX_BODY_BYTES = 32 * 1024 * 1024
UPLOADERS = (Role.ADMIN, Role.OPERATOR, Role.STATION)


def health_service(request: Request) -> HealthService:
    svc: HealthService | None = getattr(request.app.state, "health", None)
    if svc is None:
        raise RuntimeError("the server was built without a health service (app.state.health)")
    return svc


Health = Annotated[HealthService, Depends(health_service)]

_ARRAY_OF_READINGS: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {"type": "object", "description": "one BMS reading"},
                    "maxItems": 100_000,
                }
            }
        },
    }
}


@router.post(
    "/v1/telemetry",
    summary="Upload BMS readings in bulk",
    openapi_extra=_ARRAY_OF_READINGS,
    responses=WRITE_PROBLEMS,
)
async def post_telemetry(request: Request, actor: CurrentActor, svc: Health) -> dict[str, Any]:
    """Store a JSON array of readings; invalid ones are rejected with reasons, never the
    request. A station credential may upload readings under its own station only."""
    if actor.role not in UPLOADERS:
        raise PermissionDeniedError(f"{actor.role} {actor.client_id!r} may not upload telemetry")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise InputError([Problem(f"body over {MAX_BODY_BYTES} bytes; split it", field="body")])
    if not body.lstrip().startswith(b"["):
        raise InputError([Problem("must be a JSON array of readings", field="body")])
    item = IngestItem(body, "http", station_id=actor.station_id)
    result = await run_in_threadpool(svc.ingest, [item])
    return result.to_dict()


@router.get(
    "/v1/packs/{serial}/health", summary="One pack's health report", responses=READ_PROBLEMS
)
async def get_pack_health(serial: str, _actor: CurrentActor, svc: Health) -> dict[str, Any]:
    """Capacity and resistance SoH over time with the forecast band and end-of-life date,
    temperature spread per hour, alarms with their evidence, safety state."""
    report = await run_in_threadpool(svc.pack_report, serial)
    return report.to_dict()


@router.get(
    "/v1/health/fleet",
    summary="SoH distribution, near end of life, second life",
    responses=READ_PROBLEMS,
)
async def get_fleet_health(
    _actor: CurrentActor,
    svc: Health,
    by: Annotated[Literal["maker", "model"], Query(description="group by")] = "maker",
) -> dict[str, Any]:
    report = await run_in_threadpool(svc.fleet_report, by)
    out: dict[str, Any] = json_safe(report.to_dict())
    return out
