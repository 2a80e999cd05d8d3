"""The evidence viewer in a real browser: a supervisor opens a photo from the feed and sees its thumbnail,
fingerprint, times, a time warning and the chain of custody, which grows when the original is viewed;
the officer reaches it from the action; an officer of another township is told it is not available."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import ExifTags, Image
from playwright.async_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.integration.evidence.photos import mp4, pattern_video

pytestmark = pytest.mark.e2e

BEIJING = ZoneInfo("Asia/Shanghai")
SHOTS = os.environ.get("FIELDWATCH_E2E_SCREENSHOTS")
UNAVAILABLE = "无法查看该证据（不存在或无权查看）"


async def shot(page: Page, name: str) -> None:
    """Save the phone screen and the full page when FIELDWATCH_E2E_SCREENSHOTS names a folder."""
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))
        await page.screenshot(path=str(Path(SHOTS) / f"{name}-full.png"), full_page=True)


def record_action(api) -> dict:
    """An on-site inspection by officer1 and officer2 of 水江镇, recorded through the API."""
    client = api("officer1")
    unit = next(u for u in client.user["units"] if u["name"] == "水江镇")
    items = client.get("/items", unit_id=unit["id"], limit=200)["items"]
    item = next(i for i in items if i["code"] == "CG-001")
    body = {
        "unit_id": unit["id"],
        "item_id": item["id"],
        "kind": "inspection",
        "officer_ids": [client.user["id"], api("officer2").user["id"]],
        "occurred_at": datetime.now(UTC).isoformat(),
        "location": {"lat": 29.158, "lon": 107.097, "accuracy_m": 12},
        "address": "水江镇滨江路12号门前",
        "notes": "现场检查，拍照取证",
    }
    return client.post("/actions", body)


def phone_photo(taken: datetime) -> bytes:
    """A JPEG as a phone writes it: make and model, the capture time and GPS in EXIF."""
    img = Image.new("RGB", (800, 600), (40, 120, 200))
    for x in range(0, 800, 40):
        img.paste((230, 180, 40), (x, 250, x + 20, 350))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "HUAWEI"
    exif[ExifTags.Base.Model] = "P60"
    exif[ExifTags.IFD.Exif] = {
        ExifTags.Base.DateTimeOriginal: taken.strftime("%Y:%m:%d %H:%M:%S"),
        ExifTags.Base.OffsetTimeOriginal: "+08:00",
    }
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (29.0, 9.0, 25.2),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (107.0, 5.0, 52.8),
    }
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def upload(
    client, action_id: str, body: bytes, captured_at: datetime, content_type: str = "image/jpeg"
) -> dict:
    """POST the raw bytes as the phone's direct upload does."""
    conn = http.client.HTTPConnection(client.host, int(client.port), timeout=30)
    try:
        conn.request(
            "POST",
            f"/api/v1/actions/{action_id}/evidence",
            body,
            {
                "Authorization": f"Bearer {client.token}",
                "Content-Type": content_type,
                "X-Captured-At": captured_at.isoformat(),
            },
        )
        res = conn.getresponse()
        data = json.loads(res.read())
    finally:
        conn.close()
    assert res.status == 201, data
    return data


def beijing(value: datetime) -> str:
    return value.astimezone(BEIJING).strftime("%Y年%m月%d日 %H:%M:%S")


