from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post, put
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from backend.accounts import schemas, services
from backend.lib.auth import requires_roles
from backend.lib.deps import AppSettings, Notify, SignedIn, Tokens
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, Limit


def auth_rate_limit(per_minute: int) -> RateLimitConfig:
    """Per-client cap on sign-in attempts, on top of the per-account lockout."""
    return RateLimitConfig(rate_limit=("minute", per_minute), exclude=["/schema"])


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/login", exclude_from_auth=True, status_code=HTTP_200_OK, summary="Sign in")
    async def login(
        self, settings: AppSettings, tokens: Tokens, data: JSONBody[schemas.LoginRequest]
    ) -> schemas.TokenPair:
        return await services.login(data.username, data.password, settings, tokens)

    @post("/refresh", exclude_from_auth=True, status_code=HTTP_200_OK, summary="Rotate the refresh token")
    async def refresh(
        self, settings: AppSettings, tokens: Tokens, events: Notify, data: JSONBody[schemas.RefreshRequest]
    ) -> schemas.TokenPair:
        return await services.refresh(data.refresh_token, settings, tokens, events)

    @post("/logout", status_code=HTTP_204_NO_CONTENT, summary="End this session")
    async def logout(
        self, user: SignedIn, events: Notify, data: JSONBody[schemas.LogoutRequest | None] = None
    ) -> None:
        await services.logout(user, events)


class MeController(Controller):
    path = "/me"
    tags = ["auth"]

    @get("/", summary="The signed-in user, roles, units and certificate status")
    async def me(self, user: SignedIn) -> schemas.User:
        return await services.user_view(user.id, full_phone=True)


class UserController(Controller):
    path = "/users"
    tags = ["users"]

    @get("/", summary="Users visible to you")
    async def list_users(
        self,
        user: SignedIn,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        role: FromQuery[schemas.Role | None] = None,
        unit_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[schemas.User]:
        return await services.list_users(user, cursor, limit, role, unit_id)

    @post("/", guards=[requires_roles("admin")], summary="Create a user")
    async def create_user(self, user: SignedIn, data: JSONBody[schemas.UserCreate]) -> schemas.User:
        return await services.create_user(user, data)

    @get("/{user_id:uuid}", summary="One user")
    async def get_user(self, user: SignedIn, user_id: FromPath[uuid.UUID]) -> schemas.User:
        return await services.get_user(user, user_id)

    @patch("/{user_id:uuid}", guards=[requires_roles("admin")], summary="Change a user")
    async def update_user(
        self,
        user: SignedIn,
        user_id: FromPath[uuid.UUID],
        events: Notify,
        data: JSONBody[schemas.UserUpdate],
    ) -> schemas.User:
        return await services.update_user(user, user_id, data, events)

    @put(
        "/{user_id:uuid}/certificate",
        guards=[requires_roles("admin", "supervisor")],
        summary="Issue or renew an enforcement certificate (执法证)",
    )
    async def set_certificate(
        self,
        user: SignedIn,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.CertificatePut],
    ) -> schemas.Certificate:
        return await services.set_certificate(user, user_id, data)

    @post(
        "/{user_id:uuid}/certificate/revoke",
        guards=[requires_roles("admin", "supervisor")],
        status_code=HTTP_200_OK,
        summary="Revoke and recall a certificate (注销并收回)",
    )
    async def revoke_certificate(
        self,
        user: SignedIn,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.CertificateRevoke],
    ) -> schemas.Certificate:
        return await services.revoke_certificate(user, user_id, data.reason)
