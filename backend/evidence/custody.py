"""Chain of custody: every upload, view and download of a piece of evidence, from the audit log."""

from __future__ import annotations

import uuid
from typing import Any

from backend.audit import services as audit
from backend.audit.tables import AuditEntry
from backend.db import atomic, json_value
from backend.evidence import schemas
from backend.lib.auth import CurrentUser

# An outside recipient's views and downloads through a share link count as fetches too.
FETCHES = ["evidence.viewed", "evidence.downloaded", "evidence.shared_viewed", "evidence.shared_downloaded"]


async def record_fetch(
    actor: CurrentUser, evidence_id: uuid.UUID, which: str, byte_range: str | None
) -> None:
    action = "evidence.downloaded" if which == "content" else "evidence.viewed"
    async with atomic():
        await audit.record(actor, action, "evidence", evidence_id, {"rendition": which, "range": byte_range})


async def summary(evidence_id: uuid.UUID, row: dict[str, Any]) -> schemas.CustodySummary:
    views = (
        await AuditEntry.select(AuditEntry.at)
        .where(
            (AuditEntry.object_type == "evidence")
            & (AuditEntry.object_id == str(evidence_id))
            & AuditEntry.action.is_in(FETCHES)
        )
        .order_by(AuditEntry.seq, ascending=False)
    )
    return schemas.CustodySummary(
        uploaded_by=row["uploaded_by"],
        uploaded_at=row["received_at"],
        views=len(views),
        last_viewed_at=views[0]["at"] if views else None,
    )


async def entries(evidence_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = (
        await AuditEntry.select()
        .where((AuditEntry.object_type == "evidence") & (AuditEntry.object_id == str(evidence_id)))
        .order_by(AuditEntry.seq)
    )
    return [
        {
            "seq": r["seq"],
            "at": r["at"],
            "actor_id": r["actor_id"],
            "actor": r["actor"],
            "action": r["action"],
            "data": json_value(r["data"]),
        }
        for r in rows
    ]
