"""Re-verification of stored evidence: every original and rendition re-hashed, and every evidence
row compared with the audit entry that recorded its upload (object key, SHA-256, size, renditions),
so a row re-pointed to other genuine bytes shows as well as altered bytes do. ``fieldwatch verify``
also checks the audit log against its signed tree heads and any kept outside."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from backend.audit import heads
from backend.audit import services as audit
from backend.audit.tables import AuditEntry
from backend.db import connected, json_value
from backend.evidence import integrity
from backend.evidence.tables import Evidence
from backend.lib.signing import IntegrityKey, load_or_create
from backend.live.publish import OFFLINE, Publisher
from backend.settings import Settings
from media_store import MediaStore, key_for, open_store, sha256_of_key

_BATCH = 500


class Progress:
    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.bytes = 0

    def __call__(self, done: int, total: int, size: int) -> None:
        self.bytes += size
        width = 30
        filled = int(width * done / total) if total else width
        rate = self.bytes / max(time.monotonic() - self.started, 1e-6) / 2**20
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {rate:.1f} MiB/s")
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


# Entries that vouch for renditions added after the upload: a watermark rendered later by the
# backfill, a video's poster frame sent by its phone, a video's or PDF's server renditions (those
# carry them under "renditions", beside the file's facts).
_RENDITIONS_ADDED = ("evidence.watermark_backfilled", "evidence.poster_added", "evidence.rendered")


async def _upload_entries() -> dict[str, dict[str, Any]]:
    """What the audit log vouches for, per evidence id: its upload entry, with any renditions a later
    entry added (never replacing one the upload recorded)."""
    rows = (
        await AuditEntry.select(AuditEntry.object_id, AuditEntry.action, AuditEntry.data)
        .where(
            AuditEntry.action.is_in(["evidence.uploaded", *_RENDITIONS_ADDED])
            & (AuditEntry.object_type == "evidence")
        )
        .order_by(AuditEntry.seq)
    )
    recorded: dict[str, dict[str, Any]] = {}
    for r in rows:
        data = json_value(r["data"], {})
        if r["action"] == "evidence.uploaded":
            recorded[r["object_id"]] = data
            continue
        added = data["renditions"] if r["action"] == "evidence.rendered" else data
        upload = recorded.get(r["object_id"])
        if upload is not None and "renditions" in upload:
            upload["renditions"] = {**added, **upload["renditions"]}
    return recorded


def binding_problems(row: dict[str, Any], recorded: dict[str, Any] | None) -> list[str]:
    """How the row differs from what its upload entry recorded."""
    if recorded is None:
        return ["no upload entry in the audit log vouches for this row"]
    problems = []
    for field in ("sha256", "size", "content_type"):
        if field in recorded and recorded[field] != row[field]:
            problems.append(f"{field} {row[field]!r} differs from the upload entry's {recorded[field]!r}")
    if (
        recorded.get("parent", f"{row['parent_type']}:{row['parent_id']}")
        != f"{row['parent_type']}:{row['parent_id']}"
    ):
        problems.append("the parent record differs from the upload entry's")
    try:
        addressed = key_for(row["sha256"])
    except ValueError:
        addressed = None
    if row["object_key"] != recorded.get("object_key", addressed) or row["object_key"] != addressed:
        problems.append(f"object key {row['object_key']} is not the one recorded at upload")
    if "renditions" in recorded:
        kept = {
            name: integrity.rendition_record(value)
            for name, value in json_value(row["renditions"], {}).items()
        }
        if sorted(kept) != sorted(recorded["renditions"]):
            problems.append(
                f"renditions {sorted(kept)} differ from the upload entry's {sorted(recorded['renditions'])}"
            )
        for name, want in recorded["renditions"].items():
            have = kept.get(name)
            if have is None:
                continue
            for field in ("key", "sha256", "size"):
                if have.get(field) != want.get(field):
                    problems.append(f"the {name}'s {field} differs from the upload entry's")
            try:
                if sha256_of_key(have["key"]) != have["sha256"]:
                    problems.append(f"the {name}'s key does not address its SHA-256")
            except ValueError:
                problems.append(f"the {name}'s key is not a media key")
    return problems


async def _rows() -> list[dict[str, Any]]:
    return await Evidence.select().order_by(Evidence.received_at)


# A record may leave only with an audit entry saying so (REMOVED, written in the same transaction);
# an upload entry whose row is gone without one means the row was deleted behind the app's back.
REMOVED = "evidence.removed"
DELETED = "its upload entry is in the audit log but the record is gone (deleted outside the app)"


async def _removed() -> set[str]:
    rows = await AuditEntry.select(AuditEntry.object_id).where(
        (AuditEntry.action == REMOVED) & (AuditEntry.object_type == "evidence")
    )
    return {r["object_id"] for r in rows}


async def _deleted(recorded: dict[str, dict[str, Any]], rows: list[dict[str, Any]]) -> list[str]:
    present = {str(r["id"]) for r in rows} | await _removed()
    return sorted(evidence_id for evidence_id in recorded if evidence_id not in present)


async def check_records(store: MediaStore, key: IntegrityKey) -> list[str]:
    """For ``/audit/verify``: each row against its upload entry, and each stored object against its
    SHA-256 (a sealed fingerprint that still matches spares the re-hash). Reports, raises nothing."""
    recorded = await _upload_entries()
    rows = await _rows()
    problems = [f"evidence {evidence_id}: {DELETED}" for evidence_id in await _deleted(recorded, rows)]
    for row in rows:
        for problem in binding_problems(row, recorded.get(str(row["id"]))):
            problems.append(f"evidence {row['id']}: {problem}")
        for t in integrity.targets(row):
            actual = await integrity.inspect(row, t, store, key)
            if actual is not None:
                problems.append(
                    f"evidence {row['id']} {t.which}: expected {t.sha256}, stored bytes hash to {actual}"
                )
    return problems


async def verify_all(
    store: MediaStore,
    key: IntegrityKey,
    events: Publisher,
    progress: Callable[[int, int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Re-hash every stored original and rendition and compare every row with its upload entry; a
    changed object is an alert and an audit entry."""
    recorded = await _upload_entries()
    rows = await _rows()
    found: list[dict[str, Any]] = [
        {"id": evidence_id, "which": "row", "problem": DELETED}
        for evidence_id in await _deleted(recorded, rows)
    ]
    for index, row in enumerate(rows, 1):
        for problem in binding_problems(row, recorded.get(str(row["id"]))):
            found.append({"id": str(row["id"]), "which": "row", "problem": problem})
        for t in integrity.targets(row):
            actual = await integrity.inspect(row, t, store, key, full=True)
            if actual is not None:
                found.append({"id": str(row["id"]), "which": t.which, "expected": t.sha256, "actual": actual})
                await integrity.report_mismatch(events, row, t.which, t.sha256, actual)
        if progress is not None:
            progress(index, len(rows), row["size"])
    return found


