"""Accounts: sign-in, sessions and refresh-token rotation, users, memberships, certificates."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
import uuid
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import msgspec
import segno
from piccolo.columns import Column
from piccolo.columns.combination import Where

from backend.accounts import schemas
from backend.accounts.certificates import (
    LABELS,
    card_token,
    check_transition,
    effective_status,
    read_card_token,
    status_reason,
)
from backend.accounts.session_cache import SESSIONS
from backend.accounts.tables import (
    Certificate,
    CertificateEvent,
    LoginFailure,
    Membership,
    PasswordReset,
    RefreshToken,
    Session,
    User,
)
from backend.audit import services as audit
from backend.db import atomic, current_engine, is_postgres, is_unique_violation
from backend.db.querystrings import SelectHead
from backend.lib.auth import CurrentUser, TokenService
from backend.lib.clock import today_local, utcnow
from backend.lib.deps import Notifier
from backend.lib.errors import AppError, Errors
from backend.lib.pagination import Page, decode_cursor, encode_cursor
from backend.lib.passwords import hash_password, verify_password
from backend.lib.signing import IntegrityKey
from backend.org.services import require_units
from backend.settings import Settings


def _roles_text(roles: list[str]) -> str:
    return " " + " ".join(sorted(set(roles))) + " "


def _roles(text: str) -> list[str]:
    return text.split()


def role_filter(role: str) -> Where:
    return User.roles.like(f"% {role} %")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.replace(" ", "")
    return digits[:3] + "*" * max(len(digits) - 7, 0) + digits[-4:] if len(digits) >= 7 else "*" * len(digits)


# --- current user -------------------------------------------------------------------------------


# The session, its user and the user's units in one round trip: this runs on every request.
_CURRENT_USER_SQL = """
SELECT s.revoked_at, u.id, u.username, u.display_name, u.roles, u.active, u.access_expires_at, m.unit
FROM auth_sessions s
JOIN users u ON u.id = s."user"
LEFT JOIN memberships m ON m."user" = u.id
WHERE s.id = {}
"""


async def load_current_user(user_id: uuid.UUID, session_id: uuid.UUID) -> CurrentUser:
    rows = await Session.raw(_CURRENT_USER_SQL, session_id)
    row = rows[0] if rows else None
    ends = row["access_expires_at"] if row else None
    expired = ends is not None and ends <= utcnow()
    if row is None or row["id"] != user_id or row["revoked_at"] is not None or not row["active"] or expired:
        raise AppError(Errors.AUTH_INVALID_TOKEN, "The session has ended; sign in again.")
    return CurrentUser(
        id=user_id,
        username=row["username"],
        display_name=row["display_name"],
        roles=frozenset(_roles(row["roles"])),
        unit_ids=frozenset(r["unit"] for r in rows if r["unit"] is not None),
        session_id=session_id,
        access_ends=ends,
    )


async def live_sessions(session_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these sessions are still valid (not revoked, account active)."""
    if not session_ids:
        return set()
    rows = await Session.select(Session.id, Session.user.access_expires_at).where(
        Session.id.is_in(list(session_ids)) & Session.revoked_at.is_null() & (Session.user.active == True)  # noqa: E712
    )
    now = utcnow()
    return {r["id"] for r in rows if r["user.access_expires_at"] is None or r["user.access_expires_at"] > now}


# --- views --------------------------------------------------------------------------------------


def certificate_view(row: dict[str, Any] | None) -> schemas.Certificate | None:
    if row is None:
        return None
    status = effective_status(row)
    return schemas.Certificate(
        number=row["number"],
        issued_on=row["issued_on"],
        expires_on=row["expires_on"],
        status=status,  # type: ignore[arg-type]
        field=row.get("field") or "",
        revoked_reason=row["revoked_reason"],
        revoked_at=row["revoked_at"],
        status_label=LABELS[status],
        status_reason=status_reason(row),
        status_on=row.get("status_on"),
        recalled_on=row.get("recalled_on"),
        recalled_received_by=row.get("recalled_received_by"),
    )


# Built once: the join made building this select cost more than running it.
_MEMBERSHIPS = SelectHead(
    Membership, Membership.user, Membership.unit.id, Membership.unit.name, Membership.unit.kind
)


async def _views(rows: list[dict[str, Any]], full_phone_for: set[uuid.UUID]) -> list[schemas.User]:
    ids = [r["id"] for r in rows]
    units: dict[uuid.UUID, list[schemas.UnitRef]] = defaultdict(list)
    certs: dict[uuid.UUID, dict[str, Any]] = {}
    if ids:
        for m in await Membership.raw(
            "{} WHERE {}", _MEMBERSHIPS.querystring(), Membership.user.is_in(ids).querystring
        ):
            units[m["user"]].append(
                schemas.UnitRef(id=m["unit.id"], name=m["unit.name"], kind=m["unit.kind"])
            )
        certs = {c["user"]: c for c in await Certificate.select().where(Certificate.user.is_in(ids))}
    return [
        schemas.User(
            id=r["id"],
            username=r["username"],
            display_name=r["display_name"],
            roles=_roles(r["roles"]),
            units=sorted(units[r["id"]], key=lambda u: u.name),
            certificate=certificate_view(certs.get(r["id"])),
            active=r["active"],
            phone=r["phone"] if r["id"] in full_phone_for else mask_phone(r["phone"]),
        )
        for r in rows
    ]


