"""Builders shared by the supervision-document tests: a second supervisor with signing rights and a
unit responder for town A (officer_a1) and town B (officer_b1)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import PASSWORD, World, login, unique

_signer: dict[str, str] = {}


async def ensure_people(client, world: World) -> dict[str, str]:
    """Once per session (the world is shared): the signer's username; responders named by the admin."""
    if _signer:
        return _signer
    admin = await login(client, world.username("admin"))
    username = unique("signer")
    created = await client.post(
        "/api/v1/users",
        json={
            "username": username,
            "password": PASSWORD,
            "display_name": "签发人",
            "roles": ["supervisor"],
            "unit_ids": [str(world.justice)],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    signer_id = created.json()["id"]
    granted = await client.put(
        f"/api/v1/users/{signer_id}/capabilities", json={"signing": True}, headers=admin
    )
    assert granted.status_code == 200 and granted.json()["signing"] is True, granted.text
    for officer, town in (("officer_a1", world.town_a), ("officer_b1", world.town_b)):
        named = await client.put(
            f"/api/v1/users/{world.users[officer]}/capabilities",
            json={"signing": False, "responder_units": [{"unit_id": str(town), "leader": True}]},
            headers=admin,
        )
        assert named.status_code == 200, named.text
    _signer.update(username=username, id=signer_id)
    return _signer


async def signer(client, world: World) -> dict[str, str]:
    return await login(client, (await ensure_people(client, world))["username"])


def draft_payload(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "proposal",
        "unit_id": str(world.town_a),
        "title": "关于规范现场执法行为的监督建议书",
        "facts": "经抽查，你单位执法人员现场执法时未全程开启执法记录仪。",
        "basis": "《行政执法监督条例》",
        "requirement": "请组织整改并书面报告整改情况。",
        "deadline": {"days": 10, "working": True},
    }
    body.update(overrides)
    return body


async def draft(client, headers, world: World, **overrides: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/supervision-documents", json=draft_payload(world, **overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def issued(client, world: World, **overrides: Any) -> dict[str, Any]:
    """A document drafted by the world's supervisor and issued by the signer."""
    await ensure_people(client, world)
    doc = await draft(client, await login(client, world.username("supervisor")), world, **overrides)
    response = await client.post(
        f"/api/v1/supervision-documents/{doc['id']}/issue", headers=await signer(client, world)
    )
    assert response.status_code == 200, response.text
    return {**doc, **response.json()}


def new_id() -> str:
    return str(uuid.uuid4())
