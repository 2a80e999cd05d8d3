"""Leading groups (行政执法协调监督领导小组) and the meetings of the bureau, departments and townships
(联席会议, 领导小组会议), whose resolutions are tracked as corrective actions of their owner units.

The bureau's supervisors and admins keep these records; a unit's people read their unit's group and
the meetings their unit attended or owes a resolution of."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from piccolo.columns import Column

from backend.accounts import capabilities
from backend.accounts.tables import Membership, User
from backend.audit import services as audit
from backend.corrective import services as corrective
from backend.db import atomic, is_unique_violation, json_value
from backend.lib.auth import CurrentUser
from backend.lib.clock import today_local, utcnow
from backend.lib.errors import AppError, ErrorCode, Errors
from backend.lib.pagination import Page, newest_first_after, time_cursor
from backend.live.publish import Publisher
from backend.meetings import schemas
from backend.meetings.tables import LeadingGroup, Meeting, MeetingUnit
from backend.org.tables import Unit

NO_UNIT = uuid.UUID(int=0)


def _field(key: str, message: str, error: ErrorCode = Errors.VALIDATION) -> AppError:
    return AppError(error, message, errors=[{"key": key, "message": message}])


async def _scope(viewer: CurrentUser) -> set[uuid.UUID] | None:
    """The units whose records the viewer reads; None: every unit."""
    if viewer.sees_everything:
        return None
    return set(viewer.unit_ids) | await capabilities.responder_units(viewer.id)


async def _unit_names(unit_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = list(set(unit_ids))
    if not ids:
        return {}
    return {r["id"]: r["name"] for r in await Unit.select(Unit.id, Unit.name).where(Unit.id.is_in(ids))}


async def _require_units(key: str, unit_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    names = await _unit_names(unit_ids)
    for i, unit_id in enumerate(unit_ids):
        if unit_id not in names:
            raise _field(key.format(i=i), f"No such unit: {unit_id}.", Errors.UNIT_NOT_FOUND)
    return names


async def _user_names(user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = await User.select(User.id, User.display_name).where(User.id.is_in(ids))
    return {r["id"]: r["display_name"] for r in rows}


def _not_after_today(key: str, day: date) -> None:
    if day > today_local():
        raise _field(key, f"{key} cannot be after today ({today_local()}).")


def _text(key: str, value: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise _field(key, f"{key} cannot be blank.")
    return cleaned


# Leading groups -----------------------------------------------------------------------------------


async def _members(items: list[schemas.MemberIn]) -> list[dict[str, Any]]:
    """The member list as stored, every user checked and named; refused before anything is written."""
    users = await _user_names(m.user_id for m in items if m.user_id is not None)
    seen: set[uuid.UUID] = set()
    members = []
    for i, m in enumerate(items):
        if m.user_id is not None:
            if m.user_id not in users:
                raise _field(f"members[{i}].user_id", "No such user.", Errors.USER_NOT_FOUND)
            if m.user_id in seen:
                raise _field(f"members[{i}].user_id", "This user is listed twice.")
            seen.add(m.user_id)
            name = m.name.strip() if m.name and m.name.strip() else users[m.user_id]
        elif m.name is None:
            raise _field(f"members[{i}].name", "Give a user_id or, for an outsider, a name.")
        else:
            name = _text(f"members[{i}].name", m.name)
        members.append(
            {
                "user_id": str(m.user_id) if m.user_id else None,
                "name": name,
                "role": m.role,
                "post": m.post.strip(),
                "public_lawyer": m.public_lawyer,
                "legal_qualification": m.legal_qualification,
            }
        )
    return members


def _group_view(row: dict[str, Any], unit_name: str) -> schemas.Group:
    members = [
        schemas.Member(
            user_id=uuid.UUID(m["user_id"]) if m["user_id"] else None,
            name=m["name"],
            role=m["role"],
            post=m["post"],
            public_lawyer=m["public_lawyer"],
            legal_qualification=m["legal_qualification"],
        )
        for m in json_value(row["members"], [])
    ]
    counts = schemas.LegalCounts(
        members=len(members),
        public_lawyers=sum(m.public_lawyer for m in members),
        legal_qualification=sum(m.legal_qualification for m in members),
        either=sum(m.public_lawyer or m.legal_qualification for m in members),
    )
    return schemas.Group(
        id=row["id"],
        unit_id=row["unit_id"],
        unit_name=unit_name,
        name=row["name"],
        set_up_on=row["set_up_on"],
        members=members,
        counts=counts,
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _group_row(viewer: CurrentUser, group_id: uuid.UUID) -> dict[str, Any]:
    row = await LeadingGroup.select().where(LeadingGroup.id == group_id).first()
    scope = await _scope(viewer)
    if row is None or (scope is not None and row["unit_id"] not in scope):
        raise AppError(Errors.NOT_FOUND, "No such leading group.")
    return row


async def _group(row: dict[str, Any]) -> schemas.Group:
    names = await _unit_names([row["unit_id"]])
    return _group_view(row, names.get(row["unit_id"], ""))


async def create_group(actor: CurrentUser, data: schemas.GroupCreate) -> schemas.Group:
    name = _text("name", data.name)
    _not_after_today("set_up_on", data.set_up_on)
    await _require_units("unit_id", [data.unit_id])
    members = await _members(data.members)
    if await LeadingGroup.exists().where(LeadingGroup.unit_id == data.unit_id):
        raise _field("unit_id", "The unit already has a leading group; change that one.", Errors.GROUP_EXISTS)
    group_id = uuid.uuid4()
    try:
        async with atomic():
            await LeadingGroup.insert(
                LeadingGroup(
                    id=group_id,
                    unit_id=data.unit_id,
                    name=name,
                    set_up_on=data.set_up_on,
                    members=members,
                    created_by=actor.id,
                )
            ).run()
            await audit.record(
                actor,
                "leading_group.created",
                "leading_group",
                group_id,
                {
                    "unit_id": str(data.unit_id),
                    "name": name,
                    "set_up_on": str(data.set_up_on),
                    "members": members,
                },
            )
    except Exception as exc:
        if is_unique_violation(exc):
            raise _field("unit_id", "The unit already has a leading group.", Errors.GROUP_EXISTS) from None
        raise
    return await get_group(actor, group_id)


async def update_group(actor: CurrentUser, group_id: uuid.UUID, data: schemas.GroupPatch) -> schemas.Group:
    row = await _group_row(actor, group_id)
    if data.version != row["version"]:
        raise AppError(
            Errors.GROUP_VERSION_CONFLICT,
            f"The group is at version {row['version']}, not {data.version}; reload it and try again.",
            current_version=row["version"],
        )
    if data.set_up_on is not None:
        _not_after_today("set_up_on", data.set_up_on)
    proposed = {
        "name": _text("name", data.name) if data.name is not None else None,
        "set_up_on": data.set_up_on,
        "members": await _members(data.members) if data.members is not None else None,
    }
    changes = {key: value for key, value in proposed.items() if value is not None}
    if not changes:
        return await _group(row)
    values: dict[Column | str, Any] = {
        LeadingGroup._meta.get_column_by_name(key): value for key, value in changes.items()
    }
    async with atomic():
        won = (
            await LeadingGroup.update(
                {**values, LeadingGroup.version: row["version"] + 1, LeadingGroup.updated_at: utcnow()}
            )
            .where((LeadingGroup.id == group_id) & (LeadingGroup.version == row["version"]))
            .returning(LeadingGroup.id)
        )
        if not won:
            raise AppError(Errors.GROUP_VERSION_CONFLICT, "The group was changed by someone else; reload it.")
        logged = {key: str(value) if isinstance(value, date) else value for key, value in changes.items()}
        await audit.record(
            actor,
            "leading_group.updated",
            "leading_group",
            group_id,
            {"version": row["version"] + 1, **logged},
        )
    return await get_group(actor, group_id)


async def get_group(viewer: CurrentUser, group_id: uuid.UUID) -> schemas.Group:
    return await _group(await _group_row(viewer, group_id))


async def list_groups(viewer: CurrentUser, cursor: str | None, limit: int) -> Page[schemas.Group]:
    query = (
        LeadingGroup.select()
        .order_by(LeadingGroup.created_at, ascending=False)
        .order_by(LeadingGroup.id, ascending=False)
        .limit(limit + 1)
    )
    scope = await _scope(viewer)
    if scope is not None:
        query = query.where(LeadingGroup.unit_id.is_in(sorted(scope) or [NO_UNIT]))
    after = newest_first_after(LeadingGroup.created_at, LeadingGroup.id, cursor)
    if after is not None:
        query = query.where(after)
    rows = await query
    names = await _unit_names(r["unit_id"] for r in rows)
    items = [_group_view(r, names.get(r["unit_id"], "")) for r in rows[:limit]]
    next_cursor = time_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


# Meetings -----------------------------------------------------------------------------------------


async def _attendees(items: list[schemas.AttendeeIn]) -> list[dict[str, Any]]:
    users = await _user_names(a.user_id for a in items if a.user_id is not None)
    attendees = []
    for i, a in enumerate(items):
        if a.user_id is not None:
            if a.user_id not in users:
                raise _field(f"attendees[{i}].user_id", "No such user.", Errors.USER_NOT_FOUND)
            name = a.name.strip() if a.name and a.name.strip() else users[a.user_id]
        elif a.name is None:
            raise _field(f"attendees[{i}].name", "Give a user_id or, for an outsider, a name.")
        else:
            name = _text(f"attendees[{i}].name", a.name)
        attendees.append({"user_id": str(a.user_id) if a.user_id else None, "name": name})
    return attendees


async def _check_resolutions(items: list[schemas.ResolutionIn]) -> None:
    await _require_units("resolutions[{i}].owner_unit_id", [r.owner_unit_id for r in items])
    for i, r in enumerate(items):
        _text(f"resolutions[{i}].text", r.text)
        if r.due_on < today_local():
            raise _field(f"resolutions[{i}].due_on", f"due_on cannot be before today ({today_local()}).")
        if r.owner_user_id is not None and not await Membership.exists().where(
            (Membership.user == r.owner_user_id) & (Membership.unit == r.owner_unit_id)
        ):
            raise _field(
                f"resolutions[{i}].owner_user_id",
                "The owner must belong to the owner unit.",
                Errors.USER_NOT_FOUND,
            )


async def record_meeting(
    actor: CurrentUser, data: schemas.MeetingCreate, events: Publisher
) -> schemas.MeetingView:
    title = _text("title", data.title)
    _not_after_today("held_on", data.held_on)
    if len(set(data.unit_ids)) != len(data.unit_ids):
        raise _field("unit_ids", "A unit is listed twice.")
    await _require_units("unit_ids[{i}]", data.unit_ids)
    attendees = await _attendees(data.attendees)
    issues = [_text(f"issues[{i}]", text) for i, text in enumerate(data.issues)]
    await _check_resolutions(data.resolutions)
    meeting_id = uuid.uuid4()
    owners = [r.owner_unit_id for r in data.resolutions if r.owner_unit_id not in data.unit_ids]
    async with atomic():
        resolutions = []
        for r in data.resolutions:
            task_id = await corrective.open_for_meeting(
                actor,
                meeting_id,
                title=f"落实{data.kind}议定事项：{title}"[:200],
                description=r.text.strip(),
                unit_id=r.owner_unit_id,
                assignee=r.owner_user_id,
                due_on=r.due_on,
            )
            resolutions.append(
                {
                    "id": str(uuid.uuid4()),
                    "text": r.text.strip(),
                    "owner_unit_id": str(r.owner_unit_id),
                    "owner_user_id": str(r.owner_user_id) if r.owner_user_id else None,
                    "due_on": str(r.due_on),
                    "task_id": str(task_id),
                }
            )
        await Meeting.insert(
            Meeting(
                id=meeting_id,
                held_on=data.held_on,
                title=title,
                kind=data.kind,
                unit_ids=[str(u) for u in data.unit_ids],
                attendees=attendees,
                issues=issues,
                resolutions=resolutions,
                created_by=actor.id,
            )
        ).run()
        links = [("attended", u) for u in data.unit_ids] + [("owner", u) for u in dict.fromkeys(owners)]
        await MeetingUnit.insert(
            *(MeetingUnit(meeting_id=meeting_id, unit_id=unit_id, role=role) for role, unit_id in links)
        ).run()
        await audit.record(
            actor,
            "meeting.recorded",
            "meeting",
            meeting_id,
            {
                "held_on": str(data.held_on),
                "title": title,
                "kind": data.kind,
                "unit_ids": [str(u) for u in data.unit_ids],
                "attendees": attendees,
                "issues": issues,
                "resolutions": resolutions,
            },
        )
    await corrective.announce(events, [uuid.UUID(r["task_id"]) for r in resolutions])
    return await get_meeting(actor, meeting_id)


async def _visible_meetings(scope: set[uuid.UUID]) -> list[uuid.UUID]:
    rows = await MeetingUnit.select(MeetingUnit.meeting_id).where(
        MeetingUnit.unit_id.is_in(sorted(scope) or [NO_UNIT])
    )
    return sorted({r["meeting_id"] for r in rows}) or [NO_UNIT]


async def _reads(scope: set[uuid.UUID], meeting_id: uuid.UUID) -> bool:
    return await MeetingUnit.exists().where(
        (MeetingUnit.meeting_id == meeting_id) & MeetingUnit.unit_id.is_in(sorted(scope) or [NO_UNIT])
    )


async def _meeting_views(rows: list[dict[str, Any]]) -> list[schemas.MeetingView]:
    resolutions = [(row, json_value(row["resolutions"], [])) for row in rows]
    unit_ids = {uuid.UUID(u) for row in rows for u in json_value(row["unit_ids"], [])}
    unit_ids |= {uuid.UUID(r["owner_unit_id"]) for _, rs in resolutions for r in rs}
    names = await _unit_names(unit_ids)
    states = await corrective.task_states([uuid.UUID(r["task_id"]) for _, rs in resolutions for r in rs])
    today = today_local()

    def unit(value: str) -> schemas.UnitRef:
        return schemas.UnitRef(id=uuid.UUID(value), name=names.get(uuid.UUID(value), ""))

    def resolution(r: dict[str, Any]) -> schemas.Resolution:
        status = states.get(uuid.UUID(r["task_id"]), "closed")
        due_on = date.fromisoformat(r["due_on"])
        return schemas.Resolution(
            id=uuid.UUID(r["id"]),
            text=r["text"],
            owner_unit=unit(r["owner_unit_id"]),
            owner_user_id=uuid.UUID(r["owner_user_id"]) if r["owner_user_id"] else None,
            due_on=due_on,
            task_id=uuid.UUID(r["task_id"]),
            task_status=status,  # type: ignore[arg-type]
            overdue=status == "open" and due_on < today,
        )

    return [
        schemas.MeetingView(
            id=row["id"],
            held_on=row["held_on"],
            title=row["title"],
            kind=row["kind"],
            units=[unit(u) for u in json_value(row["unit_ids"], [])],
            attendees=[
                schemas.Attendee(user_id=uuid.UUID(a["user_id"]) if a["user_id"] else None, name=a["name"])
                for a in json_value(row["attendees"], [])
            ],
            issues=list(json_value(row["issues"], [])),
            resolutions=[resolution(r) for r in rs],
            created_by=row["created_by"],
            created_at=row["created_at"],
        )
        for row, rs in resolutions
    ]


async def get_meeting(viewer: CurrentUser, meeting_id: uuid.UUID) -> schemas.MeetingView:
    row = await Meeting.select().where(Meeting.id == meeting_id).first()
    scope = await _scope(viewer)
    if row is None or (scope is not None and not await _reads(scope, meeting_id)):
        raise AppError(Errors.NOT_FOUND, "No such meeting.")
    return (await _meeting_views([row]))[0]


async def list_meetings(viewer: CurrentUser, cursor: str | None, limit: int) -> Page[schemas.MeetingView]:
    query = (
        Meeting.select()
        .order_by(Meeting.created_at, ascending=False)
        .order_by(Meeting.id, ascending=False)
        .limit(limit + 1)
    )
    scope = await _scope(viewer)
    if scope is not None:
        query = query.where(Meeting.id.is_in(await _visible_meetings(scope)))
    after = newest_first_after(Meeting.created_at, Meeting.id, cursor)
    if after is not None:
        query = query.where(after)
    rows = await query
    items = await _meeting_views(rows[:limit])
    next_cursor = time_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)
