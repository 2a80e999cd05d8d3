"""Supervision documents on the live stream: the unit and the supervision office see each change,
another unit does not."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import World
from tests.integration.document_helpers import ensure_people, issued
from tests.integration.live.conftest import token_for, watching


async def test_an_issued_and_answered_document_streams_to_the_unit_and_supervisors(api, world: World) -> None:
    async with httpx.AsyncClient(base_url=api) as client:
        await ensure_people(client, world)
        supervisor = await token_for(api, world.username("supervisor"))
        unit = await token_for(api, world.username("officer_a1"))
        other = await token_for(api, world.username("officer_b1"))
        async with (
            watching(api, supervisor) as office,
            watching(api, unit) as inbox,
            watching(api, other) as elsewhere,
        ):
            doc = await issued(client, world)
            for watcher in (office, inbox):
                event = await watcher.wait_for(
                    lambda e: (
                        e["type"] == "document.updated"
                        and e["data"]["id"] == doc["id"]
                        and e["data"]["change"] == "issued"
                    )
                )
                assert event["data"]["number"] == doc["number"] and event["unit_id"] == str(world.town_a)
            headers = {"Authorization": f"Bearer {unit}"}
            answer = await client.post(
                f"/api/v1/supervision-documents/{doc['id']}/response",
                json={"text": "已整改。"},
                headers=headers,
            )
            assert answer.status_code == 200, answer.text
            await office.wait_for(
                lambda e: (
                    e["type"] == "document.updated"
                    and e["data"]["change"] == "responded"
                    and e["data"]["id"] == doc["id"]
                )
            )
            await asyncio.sleep(0.3)
            assert not [e for e in elsewhere.of("document.updated") if e["data"]["id"] == doc["id"]]
