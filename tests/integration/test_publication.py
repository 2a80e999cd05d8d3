"""执法公示 through the API and the public page: published within its clock, masked, searchable by
unit, item and date, paginated, withdrawn with its reason; anonymous clients see only published
records and nothing personal."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx

from backend.app import create_app
from backend.audit.tables import AuditEntry
from backend.lib.clock import today_local
from backend.publication import services as publication
from backend.publication.tables import Publication
from backend.workdays.services import WorkCalendar
from tests.conftest import World, assert_problem, login, make_settings, serve
from tests.integration.enforcement_helpers import open_case, record_action
from tests.integration.test_clocks import decide

PUBLIC = "/api/v1/public/publications"
ID_NUMBER = "500119198803150027"
PHONE = "13987654321"
ADDRESS = "南川区东城街道金佛大道88号"
PERSON = {"name": "张三丰", "type": "person", "id_number": ID_NUMBER}
COMPANY = {"name": "重庆某某餐饮有限公司", "type": "organisation", "id_number": "91500119MA5U7X1K2B"}


async def decided_case(client, officer, world: World, party: dict, unit: str = "town_a") -> dict:
    action = await record_action(
        client,
        officer,
        world,
        unit_id=str(getattr(world, unit)),
        officer_ids=[str(world.users[f"officer_{unit[-1]}1"]), str(world.users[f"officer_{unit[-1]}2"])],
        party=party,
        address=ADDRESS,
        notes=f"当事人联系电话{PHONE}",
    )
    case = await open_case(
        client,
        officer,
        world,
        [action["id"]],
        unit_id=str(getattr(world, unit)),
        party=party,
        summary=f"{party['name']}占道经营，电话{PHONE}，住{ADDRESS}",
    )
    response = await decide(client, officer, case, fine=500)
    assert response.status_code == 200, response.text
    return response.json()


async def _publish(client, officer, case_id: str) -> dict:
    response = await client.post("/api/v1/publications", json={"case_id": case_id}, headers=officer)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_penalty_decision_is_published_masked_and_its_clock_met(client, world: World) -> None:
    officer = await login(client, world.username("officer_a1"))
    case = await decided_case(client, officer, world, PERSON)
    clock = next(c for c in case["clocks"] if c["kind"] == "publication")
    assert clock["days"] == 7 and clock["counts"] == "working"
    assert clock["due_on"] == str(WorkCalendar().add_working_days(today_local(), 7)[0])
    published = await _publish(client, officer, case["id"])
    assert published["party"] == "张**" and published["party_code"] is None
    assert published["fine"] == 500 and published["case_number"] == case["number"]
    shown = (await client.get(f"/api/v1/cases/{case['id']}", headers=officer)).json()
    assert next(c for c in shown["clocks"] if c["kind"] == "publication")["status"] == "met"
    again = await client.post("/api/v1/publications", json={"case_id": case["id"]}, headers=officer)
    assert_problem(again, 409, "publication.exists")
    assert (
        await AuditEntry.count().where(
            (AuditEntry.action == "publication.published") & (AuditEntry.object_id == published["id"])
        )
        == 1
    )

    # An anonymous phone: the JSON and the HTML carry no personal identifier.
    async with httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url)) as anonymous:
        listed = await anonymous.get(PUBLIC, params={"unit_id": str(world.town_a), "limit": 50})
        assert listed.status_code == 200, listed.text
        assert published["id"] in [p["id"] for p in listed.json()["items"]]
        detail = await anonymous.get(f"{PUBLIC}/{published['id']}")
        page = await anonymous.get("/public", params={"unit_id": str(world.town_a)})
        record = await anonymous.get(f"/public/{published['id']}")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "张**" in page.text and "张**" in record.text
        for response in (listed, detail, page, record):
            for secret in (ID_NUMBER, PHONE, ADDRESS, "张三丰", "decided_by", "summary"):
                assert secret not in response.text, (secret, response.request.url)


async def test_a_company_keeps_its_name_and_credit_code(client, world: World) -> None:
    officer = await login(client, world.username("officer_a1"))
    case = await decided_case(client, officer, world, COMPANY)
    published = await _publish(client, officer, case["id"])
    assert published["party"] == COMPANY["name"] and published["party_code"] == COMPANY["id_number"]
    record = await client.get(f"/public/{published['id']}")
    assert COMPANY["name"] in record.text and COMPANY["id_number"] in record.text


async def test_the_public_list_never_shows_an_unpublished_case(client, world: World) -> None:
    officer = await login(client, world.username("officer_a1"))
    hidden = await decided_case(client, officer, world, PERSON)
    assert (await client.get(f"{PUBLIC}/{hidden['id']}")).status_code == 404
    assert (await client.get(f"/public/{hidden['id']}")).status_code == 404
    assert_problem(await client.get(f"{PUBLIC}/{uuid.uuid4()}"), 404, "not_found")
    everything, cursor = [], None
    while True:
        params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(PUBLIC, params=params)).json()
        everything += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert hidden["number"] not in [p["case_number"] for p in everything]
    assert all(p["status"] == "published" for p in everything)


async def test_search_by_unit_item_and_date_pages_by_keyset(client, world: World) -> None:
    officer = await login(client, world.username("officer_b1"))
    ids = []
    for _ in range(3):
        case = await decided_case(client, officer, world, COMPANY, unit="town_b")
        ids.append((await _publish(client, officer, case["id"]))["id"])
    params = {"unit_id": str(world.town_b), "item_id": str(world.items["delegated"]), "limit": 1}
    seen, cursor = [], None
    for _ in range(50):
        page = (await client.get(PUBLIC, params={**params, **({"cursor": cursor} if cursor else {})})).json()
        assert len(page["items"]) <= 1
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen[:3] == list(reversed(ids))  # newest first
    assert len(seen) == len(set(seen))
    today = str(today_local())
    on_day = (
        await client.get(PUBLIC, params={**params, "limit": 50, "decided_from": today, "decided_to": today})
    ).json()
    assert set(ids) <= {p["id"] for p in on_day["items"]}
    before = str(today_local() - timedelta(days=400))
    old = (await client.get(PUBLIC, params={**params, "decided_to": before})).json()
    assert old["items"] == []
    other = (await client.get(PUBLIC, params={"unit_id": str(world.town_a), "limit": 50})).json()
    assert not set(ids) & {p["id"] for p in other["items"]}
    page = await client.get("/public", params={"unit_id": str(world.town_b)})
    assert page.text.count('data-testid="publication"') >= 3


async def test_bad_public_queries_are_problems(client, world: World) -> None:
    assert_problem(await client.get(PUBLIC, params={"limit": 0}), 400, "validation.failed")
    assert_problem(await client.get(PUBLIC, params={"limit": 51}), 400, "validation.failed")
    assert_problem(await client.get(PUBLIC, params={"cursor": "nonsense"}), 400, "validation.failed")
    assert_problem(await client.get(PUBLIC, params={"unit_id": "1 OR 1=1"}), 400, "validation.failed")
    assert_problem(
        await client.get(PUBLIC, params={"decided_from": "2026-02-01", "decided_to": "2026-01-01"}),
        400,
        "validation.failed",
    )


async def test_withdrawal_shows_its_reason_and_leaves_the_public_list(client, world: World) -> None:
    officer = await login(client, world.username("officer_a1"))
    case = await decided_case(client, officer, world, PERSON)
    published = await _publish(client, officer, case["id"])
    due = await publication.reversal_recorded(uuid.UUID(case["id"]))
    assert due == WorkCalendar().add_working_days(today_local(), 3)[0]
    url = f"/api/v1/publications/{published['id']}/withdraw"
    assert_problem(await client.post(url, json={"reason": "撤"}, headers=officer), 400, "validation.failed")
    row = await Publication.select(Publication.status).where(Publication.id == published["id"]).first()
    assert row["status"] == "published"
    other = await login(client, world.username("officer_b1"))
    assert_problem(
        await client.post(url, json={"reason": "复议机关决定撤销原处罚决定"}, headers=other), 404, "not_found"
    )
    reason = "复议机关决定撤销原处罚决定（南川府复〔2026〕3号）"
    withdrawn = await client.post(url, json={"reason": reason}, headers=officer)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn" and withdrawn.json()["withdrawal_reason"] == reason
    assert_problem(
        await client.post(url, json={"reason": reason}, headers=officer), 409, "publication.withdrawn"
    )
    listed = (await client.get(PUBLIC, params={"unit_id": str(world.town_a), "limit": 50})).json()
    assert published["id"] not in [p["id"] for p in listed["items"]]
    detail = (await client.get(f"{PUBLIC}/{published['id']}")).json()
    assert detail["status"] == "withdrawn" and detail["withdrawal_reason"] == reason
    assert "party" not in detail and "case_number" not in detail
    record = await client.get(f"/public/{published['id']}")
    assert reason in record.text and "张**" not in record.text
    mine = (
        await client.get("/api/v1/publications", params={"unit_id": str(world.town_a)}, headers=officer)
    ).json()
    kept = next(p for p in mine["items"] if p["id"] == published["id"])
    assert kept["withdrawal_reason"] == reason
    shown = (await client.get(f"/api/v1/cases/{case['id']}", headers=officer)).json()
    assert next(c for c in shown["clocks"] if c["kind"] == "withdrawal")["status"] == "met"
    assert (
        await AuditEntry.count().where(
            (AuditEntry.action == "publication.withdrawn") & (AuditEntry.object_id == published["id"])
        )
        == 1
    )


async def test_publishing_needs_a_decision_and_the_unit(client, world: World) -> None:
    officer = await login(client, world.username("officer_a1"))
    action = await record_action(client, officer, world)
    case = await open_case(client, officer, world, [action["id"]])
    refused = await client.post("/api/v1/publications", json={"case_id": case["id"]}, headers=officer)
    assert_problem(refused, 422, "publication.not_decided")
    decided = await decided_case(client, officer, world, PERSON)
    other = await login(client, world.username("officer_b1"))
    foreign = await client.post("/api/v1/publications", json={"case_id": decided["id"]}, headers=other)
    assert_problem(foreign, 404, "not_found")
    unknown = await client.post("/api/v1/publications", json={"case_id": case["id"], "x": 1}, headers=officer)
    assert_problem(unknown, 400, "validation.failed")
    assert await Publication.count().where(Publication.case.is_in([case["id"], decided["id"]])) == 0


async def test_the_public_side_is_rate_limited(migrated, world: World) -> None:
    async with serve(create_app(make_settings(public_rate_per_minute=3))) as client:
        codes = [(await client.get(PUBLIC)).status_code for _ in range(4)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
        assert (await client.get("/api/v1/clocks")).status_code == 401  # the rest is unaffected


def test_publication_days_per_item_kind_from_the_environment(monkeypatch) -> None:
    from backend.settings import Settings

    monkeypatch.setenv("FIELDWATCH_PUBLICATION_DAYS", "penalty=5,coercion=10")
    settings = Settings.from_env()
    publication.configure(settings.publication_days, settings.withdrawal_days)
    try:
        assert publication.days_for("penalty") == 5
        assert publication.days_for("coercion") == 10
        assert publication.days_for("inspection") == 20
    finally:
        publication.configure((("penalty", 7), ("*", 20)), 3)


async def test_a_reversal_withdraws_through_the_service_within_its_clock(client, world: World) -> None:
    from backend.lib.auth import CurrentUser

    officer = await login(client, world.username("officer_a1"))
    case = await decided_case(client, officer, world, COMPANY)
    published = await _publish(client, officer, case["id"])
    await publication.reversal_recorded(uuid.UUID(case["id"]))
    supervisor = CurrentUser(
        id=world.users["supervisor"],
        username=world.username("supervisor"),
        display_name="测试supervisor",
        roles=frozenset({"supervisor"}),
        unit_ids=frozenset(),
        session_id=uuid.uuid4(),
    )
    reason = "行政复议决定确认原处罚决定违法"
    withdrawn = await publication.withdraw_publication(uuid.UUID(case["id"]), reason, supervisor)
    assert withdrawn is not None and withdrawn.status == "withdrawn" and withdrawn.withdrawal_reason == reason
    assert await publication.withdraw_publication(uuid.UUID(case["id"]), reason, supervisor) is None
    listed = (await client.get(PUBLIC, params={"unit_id": str(world.town_a), "limit": 50})).json()
    assert published["id"] not in [p["id"] for p in listed["items"]]
    shown = (await client.get(f"/api/v1/cases/{case['id']}", headers=officer)).json()
    assert next(c for c in shown["clocks"] if c["kind"] == "withdrawal")["status"] == "met"
