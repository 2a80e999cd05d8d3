"""Imports of the 权责清单, the 指导目录 and user lists: preview every row, then all or nothing."""

from __future__ import annotations

import io
import uuid

import httpx
from openpyxl import Workbook

from backend.accounts.tables import Membership, User
from backend.audit.tables import AuditEntry
from backend.lib.tables import XLSX
from backend.org.tables import Delegation, Item, Unit
from tests.conftest import World, assert_problem, unique

API = "/api/v1/imports"


async def _name(unit_id: uuid.UUID) -> str:
    row = await Unit.select(Unit.name).where(Unit.id == unit_id).first()
    assert row is not None
    return str(row["name"])


def _csv(lines: list[str]) -> bytes:
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _post(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    kind: str,
    body: bytes,
    *,
    dry_run: bool,
    media: str = "text/csv",
) -> httpx.Response:
    return await client.post(
        f"{API}/{kind}?dry_run={'true' if dry_run else 'false'}",
        content=body,
        headers={**headers, "Content-Type": media},
    )


async def _counts() -> tuple[int, int, int, int]:
    return (await Item.count(), await Delegation.count(), await User.count(), await AuditEntry.count())


async def test_items_csv_preview_apply_and_again_unchanged(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    dept = await _name(world.dept)
    a, b = unique("IMP"), unique("IMP")
    body = _csv(
        [
            "事项编码,事项名称,类别,实施依据,主管部门,重大案件罚款标准,重大案件措施,刑事移送标准",
            f"{a},对占道经营的处罚,行政处罚,《城市市容和环境卫生管理条例》第三十六条,{dept},10000,吊销许可证、责令停业,50000",
            f'{b},对违法建设的强制拆除,行政强制,"《城乡规划法》第六十八条",{dept},,,',
        ]
    )
    before = await _counts()
    preview = await _post(client, admin, "items", body, dry_run=True)
    assert preview.status_code == 200, preview.text
    result = preview.json()
    assert result["dry_run"] is True and result["applied"] is False
    assert [(r["row"], r["action"], r["key"]) for r in result["rows"]] == [(2, "create", a), (3, "create", b)]
    assert result["counts"] == {"create": 2, "change": 0, "unchanged": 0, "refuse": 0}
    assert await _counts() == before

    applied = await _post(client, admin, "items", body, dry_run=False)
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"] is True
    item = await Item.select().where(Item.code == a).first()
    assert item is not None
    assert (
        item["name"] == "对占道经营的处罚" and item["kind"] == "penalty" and item["owner_unit"] == world.dept
    )
    assert float(item["major_fine_at_least"]) == 10000 and float(item["criminal_amount_at_least"]) == 50000
    listed = (await client.get(f"/api/v1/items/{item['id']}", headers=admin)).json()
    assert listed["major_case"] == {"fine_at_least": 10000.0, "measures": ["吊销许可证", "责令停业"]}
    other = await Item.select().where(Item.code == b).first()
    assert other is not None and other["kind"] == "coercion" and other["major_fine_at_least"] is None
    created = await AuditEntry.select(AuditEntry.object_id).where(AuditEntry.action == "item.created")
    assert {str(item["id"]), str(other["id"])} <= {r["object_id"] for r in created}
    assert await AuditEntry.exists().where(AuditEntry.action == "import.applied")

    after = await _counts()
    again = await _post(client, admin, "items", body, dry_run=False)
    assert again.status_code == 200, again.text
    assert [r["action"] for r in again.json()["rows"]] == ["unchanged", "unchanged"]
    assert await _counts() == after

    changed = body.replace("对违法建设的强制拆除".encode(), "对违法建设的强制拆除（修订）".encode())
    preview = (await _post(client, admin, "items", changed, dry_run=True)).json()
    assert [r["action"] for r in preview["rows"]] == ["unchanged", "change"]
    assert preview["rows"][1]["changes"] == {"name": ["对违法建设的强制拆除", "对违法建设的强制拆除（修订）"]}
    assert (await _post(client, admin, "items", changed, dry_run=False)).status_code == 200
    renamed = await Item.select(Item.name).where(Item.code == b).first()
    assert renamed is not None and renamed["name"] == "对违法建设的强制拆除（修订）"
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "item.updated") & (AuditEntry.object_id == str(other["id"]))
    )


