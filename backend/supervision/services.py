"""Invited supervisors (特邀行政执法监督员) and conduct spot-checks (抽查)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import msgspec
import segno

from backend.accounts import schemas as account_schemas
from backend.accounts import services as accounts
from backend.accounts.certificates import require_valid_certificate
from backend.accounts.tables import Membership, User
from backend.alerts.services import announce, raise_alert, record_alert
from backend.audit import services as audit
from backend.db import atomic, json_value
from backend.evidence import services as evidence
from backend.evidence.parents import Parent
from backend.evidence.uploads import UploadRequest
from backend.lib.auth import CurrentUser, TokenService
from backend.lib.clock import utcnow
from backend.lib.errors import AppError, Errors
from backend.live.publish import Publisher
from backend.live.tables import LatestPosition
from backend.org.services import require_units
from backend.org.tables import Unit
from backend.settings import Settings
from backend.supervision import schemas
from backend.supervision.tables import DEFAULT_CHECKLIST, ChecklistTemplate, Invitation, SpotCheck
from media_store import MediaStore

ON_DUTY = timedelta(minutes=15)
_random = secrets.SystemRandom()

# A failed conduct check becomes a corrective action owned by a higher domain: it registers here at
# start-up (see docs/architecture.md, "How a lower domain serves a higher one").
ReviewFailed = Callable[[CurrentUser, dict[str, Any], list[str], Publisher], Awaitable[None]]
_on_review_failed: list[ReviewFailed] = []


def on_review_failed(hook: ReviewFailed) -> None:
    if hook not in _on_review_failed:
        _on_review_failed.append(hook)


# …and a failure overturned on appeal withdraws it.
AppealOverturned = Callable[[CurrentUser, uuid.UUID, Publisher], Awaitable[None]]
_on_appeal_overturned: list[AppealOverturned] = []


def on_appeal_overturned(hook: AppealOverturned) -> None:
    if hook not in _on_appeal_overturned:
        _on_appeal_overturned.append(hook)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- invitations --------------------------------------------------------------------------------


def _invitation(row: dict[str, Any]) -> schemas.Invitation:
    now = utcnow()
    status = (
        "revoked"
        if row["revoked_at"]
        else "accepted"
        if row["accepted_at"]
        else "expired"
        if row["expires_at"] <= now
        else "pending"
    )
    return schemas.Invitation(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        unit_ids=[uuid.UUID(u) for u in row["unit_ids"].split()],
        expires_at=row["expires_at"],
        created_at=row["created_at"],
        status=status,
        user_id=row["user_id"],
    )


async def create_invitation(
    actor: CurrentUser, data: schemas.InvitationCreate, origin: str
) -> schemas.InvitationLink:
    if data.expires_at <= utcnow():
        raise AppError(Errors.VALIDATION, "expires_at must be in the future.", errors=[{"key": "expires_at"}])
    if data.appointed_from is not None and data.appointed_from >= data.expires_at:
        raise AppError(
            Errors.VALIDATION,
            "The appointment must start before it ends (expires_at).",
            errors=[{"key": "appointed_from"}],
        )
    await require_units(data.unit_ids)
    invitation_id = uuid.uuid4()
    token = f"{invitation_id.hex}.{secrets.token_urlsafe(32)}"
    async with atomic():
        await Invitation.insert(
            Invitation(
                id=invitation_id,
                name=data.name,
                phone=data.phone,
                unit_ids=" ".join(str(u) for u in data.unit_ids),
                expires_at=data.expires_at,
                token_hash=_hash(token),
                created_by=actor.id,
                category=data.category,
                appointed_from=data.appointed_from,
            )
        ).run()
        await audit.record(
            actor,
            "invitation.created",
            "invitation",
            invitation_id,
            {
                "name": data.name,
                "unit_ids": [str(u) for u in data.unit_ids],
                "expires_at": data.expires_at.isoformat(),
                "category": data.category,
                "appointed_from": data.appointed_from.isoformat() if data.appointed_from else None,
            },
        )
    # The token travels in the fragment: browsers never send it to a server or put it in a log.
    link = f"{origin.rstrip('/')}/#/invite/{token}"
    qr = segno.make(link, error="m").svg_inline(scale=4, dark="#0b3d91")
    row = await Invitation.select().where(Invitation.id == invitation_id).first()
    return schemas.InvitationLink(invitation=_invitation(row), token=token, link=link, qr_svg=qr)  # type: ignore[arg-type]


async def list_invitations() -> list[schemas.Invitation]:
    return [
        _invitation(r) for r in await Invitation.select().order_by(Invitation.created_at, ascending=False)
    ]


async def _usable_invitation(token: str) -> dict[str, Any]:
    """The invitation the token opens, if it can still be accepted; else the refusal saying why."""
    prefix = token.split(".", 1)[0]
    try:
        invitation_id = uuid.UUID(hex=prefix)
    except ValueError:
        raise AppError(Errors.INVITATION_INVALID, "This invitation link is not valid.") from None
    row = await Invitation.select().where(Invitation.id == invitation_id).first()
    if row is None or not hmac.compare_digest(row["token_hash"], _hash(token)):
        raise AppError(Errors.INVITATION_INVALID, "This invitation link is not valid.")
    if row["revoked_at"]:
        raise AppError(Errors.INVITATION_REVOKED, "This invitation was revoked.")
    if row["accepted_at"]:
        raise AppError(Errors.INVITATION_USED, "This invitation link was already used.")
    if row["expires_at"] <= utcnow():
        raise AppError(Errors.INVITATION_EXPIRED, "This invitation link has expired.")
    return row


async def check_invitation(data: schemas.InvitationCheck) -> schemas.InvitationPreview:
    """Whether a link still works, before its holder fills in anything; changes nothing."""
    row = await _usable_invitation(data.token)
    return schemas.InvitationPreview(name=row["name"], expires_at=row["expires_at"])


async def accept_invitation(
    data: schemas.InvitationAccept, settings: Settings, tokens: TokenService
) -> schemas.Accepted:
    row = await _usable_invitation(data.token)
    invitation_id = row["id"]
    username = data.username or f"tyjd{secrets.randbelow(10**6):06d}"
    user = await accounts.create_user(
        None,
        account_schemas.UserCreate(
            username=username,
            password=data.password,
            display_name=row["name"],
            roles=["invited_supervisor"],
            unit_ids=[uuid.UUID(u) for u in row["unit_ids"].split()],
            phone=row["phone"],
        ),
    )
    async with atomic():
        claimed = (
            await Invitation.update({Invitation.accepted_at: utcnow(), Invitation.user_id: user.id})
            .where(
                (Invitation.id == invitation_id)
                & Invitation.accepted_at.is_null()
                & Invitation.revoked_at.is_null()
            )
            .returning(Invitation.id)
        )
        if not claimed:  # a concurrent acceptance won: this account must not live
            await User.update({User.active: False}).where(User.id == user.id).run()
            raise AppError(Errors.INVITATION_USED, "This invitation link was already used.")
        await User.update({User.access_expires_at: row["expires_at"]}).where(User.id == user.id).run()
        await audit.record(
            None, "invitation.accepted", "invitation", invitation_id, {"user_id": str(user.id)}
        )
    return schemas.Accepted(username=username, session=await accounts.open_session(user.id, settings, tokens))


async def revoke_invitation(
    actor: CurrentUser, invitation_id: uuid.UUID, events: Publisher
) -> schemas.Invitation:
    row = await Invitation.select().where(Invitation.id == invitation_id).first()
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such invitation.")
    async with atomic():
        await Invitation.update({Invitation.revoked_at: utcnow()}).where(Invitation.id == invitation_id).run()
        if row["user_id"]:
            # Access ends now as well, so re-enabling the account later does not bring it back.
            now = utcnow()
            await User.update({User.active: False}).where(User.id == row["user_id"]).run()
            await (
                User.update({User.access_expires_at: now})
                .where(
                    (User.id == row["user_id"])
                    & (User.access_expires_at.is_null() | (User.access_expires_at > now))
                )
                .run()
            )
            await accounts.revoke_all_sessions(row["user_id"], "invitation_revoked", actor)
        await audit.record(
            actor, "invitation.revoked", "invitation", invitation_id, {"user_id": str(row["user_id"])}
        )
    if row["user_id"]:
        # Every API process closes this person's open live connections now, not at the next heartbeat.
        await events.notify("session.revoked", row["user_id"])
    return _invitation(await Invitation.select().where(Invitation.id == invitation_id).first())  # type: ignore[arg-type]


# --- checklist ----------------------------------------------------------------------------------


async def checklist() -> list[dict[str, str]]:
    row = await ChecklistTemplate.select().where(ChecklistTemplate.id == "default").first()
    return json_value(row["items"]) if row else list(DEFAULT_CHECKLIST)


async def set_checklist(actor: CurrentUser, data: schemas.Checklist) -> list[dict[str, str]]:
    items = [msgspec.to_builtins(i) for i in data.items]
    if len({i["key"] for i in items}) != len(items):
        raise AppError(Errors.VALIDATION, "Checklist keys must be unique.", errors=[{"key": "items"}])
    async with atomic():
        if await ChecklistTemplate.exists().where(ChecklistTemplate.id == "default"):
            await (
                ChecklistTemplate.update(
                    {
                        ChecklistTemplate.items: items,
                        ChecklistTemplate.updated_by: actor.id,
                        ChecklistTemplate.updated_at: utcnow(),
                    }
                )
                .where(ChecklistTemplate.id == "default")
                .run()
            )
        else:
            await ChecklistTemplate.insert(
                ChecklistTemplate(id="default", items=items, updated_by=actor.id)
            ).run()
        await audit.record(actor, "checklist.updated", "checklist", "default", {"items": items})
    return items


# --- spot-checks --------------------------------------------------------------------------------


def _scope_units(actor: CurrentUser) -> set[uuid.UUID] | None:
    """None: every unit (supervisors); invited supervisors: the units they were invited for."""
    return None if actor.has_any("supervisor", "admin") else set(actor.unit_ids)


def _may_view(actor: CurrentUser, row: dict[str, Any]) -> bool:
    return (
        actor.has_any("supervisor", "admin", "command")
        or row["requested_by"] == actor.id
        or row["officer_id"] == actor.id
    )


def _allowed(actor: CurrentUser, row: dict[str, Any]) -> list[str]:
    steps = []
    if row["officer_id"] == actor.id and row["status"] == "requested":
        steps.append("submit")
    if row["status"] == "submitted" and (row["requested_by"] == actor.id or actor.has_any("supervisor")):
        steps.append("review")
    appeal = json_value(row["appeal"])
    if row["officer_id"] == actor.id and row["status"] == "failed" and not appeal:
        steps.append("appeal")
    if actor.has_any("supervisor") and appeal and appeal.get("decision") is None:
        steps.append("decide_appeal")
    return steps


async def _view(actor: CurrentUser, row: dict[str, Any]) -> schemas.SpotCheck:
    officer = await User.select(User.display_name).where(User.id == row["officer_id"]).first()
    return schemas.SpotCheck(
        id=row["id"],
        officer_id=row["officer_id"],
        officer_name=officer["display_name"] if officer else "",
        unit_id=row["unit_id"],
        requested_by=row["requested_by"],
        requested_at=row["requested_at"],
        due_at=row["due_at"],
        random_pick=row["random_pick"],
        checklist=json_value(row["checklist"]) or [],
        status=row["status"],
        evidence_id=row["evidence_id"],
        submitted_at=row["submitted_at"],
        results=json_value(row["results"]),
        score=row["score"],
        comment=row["comment"],
        reviewed_at=row["reviewed_at"],
        appeal=json_value(row["appeal"]),
        allowed=_allowed(actor, row),
    )


async def visible_check(actor: CurrentUser, check_id: uuid.UUID) -> dict[str, Any]:
    """The check, or not_found when it is not the actor's to see."""
    row = await SpotCheck.select().where(SpotCheck.id == check_id).first()
    if row is None or not _may_view(actor, row):
        raise AppError(Errors.NOT_FOUND, "No such spot-check.")
    return row


