"""The minimal same-work baseline: the feed page and ``POST /api/v1/actions`` written as bare Litestar
handlers with no layers — no middleware, no dependency injection, no DTOs, no ORM.

Each handler does the work the app's does, and nothing else:

* the same bearer-token check (``TokenService.verify``: EdDSA, header, claims, the same options);
* the same SQL to load the signed-in user and session (``accounts.services._CURRENT_USER_SQL``);
* for ``GET /api/v1/actions?limit=N``: the same two statements the app's feed runs for that user
  (the page joined to its unit and item, then the page's officers), written out as raw SQL;
* for ``POST /api/v1/actions``: the same reads for the legal checks (replay/unit/item/delegation in
  one statement, then the named officers with membership and certificate), the same writes in one
  write transaction (the action row, its officers, and the audit entry: on SQLite linked to the
  chain's head at once, on PostgreSQL written unlinked as the app writes it), then the
  live event row after the commit, as the app writes it; a client-sent ``id`` or an
  ``Idempotency-Key`` gives the action id exactly as the app derives it, and a replay with the same
  request answers the stored action (201), a different one 409;
* the answer encoded with msgspec, in the same JSON shape.

Through the raw driver: ``sqlite3`` on the event loop's thread, configured as ``backend.db``
configures its connections (WAL, ``busy_timeout``, ``foreign_keys``, autocommit, ``BEGIN IMMEDIATE``
for the write transaction), values read as SQLite stores them (text is not parsed into UUIDs or
datetimes only to be written out again); ``asyncpg`` for PostgreSQL with the app's server settings,
one pooled connection per request. What it leaves out, on paths the benchmark does not take: a
refused act here answers its 422 without the app's ``action.refused`` alert, a replay's answer has
no evidence or case lists, and nothing is handed to a live channel (this app has none).

    create_app(database_url, tokens)   # tokens: the app's TokenService (same keys, issuer, audience)
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
from litestar import Litestar, Request, Response, get, post

from backend.actions.schemas import ActionCreate
from backend.audit.canonical import canonical, digest
from backend.lib.auth import TokenService
from backend.lib.errors import AppError

BEIJING = ZoneInfo("Asia/Shanghai")
CLOCK_SKEW = timedelta(minutes=5)
MAX_LIMIT = 200
GENESIS = "0" * 64
_IDEMPOTENCY_NAMESPACE = uuid.UUID("0b5cbd5e-6a43-4f8e-9a0e-5f1f3f0b7a11")  # backend.lib.idempotency
# backend.actions.services.RULE with its defaults (the benchmark configures no other).
_RECORDING_KINDS = ("coercive", "hearing", "service_left")
_RECORDING_ITEM_KINDS = ("coercion",)
_encode = msgspec.json.Encoder().encode
_decode_action = msgspec.json.Decoder(ActionCreate).decode

# -- the SQL, as the app sends it (placeholders ``?``; numbered ``$n`` for PostgreSQL) -------------

CURRENT_USER_SQL = """
SELECT s.revoked_at, u.id, u.username, u.display_name, u.roles, u.active, u.access_expires_at, m.unit
FROM auth_sessions s
JOIN users u ON u.id = s."user"
LEFT JOIN memberships m ON m."user" = u.id
WHERE s.id = ?
"""

# The select head of the app's feed (backend.actions.services._ACTION_ROWS), as Piccolo builds it.
_ACTION_ROWS = (
    "SELECT ALL "
    '"actions"."id" AS "id", "actions"."unit" AS "unit", "actions"."item" AS "item", '
    '"actions"."kind" AS "kind", "actions"."occurred_at" AS "occurred_at", "actions"."lat" AS "lat", '
    '"actions"."lon" AS "lon", "actions"."accuracy_m" AS "accuracy_m", "actions"."address" AS "address", '
    '"actions"."party_name" AS "party_name", "actions"."party_type" AS "party_type", '
    '"actions"."party_id_number" AS "party_id_number", "actions"."notes" AS "notes", '
    '"actions"."status" AS "status", "actions"."created_by" AS "created_by", '
    '"actions"."created_at" AS "created_at", "actions"."request_hash" AS "request_hash", '
    '"actions"."evidence_count" AS "evidence_count", '
    '"actions"."recording_required" AS "recording_required", "actions"."recording_at" AS "recording_at", '
    '"actions"."recording_alerted_at" AS "recording_alerted_at", "actions"."reversal" AS "reversal", '
    '"actions$unit"."name" AS "unit_name", "actions$item"."code" AS "item_code", '
    '"actions$item"."name" AS "item_name" FROM "actions" '
    'LEFT JOIN "units" "actions$unit" ON ("actions"."unit" = "actions$unit"."id") '
    'LEFT JOIN "enforcement_items" "actions$item" ON ("actions"."item" = "actions$item"."id")'
)
_NEWEST_FIRST = ' ORDER BY "actions"."created_at" DESC, "actions"."id" DESC'
# The page's ids, then the wide rows: {where} is the unit filter (empty for who sees every unit),
# {limit} the page size + 1, both formatted in per request (the limit is a checked int).
FEED_SQL = (
    _ACTION_ROWS  # noqa: S608 (where and limit are the handler's own, the limit an int)
    + ' WHERE "actions"."id" IN (SELECT ALL "actions"."id" AS "id" FROM "actions"{where}'
    + _NEWEST_FIRST
    + " LIMIT {limit})"
    + _NEWEST_FIRST
)
FEED_UNITS_WHERE = ' WHERE "actions"."unit" IN ({})'
ACTION_BY_ID_SQL = _ACTION_ROWS + ' WHERE "actions"."id" = ?'

PAGE_OFFICERS_SQL = """
SELECT ao.action, u.id AS officer_id, u.display_name
FROM action_officers ao LEFT JOIN users u ON u.id = ao.officer
WHERE ao.action IN ({})
"""

CONTEXT_SQL = """
SELECT a.request_hash AS existing_hash, a.created_by AS existing_by, u.name AS unit_name,
  i.id AS item_id, i.code AS item_code, i.name AS item_name, i.kind AS item_kind,
  i.full_recording AS item_full_recording,
  (
  i.owner_unit = ? OR EXISTS (
    SELECT 1 FROM delegations d
    WHERE d.item = i.id AND d.unit = ? AND d.effective_from <= ?
      AND (d.effective_to IS NULL OR d.effective_to >= ?)
  )
) AS may_act
FROM (SELECT 1 AS one) x
LEFT JOIN actions a ON a.id = ?
LEFT JOIN units u ON u.id = ?
LEFT JOIN enforcement_items i ON i.id = ?
"""

OFFICERS_SQL = """
SELECT u.id, u.display_name, u.roles, u.active,
  EXISTS (SELECT 1 FROM memberships m WHERE m."user" = u.id AND m.unit = ?) AS member,
  c.number, c.issued_on, c.expires_on, c.status, c.revoked_reason, c.status_reason
