from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.schema import Code, LongText, Money, Name, Strict

UnitKind = Literal[
    "department", "township", "justice", "court", "petition", "procuratorate", "police", "association"
]
ItemKind = Literal["penalty", "coercion", "inspection", "other"]
Measure = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]


class Unit(msgspec.Struct):
    id: uuid.UUID
    name: str
    kind: str
    parent_id: uuid.UUID | None
    pilot: bool
    created_at: datetime
    pilot_from: date | None = None
    pilot_to: date | None = None
    active: bool = True


class PublicUnit(msgspec.Struct):
    """What anyone may read about a unit: the public nomination form lets a person choose units."""

    id: uuid.UUID
    name: str


class UnitCreate(Strict):
    name: Name
    kind: UnitKind
    parent_id: uuid.UUID | None = None
    pilot: bool = False
    pilot_from: date | None = None
    pilot_to: date | None = None
    id: uuid.UUID | None = None


class UnitUpdate(Strict):
    """Rename, move (another parent, or none), and the pilot flag and period; unset fields stay."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    parent_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    pilot: bool | msgspec.UnsetType = msgspec.UNSET
    pilot_from: date | msgspec.UnsetType | None = msgspec.UNSET
    pilot_to: date | msgspec.UnsetType | None = msgspec.UNSET


class Blocker(msgspec.Struct):
    """Something that still depends on a unit: its kind, how many, and the first few by name."""

    kind: str
    count: int
    examples: list[str]


class UnitDependents(msgspec.Struct):
    unit_id: uuid.UUID
    blockers: list[Blocker]


class MajorCaseRule(Strict):
    """重大行政处罚: a proposed fine at or above ``fine_at_least``, or any listed measure."""

    fine_at_least: Money | None = None
    measures: Annotated[list[Measure], msgspec.Meta(max_length=20)] = []


class CriminalThreshold(Strict):
    """两法衔接: at or above this amount involved, the case must be transferred."""

    amount_involved_at_least: Money


class Item(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str
    kind: str
    owner_unit_id: uuid.UUID
    legal_basis: str
    major_case: MajorCaseRule | None
    criminal_threshold: CriminalThreshold | None
    created_at: datetime
    # Set when listing for a unit: "own" or "delegated".
    authority: str | None = None
    # 全过程记录: null follows the setting by kind; true, every act on the item needs an audio or
    # video file; false, none does.
    full_recording: bool | None = None


class ItemCreate(Strict):
    code: Code
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    kind: ItemKind
    owner_unit_id: uuid.UUID
    legal_basis: LongText = ""
    major_case: MajorCaseRule | None = None
    criminal_threshold: CriminalThreshold | None = None
    id: uuid.UUID | None = None
    full_recording: bool | None = None


class ItemUpdate(Strict):
    """Change an item's terms; unset fields stay. ``code`` is accepted only to be refused with a
    clear message: records cite it, so it never changes."""

    code: str | msgspec.UnsetType = msgspec.UNSET
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | msgspec.UnsetType = msgspec.UNSET
    kind: ItemKind | msgspec.UnsetType = msgspec.UNSET
    owner_unit_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    legal_basis: LongText | msgspec.UnsetType = msgspec.UNSET
    major_case: MajorCaseRule | msgspec.UnsetType | None = msgspec.UNSET
    criminal_threshold: CriminalThreshold | msgspec.UnsetType | None = msgspec.UNSET
    full_recording: bool | msgspec.UnsetType | None = msgspec.UNSET


class Delegation(msgspec.Struct):
    id: uuid.UUID
    item_id: uuid.UUID
    unit_id: uuid.UUID
    effective_from: date
    effective_to: date | None
    created_at: datetime
    unit_name: str | None = None


class DelegationEnd(Strict):
    """End a delegation on a day (the last day the township may act on the item)."""

    effective_to: date


class DelegationCreate(Strict):
    unit_id: uuid.UUID
    effective_from: date
    effective_to: date | None = None


class EnforcementEntry(msgspec.Struct):
    """One line of a unit's 执法事项清单: an item it may enforce on the day, and on what authority."""

    item: Item
    owner_unit_name: str
    authority: str  # own | delegated
    delegated_from: date | None
    delegated_to: date | None


class EnforcementList(msgspec.Struct):
    unit_id: uuid.UUID
    unit_name: str
    on: date
    entries: list[EnforcementEntry]
