from __future__ import annotations

from backend.accounts.tables import User
from tests.conftest import PASSWORD, World, assert_problem, unique


async def test_admin_creates_a_user_who_can_sign_in(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    username = unique("new")
    response = await client.post(
        "/api/v1/users",
        json={
            "username": username,
            "password": PASSWORD,
            "display_name": "新同事",
            "roles": ["officer"],
            "unit_ids": [str(world.town_a)],
            "phone": "13900001111",
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["roles"] == ["officer"] and body["units"][0]["id"] == str(world.town_a)
    assert body["certificate"] is None and body["phone"] == "13900001111"
    assert "password" not in response.text and "hash" not in response.text
    login = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200


async def test_bad_user_input_is_refused_and_nothing_is_written(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    cases = [
        ({"display_name": "x" * 101}, 400, "validation.failed"),
        ({"roles": ["emperor"]}, 400, "validation.failed"),
        ({"roles": []}, 400, "validation.failed"),
        ({"password": "short"}, 400, "validation.failed"),
        ({"username": "有空格 的名字"}, 400, "validation.failed"),
        ({"is_superuser": True}, 400, "validation.failed"),
        ({"unit_ids": ["00000000-0000-0000-0000-000000000001"]}, 422, "unit.not_found"),
    ]
    for change, status, code in cases:
        username = unique("bad")
        payload = {
            "username": username,
            "password": PASSWORD,
            "display_name": "坏数据",
            "roles": ["officer"],
            "unit_ids": [str(world.town_a)],
            **change,
        }
        body = assert_problem(await client.post("/api/v1/users", json=payload, headers=admin), status, code)
        if status == 400:
            assert body["errors"], body
        assert not await User.exists().where(User.username == payload["username"]), change


async def test_duplicate_username_is_a_conflict(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    payload = {
        "username": world.username("officer_a1"),
        "password": PASSWORD,
        "display_name": "重复",
        "roles": ["officer"],
    }
    assert_problem(await client.post("/api/v1/users", json=payload, headers=admin), 409, "conflict.duplicate")
    assert await User.count().where(User.username == world.username("officer_a1")) == 1


async def test_only_admins_manage_accounts(client, as_user, world: World) -> None:
    for key in ("officer_a1", "supervisor", "command"):
        headers = await as_user(key)
        payload = {"username": unique("x"), "password": PASSWORD, "display_name": "越权", "roles": ["admin"]}
        assert_problem(
            await client.post("/api/v1/users", json=payload, headers=headers), 403, "auth.forbidden"
        )
        patch = await client.patch(
            f"/api/v1/users/{world.users[key]}", json={"roles": ["admin"]}, headers=headers
        )
        assert_problem(patch, 403, "auth.forbidden")


async def test_township_users_see_only_their_township(client, as_user, world: World) -> None:
    officer_a = await as_user("officer_a1")
    listed = await client.get("/api/v1/users?limit=200", headers=officer_a)
    assert listed.status_code == 200
    ids = {u["id"] for u in listed.json()["items"]}
    assert str(world.users["officer_a2"]) in ids and str(world.users["reviewer_a"]) in ids
    assert str(world.users["officer_b1"]) not in ids and str(world.users["admin"]) not in ids
    foreign = await client.get(f"/api/v1/users/{world.users['officer_b1']}", headers=officer_a)
    body = assert_problem(foreign, 404, "not_found")
    assert "officer_b1" not in foreign.text and world.username("officer_b1") not in str(body)
    missing = await client.get("/api/v1/users/00000000-0000-0000-0000-00000000abcd", headers=officer_a)
    assert missing.json()["detail"] == body["detail"]  # foreign and missing are indistinguishable
    colleague = await client.get(f"/api/v1/users/{world.users['officer_a2']}", headers=officer_a)
    assert colleague.status_code == 200 and colleague.json()["phone"] == "138****5678"


async def test_supervisors_see_everyone_with_filters_and_pages(client, as_user, world: World) -> None:
    supervisor = await as_user("supervisor")
    page = await client.get(f"/api/v1/users?role=officer&unit_id={world.town_b}", headers=supervisor)
    assert {u["id"] for u in page.json()["items"]} == {
        str(world.users["officer_b1"]),
        str(world.users["officer_b2"]),
    }
    seen: list[str] = []
    cursor = None
    while True:
        url = "/api/v1/users?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = (await client.get(url, headers=supervisor)).json()
        seen += [u["username"] for u in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) >= len(world.users)
    assert_problem(await client.get("/api/v1/users?limit=201", headers=supervisor), 400, "validation.failed")
    assert_problem(await client.get("/api/v1/users?cursor=%%%", headers=supervisor), 400, "validation.failed")


async def test_admin_changes_roles_and_units(client, as_user, world: World) -> None:
    from backend.accounts import schemas, services

    user = await services.create_user(
        None,
        schemas.UserCreate(
            username=unique("move"),
            password=PASSWORD,
            display_name="调动",
            roles=["officer"],
            unit_ids=[world.town_a],
        ),
    )
    admin = await as_user("admin")
    response = await client.patch(
        f"/api/v1/users/{user.id}",
        json={
            "roles": ["officer", "legal_reviewer"],
            "unit_ids": [str(world.town_b)],
            "display_name": "调动后",
        },
        headers=admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["roles"] == ["legal_reviewer", "officer"] and body["display_name"] == "调动后"
    assert [u["id"] for u in body["units"]] == [str(world.town_b)]
    bad = await client.patch(f"/api/v1/users/{user.id}", json={"unit_ids": ["not-a-uuid"]}, headers=admin)
    assert_problem(bad, 400, "validation.failed")
    ghost = await client.patch("/api/v1/users/00000000-0000-0000-0000-000000000009", json={}, headers=admin)
    assert_problem(ghost, 404, "not_found")
