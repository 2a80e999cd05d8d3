"""Supervision channels: liaison reports and their triage, petitions and lawsuits with outcomes
that reverse acts, transfers answered by the organs, the 两法衔接 check and the counts."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from typing import Any

import pytest

from backend.alerts.tables import Alert
from backend.audit.tables import AuditEntry
from backend.channels import services as channels
from backend.channels.tables import ChannelItem, ChannelOutcome, ChannelStep, LiaisonPoint, TransferAnswer
from backend.db import json_value
from backend.lib.clock import today_local
from tests.conftest import PASSWORD, World, assert_problem, login, make_settings, serve, unique
from tests.integration.document_helpers import ensure_people
from tests.integration.enforcement_helpers import open_case, record_action
from tests.integration.evidence.photos import phone_photo

API = "/api/v1/channels"
TODAY = today_local()

# Once per session (the world is shared): the outside organs of two sides, A and B.
_organs: dict[str, Any] = {}


async def organs(world: World) -> dict[str, Any]:
    """Units and users of the petition office, court, procuratorate and police, for side A and B,
    and a second liaison."""
    if _organs:
        return _organs
    from backend.accounts import schemas as a
    from backend.accounts import services as accounts
    from backend.org import schemas as o
    from backend.org import services as org

    units, users, names = {}, {}, {}
    for side in ("a", "b"):
        for key, kind, role in (
            ("petition", "petition", "petition_office"),
            ("court", "court", "court"),
            ("procuratorate", "procuratorate", "procuratorate"),
            ("police", "police", "public_security"),
        ):
            unit = await org.create_unit(None, o.UnitCreate(name=unique(f"{key}_{side}"), kind=kind))  # type: ignore[arg-type]
            units[f"{key}_{side}"] = unit
            username = unique(f"{role}_{side}")
            user = await accounts.create_user(
                None,
                a.UserCreate(
                    username=username,
                    password=PASSWORD,
                    display_name=f"测试{role}{side}",
                    roles=[role],  # type: ignore[list-item]
                    unit_ids=[unit.id],
                ),
            )
            users[f"{role}_{side}"], names[f"{role}_{side}"] = user.id, username
    username = unique("liaison2")
    user = await accounts.create_user(
        None,
        a.UserCreate(username=username, password=PASSWORD, display_name="第二联络员", roles=["liaison"]),
    )
    users["liaison2"], names["liaison2"] = user.id, username
    _organs.update(units=units, users=users, names=names)
    return _organs


async def as_organ(client, world: World, key: str) -> dict[str, str]:
    return await login(client, (await organs(world))["names"][key])


def report_body(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "执法人员态度粗暴",
        "description": "3月5日上午在和平路市场，两名执法人员当众呵斥商户。",
        "category": "态度作风",
        "location": {"lat": 29.157, "lon": 107.098},
        "address": "水江镇和平路市场",
        "unit_id": str(world.town_a),
        "officer_ids": [str(world.users["officer_a1"])],
        "anonymous": True,
    }
    body.update(overrides)
    return body


async def _report(client, headers, world: World, **overrides: Any) -> dict[str, Any]:
    response = await client.post(f"{API}/reports", json=report_body(world, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _counts() -> tuple[int, int, int, int]:
    return (
        await ChannelItem.count(),
        await ChannelStep.count(),
        await ChannelOutcome.count(),
        await AuditEntry.count(),
    )


# --- a liaison's report, end to end ---------------------------------------------------------------


async def test_an_anonymous_report_reaches_the_unit_without_its_reporter(
    client, as_user, world: World
) -> None:
    await ensure_people(client, world)  # officer_a1 answers for town A
    liaison, supervisor = await as_user("liaison"), await as_user("supervisor")
    officer_a, officer_b = await as_user("officer_a1"), await as_user("officer_b1")
    other_liaison = await as_organ(client, world, "liaison2")
    reporter_name, reporter_id = "测试liaison", str(world.users["liaison"])

    report = await _report(client, liaison, world)
    assert report["status"] == "new" and report["reporter_id"] == reporter_id
    assert "attach" in report["allowed"] and report["reversed"] is False
    item = f"{API}/items/{report['id']}"
    photo = await client.post(
        f"{item}/evidence", content=phone_photo(), headers={**liaison, "Content-Type": "image/jpeg"}
    )
    assert photo.status_code == 201, photo.text
    evidence = f"/api/v1/evidence/{photo.json()['id']}"
    assert (await client.get(evidence, headers=liaison)).status_code == 200

    # Nobody but the reporter and the bureau sees it before it is forwarded.
    for headers in (other_liaison, officer_a, officer_b):
        assert_problem(await client.get(item, headers=headers), 404, "not_found")
    mine = (await client.get(f"{API}/items", headers=liaison)).json()["items"]
    assert report["id"] in [i["id"] for i in mine]
    assert report["id"] not in [
        i["id"] for i in (await client.get(f"{API}/items", headers=other_liaison)).json()["items"]
    ]
    inbox = (await client.get(f"{API}/items?status=new&kind=report", headers=supervisor)).json()["items"]
    assert report["id"] in [i["id"] for i in inbox]
    assert next(i for i in inbox if i["id"] == report["id"])["reporter_name"] == reporter_name

    # The unit cannot explain what it was not asked; the reporter cannot triage.
    assert_problem(
        await client.post(f"{item}/forward", json={"question": "请说明"}, headers=liaison),
        403,
        "auth.forbidden",
    )
    forwarded = await client.post(
        f"{item}/forward", json={"question": "请说明当日执法情况。"}, headers=supervisor
    )
    assert forwarded.status_code == 200 and forwarded.json()["status"] == "forwarded", forwarded.text

    # The unit now sees it, and nothing of who reported it: not in the item, the list, the
    # history or the export.
    seen = await client.get(item, headers=officer_a)
    assert seen.status_code == 200 and "explain" in seen.json()["allowed"]
    assert seen.json()["reporter_id"] is None and seen.json()["reporter_name"] is None
    assert seen.json()["question"] == "请说明当日执法情况。"
    listed = await client.get(f"{API}/items?kind=report", headers=officer_a)
    history = await client.get(f"{item}/history", headers=officer_a)
    export = await client.get(f"{API}/items.csv", headers=officer_a)
    assert history.json()[0]["step"] == "reported" and history.json()[0]["by"] is None
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert report["id"] in [r["id"] for r in rows]
    assert next(r for r in rows if r["id"] == report["id"])["reporter_name"] == ""
    for response in (seen, listed, history, export):
        assert response.status_code == 200, response.text
        assert reporter_id not in response.text and reporter_name not in response.text
        assert str(world.names["liaison"]) not in response.text
    assert_problem(await client.get("/api/v1/audit", headers=officer_a), 403, "auth.forbidden")
    # Its photo would name the reporter (watermark, custody): the unit does not get it at all.
    assert seen.json()["evidence_ids"] == []
    assert_problem(await client.get(evidence, headers=officer_a), 404, "not_found")
    assert (await client.get(evidence, headers=supervisor)).status_code == 200
    late = await client.post(
        f"{item}/evidence", content=phone_photo(), headers={**liaison, "Content-Type": "image/jpeg"}
    )
    assert_problem(late, 409, "channel_item.invalid_state")
    assert_problem(await client.get(item, headers=officer_b), 404, "not_found")
    # The bureau's own export does name the reporter (the bureau knows who reported).
    bureau_export = await client.get(f"{API}/items.csv", headers=supervisor)
    assert reporter_name in bureau_export.text

    explained = await client.post(
        f"{item}/explain", json={"text": "当日系依法劝离占道摊贩。"}, headers=officer_a
    )
    assert explained.status_code == 200 and explained.json()["status"] == "explained", explained.text
    assert_problem(
        await client.post(f"{item}/explain", json={"text": "再说明"}, headers=officer_a),
        409,
        "channel_item.invalid_state",
    )

    turned = await client.post(
        f"{item}/document",
        json={"type": "opinion", "requirement": "请规范执法用语。", "reply": "已向水江镇制发监督意见书。"},
        headers=supervisor,
    )
    assert turned.status_code == 200, turned.text
    assert turned.json()["status"] == "closed" and turned.json()["resolution"] == "document"
    document_id = turned.json()["resolution_ref"]
    document = await client.get(f"/api/v1/supervision-documents/{document_id}", headers=supervisor)
    assert document.status_code == 200 and document.json()["status"] == "draft"
    assert reporter_name not in document.text and reporter_id not in document.text

    # The reporter sees the outcome and the reply, not the exchange with the unit.
    told = (await client.get(item, headers=liaison)).json()
    assert told["status"] == "closed" and told["reply"] == "已向水江镇制发监督意见书。"
    assert told["question"] is None and told["explanation"] is None
    steps = [s["step"] for s in (await client.get(f"{item}/history", headers=liaison)).json()]
    assert steps == ["reported", "closed"]


async def test_a_named_report_shows_its_reporter_to_the_unit_and_can_become_a_corrective_action(
    client, as_user, world: World
) -> None:
    await ensure_people(client, world)
    liaison, supervisor, officer_a = (
        await as_user("liaison"),
        await as_user("supervisor"),
        await as_user("officer_a1"),
    )
    report = await _report(
        client,
        liaison,
        world,
        anonymous=False,
        category="执法扰企",
        title="多头重复检查",
        unit_id=None,
        officer_ids=[],
    )
    item = f"{API}/items/{report['id']}"
    assert_problem(await client.get(item, headers=officer_a), 404, "not_found")
    # The reporter did not know the unit: the bureau names it when forwarding.
    forwarded = await client.post(
        f"{item}/forward",
        json={"question": "请说明检查计划。", "unit_id": str(world.town_a)},
        headers=supervisor,
    )
    assert forwarded.status_code == 200 and forwarded.json()["unit_id"] == str(world.town_a), forwarded.text
    assert_problem(
        await client.post(
            f"{item}/forward", json={"question": "再说明", "unit_id": str(world.town_b)}, headers=supervisor
        ),
        409,
        "channel_item.invalid_state",
    )
    assert (await client.get(item, headers=officer_a)).json()["reporter_name"] == "测试liaison"
    turned = await client.post(f"{item}/corrective", json={"due_days": 5}, headers=supervisor)
    assert turned.status_code == 200 and turned.json()["resolution"] == "corrective", turned.text
    task = await client.get(
        f"/api/v1/corrective-actions/{turned.json()['resolution_ref']}", headers=supervisor
    )
    assert task.status_code == 200 and task.json()["unit_id"] == str(world.town_a)
    assert (await client.get(item, headers=liaison)).json()["reply"].startswith("您反映的问题已核实")


async def test_dismissing_needs_a_reason_and_tells_the_reporter(client, as_user, world: World) -> None:
    liaison, supervisor = await as_user("liaison"), await as_user("supervisor")
    report = await _report(
        client, liaison, world, category="建议", title="建议公开执法流程", unit_id=None, officer_ids=[]
    )
    item = f"{API}/items/{report['id']}"
    assert_problem(
        await client.post(f"{item}/dismiss", json={"reason": ""}, headers=supervisor),
        400,
        "validation.failed",
    )
    assert_problem(
        await client.post(f"{item}/forward", json={"question": "请说明"}, headers=supervisor),
        409,
        "channel_item.invalid_state",
    )
    assert_problem(
        await client.post(
            f"{item}/forward", json={"question": "请说明", "unit_id": str(uuid.uuid4())}, headers=supervisor
        ),
        422,
        "unit.not_found",
    )
    assert (await client.get(item, headers=supervisor)).json()["status"] == "new"
    done = await client.post(f"{item}/dismiss", json={"reason": "不属于执法监督范围"}, headers=supervisor)
    assert done.status_code == 200 and done.json()["resolution"] == "dismissed"
    told = (await client.get(item, headers=liaison)).json()
    assert told["status"] == "closed" and "不属于执法监督范围" in told["reply"]


async def test_the_export_does_not_hand_a_spreadsheet_a_formula(client, as_user, world: World) -> None:
    liaison, supervisor = await as_user("liaison"), await as_user("supervisor")
    report = await _report(client, liaison, world, title='=HYPERLINK("http://x") 执法', description="@SUM(1)")
    rows = list(csv.DictReader(io.StringIO((await client.get(f"{API}/items.csv", headers=supervisor)).text)))
    row = next(r for r in rows if r["id"] == report["id"])
    assert row["title"] == '\'=HYPERLINK("http://x") 执法' and row["description"] == "'@SUM(1)"


async def test_bad_reports_are_refused_and_write_nothing(client, as_user, world: World) -> None:
    liaison, officer = await as_user("liaison"), await as_user("officer_a1")
    before = await _counts()
    for body, status, code in (
        (report_body(world, location=None, address=""), 400, "validation.failed"),
        (report_body(world, category="投诉"), 400, "validation.failed"),
        (report_body(world, title="a\u0000b"), 400, "validation.failed"),
        (report_body(world, location={"lat": 120, "lon": 0}), 400, "validation.failed"),
        (report_body(world, officer_ids=[str(world.users["officer_b1"])]), 422, "user.not_found"),
        (report_body(world, unit_id=str(uuid.uuid4())), 422, "unit.not_found"),
        (report_body(world, occurred_at="2099-01-01T00:00:00+08:00"), 400, "validation.failed"),
        ({**report_body(world), "reporter_id": str(uuid.uuid4())}, 400, "validation.failed"),
    ):
        assert_problem(await client.post(f"{API}/reports", json=body, headers=liaison), status, code)
    assert_problem(
        await client.post(f"{API}/reports", json=report_body(world), headers=officer), 403, "auth.forbidden"
    )
    assert await _counts() == before


async def test_a_liaison_is_rate_limited(migrated, world: World) -> None:
    from backend.app import create_app

    async with serve(create_app(make_settings(liaison_reports_per_hour=2))) as client:
        await organs(world)
        from backend.accounts import schemas as a
        from backend.accounts import services as accounts

        username = unique("liaison_rl")
        await accounts.create_user(
            None,
            a.UserCreate(username=username, password=PASSWORD, display_name="限流联络员", roles=["liaison"]),
        )
        headers = await login(client, username)
        for _ in range(2):
            await _report(client, headers, world)
        before = await _counts()
        refused = await client.post(f"{API}/reports", json=report_body(world), headers=headers)
        assert_problem(refused, 429, "rate_limited")
        assert refused.headers["Retry-After"]
        assert await _counts() == before


async def test_a_repeated_report_is_one_report(client, as_user, world: World) -> None:
    liaison = await as_user("liaison")
    key = {"Idempotency-Key": uuid.uuid4().hex, **liaison}
    first = await client.post(f"{API}/reports", json=report_body(world), headers=key)
    again = await client.post(f"{API}/reports", json=report_body(world), headers=key)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    other = await client.post(f"{API}/reports", json=report_body(world, title="另一件事"), headers=key)
    assert_problem(other, 409, "idempotency.mismatch")


# --- liaison points ----------------------------------------------------------------------------


async def test_the_bureau_manages_liaison_points(client, as_user, world: World) -> None:
    supervisor, liaison = await as_user("supervisor"), await as_user("liaison")
    other = await as_organ(client, world, "liaison2")
    body = {
        "organisation": unique("区律工委"),
        "address": "南川区东城街道",
        "liaison_user_id": str(world.users["liaison"]),
        "active_from": str(TODAY - timedelta(days=10)),
    }
    before = await LiaisonPoint.count()
    for bad, status, code in (
        ({**body, "active_to": str(TODAY - timedelta(days=20))}, 400, "validation.failed"),
        ({**body, "liaison_user_id": str(world.users["officer_a1"])}, 422, "user.not_found"),
        ({**body, "organisation": ""}, 400, "validation.failed"),
    ):
        assert_problem(await client.post(f"{API}/points", json=bad, headers=supervisor), status, code)
    assert_problem(await client.post(f"{API}/points", json=body, headers=liaison), 403, "auth.forbidden")
    assert await LiaisonPoint.count() == before
    created = await client.post(f"{API}/points", json=body, headers=supervisor)
    assert created.status_code == 201 and created.json()["active"] is True, created.text
    point = created.json()
    assert point["id"] in [p["id"] for p in (await client.get(f"{API}/points", headers=liaison)).json()]
    assert point["id"] not in [p["id"] for p in (await client.get(f"{API}/points", headers=other)).json()]
    ended = await client.patch(
        f"{API}/points/{point['id']}", json={"active_to": str(TODAY - timedelta(days=1))}, headers=supervisor
    )
    assert ended.status_code == 200 and ended.json()["active"] is False
    officer = await as_user("officer_a1")
    assert_problem(await client.get(f"{API}/points", headers=officer), 403, "auth.forbidden")


# --- petitions, lawsuits and reversed acts ------------------------------------------------------


def _registration(world: World, **overrides: Any) -> dict[str, Any]:
    body = {
        "title": "某餐馆诉水江镇行政处罚案",
        "description": "原告请求撤销罚款决定。",
        "reference": unique("(2026)渝0119行初"),
        "received_on": str(TODAY),
        "unit_id": str(world.town_a),
        "officer_ids": [str(world.users["officer_a1"])],
    }
    body.update(overrides)
    return body


async def test_a_revoking_judgment_marks_the_action_and_the_case_reversed(
    client, as_user, world: World
) -> None:
    officer_a, officer_b = await as_user("officer_a1"), await as_user("officer_b1")
    court = await as_organ(client, world, "court_a")
    court_b = await as_organ(client, world, "court_b")
    petition = await as_organ(client, world, "petition_office_a")
    action = await record_action(client, officer_a, world)
    case = await open_case(client, officer_a, world, [action["id"]])
    registered = await client.post(
        f"{API}/lawsuits",
        json=_registration(world, action_id=action["id"], case_id=case["id"]),
        headers=court,
    )
    assert registered.status_code == 201, registered.text
    lawsuit = registered.json()
    item = f"{API}/items/{lawsuit['id']}"
    # The unit sees the lawsuit about it at once; other courts, other units and the petition office do not.
    assert (await client.get(item, headers=officer_a)).status_code == 200
    for headers in (court_b, officer_b, petition):
        assert_problem(await client.get(item, headers=headers), 404, "not_found")
    assert_problem(
        await client.post(f"{API}/petitions", json=_registration(world), headers=court), 403, "auth.forbidden"
    )

    number = unique("(2026)渝0119行初")
    outcome = {"outcome": "撤销", "decided_on": str(TODAY), "decision_number": number}
    assert_problem(await client.post(f"{item}/outcomes", json=outcome, headers=court_b), 404, "not_found")
    assert_problem(
        await client.post(f"{item}/outcomes", json=outcome, headers=officer_a), 403, "auth.forbidden"
    )
    decided = await client.post(f"{item}/outcomes", json=outcome, headers=court)
    assert decided.status_code == 201 and decided.json()["reversed"] is True, decided.text

    shown = (await client.get(f"/api/v1/actions/{action['id']}", headers=officer_a)).json()
    assert shown["reversed"]["outcome"] == "撤销" and shown["reversed"]["decision_number"] == number
    feed = (await client.get("/api/v1/actions", headers=officer_a)).json()["items"]
    assert next(a for a in feed if a["id"] == action["id"])["reversed"]["outcome"] == "撤销"
    shown_case = (await client.get(f"/api/v1/cases/{case['id']}", headers=officer_a)).json()
    assert shown_case["reversed"]["outcome"] == "撤销" and shown_case["version"] == case["version"]
    listed = (await client.get(f"/api/v1/cases?unit_id={world.town_a}", headers=officer_a)).json()["items"]
    assert next(c for c in listed if c["id"] == case["id"])["reversed"]["outcome"] == "撤销"
    assert (await client.get(item, headers=officer_a)).json()["outcomes"][0]["outcome"] == "撤销"

    # Once per decision number: a second entry is refused and writes nothing.
    before = await _counts()
    again = await client.post(f"{item}/outcomes", json={**outcome, "outcome": "维持"}, headers=court)
    assert_problem(again, 409, "conflict.duplicate")
    assert await _counts() == before

    # A change is a new audited entry; a 维持 on appeal lifts the mark.
    outcome_id = decided.json()["outcomes"][0]["id"]
    changed = await client.post(
        f"{API}/outcomes/{outcome_id}/change",
        json={"outcome": "维持", "decided_on": str(TODAY), "reason": "原录入有误，判决为维持"},
        headers=court,
    )
    assert changed.status_code == 201, changed.text
    entries = changed.json()["outcomes"]
    assert [(e["outcome"], e["superseded"]) for e in entries] == [("撤销", True), ("维持", False)]
    assert changed.json()["reversed"] is False
    assert (await client.get(f"/api/v1/actions/{action['id']}", headers=officer_a)).json()["reversed"] is None
    assert (await client.get(f"/api/v1/cases/{case['id']}", headers=officer_a)).json()["reversed"] is None
    trail = await AuditEntry.select().where(
        (AuditEntry.object_id == lawsuit["id"]) & (AuditEntry.action == "channel_outcome.changed")
    )
    assert len(trail) == 1 and json_value(trail[0]["data"])["from"] == "撤销"
    assert_problem(
        await client.post(
            f"{API}/outcomes/{outcome_id}/change",
            json={"outcome": "变更", "decided_on": str(TODAY), "reason": "再改"},
            headers=court,
        ),
        409,
        "channel_item.invalid_state",
    )


async def test_a_reversed_published_decision_must_leave_the_public_page_within_its_clock(
    client, as_user, world: World
) -> None:
    """执法公示 meets the channels: a court's 撤销 of a published decision starts its withdrawal
    clock (3 working days); the unit withdraws it with the reason; a 维持 on appeal stops the clock."""
    from backend.lib.clock import today_local
    from backend.workdays.services import WorkCalendar
    from tests.integration.test_publication import PERSON, _publish, decided_case

    officer = await as_user("officer_a1")
    court = await as_organ(client, world, "court_a")
    case = await decided_case(client, officer, world, PERSON)
    published = await _publish(client, officer, case["id"])
    lawsuit = await client.post(
        f"{API}/lawsuits", json=_registration(world, case_id=case["id"]), headers=court
    )
    assert lawsuit.status_code == 201, lawsuit.text
    item = f"{API}/items/{lawsuit.json()['id']}"

    def withdrawal(shown: dict) -> dict | None:
        return next((c for c in shown["clocks"] if c["kind"] == "withdrawal"), None)

    number = unique("(2026)渝0119行初")
    decided = await client.post(
        f"{item}/outcomes",
        json={"outcome": "撤销", "decided_on": str(TODAY), "decision_number": number},
        headers=court,
    )
    assert decided.status_code == 201, decided.text
    shown = (await client.get(f"/api/v1/cases/{case['id']}", headers=officer)).json()
    clock = withdrawal(shown)
    assert clock is not None and clock["status"] == "running" and clock["counts"] == "working"
    assert clock["due_on"] == str(WorkCalendar().add_working_days(today_local(), 3)[0])

    # Lifted on appeal: nothing to withdraw any more.
    outcome_id = decided.json()["outcomes"][0]["id"]
    changed = await client.post(
        f"{API}/outcomes/{outcome_id}/change",
        json={"outcome": "维持", "decided_on": str(TODAY), "reason": "二审改判维持"},
        headers=court,
    )
    assert changed.status_code == 201, changed.text
    stopped = withdrawal((await client.get(f"/api/v1/cases/{case['id']}", headers=officer)).json())
    assert stopped is not None and stopped["status"] == "stopped"
    public = (await client.get(f"/api/v1/public/publications/{published['id']}")).json()
    assert public["status"] == "published"


async def test_a_petition_is_registered_for_its_office_only(client, as_user, world: World) -> None:
    petition, petition_b = (
        await as_organ(client, world, "petition_office_a"),
        await as_organ(client, world, "petition_office_b"),
    )
    before = await _counts()
    for body, status, code in (
        (_registration(world, action_id=str(uuid.uuid4())), 404, "not_found"),
        (_registration(world, received_on=str(TODAY + timedelta(days=3))), 400, "validation.failed"),
        (_registration(world, officer_ids=[str(world.users["officer_b1"])]), 422, "user.not_found"),
        (_registration(world, reference=""), 400, "validation.failed"),
    ):
        assert_problem(await client.post(f"{API}/petitions", json=body, headers=petition), status, code)
    assert await _counts() == before
    created = await client.post(
        f"{API}/petitions", json=_registration(world, title="群众信访反映执法不公"), headers=petition
    )
    assert created.status_code == 201 and created.json()["kind"] == "petition", created.text
    ids = lambda r: [i["id"] for i in r.json()["items"]]  # noqa: E731
    assert created.json()["id"] in ids(await client.get(f"{API}/items", headers=petition))
    assert created.json()["id"] not in ids(await client.get(f"{API}/items", headers=petition_b))


# --- transfers --------------------------------------------------------------------------------


async def _transferred(client, officer, world: World, organ: str, on) -> dict[str, Any]:
    case = await open_case(client, officer, world, [])
    investigated = await client.patch(
        f"/api/v1/cases/{case['id']}",
        json={"version": case["version"], "amount_involved": 70000},
        headers=officer,
    )
    assert investigated.status_code == 200, investigated.text
    response = await client.post(
        f"/api/v1/cases/{case['id']}/transfer",
        json={"organ": organ, "transferred_on": str(on), "receipt_number": unique("YS")},
        headers=officer,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _transfer_id(client, headers, case_id: str) -> str:
    listed = (await client.get(f"{API}/transfers", headers=headers)).json()
    return next(t["id"] for t in listed if t["case_id"] == case_id)


async def test_the_organ_answers_the_transfers_addressed_to_it(client, as_user, world: World) -> None:
    o = await organs(world)
    officer = await as_user("officer_a1")
    procurator, procurator_b = (
        await as_organ(client, world, "procuratorate_a"),
        await as_organ(client, world, "procuratorate_b"),
    )
    police = await as_organ(client, world, "public_security_a")
    case = await _transferred(client, officer, world, o["units"]["procuratorate_a"].name, TODAY)

    listed = (await client.get(f"{API}/transfers", headers=procurator)).json()
    assert case["id"] in [t["case_id"] for t in listed]
    mine = next(t for t in listed if t["case_id"] == case["id"])
    path = f"{API}/transfers/{mine['id']}"
    assert mine["status"] == "pending" and mine["allowed"] == ["accept", "return"]
    for headers in (procurator_b, police):
        assert case["id"] not in [
            t["case_id"] for t in (await client.get(f"{API}/transfers", headers=headers)).json()
        ]
        assert_problem(await client.get(path, headers=headers), 404, "not_found")
        assert_problem(
            await client.post(
                f"{path}/accept", json={"received_on": str(TODAY), "number": "X1"}, headers=headers
            ),
            404,
            "not_found",
        )
    assert_problem(await client.get(f"{API}/transfers", headers=officer), 403, "auth.forbidden")
    for bad in (
        {"received_on": str(TODAY + timedelta(days=2)), "number": "X1"},
        {"received_on": str(TODAY), "number": ""},
    ):
        assert_problem(
            await client.post(f"{path}/accept", json=bad, headers=procurator), 400, "validation.failed"
        )
    assert (await TransferAnswer.select().where(TransferAnswer.case_id == case["id"]).first())[
        "status"
    ] == "pending"
    accepted = await client.post(
        f"{path}/accept", json={"received_on": str(TODAY), "number": "南检受〔2026〕12号"}, headers=procurator
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text
    assert accepted.json()["receipt_number"] == "南检受〔2026〕12号"
    assert_problem(
        await client.post(
            f"{path}/return", json={"returned_on": str(TODAY), "reason": "证据不足"}, headers=procurator
        ),
        409,
        "channel_item.invalid_state",
    )

    returned = await _transferred(client, officer, world, o["units"]["police_a"].name, TODAY)
    back = await client.post(
        f"{API}/transfers/{await _transfer_id(client, police, returned['id'])}/return",
        json={"returned_on": str(TODAY), "reason": "不构成犯罪"},
        headers=police,
    )
    assert back.status_code == 200 and back.json()["return_reason"] == "不构成犯罪", back.text


async def test_an_unanswered_transfer_raises_one_alert(client, as_user, world: World) -> None:
    o = await organs(world)
    officer = await as_user("officer_a1")
    settings = make_settings(transfer_answer_days=10)
    late = await _transferred(
        client, officer, world, o["units"]["procuratorate_a"].name, TODAY - timedelta(days=11)
    )
    fresh = await _transferred(
        client, officer, world, o["units"]["procuratorate_a"].name, TODAY - timedelta(days=2)
    )
    from backend.live.publish import Publisher

    class Quiet(Publisher):
        def __init__(self) -> None:
            pass

        async def publish(self, *args: Any, **kwargs: Any) -> None:
            return None

    await channels.alert_unanswered(settings, Quiet())
    await channels.alert_unanswered(settings, Quiet())
    assert (
        await Alert.count().where((Alert.object_id == late["id"]) & (Alert.type == "transfer.unanswered"))
        == 1
    )
    assert (
        await Alert.count().where((Alert.object_id == fresh["id"]) & (Alert.type == "transfer.unanswered"))
        == 0
    )
    supervisor = await as_user("supervisor")
    overdue = (await client.get(f"{API}/transfers?status=overdue", headers=supervisor)).json()
    assert late["id"] in [t["case_id"] for t in overdue] and fresh["id"] not in [
        t["case_id"] for t in overdue
    ]


# --- 两法衔接 and counts --------------------------------------------------------------------------


async def _closed_over_threshold(client, as_user, world: World, amount: float) -> dict[str, Any]:
    officer, supervisor = await as_user("officer_a1"), await as_user("supervisor")
    case = await open_case(client, officer, world, [])
    response = await client.patch(
        f"/api/v1/cases/{case['id']}",
        json={"version": case["version"], "amount_involved": amount, "proposed_decision": {"fine": 3000}},
        headers=officer,
    )
    case = response.json()
    case = (await client.post(f"/api/v1/cases/{case['id']}/decision", json={}, headers=officer)).json()
    case = (
        await client.post(
            f"/api/v1/cases/{case['id']}/serve", json={"served_on": str(TODAY)}, headers=officer
        )
    ).json()
    if amount >= 50000:
        await client.post(
            f"/api/v1/cases/{case['id']}/override", json={"reason": "已与检察院会商"}, headers=supervisor
        )
    closed = await client.post(f"/api/v1/cases/{case['id']}/close", json={}, headers=officer)
    assert closed.status_code == 200 and closed.json()["status"] == "closed", closed.text
    return closed.json()


async def test_the_criminal_check_finds_a_closed_case_over_the_threshold(
    client, as_user, world: World
) -> None:
    supervisor = await as_user("supervisor")
    missed = await _closed_over_threshold(client, as_user, world, 65000)
    below = await _closed_over_threshold(client, as_user, world, 1000)
    period = f"from={TODAY - timedelta(days=1)}&to={TODAY}"
    found = await client.get(f"{API}/criminal-check?unit_id={world.town_a}&{period}", headers=supervisor)
    assert found.status_code == 200, found.text
    ids = [c["case_id"] for c in found.json()]
    assert missed["id"] in ids and below["id"] not in ids
    hit = next(c for c in found.json() if c["case_id"] == missed["id"])
    assert hit["amount_involved"] == 65000 and hit["criminal_threshold"] == 50000 and hit["override"]
    other = await client.get(f"{API}/criminal-check?unit_id={world.town_b}", headers=supervisor)
    assert missed["id"] not in [c["case_id"] for c in other.json()]
    earlier = await client.get(f"{API}/criminal-check?to={TODAY - timedelta(days=1)}", headers=supervisor)
    assert missed["id"] not in [c["case_id"] for c in earlier.json()]
    assert_problem(
        await client.get(
            f"{API}/criminal-check?from={TODAY}&to={TODAY - timedelta(days=1)}", headers=supervisor
        ),
        400,
        "validation.failed",
    )
    assert_problem(
        await client.get(f"{API}/criminal-check", headers=await as_user("officer_a1")), 403, "auth.forbidden"
    )

    counts = await client.get(f"{API}/counts?{period}", headers=supervisor)
    assert counts.status_code == 200, counts.text
    town = next(u for u in counts.json()["units"] if u["unit_id"] == str(world.town_a))
    assert town["counts"]["missed_transfer"]["count"] >= 1
    link = town["counts"]["missed_transfer"]["link"]
    assert link.startswith(f"{API}/criminal-check?")
    behind = await client.get(link, headers=supervisor)
    assert missed["id"] in [c["case_id"] for c in behind.json()]
    reports = town["counts"]["report"]
    listed = (await client.get(reports["link"] + "&limit=200", headers=supervisor)).json()["items"]
    assert reports["count"] == len(listed) and all(i["unit_id"] == str(world.town_a) for i in listed)


# --- the scope matrix of the new roles ----------------------------------------------------------

NEW_ROLES = ("liaison", "liaison2", "petition_office_a", "court_a", "procuratorate_a", "public_security_a")


@pytest.mark.parametrize("who", NEW_ROLES)
async def test_the_new_roles_meet_only_their_own_objects(client, as_user, world: World, who: str) -> None:
    """Every channels endpoint against objects that are not the role's: 404 for an object, 403 for
    a list or a step outside the role."""
    o = await organs(world)
    await ensure_people(client, world)
    supervisor, officer = await as_user("supervisor"), await as_user("officer_a1")
    # Objects that belong to someone else: side B's registrations, liaison2's report (or liaison's,
    # for liaison2), a transfer to side B's procuratorate.
    other_liaison = "liaison" if who == "liaison2" else "liaison2"
    if other_liaison == "liaison":
        other_headers, other_id = await as_user("liaison"), world.users["liaison"]
    else:
        other_headers, other_id = await as_organ(client, world, "liaison2"), o["users"]["liaison2"]
    report = await _report(client, other_headers, world)
    lawsuit = (
        await client.post(
            f"{API}/lawsuits", json=_registration(world), headers=await as_organ(client, world, "court_b")
        )
    ).json()
    petition = (
        await client.post(
            f"{API}/petitions",
            json=_registration(world),
            headers=await as_organ(client, world, "petition_office_b"),
        )
    ).json()
    number = unique("N")
    outcome = (
        await client.post(
            f"{API}/items/{lawsuit['id']}/outcomes",
            json={"outcome": "维持", "decided_on": str(TODAY), "decision_number": number},
            headers=await as_organ(client, world, "court_b"),
        )
    ).json()["outcomes"][0]
    transfer = await _transferred(client, officer, world, o["units"]["procuratorate_b"].name, TODAY)
    point = (
        await client.post(
            f"{API}/points",
            json={
                "organisation": unique("工商联"),
                "liaison_user_id": str(other_id),
                "active_from": str(TODAY),
            },
            headers=supervisor,
        )
    ).json()
    headers = await as_user("liaison") if who == "liaison" else await as_organ(client, world, who)
    before = await _counts()

    for item in (report, lawsuit, petition):
        base = f"{API}/items/{item['id']}"
        for path in (base, f"{base}/history"):
            assert_problem(await client.get(path, headers=headers), 404, "not_found")
        for step, body in (
            ("explain", {"text": "说明说明"}),
            ("outcomes", {"outcome": "撤销", "decided_on": str(TODAY), "decision_number": unique("M")}),
        ):
            assert_problem(await client.post(f"{base}/{step}", json=body, headers=headers), 404, "not_found")
        for step, body in (
            ("assign", {"user_id": str(world.users["supervisor"])}),
            ("forward", {"question": "请说明"}),
            ("dismiss", {"reason": "不予处理"}),
            ("note", {}),
            ("document", {}),
            ("corrective", {}),
        ):
            assert_problem(
                await client.post(f"{base}/{step}", json=body, headers=headers), 403, "auth.forbidden"
            )
        photo = await client.post(
            f"{base}/evidence", content=b"\xff\xd8\xff", headers={**headers, "Content-Type": "image/jpeg"}
        )
        assert_problem(photo, 404, "not_found")
    change = await client.post(
        f"{API}/outcomes/{outcome['id']}/change",
        json={"outcome": "撤销", "decided_on": str(TODAY), "reason": "改判"},
        headers=headers,
    )
    assert_problem(change, 404, "not_found")
    listed = await client.get(f"{API}/items?limit=200", headers=headers)
    if who.startswith(("procuratorate", "public_security")):
        assert_problem(listed, 403, "auth.forbidden")
    else:
        assert {report["id"], lawsuit["id"], petition["id"]}.isdisjoint(
            i["id"] for i in listed.json()["items"]
        )
        exported = await client.get(f"{API}/items.csv", headers=headers)
        assert (
            exported.status_code == 200
            and report["id"] not in exported.text
            and lawsuit["id"] not in exported.text
        )
    tpath = f"{API}/transfers/{await _transfer_id(client, supervisor, transfer['id'])}"
    expected = (
        (404, "not_found")
        if who.startswith(("procuratorate", "public_security"))
        else (403, "auth.forbidden")
    )
    assert_problem(await client.get(tpath, headers=headers), *expected)
    for step, body in (
        ("accept", {"received_on": str(TODAY), "number": "X"}),
        ("return", {"returned_on": str(TODAY), "reason": "退回理由"}),
    ):
        assert_problem(await client.post(f"{tpath}/{step}", json=body, headers=headers), *expected)
    transfers = await client.get(f"{API}/transfers", headers=headers)
    if who.startswith(("procuratorate", "public_security")):
        assert transfer["id"] not in [t["case_id"] for t in transfers.json()]
    else:
        assert_problem(transfers, 403, "auth.forbidden")
    for path in ("criminal-check", "counts"):
        assert_problem(await client.get(f"{API}/{path}", headers=headers), 403, "auth.forbidden")
    assert_problem(
        await client.patch(f"{API}/points/{point['id']}", json={"address": "别处"}, headers=headers),
        403,
        "auth.forbidden",
    )
    points = await client.get(f"{API}/points", headers=headers)
    if who.startswith("liaison"):
        assert point["id"] not in [p["id"] for p in points.json()]
    else:
        assert_problem(points, 403, "auth.forbidden")
    assert await _counts() == before
