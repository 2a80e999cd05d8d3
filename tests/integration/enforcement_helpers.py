"""Builders shared by the enforcement tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import World


def action_payload(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "unit_id": str(world.town_a),
        "item_id": str(world.items["delegated"]),
        "kind": "inspection",
        "officer_ids": [str(world.users["officer_a1"]), str(world.users["officer_a2"])],
        "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "location": {"lat": 29.157, "lon": 107.098, "accuracy_m": 8.5},
        "address": "水江镇和平路12号",
        "party": {"name": "某某餐馆", "type": "organisation", "id_number": "500119199001011234"},
        "notes": "门前占道经营，已现场劝导",
    }
    body.update(overrides)
    return body


async def record_action(client, headers, world: World, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/actions", json=action_payload(world, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def open_case(client, headers, world: World, action_ids: list[str], **overrides: Any) -> dict[str, Any]:
    body = {
        "unit_id": str(world.town_a),
        "item_id": str(world.items["delegated"]),
        "action_ids": action_ids,
        "summary": "某某餐馆占道经营案",
        **overrides,
    }
    response = await client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()
