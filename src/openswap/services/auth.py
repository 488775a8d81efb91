"""Credentials: API clients (OAuth2 client credentials) and users (password flow).

Secrets and passwords are stored only as salted scrypt hashes and compared in constant time.
A verified credential becomes an `Actor`; signing and checking bearer tokens is the delivery
adapter's concern (the API signs JWTs), not this module's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace

from openswap.domain.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    Problem,
)
from openswap.services.model import Actor, ApiClientRecord, OrgRole, Role, UserRecord
from openswap.services.operations import OperationsContext, deny, execute, transact
from openswap.services.ports import UnitOfWork

# scrypt cost: n=2**14, r=8 takes 16 MiB and about 40 ms here; enough for machine secrets of
# 256 random bits, and it keeps a leaked password table expensive to attack.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_HASH_BYTES = 32
_SALT_BYTES = 16
_SECRET_BYTES = 32
_INVALID = "invalid client credentials"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str, *, n: int = SCRYPT_N, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$hash` for `secret` with a fresh random salt (or `salt`)."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.scrypt(
        secret.encode(), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, dklen=_HASH_BYTES
    )
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str) -> bool:
    """Does `secret` match the stored hash? Constant-time; False for any malformed hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            secret.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A hash compared against when the client or user does not exist, so an unknown id costs as
# much time as a wrong secret (no user enumeration by timing).
_DUMMY_HASH = hash_secret("openswap-no-such-principal", salt=b"\0" * _SALT_BYTES)


# --- commands and results --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateApiClient:
    """A machine credential with `role`; fleets and operators name their organisation, a
    station device names its station (its organisation is the station's operator)."""

    role: Role
    org_id: str | None = None
    station_id: str | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class ApiClientView:
    """A client as issued. `client_secret` is shown once, in the response that created it
    (None when a retried request replays the first response, and never stored)."""

    client_id: str
    role: Role
    org_id: str | None
    station_id: str | None
    client_secret: str | None = None


@dataclass(frozen=True, slots=True)
class CreateUser:
    """A person who logs in with a password (not a station device). The password is not part
    of the idempotency fingerprint: a retry is recognised by username, role and organisation."""

    username: str
    password: str
    role: Role
    org_id: str | None = None


@dataclass(frozen=True, slots=True)
class _UserFingerprint:
    username: str
    role: Role
    org_id: str | None


@dataclass(frozen=True, slots=True)
class UserView:
    id: str
    username: str
    role: Role
    org_id: str | None


def _check_principal(
    uow: UnitOfWork, role: Role, org_id: str | None, station_id: str | None
) -> str | None:
    """Validate the organisation and station a principal names; its organisation id."""
    if role is Role.STATION:
        if station_id is None:
            raise InputError(
                [Problem("a station credential names its station", field="station_id")]
            )
        station = uow.stations.get(station_id)
        if station is None:
            raise NotFoundError("station", station_id)
        if org_id is not None and org_id != station.operator_org_id:
            raise InputError(
                [
                    Problem(
                        f"station {station_id} is run by {station.operator_org_id}", field="org_id"
                    )
                ]
            )
        return station.operator_org_id
    if station_id is not None:
        raise InputError([Problem("only station credentials name a station", field="station_id")])
    if role in (Role.FLEET, Role.OPERATOR):
        if org_id is None:
            raise InputError(
                [Problem(f"a {role} credential names its organisation", field="org_id")]
            )
        org = uow.organisations.get(org_id)
        if org is None:
            raise NotFoundError("organisation", org_id)
        needed = OrgRole.FLEET if role is Role.FLEET else OrgRole.OPERATOR
        if needed not in org.roles:
            raise InputError([Problem(f"organisation {org_id} is not a {needed}", field="org_id")])
        return org_id
    if org_id is not None and uow.organisations.get(org_id) is None:
        raise NotFoundError("organisation", org_id)
    return org_id


def create_api_client(
    ctx: OperationsContext, actor: Actor, cmd: CreateApiClient, idempotency_key: str
) -> ApiClientView:
    """Issue a client id and a random secret (admin only); only the secret's hash is stored."""
    if actor.role is not Role.ADMIN:
        raise deny(actor, "create API clients")
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    client_id = ctx.ids.new_id("cli_")
    secret_hash = hash_secret(secret)

    def body(uow: UnitOfWork) -> ApiClientView:
        org = _check_principal(uow, cmd.role, cmd.org_id, cmd.station_id)
        uow.api_clients.add(
            ApiClientRecord(client_id, org, secret_hash, cmd.role, cmd.station_id, True)
        )
        return ApiClientView(client_id, cmd.role, org, cmd.station_id)

    view = execute(ctx, actor, idempotency_key, "create_api_client", cmd, ApiClientView, body)
    # The secret goes back only to the request that created it, never into the stored reply.
    return replace(view, client_secret=secret) if view.client_id == client_id else view


def create_user(
    ctx: OperationsContext, actor: Actor, cmd: CreateUser, idempotency_key: str
) -> UserView:
    """Add a password user (admin only). Passwords of at least 12 characters."""
    if actor.role is not Role.ADMIN:
        raise deny(actor, "create users")
    if cmd.role is Role.STATION:
        raise InputError([Problem("station devices use client credentials", field="role")])
    if len(cmd.password) < 12:
        raise InputError([Problem("must be at least 12 characters", field="password")])
    password_hash = hash_secret(cmd.password)
    fp = _UserFingerprint(cmd.username, cmd.role, cmd.org_id)

    def body(uow: UnitOfWork) -> UserView:
        org = _check_principal(uow, cmd.role, cmd.org_id, None)
        if uow.users.by_username(cmd.username) is not None:
            raise ConflictError(f"username {cmd.username!r} is taken")
        user = UserRecord(ctx.ids.new_id("usr_"), org, cmd.username, password_hash, cmd.role)
        uow.users.add(user)
        return UserView(user.id, user.username, user.role, user.org_id)

    return execute(ctx, actor, idempotency_key, "create_user", fp, UserView, body)


def authenticate_client(ctx: OperationsContext, client_id: str, secret: str) -> Actor:
    """The actor of an active API client whose secret matches; else `AuthenticationError`."""
    record = transact(ctx, lambda uow: uow.api_clients.get(client_id))
    stored = record.secret_hash if record is not None else _DUMMY_HASH
    ok = verify_secret(secret, stored)
    if record is None or not ok or not record.active:
        raise AuthenticationError(_INVALID)
    return Actor(record.client_id, record.role, record.org_id, record.station_id)


def authenticate_user(ctx: OperationsContext, username: str, password: str) -> Actor:
    """The actor of an active user whose password matches; else `AuthenticationError`.
    Idempotency keys of a user are scoped to its user id."""
    record = transact(ctx, lambda uow: uow.users.by_username(username))
    stored = record.password_hash if record is not None else _DUMMY_HASH
    ok = verify_secret(password, stored)
    if record is None or not ok or not record.active:
        raise AuthenticationError("invalid username or password")
    return Actor(record.id, record.role, record.org_id)