def read_heads(paths: Sequence[Path]) -> list[heads.SignedHead]:
    """Heads kept outside: each file holds one head (``fieldwatch audit-head``'s output) or a list."""
    out = []
    for path in paths:
        value = json.loads(path.read_text())
        for item in value if isinstance(value, list) else [value]:
            out.append(heads.parse(item))
    return out


async def run_verify(settings: Settings, outside: Sequence[heads.SignedHead] = ()) -> int:
    key = load_or_create(settings.integrity_key_path)
    async with connected(settings.database_url):
        report = await audit.verify(key, outside)
        store = open_store(settings.media_url, spool_dir=str(settings.data_dir / "tmp"))
        found = await verify_all(store, key, OFFLINE, Progress())
    for problem in report.problems:
        print(f"AUDIT LOG: {problem}")
    for f in found:
        if f["which"] == "row":
            print(f"BINDING evidence {f['id']}: {f['problem']}")
        elif f["which"] == "content":
            print(
                f"MISMATCH evidence {f['id']}: expected {f['expected']}, stored bytes hash to {f['actual']}"
            )
        else:
            print(
                f"MISMATCH evidence {f['id']} {f['which']}: expected {f['expected']}, "
                f"stored bytes hash to {f['actual']}"
            )
    if report.problems or found:
        if found:
            print(
                f"{len(found)} evidence problem(s); an alert was raised for each altered or missing object."
            )
        if report.problems:
            print(f"the audit log failed {len(report.problems)} check(s)")
        return 1
    print(
        f"audit log: {report.checked} entries, chain intact, consistent with {report.heads_checked} "
        f"signed tree head(s) (newest covers {report.signed_size})"
    )
    print("every stored original and rendition matches its SHA-256 and its upload entry")
    return 0
