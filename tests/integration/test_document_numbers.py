"""Document numbers under concurrency: 50 issuers at once get 1..50, each once; a failed issue
gives its number back (no gap)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from backend.app import create_app
from backend.documents import services as documents
from backend.documents.tables import SupervisionDocument
from backend.lib.auth import CurrentUser
from backend.lib.clock import today_local
from backend.live.publish import OFFLINE
from tests.conftest import PASSWORD, World, login, make_settings, serve, unique
from tests.integration.document_helpers import draft


def _fresh_codes():
    """Settings with 机关代字 never used before, so every sequence starts at 1."""
    tag = uuid.uuid4().hex[:6]
    codes = tuple(
        (t, f"测{tag}{t[:2]}")
        for t in ("inspection_notice", "opinion", "proposal", "correction_order", "check_record")
    )
    return make_settings(document_codes=codes)


async def _issuing_body(client, world: World) -> tuple[dict[str, str], CurrentUser]:
    """A issuing body with its own signer."""
    admin = await login(client, world.username("admin"))
    unit = (
        await client.post("/api/v1/units", json={"name": unique("监督局"), "kind": "justice"}, headers=admin)
    ).json()
    username = unique("signer")
    user = (
        await client.post(
            "/api/v1/users",
            json={
                "username": username,
                "password": PASSWORD,
                "display_name": "签发人",
                "roles": ["supervisor"],
                "unit_ids": [unit["id"]],
            },
            headers=admin,
        )
    ).json()
    granted = await client.put(
        f"/api/v1/users/{user['id']}/capabilities", json={"signing": True}, headers=admin
    )
    assert granted.status_code == 200
    actor = CurrentUser(
        id=uuid.UUID(user["id"]),
        username=username,
        display_name="签发人",
        roles=frozenset({"supervisor"}),
        unit_ids=frozenset({uuid.UUID(unit["id"])}),
        session_id=uuid.uuid4(),
    )
    return await login(client, username), actor


async def test_fifty_concurrent_issues_get_numbers_1_to_50_each_once(migrated, world: World) -> None:
    settings = _fresh_codes()
    code = settings.document_code("correction_order")
    async with serve(create_app(settings)) as client:
        headers, _ = await _issuing_body(client, world)
        supervisor = await login(client, world.username("supervisor"))
        drafts = [await draft(client, supervisor, world, type="correction_order") for _ in range(50)]
        responses = await asyncio.gather(
            *(client.post(f"/api/v1/supervision-documents/{d['id']}/issue", headers=headers) for d in drafts)
        )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
    year = today_local().year
    prefix = f"{code}〔{year}〕"
    numbers = sorted(int(r.json()["number"].removeprefix(prefix).removesuffix("号")) for r in responses)
    assert numbers == list(range(1, 51))
    rows = await SupervisionDocument.select(SupervisionDocument.number, SupervisionDocument.pdf_sha256).where(
        SupervisionDocument.id.is_in([uuid.UUID(d["id"]) for d in drafts])
    )
    assert len({r["number"] for r in rows}) == 50 and all(r["pdf_sha256"] for r in rows)


async def test_a_failed_issue_leaves_no_gap(client, as_user, world: World) -> None:
    _, signer = await _issuing_body(client, world)
    supervisor = await as_user("supervisor")
    first = await draft(client, supervisor, world, type="opinion")
    second = await draft(client, supervisor, world, type="opinion")

    async def broken(row, issuer, settings):
        raise RuntimeError("the typesetter failed")

    settings = _fresh_codes()
    code = settings.document_code("opinion")
    with pytest.raises(RuntimeError):
        await documents.issue(signer, uuid.UUID(first["id"]), settings, OFFLINE, broken)
    row = await SupervisionDocument.select().where(SupervisionDocument.id == first["id"]).first()
    assert row["status"] == "draft" and row["number"] is None
    done = await documents.issue(signer, uuid.UUID(second["id"]), settings, OFFLINE)
    assert done.number == f"{code}〔{today_local().year}〕1号"
    retried = await documents.issue(signer, uuid.UUID(first["id"]), settings, OFFLINE)
    assert retried.number == f"{code}〔{today_local().year}〕2号"


def test_the_number_format_follows_gb_t_9704() -> None:
    assert documents.format_number("南川司监", 2026, 7) == "南川司监〔2026〕7号"
