"""Liveness: `GET /v1/ping`, a trivial JSON answer (also the benchmarks' reference)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(prefix="/v1", tags=["system"])


class Pong(BaseModel):
    status: str = "ok"


@router.get("/ping", response_model=Pong, summary="Liveness (no authentication, no database)")
async def ping() -> Pong:
    return Pong()
