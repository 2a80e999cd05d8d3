"""Where and by which clock evidence was captured: the phone's location (when the file has no EXIF
GPS) and the phone's clock against the server's, for streamed and resumable uploads."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backend.evidence import services
from backend.evidence.tables import Evidence, Upload
from tests.conftest import World, assert_problem, make_settings
from tests.integration.enforcement_helpers import record_action
from tests.integration.evidence.photos import app_camera_photo, mp4, phone_photo, sha

TUS = {"Tus-Resumable": "1.0.0"}
EXIF_LAT, EXIF_LON = 29.157, 107.098  # what phone_photo() writes into EXIF
HEADER_LAT, HEADER_LON = 29.5631, 106.5516  # somewhere else, so the source is visible


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _phone_now(behind: timedelta = timedelta(0)) -> str:
    return (datetime.now(UTC).astimezone() - behind).isoformat()


async def _upload(client, headers, action_id: str, body: bytes, ctype: str = "image/jpeg", **extra: str):
    return await client.post(
        f"/api/v1/actions/{action_id}/evidence",
        content=body,
        headers={**headers, "Content-Type": ctype, **extra},
    )


def _meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def test_the_phones_location_is_kept_when_the_photo_has_no_gps(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    response = await _upload(
        client,
        officer,
        action["id"],
        app_camera_photo(),
        **{"X-Captured-Location": f"{HEADER_LAT},{HEADER_LON},12.5", "X-Device-Time": _phone_now()},
    )
    assert response.status_code == 201, response.text
    evidence = response.json()
    assert evidence["location"] == {"lat": HEADER_LAT, "lon": HEADER_LON}
    assert evidence["gps_accuracy_m"] == 12.5
    shown = (await client.get(f"/api/v1/evidence/{evidence['id']}", headers=officer)).json()
    assert shown["location"] == evidence["location"] and shown["gps_accuracy_m"] == 12.5

    trail = await client.get(
        f"/api/v1/evidence/{evidence['id']}/custody", headers=await as_user("supervisor")
    )
    uploaded = next(e for e in trail.json() if e["action"] == "evidence.uploaded")["data"]
    assert (uploaded["lat"], uploaded["lon"], uploaded["gps_accuracy_m"]) == (HEADER_LAT, HEADER_LON, 12.5)
    assert uploaded["device_clock_offset_s"] == evidence["device_clock_offset_s"]

    # Accuracy is optional, and a video has no EXIF at all.
    video = await _upload(
        client, officer, action["id"], mp4(), "video/mp4", **{"X-Captured-Location": "-33.8688, 151.2093"}
    )
    assert video.json()["location"] == {"lat": -33.8688, "lon": 151.2093}
    assert video.json()["gps_accuracy_m"] is None and video.json()["device_clock_offset_s"] is None


async def test_the_photos_own_gps_wins_over_the_phones_location(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    evidence = (
        await _upload(
            client,
            officer,
            action["id"],
            phone_photo(),
            **{"X-Captured-Location": f"{HEADER_LAT},{HEADER_LON},5"},
        )
    ).json()
    location = evidence["location"]
    assert abs(location["lat"] - EXIF_LAT) < 0.001 and abs(location["lon"] - EXIF_LON) < 0.001
    assert evidence["gps_accuracy_m"] is None


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Captured-Location", "29.56"),
        ("X-Captured-Location", "29.56,106.55,5,1"),
        ("X-Captured-Location", "north,east"),
        ("X-Captured-Location", "90.5,106.55"),
        ("X-Captured-Location", "29.56,-180.01"),
        ("X-Captured-Location", "29.56,106.55,-1"),
        ("X-Captured-Location", "29.56,106.55,100001"),
        ("X-Captured-Location", "nan,106.55"),
        ("X-Captured-Location", "29.56,inf"),
        ("X-Device-Time", "yesterday"),
        ("X-Device-Time", "2026-11-27T14:05:00"),  # no offset: which clock?
    ],
)
async def test_a_malformed_report_is_refused_and_nothing_is_stored(
    client, as_user, world: World, header: str, value: str
) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    media_root = Path(make_settings().media_url.removeprefix("file://"))
    before_files = _files(media_root)
    response = await _upload(client, officer, action["id"], app_camera_photo(), **{header: value})
    problem = assert_problem(response, 400, "validation.failed")
    assert problem["errors"] == [{"key": header}]
    assert await Evidence.count().where(Evidence.parent_id == uuid.UUID(action["id"])) == 0
    assert _files(media_root) == before_files
    detail = (await client.get(f"/api/v1/actions/{action['id']}", headers=officer)).json()
    assert detail["evidence_count"] == 0


async def test_a_phone_clock_set_back_is_flagged(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    behind = await _upload(
        client, officer, action["id"], app_camera_photo(), **{"X-Device-Time": _phone_now(timedelta(hours=2))}
    )
    evidence = behind.json()
    assert "device_clock_off" in evidence["flags"]
    assert abs(evidence["device_clock_offset_s"] - 7200) < 5
    shown = (await client.get(f"/api/v1/evidence/{evidence['id']}", headers=officer)).json()
    assert (
        "device_clock_off" in shown["flags"]
        and shown["device_clock_offset_s"] == evidence["device_clock_offset_s"]
    )

    slightly = await _upload(
        client,
        officer,
        action["id"],
        app_camera_photo(),
        **{"X-Device-Time": _phone_now(timedelta(minutes=3))},
    )
    assert slightly.json()["flags"] == [] and abs(slightly.json()["device_clock_offset_s"] - 180) < 5
    ahead = await _upload(
        client,
        officer,
        action["id"],
        app_camera_photo(),
        **{"X-Device-Time": _phone_now(-timedelta(hours=1))},
    )
    assert "device_clock_off" in ahead.json()["flags"] and ahead.json()["device_clock_offset_s"] < -3590


async def test_sending_the_same_bytes_again_returns_the_first_record(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    photo = app_camera_photo()
    first = await _upload(
        client,
        officer,
        action["id"],
        photo,
        **{"X-Captured-Location": f"{HEADER_LAT},{HEADER_LON},8", "X-Device-Time": _phone_now()},
    )
    # A retry hours later: the phone moved and its clock reads a different time.
    again = await _upload(
        client,
        officer,
        action["id"],
        photo,
        **{"X-Captured-Location": "30.0,107.0,50", "X-Device-Time": _phone_now(timedelta(hours=3))},
    )
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert again.json()["location"] == first.json()["location"] == {"lat": HEADER_LAT, "lon": HEADER_LON}
    assert again.json()["gps_accuracy_m"] == 8 and again.json()["flags"] == []
    assert await Evidence.count().where(Evidence.sha256 == sha(photo)) == 1


async def _tus_create(client, headers, action_id: str, length: int, **meta: str):
    return await client.post(
        "/api/v1/uploads",
        headers={
            **headers,
            **TUS,
            "Upload-Length": str(length),
            "Upload-Metadata": _meta(action_id=action_id, filetype="video/mp4", **meta),
        },
    )


async def _tus_send(client, headers, url: str, data: bytes) -> str:
    done = await client.patch(
        url,
        content=data,
        headers={
            **headers,
            **TUS,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert done.status_code == 204, done.text
    return done.headers["evidence-id"]


async def test_a_resumable_upload_carries_the_phones_location_and_clock(
    client, as_user, world: World
) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    video = mp4(200_000)
    created = await _tus_create(
        client,
        officer,
        action["id"],
        len(video),
        captured_location=f"{HEADER_LAT},{HEADER_LON},20",
        device_time=_phone_now(timedelta(hours=2)),
    )
    assert created.status_code == 201, created.text
    evidence_id = await _tus_send(client, officer, created.headers["location"], video)
    evidence = (await client.get(f"/api/v1/evidence/{evidence_id}", headers=officer)).json()
    assert evidence["location"] == {"lat": HEADER_LAT, "lon": HEADER_LON}
    assert evidence["gps_accuracy_m"] == 20
    assert "device_clock_off" in evidence["flags"] and abs(evidence["device_clock_offset_s"] - 7200) < 5


async def test_a_long_resumable_upload_from_a_correct_clock_is_not_flagged(
    client, as_user, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    video = mp4(200_000)
    created = await _tus_create(client, officer, action["id"], len(video), device_time=_phone_now())
    assert created.status_code == 201, created.text
    # The last byte arrives three hours after the upload was announced.
    later = datetime.now(UTC) + timedelta(hours=3)
    monkeypatch.setattr(services, "utcnow", lambda: later)
    evidence_id = await _tus_send(client, officer, created.headers["location"], video)
    evidence = (await client.get(f"/api/v1/evidence/{evidence_id}", headers=officer)).json()
    assert "device_clock_off" not in evidence["flags"] and abs(evidence["device_clock_offset_s"]) < 5


@pytest.mark.parametrize(
    "meta",
    [
        {"captured_location": "29.56,200"},
        {"captured_location": "29.56,106.55,-3"},
        {"captured_location": "somewhere"},
        {"device_time": "just now"},
        {"device_time": "2026-11-27T14:05:00"},
    ],
)
async def test_a_resumable_upload_with_a_malformed_report_is_not_created(
    client, as_user, world: World, meta: dict[str, str]
) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    uploads_dir = make_settings().uploads_dir
    before_rows, before_files = await Upload.count(), _files(uploads_dir)
    response = await _tus_create(client, officer, action["id"], 1000, **meta)
    problem = assert_problem(response, 400, "validation.failed")
    assert problem["errors"] == [{"key": next(iter(meta))}]
    assert await Upload.count() == before_rows and _files(uploads_dir) == before_files
