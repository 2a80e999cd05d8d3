from __future__ import annotations

import html
import uuid
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from litestar import Controller, Response, get, post
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.lib.auth import requires_roles
from backend.lib.deps import SignedIn
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, Limit
from backend.live.publish import Events
from backend.publication import schemas, services

PublicationId = FromPath[uuid.UUID]
PublicLimit = Annotated[
    int, QueryParameter(ge=1, le=services.PUBLIC_MAX_LIMIT, description="page size, at most 50")
]
UnitFilter = Annotated[uuid.UUID | None, QueryParameter(description="the enforcing unit")]
ItemFilter = Annotated[uuid.UUID | None, QueryParameter(description="the enforcement item")]
DateFilter = Annotated[date | None, QueryParameter(description="decision date, YYYY-MM-DD")]


def public_rate_limit(per_minute: int) -> RateLimitConfig:
    """The public page and its JSON are open to anyone: a per-client cap keeps a scraper's loop from
    taking the server's time from phones."""
    return RateLimitConfig(rate_limit=("minute", per_minute))


class PublicationController(Controller):
    path = "/publications"
    tags = ["publication"]

    @post("/", guards=[requires_roles("officer")], summary="Publish a case's decision (执法公示)")
    async def publish(
        self, events: Events, user: SignedIn, data: JSONBody[schemas.PublishCreate]
    ) -> Response[schemas.Publication]:
        published = await services.publish(user, data.case_id, events)
        return Response(published, status_code=HTTP_201_CREATED)

    @get("/", summary="The publications of the units in scope, withdrawn ones too, newest first")
    async def list_publications(
        self,
        user: SignedIn,
        unit_id: UnitFilter = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[schemas.Publication]:
        items, next_cursor = await services.list_for_units(user, unit_id, cursor, limit)
        return Page(items=items, next_cursor=next_cursor)

    @post(
        "/{publication_id:uuid}/withdraw",
        guards=[requires_roles("officer", "supervisor")],
        status_code=HTTP_200_OK,
        summary="Withdraw a publication with its reason (第四十八条)",
    )
    async def withdraw(
        self,
        events: Events,
        user: SignedIn,
        publication_id: PublicationId,
        data: JSONBody[schemas.WithdrawCreate],
    ) -> schemas.Publication:
        return await services.withdraw(user, publication_id, data.reason, events)


class PublicController(Controller):
    """No sign-in: only published records, only their public fields."""

    path = "/public/publications"
    tags = ["public"]

    @get("/", exclude_from_auth=True, security=[{}], summary="Published decisions, newest first")
    async def public_list(
        self,
        unit_id: UnitFilter = None,
        item_id: ItemFilter = None,
        decided_from: DateFilter = None,
        decided_to: DateFilter = None,
        limit: PublicLimit = 20,
        cursor: Cursor = None,
    ) -> schemas.PublicPage:
        query = services.PublicQuery(unit_id, item_id, decided_from, decided_to, cursor, limit)
        return await services.public_list(query)

    @get("/filters", exclude_from_auth=True, security=[{}], summary="Units and items with publications")
    async def public_filters(self) -> dict[str, list[dict[str, str]]]:
        return await services.public_filters()

    @get("/{publication_id:uuid}", exclude_from_auth=True, security=[{}], summary="One publication")
    async def public_get(self, publication_id: PublicationId) -> schemas.PublicRecord | schemas.Withdrawn:
        return await services.public_get(publication_id)


# --- the public page: plain HTML from the server, small enough for any phone ----------------------


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        '<link rel="stylesheet" href="/public.css"></head>'
        f"<body><header><h1>{html.escape(title)}</h1></header><main>{body}</main></body></html>"
    )


def _money(value: float | None) -> str:
    return "" if value is None else f"罚款 {value:,.2f} 元"


