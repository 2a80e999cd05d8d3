from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from backend.alerts.tables import Alert
from backend.app import create_app
from backend.evidence.tables import Evidence
from backend.live.publish import OFFLINE
from backend.supervision import services as supervision
from backend.supervision.tables import Invitation, SpotCheck
from tests.conftest import PASSWORD, World, assert_problem, login, make_settings, serve, unique
from tests.integration.enforcement_helpers import record_action
from tests.integration.evidence.photos import phone_photo


async def _invite(client, headers, world: World, **extra) -> dict:
    body = {
        "name": "王代表",
        "phone": "13900002222",
        "unit_ids": [str(world.town_a)],
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        **extra,
    }
    response = await client.post("/api/v1/invitations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_invitation_works_once_and_revoking_it_ends_access(client, as_user, world: World) -> None:
    supervisor = await as_user("supervisor")
    invitation = await _invite(client, supervisor, world)
    assert "#/invite/" in invitation["link"] and invitation["token"] not in invitation["link"].split("#")[0]
    assert invitation["qr_svg"].startswith("<svg") and invitation["invitation"]["status"] == "pending"
    stored = (
        await Invitation.select(Invitation.token_hash)
        .where(Invitation.id == invitation["invitation"]["id"])
        .first()
    )
    assert invitation["token"] not in str(stored)  # only a hash is kept
    username = unique("daibiao")
    accepted = await client.post(
        "/api/v1/invitations/accept",
        json={"token": invitation["token"], "password": PASSWORD, "username": username},
    )
    assert accepted.status_code == 201, accepted.text
    session = {"Authorization": f"Bearer {accepted.json()['session']['access_token']}"}
    me = (await client.get("/api/v1/me", headers=session)).json()
    assert me["roles"] == ["invited_supervisor"] and [u["id"] for u in me["units"]] == [str(world.town_a)]
    again = await client.post(
        "/api/v1/invitations/accept", json={"token": invitation["token"], "password": PASSWORD}
    )
    assert_problem(again, 410, "invitation.used")
    revoked = await client.delete(f"/api/v1/invitations/{invitation['invitation']['id']}", headers=supervisor)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert_problem(await client.get("/api/v1/me", headers=session), 401, "auth.invalid_token")
    relogin = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert_problem(relogin, 401, "auth.account_disabled")


async def _accepted(client, supervisor, world: World) -> tuple[dict, str, dict]:
    invitation = await _invite(client, supervisor, world)
    username = unique("daibiao")
    accepted = await client.post(
        "/api/v1/invitations/accept",
        json={"token": invitation["token"], "password": PASSWORD, "username": username},
    )
    assert accepted.status_code == 201, accepted.text
    return invitation, username, accepted.json()["session"]


async def test_refresh_is_refused_once_the_invitation_has_expired(client, as_user, world: World) -> None:
    from backend.accounts.tables import User

    supervisor = await as_user("supervisor")
    invitation, username, session = await _accepted(client, supervisor, world)
    rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert rotated.status_code == 200, rotated.text  # while the invitation runs, refresh works
    pair = rotated.json()
    # The invitation's time runs out (the account's access ends with it).
    past = datetime.now(UTC) - timedelta(minutes=1)
    await Invitation.update({Invitation.expires_at: past}).where(
        Invitation.id == invitation["invitation"]["id"]
    )
    await User.update({User.access_expires_at: past}).where(User.username == username)
    refused = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    body = assert_problem(refused, 401, "auth.access_expired")
    assert "access_token" not in body and "refresh_token" not in body
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert_problem(me, 401, "auth.invalid_token")
    relogin = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert_problem(relogin, 401, "auth.account_disabled")


async def test_a_revoked_invitation_stays_revoked_when_the_account_is_enabled_again(
    client, as_user, world: World
) -> None:
    supervisor, admin = await as_user("supervisor"), await as_user("admin")
    invitation, username, session = await _accepted(client, supervisor, world)
    user_id = session["user"]["id"]
    await client.delete(f"/api/v1/invitations/{invitation['invitation']['id']}", headers=supervisor)
    assert_problem(
        await client.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}),
        401,
        "auth.refresh_invalid",
    )
    enabled = await client.patch(f"/api/v1/users/{user_id}", json={"active": True}, headers=admin)
    assert enabled.status_code == 200 and enabled.json()["active"] is True
    relogin = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert_problem(relogin, 401, "auth.account_disabled")


