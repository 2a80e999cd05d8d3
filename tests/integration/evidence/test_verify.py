"""`fieldwatch verify` re-hashes what is stored and catches an altered original."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from backend.alerts.tables import Alert
from backend.audit.tables import AuditEntry
from backend.db import json_value
from backend.evidence.tables import Evidence
from tests.conftest import World, make_settings
from tests.integration.enforcement_helpers import record_action
from tests.integration.evidence.photos import phone_photo


async def _verify() -> subprocess.CompletedProcess[str]:
    """In a thread: the app under test keeps serving (and linking audit entries) meanwhile."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "backend.cli", "verify"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_verify_reports_a_tampered_original(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    response = await client.post(
        f"/api/v1/actions/{action['id']}/evidence",
        content=phone_photo(),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    evidence = response.json()
    clean = await _verify()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "matches" in clean.stdout and "[" in clean.stderr  # the progress bar
    root = Path(make_settings().media_url.removeprefix("file://"))
    stored = root / "sha256" / evidence["sha256"][:2] / evidence["sha256"]
    original = stored.read_bytes()
    stored.chmod(0o644)
    stored.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))
    try:
        tampered = await _verify()
        assert tampered.returncode == 1
        assert f"MISMATCH evidence {evidence['id']}" in tampered.stdout
        alert = (
            await Alert.select()
            .where((Alert.type == "evidence.hash_mismatch") & (Alert.object_id == evidence["id"]))
            .first()
        )
        assert alert is not None and alert["severity"] == "high"
        assert await AuditEntry.exists().where(
            (AuditEntry.action == "evidence.hash_mismatch") & (AuditEntry.object_id == evidence["id"])
        )
    finally:
        stored.write_bytes(original)
        stored.chmod(0o444)
    assert (await _verify()).returncode == 0


async def _two_photos(client, officer, world: World) -> tuple[dict, dict]:
    action = await record_action(client, officer, world)
    out = []
    for _ in range(2):
        response = await client.post(
            f"/api/v1/actions/{action['id']}/evidence",
            content=phone_photo(),
            headers={**officer, "Content-Type": "image/jpeg"},
        )
        assert response.status_code == 201, response.text
        out.append(response.json())
    return out[0], out[1]


async def _api_problems(client, as_user) -> list[str]:
    body = (await client.get("/api/v1/audit/verify", headers=await as_user("supervisor"))).json()
    assert body["ok"] is (not body["problems"])
    return body["problems"]


async def test_verify_reports_a_row_repointed_to_other_stored_bytes(client, as_user, world: World) -> None:
    """The insider points one evidence row at another photo's genuine bytes (key, sha256, size):
    every re-hash passes; only the upload's audit entry still says what the row held."""
    officer = await as_user("officer_a1")
    first, second = await _two_photos(client, officer, world)
    row = await Evidence.select().where(Evidence.id == first["id"]).first()
    other = await Evidence.select().where(Evidence.id == second["id"]).first()
    fields = (Evidence.object_key, Evidence.sha256, Evidence.size)
    await Evidence.update({f: other[f._meta.name] for f in fields}).where(Evidence.id == first["id"]).run()
    try:
        done = await _verify()
        assert done.returncode == 1, done.stdout
        assert f"BINDING evidence {first['id']}: sha256" in done.stdout
        assert f"evidence {second['id']}" not in done.stdout
        problems = await _api_problems(client, as_user)
        assert any(p.startswith(f"evidence {first['id']}: sha256") for p in problems), problems
    finally:
        await Evidence.update({f: row[f._meta.name] for f in fields}).where(Evidence.id == first["id"]).run()
    assert (await _verify()).returncode == 0
    assert await _api_problems(client, as_user) == []


async def test_verify_reports_a_replaced_or_repointed_rendition(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    first, second = await _two_photos(client, officer, world)
    row = await Evidence.select().where(Evidence.id == first["id"]).first()
    other = await Evidence.select().where(Evidence.id == second["id"]).first()
    thumb = json_value(row["renditions"])["thumbnail"]
    assert thumb["sha256"] and thumb["size"] > 0  # renditions carry their hash

    # Replaced in place: other bytes at the thumbnail's own key.
    root = Path(make_settings().media_url.removeprefix("file://"))
    stored = root / "sha256" / thumb["sha256"][:2] / thumb["sha256"]
    original = stored.read_bytes()
    stored.chmod(0o644)
    stored.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))
    try:
        done = await _verify()
        assert done.returncode == 1 and f"MISMATCH evidence {first['id']} thumbnail" in done.stdout
        problems = await _api_problems(client, as_user)
        assert any(p.startswith(f"evidence {first['id']} thumbnail: expected") for p in problems), problems
        alert = (
            await Alert.select()
            .where((Alert.type == "evidence.hash_mismatch") & (Alert.object_id == first["id"]))
            .first()
        )
        assert alert is not None and json_value(alert["data"])["rendition"] == "thumbnail"
    finally:
        stored.write_bytes(original)
        stored.chmod(0o444)
    assert (await _verify()).returncode == 0

    # Re-pointed: the row's thumbnail is now the other photo's (genuine) thumbnail.
    renditions = json_value(row["renditions"])
    swapped = {**renditions, "thumbnail": json_value(other["renditions"])["thumbnail"]}
    await Evidence.update({Evidence.renditions: swapped}).where(Evidence.id == first["id"]).run()
    try:
        done = await _verify()
        assert done.returncode == 1
        assert f"BINDING evidence {first['id']}: the thumbnail's key differs" in done.stdout, done.stdout
        assert any("thumbnail's sha256 differs" in p for p in await _api_problems(client, as_user))
    finally:
        current = json_value(
            (await Evidence.select().where(Evidence.id == first["id"]).first())["renditions"]
        )
        restored = {**current, "thumbnail": {**current["thumbnail"], **renditions["thumbnail"]}}
        restored["thumbnail"].pop("seal", None)  # the other thumbnail's seal is not this one's
        await Evidence.update({Evidence.renditions: restored}).where(Evidence.id == first["id"]).run()
    assert (await _verify()).returncode == 0
    assert await _api_problems(client, as_user) == []


async def test_verify_reports_an_evidence_record_deleted_behind_the_apps_back(
    client, as_user, world: World
) -> None:
    """Evidence is never deleted by the app: a row removed in the database (its upload entry still in
    the audit log) is reported by `fieldwatch verify` and by /audit/verify, then put back."""
    officer = await as_user("officer_a1")
    first, _ = await _two_photos(client, officer, world)
    row = await Evidence.select().where(Evidence.id == first["id"]).first()
    await Evidence.delete().where(Evidence.id == first["id"]).run()
    try:
        done = await _verify()
        assert done.returncode == 1, done.stdout
        assert (
            f"BINDING evidence {first['id']}: its upload entry is in the audit log but the record is gone"
            in (done.stdout)
        )
        assert any(
            p.startswith(f"evidence {first['id']}: its upload entry")
            for p in await _api_problems(client, as_user)
        )
    finally:
        await Evidence.insert(Evidence(**{k: v for k, v in row.items()})).run()
    assert (await _verify()).returncode == 0
    assert await _api_problems(client, as_user) == []
