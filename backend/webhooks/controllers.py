from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.lib.auth import requires_roles
from backend.lib.deps import SignedIn
from backend.webhooks import schemas, services

EndpointId = FromPath[uuid.UUID]
DeliveryId = FromPath[uuid.UUID]


class WebhookController(Controller):
    """Outbound webhooks (admin): endpoints, their deliveries, a replay by hand."""

    path = "/webhooks"
    tags = ["webhooks"]
    guards = [requires_roles("admin")]

    @post(
        "/", status_code=HTTP_201_CREATED, summary="Register an endpoint (the answer shows its secret once)"
    )
    async def create(self, user: SignedIn, data: JSONBody[schemas.EndpointCreate]) -> schemas.Endpoint:
        return await services.create_endpoint(user, data)

    @get("/", summary="The endpoints, with their waiting and failed deliveries")
    async def list_endpoints(self) -> list[schemas.Endpoint]:
        return await services.list_endpoints()

    @get("/{endpoint_id:uuid}", summary="One endpoint")
    async def get_endpoint(self, endpoint_id: EndpointId) -> schemas.Endpoint:
        return await services.get_endpoint(endpoint_id)

    @patch("/{endpoint_id:uuid}", summary="Change an endpoint (url, events, scope, pause with active=false)")
    async def update(
        self, user: SignedIn, endpoint_id: EndpointId, data: JSONBody[schemas.EndpointUpdate]
    ) -> schemas.Endpoint:
        return await services.update_endpoint(user, endpoint_id, data)

    @post("/{endpoint_id:uuid}/rotate-secret", status_code=HTTP_200_OK, summary="A new signing secret")
    async def rotate(self, user: SignedIn, endpoint_id: EndpointId) -> schemas.Endpoint:
        return await services.rotate_secret(user, endpoint_id)

    @delete("/{endpoint_id:uuid}", status_code=HTTP_204_NO_CONTENT, summary="Remove an endpoint and its log")
    async def remove(self, user: SignedIn, endpoint_id: EndpointId) -> None:
        await services.delete_endpoint(user, endpoint_id)

    @get("/{endpoint_id:uuid}/deliveries", summary="Deliveries, newest first, with each attempt")
    async def deliveries(
        self,
        endpoint_id: EndpointId,
        status: Annotated[Literal["pending", "delivered", "failed"] | None, QueryParameter()] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> list[schemas.Delivery]:
        return await services.list_deliveries(endpoint_id, status, limit)

    @get("/{endpoint_id:uuid}/deliveries/{delivery_id:uuid}", summary="One delivery with its body")
    async def delivery(self, endpoint_id: EndpointId, delivery_id: DeliveryId) -> schemas.Delivery:
        return await services.get_delivery(endpoint_id, delivery_id)

    @post(
        "/{endpoint_id:uuid}/deliveries/{delivery_id:uuid}/replay",
        status_code=HTTP_200_OK,
        summary="Send a delivery again now (same body and webhook-id)",
    )
    async def replay(
        self, user: SignedIn, endpoint_id: EndpointId, delivery_id: DeliveryId
    ) -> schemas.Delivery:
        return await services.replay(user, endpoint_id, delivery_id)
