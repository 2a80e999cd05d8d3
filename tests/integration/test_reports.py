"""Monthly reports, the assessment and the records behind every figure."""

from __future__ import annotations

import io
import random
import subprocess
import uuid
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from backend.alerts.tables import Alert
from backend.lib.clock import today_local
from backend.live.publish import Publisher
from backend.reports import figures as figs
from backend.reports import indicators as ind
from backend.reports import services as reports
from backend.reports.periods import Period, last_month
from backend.reports.tables import Report
from tests.conftest import World, assert_problem, login
from tests.integration.report_helpers import Town, new_town, plant_action, random_records

API = "/api/v1/reports"


def _pdf_text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


MONTH = last_month()
MONTH_TEXT = MONTH.start.strftime("%Y-%m")


async def _all_values(town: Town, period: Period) -> dict[str, float]:
    figures = await reports.report_figures(town.id, period) + [
        f for k, f in figs.FIGURES.items() if k not in reports.REPORT_FIGURES
    ]
    ctx = await reports.context(period)
    return (await figs.values(figures, period, ctx, [town.id])).get(town.id, {})


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_every_figure_equals_its_records(world: World, seed: int) -> None:
    """Generated data of every kind; for every figure, over a month and over a year, the value is
    the number of records listed (or, for a sum, the sum of their amounts)."""
    town = await new_town(world)
    rng = random.Random(seed)
    await random_records(town, rng, MONTH.start, MONTH.end, n=16)
    for period in (MONTH, Period(date(MONTH.start.year, 1, 1), date(MONTH.start.year + 1, 1, 1))):
        ctx = await reports.context(period)
        figures = list(figs.FIGURES.values()) + [
            f for f in await reports.report_figures(town.id, period) if f.key.startswith(figs.ITEM_PREFIX)
        ]
        counted = (await figs.values(figures, period, ctx, [town.id])).get(town.id, {})
        nonzero = 0
        for figure in figures:
            rows = await figs.records(figure, period, ctx, town.id, limit=10_000, offset=0)
            listed = sum(r["amount"] for r in rows) if figure.measure == "sum" else len(rows)
            assert counted.get(figure.key, 0) == pytest.approx(listed), (seed, period, figure.key)
            assert all(r["unit_id"] == town.id for r in rows)
            nonzero += bool(listed)
        assert nonzero >= 25, f"seed {seed}: the data reached only {nonzero} figures"


async def test_a_planted_record_moves_exactly_its_figures(world: World) -> None:
    town = await new_town(world)
    await random_records(town, random.Random(7), MONTH.start, MONTH.end)
    before = await _all_values(town, MONTH)
    await plant_action(town, MONTH.start, kind="coercive", item=town.items[1], recording_required=True)
    after = await _all_values(town, MONTH)
    moved = {k for k in set(before) | set(after) if after.get(k, 0) != before.get(k, 0)}
    assert moved == {
        "actions.total",
        "actions.kind.coercive",
        f"actions.item.{town.items[1]}",
        "actions.recording_required",
    }
    assert all(after[k] - before.get(k, 0) == 1 for k in moved)
    # Outside the month (the first of the next), nothing moves.
    await plant_action(town, MONTH.end)
    assert await _all_values(town, MONTH) == after


