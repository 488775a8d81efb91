"""Daily operations: compatibility checks, reservations, swap transactions and bills."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from openswap.api.deps import Ctx, CurrentActor, IdempotencyKey, Paging
from openswap.api.problems import BODY_PROBLEMS, READ_PROBLEMS, WRITE_PROBLEMS
from openswap.api.schemas import (
    ID_PATTERN,
    AbortSwapBody,
    CancelBody,
    CompatibilityBody,
    CompleteSwapBody,
    IdPath,
    Page,
    ReservationBody,
    StartSwapBody,
    paginate,
)
from openswap.services import queries, registry, reservations, swaps
from openswap.services.model import BillRecord, ReservationState
from openswap.services.registry import CompatibilityView
from openswap.services.reservations import ReservationOutcome, ReservationView
from openswap.services.swaps import SwapView

router = APIRouter(prefix="/v1", tags=["operations"])


@router.post(
    "/compatibility/check",
    response_model=CompatibilityView,
    summary="May this pack go into this vehicle at this station? Every rule, with reasons",
    responses=BODY_PROBLEMS,
)
def check_compatibility(
    body: CompatibilityBody, ctx: Ctx, actor: CurrentActor
) -> CompatibilityView:
    cmd = registry.CheckCompatibility(
        body.vehicle_id, body.pack_serial, body.station_id, body.need_kwh
    )
    return registry.check_compatibility(ctx, actor, cmd)


# --- reservations ----------------------------------------------------------------------------


@router.post(
    "/reservations",
    status_code=201,
    response_model=ReservationOutcome,
    summary="Hold packs for a swap (201), or every reason why not and alternatives (200)",
    responses={**WRITE_PROBLEMS, 200: {"description": "refused: `refusals` and `alternatives`"}},
)
def reserve(
    body: ReservationBody, response: Response, ctx: Ctx, actor: CurrentActor, key: IdempotencyKey
) -> ReservationOutcome:
    cmd = reservations.ReserveSwap(body.vehicle_id, body.station_id, body.arrive_at, body.need_kwh)
    outcome = reservations.reserve(ctx, actor, cmd, key)
    if not outcome.reserved:
        response.status_code = 200
    return outcome


@router.get("/reservations", response_model=Page[ReservationView], responses=READ_PROBLEMS)
def list_reservations(
    ctx: Ctx,
    actor: CurrentActor,
    page: Paging,
    station_id: Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)] = None,
    state: Annotated[list[ReservationState] | None, Query(max_length=5)] = None,
) -> Any:
    found = reservations.list_reservations(
        ctx, actor, station_id=station_id, states=tuple(state) if state else None
    )
    return paginate(found, page)


@router.get(
    "/reservations/{reservation_id}", response_model=ReservationView, responses=READ_PROBLEMS
)
def get_reservation(reservation_id: IdPath, ctx: Ctx, actor: CurrentActor) -> ReservationView:
    return reservations.get_reservation(ctx, actor, reservation_id)


@router.post(
    "/reservations/{reservation_id}/cancel",
    response_model=ReservationView,
    responses=WRITE_PROBLEMS,
)
def cancel_reservation(
    reservation_id: IdPath,
    ctx: Ctx,
    actor: CurrentActor,
    key: IdempotencyKey,
    body: CancelBody | None = None,
) -> ReservationView:
    reason = body.reason if body is not None else "cancelled by the fleet"
    cmd = reservations.CancelReservation(reservation_id, reason)
    return reservations.cancel_reservation(ctx, actor, cmd, key)


# --- swaps -----------------------------------------------------------------------------------


@router.post(
    "/swaps",
    status_code=201,
    response_model=SwapView,
    summary="Start a swap: a vehicle stands in a bay (reservation or walk-in)",
    responses=WRITE_PROBLEMS,
)
def start_swap(body: StartSwapBody, ctx: Ctx, actor: CurrentActor, key: IdempotencyKey) -> SwapView:
    cmd = swaps.StartSwap(
        body.station_id, body.bay_no, body.vehicle_id, body.reservation_id, body.need_kwh
    )
    return swaps.start_swap(ctx, actor, cmd, key)


@router.get("/swaps/{swap_id}", response_model=SwapView, responses=READ_PROBLEMS)
def get_swap(swap_id: IdPath, ctx: Ctx, actor: CurrentActor) -> SwapView:
    return swaps.get_swap(ctx, actor, swap_id)


@router.post(
    "/swaps/{swap_id}/complete",
    response_model=SwapView,
    summary="Complete a started swap: custody, SoC, energy, bill, lifecycle events at once",
    responses=WRITE_PROBLEMS,
)
def complete_swap(
    swap_id: IdPath,
    ctx: Ctx,
    actor: CurrentActor,
    key: IdempotencyKey,
    body: CompleteSwapBody | None = None,
) -> SwapView:
    readings = (
        () if body is None else tuple(swaps.PackReading(r.serial, r.soc) for r in body.readings)
    )
    return swaps.complete_swap(ctx, actor, swaps.CompleteSwap(swap_id, readings), key)


@router.post("/swaps/{swap_id}/abort", response_model=SwapView, responses=WRITE_PROBLEMS)
def abort_swap(
    swap_id: IdPath, body: AbortSwapBody, ctx: Ctx, actor: CurrentActor, key: IdempotencyKey
) -> SwapView:
    return swaps.abort_swap(ctx, actor, swaps.AbortSwap(swap_id, body.reason), key)


# --- bills -----------------------------------------------------------------------------------


@router.get("/bills", response_model=Page[BillRecord], responses=READ_PROBLEMS)
def list_bills(ctx: Ctx, actor: CurrentActor, page: Paging) -> Any:
    return paginate(queries.list_bills(ctx, actor), page)


@router.get(
    "/swaps/{swap_id}/bill",
    response_model=BillRecord,
    summary="The bill of a completed swap",
    responses=READ_PROBLEMS,
)
def get_bill(swap_id: IdPath, ctx: Ctx, actor: CurrentActor) -> BillRecord:
    return queries.get_bill(ctx, actor, swap_id)
