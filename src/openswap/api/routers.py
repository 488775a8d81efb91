"""Every router of the REST API, in one list: a new capability appends its router here
(`build_api` includes them in this order)."""

from __future__ import annotations

from fastapi import APIRouter

from openswap.api import assets, catalog, health, ledger, operations, system, tokens

ROUTERS: list[APIRouter] = [
    system.router,
    tokens.router,
    catalog.router,
    assets.router,
    operations.router,
    ledger.router,
    health.router,
]