async def test_monthly_report_draft_submit_freeze_accept_correct(client, world: World) -> None:
    town = await new_town(world)
    await plant_action(town, MONTH.start)
    await plant_action(town, MONTH.start, kind="evidence")
    responder = await login(client, town.responder)
    response = await client.get(
        f"{API}/monthly", params={"unit_id": str(town.id), "month": MONTH_TEXT}, headers=responder
    )
    assert response.status_code == 200, response.text
    report = response.json()
    figures = {f["key"]: f["value"] for f in report["figures"]}
    assert report["status"] == "draft" and report["version"] == 1 and report["can_edit"] is True
    assert figures["actions.total"] == 2 and figures["actions.kind.evidence"] == 1
    assert report["due_on"] == MONTH.end.replace(day=15).isoformat()
    # The same draft on a second read; the live list behind a figure agrees with it.
    again = await client.get(
        f"{API}/monthly", params={"unit_id": str(town.id), "month": MONTH_TEXT}, headers=responder
    )
    assert again.json()["id"] == report["id"]
    listed = await client.get(
        f"{API}/{report['id']}/records", params={"figure": "actions.total"}, headers=responder
    )
    assert listed.status_code == 200 and listed.json()["count"] == 2 == len(listed.json()["items"])
    assert listed.json()["items"][0]["link"].startswith("#/actions/")

    # Submitting without the narrative is refused, and nothing changes.
    refused = await client.post(f"{API}/{report['id']}/submit", headers=responder)
    body = assert_problem(refused, 422, "report.narrative_missing")
    assert {e["key"] for e in body["errors"]} == {
        "narrative.progress",
        "narrative.problems",
        "narrative.next_steps",
    }
    assert (await Report.select(Report.status).where(Report.id == uuid.UUID(report["id"])).first())[
        "status"
    ] == "draft"
    # Another officer of the unit reads it but may not write it.
    officer = await login(client, town.officer)
    assert (await client.get(f"{API}/{report['id']}", headers=officer)).json()["can_edit"] is False
    assert_problem(
        await client.patch(f"{API}/{report['id']}", json={"narrative": {"progress": "x"}}, headers=officer),
        403,
        "auth.forbidden",
    )
    narrative = {"progress": "开展检查2次", "problems": "人员不足", "next_steps": "加强培训"}
    saved = await client.patch(f"{API}/{report['id']}", json={"narrative": narrative}, headers=responder)
    assert saved.status_code == 200 and saved.json()["narrative"] == narrative
    submitted = await client.post(f"{API}/monthly/{report['id']}/submit", headers=responder)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted" and submitted.json()["frozen"] is True
    assert_problem(
        await client.post(f"{API}/{report['id']}/submit", headers=responder), 409, "report.invalid_state"
    )
    assert_problem(
        await client.patch(f"{API}/{report['id']}", json={"narrative": narrative}, headers=responder),
        409,
        "report.invalid_state",
    )

    # A late-arriving act of that month changes the live figure, not the submitted one.
    await plant_action(town, MONTH.start)
    frozen = await client.get(f"{API}/{report['id']}", headers=responder)
    assert {f["key"]: f["value"] for f in frozen.json()["figures"]}["actions.total"] == 2
    frozen_list = await client.get(
        f"{API}/{report['id']}/records", params={"figure": "actions.total"}, headers=responder
    )
    assert frozen_list.json()["count"] == 2 == len(frozen_list.json()["items"])
    live = await client.get(
        f"{API}/records",
        params={"figure": "actions.total", "unit_id": str(town.id), "period": MONTH_TEXT},
        headers=responder,
    )
    assert live.json()["count"] == 3 == live.json()["total"]

    supervisor = await login(client, world.username("supervisor"))
    overview = await client.get(f"{API}/monthly/overview", params={"month": MONTH_TEXT}, headers=supervisor)
    mine = [u for u in overview.json()["units"] if u["unit_id"] == str(town.id)]
    assert mine and mine[0]["status"] == "submitted" and mine[0]["late"] is False
    assert_problem(
        await client.post(f"{API}/{report['id']}/accept", headers=responder), 403, "auth.forbidden"
    )
    commented = await client.post(
        f"{API}/{report['id']}/comments", json={"text": "请补充问题分析"}, headers=supervisor
    )
    assert commented.status_code == 201 and commented.json()["comments"][0]["text"] == "请补充问题分析"
    accepted = await client.post(f"{API}/{report['id']}/accept", headers=supervisor)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"

    corrected = await client.post(f"{API}/{report['id']}/correct", headers=responder)
    assert corrected.status_code == 201, corrected.text
    v2 = corrected.json()
    assert v2["version"] == 2 and v2["status"] == "draft" and v2["narrative"] == narrative
    assert {f["key"]: f["value"] for f in v2["figures"]}["actions.total"] == 3
    old = await client.get(f"{API}/{report['id']}", headers=supervisor)
    assert old.json()["status"] == "superseded"
    assert {f["key"]: f["value"] for f in old.json()["figures"]}["actions.total"] == 2
    latest = await client.get(
        f"{API}/monthly", params={"unit_id": str(town.id), "month": MONTH_TEXT}, headers=supervisor
    )
    assert latest.json()["id"] == v2["id"]


async def test_report_access_and_bad_input(client, world: World) -> None:
    town = await new_town(world)
    params = {"unit_id": str(town.id), "month": MONTH_TEXT}
    responder = await login(client, town.responder)
    report = (await client.get(f"{API}/monthly", params=params, headers=responder)).json()
    # Another town's officer: the unit and the report do not exist for them.
    other = await login(client, world.username("officer_b1"))
    assert_problem(await client.get(f"{API}/monthly", params=params, headers=other), 404, "not_found")
    assert_problem(await client.get(f"{API}/{report['id']}", headers=other), 404, "not_found")
    # Liaisons and invited supervisors see no reports at all.
    for key in ("liaison", "invited"):
        headers = await login(client, world.username(key))
        assert_problem(await client.get(f"{API}/{report['id']}", headers=headers), 403, "auth.forbidden")
        assert_problem(await client.get(f"{API}/assessment", headers=headers), 403, "auth.forbidden")
    this_month = today_local().strftime("%Y-%m")
    assert_problem(
        await client.get(f"{API}/monthly", params={**params, "month": this_month}, headers=responder),
        409,
        "report.month_not_over",
    )
    for bad in ("2026-13", "26-01", "2026/01"):
        assert_problem(
            await client.get(f"{API}/monthly", params={**params, "month": bad}, headers=responder),
            400,
            "validation.failed",
        )
    assert_problem(
        await client.get(f"{API}/{report['id']}/records", params={"figure": "no.such"}, headers=responder),
        400,
        "report.figure_unknown",
    )
    assert_problem(
        await client.patch(
            f"{API}/{report['id']}", json={"narrative": {"progress": "x"}, "extra": 1}, headers=responder
        ),
        400,
        "validation.failed",
    )
    assert (await Report.count().where(Report.unit_id == town.id)) == 1


