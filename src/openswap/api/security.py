"""Bearer tokens: signed JWTs (HS256) carrying the actor, and reading them back.

Claims: `iss`, `sub` (client or user id), `role`, `org`, `station`, `iat`, `exp`. A token that
is missing, malformed, wrongly signed, from another issuer or expired is refused with
`AuthenticationError` (401). Credentials themselves are checked in `services.auth`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from openswap.api.settings import ApiSettings
from openswap.domain.errors import AuthenticationError
from openswap.services.model import Actor, Role

ALGORITHM = "HS256"
_LEEWAY_S = 5  # clock skew between workers


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


class TokenSigner:
    """Signs and verifies the API's bearer tokens with the settings' secret."""

    def __init__(self, settings: ApiSettings) -> None:
        self._secret = settings.jwt_secret
        self._ttl_s = settings.token_ttl_s
        self._issuer = settings.issuer

    def issue(
        self, actor: Actor, ttl_s: int | None = None, now: float | None = None
    ) -> IssuedToken:
        """A token for `actor`, valid `ttl_s` seconds (default: the settings' lifetime)."""
        ttl = self._ttl_s if ttl_s is None else ttl_s
        iat = int(time.time() if now is None else now)
        claims = {
            "iss": self._issuer,
            "sub": actor.client_id,
            "role": str(actor.role),
            "org": actor.org_id,
            "station": actor.station_id,
            "iat": iat,
            "exp": iat + ttl,
        }
        return IssuedToken(jwt.encode(claims, self._secret, algorithm=ALGORITHM), ttl)

    def actor(self, token: str) -> Actor:
        """The actor a valid token speaks for; `AuthenticationError` otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                leeway=_LEEWAY_S,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
            role = Role(claims["role"])
            org, station = claims.get("org"), claims.get("station")
            sub = claims["sub"]
            if not isinstance(sub, str) or not all(
                v is None or isinstance(v, str) for v in (org, station)
            ):
                raise ValueError("bad claim types")
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("the bearer token has expired") from None
        except (jwt.InvalidTokenError, KeyError, ValueError):
            raise AuthenticationError("the bearer token is not valid") from None
        return Actor(sub, role, org, station)