_USER_COLUMNS = (User.id, User.username, User.display_name, User.roles, User.active, User.phone)


async def _user_row(user_id: uuid.UUID) -> dict[str, Any] | None:
    return await User.select(*_USER_COLUMNS).where(User.id == user_id).first()


def sees_full_phone(viewer: CurrentUser, user_id: uuid.UUID) -> bool:
    return viewer.id == user_id or viewer.has_any("admin", "supervisor")


async def user_view(user_id: uuid.UUID, *, full_phone: bool) -> schemas.User:
    row = await _user_row(user_id)
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such user.")
    return (await _views([row], {row["id"]} if full_phone else set()))[0]


# --- sign-in ------------------------------------------------------------------------------------


async def _start_session(user_id: uuid.UUID, settings: Settings) -> tuple[uuid.UUID, str]:
    session_id = uuid.uuid4()
    refresh = secrets.token_urlsafe(32)
    await Session.insert(Session(id=session_id, user=user_id)).run()
    await RefreshToken.insert(
        RefreshToken(
            id=uuid.uuid4(),
            session=session_id,
            token_hash=_token_hash(refresh),
            expires_at=utcnow() + timedelta(seconds=settings.refresh_token_ttl_s),
        )
    ).run()
    return session_id, refresh


async def open_session(user_id: uuid.UUID, settings: Settings, tokens: TokenService) -> schemas.TokenPair:
    """Sign a user in without a password (after accepting an invitation)."""
    async with atomic():
        session_id, refresh = await _start_session(user_id, settings)
    return schemas.TokenPair(
        access_token=tokens.issue(user_id, session_id),
        refresh_token=refresh,
        expires_in=settings.access_token_ttl_s,
        user=await user_view(user_id, full_phone=True),
    )


async def login(username: str, password: str, settings: Settings, tokens: TokenService) -> schemas.TokenPair:
    # The attempt is counted before the (slow) password check, so parallel guesses cannot all slip
    # in before the lock: at most login_max_failures of them are ever checked.
    failures = await _reserve_attempt(username, settings)
    row = await User.select().where(User.username == username).first()
    ok = await verify_password(row["password_hash"] if row else None, password)
    if row is None or not ok:
        if failures >= settings.login_max_failures:
            if row is not None:
                await audit.record(None, "auth.locked", "user", row["id"], {"failures": failures})
            raise _locked(settings.login_lockout_s)
        raise AppError(Errors.AUTH_INVALID_CREDENTIALS, "The username or password is wrong.")
    now = utcnow()
    if not row["active"] or (row["access_expires_at"] is not None and row["access_expires_at"] <= now):
        raise AppError(Errors.AUTH_ACCOUNT_DISABLED, "This account is disabled or its access has ended.")
    async with atomic():
        await LoginFailure.delete().where(LoginFailure.name_hash == _name_key(username)).run()
        session_id, refresh = await _start_session(row["id"], settings)
        await audit.record(None, "auth.login", "user", row["id"], {"username": username})
    return schemas.TokenPair(
        access_token=tokens.issue(row["id"], session_id),
        refresh_token=refresh,
        expires_in=settings.access_token_ttl_s,
        user=await user_view(row["id"], full_phone=True),
    )


def _name_key(username: str) -> str:
    """One counter per name however it is typed (case, width, surrounding blanks)."""
    normalised = unicodedata.normalize("NFKC", username).strip().casefold()
    return hashlib.sha256(normalised.encode()).hexdigest()


async def _reserve_attempt(username: str, settings: Settings) -> int:
    """Count this sign-in attempt as a failure up front (a success clears the count) and return the
    count, or refuse with auth.locked. Identical for names with and without an account.

    One conditional UPDATE … RETURNING takes the attempt, so of any number of parallel attempts only
    as many as the limit get through; the one that reaches the limit locks the name at once. A
    count whose last failure is older than the lockout period, or whose lock has lapsed, starts
    again."""
    key = _name_key(username)
    now = utcnow()
    stale = now - timedelta(seconds=settings.login_lockout_s)
    await (
        LoginFailure.insert(LoginFailure(name_hash=key, failures=0, updated_at=now))
        .on_conflict(action="DO NOTHING")
        .run()
    )
    await (
        LoginFailure.update({LoginFailure.failures: 0, LoginFailure.locked_until: None})
        .where(
            (LoginFailure.name_hash == key)
            & (
                (LoginFailure.locked_until.is_not_null() & (LoginFailure.locked_until <= now))
                | (LoginFailure.locked_until.is_null() & (LoginFailure.updated_at <= stale))
            )
        )
        .run()
    )
    taken = await (
        LoginFailure.update({LoginFailure.failures: LoginFailure.failures + 1, LoginFailure.updated_at: now})
        .where(
            (LoginFailure.name_hash == key)
            & LoginFailure.locked_until.is_null()
            & (LoginFailure.failures < settings.login_max_failures)
        )
        .returning(LoginFailure.failures)
    )
    if taken:
        failures: int = taken[0]["failures"]
        if failures >= settings.login_max_failures:
            until = now + timedelta(seconds=settings.login_lockout_s)
            await LoginFailure.update({LoginFailure.locked_until: until}).where(LoginFailure.name_hash == key)
        return failures
    row = await LoginFailure.select(LoginFailure.locked_until).where(LoginFailure.name_hash == key).first()
    locked_until = row["locked_until"] if row else None
    retry = (
        int((locked_until - now).total_seconds()) + 1
        if locked_until is not None
        else settings.login_lockout_s
    )
    raise _locked(max(retry, 1))