async def test_schedule_drafts_reminds_and_alerts_once(world: World) -> None:
    town = await new_town(world)
    events = Publisher()  # no channel: alerts are recorded, nothing is streamed
    first = date(MONTH.end.year, MONTH.end.month, 1)
    await reports.run_schedule(events, first)
    rows = await Report.select().where(Report.unit_id == town.id)
    assert len(rows) == 1 and rows[0]["status"] == "draft" and rows[0]["period_from"] == MONTH.start
    await reports.run_schedule(events, first)
    assert await Report.count().where(Report.unit_id == town.id) == 1

    async def alerts(type_: str) -> int:
        return await Alert.count().where((Alert.type == type_) & (Alert.unit_id == town.id))

    await reports.run_schedule(events, first.replace(day=12))
    assert await alerts("report.due_soon") == 0
    for _ in range(2):
        await reports.run_schedule(events, first.replace(day=13))
    assert await alerts("report.due_soon") == 1
    await reports.run_schedule(events, first.replace(day=15))
    assert await alerts("report.late") == 0
    for _ in range(2):
        await reports.run_schedule(events, first.replace(day=16))
    assert await alerts("report.late") == 1 and await alerts("report.due_soon") == 1


async def test_assessment_figures_open_their_records(client, world: World) -> None:
    town = await new_town(world)
    year = MONTH.start.year
    await random_records(town, random.Random(11), date(year, 3, 1), date(year, 10, 1), n=20)
    supervisor = await login(client, world.username("supervisor"))
    response = await client.get(f"{API}/assessment", params={"period": str(year)}, headers=supervisor)
    assert response.status_code == 200, response.text
    table = response.json()
    assert table["period_from"] == f"{year}-01-01" and table["previous_from"] == f"{year - 1}-01-01"
    row = next(u for u in table["units"] if u["unit_id"] == str(town.id))
    assert row["score"] is not None and row["rank"] >= 1
    checked = 0
    for indicator in ind.INDICATORS:
        value = row["values"][indicator.key]
        for part, expected in (("numerator", value["numerator"]), ("denominator", value["denominator"])):
            if expected is None:
                continue
            listed = await client.get(
                f"{API}/assessment/records",
                params={
                    "unit_id": str(town.id),
                    "indicator": indicator.key,
                    "part": part,
                    "period": str(year),
                    "limit": 200,
                },
                headers=supervisor,
            )
            assert listed.status_code == 200, listed.text
            assert listed.json()["count"] == expected == len(listed.json()["items"]), (indicator.key, part)
            checked += bool(expected)
        if value["denominator"]:
            assert value["value"] == pytest.approx(value["numerator"] / value["denominator"], abs=1e-4)
    assert checked >= 12
    # A unit's officer sees its own row only.
    officer = await login(client, town.officer)
    own = await client.get(f"{API}/assessment", params={"period": str(year)}, headers=officer)
    assert [u["unit_id"] for u in own.json()["units"]] == [str(town.id)]
    assert_problem(
        await client.get(
            f"{API}/assessment/records",
            params={"unit_id": str(world.town_b), "indicator": "recording_rate", "period": str(year)},
            headers=officer,
        ),
        404,
        "not_found",
    )
    assert_problem(
        await client.get(
            f"{API}/assessment/records",
            params={"unit_id": str(town.id), "indicator": "nope"},
            headers=officer,
        ),
        400,
        "report.figure_unknown",
    )
    assert_problem(
        await client.get(f"{API}/assessment", params={"period": "2026-Q5"}, headers=officer),
        400,
        "validation.failed",
    )


