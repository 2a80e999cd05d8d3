from __future__ import annotations

from backend.audit.tables import AuditEntry, AuditHead
from tests.conftest import World, assert_problem, unique


async def _some_writes(client, admin) -> None:
    for _ in range(3):
        response = await client.post(
            "/api/v1/units", json={"name": unique("审计"), "kind": "association"}, headers=admin
        )
        assert response.status_code == 201


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
    before = (await AuditHead.select(AuditHead.seq).first())["seq"]

    async def create() -> int:
        body = {"name": unique("并发"), "kind": "association"}
        return (await client.post("/api/v1/units", json=body, headers=admin)).status_code

    assert await asyncio.gather(*(create() for _ in range(12))) == [201] * 12
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
