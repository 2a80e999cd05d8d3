"""Who may receive which live event. Decided per event and watcher, never by the client."""

from __future__ import annotations

import uuid

import msgspec

from backend.lib.auth import CurrentUser

# Invited supervisors see officers' whereabouts and their own spot-checks, nothing with parties in it.
INVITED_TYPES = frozenset(
    {"position.updated", "spot_check.requested", "spot_check.submitted", "spot_check.reviewed", "heartbeat"}
)


class Route(msgspec.Struct, frozen=True):
    type: str
    seq: int
    unit_id: uuid.UUID | None = None
    to: uuid.UUID | None = None


def visible(user: CurrentUser, route: Route) -> bool:
    if route.to is not None:
        return route.to == user.id or user.has_any("admin", "supervisor", "command")
    if user.sees_everything:
        return True
    if route.unit_id is None or route.unit_id not in user.unit_ids:
        return False
    if user.has_any("officer", "legal_reviewer"):
        return True
    return user.has_any("invited_supervisor") and route.type in INVITED_TYPES
