"""Attendance by the phone's camera: the supervisor taps 扫码签到 and the officer's certificate QR,
held up to the camera, marks the officer present. The camera is Chromium's fake one, playing a
video of the card's real QR code (made here from the check link the server signs)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
import segno
from PIL import Image
from playwright.async_api import async_playwright, expect

from tests.e2e.conftest import CHROMIUM_ARGS, sign_in
from tests.e2e.test_training import PHONE, line_of, township_with_officers

pytestmark = pytest.mark.e2e


def camera_video(text: str, path: Path, size: tuple[int, int] = (640, 480), frames: int = 10) -> Path:
    """A Y4M clip (what Chromium's fake camera plays) of a card's QR code on a white table."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=6, border=4)
    qr = Image.open(io.BytesIO(out.getvalue())).convert("RGB")
    side = min(size) - 80
    qr = qr.resize((side, side), Image.NEAREST)
    frame = Image.new("RGB", size, (245, 245, 245))
    frame.paste(qr, ((size[0] - side) // 2, (size[1] - side) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (size[0] // 2, size[1] // 2)
    planes = (
        y.tobytes() + cb.resize(half, Image.BILINEAR).tobytes() + cr.resize(half, Image.BILINEAR).tobytes()
    )
    with path.open("wb") as fh:
        fh.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(b"FRAME\n" + planes)
    return path


async def test_the_card_held_up_to_the_camera_signs_the_officer_in(
    api, password: str, live_server, chromium_path: str, tmp_path: Path
) -> None:
    unit, people = township_with_officers(api, password)
    supervisor_api = api("supervisor")
    justice = next(u for u in supervisor_api.get("/units", limit=200)["items"] if u["kind"] == "justice")
    training = supervisor_api.post(
        "/trainings",
        {
            "title": "以案释法专题培训",
            "format": "以案释法",
            "organiser_unit_id": justice["id"],
            "held_on": str(date.today()),  # this year's: the officer's 我的培训 shows it
            "hours": 2,
            "unit_ids": [unit["id"]],
        },
    )
    card = supervisor_api.get(f"/users/{people['present'].user['id']}/certificate/qr")
    video = camera_video(card["url"], tmp_path / "card.y4m")

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=chromium_path, args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={video}"]
        )
        try:
            context = await browser.new_context(
                base_url=live_server[0], viewport=PHONE, locale="zh-CN", permissions=["camera"]
            )
            phone = await context.new_page()
            await sign_in(phone, "supervisor", password, "supervisor")
            await phone.goto(f"/#/trainings/{training['id']}")
            await expect(phone.get_by_test_id("training-title")).to_have_text("以案释法专题培训")
            await expect(line_of(phone, people["present"])).to_have_attribute("data-status", "")
            await phone.get_by_test_id("card-scan").click()
            await expect(phone.get_by_test_id("card-message")).to_have_text("已签到。", timeout=15_000)
            await expect(line_of(phone, people["present"])).to_have_attribute("data-status", "present")
            # The camera is off again once the card was read.
            await expect(phone.get_by_test_id("qr-scanner")).to_be_hidden()
            assert await phone.evaluate("document.querySelector('.qr-scan__video').srcObject") is None

            # The officer's own phone: 我的培训 shows the training as attended, with its hours.
            mine = await (
                await browser.new_context(base_url=live_server[0], viewport=PHONE, locale="zh-CN")
            ).new_page()
            await sign_in(mine, people["present"].user["username"], password, "officer")
            await mine.get_by_test_id("my-training-link").click()
            line = mine.get_by_test_id("my-training-line").filter(has_text="以案释法专题培训")
            await expect(line).to_contain_text("已到")
            await expect(mine.get_by_test_id("my-hours")).to_contain_text(
                f"{date.today().year} 年已参训 2 学时"
            )
        finally:
            await browser.close()
    stored = {
        r["officer_id"]: r["status"] for r in supervisor_api.get(f"/trainings/{training['id']}/attendance")
    }
    assert stored.get(people["present"].user["id"]) == "present"
    assert stored.get(people["absent"].user["id"]) != "present"