async def prune_login_failures(lockout_s: int) -> None:
    """Forget counts nobody added to within the lockout period and that hold no lock: they would
    start again anyway, and names that do not exist must not pile up."""
    now = utcnow()
    stale = now - timedelta(seconds=lockout_s)
    await (
        LoginFailure.delete()
        .where(
            (LoginFailure.updated_at <= stale)
            & (LoginFailure.locked_until.is_null() | (LoginFailure.locked_until <= now))
        )
        .run()
    )


def _locked(retry: int) -> AppError:
    return AppError(
        Errors.AUTH_LOCKED, f"Too many failed sign-ins. Try again in {retry} seconds.", retry_after=retry
    ).with_headers(**{"Retry-After": str(retry)})


async def refresh(
    token: str, settings: Settings, tokens: TokenService, events: Notifier | None = None
) -> schemas.TokenPair:
    row = (
        await RefreshToken.select(
            RefreshToken.id,
            RefreshToken.used_at,
            RefreshToken.expires_at,
            RefreshToken.session.id,
            RefreshToken.session.revoked_at,
            # Piccolo types a second join step as a plain Column.
            RefreshToken.session.user.id,  # type: ignore[union-attr]
            RefreshToken.session.user.active,  # type: ignore[union-attr]
            RefreshToken.session.user.access_expires_at,  # type: ignore[union-attr]
        )
        .where(RefreshToken.token_hash == _token_hash(token))
        .first()
    )
    invalid = AppError(Errors.AUTH_REFRESH_INVALID, "The refresh token is not valid; sign in again.")
    if row is None or row["session.revoked_at"] is not None or not row["session.user.active"]:
        raise invalid
    # The same end of access load_current_user and live_sessions apply: an invited supervisor's
    # session must not outlive the invitation by rotating its refresh token.
    ends = row["session.user.access_expires_at"]
    if ends is not None and ends <= utcnow():
        raise AppError(Errors.AUTH_ACCESS_EXPIRED, "This account's access has ended; the session is over.")
    session_id, user_id = row["session.id"], row["session.user.id"]
    if row["used_at"] is not None:
        await revoke_session(session_id, "refresh_reuse", None)
        await account_changed(user_id, events)
        raise AppError(
            Errors.AUTH_REFRESH_REUSED, "This refresh token was already used; the session is revoked."
        )
    if row["expires_at"] <= utcnow():
        raise invalid
    new_refresh = secrets.token_urlsafe(32)
    async with atomic():
        # Only one of two racing refreshes can mark the token used; the loser is treated as reuse.
        claimed = (
            await RefreshToken.update({RefreshToken.used_at: utcnow()})
            .where((RefreshToken.id == row["id"]) & RefreshToken.used_at.is_null())
            .returning(RefreshToken.id)
        )
        if claimed:
            await RefreshToken.insert(
                RefreshToken(
                    id=uuid.uuid4(),
                    session=session_id,
                    token_hash=_token_hash(new_refresh),
                    expires_at=utcnow() + timedelta(seconds=settings.refresh_token_ttl_s),
                )
            ).run()
    if not claimed:
        await revoke_session(session_id, "refresh_reuse", None)
        await account_changed(user_id, events)
        raise AppError(
            Errors.AUTH_REFRESH_REUSED, "This refresh token was already used; the session is revoked."
        )
    return schemas.TokenPair(
        access_token=tokens.issue(user_id, session_id),
        refresh_token=new_refresh,
        expires_in=settings.access_token_ttl_s,
        user=await user_view(user_id, full_phone=True),
    )


async def account_changed(user_id: uuid.UUID, events: Notifier | None) -> None:
    """After a change to an account or its sessions has committed: this process checks the user's
    tokens again at once, and with ``events`` (the app's publisher) every process does and re-scopes
    or closes their live sockets. Without it (demo data, the command line) other processes see the
    change within the session cache's age."""
    SESSIONS.forget_user(user_id)
    if events is not None:
        await events.notify("account.changed", user_id)


