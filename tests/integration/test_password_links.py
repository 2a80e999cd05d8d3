"""An admin's one-time link to set a new password, and lifting a sign-in lockout."""

from __future__ import annotations

from datetime import timedelta

from backend.accounts.tables import PasswordReset
from backend.audit.tables import AuditEntry
from backend.lib.clock import utcnow
from tests.conftest import PASSWORD, World, assert_problem, login, unique

NEW = "新的口令-2026-xyz"


async def _user(client, admin) -> dict:
    username = unique("reset")
    response = await client.post(
        "/api/v1/users",
        json={"username": username, "password": PASSWORD, "display_name": "重设密码", "roles": ["officer"]},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_link_sets_a_new_password_once_and_ends_the_old_sessions(
    client, as_user, world: World
) -> None:
    admin = await as_user("admin")
    user = await _user(client, admin)
    old_session = await login(client, user["username"])
    made = await client.post(f"/api/v1/users/{user['id']}/password-reset", headers=admin)
    assert made.status_code == 201, made.text
    link = made.json()["link"]
    assert link.startswith("/#/reset/") and "token" not in link
    token = link.removeprefix("/#/reset/")
    # A second link voids the first.
    second = (await client.post(f"/api/v1/users/{user['id']}/password-reset", headers=admin)).json()
    newer = second["link"].removeprefix("/#/reset/")
    assert_problem(
        await client.post("/api/v1/auth/password-reset", json={"token": token, "password": NEW}),
        410,
        "password_reset.invalid",
    )
    short = await client.post("/api/v1/auth/password-reset", json={"token": newer, "password": "short"})
    assert_problem(short, 400, "validation.failed")
    done = await client.post("/api/v1/auth/password-reset", json={"token": newer, "password": NEW})
    assert done.status_code == 204, done.text
    assert (await client.get("/api/v1/me", headers=old_session)).status_code == 401
    old = await client.post("/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD})
    assert_problem(old, 401, "auth.invalid_credentials")
    assert (await login(client, user["username"], NEW))["Authorization"]
    again = await client.post("/api/v1/auth/password-reset", json={"token": newer, "password": NEW + "2"})
    assert_problem(again, 410, "password_reset.invalid")
    actions = {
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action).where(AuditEntry.object_id == user["id"])
    }
    assert {"user.password_link", "user.password_reset"} <= actions


async def test_expired_unknown_and_foreign_links_change_nothing(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    user = await _user(client, admin)
    token = (
        (await client.post(f"/api/v1/users/{user['id']}/password-reset", headers=admin))
        .json()["link"]
        .removeprefix("/#/reset/")
    )
    await PasswordReset.update({PasswordReset.expires_at: utcnow() - timedelta(minutes=1)}).where(
        PasswordReset.user == user["id"]
    )
    assert_problem(
        await client.post("/api/v1/auth/password-reset", json={"token": token, "password": NEW}),
        410,
        "password_reset.invalid",
    )
    assert_problem(
        await client.post("/api/v1/auth/password-reset", json={"token": "x" * 43, "password": NEW}),
        410,
        "password_reset.invalid",
    )
    assert (await login(client, user["username"]))["Authorization"]  # the old password still works
    officer = await as_user("officer_a1")
    assert_problem(
        await client.post(f"/api/v1/users/{user['id']}/password-reset", headers=officer),
        403,
        "auth.forbidden",
    )
    assert_problem(
        await client.post(f"/api/v1/users/{user['id']}/unlock", headers=officer), 403, "auth.forbidden"
    )


async def test_an_admin_lifts_a_lockout(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    user = await _user(client, admin)
    for _ in range(5):
        await client.post(
            "/api/v1/auth/login", json={"username": user["username"], "password": "wrong-password"}
        )
    locked = await client.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD}
    )
    assert locked.status_code == 429, locked.text
    lifted = await client.post(f"/api/v1/users/{user['id']}/unlock", headers=admin)
    assert lifted.status_code == 200 and lifted.json() == {"was_locked": True}
    assert (await login(client, user["username"]))["Authorization"]
    assert (await client.post(f"/api/v1/users/{user['id']}/unlock", headers=admin)).json() == {
        "was_locked": False
    }
