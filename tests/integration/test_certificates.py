from __future__ import annotations

from datetime import date, timedelta

from backend.accounts.tables import Certificate
from backend.lib.clock import today_local
from tests.conftest import PASSWORD, World, assert_problem, login, unique


async def _officer(world: World) -> tuple[str, str]:
    from backend.accounts import schemas, services

    user = await services.create_user(
        None,
        schemas.UserCreate(
            username=unique("cert"),
            password=PASSWORD,
            display_name="持证",
            roles=["officer"],
            unit_ids=[world.town_a],
        ),
    )
    return str(user.id), user.username


async def test_issue_then_revoke_shows_on_me(client, as_user, world: World) -> None:
    user_id, username = await _officer(world)
    supervisor = await as_user("supervisor")
    today = today_local()
    number = unique("NC")
    response = await client.put(
        f"/api/v1/users/{user_id}/certificate",
        json={
            "number": number,
            "issued_on": str(today - timedelta(days=10)),
            "expires_on": str(today + timedelta(days=700)),
        },
        headers=supervisor,
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "valid"
    officer = await login(client, username)
    assert (await client.get("/api/v1/me", headers=officer)).json()["certificate"]["number"] == number
    revoked = await client.post(
        f"/api/v1/users/{user_id}/certificate/revoke", json={"reason": "年度考核不合格"}, headers=supervisor
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    me = (await client.get("/api/v1/me", headers=officer)).json()["certificate"]
    assert me["status"] == "revoked" and me["revoked_reason"] == "年度考核不合格" and me["revoked_at"]
    audit = await client.get(f"/api/v1/audit?object_id={user_id}", headers=supervisor)
    actions = [e["action"] for e in audit.json()["items"] if e["action"].startswith("certificate.")]
    assert actions == ["certificate.revoked", "certificate.set"]


async def test_expired_certificate_shows_expired(client, as_user, world: World) -> None:
    user_id, username = await _officer(world)
    admin = await as_user("admin")
    response = await client.put(
        f"/api/v1/users/{user_id}/certificate",
        json={"number": unique("NC"), "issued_on": "2019-01-01", "expires_on": "2022-01-01"},
        headers=admin,
    )
    assert response.json()["status"] == "expired"
    me = await client.get("/api/v1/me", headers=await login(client, username))
    assert me.json()["certificate"]["status"] == "expired"


async def test_certificate_rules(client, as_user, world: World) -> None:
    user_id, _ = await _officer(world)
    supervisor = await as_user("supervisor")
    url = f"/api/v1/users/{user_id}/certificate"
    backwards = {"number": unique("NC"), "issued_on": "2025-01-01", "expires_on": "2024-01-01"}
    assert_problem(await client.put(url, json=backwards, headers=supervisor), 400, "validation.failed")
    taken = await Certificate.select(Certificate.number).first()
    if taken:
        clash = {"number": taken["number"], "issued_on": "2025-01-01", "expires_on": "2029-01-01"}
        assert_problem(await client.put(url, json=clash, headers=supervisor), 409, "conflict.duplicate")
    not_officer = f"/api/v1/users/{world.users['reviewer_a']}/certificate"
    ok = {"number": unique("NC"), "issued_on": "2025-01-01", "expires_on": "2029-01-01"}
    assert_problem(await client.put(not_officer, json=ok, headers=supervisor), 422, "certificate.not_officer")
    assert_problem(
        await client.post(f"{url}/revoke", json={"reason": "无证"}, headers=supervisor), 404, "not_found"
    )
    assert_problem(
        await client.post(f"{url}/revoke", json={"reason": ""}, headers=supervisor), 400, "validation.failed"
    )
    assert not await Certificate.exists().where(Certificate.user == user_id)
    officer = await as_user("officer_a1")
    assert_problem(await client.put(url, json=ok, headers=officer), 403, "auth.forbidden")
    assert date.fromisoformat(ok["expires_on"])