def _record(r: schemas.PublicRecord, link: bool) -> str:
    e = html.escape
    party = e(r.party) + (f"（统一社会信用代码 {e(r.party_code)}）" if r.party_code else "")
    heading = f'<a href="/public/{r.id}">{e(r.case_number)}</a>' if link else e(r.case_number)
    penalty = "；".join(x for x in [_money(r.fine), *map(e, r.measures)] if x)
    return (
        f'<article class="pub" data-testid="publication" data-id="{r.id}">'
        f"<h2>{heading}</h2><dl>"
        f"<dt>执法单位</dt><dd>{e(r.unit_name)}</dd>"
        f"<dt>执法事项</dt><dd>{e(r.item_code)} {e(r.item_name)}</dd>"
        f"<dt>当事人</dt><dd>{party}</dd>"
        f"<dt>决定</dt><dd>{penalty or '—'}</dd>"
        + (f"<dt>决定书文号</dt><dd>{e(r.document_number)}</dd>" if r.document_number else "")
        + (f"<dt>依据</dt><dd>{e(r.legal_basis)}</dd>" if r.legal_basis and not link else "")
        + f"<dt>决定日期</dt><dd>{r.decided_on}</dd><dt>公示日期</dt><dd>{r.published_on}</dd>"
        "</dl></article>"
    )


def _options(choices: list[dict[str, str]], chosen: uuid.UUID | None, blank: str) -> str:
    e = html.escape
    options = [f'<option value="">{e(blank)}</option>']
    for c in choices:
        selected = " selected" if chosen is not None and c["id"] == str(chosen) else ""
        options.append(f'<option value="{e(c["id"])}"{selected}>{e(c["name"])}</option>')
    return "".join(options)


@get(
    "/public",
    exclude_from_auth=True,
    include_in_schema=False,
    media_type="text/html",
    name="public-page",
)
async def public_page(
    unit_id: UnitFilter = None,
    item_id: ItemFilter = None,
    decided_from: DateFilter = None,
    decided_to: DateFilter = None,
    cursor: Cursor = None,
) -> Response[str]:
    query = services.PublicQuery(unit_id, item_id, decided_from, decided_to, cursor, 10)
    page = await services.public_list(query)
    filters = await services.public_filters()
    e = html.escape
    units = _options(filters["units"], unit_id, "全部")
    items = _options(filters["items"], item_id, "全部")
    form = (
        '<form method="get" action="/public" class="search" role="search">'
        f'<label>执法单位<select name="unit_id">{units}</select></label>'
        f'<label>执法事项<select name="item_id">{items}</select></label>'
        f'<label>决定日期自<input type="date" name="decided_from" value="{decided_from or ""}"></label>'
        f'<label>至<input type="date" name="decided_to" value="{decided_to or ""}"></label>'
        '<button type="submit">查询</button></form>'
    )
    records = (
        "".join(_record(r, link=True) for r in page.items) or '<p class="empty">没有符合条件的公示。</p>'
    )
    more = ""
    if page.next_cursor:
        params = {
            k: str(v)
            for k, v in {
                "unit_id": unit_id,
                "item_id": item_id,
                "decided_from": decided_from,
                "decided_to": decided_to,
                "cursor": page.next_cursor,
            }.items()
            if v is not None
        }
        more = f'<p><a class="more" href="/public?{e(urlencode(params))}">下一页</a></p>'
    body = form + f'<section data-testid="publications">{records}</section>' + more
    return Response(_page("行政执法公示", body), media_type="text/html; charset=utf-8")


@get(
    "/public/{publication_id:uuid}",
    exclude_from_auth=True,
    include_in_schema=False,
    media_type="text/html",
    name="public-record",
)
async def public_record(publication_id: PublicationId) -> Response[str]:
    record = await services.public_get(publication_id)
    if isinstance(record, schemas.Withdrawn):
        body = (
            f'<article class="pub withdrawn" data-testid="withdrawn"><h2>本公示已撤回</h2>'
            f"<dl><dt>撤回日期</dt><dd>{record.withdrawn_on}</dd>"
            f"<dt>撤回理由</dt><dd>{html.escape(record.withdrawal_reason)}</dd></dl></article>"
        )
    else:
        body = _record(record, link=False)
    body += '<p><a href="/public">返回公示列表</a></p>'
    return Response(_page("行政执法公示", body), media_type="text/html; charset=utf-8")
