"""RFC 9457 problem details: the one place where errors become HTTP responses.

Every error answer is `application/problem+json` with `type`, `title`, `status`, `detail`
and `instance`, plus `errors` (one entry per bad request field: `field`, `in`, `message`) for
invalid input and `reasons` for refused swaps. Domain errors map as documented in
docs/design/operations.md; anything unexpected is a logged 500 that reveals nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from openswap.domain.errors import (
    AuthenticationError,
    ConflictError,
    IdempotencyConflict,
    InputError,
    InvalidTransitionError,
    NotFoundError,
    OpenswapError,
    PermissionDeniedError,
    SwapRefusedError,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:openswap:problem:"
log = logging.getLogger("openswap.api")


class FieldProblem(BaseModel):
    """One bad request field: its path (`readings[0].soc`), where it was sent, what is wrong."""

    field: str
    location: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldProblem] = []
    reasons: list[str] = []


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
}


def problem_response(
    request: Request,
    status: int,
    slug: str,
    detail: str,
    *,
    errors: list[FieldProblem] | None = None,
    reasons: list[str] | tuple[str, ...] = (),
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = Problem(
        type=TYPE_PREFIX + slug,
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors or [],
        reasons=list(reasons),
        **extra,
    )
    return JSONResponse(
        body.model_dump(),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _loc_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "request"


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[FieldProblem] = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        where = str(loc[0]) if loc else "body"
        errors.append(
            FieldProblem(field=_loc_path(loc[1:]), location=where, message=str(err.get("msg")))
        )
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "invalid request"
    return problem_response(request, 422, "invalid-request", detail, errors=errors)


def _openswap(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OpenswapError)
    if isinstance(exc, InputError):
        errors = [
            FieldProblem(field=p.field or "request", location="body", message=p.message)
            for p in exc.problems
        ]
        return problem_response(request, 422, "invalid-request", str(exc), errors=errors)
    if isinstance(exc, IdempotencyConflict):
        errors = [FieldProblem(field="Idempotency-Key", location="header", message=str(exc))]
        return problem_response(request, 422, "idempotency-key-reused", str(exc), errors=errors)
    if isinstance(exc, NotFoundError):
        return problem_response(request, 404, "not-found", str(exc))
    if isinstance(exc, PermissionDeniedError):
        return problem_response(request, 403, "forbidden", exc.reason)
    if isinstance(exc, AuthenticationError):
        return problem_response(
            request, 401, "unauthorized", str(exc), headers={"WWW-Authenticate": "Bearer"}
        )
    if isinstance(exc, SwapRefusedError):
        return problem_response(request, 409, "swap-refused", exc.reason, reasons=exc.reasons)
    if isinstance(exc, InvalidTransitionError):
        return problem_response(
            request,
            409,
            "invalid-transition",
            exc.reason,
            reasons=[exc.reason],
            state=exc.state,
            action=exc.action,
        )
    if isinstance(exc, ConflictError):
        return problem_response(request, 409, "conflict", exc.reason, reasons=[exc.reason])
    log.error("unmapped openswap error on %s: %r", request.url.path, exc)
    return problem_response(request, 500, "internal", "an internal error occurred")


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return problem_response(
        request, exc.status_code, slug, str(exc.detail), headers=exc.headers or None
    )


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, 500, "internal", "an internal error occurred")


def install_problem_handlers(app: FastAPI) -> None:
    """Map every error to problem details (the only error mapping of the API)."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(OpenswapError, _openswap)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)


def _problem_ref(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


READ_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: _problem_ref("missing, invalid or expired bearer token"),
    403: _problem_ref("the principal's role may not do this"),
    404: _problem_ref("no such entity, or not visible to this tenant"),
    422: _problem_ref("invalid request: `errors` names every bad field"),
}
BODY_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **READ_PROBLEMS,
    400: _problem_ref("the body is not parseable JSON"),
}
WRITE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **BODY_PROBLEMS,
    409: _problem_ref("conflicts with the current state; `reasons` says why"),
}
