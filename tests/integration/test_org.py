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
    # Other tests delegate more items to town A: the world's own three decide here.
    assert str(world.items["delegated"]) in codes
    assert str(world.items["lapsed"]) not in codes and str(world.items["dept_only"]) not in codes
    entry = codes[str(world.items["delegated"])]
    assert entry["authority"] == "delegated" and entry["delegated_from"] == "2020-01-01"
    assert entry["delegated_to"] is None and entry["owner_unit_name"]
    assert entry["item"]["criminal_threshold"] == {"amount_involved_at_least": 50000.0}
    # In 2021 the lapsed delegation was in effect too; before 2020, nothing was delegated.
    then = (await client.get(url, params={"on": "2021-06-01"}, headers=liaison)).json()
    then_ids = {e["item"]["id"] for e in then["entries"]}
    assert {str(world.items["delegated"]), str(world.items["lapsed"])} <= then_ids
    assert str(world.items["dept_only"]) not in then_ids
    lapsed = next(e for e in then["entries"] if e["item"]["id"] == str(world.items["lapsed"]))
    assert lapsed["delegated_to"] == "2021-12-31"
    before = (await client.get(url, params={"on": "2019-12-31"}, headers=liaison)).json()["entries"]
    assert not {e["item"]["id"] for e in before} & {str(i) for i in world.items.values()}
    # The department owns its items: its own list has them as its own authority.
    dept = (await client.get(f"/api/v1/units/{world.dept}/enforcement-list", headers=liaison)).json()
    own = {e["item"]["id"]: e["authority"] for e in dept["entries"]}
    assert all(own[str(world.items[k])] == "own" for k in ("delegated", "lapsed", "dept_only"))

    as_csv = await client.get(url, params={"format": "csv"}, headers=liaison)
    lines = as_csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("事项编码,事项名称,类别,实施依据,职权来源")
    assert len(lines) == len(today["entries"]) + 1
    mine = next(line for line in lines if line.startswith(entry["item"]["code"] + ","))
    assert "赋权实施" in mine and "2020-01-01 至 长期" in mine and "涉案金额50000元以上" in mine
    as_xlsx = await client.get(url, params={"format": "xlsx"}, headers=liaison)
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet["A1"].value == "事项编码" and sheet.freeze_panes == "A2"
    assert sheet.max_row == len(today["entries"]) + 1

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


async def test_an_admin_renames_moves_and_deactivates_units_with_what_blocks_it_shown(
    client, as_user, world: World
) -> None:
    from backend.audit.tables import AuditEntry
    from backend.cases.tables import Case

    admin = await as_user("admin")
    made = {}
    for key in ("parent", "child", "grandchild"):
        response = await client.post(
            "/api/v1/units", json={"name": unique(key), "kind": "township"}, headers=admin
        )
        made[key] = response.json()
    url = "/api/v1/units/{}".format
    moved = await client.patch(
        url(made["child"]["id"]), json={"parent_id": made["parent"]["id"]}, headers=admin
    )
    assert moved.status_code == 200 and moved.json()["parent_id"] == made["parent"]["id"]
    await client.patch(url(made["grandchild"]["id"]), json={"parent_id": made["child"]["id"]}, headers=admin)
    # Under its own descendant: a loop, refused; nothing moves.
    loop = await client.patch(
        url(made["parent"]["id"]), json={"parent_id": made["grandchild"]["id"]}, headers=admin
    )
    assert_problem(loop, 422, "unit.cycle")
    assert (await client.get(url(made["parent"]["id"]), headers=admin)).json()["parent_id"] is None
    renamed = await client.patch(
        url(made["parent"]["id"]),
        json={
            "name": made["parent"]["name"] + "（新）",
            "pilot": True,
            "pilot_from": "2022-09-01",
            "pilot_to": "2023-06-30",
        },
        headers=admin,
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["pilot"] is True and renamed.json()["pilot_to"] == "2023-06-30"
    taken = await client.patch(url(made["child"]["id"]), json={"name": renamed.json()["name"]}, headers=admin)
    assert_problem(taken, 409, "conflict.duplicate")
    backwards = await client.patch(
        url(made["child"]["id"]), json={"pilot_from": "2023-01-01", "pilot_to": "2022-01-01"}, headers=admin
    )
    assert_problem(backwards, 400, "validation.failed")
    entry = (
        await AuditEntry.select()
        .where((AuditEntry.action == "unit.updated") & (AuditEntry.object_id == made["parent"]["id"]))
        .first()
    )
    assert entry is not None

    # The township of the world has members and cases: deactivating it is refused with the list.
    refused = await client.post(f"/api/v1/units/{world.town_a}/deactivate", headers=admin)
    body = assert_problem(refused, 409, "unit.in_use")
    kinds = {b["kind"] for b in body["blockers"]}
    assert "active_members" in kinds and all(b["count"] > 0 and b["examples"] for b in body["blockers"])
    dependents = (await client.get(f"/api/v1/units/{world.town_a}/dependents", headers=admin)).json()
    assert {b["kind"] for b in dependents["blockers"]} == kinds
    assert (await client.get(url(world.town_a), headers=admin)).json()["active"] is True
    # A unit with an active unit under it cannot go either; from the bottom up it can.
    assert_problem(
        await client.post(f"/api/v1/units/{made['child']['id']}/deactivate", headers=admin),
        409,
        "unit.in_use",
    )
    gone = await client.post(f"/api/v1/units/{made['grandchild']['id']}/deactivate", headers=admin)
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert (await client.post(f"/api/v1/units/{made['child']['id']}/deactivate", headers=admin)).json()[
        "active"
    ] is False
    back = await client.post(f"/api/v1/units/{made['child']['id']}/activate", headers=admin)
    assert back.json()["active"] is True
    # An open case blocks too.
    open_case = await Case.select(Case.unit).where(Case.status == "filed").first()
    if open_case is not None:
        blocked = await client.get(f"/api/v1/units/{open_case['unit']}/dependents", headers=admin)
        assert "open_cases" in {b["kind"] for b in blocked.json()["blockers"]}
    officer = await as_user("officer_a1")
    assert_problem(
        await client.patch(url(made["child"]["id"]), json={"name": "x改名"}, headers=officer),
        403,
        "auth.forbidden",
    )
    assert_problem(
        await client.post(f"/api/v1/units/{made['child']['id']}/deactivate", headers=officer),
        403,
        "auth.forbidden",
    )