async def revoke_session(session_id: uuid.UUID, reason: str, actor: CurrentUser | None) -> None:
    async with atomic():
        await (
            Session.update({Session.revoked_at: utcnow(), Session.revoked_reason: reason})
            .where((Session.id == session_id) & Session.revoked_at.is_null())
            .run()
        )
        await audit.record(actor, "auth.session_revoked", "session", session_id, {"reason": reason})


async def revoke_all_sessions(user_id: uuid.UUID, reason: str, actor: CurrentUser | None) -> None:
    await (
        Session.update({Session.revoked_at: utcnow(), Session.revoked_reason: reason})
        .where((Session.user == user_id) & Session.revoked_at.is_null())
        .run()
    )


async def logout(user: CurrentUser, events: Notifier | None = None) -> None:
    await revoke_session(user.session_id, "logout", user)
    await account_changed(user.id, events)  # its live sockets close now, not at the next heartbeat


# --- users --------------------------------------------------------------------------------------


async def _visible_user_ids(viewer: CurrentUser) -> list[uuid.UUID] | None:
    """None means every user; otherwise the users sharing a unit with the viewer (and the viewer)."""
    if viewer.sees_everything:
        return None
    ids = {viewer.id}
    if viewer.unit_ids:
        rows = await Membership.select(Membership.user).where(Membership.unit.is_in(list(viewer.unit_ids)))
        ids.update(r["user"] for r in rows)
    return list(ids)


async def list_users(
    viewer: CurrentUser,
    cursor: str | None,
    limit: int,
    role: str | None = None,
    unit_id: uuid.UUID | None = None,
    q: str | None = None,
) -> Page[schemas.User]:
    """``q``: a part of the username or the name (case-insensitive)."""
    query = User.select(*_USER_COLUMNS).order_by(User.username).limit(limit + 1)
    if q and q.strip():
        # "%" and the escape character are dropped; "_" stays (it also matches itself).
        needle = "%" + q.strip().replace("\\", "").replace("%", "") + "%"
        # SQLite's LIKE already ignores ASCII case; PostgreSQL needs ILIKE.
        if is_postgres(current_engine()):
            query = query.where(User.username.ilike(needle) | User.display_name.ilike(needle))
        else:
            query = query.where(User.username.like(needle) | User.display_name.like(needle))
    visible = await _visible_user_ids(viewer)
    if visible is not None:
        query = query.where(User.id.is_in(visible))
    if role:
        query = query.where(role_filter(role))
    if unit_id:
        members = [
            r["user"] for r in await Membership.select(Membership.user).where(Membership.unit == unit_id)
        ]
        query = query.where(User.id.is_in(members or [uuid.UUID(int=0)]))
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(User.username > after[0])
    rows = await query
    full = {r["id"] for r in rows} if viewer.has_any("admin", "supervisor") else {viewer.id}
    items = await _views(rows[:limit], full)
    return Page(items=items, next_cursor=encode_cursor(items[-1].username) if len(rows) > limit else None)


async def get_user(viewer: CurrentUser, user_id: uuid.UUID) -> schemas.User:
    visible = await _visible_user_ids(viewer)
    if visible is not None and user_id not in visible:
        raise AppError(Errors.NOT_FOUND, "No such user.")
    return await user_view(user_id, full_phone=sees_full_phone(viewer, user_id))


async def create_user(actor: CurrentUser | None, data: schemas.UserCreate) -> schemas.User:
    await require_units(data.unit_ids)
    user_id = data.id or uuid.uuid4()
    password_hash = await hash_password(data.password)
    try:
        async with atomic():
            if await User.exists().where((User.username == data.username) | (User.id == user_id)):
                raise AppError(Errors.DUPLICATE, f"The username {data.username!r} is taken.")
            await User.insert(
                User(
                    id=user_id,
                    username=data.username,
                    password_hash=password_hash,
                    display_name=data.display_name,
                    roles=_roles_text(list(data.roles)),
                    phone=data.phone,
                )
            ).run()
            await _set_units(user_id, data.unit_ids)
            await audit.record(
                actor,
                "user.created",
                "user",
                user_id,
                {
                    "username": data.username,
                    "roles": sorted(set(data.roles)),
                    "unit_ids": [str(u) for u in data.unit_ids],
                },
            )
    except Exception as exc:
        if is_unique_violation(exc):
            raise AppError(Errors.DUPLICATE, f"The username {data.username!r} is taken.") from None
        raise
    return await user_view(user_id, full_phone=True)


async def _set_units(user_id: uuid.UUID, unit_ids: list[uuid.UUID]) -> None:
    await Membership.delete().where(Membership.user == user_id).run()
    for unit_id in dict.fromkeys(unit_ids):
        await Membership.insert(Membership(id=uuid.uuid4(), user=user_id, unit=unit_id)).run()


