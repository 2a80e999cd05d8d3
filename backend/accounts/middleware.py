"""Authentication: verify the bearer token, then load the user and the session behind it, so a
logout, a disabled account or a revoked session ends access at once. Both answers are kept per
process until the token's session or account changes (``backend.accounts.session_cache``)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from backend.accounts.services import load_current_user
from backend.accounts.session_cache import SESSIONS
from backend.lib.auth import CurrentUser, TokenService, bearer_token
from backend.lib.errors import AppError, Errors


class JWTAuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(
        self,
        app: ASGIApp,
        tokens: TokenService,
        cache_s: float = 0,
        exclude: str | list[str] | None = None,
    ) -> None:
        super().__init__(app, exclude=exclude, exclude_from_auth_key="exclude_from_auth")
        self.tokens = tokens
        self.cache_s = cache_s

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = bearer_token(connection)
        if token is None:
            raise AppError(Errors.AUTH_REQUIRED, "Sign in: send 'Authorization: Bearer <access token>'.")
        user, claims = await signed_in(token, self.tokens, self.cache_s)
        return AuthenticationResult(user=user, auth=claims)


async def signed_in(token: str, tokens: TokenService, cache_s: float) -> tuple[CurrentUser, dict[str, Any]]:
    """The user behind a bearer token, from this process's cache when it holds the token (``cache_s``
    0: always checked)."""
    if cache_s <= 0:
        claims = tokens.verify(token)
        return await load_current_user(uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])), claims
    key = SESSIONS.key(token)
    entry = SESSIONS.get(key)
    if entry is not None:
        return entry.user, entry.claims
    claims = tokens.verify(token)
    user_id = uuid.UUID(claims["sub"])
    stamp = SESSIONS.stamp(key, user_id)
    user = await load_current_user(user_id, uuid.UUID(claims["sid"]))
    SESSIONS.put(stamp, user, claims, cache_s)
    return user, claims


async def optional_user(
    connection: ASGIConnection[Any, Any, Any, Any], tokens: TokenService
) -> CurrentUser | None:
    """For a handler open to everyone (``exclude_from_auth``) that does more for a signed-in caller:
    None without a bearer token; a token sent is checked against the database, never the cache."""
    token = bearer_token(connection)
    if token is None:
        return None
    return (await signed_in(token, tokens, 0))[0]
