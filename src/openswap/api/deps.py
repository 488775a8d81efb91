"""Dependencies every router shares: the operations context, the token signer, the current
actor (from the bearer token), the `Idempotency-Key` header and pagination parameters.

`build_api` puts the context and the signer on `app.state`; routers only ask for them here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from openswap.api.security import TokenSigner
from openswap.domain.errors import AuthenticationError
from openswap.services.model import Actor
from openswap.services.operations import MAX_IDEMPOTENCY_KEY_LENGTH, OperationsContext

_bearer = HTTPBearer(auto_error=False, description="a token from POST /v1/token")


def operations_context(request: Request) -> OperationsContext:
    ctx: OperationsContext = request.app.state.ops
    return ctx


def token_signer(request: Request) -> TokenSigner:
    signer: TokenSigner = request.app.state.signer
    return signer


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The authenticated caller; 401 problem for a missing, invalid or expired token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("a bearer token is required (POST /v1/token)")
    return token_signer(request).actor(credentials.credentials)


def idempotency_key(
    key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=MAX_IDEMPOTENCY_KEY_LENGTH,
            pattern=r"^[\x21-\x7e]+$",
            description="a unique key per intended change (e.g. a UUID); a retry with the "
            "same key and body returns the first result",
        ),
    ],
) -> str:
    return key


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="items per page")] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="items to skip")] = 0,
) -> PageParams:
    return PageParams(limit, offset)


Ctx = Annotated[OperationsContext, Depends(operations_context)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
IdempotencyKey = Annotated[str, Depends(idempotency_key)]
Paging = Annotated[PageParams, Depends(page_params)]