async def update_user(
    actor: CurrentUser, user_id: uuid.UUID, data: schemas.UserUpdate, events: Notifier | None = None
) -> schemas.User:
    """``events`` (the app's publisher) re-scopes or closes the user's open live sockets in every
    process once the change has committed; without it (demo data) nothing is streamed."""
    if await _user_row(user_id) is None:
        raise AppError(Errors.NOT_FOUND, "No such user.")
    changes: dict[Any, Any] = {}
    audit_data: dict[str, Any] = {}
    if data.display_name is not msgspec.UNSET:
        changes[User.display_name] = audit_data["display_name"] = data.display_name
    if data.roles is not msgspec.UNSET:
        changes[User.roles] = _roles_text(list(data.roles))
        audit_data["roles"] = sorted(set(data.roles))
    if data.phone is not msgspec.UNSET:
        changes[User.phone] = data.phone
        audit_data["phone_changed"] = True
    if data.active is not msgspec.UNSET:
        changes[User.active] = audit_data["active"] = data.active
    if data.password is not msgspec.UNSET:
        changes[User.password_hash] = await hash_password(data.password)
        audit_data["password_changed"] = True
    if data.unit_ids is not msgspec.UNSET:
        await require_units(data.unit_ids)
        audit_data["unit_ids"] = [str(u) for u in data.unit_ids]
    async with atomic():
        await _keep_an_admin(actor, user_id, data)
        if changes:
            changes[User.updated_at] = utcnow()
            await User.update(changes).where(User.id == user_id).run()
        if data.unit_ids is not msgspec.UNSET:
            await _set_units(user_id, data.unit_ids)
        if data.active is False or data.password is not msgspec.UNSET:
            await revoke_all_sessions(user_id, "account_changed", actor)
        await audit.record(actor, "user.updated", "user", user_id, audit_data)
    await account_changed(user_id, events)
    return await user_view(user_id, full_phone=True)


async def _keep_an_admin(actor: CurrentUser | None, user_id: uuid.UUID, data: schemas.UserUpdate) -> None:
    """Refuse a change that leaves no active admin (nobody could manage accounts any more), and an
    admin demoting or disabling themself: another admin does that. Runs inside the change's
    transaction; on PostgreSQL the admins' rows are locked so two admins demoting each other at once
    cannot both pass (SQLite's write transactions already run one at a time)."""
    demotes = data.roles is not msgspec.UNSET and "admin" not in data.roles
    disables = data.active is False
    if not (demotes or disables):
        return
    admins = User.select(User.id).where(role_filter("admin") & (User.active == True))  # noqa: E712
    if is_postgres(current_engine()):
        admins = admins.lock_rows()
    active_admins = {r["id"] for r in await admins}
    if user_id not in active_admins:
        return
    if actor is not None and actor.id == user_id:
        raise AppError(
            Errors.USER_OWN_ADMIN,
            "You cannot remove your own admin role or disable your own account; ask another admin.",
        )
    if not active_admins - {user_id}:
        raise AppError(Errors.USER_LAST_ADMIN, "This is the last active admin; make another admin first.")


# --- certificates -------------------------------------------------------------------------------


async def _officer(viewer: CurrentUser, user_id: uuid.UUID) -> dict[str, Any]:
    await get_user(viewer, user_id)  # 404 when not visible
    row = await _user_row(user_id)
    assert row is not None
    if "officer" not in _roles(row["roles"]):
        raise AppError(
            Errors.CERTIFICATE_NOT_OFFICER, "Only officers hold enforcement certificates (执法证)."
        )
    return row


async def set_certificate(
    actor: CurrentUser, user_id: uuid.UUID, data: schemas.CertificatePut
) -> schemas.Certificate:
    await _officer(actor, user_id)
    if data.expires_on <= data.issued_on:
        raise AppError(
            Errors.VALIDATION,
            "expires_on must be after issued_on.",
            errors=[{"key": "expires_on", "message": "must be after issued_on"}],
        )
    values: dict[Column | str, Any] = {
        Certificate.number: data.number,
        Certificate.issued_on: data.issued_on,
        Certificate.expires_on: data.expires_on,
        Certificate.field: data.field,
        Certificate.status: "valid",
        Certificate.revoked_reason: None,
        Certificate.revoked_at: None,
        Certificate.status_reason: None,
        Certificate.status_on: data.issued_on,
        Certificate.recalled_on: None,
        Certificate.recalled_received_by: None,
        Certificate.recall_recorded_by: None,
        Certificate.updated_at: utcnow(),
    }
    try:
        async with atomic():
            clash = await Certificate.exists().where(
                (Certificate.number == data.number) & (Certificate.user != user_id)
            )
            if clash:
                raise AppError(
                    Errors.DUPLICATE, f"Certificate number {data.number} belongs to another officer."
                )
            previous = await Certificate.select(Certificate.status).where(Certificate.user == user_id).first()
            if previous is not None:
                await Certificate.update(values).where(Certificate.user == user_id).run()
            else:
                await Certificate.insert(
                    Certificate.from_dict(
                        {
                            "id": uuid.uuid4(),
                            "user": user_id,
                            **{c if isinstance(c, str) else c._meta.name: v for c, v in values.items()},
                        }
                    )
                ).run()
            await _history(
                user_id,
                data.number,
                "issued",
                previous["status"] if previous else None,
                "valid",
                "发证" if previous is None else "换发/续期",
                data.issued_on,
                actor,
            )
            await audit.record(
                actor,
                "certificate.set",
                "user",
                user_id,
                {"number": data.number, "issued_on": str(data.issued_on), "expires_on": str(data.expires_on)},
            )
    except Exception as exc:
        if is_unique_violation(exc):
            raise AppError(
                Errors.DUPLICATE, f"Certificate number {data.number} belongs to another officer."
            ) from None
        raise
    return await get_certificate(user_id)


