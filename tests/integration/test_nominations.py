"""The invited-supervisor roster and the nominations it is chosen from (docs/supervision.md)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from piccolo.query.functions.aggregate import Count

from backend.app import create_app
from backend.audit.tables import AuditEntry
from backend.supervision.tables import Nomination, SpotCheck
from tests.conftest import PASSWORD, World, assert_problem, make_settings, serve, unique


def _application(**extra) -> dict:
    return {
        "name": "李退休",
        "phone": "13900001111",
        "category": "retired",
        "organisation": "原区财政局",
        "statement": "愿意参与行政执法监督。",
        **extra,
    }


async def _apply(client, **extra) -> dict:
    response = await client.post("/api/v1/nominations", json=_application(**extra))
    assert response.status_code == 201, response.text
    return response.json()


def _period(days: int = 365) -> dict:
    now = datetime.now(UTC)
    return {"appointed_from": now.isoformat(), "appointed_to": (now + timedelta(days=days)).isoformat()}


async def _queue(client, headers) -> dict[str, dict]:
    page = (await client.get("/api/v1/nominations?limit=200", headers=headers)).json()
    return {n["id"]: n for n in page["items"]}


async def _roster_entry(client, headers, invitation_id: str) -> dict:
    response = await client.get("/api/v1/invited-supervisors?limit=200", headers=headers)
    assert response.status_code == 200, response.text
    return next(e for e in response.json()["items"] if e["invitation_id"] == invitation_id)


async def test_a_public_application_reaches_the_supervisor_queue_and_echoes_nothing(
    client, as_user, world: World
) -> None:
    name = unique("张")
    received = await _apply(client, name=name, unit_ids=[str(world.town_a)])
    assert set(received) == {"id", "status", "received_at"} and received["status"] == "received"
    queued = (await _queue(client, await as_user("supervisor")))[received["id"]]
    assert queued["name"] == name and queued["phone"] == "13900001111"
    assert queued["category"] == "retired" and queued["unit_ids"] == [str(world.town_a)]
    assert queued["nominated_by_unit"] is None and queued["status"] == "received"
    entry = await AuditEntry.select().where(AuditEntry.object_id == received["id"]).first()
    assert entry is not None and "13900001111" not in str(entry) and name not in str(entry)


async def test_a_unit_nominates_through_a_signed_in_officer(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    response = await client.post(
        "/api/v1/nominations",
        json=_application(category="deputy", nominated_by_unit=str(world.town_a)),
        headers=officer,
    )
    assert response.status_code == 201, response.text
    queued = (await _queue(client, await as_user("supervisor")))[response.json()["id"]]
    assert queued["nominated_by_unit"] == str(world.town_a) and queued["category"] == "deputy"
    before = await Nomination.count()
    foreign = _application(nominated_by_unit=str(world.town_b))
    assert_problem(await client.post("/api/v1/nominations", json=foreign, headers=officer), 404, "not_found")
    anonymous = await client.post(
        "/api/v1/nominations", json=_application(nominated_by_unit=str(world.town_a))
    )
    assert_problem(anonymous, 401, "auth.required")
    unnamed = await client.post("/api/v1/nominations", json=_application(), headers=officer)
    assert_problem(unnamed, 400, "validation.failed")
    invited = await as_user("invited")
    by_invited = _application(nominated_by_unit=str(world.town_a))
    assert_problem(
        await client.post("/api/v1/nominations", json=by_invited, headers=invited), 403, "auth.forbidden"
    )
    assert await Nomination.count() == before


async def test_bad_applications_are_refused_and_write_nothing(client) -> None:
    before, audited = await Nomination.count(), await AuditEntry.count()
    missing_name = _application()
    del missing_name["name"]
    cases = [
        (missing_name, 400, "validation.failed"),
        (_application(name="   "), 400, "validation.failed"),
        (_application(phone="12345"), 400, "validation.failed"),
        (_application(phone="1390000111a"), 400, "validation.failed"),
        (_application(category="mayor"), 400, "validation.failed"),
        (_application(statement=""), 400, "validation.failed"),
        (_application(unit_ids=["not-a-uuid"]), 400, "validation.failed"),
        (_application(unit_ids=[str(uuid.uuid4())]), 422, "unit.not_found"),
        (_application(extra="x"), 400, "validation.failed"),
    ]
    for body, status, code in cases:
        response = await client.post("/api/v1/nominations", json=body)
        problem = assert_problem(response, status, code)
        assert "13900001111" not in response.text and "原区财政局" not in response.text, problem
    assert await Nomination.count() == before and await AuditEntry.count() == audited


async def test_public_applications_are_rate_limited_per_client(migrated) -> None:
    async with serve(create_app(make_settings(nomination_rate_per_minute=2))) as limited:
        for _ in range(2):
            await _apply(limited)
        before = await Nomination.count()
        refused = await limited.post("/api/v1/nominations", json=_application())
        assert refused.status_code == 429 and int(refused.headers["ratelimit-reset"]) > 0
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert await Nomination.count() == before


async def test_selecting_appoints_through_an_invitation_the_person_accepts(
    client, as_user, world: World
) -> None:
    supervisor = await as_user("supervisor")
    received = await _apply(client, name=unique("王代表"), category="deputy")
    period = _period()
    body = {"unit_ids": [str(world.town_a), str(world.town_b)], **period}
    selected = await client.post(
        f"/api/v1/nominations/{received['id']}/select", json=body, headers=supervisor
    )
    assert selected.status_code == 201, selected.text
    answer = selected.json()
    assert answer["nomination"]["status"] == "selected"
    invitation = answer["invitation"]
    assert answer["nomination"]["invitation_id"] == invitation["invitation"]["id"]
    assert "#/invite/" in invitation["link"] and invitation["qr_svg"].startswith("<svg")
    entry = await _roster_entry(client, supervisor, invitation["invitation"]["id"])
    assert entry["status"] == "invited" and entry["category"] == "deputy"
    # The link is never shown again: neither the queue nor the roster carries it.
    assert invitation["token"] not in str(await _queue(client, supervisor)) and invitation[
        "token"
    ] not in str(entry)

    accepted = await client.post(
        "/api/v1/invitations/accept",
        json={"token": invitation["token"], "password": PASSWORD, "username": unique("daibiao")},
    )
    assert accepted.status_code == 201, accepted.text
    entry = await _roster_entry(client, supervisor, invitation["invitation"]["id"])
    assert entry["status"] == "active" and entry["user_id"]
    assert entry["unit_ids"] == body["unit_ids"]
    assert datetime.fromisoformat(entry["appointed_from"]) == datetime.fromisoformat(period["appointed_from"])
    assert datetime.fromisoformat(entry["appointed_to"]) == datetime.fromisoformat(period["appointed_to"])
    assert entry["spot_checks"] == {"requested": 0, "passed": 0, "failed": 0, "unanswered": 0}

    active = (
        await client.get(
            "/api/v1/invited-supervisors?status=active&category=deputy&limit=200", headers=supervisor
        )
    ).json()
    assert entry in active["items"] and all(
        e["status"] == "active" and e["category"] == "deputy" for e in active["items"]
    )
    others = (
        await client.get("/api/v1/invited-supervisors?status=invited&limit=200", headers=supervisor)
    ).json()
    assert entry["invitation_id"] not in {e["invitation_id"] for e in others["items"]}

    again = await client.post(f"/api/v1/nominations/{received['id']}/select", json=body, headers=supervisor)
    assert_problem(again, 409, "nomination.decided")
    assert_problem(
        await client.post(
            f"/api/v1/nominations/{received['id']}/decline", json={"reason": "x"}, headers=supervisor
        ),
        409,
        "nomination.decided",
    )


async def test_a_refused_selection_leaves_the_nomination_undecided(client, as_user, world: World) -> None:
    supervisor = await as_user("supervisor")
    received = await _apply(client)
    url = f"/api/v1/nominations/{received['id']}/select"
    backwards = {**_period(), "appointed_to": "2020-01-01T00:00:00Z"}
    unknown = {"unit_ids": [str(uuid.uuid4())], **_period()}
    for body, status, code in (
        ({"unit_ids": [str(world.town_a)], **backwards}, 400, "validation.failed"),
        (unknown, 422, "unit.not_found"),
        ({"unit_ids": [], **_period()}, 400, "validation.failed"),
    ):
        assert_problem(await client.post(url, json=body, headers=supervisor), status, code)
    assert (await _queue(client, supervisor))[received["id"]]["status"] == "received"
    assert_problem(
        await client.post(
            f"/api/v1/nominations/{uuid.uuid4()}/select",
            json={"unit_ids": [str(world.town_a)], **_period()},
            headers=supervisor,
        ),
        404,
        "not_found",
    )


async def test_declining_records_the_reason_once(client, as_user, world: World) -> None:
    supervisor = await as_user("supervisor")
    received = await _apply(client)
    url = f"/api/v1/nominations/{received['id']}/decline"
    assert_problem(
        await client.post(url, json={"reason": "  "}, headers=supervisor), 400, "validation.failed"
    )
    declined = await client.post(url, json={"reason": "名额已满"}, headers=supervisor)
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined" and declined.json()["decline_reason"] == "名额已满"
    assert_problem(
        await client.post(url, json={"reason": "again"}, headers=supervisor), 409, "nomination.decided"
    )
    select = await client.post(
        f"/api/v1/nominations/{received['id']}/select",
        json={"unit_ids": [str(world.town_a)], **_period()},
        headers=supervisor,
    )
    assert_problem(select, 409, "nomination.decided")
    queued = await client.get("/api/v1/nominations?status=declined&limit=200", headers=supervisor)
    assert received["id"] in {n["id"] for n in queued.json()["items"]}
    actions = {
        e["action"]
        for e in await AuditEntry.select(AuditEntry.action).where(AuditEntry.object_id == received["id"])
    }
    assert actions == {"nomination.received", "nomination.declined"}


async def test_an_officer_cannot_see_or_decide_nominations_or_the_roster(
    client, as_user, world: World
) -> None:
    officer = await as_user("officer_a1")
    received = await _apply(client)
    for response in (
        await client.get("/api/v1/nominations", headers=officer),
        await client.get("/api/v1/invited-supervisors", headers=officer),
        await client.post(
            f"/api/v1/nominations/{received['id']}/select",
            json={"unit_ids": [str(world.town_a)], **_period()},
            headers=officer,
        ),
        await client.post(
            f"/api/v1/nominations/{received['id']}/decline", json={"reason": "x"}, headers=officer
        ),
    ):
        assert_problem(response, 403, "auth.forbidden")
    assert_problem(await client.get("/api/v1/nominations"), 401, "auth.required")
    assert (await _queue(client, await as_user("supervisor")))[received["id"]]["status"] == "received"


async def test_the_roster_counts_the_persons_spot_checks(client, as_user, world: World) -> None:
    supervisor = await as_user("supervisor")
    received = await _apply(client, category="cppcc")
    selected = await client.post(
        f"/api/v1/nominations/{received['id']}/select",
        json={"unit_ids": [str(world.town_a)], **_period()},
        headers=supervisor,
    )
    token = selected.json()["invitation"]["token"]
    accepted = await client.post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
    assert accepted.status_code == 201, accepted.text
    me = (
        await client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {accepted.json()['session']['access_token']}"}
        )
    ).json()["id"]
    now = datetime.now(UTC)
    for status in ("passed", "passed", "failed", "overdue", "requested", "submitted"):
        await SpotCheck.insert(
            SpotCheck(
                id=uuid.uuid4(),
                officer_id=world.users["officer_a1"],
                unit_id=world.town_a,
                requested_by=uuid.UUID(me),
                due_at=now + timedelta(minutes=10),
                status=status,
            )
        ).run()
    rows = await (
        SpotCheck.select(SpotCheck.status, Count(alias="n"))
        .where(SpotCheck.requested_by == uuid.UUID(me))
        .group_by(SpotCheck.status)
    )
    stored = {r["status"]: r["n"] for r in rows}
    entry = await _roster_entry(client, supervisor, selected.json()["invitation"]["invitation"]["id"])
    assert (
        entry["spot_checks"]
        == {
            "requested": sum(stored.values()),
            "passed": stored["passed"],
            "failed": stored["failed"],
            "unanswered": stored["overdue"],
        }
        == {"requested": 6, "passed": 2, "failed": 1, "unanswered": 1}
    )
    assert entry["category"] == "cppcc"


async def test_roster_filters_and_paging_are_validated(client, as_user) -> None:
    supervisor = await as_user("supervisor")
    for query in ("status=asleep", "category=mayor", "limit=0", "cursor=%%%"):
        response = await client.get(f"/api/v1/invited-supervisors?{query}", headers=supervisor)
        assert_problem(response, 400, "validation.failed")
    first = (await client.get("/api/v1/invited-supervisors?limit=1", headers=supervisor)).json()
    if first["next_cursor"]:
        second = await client.get(
            f"/api/v1/invited-supervisors?limit=1&cursor={first['next_cursor']}", headers=supervisor
        )
        assert second.json()["items"][0]["invitation_id"] != first["items"][0]["invitation_id"]


async def test_the_public_form_lists_active_units_and_the_nomination_keeps_the_choice(
    client, as_user, world: World
) -> None:
    admin = await as_user("admin")
    closed = await client.post(
        "/api/v1/units", json={"name": unique("已撤并村"), "kind": "association"}, headers=admin
    )
    assert closed.status_code == 201, closed.text
    assert (
        await client.post(f"/api/v1/units/{closed.json()['id']}/deactivate", headers=admin)
    ).status_code == 200
    listed = await client.get("/api/v1/public/units")  # no sign-in
    assert listed.status_code == 200, listed.text
    units = listed.json()
    assert all(set(u) == {"id", "name"} for u in units)
    ids = {u["id"] for u in units}
    assert {str(world.town_a), str(world.town_b)} <= ids and closed.json()["id"] not in ids
    received = await _apply(client, unit_ids=[str(world.town_b), str(world.town_a)])
    queued = (await _queue(client, await as_user("supervisor")))[received["id"]]
    assert queued["unit_ids"] == [str(world.town_b), str(world.town_a)]


async def test_the_public_unit_list_is_rate_limited(migrated, world: World) -> None:
    async with serve(create_app(make_settings(public_rate_per_minute=2))) as limited:
        codes = [(await limited.get("/api/v1/public/units")).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
