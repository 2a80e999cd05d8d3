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


async def _new_admin(client, headers) -> tuple[str, dict[str, str]]:
    username = unique("root")
    created = await client.post(
        "/api/v1/users",
        json={"username": username, "password": PASSWORD, "display_name": "管理员", "roles": ["admin"]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    signed_in = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    return created.json()["id"], {"Authorization": f"Bearer {signed_in.json()['access_token']}"}


async def test_an_admin_cannot_demote_or_disable_themself(client, as_user) -> None:
    admin_id, admin = await _new_admin(client, await as_user("admin"))
    for change in ({"roles": ["supervisor"]}, {"active": False}, {"roles": ["command"], "active": False}):
        response = await client.patch(f"/api/v1/users/{admin_id}", json=change, headers=admin)
        assert_problem(response, 409, "user.own_admin")
    me = (await client.get("/api/v1/me", headers=admin)).json()  # the session still works
    assert me["roles"] == ["admin"] and me["active"] is True
    # Other changes to one's own account are fine.
    renamed = await client.patch(f"/api/v1/users/{admin_id}", json={"display_name": "改名"}, headers=admin)
    assert renamed.status_code == 200 and renamed.json()["roles"] == ["admin"]


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(client, as_user) -> None:
    import asyncio

    first_id, first = await _new_admin(client, await as_user("admin"))
    second_id, second = await _new_admin(client, await as_user("admin"))
    # Make these two the only active admins for the length of the test.
    others = await (
        User.update({User.active: False})
        .where(User.roles.like("% admin %") & (User.active == True) & User.id.not_in([first_id, second_id]))  # noqa: E712
        .returning(User.id)
    )
    try:
        responses = await asyncio.gather(
            client.patch(f"/api/v1/users/{second_id}", json={"roles": ["supervisor"]}, headers=first),
            client.patch(f"/api/v1/users/{first_id}", json={"active": False}, headers=second),
        )
        codes = sorted(r.status_code for r in responses)
        assert codes[0] == 200 and codes[1] in (403, 409), [r.text for r in responses]
        refused = next(r for r in responses if r.status_code != 200)
        expected = "user.last_admin" if codes[1] == 409 else "auth.forbidden"
        assert_problem(refused, refused.status_code, expected)
        left = await User.select(User.id).where(User.roles.like("% admin %") & (User.active == True))  # noqa: E712
        assert len(left) == 1 and str(left[0]["id"]) in (first_id, second_id)
        # The system itself (the command line, demo data) may not remove the last one either.
        from backend.accounts import schemas, services

        try:
            await services.update_user(None, left[0]["id"], schemas.UserUpdate(active=False))  # type: ignore[arg-type]
        except Exception as exc:
            assert getattr(exc, "error", None) is not None and exc.error.code == "user.last_admin"  # type: ignore[attr-defined]
        else:
            raise AssertionError("the last admin was disabled")
        assert await User.exists().where((User.id == left[0]["id"]) & (User.active == True))  # noqa: E712
    finally:
        if others:
            await User.update({User.active: True}).where(User.id.is_in([r["id"] for r in others]))


async def test_the_user_list_finds_by_part_of_the_username_or_name(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    part = world.username("officer_b2")[-8:]  # the unique suffix
    found = (await client.get("/api/v1/users", params={"q": part, "limit": 200}, headers=admin)).json()[
        "items"
    ]
    assert [u["username"] for u in found] == [world.username("officer_b2")]
    by_name = (
        await client.get(
            "/api/v1/users", params={"q": "测试officer_b2", "role": "officer", "limit": 200}, headers=admin
        )
    ).json()
    assert world.username("officer_b2") in {u["username"] for u in by_name["items"]}
    assert all("officer" in u["roles"] for u in by_name["items"])
    none = await client.get("/api/v1/users", params={"q": "%_%"}, headers=admin)
    assert none.status_code == 200
    too_long = await client.get("/api/v1/users", params={"q": "x" * 65}, headers=admin)
    assert too_long.status_code == 400
