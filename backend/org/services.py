"""Units, the enforcement item catalogue and delegations (赋权)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from piccolo.custom_types import Combinable

from backend.audit import services as audit
from backend.db import atomic, current_engine, is_postgres, is_unique_violation, json_value
from backend.lib.auth import CurrentUser
from backend.lib.clock import today_local
from backend.lib.errors import AppError, Errors
from backend.lib.pagination import Page, decode_cursor, encode_cursor
from backend.org import schemas
from backend.org.tables import Delegation, Item, Unit


def _unit(row: dict[str, Any]) -> schemas.Unit:
    return schemas.Unit(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        parent_id=row["parent_id"],
        pilot=row["pilot"],
        created_at=row["created_at"],
        pilot_from=row.get("pilot_from"),
        pilot_to=row.get("pilot_to"),
        active=bool(row.get("active", True)),
    )


def _num(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def _item(row: dict[str, Any], authority: str | None = None) -> schemas.Item:
    fine = _num(row["major_fine_at_least"])
    measures = json_value(row["major_measures"], [])
    major = (
        schemas.MajorCaseRule(fine_at_least=fine, measures=measures) if fine is not None or measures else None
    )
    amount = _num(row["criminal_amount_at_least"])
    return schemas.Item(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        kind=row["kind"],
        owner_unit_id=row["owner_unit"],
        legal_basis=row["legal_basis"],
        major_case=major,
        criminal_threshold=schemas.CriminalThreshold(amount) if amount is not None else None,
        created_at=row["created_at"],
        authority=authority,
        full_recording=None if row.get("full_recording") is None else bool(row["full_recording"]),
    )


def item_view(row: dict[str, Any]) -> schemas.Item:
    """An item as the API shows it, from its table row (for callers that selected the rows)."""
    return _item(row)


def contains(columns: list[Any], q: str | None) -> Combinable | None:
    """Rows where any of ``columns`` holds ``q`` (case-insensitive); None for no ``q``. "%" and the
    escape character are dropped; "_" stays (it also matches itself)."""
    if not q or not q.strip():
        return None
    needle = "%" + q.strip().replace("\\", "").replace("%", "") + "%"
    # SQLite's LIKE already ignores ASCII case; PostgreSQL needs ILIKE.
    postgres = is_postgres(current_engine())
    found: Combinable | None = None
    for column in columns:
        one = column.ilike(needle) if postgres else column.like(needle)
        found = one if found is None else found | one
    return found


async def list_units(
    cursor: str | None, limit: int, q: str | None = None, kind: str | None = None
) -> Page[schemas.Unit]:
    """All units by name; ``q`` a part of the name, ``kind`` one kind."""
    query = Unit.select().order_by(Unit.name).limit(limit + 1)
    named = contains([Unit.name], q)
    if named is not None:
        query = query.where(named)
    if kind:
        query = query.where(Unit.kind == kind)
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(Unit.name > after[0])
    rows = await query
    items = [_unit(r) for r in rows[:limit]]
    next_cursor = encode_cursor(items[-1].name) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def public_units() -> list[schemas.PublicUnit]:
    """The active units, by name: only their id and name (no sign-in needed)."""
    rows = await Unit.select(Unit.id, Unit.name).where(Unit.active == True).order_by(Unit.name)  # noqa: E712
    return [schemas.PublicUnit(id=r["id"], name=r["name"]) for r in rows]


async def get_unit(unit_id: uuid.UUID) -> schemas.Unit:
    row = await Unit.select().where(Unit.id == unit_id).first()
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such unit.")
    return _unit(row)


async def require_units(unit_ids: list[uuid.UUID]) -> None:
    if not unit_ids:
        return
    found = {r["id"] for r in await Unit.select(Unit.id).where(Unit.id.is_in(list(set(unit_ids))))}
    missing = [str(u) for u in unit_ids if u not in found]
    if missing:
        raise AppError(Errors.UNIT_NOT_FOUND, f"Unknown unit(s): {', '.join(missing)}.", unit_ids=missing)


def _pilot_period(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise AppError(
            Errors.VALIDATION,
            "The pilot period ends before it starts.",
            errors=[{"key": "pilot_to", "message": "before pilot_from"}],
        )


async def create_unit(actor: CurrentUser, data: schemas.UnitCreate) -> schemas.Unit:
    _pilot_period(data.pilot_from, data.pilot_to)
    if data.parent_id:
        await require_units([data.parent_id])
    unit_id = data.id or uuid.uuid4()
    try:
        async with atomic():
            if await Unit.exists().where((Unit.name == data.name) | (Unit.id == unit_id)):
                raise AppError(Errors.DUPLICATE, f"A unit named {data.name!r} already exists.")
            await Unit.insert(
                Unit(
                    id=unit_id,
                    name=data.name,
                    kind=data.kind,
                    parent_id=data.parent_id,
                    pilot=data.pilot,
                    pilot_from=data.pilot_from,
                    pilot_to=data.pilot_to,
                )
            ).run()
            await audit.record(actor, "unit.created", "unit", unit_id, {"name": data.name, "kind": data.kind})
    except Exception as exc:
        if is_unique_violation(exc):
            raise AppError(Errors.DUPLICATE, f"A unit named {data.name!r} already exists.") from None
        raise
    return await get_unit(unit_id)


# What still depends on a unit, by kind; the domains that own those records register their check
# (cases: open cases; accounts: active members), so org needs to know none of them.
Blocker = Callable[[uuid.UUID], Awaitable[tuple[int, list[str]]]]
_blockers: dict[str, Blocker] = {}


def register_blocker(kind: str, check: Blocker) -> None:
    _blockers[kind] = check


async def _active_children(unit_id: uuid.UUID) -> tuple[int, list[str]]:
    rows = await Unit.select(Unit.name).where((Unit.parent_id == unit_id) & (Unit.active == True))  # noqa: E712
    return len(rows), sorted(r["name"] for r in rows)[:5]


async def dependents(unit_id: uuid.UUID) -> schemas.UnitDependents:
    await get_unit(unit_id)
    found = []
    for kind, check in {"active_child_units": _active_children, **_blockers}.items():
        count, examples = await check(unit_id)
        if count:
            found.append(schemas.Blocker(kind=kind, count=count, examples=examples))
    return schemas.UnitDependents(unit_id=unit_id, blockers=found)


async def _ancestors(unit_id: uuid.UUID | None) -> list[uuid.UUID]:
    chain: list[uuid.UUID] = []
    while unit_id is not None and unit_id not in chain and len(chain) < 100:
        chain.append(unit_id)
        row = await Unit.select(Unit.parent_id).where(Unit.id == unit_id).first()
        unit_id = row["parent_id"] if row else None
    return chain


async def update_unit(actor: CurrentUser, unit_id: uuid.UUID, data: schemas.UnitUpdate) -> schemas.Unit:
    """Rename, move, or change the pilot flag and period. A move under itself or one of its own
    descendants is refused (the tree would become a loop)."""
    current = await get_unit(unit_id)
    changes: dict[Any, Any] = {}
    logged: dict[str, Any] = {}
    if data.name is not msgspec.UNSET and data.name != current.name:
        changes[Unit.name], logged["name"] = data.name, [current.name, data.name]
    if data.parent_id is not msgspec.UNSET and data.parent_id != current.parent_id:
        if data.parent_id is not None:
            await require_units([data.parent_id])
            if unit_id in await _ancestors(data.parent_id):
                raise AppError(
                    Errors.UNIT_CYCLE,
                    "A unit cannot be moved under itself or one of its own units.",
                    errors=[{"key": "parent_id", "message": "a descendant"}],
                )
        changes[Unit.parent_id] = data.parent_id
        logged["parent_id"] = [
            str(current.parent_id) if current.parent_id else None,
            str(data.parent_id) if data.parent_id else None,
        ]
    for field, column in (
        ("pilot", Unit.pilot),
        ("pilot_from", Unit.pilot_from),
        ("pilot_to", Unit.pilot_to),
    ):
        value = getattr(data, field)
        if value is not msgspec.UNSET and value != getattr(current, field):
            changes[column] = value
            old = getattr(current, field)
            logged[field] = [
                old if isinstance(old, bool | None) else str(old),
                value if isinstance(value, bool | None) else str(value),
            ]
    start = changes.get(Unit.pilot_from, current.pilot_from)
    end = changes.get(Unit.pilot_to, current.pilot_to)
    _pilot_period(start, end)
    if not changes:
        return current
    try:
        async with atomic():
            if Unit.name in changes and await Unit.exists().where(
                (Unit.name == changes[Unit.name]) & (Unit.id != unit_id)
            ):
                raise AppError(Errors.DUPLICATE, f"A unit named {changes[Unit.name]!r} already exists.")
            await Unit.update(changes).where(Unit.id == unit_id)
            await audit.record(actor, "unit.updated", "unit", unit_id, logged)
    except Exception as exc:
        if is_unique_violation(exc):
            raise AppError(Errors.DUPLICATE, "A unit with that name already exists.") from None
        raise
    return await get_unit(unit_id)


async def set_active(actor: CurrentUser, unit_id: uuid.UUID, active: bool) -> schemas.Unit:
    """Deactivating a unit that still has open cases, active members or active units under it is
    refused with the list of what blocks it; reactivating is always possible."""
    current = await get_unit(unit_id)
    if current.active == active:
        return current
    if not active:
        blocking = (await dependents(unit_id)).blockers
        if blocking:
            raise AppError(
                Errors.UNIT_IN_USE,
                "The unit still has "
                + "; ".join(f"{b.count} {b.kind.replace('_', ' ')}" for b in blocking)
                + ": close, move or deactivate them first.",
                blockers=[msgspec.to_builtins(b) for b in blocking],
            )
    async with atomic():
        await Unit.update({Unit.active: active}).where(Unit.id == unit_id)
        await audit.record(
            actor, "unit.activated" if active else "unit.deactivated", "unit", unit_id, {"name": current.name}
        )
    return await get_unit(unit_id)


async def _delegated_item_ids(unit_id: uuid.UUID, on: date) -> list[uuid.UUID]:
    rows = await Delegation.select(Delegation.item, Delegation.effective_to).where(
        (Delegation.unit == unit_id) & (Delegation.effective_from <= on)
    )
    return [r["item"] for r in rows if r["effective_to"] is None or r["effective_to"] >= on]


async def list_items(
    unit_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
    q: str | None = None,
    kind: str | None = None,
    owner_unit_id: uuid.UUID | None = None,
) -> Page[schemas.Item]:
    """All items, or with ``unit_id`` what that unit may act on today (own + delegated in effect);
    ``q`` a part of the code or name, ``kind`` one kind, ``owner_unit_id`` one owning department."""
    query = Item.select().order_by(Item.code).limit(limit + 1)
    named = contains([Item.code, Item.name], q)
    if named is not None:
        query = query.where(named)
    if kind:
        query = query.where(Item.kind == kind)
    if owner_unit_id is not None:
        query = query.where(Item.owner_unit == owner_unit_id)
    delegated: set[uuid.UUID] = set()
    if unit_id is not None:
        await get_unit(unit_id)
        delegated = set(await _delegated_item_ids(unit_id, today_local()))
        scope: Combinable = Item.owner_unit == unit_id
        if delegated:
            scope = scope | Item.id.is_in(list(delegated))
        query = query.where(scope)
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(Item.code > after[0])
    rows = await query
    items = [
        _item(r, None if unit_id is None else ("own" if r["owner_unit"] == unit_id else "delegated"))
        for r in rows[:limit]
    ]
    return Page(items=items, next_cursor=encode_cursor(items[-1].code) if len(rows) > limit else None)


async def get_item(item_id: uuid.UUID) -> schemas.Item:
    row = await Item.select().where(Item.id == item_id).first()
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such enforcement item.")
    return _item(row)


# Rule: a unit acts on its own items, or on items delegated to it and in effect on the day. The one
# statement of it, for a query over ``enforcement_items i``; parameters: unit, unit, day, day.
MAY_ACT_SQL = """(
  i.owner_unit = {} OR EXISTS (
    SELECT 1 FROM delegations d
    WHERE d.item = i.id AND d.unit = {} AND d.effective_from <= {}
      AND (d.effective_to IS NULL OR d.effective_to >= {})
  )
)"""
_UNIT_MAY_ACT_SQL = f"SELECT {MAY_ACT_SQL} AS may_act FROM enforcement_items i WHERE i.id = {{}}"  # noqa: S608


async def unit_may_act(unit_id: uuid.UUID, item_id: uuid.UUID, on: date) -> bool:
    """Whether ``unit_id`` may act on ``item_id`` on ``on`` (see MAY_ACT_SQL)."""
    rows = await Item.raw(_UNIT_MAY_ACT_SQL, unit_id, unit_id, on, on, item_id)
    return bool(rows and rows[0]["may_act"])


async def create_item(actor: CurrentUser, data: schemas.ItemCreate) -> schemas.Item:
    await require_units([data.owner_unit_id])
    item_id = data.id or uuid.uuid4()
    major, threshold = data.major_case, data.criminal_threshold
    try:
        async with atomic():
            if await Item.exists().where((Item.code == data.code) | (Item.id == item_id)):
                raise AppError(Errors.DUPLICATE, f"An item with code {data.code!r} already exists.")
            await Item.insert(
                Item(
                    id=item_id,
                    code=data.code,
                    name=data.name,
                    kind=data.kind,
                    owner_unit=data.owner_unit_id,
                    legal_basis=data.legal_basis,
                    major_fine_at_least=(
                        Decimal(str(major.fine_at_least))
                        if major and major.fine_at_least is not None
                        else None
                    ),
                    major_measures=list(major.measures) if major else [],
                    criminal_amount_at_least=(
                        Decimal(str(threshold.amount_involved_at_least)) if threshold else None
                    ),
                    full_recording=data.full_recording,
                )
            ).run()
            await audit.record(actor, "item.created", "item", item_id, {"code": data.code, "name": data.name})
    except Exception as exc:
        if is_unique_violation(exc):
            raise AppError(Errors.DUPLICATE, f"An item with code {data.code!r} already exists.") from None
        raise
    return await get_item(item_id)


def _as_update(data: schemas.ItemCreate) -> schemas.ItemUpdate:
    """A whole row of the catalogue (an import) as a change of every term it carries; the
    full-recording rule is not in the catalogue's file, so it stays as the admin set it."""
    return schemas.ItemUpdate(
        name=data.name,
        kind=data.kind,
        owner_unit_id=data.owner_unit_id,
        legal_basis=data.legal_basis,
        major_case=data.major_case,
        criminal_threshold=data.criminal_threshold,
    )