async def test_users_xlsx_preview_apply_and_again_unchanged(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    town_a, justice = await _name(world.town_a), await _name(world.justice)
    first, second = unique("imp.user"), unique("imp.user")
    body = _xlsx(
        [
            ["用户名", "姓名", "角色", "单位", "手机"],
            [first, "张三", "执法人员", town_a, 13800000001],
            [second, "李四", "法制审核、supervisor", f"{town_a}、{justice}", None],
        ]
    )
    preview = await _post(client, admin, "users", body, dry_run=True, media=XLSX)
    assert preview.status_code == 200, preview.text
    assert [r["action"] for r in preview.json()["rows"]] == ["create", "create"]
    assert not await User.exists().where(User.username == first)

    applied = await _post(client, admin, "users", body, dry_run=False, media=XLSX)
    assert applied.status_code == 200, applied.text
    one = await User.select().where(User.username == first).first()
    two = await User.select().where(User.username == second).first()
    assert one is not None and two is not None
    assert (
        one["display_name"] == "张三"
        and one["roles"].split() == ["officer"]
        and one["phone"] == "13800000001"
    )
    assert sorted(two["roles"].split()) == ["legal_reviewer", "supervisor"]
    units = {m["unit"] for m in await Membership.select(Membership.unit).where(Membership.user == two["id"])}
    assert units == {world.town_a, world.justice}
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "user.created") & (AuditEntry.object_id == str(one["id"]))
    )
    # No usable password: signing in with anything fails until an admin sets one.
    login = await client.post("/api/v1/auth/login", json={"username": first, "password": "whatever-123"})
    assert login.status_code == 401

    after = await _counts()
    again = await _post(client, admin, "users", body, dry_run=False, media=XLSX)
    assert [r["action"] for r in again.json()["rows"]] == ["unchanged", "unchanged"]
    assert await _counts() == after

    moved = _xlsx([["username", "display_name", "roles", "units"], [first, "张三", "officer", justice]])
    preview = (await _post(client, admin, "users", moved, dry_run=True, media=XLSX)).json()
    assert preview["rows"][0]["action"] == "change"
    assert preview["rows"][0]["changes"] == {"units": [[town_a], [justice]]}
    assert (await _post(client, admin, "users", moved, dry_run=False, media=XLSX)).status_code == 200
    units = {m["unit"] for m in await Membership.select(Membership.unit).where(Membership.user == one["id"])}
    assert units == {world.justice}


