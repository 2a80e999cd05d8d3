"""Who may receive which live event. Decided per event and watcher, never by the client."""

from __future__ import annotations

import uuid

import msgspec

from backend.lib.auth import CurrentUser

# Invited supervisors see officers' whereabouts and their own spot-checks, nothing with parties in it.
INVITED_TYPES = frozenset(
    {"position.updated", "spot_check.requested", "spot_check.submitted", "spot_check.reviewed", "heartbeat"}
)


# Alerts are the supervision side's stream: the roles that may GET /alerts (admin, supervisor,
# command) receive them, and nobody else unless an alert is addressed to them.
SUPERVISION_TYPES = frozenset({"alert.raised", "alert.acked"})
# Messages between processes about the stream itself; each hub acts on them and delivers none.
INTERNAL_TYPES = frozenset({"session.revoked", "account.changed"})


class Route(msgspec.Struct, frozen=True):
    type: str
    seq: int
    unit_id: uuid.UUID | None = None
    to: uuid.UUID | None = None


class Audience(msgspec.Struct, frozen=True):
    """What a watcher may see, computed once per connection so routing an event is a few lookups."""

    user_id: uuid.UUID
    everything: bool
    units: frozenset[uuid.UUID]
    enforcement: bool
    invited: bool

    @classmethod
    def of(cls, user: CurrentUser) -> Audience:
        return cls(
            user_id=user.id,
            everything=user.sees_everything,
            units=frozenset(user.unit_ids),
            enforcement=user.has_any("officer", "legal_reviewer"),
            invited=user.has_any("invited_supervisor"),
        )


def visible(audience: Audience, route: Route) -> bool:
    if route.type in INTERNAL_TYPES:
        return False
    if route.to is not None:
        return route.to == audience.user_id or audience.everything
    if audience.everything:
        return True
    if route.type in SUPERVISION_TYPES:
        return False
    if route.unit_id is None or route.unit_id not in audience.units:
        return False
    return audience.enforcement or (audience.invited and route.type in INVITED_TYPES)
