"""Ledger endpoints: the latest signed checkpoint, entries by range, inclusion proofs (by index
or leaf hash), consistency proofs and battery passports.

A transparency log is public by design (anyone must be able to check it), and entries hold ids
and hashes only, so these reads need no token. `build_api`'s composition root puts a
`services.ledger.LedgerContext` on `app.state.ledger`.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from openswap.domain.errors import InputError, Problem
from openswap.services import ledger as svc

router = APIRouter(tags=["ledger"])


def ledger_context(request: Request) -> svc.LedgerContext:
    lctx: svc.LedgerContext | None = getattr(request.app.state, "ledger", None)
    if lctx is None:
        raise RuntimeError("the server was built without a ledger context (app.state.ledger)")
    return lctx


Ledger = Annotated[svc.LedgerContext, Depends(ledger_context)]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class EntryOut(BaseModel):
    index: int
    leaf_hash: str  # hex
    entry: str  # the canonical JSON entry, exactly as hashed


class EntriesOut(BaseModel):
    entries: list[EntryOut]


class InclusionOut(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str  # hex
    proof: list[str]  # base64 hashes, RFC 9162 order


class ConsistencyOut(BaseModel):
    first: int
    second: int
    proof: list[str]  # base64 hashes, RFC 9162 order


@router.get(
    "/v1/ledger/checkpoint",
    response_class=PlainTextResponse,
    summary="The latest signed checkpoint (C2SP signed note, text/plain)",
)
def get_checkpoint(lctx: Ledger) -> PlainTextResponse:
    return PlainTextResponse(svc.latest_checkpoint(lctx).note)


@router.get("/v1/ledger/entries", response_model=EntriesOut, summary="Entries [start, end)")
def get_entries(
    lctx: Ledger,
    start: Annotated[int, Query(ge=0)],
    end: Annotated[int, Query(ge=1)],
) -> EntriesOut:
    entries = svc.read_entries(lctx, start, end)
    return EntriesOut(
        entries=[
            EntryOut(index=e.index, leaf_hash=e.leaf_hash.hex(), entry=e.data.decode())
            for e in entries
        ]
    )


@router.get(
    "/v1/ledger/proofs/inclusion",
    response_model=InclusionOut,
    summary="Inclusion proof of an entry, by index or by leaf hash (hex)",
)
def get_inclusion(
    lctx: Ledger,
    index: Annotated[int | None, Query(ge=0)] = None,
    size: Annotated[
        int | None, Query(ge=1, description="tree size (default: latest checkpoint)")
    ] = None,
    leaf_hash: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$")] = None,
) -> InclusionOut:
    try:
        leaf = None if leaf_hash is None else bytes.fromhex(leaf_hash)
    except ValueError:
        raise InputError([Problem("not 64 hex digits", field="leaf_hash")]) from None
    p = svc.inclusion_proof(lctx, index=index, leaf_hash=leaf, size=size)
    return InclusionOut(
        index=p.index,
        tree_size=p.tree_size,
        leaf_hash=p.leaf_hash.hex(),
        proof=[_b64(h) for h in p.proof],
    )


@router.get(
    "/v1/ledger/proofs/consistency",
    response_model=ConsistencyOut,
    summary="Consistency proof between two tree sizes",
)
def get_consistency(
    lctx: Ledger,
    first: Annotated[int, Query(ge=0)],
    second: Annotated[int, Query(ge=0)],
) -> ConsistencyOut:
    proof = svc.consistency_proof(lctx, first, second)
    return ConsistencyOut(first=first, second=second, proof=[_b64(h) for h in proof])


@router.get(
    "/v1/passports/{serial}",
    summary="Battery passport of a pack (DIN DKE SPEC 99100 groups, with proofs)",
)
def get_passport(lctx: Ledger, serial: str) -> dict[str, Any]:
    return svc.build_passport(lctx, serial)
