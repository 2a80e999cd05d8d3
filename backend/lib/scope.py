"""Which units' enforcement records a user may see."""

from __future__ import annotations

import uuid

from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError, Errors

ENFORCEMENT_ROLES = ("officer", "legal_reviewer")


def enforcement_units(viewer: CurrentUser) -> list[uuid.UUID] | None:
    """None: every unit. Otherwise the viewer's own units. Roles without access get 403 here and
    404 on individual objects (see ``can_see``)."""
    if viewer.sees_everything:
        return None
    if viewer.has_any(*ENFORCEMENT_ROLES):
        return list(viewer.unit_ids)
    raise AppError(Errors.FORBIDDEN, "Your role does not give access to enforcement records.")


def can_see(viewer: CurrentUser, unit_id: uuid.UUID) -> bool:
    if viewer.sees_everything:
        return True
    return viewer.has_any(*ENFORCEMENT_ROLES) and unit_id in viewer.unit_ids


def sees_personal_data(viewer: CurrentUser, unit_id: uuid.UUID) -> bool:
    """Full party identifiers: supervisors and admins, and the unit's own officers and reviewers."""
    if viewer.has_any("supervisor", "admin"):
        return True
    return viewer.has_any(*ENFORCEMENT_ROLES) and unit_id in viewer.unit_ids


def mask_id_number(value: str | None) -> str | None:
    if not value:
        return value
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
