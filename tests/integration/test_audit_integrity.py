"""An insider with the database (and the storage) but not the integrity key cannot rewrite or cut the
audit log unnoticed once a tree head covering the change was signed: kept in the database, or kept
outside by another party. Each test tampers the way such an insider would — recomputing the plain
hash chain and its head — and puts everything back exactly (the suite shares one database)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from backend.app import create_app
from backend.audit import heads
from backend.audit import services as audit_services
from backend.audit.canonical import digest, leaf
from backend.audit.merkle import root_of, verify_consistency
from backend.audit.tables import AuditEntry, AuditHead, AuditTreeHead
from tests.conftest import World, assert_problem, login, make_settings, serve, unique


async def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """In a thread: the app under test keeps serving (and linking audit entries) meanwhile."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "backend.cli", *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _some_writes(client, admin, n: int = 3) -> None:
    for _ in range(n):
        response = await client.post(
            "/api/v1/units", json={"name": unique("审计"), "kind": "association"}, headers=admin
        )
        assert response.status_code == 201
    # On PostgreSQL the entries are linked into the chain just after their commit; the checks
    # below read the chain's rows directly, so they wait for that as any reader of its order does.
    await audit_services.settle()


async def _signed_head() -> dict[str, Any]:
    """``fieldwatch audit-head``: sign now, print the head as an outside party keeps it."""
    done = await _cli("audit-head")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


@contextlib.asynccontextmanager
async def _rewritten(seq: int, data: str) -> AsyncIterator[None]:
    """Edit entry ``seq`` and recompute the chain after it and the chain's head, as an insider would."""
    await audit_services.settle()  # nothing pending is linked onto the rewritten head, then undone
    rows = await AuditEntry.select().where(AuditEntry.seq >= seq).order_by(AuditEntry.seq)
    head = await AuditHead.select().where(AuditHead.id == 1).first()
    prev = rows[0]["prev_hash"]
    try:
        for index, row in enumerate(rows):
            new = {**row, "prev_hash": prev, "data": data if index == 0 else row["data"]}
            new["hash"] = digest(new)
            await (
                AuditEntry.update(
                    {AuditEntry.data: new["data"], AuditEntry.prev_hash: prev, AuditEntry.hash: new["hash"]}
                )
                .where(AuditEntry.id == row["id"])
                .run()
            )
            prev = new["hash"]
        await AuditHead.update({AuditHead.hash: prev}).where(AuditHead.id == 1).run()
        yield
    finally:
        for row in rows:
            await (
                AuditEntry.update(
                    {
                        AuditEntry.data: row["data"],
                        AuditEntry.prev_hash: row["prev_hash"],
                        AuditEntry.hash: row["hash"],
                    }
                )
                .where(AuditEntry.id == row["id"])
                .run()
            )
        await (
            AuditHead.update({AuditHead.seq: head["seq"], AuditHead.hash: head["hash"]})
            .where(AuditHead.id == 1)
            .run()
        )


@contextlib.asynccontextmanager
async def _cut(keep: int) -> AsyncIterator[None]:
    """Drop every entry after ``keep`` and move the chain's head back to it."""
    await audit_services.settle()
    dropped = await AuditEntry.select().where(AuditEntry.seq > keep).order_by(AuditEntry.seq)
    head = await AuditHead.select().where(AuditHead.id == 1).first()
    last = await AuditEntry.select().where(AuditEntry.seq == keep).first()
    await AuditEntry.delete().where(AuditEntry.seq > keep).run()
    await AuditHead.update({AuditHead.seq: keep, AuditHead.hash: last["hash"]}).where(AuditHead.id == 1).run()
    try:
        yield
    finally:
        for row in dropped:
            await AuditEntry.insert(AuditEntry(**row)).run()
        await (
            AuditHead.update({AuditHead.seq: head["seq"], AuditHead.hash: head["hash"]})
            .where(AuditHead.id == 1)
            .run()
        )


@contextlib.asynccontextmanager
async def _heads_removed() -> AsyncIterator[None]:
    kept = await AuditTreeHead.select()
    await AuditTreeHead.delete(force=True).run()
    try:
        yield
    finally:
        for row in kept:
            await AuditTreeHead.insert(AuditTreeHead(**row)).run()


async def _victim() -> dict[str, Any]:
    row = (
        await AuditEntry.select()
        .where(AuditEntry.action == "unit.created")
        .order_by(AuditEntry.seq, ascending=False)
        .first()
    )
    assert row is not None
    return row


