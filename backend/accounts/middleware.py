"""Authentication: verify the bearer token, then load the user and the session behind it on every
request, so a logout, a disabled account or a revoked session ends access at once."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from backend.accounts.services import load_current_user
from backend.lib.auth import CurrentUser, TokenService, bearer_token
from backend.lib.errors import AppError, Errors


class JWTAuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: ASGIApp, tokens: TokenService, exclude: str | list[str] | None = None) -> None:
        super().__init__(app, exclude=exclude, exclude_from_auth_key="exclude_from_auth")
        self.tokens = tokens

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = bearer_token(connection)
        if token is None:
            raise AppError(Errors.AUTH_REQUIRED, "Sign in: send 'Authorization: Bearer <access token>'.")
        claims = self.tokens.verify(token)
        user = await load_current_user(uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]))
        return AuthenticationResult(user=user, auth=claims)


async def optional_user(
    connection: ASGIConnection[Any, Any, Any, Any], tokens: TokenService
) -> CurrentUser | None:
    """For a handler open to everyone (``exclude_from_auth``) that does more for a signed-in caller:
    None without a bearer token; a token sent is checked exactly as the middleware checks it."""
    token = bearer_token(connection)
    if token is None:
        return None
    claims = tokens.verify(token)
    return await load_current_user(uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]))