async def _pick_officer(actor: CurrentUser, data: schemas.SpotCheckCreate) -> tuple[uuid.UUID, uuid.UUID]:
    """(officer, unit) for the check. A random pick is among officers seen on duty in scope (双随机)."""
    scope = _scope_units(actor)
    if data.unit_id is not None and scope is not None and data.unit_id not in scope:
        raise AppError(Errors.NOT_FOUND, "No such unit in your scope.")
    wanted = {data.unit_id} if data.unit_id else scope
    if data.random or data.officer_id is None:
        rows = await LatestPosition.select(LatestPosition.user_id, LatestPosition.unit_ids).where(
            LatestPosition.received_at >= utcnow() - ON_DUTY
        )
        candidates = []
        for r in rows:
            units = {uuid.UUID(u) for u in r["unit_ids"].split()}
            usable = units if wanted is None else units & wanted
            if usable and r["user_id"] != actor.id:
                candidates.append((r["user_id"], sorted(usable)[0]))
        if not candidates:
            raise AppError(Errors.SPOT_CHECK_NO_OFFICER, "No officer in your scope is on duty now.")
        return _random.choice(candidates)
    officer = await User.select(User.id, User.roles).where(User.id == data.officer_id).first()
    units = {
        m["unit"] for m in await Membership.select(Membership.unit).where(Membership.user == data.officer_id)
    }
    usable = units if wanted is None else units & wanted
    if officer is None or " officer " not in officer["roles"] or not usable:
        raise AppError(Errors.NOT_FOUND, "No such officer in your scope.")
    return data.officer_id, sorted(usable)[0]


