"""Demo data shaped like the pilot (南川区): idempotent, safe to run again."""

from __future__ import annotations

import os
import secrets
import uuid
from datetime import date, timedelta

import msgspec

from backend.accounts import schemas as account_schemas
from backend.accounts import services as accounts
from backend.accounts.tables import Certificate, SigningRight, UnitResponder, User
from backend.channels.tables import LiaisonPoint
from backend.db import connected
from backend.lib.clock import today_local
from backend.org import schemas as org_schemas
from backend.org import services as org
from backend.org.tables import Delegation, Item, Unit
from backend.settings import Settings

_NS = uuid.UUID("5f0c1c1e-7d0e-4d8b-9a57-2f1f6b0c0d01")


def demo_id(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(_NS, f"{kind}:{key}")


UNITS: list[tuple[str, str, bool, str | None]] = [
    # name, kind, pilot, parent
    ("区司法局", "justice", False, None),
    ("区市场监管局", "department", False, None),
    ("区城市管理局", "department", False, None),
    ("区生态环境局", "department", False, None),
    ("西城街道", "township", True, None),
    ("水江镇", "township", True, None),
    ("三泉镇", "township", True, None),
    ("区人民法院", "court", False, None),
    ("区信访办", "petition", False, None),
    ("区人民检察院", "procuratorate", False, None),
    ("区公安局", "police", False, None),
    ("区律师工作委员会", "association", False, "区司法局"),
    ("区工商联", "association", False, None),
]

ITEMS: list[dict] = [
    {
        "code": "CG-001",
        "name": "对占用城市道路违法经营的行政处罚",
        "kind": "penalty",
        "owner": "区城市管理局",
        "legal_basis": "《城市市容和环境卫生管理条例》第三十六条",
        "major_case": {"fine_at_least": 10000},
    },
    {
        "code": "CG-002",
        "name": "对违法建设的行政处罚",
        "kind": "penalty",
        "owner": "区城市管理局",
        "legal_basis": "《中华人民共和国城乡规划法》第六十四条",
        "major_case": {"fine_at_least": 50000, "measures": ["限期拆除", "没收实物"]},
    },
    {
        "code": "SC-001",
        "name": "对经营不符合食品安全标准食品的行政处罚",
        "kind": "penalty",
        "owner": "区市场监管局",
        "legal_basis": "《中华人民共和国食品安全法》第一百二十四条",
        "major_case": {"fine_at_least": 50000, "measures": ["吊销许可证", "责令停产停业"]},
        "criminal_threshold": {"amount_involved_at_least": 50000},
    },
    {
        "code": "SC-002",
        "name": "对食品经营场所的监督检查",
        "kind": "inspection",
        "owner": "区市场监管局",
        "legal_basis": "《中华人民共和国食品安全法》第一百一十条",
    },
    {
        "code": "HB-001",
        "name": "对超标排放大气污染物的行政处罚",
        "kind": "penalty",
        "owner": "区生态环境局",
        "legal_basis": "《中华人民共和国大气污染防治法》第九十九条",
        "major_case": {"fine_at_least": 100000, "measures": ["责令停产整治"]},
        "criminal_threshold": {"amount_involved_at_least": 100000},
    },
    {
        "code": "HB-002",
        "name": "查封、扣押造成污染物排放的设施、设备",
        "kind": "coercion",
        "owner": "区生态环境局",
        "legal_basis": "《中华人民共和国环境保护法》第二十五条",
    },
]

# item code, township, from, to (None = open-ended)
DELEGATIONS: list[tuple[str, str, date, date | None]] = [
    *[
        (code, town, date(2022, 9, 1), None)
        for code in ("CG-001", "CG-002", "SC-002")
        for town in ("西城街道", "水江镇", "三泉镇")
    ],
    ("HB-002", "水江镇", date(2022, 9, 1), date(2023, 6, 30)),  # the pilot period only: lapsed
]

# username, display name, roles, units, certificate: "valid" | "expired" | "revoked" | None
USERS: list[tuple[str, str, list[str], list[str], str | None]] = [
    ("admin", "系统管理员", ["admin"], ["区司法局"], None),
    ("supervisor", "刘明（区司法局监督科）", ["supervisor"], ["区司法局"], None),
    ("signer", "何平（区司法局副局长·签发人）", ["supervisor"], ["区司法局"], None),
    ("invited", "王建华（特邀监督员·人大代表）", ["invited_supervisor"], ["水江镇", "三泉镇"], None),
    ("liaison", "陈静（区工商联联络员）", ["liaison"], ["区工商联"], None),
    ("command", "指挥中心值班员", ["command"], ["区司法局"], None),
    ("petition", "钱芳（区信访办）", ["petition_office"], ["区信访办"], None),
    ("court", "杨帆（区人民法院行政庭）", ["court"], ["区人民法院"], None),
    ("procurator", "高远（区人民检察院）", ["procuratorate"], ["区人民检察院"], None),
    ("police", "马骏（区公安局法制大队）", ["public_security"], ["区公安局"], None),
    ("reviewer", "赵律师（水江镇法律顾问）", ["legal_reviewer"], ["水江镇"], None),
    ("officer1", "张伟", ["officer"], ["水江镇"], "valid"),
    ("officer2", "李强", ["officer"], ["水江镇"], "valid"),
    ("officer3", "王磊", ["officer"], ["三泉镇"], "valid"),
    ("officer4", "孙丽", ["officer"], ["三泉镇"], "valid"),
    ("officer5", "周杰", ["officer"], ["西城街道"], "valid"),
    ("officer6", "吴敏", ["officer"], ["西城街道"], "valid"),
    ("cg1", "黄涛（城管执法）", ["officer"], ["区城市管理局"], "valid"),
    ("cg2", "林芳（城管执法）", ["officer"], ["区城市管理局"], "valid"),
    ("expired", "郑刚", ["officer"], ["水江镇"], "expired"),
    ("revoked", "冯军", ["officer"], ["水江镇"], "revoked"),
]
# Supervision documents: who signs them (签发权) and who answers them for a unit (its leader).
SIGNERS = ("signer",)
RESPONDERS = (("officer1", "水江镇"), ("officer3", "三泉镇"), ("officer5", "西城街道"))
# Liaison points (监督联系点): organisation, liaison.
POINTS = (("区工商联", "liaison"),)
REVOKE_REASON = "无故不参加年度通用法律知识培训考核，注销并收回执法证"


def _password(settings: Settings, given: str | None) -> str:
    path = settings.data_dir / "demo-password"
    if given:
        return given
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(9)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    return password


async def seed(settings: Settings, password: str | None) -> tuple[list[tuple[str, str]], str]:
    password = _password(settings, password)
    async with connected(settings.database_url):
        unit_ids: dict[str, uuid.UUID] = {}
        for name, kind, pilot, parent in UNITS:
            existing = await Unit.select(Unit.id).where(Unit.name == name).first()
            if existing:
                unit_ids[name] = existing["id"]
                continue
            created = await org.create_unit(
                None,  # type: ignore[arg-type]
                org_schemas.UnitCreate(
                    id=demo_id("unit", name),
                    name=name,
                    kind=kind,  # type: ignore[arg-type]  # the UNITS table above uses the schema's kinds
                    pilot=pilot,
                    parent_id=unit_ids.get(parent) if parent else None,
                ),
            )
            unit_ids[name] = created.id
        item_ids: dict[str, uuid.UUID] = {}
        for spec in ITEMS:
            existing = await Item.select(Item.id).where(Item.code == spec["code"]).first()
            if existing:
                item_ids[spec["code"]] = existing["id"]
                continue
            data = msgspec.convert(
                {k: v for k, v in spec.items() if k != "owner"}
                | {"owner_unit_id": str(unit_ids[spec["owner"]]), "id": str(demo_id("item", spec["code"]))},
                org_schemas.ItemCreate,
            )
            item_ids[spec["code"]] = (await org.create_item(None, data)).id  # type: ignore[arg-type]
        for code, town, start, end in DELEGATIONS:
            if not await Delegation.exists().where(
                (Delegation.item == item_ids[code]) & (Delegation.unit == unit_ids[town])
            ):
                await org.create_delegation(
                    None,  # type: ignore[arg-type]
                    item_ids[code],
                    org_schemas.DelegationCreate(
                        unit_id=unit_ids[town], effective_from=start, effective_to=end
                    ),
                )
        today = today_local()
        logins: list[tuple[str, str]] = []
        for username, display, roles, units, cert in USERS:
            user_id = demo_id("user", username)
            row = await User.select(User.id).where(User.username == username).first()
            if row is None:
                await accounts.create_user(
                    None,
                    account_schemas.UserCreate(
                        id=user_id,
                        username=username,
                        password=password,
                        display_name=display,
                        roles=roles,  # type: ignore[arg-type]  # the USERS table above uses real roles
                        unit_ids=[unit_ids[u] for u in units],
                    ),
                )
            else:
                user_id = row["id"]
                await accounts.update_user(
                    None,  # type: ignore[arg-type]  # the system, not a signed-in user
                    user_id,
                    account_schemas.UserUpdate(password=password),
                )
            if cert and not await Certificate.exists().where(Certificate.user == user_id):
                await _certificate(user_id, username, cert, today)
            logins.append(
                (
                    username,
                    f"{display} — {', '.join(roles)} @ {'、'.join(units)}"
                    + (f" [执法证: {cert}]" if cert else ""),
                )
            )
        for username in SIGNERS:
            user_id = demo_id("user", username)
            if not await SigningRight.exists().where(SigningRight.user == user_id):
                await SigningRight.insert(SigningRight(id=demo_id("signing", username), user=user_id)).run()
        for username, unit in RESPONDERS:
            user_id = demo_id("user", username)
            if not await UnitResponder.exists().where(
                (UnitResponder.user == user_id) & (UnitResponder.unit == unit_ids[unit])
            ):
                await UnitResponder.insert(
                    UnitResponder(
                        id=demo_id("responder", username), user=user_id, unit=unit_ids[unit], leader=True
                    )
                ).run()
        for organisation, username in POINTS:
            if not await LiaisonPoint.exists().where(LiaisonPoint.id == demo_id("point", organisation)):
                await LiaisonPoint.insert(
                    LiaisonPoint(
                        id=demo_id("point", organisation),
                        organisation=organisation,
                        liaison_user_id=demo_id("user", username),
                        active_from=date(2024, 1, 1),
                        created_by=demo_id("user", "admin"),
                    )
                ).run()
        return logins, password


async def _certificate(user_id: uuid.UUID, username: str, kind: str, today: date) -> None:
    number = f"NC-{demo_id('cert', username).hex[:8].upper()}"
    if kind == "expired":
        issued, expires = today - timedelta(days=4 * 365), today - timedelta(days=30)
    else:
        issued, expires = today - timedelta(days=365), today + timedelta(days=2 * 365)
    await Certificate.insert(
        Certificate(id=uuid.uuid4(), user=user_id, number=number, issued_on=issued, expires_on=expires)
    ).run()
    if kind == "revoked":
        await accounts.revoke_certificate(None, user_id, REVOKE_REASON)


async def create_user_cli(
    settings: Settings, username: str, roles: list[str], units: list[str], password: str
) -> account_schemas.User:
    async with connected(settings.database_url):
        unit_ids: list[str] = []
        for ref in units:
            try:
                row = await Unit.select(Unit.id).where(Unit.id == uuid.UUID(ref)).first()
            except ValueError:
                row = await Unit.select(Unit.id).where(Unit.name == ref).first()
            if row is None:
                raise ValueError(f"no unit named or with id {ref!r}")
            unit_ids.append(str(row["id"]))
        try:
            data = msgspec.convert(
                {
                    "username": username,
                    "password": password,
                    "display_name": username,
                    "roles": roles,
                    "unit_ids": unit_ids,
                },
                account_schemas.UserCreate,
            )
        except msgspec.ValidationError as exc:
            raise ValueError(str(exc)) from None
        return await accounts.create_user(None, data)


async def create_first_admin(
    settings: Settings, username: str, display_name: str | None, password: str
) -> account_schemas.User:
    """The first admin of a fresh install, who then sets the district up in the app. Refused once
    an active admin exists: further accounts are made in the app, where each change is audited
    under the admin who made it."""
    async with connected(settings.database_url):
        if await User.exists().where(accounts.role_filter("admin") & (User.active == True)):  # noqa: E712
            raise ValueError("an active admin exists already; add further users in the app (#/admin/users)")
        try:
            data = msgspec.convert(
                {
                    "username": username,
                    "password": password,
                    "display_name": display_name or username,
                    "roles": ["admin"],
                },
                account_schemas.UserCreate,
            )
        except msgspec.ValidationError as exc:
            raise ValueError(str(exc)) from None
        return await accounts.create_user(None, data)