async def test_a_rewritten_entry_with_chain_and_head_recomputed_is_caught_by_a_signed_head(
    client, as_user, world: World
) -> None:
    admin, supervisor = await as_user("admin"), await as_user("supervisor")
    await _some_writes(client, admin)
    head = await _signed_head()
    victim = await _victim()
    assert victim["seq"] <= head["tree_size"]
    async with _rewritten(victim["seq"], '{"name":"改过的"}'):
        body = (await client.get("/api/v1/audit/verify", headers=supervisor)).json()
        assert body["ok"] is False, body
        # The plain chain is consistent again: only the signed head tells.
        assert "entry content altered" not in body["problems"] and body["checked"] == body["head_seq"]
        assert any("entries were rewritten" in p for p in body["problems"]), body
        done = await _cli("verify")
        assert done.returncode == 1, done.stdout
        assert "AUDIT LOG: " in done.stdout and "entries were rewritten" in done.stdout
    assert (await client.get("/api/v1/audit/verify", headers=supervisor)).json()["ok"] is True
    assert (await _cli("verify")).returncode == 0


async def test_dropping_the_newest_entries_and_moving_the_head_back_is_caught(
    client, as_user, world: World
) -> None:
    admin, supervisor = await as_user("admin"), await as_user("supervisor")
    await _some_writes(client, admin)
    head = await _signed_head()
    async with _cut(head["tree_size"] - 2):
        body = (await client.get("/api/v1/audit/verify", headers=supervisor)).json()
        assert body["ok"] is False and body["checked"] == body["head_seq"] == head["tree_size"] - 2
        assert any(
            "entries were removed" in p and f"covers {head['tree_size']}" in p for p in body["problems"]
        )
        assert body["broken_at_seq"] == head["tree_size"] - 1
        done = await _cli("verify")
        assert done.returncode == 1 and "entries were removed" in done.stdout, done.stdout
    assert (await client.get("/api/v1/audit/verify", headers=supervisor)).json()["ok"] is True


async def test_a_head_kept_outside_catches_what_the_database_alone_cannot(
    client, as_user, world: World, tmp_path: Path
) -> None:
    """The insider also deletes every stored head: only the head the outside party kept remains."""
    admin, supervisor = await as_user("admin"), await as_user("supervisor")
    await _some_writes(client, admin)
    kept_outside = tmp_path / "head.json"
    head = await _signed_head()
    kept_outside.write_text(json.dumps(head))
    victim = await _victim()
    async with _heads_removed(), _rewritten(victim["seq"], '{"name":"改过的"}'):
        alone = (await client.get("/api/v1/audit/verify", headers=supervisor)).json()
        assert alone["ok"] is True and alone["heads_checked"] == 0  # what the outside anchor is for
        body = (await client.post("/api/v1/audit/verify", json={"heads": [head]}, headers=supervisor)).json()
        assert body["ok"] is False and body["heads_checked"] == 1
        assert any("outside tree head" in p and "rewritten" in p for p in body["problems"]), body
        done = await _cli("verify", "--head", str(kept_outside))
        assert done.returncode == 1 and "the outside tree head" in done.stdout, done.stdout
        async with _cut(head["tree_size"] - 1):
            body = (
                await client.post("/api/v1/audit/verify", json={"heads": [head]}, headers=supervisor)
            ).json()
            assert any("entries were removed" in p for p in body["problems"]), body
    clean = (await client.post("/api/v1/audit/verify", json={"heads": [head]}, headers=supervisor)).json()
    assert clean["ok"] is True, clean
    assert (await _cli("verify", "--head", str(kept_outside))).returncode == 0


async def test_a_head_forged_without_the_key_is_caught(client, as_user, world: World) -> None:
    admin, supervisor = await as_user("admin"), await as_user("supervisor")
    await _some_writes(client, admin)
    head = await _signed_head()
    victim = await _victim()
    # The insider rewrites an entry and then "re-signs" the stored head with the new root.
    async with _rewritten(victim["seq"], '{"name":"改过的"}'):
        rows = await AuditEntry.select().where(AuditEntry.seq <= head["tree_size"]).order_by(AuditEntry.seq)
        forged_root = root_of([leaf(r) for r in rows]).hex()
        await (
            AuditTreeHead.update({AuditTreeHead.root_hash: forged_root})
            .where(AuditTreeHead.tree_size == head["tree_size"])
            .run()
        )
        try:
            body = (await client.get("/api/v1/audit/verify", headers=supervisor)).json()
            assert any("does not bear a valid signature" in p for p in body["problems"]), body
            forged = {**head, "root_hash": forged_root}
            body = (
                await client.post("/api/v1/audit/verify", json={"heads": [forged]}, headers=supervisor)
            ).json()
            assert body["ok"] is False
        finally:
            await (
                AuditTreeHead.update({AuditTreeHead.root_hash: head["root_hash"]})
                .where(AuditTreeHead.tree_size == head["tree_size"])
                .run()
            )
    assert (await client.get("/api/v1/audit/verify", headers=supervisor)).json()["ok"] is True