async def get_certificate(user_id: uuid.UUID) -> schemas.Certificate:
    view = certificate_view(await Certificate.select().where(Certificate.user == user_id).first())
    if view is None:
        raise AppError(Errors.NOT_FOUND, "This officer has no enforcement certificate.")
    return view


async def _history(
    user_id: uuid.UUID,
    number: str,
    change: str,
    from_status: str | None,
    to_status: str,
    reason: str,
    on: date,
    actor: CurrentUser | None,
) -> None:
    await CertificateEvent.insert(
        CertificateEvent(
            id=uuid.uuid4(),
            user=user_id,
            number=number,
            change=change,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            effective_on=on,
            actor=actor.id if actor else None,
            at=utcnow(),
        )
    ).run()


def _not_future(on: date | None) -> date:
    today = today_local()
    if on is not None and on > today:
        raise AppError(
            Errors.VALIDATION,
            "effective_on is in the future; record a change when it takes effect.",
            errors=[{"key": "effective_on", "message": "in the future"}],
        )
    return on or today


async def _certificate_row(user_id: uuid.UUID) -> dict[str, Any] | None:
    query = Certificate.select().where(Certificate.user == user_id)
    if is_postgres(current_engine()):
        query = query.lock_rows()
    return await query.first()


async def change_certificate(
    actor: CurrentUser | None,
    user_id: uuid.UUID,
    change: str,
    reason: str,
    on: date | None = None,
    events: Notifier | None = None,
    *,
    audit_data: dict[str, Any] | None = None,
) -> schemas.Certificate:
    """Suspend, reinstate, revoke (注销) or report lost: one step of the state machine, with its
    reason and the date it takes effect, kept in the history and the audit log. A change that the
    current status does not allow is a 409. ``events`` tells the officer's open sessions at once."""
    if actor is not None:
        await _officer(actor, user_id)
    effective_on = _not_future(on)
    async with atomic():
        await apply_certificate_change(actor, user_id, change, reason, effective_on, audit_data=audit_data)
    await account_changed(user_id, events)
    return await get_certificate(user_id)


async def apply_certificate_change(
    actor: CurrentUser | None,
    user_id: uuid.UUID,
    change: str,
    reason: str,
    on: date,
    *,
    audit_data: dict[str, Any] | None = None,
) -> str:
    """The change inside the caller's transaction (the annual run applies many in one); returns the
    new status."""
    row = await _certificate_row(user_id)
    to = check_transition(change, row)
    assert row is not None
    now = utcnow()
    values: dict[Column | str, Any] = {
        Certificate.status: to,
        Certificate.status_reason: reason if to != "valid" else None,
        Certificate.status_on: on,
        Certificate.updated_at: now,
    }
    if to == "revoked":
        values[Certificate.revoked_reason] = reason
        values[Certificate.revoked_at] = now
    await Certificate.update(values).where(Certificate.id == row["id"]).run()
    past = {"suspend": "suspended", "reinstate": "reinstated", "revoke": "revoked", "lose": "lost"}[change]
    await _history(user_id, row["number"], past, effective_status(row), to, reason, on, actor)
    await audit.record(
        actor,
        f"certificate.{past}",
        "user",
        user_id,
        {"reason": reason, "effective_on": str(on), "number": row["number"], **(audit_data or {})},
    )
    return to


async def revoke_certificate(
    actor: CurrentUser | None,
    user_id: uuid.UUID,
    reason: str,
    events: Notifier | None = None,
    on: date | None = None,
) -> schemas.Certificate:
    """注销: the certificate stops authorising any enforcement act from now on; the card is then
    recalled (收回, ``recall_certificate``)."""
    return await change_certificate(actor, user_id, "revoke", reason, on, events)


