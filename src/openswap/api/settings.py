"""What the REST adapter needs to know, and how to interpret it from an environment mapping
that a composition root (`asgi`, `cli`) hands over: nothing here reads `os.environ`.

`OPENSWAP_JWT_SECRET` (at least 32 bytes) or else the key file `OPENSWAP_JWT_SECRET_FILE`
(default `./openswap-jwt.key`, created with mode 0600 when missing); `OPENSWAP_TOKEN_TTL_S`
(default 3600).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MIN_SECRET_BYTES = 32
JWT_SECRET_ENV = "OPENSWAP_JWT_SECRET"
JWT_SECRET_FILE_ENV = "OPENSWAP_JWT_SECRET_FILE"
TOKEN_TTL_ENV = "OPENSWAP_TOKEN_TTL_S"
DEFAULT_SECRET_FILE = "openswap-jwt.key"
DEFAULT_TOKEN_TTL_S = 3600
LEDGER_ORIGIN_ENV = "OPENSWAP_LEDGER_ORIGIN"  # the transparency log's origin line


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """`jwt_secret` signs bearer tokens (HS256; at least 32 bytes); tokens live
    `token_ttl_s` seconds. `issuer` goes into and is required from every token."""

    jwt_secret: bytes
    token_ttl_s: int = 3600
    issuer: str = "openswap"
    title: str = "openswap operations API"

    def __post_init__(self) -> None:
        if len(self.jwt_secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the JWT secret needs at least {MIN_SECRET_BYTES} bytes")
        if not 1 <= self.token_ttl_s <= 7 * 24 * 3600:
            raise ValueError("the token lifetime must be 1 s to 7 days")


def jwt_secret(environ: Mapping[str, str]) -> bytes:
    """The signing secret: `OPENSWAP_JWT_SECRET`, else the key file (made when missing).

    The file is created atomically (O_EXCL) before workers start (`openswap serve`), so every
    worker signs with the same key.
    """
    value = environ.get(JWT_SECRET_ENV, "")
    if value:
        return value.encode()
    path = Path(environ.get(JWT_SECRET_FILE_ENV) or DEFAULT_SECRET_FILE)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes().strip()
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(
                f"JWT key file {path} holds fewer than {MIN_SECRET_BYTES} bytes"
            ) from None
        return secret
    secret = secrets.token_urlsafe(48).encode()
    with os.fdopen(fd, "wb") as f:
        f.write(secret + b"\n")
    return secret


def api_settings(environ: Mapping[str, str]) -> ApiSettings:
    """Settings from an environment mapping (see the module docstring)."""
    text = environ.get(TOKEN_TTL_ENV, "").strip()
    try:
        ttl = int(text) if text else DEFAULT_TOKEN_TTL_S
    except ValueError:
        raise ValueError(f"{TOKEN_TTL_ENV} must be whole seconds, got {text!r}") from None
    return ApiSettings(jwt_secret=jwt_secret(environ), token_ttl_s=ttl)
