from __future__ import annotations

import uuid

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from backend.lib.auth import requires_roles
from backend.lib.deps import SignedIn
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, Limit
from backend.org import schemas, services


class UnitController(Controller):
    path = "/units"
    tags = ["organisation"]

    @get("/", summary="The organisation (units form a tree through parent_id)")
    async def list_units(self, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[schemas.Unit]:
        return await services.list_units(cursor, limit)

    @post("/", guards=[requires_roles("admin")], summary="Create a unit")
    async def create_unit(self, user: SignedIn, data: JSONBody[schemas.UnitCreate]) -> schemas.Unit:
        return await services.create_unit(user, data)

    @get("/{unit_id:uuid}", summary="One unit")
    async def get_unit(self, unit_id: FromPath[uuid.UUID]) -> schemas.Unit:
        return await services.get_unit(unit_id)


class ItemController(Controller):
    path = "/items"
    tags = ["organisation"]

    @get("/", summary="Enforcement items; with unit_id, what that unit may act on today")
    async def list_items(
        self, unit_id: FromQuery[uuid.UUID | None] = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> Page[schemas.Item]:
        return await services.list_items(unit_id, cursor, limit)

    @post("/", guards=[requires_roles("admin")], summary="Add an item to the catalogue (权责清单)")
    async def create_item(self, user: SignedIn, data: JSONBody[schemas.ItemCreate]) -> schemas.Item:
        return await services.create_item(user, data)

    @get("/{item_id:uuid}", summary="One item")
    async def get_item(self, item_id: FromPath[uuid.UUID]) -> schemas.Item:
        return await services.get_item(item_id)

    @post("/{item_id:uuid}/delegations", guards=[requires_roles("admin")], summary="Delegate an item (赋权)")
    async def delegate(
        self,
        user: SignedIn,
        item_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.DelegationCreate],
    ) -> schemas.Delegation:
        return await services.create_delegation(user, item_id, data)