async def request_check(
    actor: CurrentUser, data: schemas.SpotCheckCreate, events: Publisher
) -> schemas.SpotCheck:
    officer_id, unit_id = await _pick_officer(actor, data)
    items = [msgspec.to_builtins(i) for i in data.checklist] if data.checklist else await checklist()
    check_id = uuid.uuid4()
    now = utcnow()
    async with atomic():
        await SpotCheck.insert(
            SpotCheck(
                id=check_id,
                officer_id=officer_id,
                unit_id=unit_id,
                requested_by=actor.id,
                requested_at=now,
                due_at=now + timedelta(minutes=data.due_in_minutes),
                random_pick=data.random or data.officer_id is None,
                checklist=items,
            )
        ).run()
        await audit.record(
            actor,
            "spot_check.requested",
            "spot_check",
            check_id,
            {"officer_id": str(officer_id), "due_in_minutes": data.due_in_minutes},
        )
    view = await _view(actor, await SpotCheck.select().where(SpotCheck.id == check_id).first())  # type: ignore[arg-type]
    await events.publish("spot_check.requested", unit_id, msgspec.to_builtins(view), to=officer_id)
    return view


async def get_check(actor: CurrentUser, check_id: uuid.UUID) -> schemas.SpotCheck:
    return await _view(actor, await visible_check(actor, check_id))