async def test_a_link_is_checked_before_anything_is_filled_in(client, as_user, world: World) -> None:
    supervisor = await as_user("supervisor")
    invitation = await _invite(client, supervisor, world)
    token = invitation["token"]
    checked = await client.post("/api/v1/invitations/check", json={"token": token})
    assert checked.status_code == 200, checked.text
    assert checked.json()["name"] == "王代表" and token not in checked.text
    assert_problem(await client.post("/api/v1/invitations/check", json={}), 400, "validation.failed")
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert_problem(
        await client.post("/api/v1/invitations/check", json={"token": tampered}), 404, "invitation.invalid"
    )
    # Checking changes nothing: the link is accepted afterwards, and then reads as used.
    stored = await Invitation.select().where(Invitation.id == invitation["invitation"]["id"]).first()
    assert stored is not None and stored["accepted_at"] is None
    username = unique("jiandu")
    accepted = await client.post(
        "/api/v1/invitations/accept", json={"token": token, "password": PASSWORD, "username": username}
    )
    assert accepted.status_code == 201 and accepted.json()["username"] == username
    assert_problem(
        await client.post("/api/v1/invitations/check", json={"token": token}), 410, "invitation.used"
    )
    other = await _invite(client, supervisor, world)
    await client.delete(f"/api/v1/invitations/{other['invitation']['id']}", headers=supervisor)
    assert_problem(
        await client.post("/api/v1/invitations/check", json={"token": other["token"]}),
        410,
        "invitation.revoked",
    )


async def test_bad_invitation_links(client, as_user, world: World) -> None:
    supervisor = await as_user("supervisor")
    invitation = await _invite(client, supervisor, world)
    token = invitation["token"]
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for bad in (tampered, "not-a-token-at-all", uuid.uuid4().hex + ".x" * 10):
        response = await client.post("/api/v1/invitations/accept", json={"token": bad, "password": PASSWORD})
        assert_problem(response, 404, "invitation.invalid")
    await (
        Invitation.update({Invitation.expires_at: datetime.now(UTC) - timedelta(minutes=1)})
        .where(Invitation.id == invitation["invitation"]["id"])
        .run()
    )
    expired = await client.post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
    assert_problem(expired, 410, "invitation.expired")
    other = await _invite(client, supervisor, world)
    await client.delete(f"/api/v1/invitations/{other['invitation']['id']}", headers=supervisor)
    assert_problem(
        await client.post("/api/v1/invitations/accept", json={"token": other["token"], "password": PASSWORD}),
        410,
        "invitation.revoked",
    )
    officer = await as_user("officer_a1")
    assert_problem(
        await client.post(
            "/api/v1/invitations",
            json={"name": "x", "unit_ids": [str(world.town_a)], "expires_at": "2030-01-01T00:00:00Z"},
            headers=officer,
        ),
        403,
        "auth.forbidden",
    )
    past = {"name": "x", "unit_ids": [str(world.town_a)], "expires_at": "2020-01-01T00:00:00Z"}
    assert_problem(
        await client.post("/api/v1/invitations", json=past, headers=supervisor), 400, "validation.failed"
    )


async def _on_duty(client, headers) -> None:
    response = await client.post(
        "/api/v1/positions",
        headers=headers,
        json={"lat": 29.15, "lon": 107.1, "accuracy_m": 10, "at": datetime.now(UTC).isoformat()},
    )
    if response.status_code != 201:
        # Only refused as too soon after a position already sent, which itself puts the officer on duty.
        assert_problem(response, 429, "rate_limited")
    me = (await client.get("/api/v1/me", headers=headers)).json()["id"]
    on_duty = (await client.get("/api/v1/positions", headers=headers)).json()
    assert me in {p["user_id"] for p in on_duty}