def _money(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


async def update_item(
    actor: CurrentUser, item_id: uuid.UUID, data: schemas.ItemUpdate | schemas.ItemCreate
) -> schemas.Item:
    """Change an item's terms (unset fields stay); a whole catalogue row (an import) replaces them.
    Its code never changes: records cite it. The audit entry holds each changed term, old and new."""
    current = await get_item(item_id)
    if isinstance(data, schemas.ItemCreate):
        if data.code != current.code:
            raise AppError(Errors.ITEM_CODE_IMMUTABLE, "The item's code cannot change.")
        data = _as_update(data)
    if data.code is not msgspec.UNSET:
        raise AppError(
            Errors.ITEM_CODE_IMMUTABLE,
            f"The code {current.code!r} cannot change: actions, cases and documents cite it. "
            "Leave it out of the request; for another code, add a new item.",
            errors=[{"key": "code", "message": "cannot change"}],
        )
    changes: dict[Any, Any] = {}
    logged: dict[str, Any] = {}

    def change(field: str, column: Any, old: Any, new: Any, stored: Any = None) -> None:
        if new != old:
            changes[column] = new if stored is None else stored
            logged[field] = [old, new]

    if data.name is not msgspec.UNSET:
        change("name", Item.name, current.name, data.name)
    if data.kind is not msgspec.UNSET:
        change("kind", Item.kind, current.kind, data.kind)
    if data.legal_basis is not msgspec.UNSET:
        change("legal_basis", Item.legal_basis, current.legal_basis, data.legal_basis)
    if data.owner_unit_id is not msgspec.UNSET and data.owner_unit_id != current.owner_unit_id:
        await require_units([data.owner_unit_id])
        changes[Item.owner_unit] = data.owner_unit_id
        logged["owner_unit_id"] = [str(current.owner_unit_id), str(data.owner_unit_id)]
    if data.major_case is not msgspec.UNSET:
        old_major = current.major_case or schemas.MajorCaseRule()
        new_major = data.major_case or schemas.MajorCaseRule()
        change(
            "major_fine_at_least",
            Item.major_fine_at_least,
            old_major.fine_at_least,
            new_major.fine_at_least,
            _money(new_major.fine_at_least),
        )
        if list(new_major.measures) != list(old_major.measures):
            changes[Item.major_measures] = list(new_major.measures)
            logged["major_measures"] = [list(old_major.measures), list(new_major.measures)]
    if data.criminal_threshold is not msgspec.UNSET:
        old_rule, new_rule = current.criminal_threshold, data.criminal_threshold
        old_amount = old_rule.amount_involved_at_least if old_rule else None
        new_amount = new_rule.amount_involved_at_least if new_rule else None
        change(
            "criminal_amount_at_least",
            Item.criminal_amount_at_least,
            old_amount,
            new_amount,
            _money(new_amount),
        )
    if data.full_recording is not msgspec.UNSET:
        change("full_recording", Item.full_recording, current.full_recording, data.full_recording)
    if not changes:
        return current
    async with atomic():
        await Item.update(changes).where(Item.id == item_id).run()
        await audit.record(actor, "item.updated", "item", item_id, {"code": current.code, "changes": logged})
    return await get_item(item_id)


async def create_delegation(
    actor: CurrentUser, item_id: uuid.UUID, data: schemas.DelegationCreate
) -> schemas.Delegation:
    item = await get_item(item_id)
    unit = await Unit.select().where(Unit.id == data.unit_id).first()
    if unit is None:
        raise AppError(Errors.UNIT_NOT_FOUND, "The receiving unit does not exist.")
    if unit["kind"] != "township":
        raise AppError(
            Errors.DELEGATION_INVALID, "Items are delegated to townships and streets (乡镇/街道) only."
        )
    if unit["id"] == item.owner_unit_id:
        raise AppError(Errors.DELEGATION_INVALID, "A unit cannot receive its own item.")
    if data.effective_to is not None and data.effective_to < data.effective_from:
        raise AppError(Errors.DELEGATION_INVALID, "effective_to is before effective_from.")
    delegation_id = uuid.uuid4()
    async with atomic():
        await Delegation.insert(
            Delegation(
                id=delegation_id,
                item=item_id,
                unit=data.unit_id,
                effective_from=data.effective_from,
                effective_to=data.effective_to,
            )
        ).run()
        await audit.record(
            actor,
            "item.delegated",
            "item",
            item_id,
            {
                "unit_id": str(data.unit_id),
                "effective_from": data.effective_from.isoformat(),
                "effective_to": data.effective_to.isoformat() if data.effective_to else None,
            },
        )
    return await _delegation(item_id, delegation_id)


_DELEGATION_COLUMNS = (
    Delegation.id,
    Delegation.item,
    Delegation.unit,
    Delegation.effective_from,
    Delegation.effective_to,
    Delegation.created_at,
    Delegation.unit.name.as_alias("unit_name"),
)


def _delegation_view(row: dict[str, Any]) -> schemas.Delegation:
    return schemas.Delegation(
        id=row["id"],
        item_id=row["item"],
        unit_id=row["unit"],
        effective_from=row["effective_from"],
        effective_to=row["effective_to"],
        created_at=row["created_at"],
        unit_name=row.get("unit_name"),
    )


async def _delegation(item_id: uuid.UUID, delegation_id: uuid.UUID) -> schemas.Delegation:
    row = (
        await Delegation.select(*_DELEGATION_COLUMNS)
        .where((Delegation.id == delegation_id) & (Delegation.item == item_id))
        .first()
    )
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such delegation of this item.")
    return _delegation_view(row)


async def list_delegations(item_id: uuid.UUID) -> list[schemas.Delegation]:
    """The item's delegations, past, current and future: by township, then the latest first."""
    await get_item(item_id)
    rows = (
        await Delegation.select(*_DELEGATION_COLUMNS)
        .where(Delegation.item == item_id)
        .order_by(Delegation.unit.name)
        .order_by(Delegation.effective_from, ascending=False)
    )
    return [_delegation_view(r) for r in rows]


async def end_delegation(
    actor: CurrentUser, item_id: uuid.UUID, delegation_id: uuid.UUID, data: schemas.DelegationEnd
) -> schemas.Delegation:
    """End a delegation on ``effective_to``, its last day: from the day after, the township may no
    longer act on the item. Not before the delegation starts, and never later than an end it
    already has (a longer period is a new delegation)."""
    current = await _delegation(item_id, delegation_id)
    if data.effective_to < current.effective_from:
        raise AppError(
            Errors.DELEGATION_INVALID,
            f"The delegation starts on {current.effective_from.isoformat()}: it cannot end before that.",
            errors=[{"key": "effective_to", "message": "before effective_from"}],
        )
    if current.effective_to is not None and data.effective_to > current.effective_to:
        raise AppError(
            Errors.DELEGATION_INVALID,
            f"The delegation already ends on {current.effective_to.isoformat()}; "
            "to extend it, delegate the item again.",
            errors=[{"key": "effective_to", "message": "after the current end"}],
        )
    if data.effective_to == current.effective_to:
        return current
    async with atomic():
        await Delegation.update({Delegation.effective_to: data.effective_to}).where(
            Delegation.id == delegation_id
        )
        await audit.record(
            actor,
            "item.delegation_ended",
            "item",
            item_id,
            {
                "delegation_id": str(delegation_id),
                "unit_id": str(current.unit_id),
                "effective_from": current.effective_from.isoformat(),
                "effective_to": [
                    current.effective_to.isoformat() if current.effective_to else None,
                    data.effective_to.isoformat(),
                ],
            },
        )
    return await _delegation(item_id, delegation_id)


# The unit's own items and those delegated to it in effect on the day, with the delegation that
# grants each (the latest to start, when several overlap); parameters: unit, day, day, then MAY_ACT_SQL's.
_ENFORCEMENT_LIST_SQL = f"""
SELECT i.*, o.name AS owner_name, d.effective_from AS delegated_from, d.effective_to AS delegated_to
FROM enforcement_items i JOIN units o ON o.id = i.owner_unit
LEFT JOIN delegations d ON d.item = i.id AND d.unit = {{}} AND d.effective_from <= {{}}
  AND (d.effective_to IS NULL OR d.effective_to >= {{}})
WHERE {MAY_ACT_SQL}
ORDER BY i.code, d.effective_from DESC
"""  # noqa: S608


async def enforcement_list(unit_id: uuid.UUID, on: date) -> schemas.EnforcementList:
    """四(三)一: the items a unit may enforce on ``on`` (today by default), its own and delegated."""
    unit = await get_unit(unit_id)
    rows = await Item.raw(_ENFORCEMENT_LIST_SQL, unit_id, on, on, unit_id, unit_id, on, on)
    entries: dict[uuid.UUID, schemas.EnforcementEntry] = {}
    for r in rows:
        item_id = r["id"] if isinstance(r["id"], uuid.UUID) else uuid.UUID(str(r["id"]))
        if item_id in entries:
            continue
        own = str(r["owner_unit"]) == str(unit_id)
        entries[item_id] = schemas.EnforcementEntry(
            item=_item(
                {**r, "id": item_id, "owner_unit": uuid.UUID(str(r["owner_unit"]))},
                "own" if own else "delegated",
            ),
            owner_unit_name=r["owner_name"],
            authority="own" if own else "delegated",
            delegated_from=None if own else _day(r["delegated_from"]),
            delegated_to=None if own else _day(r["delegated_to"]),
        )
    return schemas.EnforcementList(
        unit_id=unit.id, unit_name=unit.name, on=on, entries=list(entries.values())
    )


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
