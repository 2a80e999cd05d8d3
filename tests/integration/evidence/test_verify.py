"""`fieldwatch verify` re-hashes what is stored and catches an altered original."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from backend.alerts.tables import Alert
from backend.audit.tables import AuditEntry
from tests.conftest import World, make_settings
from tests.integration.enforcement_helpers import record_action
from tests.integration.evidence.photos import phone_photo


def _verify() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
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
    clean = _verify()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "matches" in clean.stdout and "[" in clean.stderr  # the progress bar
    root = Path(make_settings().media_url.removeprefix("file://"))
    stored = root / "sha256" / evidence["sha256"][:2] / evidence["sha256"]
    original = stored.read_bytes()
    stored.chmod(0o644)
    stored.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))
    try:
        tampered = _verify()
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
    assert _verify().returncode == 0