async def test_spot_check_answer_review_appeal(client, as_user, world: World) -> None:
    supervisor, officer = await as_user("supervisor"), await as_user("officer_b1")
    check = (
        await client.post(
            "/api/v1/spot-checks", json={"officer_id": str(world.users["officer_b1"])}, headers=supervisor
        )
    ).json()
    assert check["status"] == "requested" and len(check["checklist"]) == 5
    assert datetime.fromisoformat(check["due_at"]) - datetime.fromisoformat(
        check["requested_at"]
    ) == timedelta(minutes=10)
    mine = (await client.get("/api/v1/spot-checks", headers=officer)).json()
    assert (
        check["id"] in {c["id"] for c in mine}
        and "submit" in next(c for c in mine if c["id"] == check["id"])["allowed"]
    )
    photo = phone_photo(datetime.now(UTC).astimezone())
    answer = await client.post(
        f"/api/v1/spot-checks/{check['id']}/submission",
        content=photo,
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "submitted" and answer.json()["evidence_id"]
    again = await client.post(
        f"/api/v1/spot-checks/{check['id']}/submission",
        content=photo,
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert_problem(again, 409, "spot_check.invalid_state")
    results = {item["key"]: item["key"] != "no_phone" for item in check["checklist"]}
    partial = await client.post(
        f"/api/v1/spot-checks/{check['id']}/review",
        headers=supervisor,
        json={"results": {"uniform": True}, "score": 80},
    )
    assert_problem(partial, 400, "validation.failed")
    reviewed = await client.post(
        f"/api/v1/spot-checks/{check['id']}/review",
        headers=supervisor,
        json={"results": results, "score": 70, "comment": "执法中使用个人手机"},
    )
    assert reviewed.json()["status"] == "failed"
    assert await Alert.exists().where((Alert.type == "spot_check.failed") & (Alert.object_id == check["id"]))
    appealed = await client.post(
        f"/api/v1/spot-checks/{check['id']}/appeal",
        headers=officer,
        json={"comment": "当时在接听指挥中心电话"},
    )
    assert appealed.json()["appeal"]["comment"] == "当时在接听指挥中心电话"
    assert_problem(
        await client.post(
            f"/api/v1/spot-checks/{check['id']}/appeal", headers=officer, json={"comment": "再次申诉"}
        ),
        409,
        "spot_check.invalid_state",
    )
    decided = await client.post(
        f"/api/v1/spot-checks/{check['id']}/appeal/decision",
        headers=supervisor,
        json={"upheld": False, "comment": "经核实为工作电话"},
    )
    assert decided.json()["status"] == "passed" and decided.json()["appeal"]["decision"] == "overturned"


async def test_late_and_old_answers_are_refused_and_nothing_is_stored(client, as_user, world: World) -> None:
    supervisor, officer = await as_user("supervisor"), await as_user("officer_b2")
    old = await client.post(
        "/api/v1/spot-checks", json={"officer_id": str(world.users["officer_b2"])}, headers=supervisor
    )
    check = old.json()
    before = await Evidence.count()
    gallery = phone_photo(datetime.now(UTC).astimezone() - timedelta(hours=3))
    stale = await client.post(
        f"/api/v1/spot-checks/{check['id']}/submission",
        content=gallery,
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert_problem(stale, 422, "spot_check.stale_capture")
    await (
        SpotCheck.update({SpotCheck.due_at: datetime.now(UTC) - timedelta(seconds=1)})
        .where(SpotCheck.id == check["id"])
        .run()
    )
    late = await client.post(
        f"/api/v1/spot-checks/{check['id']}/submission",
        content=phone_photo(datetime.now(UTC).astimezone()),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert_problem(late, 422, "spot_check.late")
    assert await Evidence.count() == before
    other = await as_user("officer_b1")
    assert_problem(
        await client.post(
            f"/api/v1/spot-checks/{check['id']}/submission",
            content=gallery,
            headers={**other, "Content-Type": "image/jpeg"},
        ),
        404,
        "not_found",
    )


async def test_overdue_is_marked_once_even_across_a_restart(migrated, as_user, client, world: World) -> None:
    supervisor = await as_user("supervisor")
    check = (
        await client.post(
            "/api/v1/spot-checks", json={"officer_id": str(world.users["officer_a2"])}, headers=supervisor
        )
    ).json()
    await (
        SpotCheck.update({SpotCheck.due_at: datetime.now(UTC) - timedelta(seconds=1)})
        .where(SpotCheck.id == check["id"])
        .run()
    )
    async with serve(create_app(make_settings())):  # a freshly started API marks it by itself
        for _ in range(150):
            row = await SpotCheck.select(SpotCheck.status).where(SpotCheck.id == check["id"]).first()
            if row["status"] == "overdue":
                break
            await asyncio.sleep(0.1)
    assert row["status"] == "overdue"
    await supervision.mark_overdue(OFFLINE)
    alerts = await Alert.count().where(
        (Alert.type == "spot_check.overdue") & (Alert.object_id == check["id"])
    )
    assert alerts == 1


async def test_invited_supervisor_scope(client, as_user, world: World) -> None:
    invited = await as_user("invited")  # invited for town A
    officer_a, officer_b = await as_user("officer_a1"), await as_user("officer_b1")
    action = await record_action(client, officer_a, world)
    evidence = (
        await client.post(
            f"/api/v1/actions/{action['id']}/evidence",
            content=phone_photo(),
            headers={**officer_a, "Content-Type": "image/jpeg"},
        )
    ).json()
    await _on_duty(client, officer_a)
    await _on_duty(client, officer_b)
    picked = await client.post("/api/v1/spot-checks", json={"random": True}, headers=invited)
    assert picked.status_code == 201, picked.text
    assert picked.json()["unit_id"] == str(world.town_a) and picked.json()["random_pick"] is True
    foreign = await client.post(
        "/api/v1/spot-checks", json={"officer_id": str(world.users["officer_b1"])}, headers=invited
    )
    assert_problem(foreign, 404, "not_found")
    assert_problem(
        await client.post(
            "/api/v1/spot-checks", json={"random": True, "unit_id": str(world.town_b)}, headers=invited
        ),
        404,
        "not_found",
    )
    denied = {
        ("GET", "/api/v1/actions"): 403,
        ("GET", f"/api/v1/actions/{action['id']}"): 404,
        ("GET", "/api/v1/cases"): 403,
        ("GET", f"/api/v1/evidence/{evidence['id']}"): 404,
        ("GET", f"/api/v1/evidence/{evidence['id']}/content"): 404,
        ("GET", "/api/v1/audit"): 403,
        ("GET", "/api/v1/alerts"): 403,
        ("GET", "/api/v1/summary"): 403,
        ("GET", f"/api/v1/users/{world.users['officer_b1']}"): 404,
        ("POST", "/api/v1/invitations"): 403,
        ("PUT", "/api/v1/spot-checks/checklist"): 403,
        ("POST", "/api/v1/actions"): 403,
    }
    for (method, path), status in denied.items():
        response = await client.request(method, path, headers=invited, json={} if method != "GET" else None)
        assert response.status_code == status, (method, path, response.text)
        assert "party" not in response.text and "5001" not in response.text
    supervisor = await as_user("supervisor")
    theirs = (
        await client.post(
            "/api/v1/spot-checks", json={"officer_id": str(world.users["officer_a2"])}, headers=supervisor
        )
    ).json()
    assert_problem(await client.get(f"/api/v1/spot-checks/{theirs['id']}", headers=invited), 404, "not_found")
    assert {c["id"] for c in (await client.get("/api/v1/spot-checks", headers=invited)).json()} >= {
        picked.json()["id"]
    }
    assert theirs["id"] not in {
        c["id"] for c in (await client.get("/api/v1/spot-checks", headers=invited)).json()
    }
    target = picked.json()["officer_id"]
    known = {str(v): k for k, v in world.users.items()}
    if target not in known:
        # The random pick may land on an officer another test put on duty in town A: answer a check
        # made for a known officer instead.
        picked = await client.post(
            "/api/v1/spot-checks", json={"officer_id": str(world.users["officer_a1"])}, headers=invited
        )
        assert picked.status_code == 201, picked.text
        target = picked.json()["officer_id"]
    target_headers = (
        officer_a
        if target == str(world.users["officer_a1"])
        else await login(client, world.username(known[target]))
    )
    answer = await client.post(
        f"/api/v1/spot-checks/{picked.json()['id']}/submission",
        content=phone_photo(datetime.now(UTC).astimezone()),
        headers={**target_headers, "Content-Type": "image/jpeg"},
    )
    assert answer.status_code == 201, answer.text
    seen = await client.get(f"/api/v1/evidence/{answer.json()['evidence_id']}/thumbnail", headers=invited)
    assert seen.status_code == 200 and seen.headers["content-type"] == "image/jpeg"