async def list_checks(actor: CurrentUser, status: str | None) -> list[schemas.SpotCheck]:
    query = SpotCheck.select().order_by(SpotCheck.requested_at, ascending=False).limit(200)
    if not actor.has_any("supervisor", "admin", "command"):
        if actor.has_any("invited_supervisor"):
            query = query.where(SpotCheck.requested_by == actor.id)
        elif actor.has_any("officer"):
            query = query.where(SpotCheck.officer_id == actor.id)
        else:
            raise AppError(Errors.FORBIDDEN, "Your role has no spot-checks.")
    if status:
        query = query.where(SpotCheck.status == status)
    return [await _view(actor, r) for r in await query]


async def answer_parent(actor: CurrentUser, check_id: uuid.UUID) -> dict[str, Any]:
    """The check an answer is attached to: only its officer, only before the deadline."""
    row = await SpotCheck.select().where(SpotCheck.id == check_id).first()
    if row is None or row["officer_id"] != actor.id:
        raise AppError(Errors.NOT_FOUND, "No such spot-check.")
    await require_valid_certificate(actor.id, name=actor.display_name)
    if row["status"] == "overdue" or (row["status"] == "requested" and utcnow() > row["due_at"]):
        raise AppError(Errors.SPOT_CHECK_LATE, f"The deadline passed at {row['due_at'].isoformat()}.")
    if row["status"] != "requested":
        raise AppError(Errors.SPOT_CHECK_STATE, "This spot-check was already answered.")
    return row