async def test_bad_rows_are_all_listed_and_nothing_is_written(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    dept, town_a = await _name(world.dept), await _name(world.town_a)
    good, dup = unique("IMP"), unique("IMP")
    items = _csv(
        [
            "code,name,kind,legal_basis,owner_unit,major_fine_at_least",
            f"{good},好的事项,行政检查,依据,{dept},",
            f"{dup},重复一,行政处罚,依据,{dept},",
            f"{dup},重复二,行政处罚,依据,{dept},",
            f"{unique('IMP')},未知单位,行政处罚,依据,没有这个单位,",
            f"{unique('IMP')},坏数字,行政处罚,依据,{dept},一万",
            f"{unique('IMP')},坏类别,罚款,依据,{dept},",
        ]
    )
    before = await _counts()
    for dry_run in (True, False):
        response = await _post(client, admin, "items", items, dry_run=dry_run)
        if dry_run:
            assert response.status_code == 200, response.text
            rows = response.json()["rows"]
        else:
            rows = assert_problem(response, 422, "import.rows_refused")["rows"]
        assert [(r["action"], [e["field"] for e in r["errors"]]) for r in rows] == [
            ("create", []),
            ("create", []),
            ("refuse", ["code"]),
            ("refuse", ["owner_unit"]),
            ("refuse", ["major_fine_at_least"]),
            ("refuse", ["kind"]),
        ]
        assert "row 3" in rows[2]["errors"][0]["message"]
    assert await _counts() == before

    delegated = (await Item.select(Item.code).where(Item.id == world.items["dept_only"]).first())["code"]  # type: ignore[index]
    delegations = _csv(
        [
            "事项编码,乡镇,生效日期,失效日期",
            f"{delegated},{town_a},2026-01-01,",
            f"{delegated},{dept},2026-01-01,",
            f"{delegated},{town_a},2026-13-40,",
            f"{delegated},{town_a},2026-03-01,2026-02-01",
            f"NO-SUCH-{uuid.uuid4().hex[:6]},{town_a},2026-01-01,",
        ]
    )
    body = assert_problem(
        await _post(client, admin, "delegations", delegations, dry_run=False), 422, "import.rows_refused"
    )
    assert [(r["action"], [e["field"] for e in r["errors"]]) for r in body["rows"]] == [
        ("create", []),
        ("refuse", ["unit"]),
        ("refuse", ["effective_from"]),
        ("refuse", ["effective_to"]),
        ("refuse", ["code"]),
    ]
    assert "not a township" in body["rows"][1]["errors"][0]["message"]
    users = _csv(
        [
            "用户名,姓名,角色,单位",
            f"{unique('imp')},王五,巡逻员,{town_a}",
            f"{unique('imp')},赵六,officer,无此单位",
        ]
    )
    body = assert_problem(
        await _post(client, admin, "users", users, dry_run=False), 422, "import.rows_refused"
    )
    assert [[e["field"] for e in r["errors"]] for r in body["rows"]] == [["roles"], ["units"]]
    assert await _counts() == before


async def test_delegations_apply_and_again_unchanged(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    town_b = await _name(world.town_b)
    code = (await Item.select(Item.code).where(Item.id == world.items["lapsed"]).first())["code"]  # type: ignore[index]
    body = _csv(["事项编码,乡镇,生效日期,失效日期", f"{code},{town_b},2026/01/01,2030-12-31"])
    assert (await _post(client, admin, "delegations", body, dry_run=False)).status_code == 200
    found = await Delegation.select().where(
        (Delegation.item == world.items["lapsed"]) & (Delegation.unit == world.town_b)
    )
    assert [(str(d["effective_from"]), str(d["effective_to"])) for d in found] == [
        ("2026-01-01", "2030-12-31")
    ]
    again = (await _post(client, admin, "delegations", body, dry_run=False)).json()
    assert [r["action"] for r in again["rows"]] == ["unchanged"]
    assert await Delegation.count().where(Delegation.item == world.items["lapsed"]) == len(found) + 1


async def test_refusals_of_the_file_itself(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    before = await _counts()
    assert_problem(
        await _post(client, admin, "items", b'{"code": 1}', dry_run=True, media="application/json"),
        415,
        "request.unsupported_media_type",
    )
    assert_problem(
        await _post(client, admin, "items", b"PK\x03\x04 not really", dry_run=True, media=XLSX),
        422,
        "import.unreadable",
    )
    missing = assert_problem(
        await _post(
            client, admin, "items", _csv(["事项编码,事项名称,类别", "X,名称,行政处罚"]), dry_run=True
        ),
        422,
        "import.missing_columns",
    )
    assert missing["missing"] == ["owner_unit"] and "主管部门" in missing["detail"]
    huge = _csv(["事项编码,事项名称,类别,主管部门"] + ["X,名称,行政处罚,单位"] * 5001)
    assert_problem(await _post(client, admin, "items", huge, dry_run=True), 422, "import.too_many_rows")
    # A workbook with more rows than an import takes is refused too (and read no further than that).
    sparse = _xlsx([["事项编码", "事项名称", "类别", "主管部门"]] + [[None, None, None, "x"]] * 20_001)
    assert_problem(
        await _post(client, admin, "items", sparse, dry_run=True, media=XLSX), 422, "import.too_many_rows"
    )
    big = b"a" * (5 * 2**20 + 1)
    response = await _post(client, admin, "items", big, dry_run=True)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await _counts() == before


async def test_only_admins_import(client, as_user, world: World) -> None:
    body = _csv(
        ["事项编码,事项名称,类别,主管部门", f"{unique('IMP')},名称,行政处罚,{await _name(world.dept)}"]
    )
    before = await _counts()
    for key in ("supervisor", "officer_a1", "command"):
        headers = await as_user(key)
        assert_problem(await _post(client, headers, "items", body, dry_run=False), 403, "auth.forbidden")
    assert (await _counts())[:3] == before[:3]  # refusals are audited, nothing else is written
