"""Evidence retention: each record shows how long it is kept; open cases, lawsuits and holds keep it;
only a supervisor's approved batch disposes of what is due, recorded in the audit chain, and the
object store's own lock (checked at start and in /readyz) refuses an early delete."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from minio.objectlockconfig import DAYS, ObjectLockConfig
from minio.retention import GOVERNANCE

from backend.actions.tables import Action
from backend.app import create_app
from backend.audit.tables import AuditEntry
from backend.cases.tables import Case
from backend.channels.tables import ChannelItem
from backend.db import json_value
from backend.evidence.tables import Evidence
from backend.retention import services as retention
from backend.retention.tables import ObjectRetention, RetentionRule
from media_store import open_store
from tests.conftest import World, assert_problem, forget_evidence, login, make_settings, serve
from tests.integration.enforcement_helpers import open_case, record_action
from tests.integration.evidence.photos import phone_photo
from tests.integration.evidence.test_verify import _verify
from tests.s3 import s3_server

__all__ = ["s3_server"]

YEARS_AGO_4 = timedelta(days=4 * 366)


@pytest.fixture
async def default_rules() -> AsyncIterator[None]:
    """Rules are the district's, shared by the suite: each test starts and ends on the defaults."""
    await RetentionRule.delete(force=True)
    yield
    await RetentionRule.delete(force=True)


