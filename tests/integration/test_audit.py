from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from backend.audit import services as audit_services
from backend.audit.tables import AuditEntry, AuditHead
from backend.lib.clock import today_local
from tests.conftest import World, assert_problem, unique


async def _some_writes(client, admin) -> None:
    for _ in range(3):
        response = await client.post(
            "/api/v1/units", json={"name": unique("审计"), "kind": "association"}, headers=admin
        )
        assert response.status_code == 201
    # On PostgreSQL the entries are linked into the chain just after their commit; the checks
    # below read the chain's rows directly, so they wait for that as any reader of its order does.
    await audit_services.settle()


async def test_chain_verifies_and_entries_name_the_actor(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    await _some_writes(client, admin)
    supervisor = await as_user("supervisor")
    check = await client.get("/api/v1/audit/verify", headers=supervisor)
    assert check.status_code == 200 and check.json()["ok"] is True, check.json()
    assert check.json()["checked"] == check.json()["head_seq"] > 0
    page = (await client.get("/api/v1/audit?action=unit.created&limit=3", headers=supervisor)).json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    assert all(e["actor"] == world.username("admin") for e in page["items"])
    assert [e["seq"] for e in page["items"]] == sorted((e["seq"] for e in page["items"]), reverse=True)
    older = (
        await client.get(f"/api/v1/audit?limit=3&cursor={page['next_cursor']}", headers=supervisor)
    ).json()
    assert older["items"][0]["seq"] < page["items"][-1]["seq"]


async def test_an_edited_entry_is_detected(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    await _some_writes(client, admin)
    supervisor = await as_user("supervisor")
    victim = (
        await AuditEntry.select()
        .where(AuditEntry.action == "unit.created")
        .order_by(AuditEntry.seq, ascending=False)
        .first()
    )
    assert victim is not None
    await AuditEntry.update({AuditEntry.data: '{"name":"改过的"}'}).where(AuditEntry.id == victim["id"]).run()
    try:
        body = (await client.get("/api/v1/audit/verify", headers=supervisor)).json()
        assert body["ok"] is False and body["broken_at_seq"] == victim["seq"]
        assert body["problem"] == "entry content altered"
    finally:
        await AuditEntry.update({AuditEntry.data: victim["data"]}).where(AuditEntry.id == victim["id"]).run()
    assert (await client.get("/api/v1/audit/verify", headers=supervisor)).json()["ok"] is True


async def test_a_deleted_entry_is_detected_in_the_middle_and_at_the_end(
    client, as_user, world: World
) -> None:
    admin = await as_user("admin")
    await _some_writes(client, admin)
    supervisor = await as_user("supervisor")
    await audit_services.settle()  # the sign-in's entry too
    rows = await AuditEntry.select().order_by(AuditEntry.seq, ascending=False).limit(2)
    newest, middle = rows[0], rows[1]
    for row, problem in ((middle, "entry missing"), (newest, "newest entries missing")):
        await AuditEntry.delete().where(AuditEntry.id == row["id"]).run()
        try:
            body = (await client.get("/api/v1/audit/verify", headers=supervisor)).json()
            assert body["ok"] is False and body["problem"] == problem, body
            assert body["broken_at_seq"] == row["seq"]
        finally:
            await AuditEntry.insert(AuditEntry(**row)).run()
    assert (await client.get("/api/v1/audit/verify", headers=supervisor)).json()["ok"] is True
    assert (await AuditHead.select().first())["seq"] == newest["seq"]


async def test_audit_is_for_supervisors(client, as_user, world: World) -> None:
    for key in ("officer_a1", "invited", "command"):
        headers = await as_user(key)
        assert_problem(await client.get("/api/v1/audit", headers=headers), 403, "auth.forbidden")
        assert_problem(await client.get("/api/v1/audit/verify", headers=headers), 403, "auth.forbidden")


async def test_concurrent_changes_extend_one_unbroken_chain(client, as_user, world: World) -> None:
    import asyncio

    admin = await as_user("admin")
    await audit_services.settle()
    before = (await AuditHead.select(AuditHead.seq).first())["seq"]

    async def create() -> int:
        body = {"name": unique("并发"), "kind": "association"}
        return (await client.post("/api/v1/units", json=body, headers=admin)).status_code

    assert await asyncio.gather(*(create() for _ in range(12))) == [201] * 12
    await audit_services.settle()
    head = (await AuditHead.select(AuditHead.seq).first())["seq"]
    assert head == before + 12
    seqs = [r["seq"] for r in await AuditEntry.select(AuditEntry.seq).where(AuditEntry.seq > before)]
    assert sorted(seqs) == list(range(before + 1, head + 1))
    check = await client.get("/api/v1/audit/verify", headers=await as_user("supervisor"))
    assert check.json()["ok"] is True, check.json()


async def test_forged_audit_cursors_are_refused(client, as_user) -> None:
    from backend.lib.pagination import encode_cursor

    supervisor = await as_user("supervisor")
    first = await client.get("/api/v1/audit?limit=2", headers=supervisor)
    assert first.status_code == 200 and first.json()["next_cursor"]
    assert (
        await client.get(f"/api/v1/audit?limit=2&cursor={first.json()['next_cursor']}", headers=supervisor)
    ).status_code == 200
    for forged in (2**70, "abc", -3, "1\u0000"):
        response = await client.get(f"/api/v1/audit?cursor={encode_cursor(forged)}", headers=supervisor)
        body = assert_problem(response, 400, "validation.failed")
        assert body["errors"] == [{"key": "cursor"}], forged


async def test_the_log_filters_by_who_what_object_and_day_and_downloads(
    client, as_user, world: World
) -> None:
    admin = await as_user("admin")
    created = []
    for _ in range(2):
        response = await client.post(
            "/api/v1/units", json={"name": unique("审计筛选"), "kind": "association"}, headers=admin
        )
        created.append(response.json()["id"])
    supervisor = await as_user("supervisor")
    today = today_local()
    query = {"actor": world.username("admin"), "action": "unit.created", "from": str(today), "to": str(today)}
    page = (await client.get("/api/v1/audit", params={**query, "limit": 200}, headers=supervisor)).json()
    assert {e["object_id"] for e in page["items"]} >= set(created)
    assert all(e["actor"] == world.username("admin") and e["action"] == "unit.created" for e in page["items"])
    one = (await client.get("/api/v1/audit", params={"object_id": created[0]}, headers=supervisor)).json()
    assert [e["object_id"] for e in one["items"]] == [created[0]]
    tomorrow = str(today + timedelta(days=1))
    later = await client.get(
        "/api/v1/audit", params={**query, "from": tomorrow, "to": tomorrow}, headers=supervisor
    )
    assert later.json()["items"] == []
    nobody = await client.get("/api/v1/audit", params={"actor": "nobody-at-all"}, headers=supervisor)
    assert nobody.json()["items"] == []

    as_csv = await client.get(
        "/api/v1/audit/export", params={"format": "csv", "object_id": created[1]}, headers=supervisor
    )
    lines = as_csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "序号,时间（北京）,操作人,操作,对象类型,对象编号,内容,哈希" and len(lines) == 2
    assert f",{world.username('admin')},unit.created,unit,{created[1]}," in lines[1]
    as_xlsx = await client.get("/api/v1/audit/export", params={**query, "format": "xlsx"}, headers=supervisor)
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet["D1"].value == "操作" and sheet.max_row >= 3 and sheet.freeze_panes == "A2"

    bad = await client.get("/api/v1/audit", params={"from": tomorrow, "to": str(today)}, headers=supervisor)
    assert_problem(bad, 400, "validation.failed")
    assert_problem(
        await client.get("/api/v1/audit/export", params={"format": "pdf"}, headers=supervisor),
        400,
        "validation.failed",
    )
    officer = await as_user("officer_a1")
    assert_problem(
        await client.get("/api/v1/audit/export", params={"format": "csv"}, headers=officer),
        403,
        "auth.forbidden",
    )
