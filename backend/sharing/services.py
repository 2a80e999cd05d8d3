"""Share links: evidence (or a whole case file) shown to an outside party — a court, a procuratorate,
a reconsideration body — for a limited time, with every view and download in the custody trail
under the recipient's name (docs/evidence.md).

The link carries its token in the URL fragment (``/#/shared/<token>``), so it reaches no server log.
Opening it (with the access code, when one was set) gives a short session the recipient's page sends
as ``Authorization: Share <session>``; every request checks the share again, so a revocation or the
expiry ends access at once."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from backend.audit import services as audit
from backend.audit.tables import AuditEntry
from backend.cases.services import get_case
from backend.cases.tables import CaseAction
from backend.db import atomic, json_value
from backend.evidence import integrity
from backend.evidence.renditions import font_problem
from backend.evidence.services import KINDS, visible_row
from backend.evidence.tables import Evidence
from backend.lib.auth import CurrentUser
from backend.lib.clock import BEIJING, utcnow
from backend.lib.errors import AppError, Errors
from backend.lib.passwords import hash_password, verify_password
from backend.lib.signing import IntegrityKey
from backend.live.publish import Publisher
from backend.settings import Settings
from backend.sharing import schemas
from backend.sharing.tables import Share, ShareSession
from media_store import MediaStore, MediaStoreUnavailable, ObjectNotFound, images, run_sync

SESSION_HOURS = 4  # an opened link is good for a working session, then is opened again
MAX_CODE_FAILURES = 5  # wrong codes before the link locks (a 6-digit code is otherwise guessable)
PRESIGN_SECONDS = 300
SCHEME = "share"
PREVIEW_SOURCES = ("watermarked", "poster", "preview", "thumbnail")  # the first a record has
VIEWED, DOWNLOADED = "evidence.shared_viewed", "evidence.shared_downloaded"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def state_of(row: dict[str, Any], now: datetime | None = None) -> str:
    if row["revoked_at"] is not None:
        return "revoked"
    if row["failed_codes"] >= MAX_CODE_FAILURES:
        return "locked"
    if row["expires_at"] <= (now or utcnow()):
        return "expired"
    return "active"


_REFUSAL = {"revoked": Errors.SHARE_REVOKED, "locked": Errors.SHARE_LOCKED, "expired": Errors.SHARE_EXPIRED}


async def _fetches(share_id: uuid.UUID, evidence_ids: list[str]) -> list[dict[str, Any]]:
    """The recipient's views and downloads of this share, oldest first (from the custody trail)."""
    if not evidence_ids:
        return []
    rows = (
        await AuditEntry.select(AuditEntry.at, AuditEntry.action, AuditEntry.object_id, AuditEntry.data)
        .where(
            (AuditEntry.object_type == "evidence")
            & AuditEntry.object_id.is_in(evidence_ids)
            & AuditEntry.action.is_in([VIEWED, DOWNLOADED])
        )
        .order_by(AuditEntry.seq)
    )
    out = []
    for r in rows:
        data = json_value(r["data"], {})
        if data.get("share_id") == str(share_id):
            out.append({"at": r["at"], "action": r["action"], "evidence_id": r["object_id"], **data})
    return out


