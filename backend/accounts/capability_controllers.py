from __future__ import annotations

import uuid

from litestar import Controller, get, put
from litestar.params import FromPath, JSONBody

from backend.accounts import capabilities, schemas
from backend.lib.auth import requires_roles
from backend.lib.deps import SignedIn


class CapabilityController(Controller):
    path = "/"
    tags = ["users"]

    @get("/me/capabilities", summary="Your signing right and the units whose documents you answer")
    async def mine(self, user: SignedIn) -> schemas.Capabilities:
        return await capabilities.get_capabilities(user, user.id)

    @get(
        "/users/{user_id:uuid}/capabilities",
        guards=[requires_roles("admin", "supervisor")],
        summary="A user's signing right and responder units",
    )
    async def get_capabilities(self, user: SignedIn, user_id: FromPath[uuid.UUID]) -> schemas.Capabilities:
        return await capabilities.get_capabilities(user, user_id)

    @put(
        "/users/{user_id:uuid}/capabilities",
        guards=[requires_roles("admin")],
        summary="Grant or withdraw signing rights (签发权); name the units the user answers for",
    )
    async def set_capabilities(
        self, user: SignedIn, user_id: FromPath[uuid.UUID], data: JSONBody[schemas.CapabilitiesPut]
    ) -> schemas.Capabilities:
        return await capabilities.set_capabilities(user, user_id, data)
