"""Text with U+0000 is a 400 naming where it was, and changes nothing, on both databases.

PostgreSQL cannot store the character: before it was refused at the door, such values failed in the
database as a 500 (a note, a party's name, a sign-in name, an audit filter, an upload's filename).
"""

from __future__ import annotations

import base64
from urllib.parse import quote

from backend.actions.tables import Action
from backend.evidence.tables import Evidence, Upload
from tests.conftest import World, assert_problem
from tests.integration.enforcement_helpers import action_payload, record_action
from tests.integration.evidence.photos import phone_photo


def _nul_refused(response, key: str) -> None:
    body = assert_problem(response, 400, "validation.failed")
    assert "U+0000" in body["detail"]
    assert [e["key"] for e in body["errors"]] == [key], body


async def test_json_bodies_with_nul_are_refused_and_store_nothing(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    actions_before = await Action.count()
    cases = {
        "notes": action_payload(world, notes="门前占道\u0000经营"),
        "party.name": action_payload(
            world, party={"name": "某某\u0000餐馆", "type": "organisation", "id_number": "5001"}
        ),
        "officer_ids[1]": action_payload(world, officer_ids=[str(world.users["officer_a1"]), "\u0000"]),
    }
    for key, body in cases.items():
        _nul_refused(await client.post("/api/v1/actions", json=body, headers=officer), key)
    assert await Action.count() == actions_before
    # An escaped backslash before "u0000" is ordinary text, not the character.
    await record_action(client, officer, world, notes="路径 C:\\u0000 不是空字符")

    _nul_refused(
        await client.post("/api/v1/auth/login", json={"username": "officer\u0000", "password": "x" * 12}),
        "username",
    )


async def test_a_query_string_or_path_with_nul_is_refused(client, as_user) -> None:
    supervisor = await as_user("supervisor")
    _nul_refused(await client.get("/api/v1/audit?action=a%00b", headers=supervisor), "query")
    assert (await client.get("/api/v1/audit?action=ab", headers=supervisor)).status_code == 200
    # The PWA's files: the lookup of a name with U+0000 once failed with a 500.
    _nul_refused(await client.get("/index.html%00.js"), "path")
    assert (await client.get("/index.html")).status_code == 200


async def test_upload_names_with_nul_are_refused_and_store_nothing(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    action = await record_action(client, officer, world)
    uploads_before, evidence_before = await Upload.count(), await Evidence.count()
    metadata = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in {"action_id": action["id"], "filetype": "video/mp4", "filename": "视频\u0000.mp4"}.items()
    )
    response = await client.post(
        "/api/v1/uploads",
        headers={**officer, "Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Metadata": metadata},
    )
    _nul_refused(response, "Upload-Metadata filename")
    response = await client.post(
        f"/api/v1/actions/{action['id']}/evidence",
        content=phone_photo(),
        headers={**officer, "Content-Type": "image/jpeg", "X-Filename": quote("照片\u0000.jpg")},
    )
    _nul_refused(response, "X-Filename")
    assert (await Upload.count(), await Evidence.count()) == (uploads_before, evidence_before)


async def test_a_cursor_carrying_nul_is_refused(client, as_user) -> None:
    from backend.lib.pagination import encode_cursor

    admin = await as_user("admin")
    for path in ("/api/v1/units", "/api/v1/users", "/api/v1/items"):
        response = await client.get(f"{path}?cursor={encode_cursor('水江镇' + chr(0))}", headers=admin)
        assert assert_problem(response, 400, "validation.failed")["errors"] == [{"key": "cursor"}], path
        assert (
            await client.get(f"{path}?cursor={encode_cursor('水江镇')}", headers=admin)
        ).status_code == 200
