"""案卷评查: a reproducible random draw of closed cases, score sheets, and the 案卷合格率 they feed."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from backend.actions.tables import ActionOfficer
from backend.cases.tables import CaseAction
from backend.corrective.tables import CorrectiveAction
from backend.lib.clock import today_local
from backend.reports.reviews import draw_sample
from backend.reports.tables import FileReviewDraw, FileReviewScore
from tests.conftest import World, assert_problem, login
from tests.integration.report_helpers import at, new_town, plant_action, plant_case

API = "/api/v1/case-reviews"
START, END = date(2026, 3, 1), date(2026, 4, 1)


async def _closed_cases(town, n: int) -> list[uuid.UUID]:
    return [
        await plant_case(town, START, status="closed", closed_at=at(START + timedelta(days=i % 28)))
        for i in range(n)
    ]


async def test_draw_is_reproducible_from_its_seed(client, world: World) -> None:
    town = await new_town(world)
    cases = await _closed_cases(town, 9)
    await plant_case(town, START, status="closed", closed_at=at(END))  # closed after the period
    await plant_case(town, START)  # still open
    supervisor = await login(client, world.username("supervisor"))
    body = {
        "unit_id": str(town.id),
        "from": START.isoformat(),
        "to": END.isoformat(),
        "size": 4,
        "seed": "fair-2026",
    }
    first = await client.post(f"{API}/draw", json=body, headers=supervisor)
    assert first.status_code == 201, first.text
    draw = first.json()
    assert draw["seed"] == "fair-2026" and draw["population"] == 9 and draw["size"] == 4
    picked = [c["case_id"] for c in draw["cases"]]
    assert set(picked) <= {str(c) for c in cases} and len(set(picked)) == 4
    # Anyone can redo it: the kept population and seed give the same files.
    row = await FileReviewDraw.select().where(FileReviewDraw.id == uuid.UUID(draw["id"])).first()
    assert draw_sample(row["seed"], sorted(str(c) for c in cases), 4) == picked
    again = await client.post(f"{API}/draw", json=body, headers=supervisor)
    assert [c["case_id"] for c in again.json()["cases"]] == picked
    other = await client.post(f"{API}/draw", json={**body, "seed": "another"}, headers=supervisor)
    assert other.status_code == 201
    unseeded = await client.post(
        f"{API}/draw", json={k: v for k, v in body.items() if k != "seed"}, headers=supervisor
    )
    assert len(unseeded.json()["seed"]) == 16
    # More than there are: every file.
    everything = await client.post(f"{API}/draw", json={**body, "size": 50}, headers=supervisor)
    assert everything.json()["size"] == 9


async def test_score_sheet_vetoes_and_the_pass_rate(client, world: World) -> None:
    town = await new_town(world)
    good, lone = await _closed_cases(town, 2)
    # An act of the second case had one officer: the server adds that veto itself.
    action = await plant_action(town, START)
    await ActionOfficer.delete().where(
        (ActionOfficer.action == action) & (ActionOfficer.officer == town.officers[1])
    )
    await CaseAction.insert(CaseAction(id=uuid.uuid4(), case=lone, action=action)).run()
    supervisor = await login(client, world.username("supervisor"))
    draw = (
        await client.post(
            f"{API}/draw",
            json={"unit_id": str(town.id), "from": START.isoformat(), "to": END.isoformat(), "size": 2},
            headers=supervisor,
        )
    ).json()
    url = f"{API}/{draw['id']}/score"
    scored = await client.post(
        url, json={"case_id": str(good), "form_score": 18, "content_score": 70}, headers=supervisor
    )
    assert scored.status_code == 201, scored.text
    sheet = next(c["score"] for c in scored.json()["cases"] if c["case_id"] == str(good))
    assert sheet["total"] == 88 and sheet["passed"] is True and sheet["vetoes"] == []
    failed = await client.post(
        url, json={"case_id": str(lone), "form_score": 20, "content_score": 80}, headers=supervisor
    )
    sheet = next(c["score"] for c in failed.json()["cases"] if c["case_id"] == str(lone))
    assert sheet["vetoes"] == ["执法人员不足2人"] and sheet["passed"] is False and sheet["total"] == 0
    # The failed file opened a corrective action for its unit; the passed one none.
    tasks = await CorrectiveAction.select().where(CorrectiveAction.unit_id == town.id)
    assert len(tasks) == 1 and tasks[0]["source_kind"] == "case_file"
    assert "执法人员不足2人" in tasks[0]["description"]
    assert_problem(
        await client.post(
            url, json={"case_id": str(good), "form_score": 1, "content_score": 1}, headers=supervisor
        ),
        409,
        "case_review.already_scored",
    )
    # The unit's 案卷合格率 for the period of the scoring: 1 of 2.
    year = str(today_local().year)
    table = (
        await client.get("/api/v1/reports/assessment", params={"period": year}, headers=supervisor)
    ).json()
    row = next(u for u in table["units"] if u["unit_id"] == str(town.id))
    assert row["values"]["file_pass_rate"] == {
        "value": 0.5,
        "numerator": 1,
        "denominator": 2,
        "previous": None,
    }


async def test_bad_draws_and_sheets_change_nothing(client, world: World) -> None:
    town = await new_town(world)
    case_id = (await _closed_cases(town, 1))[0]
    supervisor = await login(client, world.username("supervisor"))
    base = {"unit_id": str(town.id), "from": START.isoformat(), "to": END.isoformat(), "size": 1}
    assert_problem(
        await client.post(
            f"{API}/draw", json={**base, "from": "2025-01-01", "to": "2025-02-01"}, headers=supervisor
        ),
        422,
        "case_review.no_cases",
    )
    for bad in (
        {**base, "size": 0},
        {**base, "seed": "a b"},
        {**base, "to": "2026-02-01"},
        {**base, "unit_id": str(uuid.uuid4())},
    ):
        response = await client.post(f"{API}/draw", json=bad, headers=supervisor)
        assert response.status_code in (400, 422), response.text
    assert await FileReviewDraw.count().where(FileReviewDraw.unit_id == town.id) == 0
    officer = await login(client, town.responder)
    assert_problem(await client.post(f"{API}/draw", json=base, headers=officer), 403, "auth.forbidden")
    draw = (await client.post(f"{API}/draw", json=base, headers=supervisor)).json()
    url = f"{API}/{draw['id']}/score"
    for bad in (
        {"case_id": str(case_id), "form_score": 21, "content_score": 10},
        {"case_id": str(case_id), "form_score": 10, "content_score": 81},
        {"case_id": str(case_id), "form_score": 10, "content_score": 10, "vetoes": ["不存在"]},
    ):
        assert_problem(await client.post(url, json=bad, headers=supervisor), 400, "validation.failed")
    assert_problem(
        await client.post(
            url, json={"case_id": str(uuid.uuid4()), "form_score": 1, "content_score": 1}, headers=supervisor
        ),
        422,
        "case_review.case_not_drawn",
    )
    assert_problem(
        await client.post(
            url, json={"case_id": str(case_id), "form_score": 1, "content_score": 1}, headers=officer
        ),
        403,
        "auth.forbidden",
    )
    assert await FileReviewScore.count().where(FileReviewScore.draw_id == uuid.UUID(draw["id"])) == 0
    # The unit reads its own draws; another town's officer finds none.
    assert (await client.get(f"{API}/{draw['id']}", headers=officer)).status_code == 200
    stranger = await login(client, world.username("officer_b1"))
    assert_problem(await client.get(f"{API}/{draw['id']}", headers=stranger), 404, "not_found")
    assert all(d["unit_id"] != str(town.id) for d in (await client.get(f"{API}/", headers=stranger)).json())
