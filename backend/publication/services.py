"""执法公示: a decision is published within its working days (a penalty 7, others 20, per item kind),
masked; a changed, revoked or illegal decision is withdrawn within 3 working days with its reason.

The public side reads only this domain's table, copied and masked when published: a case that was
never published has no row here, so no public request can find it, by id or by search."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from backend.audit import services as audit
from backend.cases import clocks
from backend.cases.tables import Case
from backend.db import atomic, is_unique_violation, json_value
from backend.lib.auth import CurrentUser
from backend.lib.clock import BEIJING, today_local, utcnow
from backend.lib.errors import AppError, Errors
from backend.lib.pagination import decode_time_cursor, newest_first_after, time_cursor
from backend.lib.scope import can_see, enforcement_units
from backend.live.publish import Publisher
from backend.org.tables import Item
from backend.publication import schemas
from backend.publication.tables import Publication

DECIDED = ("decided", "served", "closed")
PUBLIC_MAX_LIMIT = 50


@dataclass
class PublicationConfig:
    days: dict[str, int] = field(default_factory=lambda: {"penalty": 7, "*": 20})
    withdrawal_days: int = 3


CONFIG = PublicationConfig()


def configure(days: tuple[tuple[str, int], ...], withdrawal_days: int) -> None:
    CONFIG.days, CONFIG.withdrawal_days = dict(days), withdrawal_days


def days_for(item_kind: str) -> int:
    return CONFIG.days.get(item_kind, CONFIG.days.get("*", 20))


# --- masking ------------------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """A natural person's name keeps its first character: 张三 → 张*, 欧阳娜娜 → 欧***."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def party_fields(name: str | None, party_type: str | None, id_number: str | None) -> dict[str, Any]:
    """An organisation keeps its name and unified social credit code; a person only a masked name,
    never an ID number."""
    if not name:
        return {"party_label": "", "party_type": "", "party_code": None}
    if party_type == "organisation":
        return {"party_label": name, "party_type": "organisation", "party_code": id_number or None}
    return {"party_label": mask_name(name), "party_type": "person", "party_code": None}


# --- the clock, from the decision ---------------------------------------------------------------


async def start_clock(case: dict[str, Any], item: dict[str, Any], decided_on: date) -> None:
    """Hook on a decision (in its transaction): the publication period starts."""
    await clocks.start(case["id"], case["unit"], "publication", decided_on, days_for(item["kind"]), True)


async def reversal_recorded(case_id: uuid.UUID, on: date | None = None) -> date | None:
    """A published decision was changed, revoked or confirmed illegal: the withdrawal period (3
    working days) starts. Returns its due date, or None when nothing is published."""
    row = (
        await Publication.select(Publication.unit)
        .where((Publication.case == case_id) & (Publication.status == "published"))
        .first()
    )
    if row is None:
        return None
    return await clocks.start(
        case_id, row["unit"], "withdrawal", on or today_local(), CONFIG.withdrawal_days, True
    )


# --- views --------------------------------------------------------------------------------------