async def reissue_certificate(
    actor: CurrentUser, user_id: uuid.UUID, data: schemas.CertificateReissue, events: Notifier | None = None
) -> schemas.Certificate:
    """补发: a lost card is replaced by one with a new number; the lost card's QR then shows it was
    replaced."""
    await _officer(actor, user_id)
    if data.expires_on <= data.issued_on:
        raise AppError(
            Errors.VALIDATION,
            "expires_on must be after issued_on.",
            errors=[{"key": "expires_on", "message": "must be after issued_on"}],
        )
    try:
        async with atomic():
            row = await _certificate_row(user_id)
            check_transition("reissue", row)
            assert row is not None
            if data.number == row["number"] or await Certificate.exists().where(
                Certificate.number == data.number
            ):
                raise AppError(Errors.DUPLICATE, f"Certificate number {data.number} is already in use.")
            await (
                Certificate.update(
                    {
                        Certificate.number: data.number,
                        Certificate.issued_on: data.issued_on,
                        Certificate.expires_on: data.expires_on,
                        Certificate.status: "valid",
                        Certificate.status_reason: None,
                        Certificate.status_on: data.issued_on,
                        Certificate.updated_at: utcnow(),
                    }
                )
                .where(Certificate.id == row["id"])
                .run()
            )
            await _history(
                user_id,
                data.number,
                "reissued",
                "lost",
                "valid",
                data.reason or "挂失补发",
                data.issued_on,
                actor,
            )
            await audit.record(
                actor,
                "certificate.reissued",
                "user",
                user_id,
                {"old_number": row["number"], "number": data.number, "expires_on": str(data.expires_on)},
            )
    except Exception as exc:
        if is_unique_violation(exc):
            raise AppError(Errors.DUPLICATE, f"Certificate number {data.number} is already in use.") from None
        raise
    await account_changed(user_id, events)
    return await get_certificate(user_id)


async def recall_certificate(
    actor: CurrentUser, user_id: uuid.UUID, data: schemas.CertificateRecall
) -> schemas.Certificate:
    """收回: the revoked card was handed back, on a date, to a named person."""
    await _officer(actor, user_id)
    on = _not_future(data.recalled_on)
    async with atomic():
        row = await _certificate_row(user_id)
        if row is None:
            raise AppError(Errors.NOT_FOUND, "This officer has no enforcement certificate.")
        if row["status"] != "revoked":
            raise AppError(
                Errors.CERTIFICATE_TRANSITION,
                f"Only a revoked card is recalled; this one is {effective_status(row)}.",
                status_now=effective_status(row),
                change="recall",
            )
        if row["recalled_on"] is not None:
            raise AppError(
                Errors.CERTIFICATE_TRANSITION,
                f"The card was already recalled on {row['recalled_on'].isoformat()}.",
                status_now="revoked",
                change="recall",
            )
        await (
            Certificate.update(
                {
                    Certificate.recalled_on: on,
                    Certificate.recalled_received_by: data.received_by,
                    Certificate.recall_recorded_by: actor.id,
                    Certificate.updated_at: utcnow(),
                }
            )
            .where(Certificate.id == row["id"])
            .run()
        )
        await _history(
            user_id,
            row["number"],
            "recalled",
            "revoked",
            "revoked",
            f"收回，接收人：{data.received_by}",
            on,
            actor,
        )
        await audit.record(
            actor,
            "certificate.recalled",
            "user",
            user_id,
            {"recalled_on": str(on), "received_by": data.received_by, "number": row["number"]},
        )
    return await get_certificate(user_id)


async def certificate_history(viewer: CurrentUser, user_id: uuid.UUID) -> list[schemas.CertificateChange]:
    """The officer's own history, or any for a supervisor or admin (the reasons may be personal:
    a colleague sees the status, not its history)."""
    if viewer.id != user_id and not viewer.has_any("admin", "supervisor"):
        raise AppError(Errors.NOT_FOUND, "No such user.")
    await get_user(viewer, user_id)
    rows = await (
        CertificateEvent.select()
        .where(CertificateEvent.user == user_id)
        .order_by(CertificateEvent.at, ascending=False)
    )
    return [
        schemas.CertificateChange(
            change=r["change"],
            number=r["number"],
            from_status=r["from_status"],
            to_status=r["to_status"],
            reason=r["reason"],
            effective_on=r["effective_on"],
            at=r["at"],
        )
        for r in rows
    ]


async def unrecalled_certificates(viewer: CurrentUser) -> list[schemas.UnrecalledCard]:
    """Revoked cards not yet handed back (注销未收回), oldest revocation first."""
    if not viewer.has_any("admin", "supervisor"):
        raise AppError(Errors.FORBIDDEN, "Only supervisors see the cards still to recall.")
    rows = await (
        Certificate.select(
            Certificate.user,
            Certificate.number,
            Certificate.revoked_at,
            Certificate.status_reason,
            Certificate.revoked_reason,
            Certificate.status_on,
            Certificate.user.display_name.as_alias("name"),
        )
        .where((Certificate.status == "revoked") & Certificate.recalled_on.is_null())
        .order_by(Certificate.revoked_at)
    )
    return [
        schemas.UnrecalledCard(
            user_id=r["user"],
            display_name=r["name"],
            number=r["number"],
            revoked_on=r["status_on"],
            reason=r["status_reason"] or r["revoked_reason"] or "",
        )
        for r in rows
    ]


# --- the card's QR and the public check ------------------------------------------------------------


