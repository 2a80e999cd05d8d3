"""全过程记录: an act of a kind that needs audio-video is accepted but incomplete until a video or
audio file is attached; a case on it cannot be decided; after the grace period one alert; a video
arriving hours later through the resumable upload (the phone's outbox) completes it, no alert."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

from backend.actions import services as actions_services
from backend.actions.tables import Action
from backend.alerts.tables import Alert
from backend.cases.tables import Case
from backend.lib.clock import utcnow
from backend.live.publish import Publisher
from tests.conftest import World, assert_problem
from tests.integration.enforcement_helpers import open_case, record_action
from tests.integration.evidence.photos import mp4, phone_photo
from tests.integration.test_clocks import decide

TUS = {"Tus-Resumable": "1.0.0"}


class _Quiet(Publisher):
    def __init__(self) -> None:
        pass

    async def publish(self, *args, **kwargs) -> None:  # type: ignore[override]
        return None


async def _alerts(action_id: str) -> int:
    return await Alert.count().where(
        (Alert.object_id == action_id) & (Alert.type == "action.recording_missing")
    )


async def _age(action_id: str, hours: float) -> None:
    """The act reached the server ``hours`` ago."""
    await (
        Action.update({Action.created_at: utcnow() - timedelta(hours=hours)})
        .where(Action.id == action_id)
        .run()
    )


async def _resumable_video(client, headers, action_id: str) -> None:
    video = mp4(200_000)
    meta = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in {"action_id": action_id, "filetype": "video/mp4", "filename": "留置送达.mp4"}.items()
    )
    created = await client.post(
        "/api/v1/uploads",
        headers={**headers, **TUS, "Upload-Length": str(len(video)), "Upload-Metadata": meta},
    )
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    for start, end in ((0, 120_000), (120_000, len(video))):
        piece = video[start:end]
        response = await client.patch(
            url,
            content=piece,
            headers={
                **headers,
                **TUS,
                "Upload-Offset": str(start),
                "Content-Type": "application/offset+octet-stream",
                "Upload-Checksum": "sha256 " + base64.b64encode(hashlib.sha256(piece).digest()).decode(),
            },
        )
        assert response.status_code == 204, response.text


async def test_a_coercive_act_is_incomplete_and_blocks_the_decision_until_its_video(
    client, as_user, world: World
) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world, kind="coercive", notes="查封扣押占道经营物品")
    assert action["recording_required"] is True and action["recording_missing"] is True
    plain = await record_action(client, officer, world)
    assert plain["recording_required"] is False and plain["recording_missing"] is False
    case = await open_case(client, officer, world, [action["id"], plain["id"]])
    refused = await decide(client, officer, case)
    body = assert_problem(refused, 422, "case.recording_missing")
    assert body["action_ids"] == [action["id"]]
    row = await Case.select(Case.status, Case.decision).where(Case.id == case["id"]).first()
    assert row["status"] == "investigating" and row["decision"] in (None, "null")
    # A photo is not a recording.
    photo = await client.post(
        f"/api/v1/actions/{action['id']}/evidence",
        content=phone_photo(),
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert photo.status_code == 201, photo.text
    shown = (await client.get(f"/api/v1/actions/{action['id']}", headers=officer)).json()
    assert shown["recording_missing"] is True
    video = await client.post(
        f"/api/v1/actions/{action['id']}/evidence",
        content=mp4(50_000),
        headers={**officer, "Content-Type": "video/mp4"},
    )
    assert video.status_code == 201, video.text
    shown = (await client.get(f"/api/v1/actions/{action['id']}", headers=officer)).json()
    assert shown["recording_missing"] is False
    decided = await client.post(
        f"/api/v1/cases/{case['id']}/decision", json={"fine": 200, "measures": ["警告"]}, headers=officer
    )
    assert decided.status_code == 200, decided.text


async def test_a_major_cases_inspection_needs_its_recording_too(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    reviewer = await as_user("reviewer_a")
    inspection = await record_action(client, officer, world, kind="inspection")
    case = await open_case(client, officer, world, [inspection["id"]])
    patched = await client.patch(
        f"/api/v1/cases/{case['id']}",
        json={"version": case["version"], "investigation": "经查属实", "proposed_decision": {"fine": 20000}},
        headers=officer,
    )
    assert patched.status_code == 200, patched.text
    review = await client.post(f"/api/v1/cases/{case['id']}/submit-review", headers=officer)
    assert review.status_code == 200, review.text
    approved = await client.post(
        f"/api/v1/cases/{case['id']}/review", json={"approved": True, "opinion": "同意"}, headers=reviewer
    )
    assert approved.status_code == 200, approved.text
    refused = await client.post(f"/api/v1/cases/{case['id']}/decision", headers=officer)
    assert assert_problem(refused, 422, "case.recording_missing")["action_ids"] == [inspection["id"]]
    audio = await client.post(
        f"/api/v1/actions/{inspection['id']}/evidence",
        content=mp4(40_000),  # an .m4a: the same ISO-BMFF container
        headers={**officer, "Content-Type": "audio/mp4"},
    )
    assert audio.status_code == 201, audio.text
    decided = await client.post(f"/api/v1/cases/{case['id']}/decision", headers=officer)
    assert decided.status_code == 200, decided.text


async def test_after_the_grace_period_one_alert_and_the_unit_counts_it(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world, kind="service_left")
    events = _Quiet()
    await _age(action["id"], 3)
    await actions_services.check_recordings(events)
    assert await _alerts(action["id"]) == 0  # within the 24 hours
    counts = (
        await client.get("/api/v1/clocks", params={"unit_id": str(world.town_a)}, headers=officer)
    ).json()
    await _age(action["id"], 25)
    await actions_services.check_recordings(events)
    await actions_services.check_recordings(events)
    assert await _alerts(action["id"]) == 1
    after = (
        await client.get("/api/v1/clocks", params={"unit_id": str(world.town_a)}, headers=officer)
    ).json()
    assert after["recordings_overdue"] == counts["recordings_overdue"] + 1
    assert after["recordings_missing"] == counts["recordings_missing"]
    other = await as_user("officer_b1")
    theirs = (await client.get("/api/v1/clocks", params={"unit_id": str(world.town_a)}, headers=other)).json()
    assert theirs["recordings_missing"] == 0 and theirs["items"] == []


async def test_a_video_arriving_hours_later_through_the_outbox_completes_the_act_with_no_alert(
    client, as_user, world: World
) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world, kind="coercive")
    await _age(action["id"], 6)  # the record came first; the video follows hours later
    await actions_services.check_recordings(_Quiet())
    await _resumable_video(client, officer, action["id"])
    shown = (await client.get(f"/api/v1/actions/{action['id']}", headers=officer)).json()
    assert shown["recording_missing"] is False and shown["evidence_count"] == 1
    await _age(action["id"], 48)
    await actions_services.check_recordings(_Quiet())
    assert await _alerts(action["id"]) == 0


async def test_an_unknown_kind_is_refused_and_nothing_is_written(client, as_user, world: World) -> None:
    from tests.integration.enforcement_helpers import action_payload

    officer = await as_user("officer_a1")
    body = action_payload(world, kind="demolition")
    response = await client.post("/api/v1/actions", json=body, headers=officer)
    assert_problem(response, 400, "validation.failed")
    assert await Action.count().where(Action.id == body["id"]) == 0
