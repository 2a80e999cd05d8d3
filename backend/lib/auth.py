"""Access tokens (JWT per RFC 8725), the signed-in user, and role guards. Loading the user behind a
token is the accounts domain's job (``backend.accounts.middleware``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard

from backend.lib.errors import AppError, Errors
from backend.lib.keys import KeyRing, load_keyring
from backend.settings import Settings

ALGORITHM = "EdDSA"  # pinned: the verifier never takes the algorithm from the token
TOKEN_TYPE = "at+jwt"  # noqa: S105 - RFC 9068 media type


@dataclass(frozen=True, slots=True)
class CurrentUser:
    id: uuid.UUID
    username: str
    display_name: str
    roles: frozenset[str]
    unit_ids: frozenset[uuid.UUID]
    session_id: uuid.UUID
    access_ends: datetime | None = None  # an invited supervisor's access ends with the invitation

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def sees_everything(self) -> bool:
        """Admins, supervisors and the command center are not bound to units."""
        return self.has_any("admin", "supervisor", "command")


class TokenService:
    def __init__(self, keyring: KeyRing, issuer: str, audience: str, ttl_s: int) -> None:
        self.keyring = keyring
        self.issuer = issuer
        self.audience = audience
        self.ttl_s = ttl_s

    @classmethod
    def for_settings(cls, settings: Settings) -> TokenService:
        """Signing keys from the data dir (made on first use), issuer, audience and lifetime from settings."""
        keyring = load_keyring(settings.keys_dir)
        return cls(keyring, settings.jwt_issuer, settings.jwt_audience, settings.access_token_ttl_s)

    def issue(self, user_id: uuid.UUID, session_id: uuid.UUID) -> str:
        now = datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(seconds=self.ttl_s),
            "jti": uuid.uuid4().hex,
        }
        headers = {"kid": self.keyring.signing_kid, "typ": TOKEN_TYPE}
        return jwt.encode(claims, self.keyring.signing_key, algorithm=ALGORITHM, headers=headers)

    def verify(self, token: str) -> dict[str, Any]:
        invalid = AppError(Errors.AUTH_INVALID_TOKEN)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise invalid from None
        if header.get("alg") != ALGORITHM or header.get("typ") != TOKEN_TYPE:
            raise invalid
        key = self.keyring.public_keys.get(str(header.get("kid")))
        if key is None:
            raise invalid
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "sid"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError:
            raise AppError(Errors.AUTH_INVALID_TOKEN, "The access token has expired.") from None
        except jwt.PyJWTError:
            raise invalid from None
        return claims


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def requires_roles(*roles: str) -> Guard:
    """Guard: the signed-in user holds at least one of ``roles``.

    Asynchronous, because Litestar runs a synchronous guard in its thread pool. ``OPTIONS`` passes:
    the authentication middleware lets it through unauthenticated (it only lists the allowed
    methods), so there is no user to check."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.scope.get("method") == "OPTIONS":
            return
        user: CurrentUser = connection.user
        if not user.has_any(*roles):
            raise AppError(Errors.FORBIDDEN, "Your role does not allow this.")

    guard.__name__ = f"requires_{'_or_'.join(roles)}"
    return guard