async def evidence_parent(actor: CurrentUser, check_id: uuid.UUID, *, write: bool) -> Parent:
    """The check as the parent of its answer (``write``) or of evidence someone views."""
    check = await (answer_parent(actor, check_id) if write else visible_check(actor, check_id))
    unit = await Unit.select(Unit.name).where(Unit.id == check["unit_id"]).first()
    return Parent(
        "spot_check",
        check["id"],
        check["unit_id"],
        unit["name"] if unit else "",
        occurred_at=check["requested_at"],
        not_before=check["requested_at"],
    )


async def submit_answer(
    actor: CurrentUser,
    check_id: uuid.UUID,
    upload: UploadRequest,
    store: MediaStore,
    settings: Settings,
    events: Publisher,
) -> schemas.SpotCheck:
    """The officer's answer: a photo or clip taken after the request, stored as evidence of the check."""
    parent = await evidence_parent(actor, check_id, write=True)
    stored, _ = await evidence.attach(actor, parent, upload, store, settings, events)
    return await record_answer(actor, check_id, stored.id, events)


async def record_answer(
    actor: CurrentUser, check_id: uuid.UUID, evidence_id: uuid.UUID, events: Publisher
) -> schemas.SpotCheck:
    async with atomic():
        done = (
            await SpotCheck.update(
                {
                    SpotCheck.status: "submitted",
                    SpotCheck.evidence_id: evidence_id,
                    SpotCheck.submitted_at: utcnow(),
                }
            )
            .where((SpotCheck.id == check_id) & (SpotCheck.status == "requested"))
            .returning(SpotCheck.id)
        )
        if not done:
            raise AppError(Errors.SPOT_CHECK_STATE, "This spot-check is no longer waiting for an answer.")
        await audit.record(
            actor, "spot_check.submitted", "spot_check", check_id, {"evidence_id": str(evidence_id)}
        )
    row = await SpotCheck.select().where(SpotCheck.id == check_id).first()
    view = await _view(actor, row)  # type: ignore[arg-type]
    await events.publish(
        "spot_check.submitted", view.unit_id, msgspec.to_builtins(view), to=view.requested_by
    )
    return view


async def review(
    actor: CurrentUser, check_id: uuid.UUID, data: schemas.Review, events: Publisher
) -> schemas.SpotCheck:
    row = await visible_check(actor, check_id)
    if "review" not in _allowed(actor, row):
        raise AppError(Errors.SPOT_CHECK_STATE, "This spot-check cannot be reviewed by you now.")
    keys = {i["key"] for i in json_value(row["checklist"]) or []}
    if set(data.results) != keys:
        raise AppError(
            Errors.VALIDATION,
            "Score every checklist item, and only those.",
            errors=[{"key": "results", "message": f"expected {sorted(keys)}"}],
        )
    outcome = "passed" if all(data.results.values()) else "failed"
    async with atomic():
        await (
            SpotCheck.update(
                {
                    SpotCheck.status: outcome,
                    SpotCheck.results: dict(data.results),
                    SpotCheck.score: data.score,
                    SpotCheck.comment: data.comment,
                    SpotCheck.reviewed_by: actor.id,
                    SpotCheck.reviewed_at: utcnow(),
                }
            )
            .where((SpotCheck.id == check_id) & (SpotCheck.status == "submitted"))
            .run()
        )
        await audit.record(
            actor, "spot_check.reviewed", "spot_check", check_id, {"outcome": outcome, "score": data.score}
        )
    if outcome == "failed":
        failed = [k for k, ok in data.results.items() if not ok]
        await raise_alert(
            events,
            "spot_check.failed",
            f"Conduct check failed: {', '.join(failed)}",
            severity="medium",
            unit_id=row["unit_id"],
            subject_user_id=row["officer_id"],
            object_type="spot_check",
            object_id=check_id,
            data={"failed": failed, "score": data.score},
        )
        reviewed = await SpotCheck.select().where(SpotCheck.id == check_id).first()
        for hook in _on_review_failed:
            try:
                await hook(actor, reviewed, failed, events)  # type: ignore[arg-type]
            except Exception:  # the review stands; the task can still be opened by hand
                logging.getLogger(__name__).exception("follow-up of a failed spot-check failed")
    view = await _view(actor, await SpotCheck.select().where(SpotCheck.id == check_id).first())  # type: ignore[arg-type]
    await events.publish("spot_check.reviewed", view.unit_id, msgspec.to_builtins(view), to=view.officer_id)
    return view