async def _photo_on_action(client, officer, world: World, seed: int = 0) -> tuple[dict, dict]:
    action = await record_action(client, officer, world)
    response = await client.post(
        f"/api/v1/actions/{action['id']}/evidence",
        content=phone_photo(seed=seed),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert response.status_code == 201, response.text
    return action, response.json()


async def _age_action(action_id: str, by: timedelta) -> None:
    """Plant an old act: the action and its evidence as if recorded ``by`` ago."""
    aid = uuid.UUID(action_id)
    row = await Action.select(Action.occurred_at).where(Action.id == aid).first()
    assert row is not None
    await Action.update({Action.occurred_at: row["occurred_at"] - by}).where(Action.id == aid)
    for ev in await Evidence.select(Evidence.id, Evidence.received_at).where(Evidence.parent_id == aid):
        await Evidence.update({Evidence.received_at: ev["received_at"] - by}).where(Evidence.id == ev["id"])


async def _standing(client, headers, evidence_id: str) -> dict:
    response = await client.get(f"/api/v1/evidence/{evidence_id}/retention", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _due_ids(client, supervisor) -> set[str]:
    response = await client.get("/api/v1/retention/due?limit=500", headers=supervisor)
    assert response.status_code == 200, response.text
    return {item["evidence_id"] for item in response.json()["items"]}


async def test_each_record_shows_its_date_and_rules_are_the_admins(
    client, as_user, world: World, default_rules
) -> None:
    officer, admin, supervisor = (
        await as_user("officer_a1"),
        await as_user("admin"),
        await as_user("supervisor"),
    )
    action, photo = await _photo_on_action(client, officer, world)
    shown = await _standing(client, officer, photo["id"])
    occurred = datetime.fromisoformat(action["occurred_at"])
    assert shown["state"] == "retained" and shown["rule"] == "action"
    assert datetime.fromisoformat(shown["retain_until"]) == occurred.replace(year=occurred.year + 3)
    # Outside the officer's unit the record does not exist.
    assert_problem(
        await client.get(f"/api/v1/evidence/{photo['id']}/retention", headers=await as_user("officer_b1")),
        404,
        "not_found",
    )

    rules = (await client.get("/api/v1/retention/rules", headers=supervisor)).json()["rules"]
    assert rules["action"]["*"] == 3 and rules["case_closed"]["*"] == 30
    changed = await client.put(
        "/api/v1/retention/rules",
        json={"rules": [{"subject": "action", "kind": "photo", "years": 5}]},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["rules"]["action"] == {"*": 3, "photo": 5}
    later = await _standing(client, officer, photo["id"])
    assert datetime.fromisoformat(later["retain_until"]) == occurred.replace(year=occurred.year + 5)
    entry = (
        await AuditEntry.select()
        .where(AuditEntry.action == "retention.rules_changed")
        .order_by(AuditEntry.seq, ascending=False)
        .first()
    )
    assert entry is not None and entry["actor_id"] == world.users["admin"]

    # Only an admin changes them; bad rules are refused whole and change nothing.
    refused = await client.put(
        "/api/v1/retention/rules", json={"rules": [{"subject": "action", "years": 9}]}, headers=supervisor
    )
    assert_problem(refused, 403, "auth.forbidden")
    for bad in (
        {"rules": [{"subject": "action", "years": 0}]},
        {"rules": [{"subject": "action", "years": 4}, {"subject": "forever", "years": 4}]},
        {"rules": [{"subject": "action", "kind": "hologram", "years": 4}]},
        {"rules": []},
    ):
        assert_problem(
            await client.put("/api/v1/retention/rules", json=bad, headers=admin), 400, "validation.failed"
        )
    assert (await client.get("/api/v1/retention/rules", headers=admin)).json()["rules"]["action"] == {
        "*": 3,
        "photo": 5,
    }


async def test_open_case_lawsuit_and_hold_keep_evidence_and_a_batch_disposes_of_the_rest(
    client, as_user, world: World, default_rules
) -> None:
    officer, supervisor = await as_user("officer_a1"), await as_user("supervisor")
    old_action, old_photo = await _photo_on_action(client, officer, world, seed=11)
    held_action, held_photo = await _photo_on_action(client, officer, world, seed=12)
    sued_action, sued_photo = await _photo_on_action(client, officer, world, seed=13)
    case_action, case_photo = await _photo_on_action(client, officer, world, seed=14)
    await open_case(client, officer, world, [case_action["id"]])
    for action in (old_action, held_action, sued_action, case_action):
        await _age_action(action["id"], YEARS_AGO_4)

    # A lawsuit about one act, open (涉法涉诉): its evidence is kept.
    await ChannelItem.insert(
        ChannelItem(
            id=uuid.uuid4(),
            kind="lawsuit",
            title="某某餐馆诉水江镇行政处罚案",
            unit_id=world.town_a,
            action_id=uuid.UUID(sued_action["id"]),
            reporter_id=world.users["supervisor"],
            status="new",
        )
    )
    placed = await client.post(
        "/api/v1/legal-holds",
        json={"object_type": "action", "object_id": held_action["id"], "reason": "区检察院调卷 2026-11"},
        headers=supervisor,
    )
    assert placed.status_code == 201, placed.text

    assert (await _standing(client, officer, old_photo["id"]))["state"] == "due"
    held = await _standing(client, officer, held_photo["id"])
    assert held["state"] == "held" and held["holds"][0]["reason"] == "区检察院调卷 2026-11"
    assert (await _standing(client, officer, sued_photo["id"]))["state"] == "litigation"
    in_case = await _standing(client, officer, case_photo["id"])
    assert in_case["state"] == "case_open" and in_case["retain_until"] is None

    due = await _due_ids(client, supervisor)
    assert old_photo["id"] in due
    assert not {held_photo["id"], sued_photo["id"], case_photo["id"]} & due

    # A batch naming anything not due is refused whole: nothing is removed.
    mixed = await client.post(
        "/api/v1/retention/disposals",
        json={"evidence_ids": [old_photo["id"], held_photo["id"]], "reason": "档案保管期满 第1批"},
        headers=supervisor,
    )
    body = assert_problem(mixed, 409, "retention.not_due")
    assert [n["evidence_id"] for n in body["not_due"]] == [held_photo["id"]]
    assert await Evidence.exists().where(Evidence.id == uuid.UUID(old_photo["id"]))
    # Officers do not dispose; unknown evidence is 404; a reason is required.
    assert_problem(
        await client.post(
            "/api/v1/retention/disposals",
            json={"evidence_ids": [old_photo["id"]], "reason": "x"},
            headers=officer,
        ),
        403,
        "auth.forbidden",
    )
    assert_problem(
        await client.post(
            "/api/v1/retention/disposals",
            json={"evidence_ids": [str(uuid.uuid4())], "reason": "档案保管期满"},
            headers=supervisor,
        ),
        404,
        "not_found",
    )
    assert_problem(
        await client.post(
            "/api/v1/retention/disposals",
            json={"evidence_ids": [old_photo["id"]], "reason": ""},
            headers=supervisor,
        ),
        400,
        "validation.failed",
    )

    # Released, the held record is due too; one batch disposes of both.
    hold_id = placed.json()["id"]
    released = await client.post(
        f"/api/v1/legal-holds/{hold_id}/release", json={"reason": "检察院已归还"}, headers=supervisor
    )
    assert released.status_code == 200 and released.json()["released_at"]
    assert_problem(
        await client.post(
            f"/api/v1/legal-holds/{hold_id}/release", json={"reason": "again"}, headers=supervisor
        ),
        409,
        "legal_hold.released",
    )
    done = await client.post(
        "/api/v1/retention/disposals",
        json={"evidence_ids": [old_photo["id"], held_photo["id"]], "reason": "档案保管期满 第1批"},
        headers=supervisor,
    )
    assert done.status_code == 201, done.text
    batch = done.json()
    assert batch["removed"] == 2 and batch["refused"] == 0
    assert {i["outcome"] for i in batch["items"]} == {"removed"}
    for photo in (old_photo, held_photo):
        assert_problem(
            await client.get(f"/api/v1/evidence/{photo['id']}", headers=supervisor), 404, "not_found"
        )
        removed = await AuditEntry.select().where(
            (AuditEntry.action == "evidence.removed") & (AuditEntry.object_id == photo["id"])
        )
        assert len(removed) == 1 and removed[0]["data"]
    assert not (await _due_ids(client, supervisor)) & {old_photo["id"], held_photo["id"]}
    listed = (await client.get("/api/v1/retention/disposals", headers=supervisor)).json()
    assert listed[0]["id"] == batch["id"]
    verified = await _verify()  # the records left through the app: verify finds nothing wrong
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def test_a_closed_case_counts_from_its_closing(client, as_user, world: World, default_rules) -> None:
    officer = await as_user("officer_a1")
    action, photo = await _photo_on_action(client, officer, world, seed=21)
    case = await open_case(client, officer, world, [action["id"]])
    closed = datetime.now(UTC) - timedelta(days=40)
    await Case.update({Case.status: "closed", Case.closed_at: closed}).where(Case.id == uuid.UUID(case["id"]))
    shown = await _standing(client, officer, photo["id"])
    assert shown["state"] == "retained" and shown["rule"] == "case_closed"
    assert datetime.fromisoformat(shown["retain_until"]) == closed.replace(year=closed.year + 30)


async def test_hold_needs_a_known_object_and_a_reason(client, as_user, world: World) -> None:
    supervisor = await as_user("supervisor")
    missing = {"object_type": "case", "object_id": str(uuid.uuid4()), "reason": "调卷"}
    assert_problem(
        await client.post("/api/v1/legal-holds", json=missing, headers=supervisor), 404, "not_found"
    )
    for bad in (
        {"object_type": "planet", "object_id": str(uuid.uuid4()), "reason": "调卷"},
        {"object_type": "case", "object_id": "nope", "reason": "调卷"},
        {"object_type": "case", "object_id": str(uuid.uuid4()), "reason": ""},
    ):
        assert_problem(
            await client.post("/api/v1/legal-holds", json=bad, headers=supervisor), 400, "validation.failed"
        )
    assert_problem(
        await client.post("/api/v1/legal-holds", json=missing, headers=await as_user("officer_a1")),
        403,
        "auth.forbidden",
    )


def create_app_for(store, **overrides):  # type: ignore[no-untyped-def]
    return create_app(make_settings(**overrides), store=store)


async def test_on_s3_each_original_is_locked_to_its_rule_and_an_early_delete_is_refused(
    migrated, world: World, s3_server, tmp_path, default_rules
) -> None:
    url = s3_server.fresh_bucket_url()
    store = open_store(url, spool_dir=str(tmp_path))
    await store.ensure_bucket()  # type: ignore[attr-defined]  # COMPLIANCE, 1 day by default
    stored_here: list[uuid.UUID] = []
    try:
        await _locked_to_its_rule(store, world, s3_server, stored_here)
    finally:  # the suite's other tests verify the shared database against the default store
        await forget_evidence(Evidence.id.is_in(stored_here or [uuid.uuid4()]))


async def _locked_to_its_rule(store, world: World, s3_server, stored_here: list[uuid.UUID]) -> None:  # type: ignore[no-untyped-def]
    async with serve(create_app_for(store)) as client:
        officer = await login(client, world.username("officer_a1"))
        supervisor = await login(client, world.username("supervisor"))
        action, photo = await _photo_on_action(client, officer, world, seed=31)
        stored_here.append(uuid.UUID(photo["id"]))
        assert await retention.reconcile(store, make_settings()) >= 1
        key = f"sha256/{photo['sha256'][:2]}/{photo['sha256']}"
        occurred = datetime.fromisoformat(action["occurred_at"])
        wanted = occurred.replace(year=occurred.year + 3)
        locked = s3_server.client().get_object_retention(store.bucket, key)  # type: ignore[attr-defined]
        assert locked.mode == "COMPLIANCE"
        assert abs((locked.retain_until_date - wanted).total_seconds()) < 1
        shown = await _standing(client, officer, photo["id"])
        assert datetime.fromisoformat(shown["store_locked_until"]) == wanted
        assert await ObjectRetention.exists().where(ObjectRetention.object_key == key)

        # The app's own date is then moved (an act planted 4 years back): the app finds it due, but
        # the store still holds the original under the lock it was given, and refuses the delete.
        await _age_action(action["id"], YEARS_AGO_4)
        assert (await _standing(client, officer, photo["id"]))["state"] == "due"
        done = await client.post(
            "/api/v1/retention/disposals",
            json={"evidence_ids": [photo["id"]], "reason": "档案保管期满"},
            headers=supervisor,
        )
        assert done.status_code == 201, done.text
        assert done.json()["refused"] == 1 and done.json()["items"][0]["outcome"] == "refused"
        assert "lock" in done.json()["items"][0]["detail"]
        kept = await client.get(f"/api/v1/evidence/{photo['id']}/content", headers=supervisor)
        assert kept.status_code == 200 and len(kept.content) == photo["size"]


async def _refused_start(app) -> str:  # type: ignore[no-untyped-def]
    """The reason the app refused to start (the server wraps it in an exception group)."""
    with pytest.raises(BaseException) as refused:
        async with serve(app):
            pass
    error: BaseException = refused.value
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    assert isinstance(error, RuntimeError)
    return str(error)


async def test_the_buckets_lock_is_checked_at_start_and_in_readyz(migrated, s3_server, tmp_path) -> None:
    unlocked = open_store(s3_server.fresh_bucket_url(), spool_dir=str(tmp_path))
    await unlocked.ensure_bucket(object_lock=False)  # type: ignore[attr-defined]
    assert "no default object lock" in await _refused_start(create_app_for(unlocked))

    locked = open_store(s3_server.fresh_bucket_url(), spool_dir=str(tmp_path))
    await locked.ensure_bucket()  # type: ignore[attr-defined]
    assert "COMPLIANCE, not GOVERNANCE" in await _refused_start(
        create_app_for(locked, evidence_lock_mode="GOVERNANCE")
    )
    app = create_app_for(locked)
    async with serve(app) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["object_lock"] == "ok"
        # The bucket's lock shortened under a running app: no longer ready, and says why.
        s3_server.client().set_object_lock_config(  # type: ignore[attr-defined]
            locked.bucket,  # type: ignore[attr-defined]
            ObjectLockConfig(GOVERNANCE, 1, DAYS),
        )
        gone = await client.get("/readyz")
        assert gone.status_code == 503
        assert "GOVERNANCE, not COMPLIANCE" in gone.json()["checks"]["object_lock"]


async def test_a_disposal_keeps_a_rendition_another_record_still_shows(
    client, as_user, world: World, default_rules
) -> None:
    """Two photos that differ only in their EXIF make one thumbnail object: disposing of one leaves
    the other's thumbnail (and verify) intact."""
    officer, supervisor = await as_user("officer_a1"), await as_user("supervisor")
    made = []
    for taken in (datetime(2026, 11, 1, 9, tzinfo=UTC), datetime(2026, 11, 2, 9, tzinfo=UTC)):
        action = await record_action(client, officer, world)
        response = await client.post(
            f"/api/v1/actions/{action['id']}/evidence",
            content=phone_photo(taken, seed=43),
            headers={**officer, "Content-Type": "image/jpeg"},
        )
        assert response.status_code == 201, response.text
        made.append((action, response.json()))
    (old_action, old), (_, kept) = made
    assert old["sha256"] != kept["sha256"]
    rows = await Evidence.select(Evidence.renditions).where(Evidence.id.is_in([old["id"], kept["id"]]))
    keys = [json_value(r["renditions"])["thumbnail"]["key"] for r in rows]
    assert keys[0] == keys[1]
    await _age_action(old_action["id"], YEARS_AGO_4)
    done = await client.post(
        "/api/v1/retention/disposals",
        json={"evidence_ids": [old["id"]], "reason": "档案保管期满"},
        headers=supervisor,
    )
    assert done.status_code == 201, done.text
    assert done.json()["items"][0]["outcome"] == "removed"
    thumb = await client.get(f"/api/v1/evidence/{kept['id']}/thumbnail", headers=officer)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert (await client.get(f"/api/v1/evidence/{old['id']}", headers=supervisor)).status_code == 404