FROM users u LEFT JOIN certificates c ON c."user" = u.id
WHERE u.id IN ({})
"""

INSERT_ACTION_SQL = (
    'INSERT INTO "actions" ("id","unit","item","kind","occurred_at","lat","lon","accuracy_m","address",'
    '"party_name","party_type","party_id_number","notes","status","created_by","created_at",'
    '"request_hash","evidence_count","recording_required","recording_at","recording_alerted_at",'
    '"reversal") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING "id"'
)
INSERT_OFFICERS_SQL = 'INSERT INTO "action_officers" ("id","action","officer") VALUES {} RETURNING "id"'
AUDIT_HEAD_SQL = (  # SQLite: the write transaction already excludes other writers
    'SELECT ALL "audit_head"."id" AS "id", "audit_head"."seq" AS "seq", "audit_head"."hash" AS "hash" '
    'FROM "audit_head" WHERE "audit_head"."id" = ? LIMIT 1'
)
INSERT_AUDIT_SQL = (
    'INSERT INTO "audit_log" ("id","seq","at","actor_id","actor","action","object_type","object_id",'
    '"data","prev_hash","hash") VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING "id"'
)
INSERT_AUDIT_UNLINKED_SQL = (  # PostgreSQL
    "INSERT INTO audit_log (id, seq, at, actor_id, actor, action, object_type, object_id, data, "
    "prev_hash, hash) VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)"
)
UPDATE_AUDIT_HEAD_SQL = 'UPDATE "audit_head" SET "seq" = ?, "hash" = ? WHERE "audit_head"."id" = ?'
INSERT_AUDIT_HEAD_SQL = 'INSERT INTO "audit_head" ("id","seq","hash") VALUES (?,?,?)'
INSERT_EVENT_SQL = (
    'INSERT INTO "live_events" ("id","type","unit_id","to_user","at","data") '
    'VALUES ({},?,?,?,?,?) RETURNING "id", "at"'
)


def expand(sql: str, count: int, group: str = "?") -> str:
    """``sql`` with its one ``{}`` given ``count`` placeholders (or groups of them)."""
    return sql.replace("{}", ",".join(group for _ in range(count)), 1)


def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2 …``."""
    parts = sql.split("?")
    return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))


