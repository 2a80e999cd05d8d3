"""Department oversight (四(三)五): a district department reads what townships do under the items it
delegated to them, and raises findings on it; only the acting unit changes its own records.

A record is *overseen* by a viewer when its item is owned by one of the viewer's units and another
unit made it (a township can only act on another unit's item through a delegation). The viewer
must hold an enforcement role: the department's officers and legal advisers supervise its powers.
Personal data stays masked for overseers (``scope.sees_personal_data`` is by unit)."""

from __future__ import annotations

import uuid
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw

from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError, Errors
from backend.lib.scope import ENFORCEMENT_ROLES, can_see
from backend.org.tables import Item


def oversees_any(viewer: CurrentUser) -> bool:
    return viewer.has_any(*ENFORCEMENT_ROLES) and bool(viewer.unit_ids)


async def overseen_items(viewer: CurrentUser) -> frozenset[uuid.UUID]:
    """The items whose use by other units the viewer supervises."""
    if not oversees_any(viewer):
        return frozenset()
    rows = await Item.select(Item.id).where(Item.owner_unit.is_in(sorted(viewer.unit_ids)))
    return frozenset(r["id"] for r in rows)


async def oversees(viewer: CurrentUser, unit_id: uuid.UUID, item_id: uuid.UUID) -> bool:
    """Whether the viewer reads this record through oversight (not through its own scope)."""
    if unit_id in viewer.unit_ids or not oversees_any(viewer):
        return False
    return item_id in await overseen_items(viewer)


async def may_read(viewer: CurrentUser, unit_id: uuid.UUID, item_id: uuid.UUID) -> bool:
    return can_see(viewer, unit_id) or await oversees(viewer, unit_id, item_id)


async def writable(viewer: CurrentUser, unit_id: uuid.UUID, item_id: uuid.UUID, noun: str) -> None:
    """404 for a record the viewer cannot read; 403 for one it reads only through oversight."""
    if can_see(viewer, unit_id):
        return
    if await oversees(viewer, unit_id, item_id):
        raise AppError(
            Errors.OVERSIGHT_READ_ONLY,
            f"Your department supervises this {noun} but does not change it; raise a finding instead.",
        )
    raise AppError(Errors.NOT_FOUND, f"No such {noun}.")


def overseen_condition(viewer: CurrentUser, unit: Column, item: Column) -> Any:
    """The WHERE condition of a list of overseen records, for a table with ``unit`` and ``item``.

    Whoever sees every unit gets every record made under another unit's (so a delegated) item."""
    if viewer.sees_everything:
        table = unit._meta.table._meta.tablename
        return WhereRaw(
            "EXISTS (SELECT 1 FROM enforcement_items oi "  # noqa: S608 (table names are ours)
            f"WHERE oi.id = {table}.item AND oi.owner_unit <> {table}.unit)"
        )
    if not oversees_any(viewer):
        raise AppError(Errors.FORBIDDEN, "Your role does not give access to enforcement records.")
    units = sorted(viewer.unit_ids)
    return item.is_in(Item.select(Item.id).where(Item.owner_unit.is_in(units))) & unit.not_in(units)
