"""Who receives which live event: the role x unit matrix, decided without a network."""

from __future__ import annotations

import uuid

import pytest

from backend.lib.auth import CurrentUser
from backend.live.routing import Audience, Route, visible

TOWN_A, TOWN_B = uuid.uuid4(), uuid.uuid4()


def _user(*roles: str, units: tuple[uuid.UUID, ...] = (TOWN_A,)) -> CurrentUser:
    return CurrentUser(uuid.uuid4(), "u", "u", frozenset(roles), frozenset(units), uuid.uuid4())


WATCHERS = {
    "supervisor": _user("supervisor"),
    "command": _user("command"),
    "admin": _user("admin"),
    "officer_a": _user("officer"),
    "reviewer_a": _user("legal_reviewer"),
    "invited_a": _user("invited_supervisor"),
    "liaison": _user("liaison", units=()),
}


@pytest.mark.parametrize(
    ("event", "unit", "expected"),
    [
        ("action.created", TOWN_A, {"supervisor", "command", "admin", "officer_a", "reviewer_a"}),
        ("action.created", TOWN_B, {"supervisor", "command", "admin"}),
        # Alerts go to the roles that may GET /alerts, not to the unit's officers and reviewers.
        ("alert.raised", TOWN_A, {"supervisor", "command", "admin"}),
        ("alert.acked", TOWN_A, {"supervisor", "command", "admin"}),
        ("case.updated", TOWN_A, {"supervisor", "command", "admin", "officer_a", "reviewer_a"}),
        (
            "position.updated",
            TOWN_A,
            {"supervisor", "command", "admin", "officer_a", "reviewer_a", "invited_a"},
        ),
        ("position.updated", TOWN_B, {"supervisor", "command", "admin"}),
        ("alert.raised", None, {"supervisor", "command", "admin"}),
    ],
)
def test_scope_matrix(event: str, unit: uuid.UUID | None, expected: set[str]) -> None:
    route = Route(type=event, seq=1, unit_id=unit)
    got = {name for name, user in WATCHERS.items() if visible(Audience.of(user), route)}
    assert got == expected


def test_direct_events_reach_their_target_and_the_supervision_staff_only() -> None:
    target = WATCHERS["officer_a"]
    route = Route(type="spot_check.requested", seq=2, unit_id=TOWN_A, to=target.id)
    got = {name for name, user in WATCHERS.items() if visible(Audience.of(user), route)}
    assert got == {"officer_a", "supervisor", "command", "admin"}


def test_an_alert_addressed_to_one_person_reaches_them() -> None:
    target = WATCHERS["officer_a"]
    route = Route(type="alert.acked", seq=3, unit_id=TOWN_A, to=target.id)
    got = {name for name, user in WATCHERS.items() if visible(Audience.of(user), route)}
    assert got == {"officer_a", "supervisor", "command", "admin"}


@pytest.mark.parametrize("internal", ["account.changed", "session.revoked"])
def test_internal_route_types_reach_no_client(internal: str) -> None:
    for to in (None, WATCHERS["officer_a"].id):
        route = Route(type=internal, seq=0, unit_id=TOWN_A, to=to)
        assert not [name for name, user in WATCHERS.items() if visible(Audience.of(user), route)]