def watch_requests(page: Page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    return urls


async def test_supervisor_sees_fingerprint_times_and_custody(new_page, api, password: str) -> None:
    officer = api("officer1")
    action = record_action(api)
    taken = datetime.now(BEIJING).replace(microsecond=0) - timedelta(minutes=3)
    photo = phone_photo(taken)
    sha256 = hashlib.sha256(photo).hexdigest()
    # The phone's clock says 40 minutes earlier than the photo's own EXIF time: flagged.
    phone_time = taken - timedelta(minutes=40)
    evidence = upload(officer, action["id"], photo, phone_time)
    assert evidence["sha256"] == sha256
    assert evidence["flags"] == ["device_time_disagrees_with_exif"]
    url = f"/#/evidence/{evidence['id']}"

    # the supervisor opens it from the photo on the feed card
    page = await new_page()
    requests = watch_requests(page)
    await sign_in(page, "supervisor", password, "supervisor")
    card = page.locator(f'[data-testid="feed-item"][data-action-id="{action["id"]}"]')
    link = card.get_by_test_id("feed-evidence-link")
    await expect(link.locator("img")).to_have_attribute("src", re.compile(r"^blob:"))
    await link.click()
    await expect(page).to_have_url(re.compile(rf"#/evidence/{evidence['id']}$"))
    await expect(page.get_by_role("heading", level=1, name="证据详情")).to_be_visible()

    thumb = page.get_by_test_id("evidence-thumbnail")
    await expect(thumb).to_be_visible()
    await expect(thumb).to_have_attribute("src", re.compile(r"^blob:"))
    assert await thumb.evaluate("(img) => img.complete && img.naturalWidth > 0")

    await expect(page.get_by_test_id("evidence-sha256")).to_have_text(sha256)
    await expect(page.get_by_test_id("evidence-type")).to_have_text("照片（JPEG）")
    await expect(page.get_by_test_id("evidence-size")).to_contain_text(f"{len(photo):,} 字节")
    await expect(page.get_by_test_id("evidence-captured")).to_have_text(beijing(phone_time))
    await expect(page.get_by_test_id("evidence-exif-time")).to_have_text(beijing(taken))
    await expect(page.get_by_test_id("evidence-received")).to_have_text(
        beijing(datetime.fromisoformat(evidence["received_at"]))
    )
    await expect(page.get_by_test_id("evidence-location")).to_have_text("北纬 29.15700，东经 107.09800")
    await expect(page.get_by_test_id("evidence-device")).to_have_text("HUAWEI P60")
    await expect(page.get_by_test_id("evidence-upload")).to_have_text("直接上传")
    flags = page.get_by_test_id("evidence-flags")
    await expect(flags).to_contain_text("手机时间与照片时间不一致")
    await expect(flags).not_to_contain_text("device_time")

    # the chain of custody: the upload by 张伟 and the supervisor's own look at the thumbnail
    custody = page.get_by_test_id("custody")
    uploaded = custody.locator('[data-action="evidence.uploaded"]')
    await expect(uploaded).to_have_count(1)
    await expect(uploaded).to_contain_text("上传")
    await expect(uploaded).to_contain_text("张伟")
    await expect(custody.locator('[data-action="evidence.viewed"]').first).to_contain_text("刘明")
    downloads = custody.locator('[data-action="evidence.downloaded"]')
    await expect(downloads).to_have_count(0)
    assert await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    await shot(page, "evidence-supervisor")

    # 查看原件 shows the original and adds a download to the custody list
    await page.get_by_role("button", name=re.compile(r"^查看原件")).click()
    original = page.get_by_test_id("evidence-content")
    await expect(original).to_be_visible()
    assert await original.evaluate("(img) => img.complete && img.naturalWidth === 800")
    await expect(downloads).to_have_count(1)
    await expect(downloads).to_contain_text("下载原件")
    await expect(downloads).to_contain_text("刘明")
    await shot(page, "evidence-supervisor-original")

    stored = api("supervisor").get(f"/evidence/{evidence['id']}/custody")
    assert [e["actor"] for e in stored if e["action"] == "evidence.downloaded"] == ["supervisor"]
    # the token travels in a header, never in a URL
    api_urls = [u for u in requests if "/api/v1/evidence/" in u]
    assert api_urls and not [u for u in api_urls if "?" in u or "token" in u.lower()], api_urls

    # an officer of another township is told it is not available
    other = await new_page()
    await sign_in(other, "officer3", password, "officer")
    await other.goto(url)
    await expect(other.get_by_test_id("evidence-unavailable")).to_have_text(UNAVAILABLE)
    await expect(other.get_by_test_id("evidence-sha256")).to_have_count(0)
    await shot(other, "evidence-unavailable")


async def test_officer_opens_the_photo_from_the_action(new_page, api, password: str) -> None:
    action = record_action(api)
    taken = datetime.now(BEIJING).replace(microsecond=0) - timedelta(minutes=1)
    photo = phone_photo(taken)
    evidence = upload(api("officer1"), action["id"], photo, taken)
    assert evidence["flags"] == []

    page = await new_page()
    await sign_in(page, "officer1", password, "officer")
    await page.goto(f"/#/officer/actions/{action['id']}")
    link = page.get_by_test_id("action-evidence").get_by_test_id("evidence-link")
    await expect(link).to_have_count(1)
    await expect(link.locator("img")).to_have_attribute("src", re.compile(r"^blob:"))
    await link.click()
    await expect(page).to_have_url(re.compile(rf"#/evidence/{evidence['id']}$"))
    await expect(page.get_by_test_id("evidence-sha256")).to_have_text(hashlib.sha256(photo).hexdigest())
    await expect(page.get_by_test_id("evidence-thumbnail")).to_be_visible()
    await expect(page.get_by_test_id("evidence-flags")).to_have_count(0)
    # custody is for supervisors; 返回 leads back to the record
    await expect(page.get_by_test_id("custody")).to_have_count(0)
    await page.get_by_role("link", name="返回").click()
    await expect(page).to_have_url(re.compile(rf"#/officer/actions/{action['id']}$"))


def rendered(client, evidence_id: str) -> dict:
    """The evidence once the server's rendition job has finished with it (nudged by the upload)."""
    for _ in range(100):
        evidence = client.get(f"/evidence/{evidence_id}")
        if evidence["rendition_state"] != "pending":
            return evidence
        time.sleep(0.2)
    raise AssertionError(f"evidence {evidence_id} still pending")


async def test_a_video_shows_its_server_poster_and_a_failed_one_says_why(
    new_page, api, password: str
) -> None:
    action = record_action(api)
    officer = api("officer1")
    now = datetime.now(BEIJING).replace(microsecond=0)
    video = upload(officer, action["id"], pattern_video("libx264", "mp4"), now, "video/mp4")
    corrupt = mp4()  # a valid ftyp head, then random bytes
    broken = upload(officer, action["id"], corrupt, now, "video/mp4")
    assert rendered(officer, video["id"])["rendition_state"] == "done"
    assert rendered(officer, broken["id"])["rendition_state"] == "failed"

    page = await new_page()
    await sign_in(page, "officer1", password, "officer")
    await page.goto(f"/#/officer/actions/{action['id']}")
    grid = page.get_by_test_id("action-evidence")
    await expect(grid.get_by_test_id("evidence-link")).to_have_count(2)
    await expect(grid.get_by_test_id("evidence-media")).to_have_text("00:03 · H264")
    await expect(grid.get_by_test_id("rendition-failed")).to_contain_text("预览生成失败：")

    await page.goto(f"/#/evidence/{video['id']}")
    await expect(page.get_by_test_id("evidence-poster")).to_be_visible()
    await expect(page.get_by_test_id("evidence-duration")).to_have_text("00:03")
    await expect(page.get_by_test_id("evidence-codec")).to_have_text("H264")
    await page.get_by_test_id("show-content").click()
    await expect(page.get_by_test_id("evidence-video")).to_have_attribute("poster", re.compile(r"^blob:"))
    await shot(page, "evidence-video-poster")

    await page.goto(f"/#/evidence/{broken['id']}")
    notice = page.get_by_test_id("rendition-failed")
    await expect(notice).to_contain_text("预览生成失败：")
    await expect(notice).to_contain_text("（原件已保存）")
    await expect(page.get_by_test_id("evidence-sha256")).to_have_text(hashlib.sha256(corrupt).hexdigest())
