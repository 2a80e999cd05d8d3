from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from backend.lib import tables
from backend.lib.auth import requires_roles
from backend.lib.clock import today_local
from backend.lib.deps import SignedIn
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, Limit
from backend.org import schemas, services
from media_store.base import content_disposition

Search = Annotated[str | None, QueryParameter(max_length=64, description="part of the name or code")]

KIND_LABELS = {"penalty": "行政处罚", "coercion": "行政强制", "inspection": "行政检查", "other": "其他"}


def enforcement_table(listing: schemas.EnforcementList) -> tables.Table:
    rows = []
    for e in listing.entries:
        item = e.item
        major = item.major_case
        rule = "；".join(
            [f"罚款{major.fine_at_least:g}元以上" if major and major.fine_at_least is not None else ""]
            + (list(major.measures) if major else [])
        ).strip("；")
        threshold = item.criminal_threshold
        rows.append(
            [
                item.code,
                item.name,
                KIND_LABELS.get(item.kind, item.kind),
                item.legal_basis,
                "本单位职权" if e.authority == "own" else "赋权实施",
                e.owner_unit_name,
                "" if e.delegated_from is None else f"{e.delegated_from} 至 {e.delegated_to or '长期'}",
                rule,
                "" if threshold is None else f"涉案金额{threshold.amount_involved_at_least:g}元以上",
            ]
        )
    header = [
        "事项编码",
        "事项名称",
        "类别",
        "实施依据",
        "职权来源",
        "主管部门",
        "赋权期间",
        "重大案件标准",
        "刑事移送标准",
    ]
    return tables.Table(
        f"{listing.unit_name}行政执法事项清单（{listing.on}）",
        header,
        rows,
        [14, 36, 10, 50, 10, 20, 26, 24, 20],
    )


class UnitController(Controller):
    path = "/units"
    tags = ["organisation"]

    @get("/", summary="The organisation (units form a tree through parent_id); by part of the name, by kind")
    async def list_units(
        self,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        q: Search = None,
        kind: FromQuery[schemas.UnitKind | None] = None,
    ) -> Page[schemas.Unit]:
        return await services.list_units(cursor, limit, q, kind)

    @post("/", guards=[requires_roles("admin")], summary="Create a unit")
    async def create_unit(self, user: SignedIn, data: JSONBody[schemas.UnitCreate]) -> schemas.Unit:
        return await services.create_unit(user, data)

    @get("/{unit_id:uuid}", summary="One unit")
    async def get_unit(self, unit_id: FromPath[uuid.UUID]) -> schemas.Unit:
        return await services.get_unit(unit_id)

    @patch(
        "/{unit_id:uuid}",
        guards=[requires_roles("admin")],
        summary="Rename or move a unit; its pilot flag and period",
    )
    async def update_unit(
        self, user: SignedIn, unit_id: FromPath[uuid.UUID], data: JSONBody[schemas.UnitUpdate]
    ) -> schemas.Unit:
        return await services.update_unit(user, unit_id, data)

    @get(
        "/{unit_id:uuid}/dependents",
        guards=[requires_roles("admin")],
        summary="What still depends on a unit (what would block its deactivation)",
    )
    async def dependents(self, unit_id: FromPath[uuid.UUID]) -> schemas.UnitDependents:
        return await services.dependents(unit_id)

    @post(
        "/{unit_id:uuid}/deactivate",
        guards=[requires_roles("admin")],
        status_code=HTTP_200_OK,
        summary="Deactivate a unit (refused, with the list, while something depends on it)",
    )
    async def deactivate(self, user: SignedIn, unit_id: FromPath[uuid.UUID]) -> schemas.Unit:
        return await services.set_active(user, unit_id, False)

    @post(
        "/{unit_id:uuid}/activate",
        guards=[requires_roles("admin")],
        status_code=HTTP_200_OK,
        summary="Reactivate a unit",
    )
    async def activate(self, user: SignedIn, unit_id: FromPath[uuid.UUID]) -> schemas.Unit:
        return await services.set_active(user, unit_id, True)

    @get(
        "/{unit_id:uuid}/enforcement-list",
        summary="执法事项清单: what the unit may enforce on a day, own and delegated (JSON, CSV or XLSX)",
    )
    async def enforcement_list(
        self,
        unit_id: FromPath[uuid.UUID],
        on: Annotated[date | None, QueryParameter(description="the day (default today, Beijing)")] = None,
        format: Annotated[Literal["json", "csv", "xlsx"] | None, QueryParameter()] = None,
    ) -> Any:
        listing = await services.enforcement_list(unit_id, on or today_local())
        if format in (None, "json"):
            return listing
        table = enforcement_table(listing)
        body = tables.to_csv(table) if format == "csv" else tables.to_xlsx(table)
        return Response(
            body,
            media_type=tables.MEDIA[format],
            headers={"Content-Disposition": content_disposition(f"{table.title}.{format}")},
        )


class ItemController(Controller):
    path = "/items"
    tags = ["organisation"]

    @get(
        "/",
        summary="Enforcement items; with unit_id, what that unit may act on today; by part of the "
        "code or name, kind and owning department",
    )
    async def list_items(
        self,
        unit_id: FromQuery[uuid.UUID | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        q: Search = None,
        kind: FromQuery[schemas.ItemKind | None] = None,
        owner_unit_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[schemas.Item]:
        return await services.list_items(unit_id, cursor, limit, q, kind, owner_unit_id)

    @post("/", guards=[requires_roles("admin")], summary="Add an item to the catalogue (权责清单)")
    async def create_item(self, user: SignedIn, data: JSONBody[schemas.ItemCreate]) -> schemas.Item:
        return await services.create_item(user, data)

    @get("/{item_id:uuid}", summary="One item")
    async def get_item(self, item_id: FromPath[uuid.UUID]) -> schemas.Item:
        return await services.get_item(item_id)

    @patch(
        "/{item_id:uuid}",
        guards=[requires_roles("admin")],
        summary="Change an item's terms (its code never changes)",
    )
    async def update_item(
        self, user: SignedIn, item_id: FromPath[uuid.UUID], data: JSONBody[schemas.ItemUpdate]
    ) -> schemas.Item:
        return await services.update_item(user, item_id, data)

    @get(
        "/{item_id:uuid}/delegations",
        guards=[requires_roles("admin")],
        summary="The item's delegations (赋权), past, current and future",
    )
    async def delegations(self, item_id: FromPath[uuid.UUID]) -> list[schemas.Delegation]:
        return await services.list_delegations(item_id)

    @post(
        "/{item_id:uuid}/delegations/{delegation_id:uuid}/end",
        guards=[requires_roles("admin")],
        status_code=HTTP_200_OK,
        summary="End a delegation on a day (its last day)",
    )
    async def end_delegation(
        self,
        user: SignedIn,
        item_id: FromPath[uuid.UUID],
        delegation_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.DelegationEnd],
    ) -> schemas.Delegation:
        return await services.end_delegation(user, item_id, delegation_id, data)

    @post("/{item_id:uuid}/delegations", guards=[requires_roles("admin")], summary="Delegate an item (赋权)")
    async def delegate(
        self,
        user: SignedIn,
        item_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.DelegationCreate],
    ) -> schemas.Delegation:
        return await services.create_delegation(user, item_id, data)


class PublicUnitController(Controller):
    """No sign-in (the public nomination form): the active units' id and name, nothing else."""

    path = "/public/units"
    tags = ["public"]

    @get("/", exclude_from_auth=True, security=[{}], summary="The active units, id and name only")
    async def public_units(self) -> list[schemas.PublicUnit]:
        return await services.public_units()