def _num(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def _public(row: dict[str, Any]) -> schemas.PublicRecord:
    return schemas.PublicRecord(
        id=row["id"],
        status=row["status"],
        case_number=row["case_number"],
        document_number=row["document_number"],
        unit_id=row["unit"],
        unit_name=row["unit_name"],
        item_id=row["item"],
        item_code=row["item_code"],
        item_name=row["item_name"],
        legal_basis=row["legal_basis"],
        party=row["party_label"],
        party_type=row["party_type"],
        party_code=row["party_code"],
        fine=_num(row["fine"]),
        measures=json_value(row["measures"]) or [],
        decided_on=row["decided_on"],
        published_on=row["published_on"],
    )


def _internal(row: dict[str, Any]) -> schemas.Publication:
    public = _public(row)
    return schemas.Publication(
        **{f: getattr(public, f) for f in public.__struct_fields__},
        case_id=row["case"],
        published_at=row["published_at"],
        published_by=row["published_by"],
        withdrawn_at=row["withdrawn_at"],
        withdrawal_reason=row["withdrawal_reason"],
    )


# --- the unit's side ----------------------------------------------------------------------------


async def publish(actor: CurrentUser, case_id: uuid.UUID, events: Publisher) -> schemas.Publication:
    case = (
        await Case.select(*Case.all_columns(), Case.unit.name.as_alias("unit_name"))
        .where(Case.id == case_id)
        .first()
    )
    if case is None or not can_see(actor, case["unit"]):
        raise AppError(Errors.NOT_FOUND, "No such case.")
    if not (actor.has_any("officer") and case["unit"] in actor.unit_ids):
        raise AppError(Errors.FORBIDDEN, "Only officers of the case's unit publish its decision.")
    decision = json_value(case["decision"])
    if case["status"] not in DECIDED or not decision:
        raise AppError(
            Errors.PUBLICATION_NOT_DECIDED,
            f"The case is {case['status']}: only a decision is published.",
            status_now=case["status"],
        )
    existing = (
        await Publication.select(Publication.id, Publication.status)
        .where(Publication.case == case_id)
        .first()
    )
    if existing is not None:
        raise AppError(
            Errors.PUBLICATION_EXISTS, "The decision is already published.", id=str(existing["id"])
        )
    item = await Item.select().where(Item.id == case["item"]).first()
    assert item is not None
    decided_at = datetime.fromisoformat(decision["decided_at"]) if decision.get("decided_at") else utcnow()
    now = utcnow()
    publication_id = uuid.uuid4()
    row = {
        "id": publication_id,
        "case": case_id,
        "unit": case["unit"],
        "unit_name": case["unit_name"],
        "item": item["id"],
        "item_code": item["code"],
        "item_name": item["name"],
        "item_kind": item["kind"],
        "legal_basis": item["legal_basis"],
        "case_number": case["number"],
        "document_number": decision.get("document_number"),
        **party_fields(case["party_name"], case["party_type"], case["party_id_number"]),
        "fine": None if decision.get("fine") is None else Decimal(str(decision["fine"])),
        "measures": list(decision.get("measures") or []),
        "decided_on": decided_at.astimezone(BEIJING).date(),
        "published_on": now.astimezone(BEIJING).date(),
        "published_at": now,
        "published_by": actor.id,
        "status": "published",
        "withdrawn_at": None,
        "withdrawal_reason": None,
        "withdrawn_by": None,
    }
    try:
        async with atomic():
            await Publication.insert(Publication.from_dict(row)).run()
            await clocks.meet(case_id, "publication", row["published_on"])
            await audit.record(
                actor,
                "publication.published",
                "publication",
                publication_id,
                {"case_id": str(case_id), "case_number": case["number"]},
            )
    except Exception as exc:
        if is_unique_violation(exc):
            raise AppError(Errors.PUBLICATION_EXISTS, "The decision is already published.") from None
        raise
    await events.publish(
        "publication.published", case["unit"], {"id": str(publication_id), "case_id": str(case_id)}
    )
    return _internal(row)


async def withdraw(
    actor: CurrentUser, publication_id: uuid.UUID, reason: str, events: Publisher | None
) -> schemas.Publication:
    row = await Publication.select().where(Publication.id == publication_id).first()
    if row is None or not can_see(actor, row["unit"]):
        raise AppError(Errors.NOT_FOUND, "No such publication.")
    if not (actor.has_any("supervisor") or (actor.has_any("officer") and row["unit"] in actor.unit_ids)):
        raise AppError(Errors.FORBIDDEN, "Officers of the unit, or a supervisor, withdraw a publication.")
    if row["status"] != "published":
        raise AppError(Errors.PUBLICATION_WITHDRAWN, "The publication is already withdrawn.")
    now = utcnow()
    async with atomic():
        won = await (
            Publication.update(
                {
                    Publication.status: "withdrawn",
                    Publication.withdrawn_at: now,
                    Publication.withdrawal_reason: reason,
                    Publication.withdrawn_by: actor.id,
                }
            )
            .where((Publication.id == publication_id) & (Publication.status == "published"))
            .returning(Publication.id)
        )
        if not won:
            raise AppError(Errors.PUBLICATION_WITHDRAWN, "The publication is already withdrawn.")
        await clocks.meet(row["case"], "withdrawal", now.astimezone(BEIJING).date())
        await audit.record(
            actor,
            "publication.withdrawn",
            "publication",
            publication_id,
            {"case_id": str(row["case"]), "reason": reason},
        )
    if events is not None:
        await events.publish(
            "publication.withdrawn", row["unit"], {"id": str(publication_id), "reason": reason}
        )
    fresh = await Publication.select().where(Publication.id == publication_id).first()
    assert fresh is not None
    return _internal(fresh)


async def withdraw_publication(
    case_id: uuid.UUID, reason: str, actor: CurrentUser, events: Publisher | None = None
) -> schemas.Publication | None:
    """For a reversal recorded elsewhere (a decision changed, revoked or confirmed illegal: the
    channels' ``reversal`` on the case): withdraw the case's publication if it is still public, with
    the reason, audited and meeting the withdrawal clock. None when nothing is published."""
    row = (
        await Publication.select(Publication.id)
        .where((Publication.case == case_id) & (Publication.status == "published"))
        .first()
    )
    if row is None:
        return None
    return await withdraw(actor, row["id"], reason, events)


async def list_for_units(
    viewer: CurrentUser, unit_id: uuid.UUID | None, cursor: str | None, limit: int
) -> tuple[list[schemas.Publication], str | None]:
    units = enforcement_units(viewer)
    query = (
        Publication.select()
        .order_by(Publication.published_at, ascending=False)
        .order_by(Publication.id, ascending=False)
        .limit(limit + 1)
    )
    if units is not None:
        query = query.where(Publication.unit.is_in(units or [uuid.UUID(int=0)]))
    if unit_id is not None:
        query = query.where(Publication.unit == unit_id)
    after = newest_first_after(Publication.published_at, Publication.id, cursor)
    if after is not None:
        query = query.where(after)
    rows = await query
    items = [_internal(r) for r in rows[:limit]]
    more = len(rows) > limit
    return items, (time_cursor(rows[limit - 1]["published_at"], rows[limit - 1]["id"]) if more else None)


# --- the public side ----------------------------------------------------------------------------


@dataclass
class PublicQuery:
    unit_id: uuid.UUID | None = None
    item_id: uuid.UUID | None = None
    decided_from: date | None = None
    decided_to: date | None = None
    cursor: str | None = None
    limit: int = 20


# The public list as one SQL text, so the benchmark runs exactly this through the raw driver.
PUBLIC_COLUMNS = (
    "id, status, case_number, document_number, unit, unit_name, item, item_code, item_name, "
    "legal_basis, party_label, party_type, party_code, fine, measures, decided_on, published_on, published_at"
)


def public_sql(q: PublicQuery, placeholder: Any) -> tuple[str, list[Any]]:
    """The page's SQL and its arguments; ``placeholder(n)`` writes the n-th parameter."""
    where, args = ["status = 'published'"], []

    def arg(value: Any) -> str:
        args.append(value)
        return placeholder(len(args))

    if q.unit_id is not None:
        where.append(f"unit = {arg(q.unit_id)}")
    if q.item_id is not None:
        where.append(f"item = {arg(q.item_id)}")
    if q.decided_from is not None:
        where.append(f"decided_on >= {arg(q.decided_from)}")
    if q.decided_to is not None:
        where.append(f"decided_on <= {arg(q.decided_to)}")
    after = decode_time_cursor(q.cursor)
    if after is not None:
        at, last = after
        # The leading bound lets the database range-scan its (published_at, id) index from the cursor.
        where.append(f"published_at <= {arg(at)} AND (published_at < {arg(at)} OR id < {arg(last)})")
    limit = arg(q.limit + 1)
    matching = " AND ".join(where)
    order = "ORDER BY published_at DESC, id DESC"
    span_days = (q.decided_to - q.decided_from).days if q.decided_from and q.decided_to else None
    if span_days is not None and span_days <= 400:
        # A short span of decision dates: take its keys from the covering (status, decided_on,
        # published_at, id) index, sort those, and read only the page's rows. Left alone, the
        # planner walks the newest-first index down to the span, not knowing that the two dates move
        # together (a month a year back cost ~60 ms at 100,000 rows).
        sql = (
            f"WITH span AS MATERIALIZED (SELECT id, published_at FROM publications WHERE {matching}), "  # noqa: S608
            f"page AS (SELECT id FROM span {order} LIMIT {limit}) "
            f"SELECT {PUBLIC_COLUMNS} FROM publications WHERE id IN (SELECT id FROM page) {order}"
        )
        return sql, args
    return f"SELECT {PUBLIC_COLUMNS} FROM publications WHERE {matching} {order} LIMIT {limit}", args  # noqa: S608


def check_range(q: PublicQuery) -> None:
    if q.decided_from and q.decided_to and q.decided_from > q.decided_to:
        raise AppError(
            Errors.VALIDATION,
            "decided_from is after decided_to.",
            errors=[{"key": "decided_from", "message": "after decided_to", "source": "query"}],
        )
    if q.decided_from and q.decided_to and q.decided_to - q.decided_from > timedelta(days=3660):
        raise AppError(
            Errors.VALIDATION,
            "The date range is at most ten years.",
            errors=[{"key": "decided_to", "message": "range too long", "source": "query"}],
        )


async def public_list(q: PublicQuery) -> schemas.PublicPage:
    check_range(q)
    sql, args = public_sql(q, lambda n: "{}")
    rows = await Publication.raw(sql, *args)
    items = [_public(r) for r in rows[: q.limit]]
    next_cursor = None
    if len(rows) > q.limit:
        last = rows[q.limit - 1]
        next_cursor = time_cursor(last["published_at"], last["id"])
    return schemas.PublicPage(items=items, next_cursor=next_cursor)


async def public_get(publication_id: uuid.UUID) -> schemas.PublicRecord | schemas.Withdrawn:
    row = await Publication.select().where(Publication.id == publication_id).first()
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such publication.")
    if row["status"] == "withdrawn":
        return schemas.Withdrawn(
            id=row["id"],
            status="withdrawn",
            withdrawn_on=row["withdrawn_at"].astimezone(BEIJING).date(),
            withdrawal_reason=row["withdrawal_reason"] or "",
        )
    return _public(row)


async def public_filters() -> dict[str, list[dict[str, str]]]:
    """The units and items that have something published: the public page's search choices."""
    units = (
        await Publication.select(Publication.unit, Publication.unit_name)
        .where(Publication.status == "published")
        .distinct()
    )
    items = (
        await Publication.select(Publication.item, Publication.item_code, Publication.item_name)
        .where(Publication.status == "published")
        .distinct()
    )
    return {
        "units": sorted(
            ({"id": str(u["unit"]), "name": u["unit_name"]} for u in units), key=lambda u: u["name"]
        ),
        "items": sorted(
            ({"id": str(i["item"]), "name": f"{i['item_code']} {i['item_name']}"} for i in items),
            key=lambda i: i["name"],
        ),
    }
