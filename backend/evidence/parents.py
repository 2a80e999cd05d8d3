"""What evidence may attach to. Evidence knows none of its parents: each parent domain (actions,
cases, spot-checks; later documents, calls) registers a ``ParentKind`` at start-up, and evidence asks
it who may see or add to a record."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from backend.accounts.certificates import require_valid_certificate
from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError, Errors


@dataclass(frozen=True)
class Parent:
    """The record a piece of evidence belongs to, with what the watermark and the checks need."""

    type: str
    id: uuid.UUID
    unit_id: uuid.UUID
    unit_name: str
    occurred_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    # A photo whose EXIF capture time is earlier is refused (an old picture passed off as new).
    not_before: datetime | None = None


class ParentKind(Protocol):
    async def resolve(self, actor: CurrentUser, parent_id: uuid.UUID, *, write: bool) -> Parent:
        """The record, or ``not_found`` when it is not the actor's to see (``write``: to add to)."""
        ...

    async def visible(self, actor: CurrentUser, parent_id: uuid.UUID, unit_id: uuid.UUID) -> bool:
        """May the actor see evidence attached to this record?"""
        ...

    async def attached(self, parent_id: uuid.UUID) -> None:
        """Runs inside the transaction that records new evidence (a counter, a status)."""
        ...


class LookedUpParent:
    """A parent kind whose domain has one lookup, ``find(actor, id, write=…)``, that answers
    ``not_found`` for a record outside the actor's reach: who may see the record sees its evidence,
    and attaching changes nothing else."""

    def __init__(self, find: Callable[..., Awaitable[Parent]]) -> None:
        self._find = find

    async def resolve(self, actor: CurrentUser, parent_id: uuid.UUID, *, write: bool) -> Parent:
        return await self._find(actor, parent_id, write=write)

    async def visible(self, actor: CurrentUser, parent_id: uuid.UUID, unit_id: uuid.UUID) -> bool:
        try:
            await self._find(actor, parent_id, write=False)
        except AppError:
            return False
        return True

    async def attached(self, parent_id: uuid.UUID) -> None:
        return None


_kinds: dict[str, ParentKind] = {}
_enforcement: set[str] = set()


def register(parent_type: str, kind: ParentKind, *, enforcement: bool = False) -> None:
    """``enforcement``: adding evidence to such a record is an enforcement act, so an officer adding
    it needs a certificate valid at that moment (an on-site action, a case, a spot-check answer, a
    unit's answer to a supervision document)."""
    _kinds[parent_type] = kind
    if enforcement:
        _enforcement.add(parent_type)
    else:
        _enforcement.discard(parent_type)


def kind_of_parent(parent_type: str) -> ParentKind:
    kind = _kinds.get(parent_type)
    if kind is None:
        raise AppError(Errors.NOT_FOUND, f"No such {parent_type}.")
    return kind


async def resolve(actor: CurrentUser, parent_type: str, parent_id: uuid.UUID, *, write: bool) -> Parent:
    """The record (404 when it is not the actor's); to add to an enforcement record an officer's
    certificate must be valid now: checked when a streamed upload starts, when a resumable upload is
    created and again when it finishes."""
    parent = await kind_of_parent(parent_type).resolve(actor, parent_id, write=write)
    if write and parent_type in _enforcement and actor.has_any("officer"):
        await require_valid_certificate(actor.id, name=actor.display_name)
    return parent


async def visible(actor: CurrentUser, parent_type: str, parent_id: uuid.UUID, unit_id: uuid.UUID) -> bool:
    kind = _kinds.get(parent_type)
    return kind is not None and await kind.visible(actor, parent_id, unit_id)