async def test_the_public_key_lets_anyone_check_a_head(client, as_user, world: World) -> None:
    admin = await as_user("admin")
    await _some_writes(client, admin, 1)
    head = await _signed_head()
    published = await client.get("/api/v1/audit/key")  # no sign-in
    assert published.status_code == 200
    key = published.json()
    assert key["algorithm"] == "Ed25519" and key["public_key"] == head["public_key"]
    assert key["key_id"] == head["key_id"]
    signed = heads.message(head["tree_size"], head["root_hash"], head["timestamp"])
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))
    public.verify(base64.b64decode(head["signature"]), signed)  # raises when not genuine
    assert not heads.check_with_public_key(
        heads.parse({**head, "tree_size": head["tree_size"] + 1}), key["public_key"]
    )
    newest = await client.get("/api/v1/audit/head", headers=await as_user("supervisor"))
    assert newest.status_code == 200 and newest.json()["tree_size"] >= head["tree_size"]
    assert_problem(
        await client.get("/api/v1/audit/head", headers=await as_user("officer_a1")), 403, "auth.forbidden"
    )


async def test_bad_outside_heads_are_refused_and_change_nothing(
    client, as_user, world: World, tmp_path: Path
) -> None:
    supervisor = await as_user("supervisor")
    before = await AuditTreeHead.count()
    head = await _signed_head()
    for heads_value in (
        [],
        [{"tree_size": "many"}],
        [{**head, "root_hash": "zz"}],
        [{**head, "tree_size": 0}],
        [{k: v for k, v in head.items() if k != "signature"}],
    ):
        response = await client.post("/api/v1/audit/verify", json={"heads": heads_value}, headers=supervisor)
        assert_problem(response, 400, "validation.failed")
    assert_problem(
        await client.post("/api/v1/audit/verify", json={"heads": "x"}, headers=supervisor),
        400,
        "validation.failed",
    )
    assert await AuditTreeHead.count() == before + 1  # only the head signed above
    garbage = tmp_path / "garbage.json"
    garbage.write_text(json.dumps({**head, "tree_size": -1}))
    done = await _cli("verify", "--head", str(garbage))
    assert done.returncode == 2 and "tree_size" in done.stderr


async def test_the_server_signs_heads_as_the_log_grows(world: World) -> None:
    app = create_app(make_settings(audit_sign_interval_s=1))
    async with serve(app) as client:
        admin = await login(client, world.username("admin"))
        await _some_writes(client, admin, 2)
        size = (await AuditHead.select(AuditHead.seq).first())["seq"]
        for _ in range(40):
            newest = await heads.newest()
            if newest is not None and newest.tree_size >= size:
                break
            await asyncio.sleep(0.25)
        assert newest is not None and newest.tree_size >= size


async def test_an_outside_party_checks_two_heads_with_a_consistency_proof(
    client, as_user, world: World
) -> None:
    admin, supervisor = await as_user("admin"), await as_user("supervisor")
    await _some_writes(client, admin, 2)
    older = await _signed_head()
    await _some_writes(client, admin, 3)
    newer = await _signed_head()
    assert newer["tree_size"] > older["tree_size"]

    async def proof_holds() -> bool:
        response = await client.get(
            f"/api/v1/audit/consistency?first={older['tree_size']}&second={newer['tree_size']}",
            headers=supervisor,
        )
        assert response.status_code == 200, response.text
        proof = [bytes.fromhex(h) for h in response.json()["proof"]]
        # Checked against the roots the outside party kept, not the ones in the answer.
        return verify_consistency(
            older["tree_size"],
            newer["tree_size"],
            bytes.fromhex(older["root_hash"]),
            bytes.fromhex(newer["root_hash"]),
            proof,
        )

    assert await proof_holds()
    victim = (
        await AuditEntry.select()
        .where(AuditEntry.seq <= older["tree_size"])
        .order_by(AuditEntry.seq, ascending=False)
        .first()
    )
    async with _rewritten(victim["seq"], '{"rewritten":true}'):
        assert not await proof_holds()
    assert await proof_holds()
    size = (await AuditHead.select(AuditHead.seq).first())["seq"]
    for query in ("first=0&second=3", f"first=2&second={size + 1}", "first=5&second=2", "first=x&second=2"):
        response = await client.get(f"/api/v1/audit/consistency?{query}", headers=supervisor)
        assert_problem(response, 400, "validation.failed")
