from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from backend.lib.clock import today_local
from backend.org.tables import Item, Unit
from tests.conftest import World, assert_problem, unique


async def test_units_tree_read_by_all_written_by_admin(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    name = unique("村委会")
    created = await client.post(
        "/api/v1/units",
        json={"name": name, "kind": "association", "parent_id": str(world.justice)},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    officer = await as_user("officer_b1")
    got = await client.get(f"/api/v1/units/{created.json()['id']}", headers=officer)
    assert got.json()["parent_id"] == str(world.justice) and got.json()["name"] == name
    listed = await client.get("/api/v1/units?limit=200", headers=officer)
    assert name in {u["name"] for u in listed.json()["items"]}
    assert_problem(
        await client.post("/api/v1/units", json={"name": unique("u"), "kind": "township"}, headers=officer),
        403,
        "auth.forbidden",
    )
    assert_problem(
        await client.post("/api/v1/units", json={"name": name, "kind": "township"}, headers=admin),
        409,
        "conflict.duplicate",
    )
    bad_parent = {
        "name": unique("u"),
        "kind": "township",
        "parent_id": "00000000-0000-0000-0000-000000000002",
    }
    assert_problem(await client.post("/api/v1/units", json=bad_parent, headers=admin), 422, "unit.not_found")
    assert_problem(
        await client.post("/api/v1/units", json={"name": unique("u"), "kind": "palace"}, headers=admin),
        400,
        "validation.failed",
    )
    assert not await Unit.exists().where(Unit.name == bad_parent["name"])
    assert_problem(
        await client.get("/api/v1/units/00000000-0000-0000-0000-000000000003", headers=officer),
        404,
        "not_found",
    )


async def _item(client, admin, world: World, **extra) -> dict:
    code = unique("IT")
    response = await client.post(
        "/api/v1/items",
        json={
            "code": code,
            "name": "对违法行为的处罚",
            "kind": "penalty",
            "owner_unit_id": str(world.dept),
            "legal_basis": "《某法》第十条",
            **extra,
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_item_with_major_case_rule_and_criminal_threshold(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    item = await _item(
        client,
        admin,
        world,
        major_case={"fine_at_least": 50000, "measures": ["吊销许可证"]},
        criminal_threshold={"amount_involved_at_least": 50000},
    )
    assert item["major_case"] == {"fine_at_least": 50000.0, "measures": ["吊销许可证"]}
    assert item["criminal_threshold"] == {"amount_involved_at_least": 50000.0}
    plain = await _item(client, admin, world)
    assert plain["major_case"] is None and plain["criminal_threshold"] is None
    dup = await client.post(
        "/api/v1/items",
        json={"code": item["code"], "name": "x", "kind": "penalty", "owner_unit_id": str(world.dept)},
        headers=admin,
    )
    assert_problem(dup, 409, "conflict.duplicate")
    negative = {
        "code": unique("IT"),
        "name": "x",
        "kind": "penalty",
        "owner_unit_id": str(world.dept),
        "major_case": {"fine_at_least": -1},
    }
    assert_problem(await client.post("/api/v1/items", json=negative, headers=admin), 400, "validation.failed")
    assert not await Item.exists().where(Item.code == negative["code"])


async def test_a_township_may_act_on_own_and_delegated_items_in_effect(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    current, lapsed, future, never = [await _item(client, admin, world) for _ in range(4)]
    today = today_local()
    for item, start, end in (
        (current, today - timedelta(days=30), None),
        (lapsed, today - timedelta(days=400), today - timedelta(days=1)),
        (future, today + timedelta(days=5), None),
    ):
        response = await client.post(
            f"/api/v1/items/{item['id']}/delegations",
            json={
                "unit_id": str(world.town_a),
                "effective_from": str(start),
                "effective_to": str(end) if end else None,
            },
            headers=admin,
        )
        assert response.status_code == 201, response.text
    officer = await as_user("officer_a1")
    body = (await client.get(f"/api/v1/items?unit_id={world.town_a}&limit=200", headers=officer)).json()
    codes = {i["code"]: i["authority"] for i in body["items"]}
    assert codes.get(current["code"]) == "delegated"
    assert lapsed["code"] not in codes and future["code"] not in codes and never["code"] not in codes
    own = (await client.get(f"/api/v1/items?unit_id={world.dept}&limit=200", headers=officer)).json()
    assert {i["authority"] for i in own["items"]} == {"own"}
    assert current["code"] in {i["code"] for i in own["items"]}


async def test_delegation_rules(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    item = await _item(client, admin, world)
    url = f"/api/v1/items/{item['id']}/delegations"
    to_dept = {"unit_id": str(world.justice), "effective_from": "2026-01-01"}
    assert_problem(await client.post(url, json=to_dept, headers=admin), 422, "delegation.invalid")
    backwards = {"unit_id": str(world.town_b), "effective_from": "2026-01-01", "effective_to": "2025-01-01"}
    assert_problem(await client.post(url, json=backwards, headers=admin), 422, "delegation.invalid")
    missing = "/api/v1/items/00000000-0000-0000-0000-000000000004/delegations"
    assert_problem(
        await client.post(
            missing, json={"unit_id": str(world.town_b), "effective_from": "2026-01-01"}, headers=admin
        ),
        404,
        "not_found",
    )
    officer = await as_user("officer_b1")
    ok = {"unit_id": str(world.town_b), "effective_from": "2026-01-01"}
    assert_problem(await client.post(url, json=ok, headers=officer), 403, "auth.forbidden")
    listed = (await client.get(f"/api/v1/items?unit_id={world.town_b}&limit=200", headers=officer)).json()
    assert item["code"] not in {i["code"] for i in listed["items"]}


async def test_a_townships_enforcement_list_shows_what_it_may_enforce_and_why(
    client, as_user, world: World
) -> None:
    """四(三)一: the 执法事项清单, for anyone signed in, on a day, as JSON, CSV and XLSX."""
    liaison = await as_user("liaison")
    url = f"/api/v1/units/{world.town_a}/enforcement-list"
    today = (await client.get(url, headers=liaison)).json()
    codes = {e["item"]["id"]: e for e in today["entries"]}
    assert today["on"] == today_local().isoformat() and today["unit_name"]
    assert set(codes) == {str(world.items["delegated"])}
    entry = codes[str(world.items["delegated"])]
    assert entry["authority"] == "delegated" and entry["delegated_from"] == "2020-01-01"
    assert entry["delegated_to"] is None and entry["owner_unit_name"]
    assert entry["item"]["criminal_threshold"] == {"amount_involved_at_least": 50000.0}
    # In 2021 the lapsed delegation was in effect too; before 2020, nothing was delegated.
    then = (await client.get(url, params={"on": "2021-06-01"}, headers=liaison)).json()
    assert {e["item"]["id"] for e in then["entries"]} == {
        str(world.items["delegated"]),
        str(world.items["lapsed"]),
    }
    lapsed = next(e for e in then["entries"] if e["item"]["id"] == str(world.items["lapsed"]))
    assert lapsed["delegated_to"] == "2021-12-31"
    assert (await client.get(url, params={"on": "2019-12-31"}, headers=liaison)).json()["entries"] == []
    # The department owns its items: its own list has them as its own authority.
    dept = (await client.get(f"/api/v1/units/{world.dept}/enforcement-list", headers=liaison)).json()
    own = {e["item"]["id"]: e["authority"] for e in dept["entries"]}
    assert all(own[str(world.items[k])] == "own" for k in ("delegated", "lapsed", "dept_only"))

    as_csv = await client.get(url, params={"format": "csv"}, headers=liaison)
    lines = as_csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("事项编码,事项名称,类别,实施依据,职权来源") and len(lines) == 2
    assert "赋权实施" in lines[1] and "2020-01-01 至 长期" in lines[1] and "涉案金额50000元以上" in lines[1]
    as_xlsx = await client.get(url, params={"format": "xlsx"}, headers=liaison)
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet["A1"].value == "事项编码" and sheet.freeze_panes == "A2" and sheet.max_row == 2

    assert_problem(
        await client.get(f"/api/v1/units/{world.items['delegated']}/enforcement-list", headers=liaison),
        404,
        "not_found",
    )
    assert_problem(
        await client.get(url, params={"on": "2021-13-01"}, headers=liaison), 400, "validation.failed"
    )
    assert_problem(await client.get(url, params={"format": "pdf"}, headers=liaison), 400, "validation.failed")
    assert (await client.get(url)).status_code == 401