async def appeal(actor: CurrentUser, check_id: uuid.UUID, data: schemas.Appeal) -> schemas.SpotCheck:
    row = await visible_check(actor, check_id)
    if "appeal" not in _allowed(actor, row):
        raise AppError(Errors.SPOT_CHECK_STATE, "Only a failed check can be appealed, once, by its officer.")
    record = {"comment": data.comment, "at": utcnow().isoformat(), "decision": None}
    async with atomic():
        await SpotCheck.update({SpotCheck.appeal: record}).where(SpotCheck.id == check_id).run()
        await audit.record(actor, "spot_check.appealed", "spot_check", check_id, {"comment": data.comment})
    return await get_check(actor, check_id)


async def decide_appeal(
    actor: CurrentUser, check_id: uuid.UUID, data: schemas.AppealDecision, events: Publisher
) -> schemas.SpotCheck:
    row = await visible_check(actor, check_id)
    if "decide_appeal" not in _allowed(actor, row):
        raise AppError(Errors.SPOT_CHECK_STATE, "There is no pending appeal to decide.")
    record = {
        **json_value(row["appeal"]),
        "decision": "upheld" if data.upheld else "overturned",
        "decided_by": str(actor.id),
        "decided_at": utcnow().isoformat(),
        "decision_comment": data.comment,
    }
    changes: dict[Any, Any] = {SpotCheck.appeal: record}
    if not data.upheld:
        changes[SpotCheck.status] = "passed"
    async with atomic():
        await SpotCheck.update(changes).where(SpotCheck.id == check_id).run()
        await audit.record(
            actor, "spot_check.appeal_decided", "spot_check", check_id, {"upheld": data.upheld}
        )
    if not data.upheld:
        for hook in _on_appeal_overturned:
            try:
                await hook(actor, check_id, events)
            except Exception:  # the decision stands; the follow-up can be closed by hand
                logging.getLogger(__name__).exception("follow-up of an overturned spot-check failed")
    view = await get_check(actor, check_id)
    await events.publish("spot_check.reviewed", view.unit_id, msgspec.to_builtins(view), to=view.officer_id)
    return view


async def mark_overdue(events: Publisher) -> int:
    """Deadline scheduler step: state-based, so it works after a restart, and the compare-and-set
    means exactly one process raises each alert."""
    due = await SpotCheck.select(
        SpotCheck.id, SpotCheck.unit_id, SpotCheck.officer_id, SpotCheck.due_at
    ).where((SpotCheck.status == "requested") & (SpotCheck.due_at < utcnow()))
    marked = 0
    for row in due:
        # The status change and its alert commit together: a crash or shutdown between the two can
        # neither lose the alert nor raise it twice.
        async with atomic():
            won = (
                await SpotCheck.update({SpotCheck.status: "overdue"})
                .where((SpotCheck.id == row["id"]) & (SpotCheck.status == "requested"))
                .returning(SpotCheck.id)
            )
            alert = (
                await record_alert(
                    "spot_check.overdue",
                    "A spot-check went unanswered past its deadline",
                    severity="medium",
                    unit_id=row["unit_id"],
                    subject_user_id=row["officer_id"],
                    object_type="spot_check",
                    object_id=row["id"],
                    data={"due_at": row["due_at"].isoformat()},
                )
                if won
                else None
            )
        if alert is None:
            continue
        marked += 1
        await announce(events, alert)
    return marked