async def test_weights_change_the_score_and_bad_weights_change_nothing(client, world: World) -> None:
    supervisor = await login(client, world.username("supervisor"))
    before = (await client.get(f"{API}/assessment/weights", headers=supervisor)).json()["weights"]
    bad = await client.put(f"{API}/assessment/weights", json={"weights": {"no_such": 3}}, headers=supervisor)
    assert_problem(bad, 400, "validation.failed")
    assert_problem(
        await client.put(
            f"{API}/assessment/weights", json={"weights": {"recording_rate": -1}}, headers=supervisor
        ),
        400,
        "validation.failed",
    )
    assert (await client.get(f"{API}/assessment/weights", headers=supervisor)).json()["weights"] == before
    officer = await login(client, world.username("officer_a1"))
    assert_problem(
        await client.put(
            f"{API}/assessment/weights", json={"weights": {"recording_rate": 1}}, headers=officer
        ),
        403,
        "auth.forbidden",
    )
    only = {k: 0.0 for k in before} | {"recording_rate": 1.0}
    try:
        saved = await client.put(f"{API}/assessment/weights", json={"weights": only}, headers=supervisor)
        assert saved.status_code == 200 and saved.json()["weights"] == only
        town = await new_town(world)
        await plant_action(town, MONTH.start, recording_required=True, recorded=True)
        await plant_action(town, MONTH.start, recording_required=True)
        table = (
            await client.get(f"{API}/assessment", params={"period": MONTH_TEXT}, headers=supervisor)
        ).json()
        row = next(u for u in table["units"] if u["unit_id"] == str(town.id))
        assert row["score"] == 50.0  # only the recording rate counts: 1 of 2
    finally:
        await client.put(f"{API}/assessment/weights", json={"weights": before}, headers=supervisor)


async def test_exports_csv_xlsx_pdf(client, world: World) -> None:
    town = await new_town(world)
    await plant_action(town, MONTH.start)
    supervisor = await login(client, world.username("supervisor"))
    params = {"unit_id": str(town.id), "month": MONTH_TEXT}
    as_csv = await client.get(f"{API}/monthly", params=params, headers={**supervisor, "Accept": "text/csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    text = as_csv.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "类别,指标,数值,指标代码"
    assert "执法行为,执法行为,1,actions.total" in text
    as_xlsx = await client.get(f"{API}/monthly", params={**params, "format": "xlsx"}, headers=supervisor)
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert [c.value for c in sheet[1]] == ["类别", "指标", "数值", "指标代码"]
    assert sheet.freeze_panes == "A2"
    rows = {r[3]: r[2] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["actions.total"] == "1"
    as_pdf = await client.get(f"{API}/monthly", params={**params, "format": "pdf"}, headers=supervisor)
    assert as_pdf.content.startswith(b"%PDF")
    words = _pdf_text(as_pdf.content)
    assert town.name in words and "工作推进情况" in words and "执法行为" in words

    # A list behind a figure is a table too: as many rows as the figure, under Chinese headers.
    report_id = (await client.get(f"{API}/monthly", params=params, headers=supervisor)).json()["id"]
    listed = await client.get(
        f"{API}/{report_id}/records", params={"figure": "actions.total", "format": "csv"}, headers=supervisor
    )
    lines = listed.content.decode("utf-8-sig").splitlines()
    assert (
        lines[0] == "类型,时间,名称,详情,数额,记录编号"
        and len(lines) == 2
        and lines[1].startswith("执法行为,")
    )
    live = await client.get(
        f"{API}/records",
        params={"figure": "actions.total", "unit_id": str(town.id), "period": MONTH_TEXT, "format": "xlsx"},
        headers=supervisor,
    )
    sheet = load_workbook(io.BytesIO(live.content)).active
    assert [c.value for c in sheet[1]][:3] == ["类型", "时间", "名称"] and sheet.max_row == 2

    year = str(MONTH.start.year)
    table = await client.get(
        f"{API}/assessment", params={"period": year, "format": "xlsx"}, headers=supervisor
    )
    book = load_workbook(io.BytesIO(table.content))
    header = [c.value for c in book.active[1]]
    assert header[:5] == ["排名", "单位", "得分", "上期得分", "变化"] and "音像记录覆盖率" in header
    assert any(r[1] == town.name for r in book.active.iter_rows(min_row=2, values_only=True))
    assert "说明" in book.sheetnames
    pdf = await client.get(
        f"{API}/assessment", params={"period": year}, headers={**supervisor, "Accept": "application/pdf"}
    )
    words = _pdf_text(pdf.content)
    assert "行政执法考核" in words and "法制审核率" in words


async def test_only_active_pilot_units_within_their_pilot_period_are_drafted(world: World) -> None:
    from backend.org.tables import Unit

    ended, gone, current = await new_town(world), await new_town(world), await new_town(world)
    await Unit.update({Unit.pilot_to: MONTH.start - timedelta(days=1)}).where(Unit.id == ended.id)
    await Unit.update({Unit.active: False}).where(Unit.id == gone.id)
    await Unit.update({Unit.pilot_from: MONTH.start, Unit.pilot_to: MONTH.end}).where(Unit.id == current.id)
    await reports.run_schedule(Publisher(), MONTH.end)
    drafted = {
        r["unit_id"] for r in await Report.select(Report.unit_id).where(Report.period_from == MONTH.start)
    }
    assert current.id in drafted and ended.id not in drafted and gone.id not in drafted
