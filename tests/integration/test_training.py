"""Training: planning, attendance on the phone, exam scores typed in or imported (with a preview
that writes nothing when any row is bad), the officer's own year, and the annual run (年度考核)."""

from __future__ import annotations

import asyncio
import io
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from openpyxl import Workbook

from backend.accounts.tables import Certificate, CertificateEvent
from backend.audit.tables import AuditEntry
from backend.lib.clock import today_local
from backend.supervision.tables import SpotCheck
from backend.training.tables import Attendance, ExamScore
from tests.conftest import PASSWORD, World, assert_problem, login, unique
from tests.integration.evidence.photos import phone_photo

T = "/api/v1/trainings"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Town:
    unit_id: str
    officers: dict[str, str]  # key → user id
    usernames: dict[str, str]
    numbers: dict[str, str]


async def _town(client, world: World, keys: list[str]) -> Town:
    """A fresh township with certified officers (the shared world's officers stay out of the run)."""
    admin = await login(client, world.username("admin"))
    unit = await client.post(
        "/api/v1/units", json={"name": unique("培训镇"), "kind": "township"}, headers=admin
    )
    assert unit.status_code == 201, unit.text
    unit_id = unit.json()["id"]
    town = Town(unit_id, {}, {}, {})
    today = today_local()
    for key in keys:
        username = unique(f"tr-{key}")
        created = await client.post(
            "/api/v1/users",
            json={
                "username": username,
                "password": PASSWORD,
                "display_name": f"学员{key}",
                "roles": ["officer"],
                "unit_ids": [unit_id],
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        number = unique("TR")
        put = await client.put(
            f"/api/v1/users/{user_id}/certificate",
            json={
                "number": number,
                "issued_on": str(today - timedelta(days=5000)),
                "expires_on": str(today + timedelta(days=900)),
            },
            headers=admin,
        )
        assert put.status_code == 200, put.text
        town.officers[key], town.usernames[key], town.numbers[key] = user_id, username, number
    return town


def _past_year() -> int:
    """A past year nobody else's trainings use (the PostgreSQL test database is kept between runs)."""
    return random.randint(2001, today_local().year - 2)


async def _training(client, headers, world: World, **overrides: Any) -> dict[str, Any]:
    body = {
        "title": "行政处罚法专题培训",
        "format": "法律知识培训",
        "organiser_unit_id": str(world.justice),
        "held_on": str(today_local()),
        "hours": 4,
        "trainer": "张老师",
        **overrides,
    }
    response = await client.post(T, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_plan_and_who_sees_it(client, as_user, world: World) -> None:
    town = await _town(client, world, ["x", "y"])
    supervisor = await as_user("supervisor")
    training = await _training(
        client, supervisor, world, unit_ids=[town.unit_id], has_exam=True, pass_mark=70, format="以案释法"
    )
    assert training["counts"] == {"required": 2, "present": 0, "excused": 0, "absent": 0, "unrecorded": 2}
    assert training["pass_mark"] == 70 and training["year"] == today_local().year
    assert training["organiser_unit_name"]
    # an officer on the list sees it; another does not even learn it exists
    mine = await login(client, town.usernames["x"])
    assert (await client.get(f"{T}/{training['id']}", headers=mine)).status_code == 200
    assert training["id"] in {t["id"] for t in (await client.get(T, headers=mine)).json()}
    foreign = await as_user("officer_b1")
    assert_problem(await client.get(f"{T}/{training['id']}", headers=foreign), 404, "not_found")
    assert training["id"] not in {t["id"] for t in (await client.get(T, headers=foreign)).json()}
    assert_problem(await client.get(f"{T}/{training['id']}/attendance", headers=mine), 403, "auth.forbidden")
    # only supervisors plan
    body = {
        "title": "自办培训",
        "format": "党风廉政",
        "organiser_unit_id": town.unit_id,
        "held_on": str(today_local()),
        "hours": 2,
        "unit_ids": [town.unit_id],
    }
    assert_problem(await client.post(T, json=body, headers=mine), 403, "auth.forbidden")
    # bad plans say what is wrong
    assert_problem(
        await client.post(T, json={**body, "unit_ids": []}, headers=supervisor), 400, "validation.failed"
    )
    assert_problem(
        await client.post(T, json={**body, "unit_ids": [str(uuid.uuid4())]}, headers=supervisor),
        422,
        "unit.not_found",
    )
    assert_problem(
        await client.post(T, json={**body, "format": "篮球比赛"}, headers=supervisor),
        400,
        "validation.failed",
    )
    assert_problem(
        await client.post(
            T, json={**body, "officer_ids": [str(world.users["supervisor"])]}, headers=supervisor
        ),
        422,
        "user.not_found",
    )


async def test_attendance_by_tap_and_by_card(client, as_user, world: World) -> None:
    town = await _town(client, world, ["a", "b", "c"])
    supervisor = await as_user("supervisor")
    training = await _training(client, supervisor, world, unit_ids=[town.unit_id])
    url = f"{T}/{training['id']}/attendance"
    o = town.officers
    # an excused absence needs its reason; an officer not on the list is refused; nothing is written
    bad = [
        {"officer_id": o["a"], "status": "present"},
        {"officer_id": o["b"], "status": "excused"},
        {"officer_id": str(world.users["officer_b1"]), "status": "present"},
    ]
    problem = assert_problem(
        await client.post(url, json={"entries": bad}, headers=supervisor), 400, "validation.failed"
    )
    assert [e["key"] for e in problem["errors"]] == ["entries[1].reason"]
    bad[1]["reason"] = "请假"
    problem = assert_problem(
        await client.post(url, json={"entries": bad}, headers=supervisor), 422, "training.not_on_list"
    )
    assert [e["key"] for e in problem["errors"]] == ["entries[2].officer_id"]
    assert await Attendance.count().where(Attendance.training_id == uuid.UUID(training["id"])) == 0
    card = (await client.get(f"/api/v1/users/{o['c']}/certificate/qr", headers=supervisor)).json()["token"]
    entries = [
        {"officer_id": o["a"], "status": "present"},
        {"officer_id": o["b"], "status": "excused", "reason": "执勤"},
        {"card_token": card, "status": "present"},
    ]
    roster = await client.post(url, json={"entries": entries}, headers=supervisor)
    assert roster.status_code == 200, roster.text
    by_id = {line["officer_id"]: line for line in roster.json()}
    assert by_id[o["a"]]["status"] == "present" and by_id[o["c"]]["status"] == "present"
    assert by_id[o["b"]]["status"] == "excused" and by_id[o["b"]]["reason"] == "执勤"
    assert by_id[o["c"]]["certificate_number"] == town.numbers["c"]
    # a changed mark replaces the old one
    again = await client.post(
        url, json={"entries": [{"officer_id": o["a"], "status": "absent"}]}, headers=supervisor
    )
    assert {line["officer_id"]: line["status"] for line in again.json()}[o["a"]] == "absent"
    counts = (await client.get(f"{T}/{training['id']}", headers=supervisor)).json()["counts"]
    assert counts == {"required": 3, "present": 1, "excused": 1, "absent": 1, "unrecorded": 0}
    forged = card[:-3] + ("AAA" if not card.endswith("AAA") else "BBB")
    problem = assert_problem(
        await client.post(
            url, json={"entries": [{"card_token": forged, "status": "present"}]}, headers=supervisor
        ),
        422,
        "training.not_on_list",
    )
    assert problem["errors"][0]["key"] == "entries[0].card_token"


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_score_import_with_bad_rows_shows_them_and_writes_nothing(
    client, as_user, world: World
) -> None:
    town = await _town(client, world, ["a", "b", "c"])
    supervisor = await as_user("supervisor")
    training = await _training(client, supervisor, world, unit_ids=[town.unit_id], has_exam=True)
    url = f"{T}/{training['id']}/scores"
    n = town.numbers
    csv_text = (
        "姓名,证件编号,成绩\n"
        f"学员a,{n['a']},88\n"
        "某某,NO-SUCH-CARD,70\n"
        f"学员b,{n['b']},130\n"
        f"学员a,{n['a']},90\n"
        f"外镇,{(await Certificate.select(Certificate.number).where(Certificate.user == world.users['officer_b1']).first())['number']},75\n"  # noqa: E501
        f"学员c,{n['c']},\n"
    )
    for dry_run in ("true", "false"):
        response = await client.post(
            f"{url}?dry_run={dry_run}",
            content=csv_text.encode("utf-8-sig"),
            headers={**supervisor, "Content-Type": "text/csv"},
        )
        if dry_run == "true":
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["written"] == 0 and body["problems"] == 5
            rows = body["rows"]
        else:
            body = assert_problem(response, 422, "training.import_invalid")
            rows = [{"problem": None, "row": 2}, *body["rows"]]
        assert [(r["row"], r["problem"]) for r in rows] == [
            (2, None),
            (3, "unknown_officer"),
            (4, "score_out_of_range"),
            (5, "duplicate"),
            (6, "not_required"),
            (7, "score_missing"),
        ]
    assert await ExamScore.count().where(ExamScore.training_id == uuid.UUID(training["id"])) == 0
    # a good sheet (XLSX, by username) is written whole
    sheet = _xlsx(
        [
            ["用户名", "成绩"],
            [town.usernames["a"], 88],
            [town.usernames["b"], 59.5],
            [],
            [town.usernames["c"], 100],
        ]
    )
    preview = await client.post(
        f"{url}?dry_run=true", content=sheet, headers={**supervisor, "Content-Type": XLSX}
    )
    assert preview.status_code == 200 and preview.json()["problems"] == 0 and preview.json()["written"] == 0
    assert [r["row"] for r in preview.json()["rows"]] == [2, 3, 5]
    assert await ExamScore.count().where(ExamScore.training_id == uuid.UUID(training["id"])) == 0
    done = await client.post(url, content=sheet, headers={**supervisor, "Content-Type": XLSX})
    assert done.status_code == 200 and done.json()["written"] == 3, done.text
    # typed in by hand (JSON) corrects one score
    fixed = await client.post(
        url, json={"scores": [{"officer_id": town.officers["b"], "score": 61}]}, headers=supervisor
    )
    assert fixed.status_code == 200 and fixed.json()["written"] == 1
    roster = (await client.get(f"{T}/{training['id']}/attendance", headers=supervisor)).json()
    assert {r["officer_id"]: r["score"] for r in roster} == {
        town.officers["a"]: 88,
        town.officers["b"]: 61,
        town.officers["c"]: 100,
    }
    # not a sheet at all; a training without an exam
    assert_problem(
        await client.post(url, content=b"PK\x03\x04 broken", headers={**supervisor, "Content-Type": XLSX}),
        400,
        "validation.failed",
    )
    assert_problem(
        await client.post(
            url, content=b"name,score\nx,1\n", headers={**supervisor, "Content-Type": "text/csv"}
        ),
        400,
        "validation.failed",
    )
    plain = await _training(client, supervisor, world, unit_ids=[town.unit_id])
    assert_problem(
        await client.post(
            f"{T}/{plain['id']}/scores",
            json={"scores": [{"officer_id": town.officers["a"], "score": 1}]},
            headers=supervisor,
        ),
        422,
        "training.no_exam",
    )


async def _year_setup(client, supervisor, world: World, keys: list[str]) -> tuple[int, Town, dict[str, Any]]:
    """A past year: one compulsory training with an exam for a fresh township, and its resit."""
    year = _past_year()
    town = await _town(client, world, keys)
    main = await _training(
        client,
        supervisor,
        world,
        title="年度通用法律知识培训",
        held_on=str(date(year, 3, 1)),
        hours=8,
        unit_ids=[town.unit_id],
        has_exam=True,
    )
    resit = await _training(
        client,
        supervisor,
        world,
        title="年度通用法律知识补考",
        held_on=str(date(year, 6, 1)),
        hours=1,
        officer_ids=[town.officers[k] for k in keys if k.startswith("fail") or k.startswith("resit")],
        has_exam=True,
        resit_of=main["id"],
    )
    rules = await client.put(
        f"/api/v1/assessments/{year}/rules",
        json={"min_hours": 6, "compulsory_ids": [main["id"]], "pass_mark": 60, "resit": True},
        headers=supervisor,
    )
    assert rules.status_code == 200 and rules.json()["stored"] is True, rules.text
    return year, town, {"main": main, "resit": resit}


async def test_the_annual_run(client, as_user, world: World) -> None:
    supervisor = await as_user("supervisor")
    keys = ["good", "absent", "excused", "fail", "resit_ok", "spot"]
    year, town, t = await _year_setup(client, supervisor, world, keys)
    o = town.officers
    attendance = [
        {"officer_id": o["good"], "status": "present"},
        {"officer_id": o["absent"], "status": "absent"},
        {"officer_id": o["excused"], "status": "excused", "reason": "病假"},
        {"officer_id": o["fail"], "status": "present"},
        {"officer_id": o["resit_ok"], "status": "present"},
        # "spot" has no attendance recorded at all
    ]
    r = await client.post(
        f"{T}/{t['main']['id']}/attendance", json={"entries": attendance}, headers=supervisor
    )
    assert r.status_code == 200, r.text
    scores = [
        {"officer_id": o["good"], "score": 75},
        {"officer_id": o["fail"], "score": 41},
        {"officer_id": o["resit_ok"], "score": 52},
    ]
    assert (
        await client.post(f"{T}/{t['main']['id']}/scores", json={"scores": scores}, headers=supervisor)
    ).status_code == 200
    resit_entries = [
        {"officer_id": o["fail"], "status": "present"},
        {"officer_id": o["resit_ok"], "status": "present"},
    ]
    await client.post(
        f"{T}/{t['resit']['id']}/attendance", json={"entries": resit_entries}, headers=supervisor
    )
    resit_scores = [{"officer_id": o["fail"], "score": 55}, {"officer_id": o["resit_ok"], "score": 80}]
    await client.post(f"{T}/{t['resit']['id']}/scores", json={"scores": resit_scores}, headers=supervisor)
    # "spot" has a spot-check waiting for an answer
    check = await client.post("/api/v1/spot-checks", json={"officer_id": o["spot"]}, headers=supervisor)
    assert check.status_code == 201, check.text

    # the officer's own view says what went wrong
    mine = (
        await client.get(f"{T}/mine?year={year}", headers=await login(client, town.usernames["fail"]))
    ).json()
    assert mine["hours_attended"] == 9 and mine["min_hours"] == 6
    assert [(line["title"], line["score"], line["passed"]) for line in mine["trainings"]] == [
        ("年度通用法律知识培训", 41, False),
        ("年度通用法律知识补考", 55, None),
    ]
    assert any("考试不合格" in d for d in mine["due"])

    plan = (await client.get(f"/api/v1/assessments/{year}/preview", headers=supervisor)).json()
    revoke = {r["officer_id"]: r for r in plan["revoke"]}
    mine_ids = set(o.values())
    assert set(revoke) & mine_ids == {o["absent"], o["fail"], o["spot"]}
    assert revoke[o["absent"]]["reasons"] == [
        f"无故缺席必训课程《年度通用法律知识培训》（{year}-03-01）",
        f"《年度通用法律知识培训》（{year}-03-01）缺考或无成绩",
        "学时不足：参训 0 学时、请假 0 学时，要求 6 学时",
    ]
    assert revoke[o["fail"]]["reasons"] == [
        f"《年度通用法律知识培训》（{year}-03-01）考试不合格（41 分，合格线 60 分）"
    ]
    assert revoke[o["spot"]]["reasons"][0].startswith("必训课程《年度通用法律知识培训》")
    assert revoke[o["spot"]]["open_spot_checks"] == 1 and revoke[o["fail"]]["open_spot_checks"] == 0
    exempt = {e["officer_id"]: e["reasons"] for e in plan["exempt"]}
    assert exempt[o["excused"]] == [f"《年度通用法律知识培训》（{year}-03-01）请假：病假"]
    assert exempt[o["resit_ok"]] == [f"《年度通用法律知识培训》（{year}-03-01）补考合格（80 分）"]
    assert o["good"] not in revoke and o["good"] not in exempt

    # the result changes after the preview: the old digest is refused and nothing changes
    events_before = await CertificateEvent.count()
    late = await client.post(
        f"{T}/{t['main']['id']}/attendance",
        json={"entries": [{"officer_id": o["absent"], "status": "excused", "reason": "外派执勤"}]},
        headers=supervisor,
    )
    assert late.status_code == 200
    stale = assert_problem(
        await client.post(
            f"/api/v1/assessments/{year}/run", json={"digest": plan["digest"]}, headers=supervisor
        ),
        409,
        "assessment.changed",
    )
    assert stale["digest"] != plan["digest"]
    assert await CertificateEvent.count() == events_before

    plan = (await client.get(f"/api/v1/assessments/{year}/preview", headers=supervisor)).json()
    assert o["absent"] not in {r["officer_id"] for r in plan["revoke"]}
    applied = await client.post(
        f"/api/v1/assessments/{year}/run", json={"digest": plan["digest"]}, headers=supervisor
    )
    assert applied.status_code == 200, applied.text
    result = applied.json()
    assert result["replayed"] is False and result["digest"] == plan["digest"]
    assert result["revoked"] == plan["revoke"]  # preview equals apply
    for key in ("fail", "spot"):
        cert = await Certificate.select().where(Certificate.user == uuid.UUID(o[key])).first()
        assert cert["status"] == "revoked" and cert["status_reason"].startswith(f"{year}年度考核：")
    for key in ("good", "excused", "resit_ok", "absent"):
        cert = (
            await Certificate.select(Certificate.status).where(Certificate.user == uuid.UUID(o[key])).first()
        )
        assert cert["status"] == "valid", key
    audit = (
        await AuditEntry.select()
        .where((AuditEntry.action == "assessment.applied") & (AuditEntry.object_id == result["run_id"]))
        .first()
    )
    assert audit is not None
    history = (await client.get(f"/api/v1/users/{o['fail']}/certificate/history", headers=supervisor)).json()
    assert history[0]["change"] == "revoked" and "考试不合格" in history[0]["reason"]

    # idempotent: the same request again, and a fresh run, change nothing
    events_after = await CertificateEvent.count()
    again = await client.post(
        f"/api/v1/assessments/{year}/run", json={"digest": plan["digest"]}, headers=supervisor
    )
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["revoked"] == result["revoked"]
    second = (await client.get(f"/api/v1/assessments/{year}/preview", headers=supervisor)).json()
    assert not mine_ids & {r["officer_id"] for r in second["revoke"]}
    assert {o["fail"], o["spot"]} <= {r["officer_id"] for r in second["already_revoked"]}
    rerun = await client.post(
        f"/api/v1/assessments/{year}/run", json={"digest": second["digest"]}, headers=supervisor
    )
    assert rerun.status_code == 200 and not mine_ids & {r["officer_id"] for r in rerun.json()["revoked"]}
    assert await CertificateEvent.count() == events_after + len(rerun.json()["revoked"])

    # the open spot-check is kept, and can no longer be answered by the revoked officer
    spot = await login(client, town.usernames["spot"])
    answer = await client.post(
        f"/api/v1/spot-checks/{check.json()['id']}/submission",
        content=phone_photo(datetime.now(UTC).astimezone()),
        headers={**spot, "Content-Type": "image/jpeg"},
    )
    assert_problem(answer, 422, "certificate.invalid")
    row = (
        await SpotCheck.select(SpotCheck.status).where(SpotCheck.id == uuid.UUID(check.json()["id"])).first()
    )
    assert row == {"status": "requested"}
    # the card is on the list still to recall
    pending = {
        c["user_id"] for c in (await client.get("/api/v1/certificates/unrecalled", headers=supervisor)).json()
    }
    assert {o["fail"], o["spot"]} <= pending


async def test_only_supervisors_run_the_year(client, as_user, world: World) -> None:
    year = _past_year()
    for key in ("officer_a1", "command", "admin"):
        headers = await as_user(key)
        assert_problem(
            await client.get(f"/api/v1/assessments/{year}/preview", headers=headers), 403, "auth.forbidden"
        )
        assert_problem(
            await client.post(f"/api/v1/assessments/{year}/run", json={"digest": "0" * 64}, headers=headers),
            403,
            "auth.forbidden",
        )
    supervisor = await as_user("supervisor")
    assert_problem(
        await client.put(
            f"/api/v1/assessments/{year}/rules",
            json={"compulsory_ids": [str(uuid.uuid4())]},
            headers=supervisor,
        ),
        400,
        "validation.failed",
    )


async def test_odd_requests_get_a_clear_refusal(client, as_user, world: World) -> None:
    supervisor = await as_user("supervisor")
    town = await _town(client, world, ["a"])
    training = await _training(client, supervisor, world, unit_ids=[town.unit_id], has_exam=True)
    scores = f"{T}/{training['id']}/scores"
    cases = [
        ("GET", "/api/v1/assessments/99999/preview", {}, 400, "validation.failed"),
        ("POST", "/api/v1/assessments/2020/run", {"json": {"digest": "short"}}, 400, "validation.failed"),
        (
            "POST",
            f"{T}/{uuid.uuid4()}/attendance",
            {"json": {"entries": [{"officer_id": town.officers["a"], "status": "present"}]}},
            404,
            "not_found",
        ),
        (
            "POST",
            scores,
            {"content": b"hello", "headers": {"Content-Type": "text/plain"}},
            415,
            "request.unsupported_media_type",
        ),
        (
            "POST",
            scores,
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "validation.failed",
        ),
        (
            "POST",
            scores,
            {"content": b'{"scores": []}', "headers": {"Content-Type": "application/json"}},
            400,
            "validation.failed",
        ),
        (
            "POST",
            scores,
            {"content": b"\xff\xfe\x00\x81", "headers": {"Content-Type": "text/csv"}},
            400,
            "validation.failed",
        ),
        ("POST", scores, {"content": b"", "headers": {"Content-Type": "text/csv"}}, 400, "validation.failed"),
        ("GET", "/api/v1/public/certificates/" + "A" * 300, {}, 404, "certificate.token_invalid"),
        ("GET", f"{T}?year=1", {}, 400, "validation.failed"),
    ]
    for method, url, extra, status, code in cases:
        headers = {**supervisor, **extra.pop("headers", {})}
        response = await client.request(method, url, headers=headers, **extra)
        assert_problem(response, status, code)
    assert await ExamScore.count().where(ExamScore.training_id == uuid.UUID(training["id"])) == 0


async def test_two_applies_at_once_revoke_once(client, as_user, world: World) -> None:
    """Two supervisors press 执行 at the same moment: one run revokes, the other answers it as a
    replay; each certificate changes once."""
    supervisor = await as_user("supervisor")
    year, town, t = await _year_setup(client, supervisor, world, ["fail_a", "fail_b"])
    entries = [{"officer_id": town.officers[k], "status": "absent"} for k in ("fail_a", "fail_b")]
    r = await client.post(f"{T}/{t['main']['id']}/attendance", json={"entries": entries}, headers=supervisor)
    assert r.status_code == 200, r.text
    plan = (await client.get(f"/api/v1/assessments/{year}/preview", headers=supervisor)).json()
    mine = {town.officers["fail_a"], town.officers["fail_b"]}
    assert mine <= {x["officer_id"] for x in plan["revoke"]}
    ids = [uuid.UUID(o) for o in mine]
    before = await CertificateEvent.count().where(CertificateEvent.user.is_in(ids))
    other = await as_user("supervisor")
    first, second = await asyncio.gather(
        client.post(f"/api/v1/assessments/{year}/run", json={"digest": plan["digest"]}, headers=supervisor),
        client.post(f"/api/v1/assessments/{year}/run", json={"digest": plan["digest"]}, headers=other),
    )
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    assert sorted([first.json()["replayed"], second.json()["replayed"]]) == [False, True]
    assert first.json()["run_id"] == second.json()["run_id"]
    assert await CertificateEvent.count().where(CertificateEvent.user.is_in(ids)) == before + 2
