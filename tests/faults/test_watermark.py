"""No CJK font: photos are stored without their watermark, readiness says so (degraded, still
ready), and once the font is there the backfill renders the missing watermarks, leaves the
originals alone, and does nothing the second time."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backend.app import create_app
from backend.evidence import backfill
from backend.evidence.tables import Evidence
from media_store import open_store
from tests.conftest import World, login, make_settings, serve
from tests.integration.enforcement_helpers import record_action
from tests.integration.evidence.photos import phone_photo

pytestmark = pytest.mark.faults


async def test_photos_stored_without_the_font_get_their_watermark_once_it_is_there(
    migrated, world: World, tmp_path: Path
) -> None:
    no_font = make_settings(cjk_font=str(tmp_path / "absent.ttc"))
    store = open_store(no_font.media_url)
    taken = datetime.now(UTC).astimezone().replace(microsecond=0) - timedelta(minutes=2)
    photo = phone_photo(taken, seed=int(uuid.uuid4().int % 1000))
    async with serve(create_app(no_font, store=store)) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["watermark"].startswith("degraded")
        officer = await login(client, world.username("officer_a1"))
        action = await record_action(client, officer, world)
        response = await client.post(
            f"/api/v1/actions/{action['id']}/evidence",
            content=photo,
            headers={**officer, "Content-Type": "image/jpeg"},
        )
        assert response.status_code == 201, response.text
        evidence = response.json()
        assert evidence["renditions"]["thumbnail"] and evidence["renditions"]["watermarked"] is None
        # Without the font, the backfill refuses and changes nothing.
        assert (await backfill.backfill_watermarks(store, no_font)).font_problem

    # The font is installed (the default one): the app's start-up backfill renders the watermark.
    async with serve(create_app(make_settings(), store=store)) as client:
        officer = await login(client, world.username("officer_a1"))
        deadline = time.monotonic() + 20
        while True:
            view = (await client.get(f"/api/v1/evidence/{evidence['id']}", headers=officer)).json()
            if view["renditions"]["watermarked"] or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert view["renditions"]["watermarked"], view
        assert (await client.get("/readyz")).json()["status"] == "ready"
        stamped = await client.get(f"/api/v1/evidence/{evidence['id']}/watermarked", headers=officer)
        assert stamped.status_code == 200 and stamped.content[:2] == b"\xff\xd8"
        assert stamped.content != photo
        original = await client.get(f"/api/v1/evidence/{evidence['id']}/content", headers=officer)
        assert original.content == photo and evidence["sha256"] == hashlib.sha256(photo).hexdigest()
        row = await Evidence.select(Evidence.renditions).where(Evidence.id == evidence["id"]).first()

        again = await backfill.backfill_watermarks(store, make_settings())
        assert again.rendered == 0 and again.font_problem is None
        after = await Evidence.select(Evidence.renditions).where(Evidence.id == evidence["id"]).first()
        assert after == row