# -- answers ---------------------------------------------------------------------------------------


class Refused(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def _problem(exc: Refused) -> Response[bytes]:
    body = {"status": exc.status, "detail": exc.detail, "code": exc.code}
    headers = {"WWW-Authenticate": 'Bearer realm="fieldwatch"'} if exc.status == 401 else None
    return Response(
        _encode(body), status_code=exc.status, media_type="application/problem+json", headers=headers
    )


def _json(body: object, status: int = 200) -> Response[bytes]:
    return Response(_encode(body), status_code=status, media_type="application/json")


def _mask(value: str | None) -> str | None:
    if not value:
        return value
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def _cursor(created_at: str, action_id: str) -> str:
    import base64

    raw = json.dumps([created_at, action_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class User(msgspec.Struct):
    id: uuid.UUID
    username: str
    roles: str  # " officer supervisor " as stored
    unit_ids: list[Any]  # as the driver gives them (text on SQLite, UUIDs on PostgreSQL)

    def has(self, *roles: str) -> bool:
        return any(f" {r} " in self.roles for r in roles)


def _claims(tokens: TokenService, request: Request[Any, Any, Any]) -> tuple[uuid.UUID, Any]:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused(401, "auth.required", "Sign in: send 'Authorization: Bearer <access token>'.")
    try:
        claims = tokens.verify(token.strip())
    except AppError as exc:
        raise Refused(401, exc.error.code, exc.detail) from None
    return uuid.UUID(claims["sub"]), claims["sid"]


# The audit entry's text and hash are the app's own functions: the same work, by definition.
_canonical = canonical
_audit_hash = digest


def _action_id(data: ActionCreate, key: str | None, user_id: uuid.UUID) -> uuid.UUID:
    if data.id is not None:
        return data.id
    if key:
        if len(key) > 200:
            raise Refused(400, "validation.failed", "Idempotency-Key is longer than 200 characters.")
        return uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"action:{user_id}:{key}")
    return uuid.uuid4()


def _request_hash(data: ActionCreate) -> str:
    body = msgspec.to_builtins(data)
    body.pop("id", None)
    return hashlib.sha256(msgspec.json.encode(body, order="sorted")).hexdigest()


def _needs_recording(kind: str, item_kind: str | None, item_rule: Any) -> bool:
    if kind in _RECORDING_KINDS:
        return True
    if item_rule is not None:
        return bool(item_rule)
    return item_kind is not None and item_kind in _RECORDING_ITEM_KINDS


def _check_rules(actor: User, data: ActionCreate, officer_ids: list[uuid.UUID], context: Any) -> None:
    """The legal checks, on the rows already read (``context``); officers' rows checked by the caller."""
    if data.occurred_at > datetime.now(UTC) + CLOCK_SKEW:
        raise Refused(
            422, "action.occurred_in_future", "occurred_at is in the future; check the phone's clock."
        )
    if actor.id not in officer_ids:
        raise Refused(422, "action.recorder_not_listed", "You must be one of the officers named.")
    if context["item_id"] is None:
        raise Refused(422, "item.not_found", "The enforcement item does not exist.")
    if len(officer_ids) < 2:
        raise Refused(422, "action.two_officers_required", "On-site enforcement needs at least two officers.")


def _check_officers(officer_ids: list[uuid.UUID], users: dict[str, Any], context: Any, today: str) -> None:
    for officer_id in officer_ids:
        user = users.get(str(officer_id))
        name = user["display_name"] if user else str(officer_id)
        if user is None or not user["active"] or " officer " not in user["roles"] or not user["member"]:
            raise Refused(422, "action.officer_not_in_unit", f"{name} is not an officer of the acting unit.")
        status = "missing" if user["number"] is None else user["status"]
        if status == "valid" and str(user["expires_on"]) < today:
            status = "expired"
        if status != "valid":
            raise Refused(422, "certificate.invalid", f"The enforcement certificate of {name} is {status}.")
    if not context["may_act"]:
        raise Refused(422, "item.not_authorised", "The unit may not act on this item on that day.")


def _sqlite_time(text: str | None) -> str | None:
    """A stored Timestamptz (``str()`` of a UTC datetime) as msgspec writes the datetime."""
    if text is None:
        return None
    text = text.replace(" ", "T", 1)
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _view(
    r: Any, officers: list[dict[str, Any]], time: Any, *, unmasked: bool, evidence: bool = True
) -> dict[str, Any]:
    """The app's ``schemas.Action`` of a row, as a dict in the same field order."""
    party = None
    if r["party_name"]:
        id_number = r["party_id_number"] if unmasked else _mask(r["party_id_number"])
        party = {"name": r["party_name"], "type": r["party_type"] or "person", "id_number": id_number}
    reversal = r["reversal"]
    return {
        "id": r["id"],
        "unit_id": r["unit"],
        "unit_name": r["unit_name"],
        "item_id": r["item"],
        "item_code": r["item_code"],
        "item_name": r["item_name"],
        "kind": r["kind"],
        "officer_ids": [o["id"] for o in officers],
        "officers": officers,
        "occurred_at": time(r["occurred_at"]),
        "created_at": time(r["created_at"]),
        "location": (
            {"lat": r["lat"], "lon": r["lon"], "accuracy_m": r["accuracy_m"]}
            if r["lat"] is not None
            else None
        ),
        "address": r["address"],
        "party": party,
        "notes": r["notes"],
        "status": r["status"],
        "created_by": r["created_by"],
        "evidence_count": r["evidence_count"],
        "evidence": [],
        "recording_required": bool(r["recording_required"]),
        "recording_missing": bool(r["recording_required"]) and r["recording_at"] is None,
        "case_ids": [],
        "reversed": msgspec.Raw(reversal.encode()) if reversal is not None else None,
    }


def _masked(view: dict[str, Any]) -> dict[str, Any]:
    party = view["party"]
    if party and party["id_number"]:
        return {**view, "party": {**party, "id_number": _mask(party["id_number"])}}
    return view


def _limit(request: Request[Any, Any, Any]) -> int:
    raw = request.query_params.get("limit")
    try:
        limit = 50 if raw is None else int(raw)
    except ValueError:
        raise Refused(400, "validation.failed", "limit must be an integer") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise Refused(400, "validation.failed", f"limit must be 1 to {MAX_LIMIT}")
    return limit


def _feed_units(user: User) -> list[Any] | None:
    """None: every unit (admins, supervisors, the command center); else the user's own units."""
    if user.has("admin", "supervisor", "command"):
        return None
    if user.has("officer", "legal_reviewer"):
        return user.unit_ids
    raise Refused(403, "auth.forbidden", "Your role does not give access to enforcement records.")


def _parse(body: bytes) -> ActionCreate:
    try:
        data = _decode_action(body)
    except msgspec.DecodeError as exc:
        raise Refused(400, "validation.failed", str(exc)) from None
    if data.location is None and not data.address.strip():
        raise Refused(400, "validation.failed", "Without a GPS fix (location) the address is required.")
    return data


# -- SQLite ----------------------------------------------------------------------------------------


class SQLiteWork:
    """One ``sqlite3`` connection, used from the event loop's thread (one request at a time)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None

    def open(self) -> None:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        for pragma in ("PRAGMA busy_timeout = 30000", "PRAGMA foreign_keys = 1", "PRAGMA journal_mode = WAL"):
            db.execute(pragma).fetchall()
        self.db = db

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        assert self.db is not None
        cursor = self.db.execute(sql, args)
        found = cursor.fetchall()
        names = [c[0] for c in cursor.description] if cursor.description else []
        return [dict(zip(names, row, strict=True)) for row in found]

    def user(self, request: Request[Any, Any, Any], tokens: TokenService) -> User:
        user_id, session_id = _claims(tokens, request)
        rows = self.rows(CURRENT_USER_SQL, (session_id,))
        row = rows[0] if rows else None
        ends = row["access_expires_at"] if row else None
        expired = ends is not None and datetime.fromisoformat(ends) <= datetime.now(UTC)
        if (
            row is None
            or row["id"] != str(user_id)
            or row["revoked_at"] is not None
            or not row["active"]
            or expired
        ):
            raise Refused(401, "auth.invalid_token", "The session has ended; sign in again.")
        units = [r["unit"] for r in rows if r["unit"] is not None]
        return User(user_id, row["username"], row["roles"], units)

    def officers_of(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        officers: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for o in self.rows(expand(PAGE_OFFICERS_SQL, len(ids)), ids):
                officers[o["action"]].append({"id": o["officer_id"], "display_name": o["display_name"]})
        return officers

    def feed(self, user: User, limit: int) -> bytes:
        units = _feed_units(user)
        where = "" if units is None else expand(FEED_UNITS_WHERE, len(units or [""]))
        args = () if units is None else (units or [str(uuid.UUID(int=0))])
        rows = self.rows(FEED_SQL.format(where=where, limit=limit + 1), args)
        page = rows[:limit]
        officers = self.officers_of([r["id"] for r in page])
        items = [_view(r, officers[r["id"]], _sqlite_time, unmasked=False) for r in page]
        cursor = None
        if len(rows) > limit:
            cursor = _cursor(page[-1]["created_at"].replace(" ", "T", 1), page[-1]["id"])
        return _encode({"items": items, "next_cursor": cursor})

    def create(self, user: User, body: bytes, key: str | None) -> tuple[int, bytes]:
        assert self.db is not None
        if not user.has("officer"):
            raise Refused(403, "auth.forbidden", "Your role does not allow this.")
        data = _parse(body)
        action_id = _action_id(data, key, user.id)
        data = msgspec.structs.replace(data, id=action_id, occurred_at=data.occurred_at.astimezone(UTC))
        digest = _request_hash(data)
        on = data.occurred_at.astimezone(BEIJING).date().isoformat()
        unit, item, sid = str(data.unit_id), str(data.item_id), str(action_id)
        context = self.rows(CONTEXT_SQL, (unit, unit, on, on, sid, unit, item))[0]
        if context["existing_hash"] is not None:
            return self.replay(user, sid, context["existing_hash"], context["existing_by"], digest)
        if unit not in user.unit_ids:
            raise Refused(403, "auth.forbidden", "You are not a member of this unit.")
        officer_ids = list(dict.fromkeys(data.officer_ids))
        today = datetime.now(BEIJING).date().isoformat()
        _check_rules(user, data, officer_ids, context)
        officer_args = [str(o) for o in officer_ids]
        users = {r["id"]: r for r in self.rows(expand(OFFICERS_SQL, len(officer_ids)), (unit, *officer_args))}
        _check_officers(officer_ids, users, context, today)
        party = data.party
        location = data.location
        created_at = datetime.now(UTC)
        recording = _needs_recording(data.kind, context["item_kind"], context["item_full_recording"])
        row = {
            "id": sid,
            "unit": unit,
            "item": item,
            "kind": data.kind,
            "occurred_at": str(data.occurred_at),
            "lat": location.lat if location else None,
            "lon": location.lon if location else None,
            "accuracy_m": location.accuracy_m if location else None,
            "address": data.address,
            "party_name": party.name if party else None,
            "party_type": party.type if party else None,
            "party_id_number": party.id_number if party else None,
            "notes": data.notes,
            "status": "recorded",
            "created_by": str(user.id),
            "created_at": str(created_at),
            "request_hash": digest,
            "evidence_count": 0,
            "recording_required": int(recording),
            "recording_at": None,
            "recording_alerted_at": None,
            "reversal": None,
        }
        audit_data = _canonical({"unit_id": unit, "item_id": item, "kind": data.kind})
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(INSERT_ACTION_SQL, tuple(row.values())).fetchall()
                officer_rows = [(str(uuid.uuid4()), sid, o) for o in officer_args]
                db.execute(
                    expand(INSERT_OFFICERS_SQL, len(officer_rows), "(?,?,?)"),
                    [v for r in officer_rows for v in r],
                ).fetchall()
                head = db.execute(AUDIT_HEAD_SQL, (1,)).fetchone()
                entry = {
                    "seq": (head[1] if head else 0) + 1,
                    "at": datetime.now(UTC),
                    "actor_id": user.id,
                    "actor": user.username,
                    "action": "action.created",
                    "object_type": "action",
                    "object_id": sid,
                    "data": audit_data,
                    "prev_hash": head[2] if head else GENESIS,
                }
                entry["hash"] = _audit_hash(entry)
                db.execute(
                    INSERT_AUDIT_SQL,
                    (
                        str(uuid.uuid4()),
                        entry["seq"],
                        str(entry["at"]),
                        str(user.id),
                        user.username,
                        "action.created",
                        "action",
                        sid,
                        audit_data,
                        entry["prev_hash"],
                        entry["hash"],
                    ),
                ).fetchall()
                if head:
                    db.execute(UPDATE_AUDIT_HEAD_SQL, (entry["seq"], entry["hash"], 1))
                else:
                    db.execute(INSERT_AUDIT_HEAD_SQL, (1, entry["seq"], entry["hash"]))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" not in str(exc):
                raise
            winner = self.rows("SELECT request_hash, created_by FROM actions WHERE id = ?", (sid,))
            if not winner:
                raise
            return self.replay(user, sid, winner[0]["request_hash"], winner[0]["created_by"], digest)
        row.update(
            unit_name=context["unit_name"], item_code=context["item_code"], item_name=context["item_name"]
        )
        officers = [{"id": o, "display_name": users[o]["display_name"]} for o in officer_args]
        view = _view(row, officers, _sqlite_time, unmasked=True)
        now = str(datetime.now(UTC))
        db.execute(
            expand(INSERT_EVENT_SQL, 1, "null"),
            ("action.created", unit, None, now, _encode(_masked(view)).decode()),
        ).fetchall()
        return 201, _encode(view)

    def replay(
        self, user: User, sid: str, existing_hash: str, existing_by: str, digest: str
    ) -> tuple[int, bytes]:
        if existing_by != str(user.id) or existing_hash != digest:
            raise Refused(409, "idempotency.mismatch", "This id was already used for a different request.")
        row = self.rows(ACTION_BY_ID_SQL, (sid,))[0]
        return 201, _encode(_view(row, self.officers_of([sid])[sid], _sqlite_time, unmasked=True))


# -- PostgreSQL ------------------------------------------------------------------------------------


async def _no_reset(connection: asyncpg.Connection) -> None:
    """As backend.db.engines._keep_session: nothing sent when a connection goes back to the pool."""


class PostgresWork:
    def __init__(self, url: str) -> None:
        self.url = url.replace("postgres://", "postgresql://", 1)
        self.pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        self.pool = await asyncpg.create_pool(
            self.url,
            min_size=1,
            max_size=4,
            timeout=5,
            reset=_no_reset,
            server_settings={"plan_cache_mode": "force_custom_plan"},  # backend.db.postgres_config
        )

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

    async def user(
        self, conn: asyncpg.Connection, request: Request[Any, Any, Any], tokens: TokenService
    ) -> User:
        user_id, session_id = _claims(tokens, request)
        rows = await conn.fetch(_PG["user"], uuid.UUID(session_id))
        row = rows[0] if rows else None
        ends = row["access_expires_at"] if row else None
        expired = ends is not None and ends <= datetime.now(UTC)
        if (
            row is None
            or row["id"] != user_id
            or row["revoked_at"] is not None
            or not row["active"]
            or expired
        ):
            raise Refused(401, "auth.invalid_token", "The session has ended; sign in again.")
        units = [r["unit"] for r in rows if r["unit"] is not None]
        return User(user_id, row["username"], row["roles"], units)

    async def officers_of(self, conn: asyncpg.Connection, ids: list[Any]) -> dict[Any, list[dict[str, Any]]]:
        officers: dict[Any, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for o in await conn.fetch(numbered(expand(PAGE_OFFICERS_SQL, len(ids))), *ids):
                officers[o["action"]].append({"id": o["officer_id"], "display_name": o["display_name"]})
        return officers

    async def feed(self, conn: asyncpg.Connection, user: User, limit: int) -> bytes:
        units = _feed_units(user)
        where = "" if units is None else expand(FEED_UNITS_WHERE, len(units or [""]))
        args = [] if units is None else (units or [uuid.UUID(int=0)])
        rows = await conn.fetch(numbered(FEED_SQL.format(where=where, limit=limit + 1)), *args)
        page = rows[:limit]
        officers = await self.officers_of(conn, [r["id"] for r in page])
        items = [_view(r, officers[r["id"]], _same, unmasked=False) for r in page]
        cursor = None
        if len(rows) > limit:
            cursor = _cursor(page[-1]["created_at"].isoformat(), str(page[-1]["id"]))
        return _encode({"items": items, "next_cursor": cursor})

    async def create(
        self, conn: asyncpg.Connection, user: User, body: bytes, key: str | None
    ) -> tuple[int, bytes]:
        if not user.has("officer"):
            raise Refused(403, "auth.forbidden", "Your role does not allow this.")
        data = _parse(body)
        action_id = _action_id(data, key, user.id)
        data = msgspec.structs.replace(data, id=action_id, occurred_at=data.occurred_at.astimezone(UTC))
        digest = _request_hash(data)
        on = data.occurred_at.astimezone(BEIJING).date()
        unit, item = data.unit_id, data.item_id
        context = (await conn.fetch(_PG["context"], unit, unit, on, on, action_id, unit, item))[0]
        if context["existing_hash"] is not None:
            return await self.replay(
                conn, user, action_id, context["existing_hash"], context["existing_by"], digest
            )
        if unit not in user.unit_ids:
            raise Refused(403, "auth.forbidden", "You are not a member of this unit.")
        officer_ids = list(dict.fromkeys(data.officer_ids))
        today = datetime.now(BEIJING).date().isoformat()
        _check_rules(user, data, officer_ids, context)
        sql = numbered(expand(OFFICERS_SQL, len(officer_ids)))
        users = {str(r["id"]): r for r in await conn.fetch(sql, unit, *officer_ids)}
        _check_officers(officer_ids, users, context, today)
        party = data.party
        location = data.location
        created_at = datetime.now(UTC)
        recording = _needs_recording(data.kind, context["item_kind"], context["item_full_recording"])
        row = {
            "id": action_id,
            "unit": unit,
            "item": item,
            "kind": data.kind,
            "occurred_at": data.occurred_at,
            "lat": location.lat if location else None,
            "lon": location.lon if location else None,
            "accuracy_m": location.accuracy_m if location else None,
            "address": data.address,
            "party_name": party.name if party else None,
            "party_type": party.type if party else None,
            "party_id_number": party.id_number if party else None,
            "notes": data.notes,
            "status": "recorded",
            "created_by": user.id,
            "created_at": created_at,
            "request_hash": digest,
            "evidence_count": 0,
            "recording_required": recording,
            "recording_at": None,
            "recording_alerted_at": None,
            "reversal": None,
        }
        audit_data = _canonical({"unit_id": str(unit), "item_id": str(item), "kind": data.kind})
        try:
            async with conn.transaction():
                await conn.fetch(_PG["insert_action"], *row.values())
                officer_rows = [(uuid.uuid4(), action_id, o) for o in officer_ids]
                await conn.fetch(
                    numbered(expand(INSERT_OFFICERS_SQL, len(officer_rows), "(?,?,?)")),
                    *[v for r in officer_rows for v in r],
                )
                # As the app does on PostgreSQL: the entry is written unlinked; the chain is
                # extended after commit, off the request (backend.audit.services.settle).
                await conn.fetch(
                    _PG["insert_audit_unlinked"],
                    uuid.uuid4(),
                    datetime.now(UTC),
                    user.id,
                    user.username,
                    "action.created",
                    "action",
                    str(action_id),
                    audit_data,
                )
        except asyncpg.UniqueViolationError:
            winner = await conn.fetch("SELECT request_hash, created_by FROM actions WHERE id = $1", action_id)
            if not winner:
                raise
            return await self.replay(
                conn, user, action_id, winner[0]["request_hash"], winner[0]["created_by"], digest
            )
        row.update(
            unit_name=context["unit_name"], item_code=context["item_code"], item_name=context["item_name"]
        )
        officers = [{"id": o, "display_name": users[str(o)]["display_name"]} for o in officer_ids]
        view = _view(row, officers, _same, unmasked=True)
        await conn.fetch(
            _PG["insert_event"],
            "action.created",
            unit,
            None,
            datetime.now(UTC),
            _encode(_masked(view)).decode(),
        )
        return 201, _encode(view)

    async def replay(
        self,
        conn: asyncpg.Connection,
        user: User,
        action_id: uuid.UUID,
        existing_hash: str,
        existing_by: Any,
        digest: str,
    ) -> tuple[int, bytes]:
        if existing_by != user.id or existing_hash != digest:
            raise Refused(409, "idempotency.mismatch", "This id was already used for a different request.")
        row = (await conn.fetch(_PG["action_by_id"], action_id))[0]
        officers = (await self.officers_of(conn, [action_id]))[action_id]
        return 201, _encode(_view(row, officers, _same, unmasked=True))


def _same(value: Any) -> Any:
    return value


_PG = {
    "user": numbered(CURRENT_USER_SQL),
    "context": numbered(CONTEXT_SQL),
    "insert_action": numbered(INSERT_ACTION_SQL),
    "insert_audit": numbered(INSERT_AUDIT_SQL),
    "insert_audit_unlinked": numbered(INSERT_AUDIT_UNLINKED_SQL),
    "insert_event": numbered(expand(INSERT_EVENT_SQL, 1, "DEFAULT")),
    "action_by_id": numbered(ACTION_BY_ID_SQL),
}


# -- the app ---------------------------------------------------------------------------------------


def create_app(database_url: str, tokens: TokenService) -> Litestar:
    """The two endpoints on ``database_url`` (``sqlite:///path`` or ``postgresql://…``)."""
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///").removeprefix("sqlite://")
        lite = SQLiteWork(str(Path(path)))

        @get("/api/v1/actions")
        async def lite_feed(request: Request[Any, Any, Any]) -> Response[bytes]:
            try:
                user = lite.user(request, tokens)
                return Response(lite.feed(user, _limit(request)), media_type="application/json")
            except Refused as exc:
                return _problem(exc)

        @post("/api/v1/actions")
        async def lite_create(request: Request[Any, Any, Any]) -> Response[bytes]:
            try:
                user = lite.user(request, tokens)
                status, body = lite.create(user, await request.body(), request.headers.get("idempotency-key"))
                return Response(body, status_code=status, media_type="application/json")
            except Refused as exc:
                return _problem(exc)

        async def lite_open() -> None:
            lite.open()

        async def lite_close() -> None:
            lite.close()

        return Litestar([lite_feed, lite_create], on_startup=[lite_open], on_shutdown=[lite_close])

    pg = PostgresWork(database_url)

    @get("/api/v1/actions")
    async def pg_feed(request: Request[Any, Any, Any]) -> Response[bytes]:
        assert pg.pool is not None
        try:
            async with pg.pool.acquire() as conn:
                user = await pg.user(conn, request, tokens)
                return Response(await pg.feed(conn, user, _limit(request)), media_type="application/json")
        except Refused as exc:
            return _problem(exc)

    @post("/api/v1/actions")
    async def pg_create(request: Request[Any, Any, Any]) -> Response[bytes]:
        assert pg.pool is not None
        body = await request.body()
        try:
            async with pg.pool.acquire() as conn:
                user = await pg.user(conn, request, tokens)
                status, answer = await pg.create(conn, user, body, request.headers.get("idempotency-key"))
                return Response(answer, status_code=status, media_type="application/json")
        except Refused as exc:
            return _problem(exc)

    return Litestar([pg_feed, pg_create], on_startup=[pg.open], on_shutdown=[pg.close])


__all__ = ["create_app"]
