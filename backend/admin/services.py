"""Imports of the district's own spreadsheets: the 权责清单 (items), the 指导目录 (delegations) and
user lists. Every row is planned first (create / change / unchanged / refuse, with reasons); applying
writes nothing unless no row is refused, then all rows in one transaction through the org and
accounts services, so their rules and audit entries stay theirs."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec

from backend.accounts import schemas as account_schemas
from backend.accounts import services as accounts
from backend.accounts.tables import Membership, User
from backend.admin import schemas
from backend.admin.sheets import SheetRow, read_sheet
from backend.audit import services as audit
from backend.db import atomic
from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError, Errors
from backend.live.publish import Events
from backend.org import schemas as org_schemas
from backend.org import services as org
from backend.org.tables import Delegation, Item, Unit

# Accepted headers (Chinese, as the district's sheets have them, or the English field) → field.
COLUMNS: dict[str, dict[str, str]] = {
    "items": {
        "事项编码": "code",
        "事项名称": "name",
        "类别": "kind",
        "实施依据": "legal_basis",
        "主管部门": "owner_unit",
        "重大案件罚款标准": "major_fine_at_least",
        "重大案件措施": "major_measures",
        "刑事移送标准": "criminal_amount_at_least",
    },
    "delegations": {
        "事项编码": "code",
        "乡镇": "unit",
        "生效日期": "effective_from",
        "失效日期": "effective_to",
    },
    "users": {
        "用户名": "username",
        "姓名": "display_name",
        "角色": "roles",
        "单位": "units",
        "手机": "phone",
    },
}
for _columns in COLUMNS.values():
    _columns.update({f: f for f in list(_columns.values())})
REQUIRED = {
    "items": ("code", "name", "kind", "owner_unit"),
    "delegations": ("code", "unit", "effective_from"),
    "users": ("username", "display_name", "roles"),
}
ITEM_KINDS = {"行政处罚": "penalty", "行政强制": "coercion", "行政检查": "inspection", "其他": "other"}
ROLE_NAMES = {
    "系统管理": "admin",
    "管理员": "admin",
    "指挥中心": "command",
    "执法监督": "supervisor",
    "特邀监督员": "invited_supervisor",
    "法制审核": "legal_reviewer",
    "监督联系点": "liaison",
    "信访办": "petition_office",
    "法院": "court",
    "检察院": "procuratorate",
    "公安机关": "public_security",
    "执法人员": "officer",
    "今日执法": "officer",
}
T = TypeVar("T")
_LIST_SEP = re.compile(r"[、,，;；]")


def _split(text: str) -> list[str]:
    return [p.strip() for p in _LIST_SEP.split(text) if p.strip()]


@dataclass
class _Row:
    """A planned row and, unless refused or unchanged, what applying it does."""

    plan: schemas.RowPlan
    write: Callable[[CurrentUser], Awaitable[uuid.UUID | None]] | None = None


@dataclass
class _Checks:
    errors: list[schemas.RowError] = field(default_factory=list)

    def add(self, field_name: str, message: str) -> None:
        self.errors.append(schemas.RowError(field_name, message))

    def number(self, cells: dict[str, str], name: str) -> float | None:
        text = cells[name].replace(",", "")
        if not text:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.add(name, f"“{cells[name]}”不是数字。")
            return None
        if not value.is_finite() or value < 0:
            self.add(name, f"“{cells[name]}”不是非负数。")
            return None
        return float(value)

    def day(self, cells: dict[str, str], name: str) -> date | None:
        text = cells[name].replace("/", "-").replace(".", "-")
        if not text:
            return None
        try:
            y, m, d = (int(p) for p in text.split(" ")[0].split("-"))
            return date(y, m, d)
        except ValueError:
            self.add(name, f"“{cells[name]}”不是日期（应为 YYYY-MM-DD）。")
            return None

    def convert(self, raw: dict[str, Any], type_: type[T], fields: dict[str, str]) -> T | None:
        """Check the row against the request struct the service takes (lengths, patterns)."""
        try:
            return msgspec.convert(raw, type_)
        except msgspec.ValidationError as exc:
            where = re.search(r"`\$\.(\w+)", str(exc))
            self.add(fields.get(where.group(1), where.group(1)) if where else "row", str(exc))
            return None


def _plan(row: SheetRow, key: str, checks: _Checks, changes: dict[str, list[Any]] | None) -> schemas.RowPlan:
    if checks.errors:
        return schemas.RowPlan(row.row, "refuse", key, {}, checks.errors)
    if changes is None:
        return schemas.RowPlan(row.row, "create", key)
    return schemas.RowPlan(row.row, "change" if changes else "unchanged", key, changes)


def _duplicate(seen: dict[Any, int], key: Any, row: SheetRow, checks: _Checks, field_name: str) -> None:
    if key in seen:
        checks.add(field_name, f"与本文件第 {seen[key]} 行重复（row {seen[key]}）。")
    else:
        seen[key] = row.row


def _diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [old[k], v] for k, v in new.items() if old[k] != v}


async def _units() -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in await Unit.select(Unit.id, Unit.name, Unit.kind)}


# --- items (权责清单) ------------------------------------------------------------------------------


async def _plan_items(rows: list[SheetRow]) -> list[_Row]:
    units = await _units()
    names = {r["id"]: name for name, r in units.items()}
    codes = [r.cells["code"] for r in rows if r.cells["code"]]
    existing = {i["code"]: i for i in await Item.select().where(Item.code.is_in(codes))} if codes else {}
    seen: dict[Any, int] = {}
    out = []
    for row in rows:
        cells, checks = row.cells, _Checks()
        code = cells["code"]
        if not code:
            checks.add("code", "事项编码为空。")
        _duplicate(seen, code, row, checks, "code")
        kind = ITEM_KINDS.get(cells["kind"], cells["kind"] if cells["kind"] in ITEM_KINDS.values() else None)
        if kind is None:
            checks.add("kind", f"类别“{cells['kind']}”无法识别，应为{'/'.join(ITEM_KINDS)}。")
        owner = units.get(cells["owner_unit"])
        if owner is None:
            checks.add("owner_unit", f"没有名为“{cells['owner_unit']}”的单位。")
        fine = checks.number(cells, "major_fine_at_least")
        amount = checks.number(cells, "criminal_amount_at_least")
        measures = _split(cells["major_measures"])
        raw: dict[str, Any] = {
            "code": code,
            "name": cells["name"],
            "kind": kind,
            "owner_unit_id": str(owner["id"]) if owner else None,
            "legal_basis": cells["legal_basis"],
            "major_case": {"fine_at_least": fine, "measures": measures}
            if fine is not None or measures
            else None,
            "criminal_threshold": {"amount_involved_at_least": amount} if amount is not None else None,
        }
        fields = {
            "owner_unit_id": "owner_unit",
            "major_case": "major_fine_at_least",
            "criminal_threshold": "criminal_amount_at_least",
        }
        data = checks.convert(raw, org_schemas.ItemCreate, fields) if not checks.errors else None
        new = {
            "name": cells["name"],
            "kind": kind,
            "owner_unit": cells["owner_unit"],
            "legal_basis": cells["legal_basis"],
            "major_fine_at_least": fine,
            "major_measures": measures,
            "criminal_amount_at_least": amount,
        }
        old_row = existing.get(code)
        changes: dict[str, list[Any]] | None = None
        if old_row is not None:
            old = org.item_view(old_row)
            changes = _diff(
                {
                    "name": old.name,
                    "kind": old.kind,
                    "owner_unit": names.get(old.owner_unit_id),
                    "legal_basis": old.legal_basis,
                    "major_fine_at_least": old.major_case.fine_at_least if old.major_case else None,
                    "major_measures": old.major_case.measures if old.major_case else [],
                    "criminal_amount_at_least": (
                        old.criminal_threshold.amount_involved_at_least if old.criminal_threshold else None
                    ),
                },
                new,
            )
        plan = _plan(row, code, checks, changes)
        out.append(_Row(plan, _item_writer(data, old_row["id"] if old_row else None) if data else None))
    return out


def _item_writer(
    data: org_schemas.ItemCreate, item_id: uuid.UUID | None
) -> Callable[[CurrentUser], Awaitable[uuid.UUID | None]]:
    async def write(actor: CurrentUser) -> uuid.UUID:
        if item_id is None:
            return (await org.create_item(actor, data)).id
        return (await org.update_item(actor, item_id, data)).id

    return write


# --- delegations (指导目录) ------------------------------------------------------------------------


async def _plan_delegations(rows: list[SheetRow]) -> list[_Row]:
    units = await _units()
    codes = [r.cells["code"] for r in rows if r.cells["code"]]
    items = (
        {
            i["code"]: i
            for i in await Item.select(Item.id, Item.code, Item.owner_unit).where(Item.code.is_in(codes))
        }
        if codes
        else {}
    )
    ids = [i["id"] for i in items.values()]
    existing = {
        (d["item"], d["unit"], d["effective_from"]): d["effective_to"]
        for d in (await Delegation.select().where(Delegation.item.is_in(ids)) if ids else [])
    }
    seen: dict[Any, int] = {}
    out = []
    for row in rows:
        cells, checks = row.cells, _Checks()
        key = f"{cells['code']} → {cells['unit']}"
        item = items.get(cells["code"])
        if item is None:
            checks.add("code", f"没有编码为“{cells['code']}”的事项。")
        unit = units.get(cells["unit"])
        if unit is None:
            checks.add("unit", f"没有名为“{cells['unit']}”的单位。")
        elif unit["kind"] != "township":
            checks.add(
                "unit", f"“{cells['unit']}”不是乡镇/街道，只有乡镇/街道可以承接赋权事项（not a township）。"
            )
        elif item is not None and item["owner_unit"] == unit["id"]:
            checks.add("unit", f"“{cells['unit']}”是该事项的主管部门，不能向自己赋权。")
        start = checks.day(cells, "effective_from")
        if start is None and not cells["effective_from"]:
            checks.add("effective_from", "生效日期为空。")
        end = checks.day(cells, "effective_to")
        if start and end and end < start:
            checks.add("effective_to", "失效日期早于生效日期。")
        if start is not None:
            _duplicate(seen, (cells["code"], cells["unit"], start), row, checks, "effective_from")
        changes: dict[str, list[Any]] | None = None
        if item is not None and unit is not None and start is not None:
            found = (item["id"], unit["id"], start)
            if found in existing:
                if existing[found] == end:
                    changes = {}
                else:
                    checks.add(
                        "effective_to",
                        f"已有自 {start} 起、至 {existing[found] or '长期'} 的赋权；"
                        "导入不修改已有赋权的失效日期。",
                    )
        plan = _plan(row, key, checks, changes)
        write = None
        if plan.action == "create" and item and unit and start:
            write = _delegation_writer(
                item["id"],
                org_schemas.DelegationCreate(unit_id=unit["id"], effective_from=start, effective_to=end),
            )
        out.append(_Row(plan, write))
    return out


def _delegation_writer(
    item_id: uuid.UUID, data: org_schemas.DelegationCreate
) -> Callable[[CurrentUser], Awaitable[uuid.UUID | None]]:
    async def write(actor: CurrentUser) -> uuid.UUID:
        return (await org.create_delegation(actor, item_id, data)).id

    return write


# --- users --------------------------------------------------------------------------------------


async def _plan_users(rows: list[SheetRow]) -> list[_Row]:
    units = await _units()
    names = {r["id"]: name for name, r in units.items()}
    usernames = [r.cells["username"] for r in rows if r.cells["username"]]
    existing = (
        {u["username"]: u for u in await User.select().where(User.username.is_in(usernames))}
        if usernames
        else {}
    )
    member_units: dict[uuid.UUID, list[str]] = {u["id"]: [] for u in existing.values()}
    if member_units:
        for m in await Membership.select(Membership.user, Membership.unit).where(
            Membership.user.is_in(list(member_units))
        ):
            member_units[m["user"]].append(names[m["unit"]])
    seen: dict[Any, int] = {}
    out = []
    for row in rows:
        cells, checks = row.cells, _Checks()
        username = cells["username"]
        _duplicate(seen, username, row, checks, "username")
        roles = []
        for name in _split(cells["roles"]):
            role = ROLE_NAMES.get(name, name)
            if role not in ROLE_NAMES.values():
                checks.add("roles", f"角色“{name}”无法识别。")
            roles.append(role)
        unit_ids = []
        for name in _split(cells["units"]):
            if name not in units:
                checks.add("units", f"没有名为“{name}”的单位。")
            else:
                unit_ids.append(str(units[name]["id"]))
        phone = cells["phone"] or None
        raw = {
            "username": username,
            "password": secrets.token_urlsafe(24),
            "display_name": cells["display_name"],
            "roles": roles,
            "unit_ids": unit_ids,
            "phone": phone,
        }
        data = (
            checks.convert(raw, account_schemas.UserCreate, {"unit_ids": "units"})
            if not checks.errors
            else None
        )
        old = existing.get(username)
        changes: dict[str, list[Any]] | None = None
        update = account_schemas.UserUpdate()
        if old is not None:
            new: dict[str, Any] = {
                "display_name": cells["display_name"],
                "roles": sorted(set(roles)),
                "units": sorted(set(_split(cells["units"]))),
            }
            current: dict[str, Any] = {
                "display_name": old["display_name"],
                "roles": sorted(old["roles"].split()),
                "units": sorted(member_units[old["id"]]),
            }
            if phone is not None:  # an empty cell keeps the phone on file
                new["phone"], current["phone"] = phone, old["phone"]
            changes = _diff(current, new)
            if data is not None:
                update = account_schemas.UserUpdate(
                    **{
                        {"units": "unit_ids"}.get(k, k): getattr(data, {"units": "unit_ids"}.get(k, k))
                        for k in changes
                    }
                )
        plan = _plan(row, username, checks, changes)
        write = None
        if data is not None and plan.action in ("create", "change"):
            write = _user_writer(data, old["id"] if old else None, update)
        out.append(_Row(plan, write))
    return out


def _user_writer(
    data: account_schemas.UserCreate, user_id: uuid.UUID | None, update: account_schemas.UserUpdate
) -> Callable[[CurrentUser], Awaitable[uuid.UUID | None]]:
    async def write(actor: CurrentUser) -> uuid.UUID:
        if user_id is None:
            # The random password is never shown: the new user has none usable until an admin sets one.
            return (await accounts.create_user(actor, data)).id
        return (await accounts.update_user(actor, user_id, update)).id

    return write


# --- the import ---------------------------------------------------------------------------------

PLANNERS: dict[str, Callable[[list[SheetRow]], Awaitable[list[_Row]]]] = {
    "items": _plan_items,
    "delegations": _plan_delegations,
    "users": _plan_users,
}


async def run_import(
    actor: CurrentUser,
    kind: schemas.ImportKind,
    content_type: str,
    body: bytes,
    *,
    dry_run: bool,
    events: Events | None = None,
) -> schemas.ImportResult:
    sheet = read_sheet(content_type, body, COLUMNS[kind], REQUIRED[kind])
    planned = await PLANNERS[kind](sheet)
    plans = [p.plan for p in planned]
    counts = {a: sum(p.action == a for p in plans) for a in ("create", "change", "unchanged", "refuse")}
    result = schemas.ImportResult(kind=kind, dry_run=dry_run, applied=False, rows=plans, counts=counts)
    if dry_run:
        return result
    if counts["refuse"]:
        raise AppError(
            Errors.IMPORT_ROWS_REFUSED,
            f"{counts['refuse']} of {len(plans)} rows are refused; nothing was written.",
            rows=msgspec.to_builtins(plans),
            counts=counts,
        )
    written: list[str] = []
    async with atomic():
        for p in planned:
            if p.write is not None and p.plan.action in ("create", "change"):
                object_id = await p.write(actor)
                written.append(str(object_id))
        if written:
            await audit.record(
                actor,
                "import.applied",
                "import",
                uuid.uuid4(),
                {"kind": kind, "counts": counts, "objects": written},
            )
    if kind == "users" and events is not None:
        for p in planned:
            if p.plan.action == "change":
                user = await User.select(User.id).where(User.username == p.plan.key).first()
                if user is not None:
                    await events.notify("account.changed", user["id"])
    result.applied = True
    return result