async def card_qr(viewer: CurrentUser, user_id: uuid.UUID, key: IntegrityKey, origin: str) -> schemas.CardQr:
    """The officer's own card, or one a supervisor or admin prints."""
    if viewer.id != user_id and not viewer.has_any("admin", "supervisor"):
        raise AppError(Errors.NOT_FOUND, "No such user.")
    await get_user(viewer, user_id)
    row = (
        await Certificate.select(Certificate.id, Certificate.number)
        .where(Certificate.user == user_id)
        .first()
    )
    if row is None:
        raise AppError(Errors.NOT_FOUND, "This officer has no enforcement certificate.")
    token = card_token(key, row["id"], row["number"])
    url = f"{origin.rstrip('/')}/c/{token}"
    svg = segno.make(url, error="m").svg_inline(scale=4)
    return schemas.CardQr(token=token, url=url, svg=svg)


async def public_certificate(key: IntegrityKey, token: str) -> schemas.PublicCertificate | None:
    """The live status of the card a token names; None when the server did not sign the token."""
    card = read_card_token(key, token)
    if card is None:
        return None
    row = await (
        Certificate.select(
            Certificate.user,
            Certificate.number,
            Certificate.field,
            Certificate.issued_on,
            Certificate.expires_on,
            Certificate.status,
            Certificate.user.display_name.as_alias("name"),
        )
        .where(Certificate.id == card.certificate_id)
        .first()
    )
    if row is None:
        return None
    status = effective_status(row)
    if row["number"] != card.number:
        status = "replaced"  # the card was lost and re-issued under a new number
    units = await Membership.select(Membership.unit.name.as_alias("name")).where(
        Membership.user == row["user"]
    )
    return schemas.PublicCertificate(
        name=row["name"],
        units=sorted(u["name"] for u in units),
        number=card.number,
        field=row["field"] or "",
        issued_on=row["issued_on"],
        expires_on=row["expires_on"],
        status=status,
        status_label=LABELS[status],
        checked_at=utcnow(),
    )


async def active_members_of_unit(unit_id: uuid.UUID) -> tuple[int, list[str]]:
    """How many active accounts belong to the unit, and a few of their names (a unit with active
    members cannot be deactivated)."""
    where = (Membership.unit == unit_id) & (Membership.user.active == True)  # noqa: E712
    count = await Membership.count().where(where)
    rows = await Membership.select(Membership.user.display_name.as_alias("name")).where(where).limit(5)
    return count, sorted(r["name"] for r in rows)


# --- password links and lockouts ------------------------------------------------------------------

PASSWORD_LINK_H = 24


async def start_password_reset(actor: CurrentUser, user_id: uuid.UUID) -> schemas.PasswordResetLink:
    """A one-time link for the user to set a new password (valid PASSWORD_LINK_H hours); older
    unused links of the user stop working."""
    row = await _user_row(user_id)
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such user.")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(hours=PASSWORD_LINK_H)
    async with atomic():
        await PasswordReset.update({PasswordReset.used_at: now}).where(
            (PasswordReset.user == user_id) & PasswordReset.used_at.is_null()
        )
        await PasswordReset.insert(
            PasswordReset(
                id=uuid.uuid4(),
                user=user_id,
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                expires_at=expires,
                created_by=actor.id,
            )
        ).run()
        await audit.record(actor, "user.password_link", "user", user_id, {"expires_at": expires.isoformat()})
    return schemas.PasswordResetLink(link=f"/#/reset/{token}", expires_at=expires)


async def finish_password_reset(token: str, password: str, events: Notifier | None = None) -> None:
    """Sets the password once; ends every session of the user and clears a lockout of the name."""
    now = utcnow()
    digest = hashlib.sha256(token.encode()).hexdigest()
    password_hash = await hash_password(password)
    async with atomic():
        used = await (
            PasswordReset.update({PasswordReset.used_at: now})
            .where(
                (PasswordReset.token_hash == digest)
                & PasswordReset.used_at.is_null()
                & (PasswordReset.expires_at > now)
            )
            .returning(PasswordReset.user)
        )
        row = await _user_row(used[0]["user"]) if used else None
        if row is None or not row["active"]:
            raise AppError(
                Errors.PASSWORD_RESET_INVALID, "This link cannot be used; ask an admin for a new one."
            )
        user_id: uuid.UUID = row["id"]
        await User.update({User.password_hash: password_hash, User.updated_at: now}).where(User.id == user_id)
        await LoginFailure.delete().where(LoginFailure.name_hash == _name_key(row["username"]))
        await revoke_all_sessions(user_id, "password_reset", None)
        await audit.record(None, "user.password_reset", "user", user_id, {})
    await account_changed(user_id, events)


async def unlock(actor: CurrentUser, user_id: uuid.UUID) -> schemas.Unlocked:
    """Lift a sign-in lockout of the user's name before it runs out."""
    row = await _user_row(user_id)
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such user.")
    key = _name_key(row["username"])
    async with atomic():
        was = (
            await LoginFailure.select(LoginFailure.locked_until).where(LoginFailure.name_hash == key).first()
        )
        locked = bool(was and was["locked_until"] and was["locked_until"] > utcnow())
        await LoginFailure.delete().where(LoginFailure.name_hash == key)
        await audit.record(actor, "auth.unlocked", "user", user_id, {"was_locked": locked})
    return schemas.Unlocked(was_locked=locked)
