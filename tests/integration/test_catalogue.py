"""The item catalogue from the admin's screen: an item's terms changed (never its code) and shown in
its history, its own full-recording rule (全过程记录), a delegation ended on a day, and the unit and
item lists searched and filtered on the server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.lib.clock import today_local
from backend.org.tables import Delegation, Item
from tests.conftest import World, assert_problem, unique
from tests.integration.enforcement_helpers import action_payload, record_action


async def _item(client, admin, world: World, **extra) -> dict:
    body = {
        "code": unique("CAT"),
        "name": "对占道经营的处罚",
        "kind": "penalty",
        "owner_unit_id": str(world.dept),
        "legal_basis": "《城市市容和环境卫生管理条例》第三十六条",
        **extra,
    }
    response = await client.post("/api/v1/items", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def _delegate(client, admin, item: dict, unit, start, end=None) -> dict:
    response = await client.post(
        f"/api/v1/items/{item['id']}/delegations",
        json={"unit_id": str(unit), "effective_from": str(start), "effective_to": str(end) if end else None},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _history(client, headers, object_id: str) -> list[dict]:
    response = await client.get("/api/v1/audit", params={"object_id": object_id}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_an_admin_changes_an_items_terms_and_sees_them_in_its_history(
    client, as_user, world: World
) -> None:
    admin = await as_user("admin")
    item = await _item(client, admin, world)
    assert item["full_recording"] is None
    url = f"/api/v1/items/{item['id']}"
    changed = await client.patch(
        url,
        json={
            "name": "对占道经营、乱堆乱放的处罚",
            "kind": "coercion",
            "legal_basis": "《某条例》第十二条",
            "major_case": {"fine_at_least": 20000, "measures": ["吊销许可证", "责令停产停业"]},
            "criminal_threshold": {"amount_involved_at_least": 80000},
            "full_recording": True,
        },
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    shown = (await client.get(url, headers=await as_user("officer_a1"))).json()
    assert shown["code"] == item["code"] and shown["name"] == "对占道经营、乱堆乱放的处罚"
    assert shown["kind"] == "coercion" and shown["legal_basis"] == "《某条例》第十二条"
    assert shown["major_case"] == {"fine_at_least": 20000.0, "measures": ["吊销许可证", "责令停产停业"]}
    assert shown["criminal_threshold"] == {"amount_involved_at_least": 80000.0}
    assert shown["full_recording"] is True
    # Clearing the rules: no major-case rule, no threshold, back to the setting by kind.
    cleared = await client.patch(
        url, json={"major_case": None, "criminal_threshold": None, "full_recording": None}, headers=admin
    )
    assert cleared.status_code == 200, cleared.text
    body = cleared.json()
    assert (
        body["major_case"] is None and body["criminal_threshold"] is None and body["full_recording"] is None
    )
    assert body["name"] == "对占道经营、乱堆乱放的处罚"  # unset fields stay

    history = await _history(client, admin, item["id"])
    updates = [e for e in history if e["action"] == "item.updated"]
    assert len(updates) == 2
    first = updates[-1]["data"]["changes"]  # newest first
    assert first["name"] == ["对占道经营的处罚", "对占道经营、乱堆乱放的处罚"]
    assert first["kind"] == ["penalty", "coercion"] and first["full_recording"] == [None, True]
    assert first["major_fine_at_least"] == [None, 20000.0]
    assert updates[0]["data"]["changes"]["criminal_amount_at_least"] == [80000.0, None]
    assert updates[0]["actor"] == world.username("admin")
    # Nothing changed, nothing recorded.
    same = await client.patch(url, json={"name": "对占道经营、乱堆乱放的处罚"}, headers=admin)
    assert same.status_code == 200
    assert len([e for e in await _history(client, admin, item["id"]) if e["action"] == "item.updated"]) == 2


async def test_the_code_never_changes_and_bad_input_changes_nothing(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    item = await _item(client, admin, world)
    url = f"/api/v1/items/{item['id']}"
    before = await Item.select().where(Item.id == item["id"]).first()
    refused = await client.patch(url, json={"code": unique("NEW"), "name": "改名"}, headers=admin)
    body = assert_problem(refused, 422, "item.code_immutable")
    assert item["code"] in body["detail"] and "new item" in body["detail"]
    assert_problem(
        await client.patch(
            url, json={"owner_unit_id": "00000000-0000-0000-0000-000000000009"}, headers=admin
        ),
        422,
        "unit.not_found",
    )
    for bad in ({"kind": "tax"}, {"major_case": {"fine_at_least": -5}}, {"name": ""}, {"colour": "red"}):
        assert_problem(await client.patch(url, json=bad, headers=admin), 400, "validation.failed")
    assert_problem(
        await client.patch(url, json={"name": "改名"}, headers=await as_user("supervisor")),
        403,
        "auth.forbidden",
    )
    assert_problem(
        await client.patch("/api/v1/items/00000000-0000-0000-0000-000000000009", json={}, headers=admin),
        404,
        "not_found",
    )
    assert await Item.select().where(Item.id == item["id"]).first() == before
    assert not [e for e in await _history(client, admin, item["id"]) if e["action"] == "item.updated"]


async def test_an_items_own_rule_decides_which_acts_need_a_recording(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    officer = await as_user("officer_a1")
    since = today_local() - timedelta(days=30)
    # A penalty item: an inspection on it needs no recording by the setting...
    always = await _item(client, admin, world)
    await _delegate(client, admin, always, world.town_a, since)
    plain = await record_action(client, officer, world, item_id=always["id"])
    assert plain["recording_required"] is False
    # ...until the item is marked: every act on it needs one.
    marked = await client.patch(f"/api/v1/items/{always['id']}", json={"full_recording": True}, headers=admin)
    assert marked.json()["full_recording"] is True
    needed = await record_action(client, officer, world, item_id=always["id"])
    assert needed["recording_required"] is True and needed["recording_missing"] is True
    # A coercion item: by the setting every act on it needs one; marked false, an inspection on it
    # does not, but a coercive act still does (the law lists the act's kind, no item waives it).
    never = await _item(client, admin, world, kind="coercion")
    await _delegate(client, admin, never, world.town_a, since)
    assert (await record_action(client, officer, world, item_id=never["id"]))["recording_required"] is True
    exempt = await client.patch(f"/api/v1/items/{never['id']}", json={"full_recording": False}, headers=admin)
    assert exempt.json()["full_recording"] is False
    act = await record_action(client, officer, world, item_id=never["id"])
    assert act["recording_required"] is False and act["recording_missing"] is False
    coercive = await record_action(client, officer, world, item_id=never["id"], kind="coercive")
    assert coercive["recording_required"] is True and coercive["recording_missing"] is True


async def test_an_ended_delegation_stops_the_township_acting_the_day_after(
    client, as_user, world: World
) -> None:
    admin = await as_user("admin")
    officer = await as_user("officer_a1")
    today = today_local()
    item = await _item(client, admin, world)
    delegation = await _delegate(client, admin, item, world.town_a, today - timedelta(days=60))
    await record_action(client, officer, world, item_id=item["id"])
    listed = (await client.get(f"/api/v1/items/{item['id']}/delegations", headers=admin)).json()
    assert [(d["id"], d["unit_name"], d["effective_to"]) for d in listed] == [
        (delegation["id"], await _unit_name(client, admin, world.town_a), None)
    ]
    end_url = f"/api/v1/items/{item['id']}/delegations/{delegation['id']}/end"
    too_early = {"effective_to": str(today - timedelta(days=61))}
    assert_problem(await client.post(end_url, json=too_early, headers=admin), 422, "delegation.invalid")
    assert_problem(
        await client.post(end_url, json={"effective_to": str(today)}, headers=officer), 403, "auth.forbidden"
    )
    row = await Delegation.select(Delegation.effective_to).where(Delegation.id == delegation["id"]).first()
    assert row is not None and row["effective_to"] is None

    ended = await client.post(end_url, json={"effective_to": str(today - timedelta(days=1))}, headers=admin)
    assert ended.status_code == 200, ended.text
    assert ended.json()["effective_to"] == str(today - timedelta(days=1))
    # An act of today (the payload's default is two hours ago, which is yesterday in Beijing just
    # after midnight, the delegation's last day).
    now = datetime.now(UTC).isoformat()
    refused = await client.post(
        "/api/v1/actions", json=action_payload(world, item_id=item["id"], occurred_at=now), headers=officer
    )
    assert_problem(refused, 422, "item.not_authorised")
    may = (await client.get(f"/api/v1/items?unit_id={world.town_a}&limit=200", headers=officer)).json()
    assert item["code"] not in {i["code"] for i in may["items"]}
    # An ended delegation is not lengthened by ending it later: that is a new delegation.
    longer = {"effective_to": str(today + timedelta(days=30))}
    assert_problem(await client.post(end_url, json=longer, headers=admin), 422, "delegation.invalid")
    entries = [e for e in await _history(client, admin, item["id"]) if e["action"] == "item.delegation_ended"]
    assert len(entries) == 1
    assert entries[0]["data"]["effective_to"] == [None, str(today - timedelta(days=1))]
    other = await _item(client, admin, world)
    assert_problem(
        await client.post(
            f"/api/v1/items/{other['id']}/delegations/{delegation['id']}/end",
            json={"effective_to": str(today)},
            headers=admin,
        ),
        404,
        "not_found",
    )


async def _unit_name(client, headers, unit_id) -> str:
    return (await client.get(f"/api/v1/units/{unit_id}", headers=headers)).json()["name"]


async def test_units_and_items_are_searched_and_filtered_on_the_server(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    tag = unique("搜")
    for kind in ("township", "association"):
        created = await client.post(
            "/api/v1/units", json={"name": f"{tag}{kind}", "kind": kind}, headers=admin
        )
        assert created.status_code == 201, created.text
    officer = await as_user("officer_a1")
    found = (await client.get("/api/v1/units", params={"q": tag}, headers=officer)).json()
    assert sorted(u["kind"] for u in found["items"]) == ["association", "township"]
    towns = (await client.get("/api/v1/units", params={"q": tag, "kind": "township"}, headers=officer)).json()
    assert [u["name"] for u in towns["items"]] == [f"{tag}township"]
    assert_problem(
        await client.get("/api/v1/units", params={"kind": "palace"}, headers=officer),
        400,
        "validation.failed",
    )

    word = unique("噪声")
    made = [await _item(client, admin, world, name=f"{word}处罚{n}") for n in range(3)]
    made.append(await _item(client, admin, world, name=f"{word}强制", kind="coercion"))
    by_name = (await client.get("/api/v1/items", params={"q": word}, headers=officer)).json()
    assert sorted(i["code"] for i in by_name["items"]) == sorted(i["code"] for i in made)
    by_code = (
        await client.get("/api/v1/items", params={"q": made[0]["code"].lower()}, headers=officer)
    ).json()
    assert [i["code"] for i in by_code["items"]] == [made[0]["code"]]
    coercion = (
        await client.get("/api/v1/items", params={"q": word, "kind": "coercion"}, headers=officer)
    ).json()
    assert [i["name"] for i in coercion["items"]] == [f"{word}强制"]
    elsewhere = (
        await client.get(
            "/api/v1/items", params={"q": word, "owner_unit_id": str(world.justice)}, headers=officer
        )
    ).json()
    assert elsewhere["items"] == []
    # Paging through the filtered list: every match once, in code order.
    seen, cursor = [], None
    while True:
        params = {"q": word, "owner_unit_id": str(world.dept), "limit": 3}
        page = (
            await client.get(
                "/api/v1/items", params={**params, **({"cursor": cursor} if cursor else {})}, headers=officer
            )
        ).json()
        seen += [i["code"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(i["code"] for i in made)
