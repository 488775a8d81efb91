"""`POST /v1/token` (OAuth2 client credentials and password grants) and credential admin.

The token endpoint takes `application/x-www-form-urlencoded` as RFC 6749 says (JSON is
accepted too); client credentials may also come as HTTP Basic. Failures are 401 problems with
the RFC 6749 `error` code as an extra member.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from openswap.api.deps import Ctx, CurrentActor, IdempotencyKey, token_signer
from openswap.api.problems import READ_PROBLEMS, WRITE_PROBLEMS, problem_response
from openswap.api.schemas import ApiClientBody, TokenResponse, UserBody
from openswap.api.security import TokenSigner
from openswap.domain.errors import AuthenticationError
from openswap.services import auth
from openswap.services.model import Actor

router = APIRouter(prefix="/v1", tags=["auth"])

_FORM_SCHEMA = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials", "password"]},
        "client_id": {"type": "string", "maxLength": 200},
        "client_secret": {"type": "string", "maxLength": 200},
        "username": {"type": "string", "maxLength": 200},
        "password": {"type": "string", "maxLength": 200},
    },
}
_MAX_BODY = 4096


async def _fields(request: Request) -> dict[str, str]:
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        return {}
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = raw.decode()
        if kind == "application/json":
            data = json.loads(text)
            if not isinstance(data, dict):
                return {}
            return {str(k): v for k, v in data.items() if isinstance(v, str)}
        return dict(parse_qsl(text, keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return {}


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, secret = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, secret


def _oauth_error(request: Request, status: int, error: str, detail: str) -> JSONResponse:
    slug = "unauthorized" if status == 401 else "invalid-request"
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem_response(request, status, slug, detail, headers=headers, error=error)


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="Issue a bearer token (OAuth2 client credentials or password grant)",
    responses={
        400: READ_PROBLEMS[422] | {"description": "unsupported grant or missing fields"},
        401: READ_PROBLEMS[401],
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": _FORM_SCHEMA},
                "application/json": {"schema": _FORM_SCHEMA},
            },
        }
    },
)
async def issue_token(
    request: Request, ctx: Ctx, signer: Annotated[TokenSigner, Depends(token_signer)]
) -> Any:
    form = await _fields(request)
    grant = form.get("grant_type")
    try:
        if grant == "client_credentials":
            basic = _basic(request)
            client_id, secret = basic or (form.get("client_id"), form.get("client_secret"))
            if not client_id or secret is None:
                return _oauth_error(request, 400, "invalid_request", "client_id and secret needed")
            actor: Actor = await run_in_threadpool(auth.authenticate_client, ctx, client_id, secret)
        elif grant == "password":
            username, password = form.get("username"), form.get("password")
            if not username or password is None:
                return _oauth_error(request, 400, "invalid_request", "username and password needed")
            actor = await run_in_threadpool(auth.authenticate_user, ctx, username, password)
        else:
            return _oauth_error(
                request,
                400,
                "unsupported_grant_type",
                "grant_type must be client_credentials or password",
            )
    except AuthenticationError as exc:
        error = "invalid_client" if grant == "client_credentials" else "invalid_grant"
        return _oauth_error(request, 401, error, str(exc))
    issued = signer.issue(actor)
    return TokenResponse(
        access_token=issued.access_token, expires_in=issued.expires_in, role=actor.role
    )


@router.post(
    "/clients",
    status_code=201,
    response_model=auth.ApiClientView,
    summary="Create an API client (admin); the secret is shown once",
    responses=WRITE_PROBLEMS,
)
def create_client(
    body: ApiClientBody, ctx: Ctx, actor: CurrentActor, key: IdempotencyKey
) -> auth.ApiClientView:
    cmd = auth.CreateApiClient(body.role, body.org_id, body.station_id, body.label)
    return auth.create_api_client(ctx, actor, cmd, key)


@router.post(
    "/users",
    status_code=201,
    response_model=auth.UserView,
    summary="Create a password user (admin)",
    responses=WRITE_PROBLEMS,
)
def create_user(
    body: UserBody, ctx: Ctx, actor: CurrentActor, key: IdempotencyKey
) -> auth.UserView:
    cmd = auth.CreateUser(body.username, body.password, body.role, body.org_id)
    return auth.create_user(ctx, actor, cmd, key)