def _view(row: dict[str, Any], fetches: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    ids = json_value(row["evidence_ids"], [])
    out = {
        "id": row["id"],
        "recipient": row["recipient"],
        "organisation": row["organisation"],
        "purpose": row["purpose"],
        "note": row["note"],
        "case_id": row["case_id"],
        "evidence_ids": ids,
        "requires_code": row["code_hash"] is not None,
        "failed_codes": row["failed_codes"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "expires_at": row["expires_at"],
        "revoked_at": row["revoked_at"],
        "revoke_reason": row["revoke_reason"],
        "state": state_of(row),
    }
    if fetches is not None:
        out["views"] = sum(1 for f in fetches if f["action"] == VIEWED)
        out["downloads"] = sum(1 for f in fetches if f["action"] == DOWNLOADED)
        out["log"] = fetches
    return out


async def _case_file(actor: CurrentUser, case_id: uuid.UUID) -> list[uuid.UUID]:
    """The case's own evidence and that of the on-site actions it was opened from."""
    await get_case(actor, case_id)  # 404 outside the viewer's scope
    actions = [
        r["action"] for r in await CaseAction.select(CaseAction.action).where(CaseAction.case == case_id)
    ]
    where: Any = (Evidence.parent_type == "case") & (Evidence.parent_id == case_id)
    if actions:
        where = where | ((Evidence.parent_type == "action") & Evidence.parent_id.is_in(actions))
    rows = await Evidence.select(Evidence.id).where(where).order_by(Evidence.received_at)
    return [r["id"] for r in rows]


async def create(
    actor: CurrentUser, data: schemas.ShareCreate, origin: str, settings: Settings
) -> dict[str, Any]:
    if data.case_id is not None and data.evidence_ids:
        raise AppError(
            Errors.VALIDATION,
            "Share either a case file (case_id) or chosen evidence (evidence_ids), not both.",
            errors=[{"key": "case_id"}],
        )
    if data.case_id is not None:
        ids = await _case_file(actor, data.case_id)
    else:
        ids = list(dict.fromkeys(data.evidence_ids))
        for evidence_id in ids:
            await visible_row(actor, evidence_id)  # 404 outside the viewer's scope
    if not ids:
        raise AppError(Errors.SHARE_EMPTY, "Name the evidence to share, or a case that has evidence.")
    days = data.days or min(max(settings.share_default_days, 1), schemas.MAX_DAYS)
    share_id = uuid.uuid4()
    token = f"{share_id.hex}.{secrets.token_urlsafe(32)}"
    code = f"{secrets.randbelow(10**6):06d}" if data.require_code else None
    expires_at = utcnow() + timedelta(days=days)
    async with atomic():
        await Share.insert(
            Share(
                id=share_id,
                token_hash=_hash(token),
                recipient=data.recipient.strip(),
                organisation=data.organisation.strip(),
                purpose=data.purpose,
                note=data.note,
                case_id=data.case_id,
                evidence_ids=[str(i) for i in ids],
                code_hash=await hash_password(code) if code else None,
                created_by=actor.id,
                expires_at=expires_at,
            )
        ).run()
        await audit.record(
            actor,
            "share.created",
            "share",
            share_id,
            {
                "recipient": data.recipient.strip(),
                "organisation": data.organisation.strip(),
                "purpose": data.purpose,
                "case_id": str(data.case_id) if data.case_id else None,
                "evidence_ids": [str(i) for i in ids],
                "expires_at": expires_at.isoformat(),
                "requires_code": code is not None,
            },
        )
    row = await Share.select().where(Share.id == share_id).first()
    assert row is not None
    # Shown once: only their hashes are kept. The code is meant to travel separately (a phone call).
    return {
        "share": _view(row, []),
        "token": token,
        "link": f"{origin.rstrip('/')}/#/shared/{token}",
        "code": code,
    }


async def list_shares(state: str | None) -> list[dict[str, Any]]:
    rows = await Share.select().order_by(Share.created_at, ascending=False).limit(500)
    views = [_view(r) for r in rows]
    return [v for v in views if state is None or v["state"] == state]


async def _row(share_id: uuid.UUID) -> dict[str, Any]:
    row = await Share.select().where(Share.id == share_id).first()
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such share.")
    return row


async def get_share(share_id: uuid.UUID) -> dict[str, Any]:
    row = await _row(share_id)
    return _view(row, await _fetches(share_id, json_value(row["evidence_ids"], [])))


async def revoke(actor: CurrentUser, share_id: uuid.UUID, reason: str) -> dict[str, Any]:
    async with atomic():
        row = await _row(share_id)
        if row["revoked_at"] is None:
            await (
                Share.update(
                    {
                        Share.revoked_at: utcnow(),
                        Share.revoked_by: actor.id,
                        Share.revoke_reason: reason.strip(),
                    }
                )
                .where(Share.id == share_id)
                .run()
            )
            await ShareSession.delete().where(ShareSession.share_id == share_id).run()
            await audit.record(actor, "share.revoked", "share", share_id, {"reason": reason.strip()})
    return await get_share(share_id)


# -- the recipient ------------------------------------------------------------------------------------


async def _share_for_token(token: str) -> dict[str, Any]:
    share_hex = token.partition(".")[0]
    try:
        share_id = uuid.UUID(hex=share_hex)
    except ValueError:
        raise AppError(Errors.SHARE_INVALID) from None
    row = await Share.select().where(Share.id == share_id).first()
    if row is None or not hmac.compare_digest(row["token_hash"], _hash(token)):
        raise AppError(Errors.SHARE_INVALID)
    return row


def _refuse_unless_active(row: dict[str, Any]) -> None:
    state = state_of(row)
    if state != "active":
        raise AppError(_REFUSAL[state])


async def _count_wrong_code(row: dict[str, Any]) -> int:
    """Record a wrong code (committed before the refusal); the attempts that are left."""
    async with atomic():
        # One statement, so that wrong codes sent at once are all counted.
        counted = await (
            Share.update({Share.failed_codes: Share.failed_codes + 1})
            .where(Share.id == row["id"])
            .returning(Share.failed_codes)
        )
        failed = counted[0]["failed_codes"]
        await audit.record(None, "share.code_failed", "share", row["id"], {"failed": failed})
        if failed == MAX_CODE_FAILURES:
            await ShareSession.delete().where(ShareSession.share_id == row["id"]).run()
            await audit.record(None, "share.locked", "share", row["id"], {"failed": failed})
    return max(MAX_CODE_FAILURES - failed, 0)


async def open_share(data: schemas.ShareOpen) -> dict[str, Any]:
    row = await _share_for_token(data.token)
    _refuse_unless_active(row)
    if row["code_hash"] is not None:
        if not data.code:
            raise AppError(Errors.SHARE_CODE_REQUIRED, "Enter the access code you were given separately.")
        if not await verify_password(row["code_hash"], data.code.strip()):
            left = await _count_wrong_code(row)
            if left == 0:
                raise AppError(Errors.SHARE_LOCKED, "Too many wrong codes: ask the sender for a new link.")
            raise AppError(
                Errors.SHARE_CODE_WRONG, f"The code is wrong; {left} attempt(s) left.", attempts_left=left
            )
    session = secrets.token_urlsafe(32)
    expires_at = min(row["expires_at"], utcnow() + timedelta(hours=SESSION_HOURS))
    async with atomic():
        await ShareSession.insert(
            ShareSession(
                id=uuid.uuid4(), share_id=row["id"], token_hash=_hash(session), expires_at=expires_at
            )
        ).run()
        await audit.record(None, "share.opened", "share", row["id"], {"recipient": row["recipient"]})
    return {"session": session, "expires_at": expires_at, **await recipient_view(row)}


async def share_of_session(authorization: str | None) -> dict[str, Any]:
    """The share behind ``Authorization: Share <session>``, checked again on every request."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != SCHEME or not token.strip():
        raise AppError(Errors.SHARE_SESSION, "Open the share link: send 'Authorization: Share <session>'.")
    session = await ShareSession.select().where(ShareSession.token_hash == _hash(token.strip())).first()
    if session is None or session["expires_at"] <= utcnow():
        raise AppError(Errors.SHARE_SESSION)
    row = await _row(session["share_id"])
    _refuse_unless_active(row)
    return row


def _item(row: dict[str, Any]) -> dict[str, Any]:
    renditions = json_value(row["renditions"], {})
    kind = KINDS.get(row["content_type"], "document")
    return {
        "id": row["id"],
        "kind": kind,
        "content_type": row["content_type"],
        "size": row["size"],
        "sha256": row["sha256"],
        "filename": row["filename"],
        "captured_at": row["captured_at"],
        "received_at": row["received_at"],
        "preview": kind == "photo" or "thumbnail" in renditions,
    }


async def recipient_view(row: dict[str, Any]) -> dict[str, Any]:
    """What the recipient sees: who it is for, until when, and the evidence still kept."""
    ids = json_value(row["evidence_ids"], [])
    rows = await Evidence.select().where(Evidence.id.is_in(ids)).order_by(Evidence.received_at) if ids else []
    return {
        "share": {
            "recipient": row["recipient"],
            "organisation": row["organisation"],
            "purpose": row["purpose"],
            "note": row["note"],
            "expires_at": row["expires_at"],
        },
        "items": [_item(r) for r in rows],
    }


async def _evidence_in(share: dict[str, Any], evidence_id: uuid.UUID) -> dict[str, Any]:
    row = None
    if str(evidence_id) in json_value(share["evidence_ids"], []):
        row = await Evidence.select().where(Evidence.id == evidence_id).first()
    if row is None:
        raise AppError(Errors.NOT_FOUND, "This share holds no such evidence.")
    return row


async def _record(share: dict[str, Any], action: str, evidence_id: uuid.UUID, **data: Any) -> None:
    async with atomic():
        await audit.record(
            None,
            action,
            "evidence",
            evidence_id,
            {
                "share_id": str(share["id"]),
                "recipient": share["recipient"],
                "organisation": share["organisation"],
                **data,
            },
        )


def _marked(source: Path, lines: list[str], font: str) -> bytes:
    return images.mark_shared(source, lines, font)


async def _download_to(store: MediaStore, key: str, directory: Path) -> Path:
    await run_sync(lambda: directory.mkdir(parents=True, exist_ok=True))
    fd, name = await run_sync(tempfile.mkstemp, "", "share-", str(directory))
    try:
        with os.fdopen(fd, "wb") as fh:
            async for chunk in store.open_range(key):
                await run_sync(fh.write, chunk)
    except BaseException:
        await run_sync(Path(name).unlink, True)
        raise
    return Path(name)


async def preview(
    share: dict[str, Any],
    evidence_id: uuid.UUID,
    store: MediaStore,
    key: IntegrityKey,
    events: Publisher,
    settings: Settings,
) -> bytes:
    """A JPEG for the recipient's screen, stamped with their name and the time they viewed it: a
    photo from its watermarked copy (the field stamp included), a video from its poster frame, a PDF
    from its first page, anything else from its thumbnail."""
    row = await _evidence_in(share, evidence_id)
    renditions = json_value(row["renditions"], {})
    which = next((w for w in PREVIEW_SOURCES if w in renditions), None)
    if which is None and KINDS.get(row["content_type"]) == "photo":
        which = "content"
    target = integrity.target(row, which) if which else None
    if target is None:
        raise AppError(Errors.NOT_FOUND, "This evidence has no picture to show; download it instead.")
    problem = font_problem(settings)
    if problem is not None:
        raise AppError(Errors.UNAVAILABLE, "Shared photos are stamped with the recipient's name; " + problem)
    await integrity.check(row, target, store, key, events)
    viewed = utcnow()
    lines = [
        f"仅供 {share['organisation']} {share['recipient']} 查阅",
        f"查看时间 {viewed.astimezone(BEIJING):%Y-%m-%d %H:%M:%S} 北京时间",
        f"分享编号 {share['id'].hex[:8]}  不得转发或用于其他用途",
    ]
    try:
        path = await _download_to(store, target.key, settings.data_dir / "tmp")
    except ObjectNotFound:
        raise await integrity.missing(events, row, target) from None
    except MediaStoreUnavailable as exc:
        raise integrity.unavailable(exc) from None
    try:
        font = images.find_cjk_font(settings.cjk_font)
        body = await run_sync(_marked, path, lines, font)
    except images.ImageRejected as exc:
        raise AppError(Errors.EVIDENCE_IMAGE_REJECTED, f"The picture cannot be shown: {exc}") from None
    finally:
        await run_sync(path.unlink, True)
    await _record(share, VIEWED, evidence_id, rendition=which, viewed_at=viewed.isoformat())
    return body


async def download_link(
    share: dict[str, Any],
    evidence_id: uuid.UUID,
    store: MediaStore,
    key: IntegrityKey,
    events: Publisher,
    settings: Settings,
) -> dict[str, Any]:
    """A presigned URL to the original at the store's public address, or ``url: None`` when the API
    streams it (no public address configured, or a store that cannot presign)."""
    row = await _evidence_in(share, evidence_id)
    target = integrity.target(row, "content")
    assert target is not None
    if not settings.s3_public_url:
        return {"url": None, "expires_in": None}
    await integrity.check(row, target, store, key, events)
    try:
        url = await store.presign_get(
            target.key, PRESIGN_SECONDS, filename=row["filename"], content_type=row["content_type"]
        )
    except MediaStoreUnavailable as exc:
        raise integrity.unavailable(exc) from None
    if url is None:
        return {"url": None, "expires_in": None}
    await _record(share, DOWNLOADED, evidence_id, via="presigned")
    return {"url": url, "expires_in": PRESIGN_SECONDS}


async def open_original(
    share: dict[str, Any],
    evidence_id: uuid.UUID,
    store: MediaStore,
    key: IntegrityKey,
    events: Publisher,
) -> tuple[dict[str, Any], int, AsyncIterator[bytes]]:
    """The original, checked genuine and its first chunk read before any header goes out; only then
    is the download custody."""
    row = await _evidence_in(share, evidence_id)
    target = integrity.target(row, "content")
    assert target is not None
    size = await integrity.check(row, target, store, key, events)
    chunks = store.open_range(target.key)
    try:
        first = await anext(chunks, b"")
    except ObjectNotFound:
        raise await integrity.missing(events, row, target) from None
    except MediaStoreUnavailable as exc:
        raise integrity.unavailable(exc) from None
    try:
        await _record(share, DOWNLOADED, evidence_id, via="stream")
    except BaseException:
        await _close(chunks)
        raise
    return row, size, _rest(first, chunks)


async def _close(chunks: AsyncIterator[bytes]) -> None:
    if isinstance(chunks, AsyncGenerator):
        await chunks.aclose()


async def _rest(first: bytes, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        if first:
            yield first
        async for chunk in chunks:
            yield chunk
    finally:
        await _close(chunks)
