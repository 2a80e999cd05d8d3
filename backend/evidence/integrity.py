"""Stored bytes are never served as genuine unless they are.

Before an original or a rendition is sent, its object is stat'ed (this also finds a missing object
or a store that is down before any header goes out). Re-hashing gigabytes on every read would be
too slow, so the stat's fingerprint is kept, sealed with a MAC under the server's integrity key,
each time the bytes were last hashed and found genuine: while the object's fingerprint still matches
its sealed one, nothing can have rewritten it; when it differs (or nothing was sealed yet) the
object is re-hashed before anything is served. Whoever can write the database but lacks the key
cannot seal a fingerprint for altered bytes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from backend.alerts.services import raise_alert
from backend.alerts.tables import Alert
from backend.audit import services as audit
from backend.audit.tables import AuditEntry
from backend.db import atomic, json_value
from backend.evidence.tables import Evidence
from backend.lib.errors import AppError, Errors
from backend.lib.signing import IntegrityKey
from backend.live.publish import Publisher
from media_store import Fingerprint, MediaStore, MediaStoreUnavailable, ObjectNotFound, sha256_of_key

RETRY_AFTER_S = 10


@dataclass(frozen=True)
class Target:
    """One stored object of a piece of evidence, as its row records it."""

    which: str  # content | thumbnail | watermarked | poster | preview
    key: str
    content_type: str
    sha256: str
    size: int | None  # None: a rendition recorded before renditions carried their size
    seal: str | None


def rendition_record(value: Any) -> dict[str, Any]:
    """A rendition as recorded: ``{key, sha256, size, seal}``; older rows kept only the key, whose
    content address is its SHA-256."""
    if isinstance(value, str):
        return {"key": value, "sha256": sha256_of_key(value), "size": None, "seal": None}
    return dict(value)


def target(row: dict[str, Any], which: str) -> Target | None:
    if which == "content":
        return Target(
            "content", row["object_key"], row["content_type"], row["sha256"], row["size"], row["seal"]
        )
    renditions = json_value(row["renditions"], {})
    if which not in renditions:
        return None
    r = rendition_record(renditions[which])
    return Target(which, r["key"], "image/jpeg", r["sha256"], r.get("size"), r.get("seal"))


def seal_message(evidence_id: uuid.UUID, t: Target, fp: Fingerprint) -> str:
    return f"fieldwatch-seal/1|{evidence_id}|{t.which}|{t.key}|{t.sha256}|{fp.size}|{fp.token}"


def unavailable(exc: MediaStoreUnavailable) -> AppError:
    return AppError(
        Errors.UNAVAILABLE, f"The evidence store is unavailable ({exc}); try again shortly."
    ).with_headers(**{"Retry-After": str(RETRY_AFTER_S)})


async def report_mismatch(
    events: Publisher, row: dict[str, Any], which: str, expected: str, actual: str
) -> None:
    """The "evidence hash mismatch" alert and its audit entry, for an altered or missing object."""
    data = {"rendition": which, "expected": expected, "actual": actual}
    async with atomic():
        await audit.record(None, "evidence.hash_mismatch", "evidence", row["id"], data)
    # Every refused read is in the audit log; the command center gets one alert until it is handled.
    if await Alert.exists().where(
        (Alert.type == "evidence.hash_mismatch")
        & (Alert.object_id == str(row["id"]))
        & (Alert.status == "open")
    ):
        return
    what = "Stored evidence" if which == "content" else f"The {which} of evidence"
    await raise_alert(
        events,
        "evidence.hash_mismatch",
        f"{what} {row['id']} no longer matches its SHA-256",
        severity="high",
        unit_id=row["unit_id"],
        object_type="evidence",
        object_id=row["id"],
        data=data,
    )


async def missing(events: Publisher, row: dict[str, Any], t: Target) -> AppError:
    await report_mismatch(events, row, t.which, t.sha256, "missing")
    return AppError(
        Errors.EVIDENCE_OBJECT_MISSING,
        f"The stored object of this evidence's {t.which} is missing; an alert was raised.",
    )


async def check(
    row: dict[str, Any], t: Target, store: MediaStore, key: IntegrityKey, events: Publisher
) -> int:
    """The object's size when its bytes are genuine; otherwise a refusal (and an alert)."""
    try:
        fp = await store.fingerprint(t.key)
        message = seal_message(row["id"], t, fp)
        if (t.size is None or fp.size == t.size) and key.mac_ok(message, t.seal):
            return fp.size
        actual = await store.rehash(t.key)
    except ObjectNotFound:
        raise await missing(events, row, t) from None
    except MediaStoreUnavailable as exc:
        raise unavailable(exc) from None
    if actual != t.sha256 or (t.size is not None and fp.size != t.size):
        await report_mismatch(events, row, t.which, t.sha256, actual)
        raise AppError(
            Errors.EVIDENCE_INTEGRITY,
            f"The stored bytes of this evidence's {t.which} do not hash to its recorded SHA-256 "
            "and are not served; an alert was raised.",
            expected=t.sha256,
        )
    # Genuine bytes, but are they this evidence's? A row re-pointed to another object is unsealed
    # too: before sealing, the row must still say what its upload entry recorded.
    recorded = recorded_target(await upload_entry(row["id"]), t.which)
    if recorded is not None and recorded != (t.key, t.sha256, t.size if t.size is not None else recorded[2]):
        await report_mismatch(events, row, t.which, recorded[1], f"row re-pointed to {t.sha256}")
        raise AppError(
            Errors.EVIDENCE_INTEGRITY,
            f"This evidence's {t.which} no longer points at the object its upload recorded and is "
            "not served; an alert was raised.",
            expected=recorded[1],
        )
    await save_seal(row["id"], t.which, key.mac(message))
    return fp.size


