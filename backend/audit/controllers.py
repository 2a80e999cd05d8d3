from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from backend.audit import heads, schemas, services
from backend.lib import tables
from backend.lib.auth import requires_roles
from backend.lib.clock import BEIJING
from backend.lib.deps import Integrity, Store
from backend.lib.errors import AppError, Errors
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, Limit
from backend.lib.signing import ALGORITHM, IntegrityKey
from media_store.base import content_disposition

Filter = Annotated[str | None, QueryParameter(max_length=64)]
Size = Annotated[int, QueryParameter(ge=1, le=2**63 - 1)]
MAX_OUTSIDE_HEADS = 100
Since = Annotated[date | None, QueryParameter(name="from", description="first Beijing date, included")]
Until = Annotated[date | None, QueryParameter(name="to", description="last Beijing date, included")]
EXPORT_LIMIT = 10_000  # entries in one downloaded file


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BEIJING)


def _filter(
    object_type: str | None,
    object_id: str | None,
    action: str | None,
    actor: str | None,
    since: date | None,
    until: date | None,
) -> services.EntryFilter:
    if since and until and until < since:
        raise AppError(
            Errors.VALIDATION,
            "The period ends before it starts.",
            errors=[{"key": "to", "message": "before from"}],
        )
    return services.EntryFilter(
        object_type=object_type,
        object_id=object_id,
        action=action,
        actor=actor,
        since=_midnight(since) if since else None,
        until=_midnight(until + timedelta(days=1)) if until else None,
    )


def _entries_table(entries: list[schemas.AuditEntry], more: bool) -> tables.Table:
    rows: list[list[Any]] = [
        [
            e.seq,
            e.at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            e.actor or "系统",
            e.action,
            e.object_type,
            e.object_id,
            json.dumps(e.data, ensure_ascii=False, sort_keys=True),
            e.hash,
        ]
        for e in entries
    ]
    if more:
        rows.append(["", "", "", f"仅导出最新{len(entries)}条，请缩小筛选范围", "", "", "", ""])
    header = ["序号", "时间（北京）", "操作人", "操作", "对象类型", "对象编号", "内容", "哈希"]
    return tables.Table("审计日志", header, rows, [8, 20, 16, 28, 16, 38, 60, 66])


def _head(head: heads.SignedHead, key: IntegrityKey) -> schemas.TreeHead:
    return schemas.TreeHead(**head.as_json(key))


async def _check(store: Store, integrity: Integrity, outside: list[heads.SignedHead]) -> schemas.ChainCheck:
    report = await services.verify(integrity, outside)
    records = await services.verify_records(store, integrity)
    problems = [*report.problems, *records]
    return schemas.ChainCheck(
        ok=not problems,
        checked=report.checked,
        head_seq=report.head_seq,
        broken_at_seq=report.broken_at_seq,
        problem=problems[0] if problems else None,
        problems=problems,
        heads_checked=report.heads_checked,
        signed_size=report.signed_size,
    )


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]
    guards = [requires_roles("supervisor", "admin")]

    @get("/", summary="The append-only audit log, newest first; filtered by who, what, object and day")
    async def list_entries(
        self,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        object_type: Filter = None,
        object_id: Filter = None,
        action: Filter = None,
        actor: Filter = None,
        since: Since = None,
        until: Until = None,
    ) -> Page[schemas.AuditEntry]:
        where = _filter(object_type, object_id, action, actor, since, until)
        return await services.list_entries(cursor, limit, where)

    @get("/export", summary="The filtered log as CSV or XLSX (the newest 10,000 entries)")
    async def export(
        self,
        format: Annotated[Literal["csv", "xlsx"], QueryParameter()],
        object_type: Filter = None,
        object_id: Filter = None,
        action: Filter = None,
        actor: Filter = None,
        since: Since = None,
        until: Until = None,
    ) -> Response[bytes]:
        page = await services.list_entries(
            None, EXPORT_LIMIT, _filter(object_type, object_id, action, actor, since, until)
        )
        table = _entries_table(page.items, page.next_cursor is not None)
        body = tables.to_csv(table) if format == "csv" else tables.to_xlsx(table)
        return Response(
            body,
            media_type=tables.MEDIA[format],
            headers={"Content-Disposition": content_disposition(f"audit-log.{format}")},
        )

    @get(
        "/verify",
        summary="Re-compute the hash chain and the Merkle tree against every signed tree head, and "
        "check evidence records against their upload entries",
    )
    async def verify(self, store: Store, integrity: Integrity) -> schemas.ChainCheck:
        return await _check(store, integrity, [])

    @post(
        "/verify",
        status_code=HTTP_200_OK,
        summary="As GET, and also check the log against tree heads kept outside",
    )
    async def verify_outside(
        self, data: JSONBody[schemas.OutsideHeads], store: Store, integrity: Integrity
    ) -> schemas.ChainCheck:
        if not 0 < len(data.heads) <= MAX_OUTSIDE_HEADS:
            raise AppError(
                Errors.VALIDATION,
                f"Send 1 to {MAX_OUTSIDE_HEADS} tree heads.",
                errors=[{"key": "heads", "message": "1 to 100 heads"}],
            )
        outside = []
        for index, value in enumerate(data.heads):
            try:
                outside.append(heads.parse(value))
            except heads.HeadRejected as exc:
                raise AppError(
                    Errors.VALIDATION,
                    f"Tree head {index + 1}: {exc}.",
                    errors=[{"key": f"heads[{index}]", "message": str(exc)}],
                ) from None
        return await _check(store, integrity, outside)

    @get(
        "/consistency",
        summary="RFC 9162 consistency proof between the trees of sizes first and second",
    )
    async def consistency(self, first: Size, second: Size) -> schemas.Consistency:
        return await services.consistency(first, second)

    @get("/head", summary="The newest signed tree head, for an outside party to keep")
    async def newest_head(self, integrity: Integrity) -> schemas.TreeHead:
        head = await heads.newest()
        if head is None:
            raise AppError(Errors.NOT_FOUND, "No tree head has been signed yet.")
        return _head(head, integrity)


class AuditKeyController(Controller):
    """No sign-in: anyone holding a tree head may check its signature."""

    path = "/audit/key"
    tags = ["audit"]

    @get(
        "/",
        exclude_from_auth=True,
        summary="The public key tree heads are signed with (no sign-in: anyone may check a head)",
    )
    async def public_key(self, integrity: Integrity) -> schemas.PublicKey:
        return schemas.PublicKey(
            algorithm=ALGORITHM,
            key_id=integrity.key_id,
            public_key=integrity.public_b64,
            public_key_pem=integrity.public_pem,
        )
