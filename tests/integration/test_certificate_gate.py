"""The certificate gate: every enforcement act by an officer × every certificate state. A valid
certificate lets the act through; suspended, revoked and expired ones are refused with
422 certificate.invalid naming the officer and the reason, and the act leaves nothing behind."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from backend.accounts.tables import Certificate
from backend.cases.tables import Case
from backend.evidence.tables import Evidence, Upload
from backend.lib.clock import today_local
from backend.live.tables import Position
from backend.supervision.tables import SpotCheck
from tests.conftest import PASSWORD, World, assert_problem, login, unique
from tests.integration.document_helpers import issued
from tests.integration.enforcement_helpers import action_payload, open_case, record_action
from tests.integration.evidence.photos import mp4, phone_photo

STATES = ("valid", "suspended", "revoked", "expired")
REASONS = {"suspended": "停职审查", "revoked": "年度考核不合格", "expired": None}
TUS = {"Tus-Resumable": "1.0.0"}

_officers: dict[str, tuple[uuid.UUID, str]] = {}


async def _officer(client: httpx.AsyncClient, world: World, state: str) -> tuple[uuid.UUID, str]:
    """One officer of town A per state, responder for town A's documents (made once per session)."""
    if state not in _officers:
        admin = await login(client, world.username("admin"))
        username = unique(f"gate-{state}")
        created = await client.post(
            "/api/v1/users",
            json={
                "username": username,
                "password": PASSWORD,
                "display_name": f"门禁{state}",
                "roles": ["officer"],
                "unit_ids": [str(world.town_a)],
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        user_id = uuid.UUID(created.json()["id"])
        today = today_local()
        await Certificate.insert(
            Certificate(
                id=uuid.uuid4(),
                user=user_id,
                number=unique("GATE"),
                issued_on=today - timedelta(days=400),
                expires_on=today + timedelta(days=300),
            )
        ).run()
        named = await client.put(
            f"/api/v1/users/{user_id}/capabilities",
            json={"signing": False, "responder_units": [{"unit_id": str(world.town_a), "leader": False}]},
            headers=admin,
        )
        assert named.status_code == 200, named.text
        _officers[state] = (user_id, username)
    user_id, username = _officers[state]
    await _set_state(user_id, "valid")
    return user_id, username


async def _set_state(user_id: uuid.UUID, state: str) -> None:
    today = today_local()
    values: dict[Any, Any] = {
        Certificate.status: "valid" if state == "expired" else state,
        Certificate.status_reason: REASONS.get(state),
        Certificate.revoked_reason: REASONS["revoked"] if state == "revoked" else None,
        Certificate.expires_on: today - timedelta(days=1)
        if state == "expired"
        else today + timedelta(days=300),
    }
    await Certificate.update(values).where(Certificate.user == user_id).run()


def _meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def _case_at(client, world: World, status: str) -> dict[str, Any]:
    """A town-A case filed by officer_a1 and moved to ``status``."""
    opener = await login(client, world.username("officer_a1"))
    case = await open_case(client, opener, world, [])
    await Case.update({Case.status: status}).where(Case.id == uuid.UUID(case["id"])).run()
    return case


# Each act: (prepare while the certificate is valid, the act). The act returns the response; the
# check after a refusal returns whether anything was left behind.
Act = Callable[..., Awaitable[httpx.Response]]


async def act_record_action(client, world, me, user_id) -> httpx.Response:
    body = action_payload(world, officer_ids=[str(user_id), str(world.users["officer_a2"])])
    return await client.post("/api/v1/actions", json=body, headers=me)


async def _partner_action(client, world) -> dict[str, Any]:
    return await record_action(client, await login(client, world.username("officer_a1")), world)


async def act_action_evidence(client, world, me, user_id) -> httpx.Response:
    action = await _partner_action(client, world)
    photo = phone_photo(datetime.now(UTC).astimezone(), seed=uuid.uuid4().int % 1000)
    return await client.post(
        f"/api/v1/actions/{action['id']}/evidence",
        content=photo,
        headers={**me, "Content-Type": "image/jpeg"},
    )


async def act_case_evidence(client, world, me, user_id) -> httpx.Response:
    case = await _case_at(client, world, "investigating")
    photo = phone_photo(datetime.now(UTC).astimezone(), seed=uuid.uuid4().int % 1000)
    return await client.post(
        f"/api/v1/cases/{case['id']}/evidence", content=photo, headers={**me, "Content-Type": "image/jpeg"}
    )


async def act_tus_upload(client, world, me, user_id) -> httpx.Response:
    action = await _partner_action(client, world)
    return await client.post(
        "/api/v1/uploads",
        headers={
            **me,
            **TUS,
            "Upload-Length": "300000",
            "Upload-Metadata": _meta(action_id=action["id"], filetype="video/mp4"),
        },
    )


async def act_case_open(client, world, me, user_id) -> httpx.Response:
    body = {"unit_id": str(world.town_a), "item_id": str(world.items["delegated"]), "action_ids": []}
    return await client.post("/api/v1/cases", json={**body, "summary": "门禁测试案"}, headers=me)


async def act_case_update(client, world, me, user_id) -> httpx.Response:
    case = await _case_at(client, world, "investigating")
    return await client.patch(
        f"/api/v1/cases/{case['id']}", json={"version": case["version"], "summary": "补充调查"}, headers=me
    )


async def act_case_submit_review(client, world, me, user_id) -> httpx.Response:
    case = await _case_at(client, world, "investigating")
    body = {"proposed_decision": {"fine": 20000}}
    return await client.post(f"/api/v1/cases/{case['id']}/submit-review", json=body, headers=me)


async def act_case_decision(client, world, me, user_id) -> httpx.Response:
    case = await _case_at(client, world, "investigating")
    return await client.post(f"/api/v1/cases/{case['id']}/decision", json={"fine": 200}, headers=me)


async def act_case_serve(client, world, me, user_id) -> httpx.Response:
    case = await _case_at(client, world, "decided")
    body = {"served_on": str(today_local())}
    return await client.post(f"/api/v1/cases/{case['id']}/serve", json=body, headers=me)


async def act_case_close(client, world, me, user_id) -> httpx.Response:
    case = await _case_at(client, world, "served")
    return await client.post(f"/api/v1/cases/{case['id']}/close", json={}, headers=me)


async def act_case_transfer(client, world, me, user_id) -> httpx.Response:
    case = await _case_at(client, world, "investigating")
    body = {"organ": "南川区公安局", "transferred_on": str(today_local()), "receipt_number": "移-001"}
    return await client.post(f"/api/v1/cases/{case['id']}/transfer", json=body, headers=me)


async def act_position(client, world, me, user_id) -> httpx.Response:
    await Position.delete().where(Position.user == user_id).run()
    body = {"lat": 29.15, "lon": 107.09, "accuracy_m": 10, "at": datetime.now(UTC).isoformat()}
    return await client.post("/api/v1/positions", json=body, headers=me)


async def act_spot_check_answer(client, world, me, user_id) -> httpx.Response:
    supervisor = await login(client, world.username("supervisor"))
    check = await client.post("/api/v1/spot-checks", json={"officer_id": str(user_id)}, headers=supervisor)
    assert check.status_code == 201, check.text
    return await client.post(
        f"/api/v1/spot-checks/{check.json()['id']}/submission",
        content=phone_photo(datetime.now(UTC).astimezone(), seed=uuid.uuid4().int % 1000),
        headers={**me, "Content-Type": "image/jpeg"},
    )


async def act_document_response(client, world, me, user_id) -> httpx.Response:
    doc = await issued(client, world)
    return await client.post(
        f"/api/v1/supervision-documents/{doc['id']}/response", json={"text": "已整改。"}, headers=me
    )


ACTS: dict[str, tuple[Act, int]] = {
    "record_action": (act_record_action, 201),
    "action_evidence": (act_action_evidence, 201),
    "case_evidence": (act_case_evidence, 201),
    "tus_upload": (act_tus_upload, 201),
    "case_open": (act_case_open, 201),
    "case_update": (act_case_update, 200),
    "case_submit_review": (act_case_submit_review, 200),
    "case_decision": (act_case_decision, 200),
    "case_serve": (act_case_serve, 200),
    "case_close": (act_case_close, 200),
    "case_transfer": (act_case_transfer, 200),
    "position": (act_position, 201),
    "spot_check_answer": (act_spot_check_answer, 201),
    "document_response": (act_document_response, 200),
}


async def _footprint(user_id: uuid.UUID) -> tuple[int, int, int, int, int]:
    """What an officer's acts leave: evidence, uploads, cases filed, positions, answered checks."""
    return (
        await Evidence.count().where(Evidence.uploaded_by == user_id),
        await Upload.count().where(Upload.user_id == user_id),
        await Case.count().where(Case.created_by == user_id),
        await Position.count().where(Position.user == user_id),
        await SpotCheck.count().where((SpotCheck.officer_id == user_id) & (SpotCheck.status == "submitted")),
    )


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("act", list(ACTS))
async def test_every_officer_act_needs_a_valid_certificate(
    client, world: World, act: str, state: str
) -> None:
    user_id, username = await _officer(client, world, state)
    me = await login(client, username)
    run, ok_status = ACTS[act]
    await _set_state(user_id, state)
    before = await _footprint(user_id)
    response = await run(client, world, me, user_id)
    if state == "valid":
        assert response.status_code == ok_status, response.text
        return
    problem = assert_problem(response, 422, "certificate.invalid")
    assert problem["officer_id"] == str(user_id) and problem["officer_name"] == f"门禁{state}"
    assert problem["certificate_status"] == state
    if state == "expired":
        assert problem["reason"].startswith("有效期至")
    else:
        assert problem["reason"] == REASONS[state] and REASONS[state] in problem["detail"]
    assert await _footprint(user_id) == before


async def test_a_certificate_revoked_during_a_resumable_upload_stops_it_at_the_finish(
    client, world: World
) -> None:
    """The gate holds at the moment of the act: an upload begun while valid does not become
    evidence once the certificate was revoked meanwhile."""
    user_id, username = await _officer(client, world, "revoked")
    me = await login(client, username)
    created = await act_tus_upload(client, world, me, user_id)
    assert created.status_code == 201, created.text
    await _set_state(user_id, "revoked")
    video = mp4(300_000)
    finish = await client.patch(
        created.headers["location"],
        content=video,
        headers={**me, **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
    )
    problem = assert_problem(finish, 422, "certificate.invalid")
    assert problem["certificate_status"] == "revoked"
    assert await Evidence.count().where(Evidence.uploaded_by == user_id) == 0


async def test_a_partner_with_a_valid_certificate_is_not_held_back(client, world: World) -> None:
    """The gate is per officer: officer_a1 records with officer_a2 while another officer of the same
    unit is revoked."""
    user_id, _ = await _officer(client, world, "revoked")
    await _set_state(user_id, "revoked")
    me = await login(client, world.username("officer_a1"))
    response = await client.post("/api/v1/actions", json=action_payload(world), headers=me)
    assert response.status_code == 201, response.text