async def upload_entry(evidence_id: uuid.UUID) -> dict[str, Any] | None:
    """What the audit log recorded at the upload (``evidence.uploaded``)."""
    entry = (
        await AuditEntry.select(AuditEntry.data)
        .where(
            (AuditEntry.object_id == str(evidence_id))
            & (AuditEntry.action == "evidence.uploaded")
            & (AuditEntry.object_type == "evidence")
        )
        .first()
    )
    return json_value(entry["data"], {}) if entry else None


def recorded_target(recorded: dict[str, Any] | None, which: str) -> tuple[str, str, int] | None:
    """(key, sha256, size) of ``which`` as the upload entry recorded it; None for entries written
    before uploads recorded object keys."""
    if recorded is None or "object_key" not in recorded:
        return None
    if which == "content":
        return recorded["object_key"], recorded["sha256"], recorded["size"]
    r = recorded.get("renditions", {}).get(which)
    return (r["key"], r["sha256"], r["size"]) if r else None


async def seal_verified(row: dict[str, Any], t: Target, store: MediaStore, key: IntegrityKey) -> None:
    """After a full re-hash found ``t`` genuine: remember its fingerprint (the re-verification)."""
    fp = await store.fingerprint(t.key)
    await save_seal(row["id"], t.which, key.mac(seal_message(row["id"], t, fp)))


async def save_seal(evidence_id: uuid.UUID, which: str, seal: str) -> None:
    if which == "content":
        await Evidence.update({Evidence.seal: seal}).where(Evidence.id == evidence_id).run()
        return
    async with atomic():
        row = await Evidence.select(Evidence.renditions).where(Evidence.id == evidence_id).first()
        if row is None:
            return
        renditions = json_value(row["renditions"], {})
        if which in renditions:
            renditions[which] = {**rendition_record(renditions[which]), "seal": seal}
            await Evidence.update({Evidence.renditions: renditions}).where(Evidence.id == evidence_id).run()


async def inspect(
    row: dict[str, Any], t: Target, store: MediaStore, key: IntegrityKey, *, full: bool = False
) -> str | None:
    """What is wrong with the stored object of ``t``, or None when it is genuine (then sealed).
    ``full`` re-hashes even an object whose sealed fingerprint still matches."""
    try:
        fp = await store.fingerprint(t.key)
        message = seal_message(row["id"], t, fp)
        sealed = (t.size is None or fp.size == t.size) and key.mac_ok(message, t.seal)
        if sealed and not full:
            return None
        actual = await store.rehash(t.key)
    except ObjectNotFound:
        return "missing"
    except MediaStoreUnavailable as exc:
        return f"unreadable: {exc}"
    if actual != t.sha256:
        return actual
    if t.size is not None and fp.size != t.size:
        return f"{fp.size} bytes, recorded {t.size}"
    if not sealed:
        await save_seal(row["id"], t.which, key.mac(message))
    return None


def targets(row: dict[str, Any]) -> list[Target]:
    out = [target(row, "content")]
    out += [target(row, name) for name in sorted(json_value(row["renditions"], {}))]
    return [t for t in out if t is not None]
