"""The scope matrix, generated from the OpenAPI document at test time: every unit-bound role × every
operation with an object id in its path × objects of a foreign township; every list (no foreign row)
and the live stream (no foreign event).

A foreign object must answer exactly as a missing one does (404, or 403 where the role may not use
the operation at all), and some user of the object's own township must get past 404 with the very
same request, so the probe is real (the object exists, the request is valid). A path parameter kind
with no fixture object fails the matrix: add one to ``tests/contract/townships.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.conftest import PASSWORD
from tests.contract.townships import Town, Townships, missing_id, objects, people
from tests.integration.evidence.photos import phone_photo
from tests.integration.live.conftest import Watcher, watching
from tests.servers import api_process

# Roles that are not bound to units (docs: "Every user except admin, command and supervisor acts
# within the unit(s) they belong to"): for them nothing is foreign; they are the matrix's controls.
ALL_SEEING = {"admin", "supervisor", "command"}
# The organisation tree, the item catalogue and the working-day calendar's years are shared by design
# ("admin writes, all read"): a year is nobody's record; a card's QR token is public by design.
# Webhook endpoints are the admin's district-wide configuration, nobody's township record.
# Legal holds, disposal batches and share links are the bureau's work, refused to every other role;
# so is the queue of nominations of invited supervisors (test_nominations.py checks the refusals).
SHARED_KINDS = {
    "unit_id",
    "item_id",
    "year",
    "token",
    "endpoint_id",
    "delivery_id",
    "hold_id",
    "batch_id",
    "share_id",
    "nomination_id",
    "delegation_id",
}
# Probed like the roles: an officer who answers its unit's supervision documents (a capability).
EXTRA_PROBERS = ["responder"]
EVIDENCE_ID = str(uuid.uuid4())  # no evidence of the task: the control's completion is refused with 422
# The public list of units (id and name, for the public nomination form) is the same shared tree.
SHARED_LISTS = {"/api/v1/units", "/api/v1/items", "/api/v1/public/units"}
# Lists whose rows are not township records (the checklist is one set of questions for everyone;
# webhook endpoints are the admin's configuration, refused to every other role: test_webhooks.py).
# Retention's lists are the bureau's (supervisor-only; test_retention.py checks the refusals).
NOT_RECORDS = {
    "/api/v1/spot-checks/checklist",
    "/api/v1/webhooks",
    "/api/v1/retention/rules",
    "/api/v1/retention/due",
    "/api/v1/retention/disposals",
    "/api/v1/legal-holds",
    "/api/v1/shares",
    # The nomination queue and the invited supervisors' roster are the bureau's (supervisor-only).
    "/api/v1/nominations",
    "/api/v1/invited-supervisors",
    # The figure catalogue is the same for everyone. The records behind a figure need a figure and a
    # unit: test_reports.py checks a foreign unit's records are 404 for a unit's people.
    "/api/v1/reports/figures",
    "/api/v1/reports/records",
    "/api/v1/reports/assessment/records",
}
# Lists of counts, not records: the bureau's entries carry no record id, so the control (a supervisor
# sees a foreign row) cannot hold; every unit-bound role is still probed for foreign ids in them.
COUNTS = {"/api/v1/today"}
# 执法公示 is public by design (no sign-in, published records only, nothing personal):
# tests/integration/test_publication.py checks what it shows and that it never finds an unpublished case.
PUBLIC_PREFIX = "/api/v1/public/publications"
# A share link's recipient has no account and no unit: its scope is the share, and a staff token is
# refused there outright (tests/integration/test_sharing.py checks evidence outside the share is 404).
SHARE_RECIPIENT_PREFIX = "/api/v1/shared"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TUS = {"Tus-Resumable": "1.0.0"}


def _today() -> str:
    return date.today().isoformat()


# What a valid request to each operation carries besides its path; operations with a JSON body and
# no entry here get ``{}`` (the control then says whether that is enough).
BODIES: dict[str, dict[str, Any]] = {
    "PATCH /api/v1/items/{item_id}": {"json": {"legal_basis": "《矩阵条例》第一条"}},
    "POST /api/v1/items/{item_id}/delegations/{delegation_id}/end": {"json": {"effective_to": "2099-12-31"}},
    "PATCH /api/v1/users/{user_id}": {"json": {"display_name": "矩阵改名"}},
    "POST /api/v1/users/{user_id}/certificate/revoke": {"json": {"reason": "矩阵注销"}},
    "PUT /api/v1/users/{user_id}/certificate": {
        "json": {"number": "MX-RENEW", "issued_on": "2025-01-01", "expires_on": "2030-01-01"}
    },
    "POST /api/v1/cases/{case_id}/override": {"json": {"reason": "督办理由说明"}},
    "POST /api/v1/cases/{case_id}/review": {"json": {"approved": True, "opinion": "同意"}},
    "POST /api/v1/cases/{case_id}/serve": {"json": {"served_on": _today()}},
    "POST /api/v1/cases/{case_id}/transfer": {
        "json": {"organ": "区公安局", "transferred_on": _today(), "receipt_number": "R-1"}
    },
    "PATCH /api/v1/cases/{case_id}": {"json": {"version": 1, "investigation": "补充调查"}},
    "POST /api/v1/cases/{case_id}/hearing": {"json": {"step": "notified", "on": _today()}},
    "POST /api/v1/cases/{case_id}/extension": {
        "json": {"reason": "案情复杂，需要延长", "due_on": "2099-01-01"}
    },
    "POST /api/v1/publications/{publication_id}/withdraw": {"json": {"reason": "原处罚决定已撤销"}},
    "POST /api/v1/spot-checks/{check_id}/appeal": {"json": {"comment": "申诉理由"}},
    "POST /api/v1/nominations/{nomination_id}/decline": {"json": {"reason": "矩阵不予选聘"}},
    "POST /api/v1/spot-checks/{check_id}/appeal/decision": {"json": {"upheld": True}},
    "POST /api/v1/spot-checks/{check_id}/review": {"json": {"results": {}, "score": 90}},
    "PUT /api/v1/users/{user_id}/capabilities": {"json": {"signing": False, "responder_units": []}},
    "PUT /api/v1/calendar/years/{year}": {"json": {"holidays": [], "workdays": []}},
    "POST /api/v1/supervision-documents/{document_id}/response": {"json": {"text": "已按要求整改"}},
    "POST /api/v1/supervision-documents/{document_id}/review-request": {"json": {"reason": "申请复查"}},
    "POST /api/v1/supervision-documents/{document_id}/review-decision": {"json": {"upheld": True}},
    "POST /api/v1/supervision-documents/{document_id}/acceptance": {"json": {"passed": True}},
    "POST /api/v1/corrective-actions/{task_id}/complete": {
        "json": {"note": "已整改完毕", "evidence_ids": [EVIDENCE_ID]}
    },
    "POST /api/v1/channels/items/{channel_item_id}/assign": {"json": {"user_id": str(uuid.uuid4())}},
    "POST /api/v1/channels/items/{channel_item_id}/forward": {"json": {"question": "矩阵说明"}},
    "POST /api/v1/channels/items/{channel_item_id}/explain": {"json": {"text": "矩阵单位说明"}},
    "POST /api/v1/channels/items/{channel_item_id}/dismiss": {"json": {"reason": "矩阵不予处理"}},
    "POST /api/v1/channels/items/{channel_item_id}/outcomes": {
        "json": {"outcome": "维持", "decided_on": _today(), "decision_number": f"MX-{uuid.uuid4().hex[:8]}"}
    },
    "POST /api/v1/channels/outcomes/{outcome_id}/change": {
        "json": {"outcome": "维持", "decided_on": _today(), "reason": "矩阵改判"}
    },
    "POST /api/v1/channels/transfers/{transfer_id}/accept": {
        "json": {"received_on": _today(), "number": "MX-R"}
    },
    "POST /api/v1/channels/transfers/{transfer_id}/return": {
        "json": {"returned_on": _today(), "reason": "矩阵退回"}
    },
    "POST /api/v1/users/{user_id}/certificate/suspend": {"json": {"reason": "矩阵暂停"}},
    "POST /api/v1/users/{user_id}/certificate/reinstate": {"json": {"reason": "矩阵恢复"}},
    "POST /api/v1/users/{user_id}/certificate/lost": {"json": {"reason": "矩阵挂失"}},
    "POST /api/v1/users/{user_id}/certificate/reissue": {
        "json": {"number": "MX-REISSUE", "issued_on": "2025-01-01", "expires_on": "2030-01-01"}
    },
    "POST /api/v1/users/{user_id}/certificate/recall": {"json": {"received_by": "矩阵科长"}},
    "POST /api/v1/trainings/{training_id}/attendance": {
        "json": {"entries": [{"officer_id": str(uuid.UUID(int=1)), "status": "present"}]}
    },
    "POST /api/v1/trainings/{training_id}/scores": {"json": {"scores": [{"username": "nobody", "score": 1}]}},
    "PUT /api/v1/assessments/{year}/rules": {"json": {"min_hours": 0}},
    "POST /api/v1/assessments/{year}/run": {"json": {"digest": "0" * 64}},
    "PATCH /api/v1/reports/{report_id}": {"json": {"narrative": {"progress": "矩阵进展"}}},
    "POST /api/v1/reports/{report_id}/comments": {"json": {"text": "矩阵意见"}},
    "GET /api/v1/reports/{report_id}/records": {"params": {"figure": "actions.total"}},
    "GET /api/v1/reports/{report_id}/export": {"params": {"format": "csv"}},
    # Not a file of the draw: the bureau gets past the lookup to 422, everyone else is refused.
    "POST /api/v1/case-reviews/{draw_id}/score": {
        "json": {"case_id": str(uuid.UUID(int=7)), "form_score": 10, "content_score": 50}
    },
    # A stale version: the bureau gets past the lookup to 409, everyone else is refused.
    "PATCH /api/v1/leading-groups/{group_id}": {"json": {"version": 999, "name": "矩阵改名"}},
    "HEAD /api/v1/uploads/{upload_id}": {"headers": TUS},
    "DELETE /api/v1/uploads/{upload_id}": {"headers": TUS},
    "PATCH /api/v1/uploads/{upload_id}": {
        "headers": {**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        "content": b"\0" * 10,
    },
}
RAW_PHOTO = {"/evidence", "/submission"}  # streamed evidence bodies (not in the OpenAPI as JSON)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    params: tuple[str, ...]
    body: bool

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def operations(openapi: dict[str, Any]) -> tuple[list[Operation], list[Operation]]:
    """(operations with an object id in the path, list operations) of the document."""
    with_ids, lists = [], []
    for path, item in openapi["paths"].items():
        if path.startswith((PUBLIC_PREFIX, SHARE_RECIPIENT_PREFIX)):
            continue
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete", "head"}:
                continue
            params = tuple(p["name"] for p in op.get("parameters", []) if p["in"] == "path")
            operation = Operation(method.upper(), path, params, "requestBody" in op)
            if params:
                with_ids.append(operation)
            elif method == "get" and _is_list(openapi, op):
                lists.append(operation)
    return with_ids, lists


def _is_list(openapi: dict[str, Any], op: dict[str, Any]) -> bool:
    schema = (
        op.get("responses", {})
        .get("200", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
    )
    if "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema.get("type") == "array" or "items" in schema.get("properties", {})


def _request(op: Operation) -> dict[str, Any]:
    if op.label in BODIES:
        return dict(BODIES[op.label])
    if any(op.path.endswith(suffix) for suffix in RAW_PHOTO):
        return {
            "content": phone_photo(datetime.now(UTC).astimezone()),
            "headers": {"Content-Type": "image/jpeg"},
        }
    return {"json": {}} if op.body else {}


def _shape(response: httpx.Response) -> tuple[int, str]:
    """What a caller learns from an answer: its status and its problem, ids masked."""
    return response.status_code, UUID.sub("<id>", response.text)


@dataclass
class Report:
    leaks: list[str] = field(default_factory=list)
    vacuous: list[str] = field(default_factory=list)  # probes that could not have found a leak
    missing_fixtures: list[str] = field(default_factory=list)
    probes: int = 0

    def problems(self) -> list[str]:
        return [*self.missing_fixtures, *self.vacuous, *self.leaks]


async def _send(
    client: httpx.AsyncClient, op: Operation, ids: dict[str, str], headers: dict[str, str]
) -> httpx.Response:
    extra = _request(op)
    path = op.path.format(**ids)
    return await client.request(op.method, path, headers={**headers, **extra.pop("headers", {})}, **extra)


async def run_matrix(
    client: httpx.AsyncClient,
    openapi: dict[str, Any],
    world: Townships,
    roles: list[str],
    *,
    only: str | None = None,
) -> Report:
    report = Report()
    with_ids, lists = operations(openapi)
    if only:
        with_ids = [op for op in with_ids if only in op.params]
        lists = [op for op in lists if only.removesuffix("_id") in op.path]
    home, foreign = world.home, world.foreign
    probers = [*(r for r in roles if r not in ALL_SEEING), *EXTRA_PROBERS]
    for op in with_ids:
        absent = [p for p in op.params if p not in foreign.objects]
        if absent:
            report.missing_fixtures.append(
                f"{op.label}: no fixture object for {absent}; add one to tests/contract/townships.py"
            )
            continue
        for value in _combinations(op, foreign):
            missing = {p: missing_id() for p in op.params}
            for role in probers:
                report.probes += 1
                got = await _send(client, op, value, home.headers[role])
                if op.params[0] in SHARED_KINDS:
                    mine = await _send(
                        client, op, {p: home.objects[p][0] for p in op.params}, home.headers[role]
                    )
                    if got.status_code != mine.status_code:
                        report.leaks.append(
                            f"{role} {op.label} shared {value}: {got.status_code} vs own {mine.status_code}"
                        )
                    continue
                absent_answer = await _send(client, op, missing, home.headers[role])
                if got.status_code not in (403, 404) or _shape(got) != _shape(absent_answer):
                    report.leaks.append(
                        f"{role} {op.label} {value}: {got.status_code} {got.text[:200]!r}, "
                        f"a missing id gets {absent_answer.status_code}"
                    )
    # Controls last, read-only first, deletions last: someone of the object's own town gets past
    # 404 with the same request.
    order = {"GET": 0, "HEAD": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
    for op in sorted(with_ids, key=lambda o: order[o.method]):
        if any(p not in foreign.objects for p in op.params) or op.params[0] in SHARED_KINDS:
            continue
        for value in _combinations(op, foreign):
            answers = []
            for role in foreign.headers:
                got = await _send(client, op, value, foreign.headers[role])
                answers.append(f"{role}:{got.status_code}")
                if got.status_code not in (400, 403, 404, 415) and got.status_code < 500:
                    break
            else:
                report.vacuous.append(
                    f"{op.label} {value}: nobody of its own town gets past 404 ({', '.join(answers)}); "
                    "fix the fixture or describe a valid request in BODIES"
                )
    for op in lists:
        if op.path in NOT_RECORDS:
            continue
        if op.path in SHARED_LISTS:
            continue
        seen_by_supervisor = await _listing(client, op, home.headers["supervisor"])
        if op.path not in COUNTS and not foreign.ids() & set(UUID.findall(seen_by_supervisor)):
            report.vacuous.append(f"{op.label}: even a supervisor sees no foreign record in it")
        for role in probers:
            report.probes += 1
            for query in ({}, {"unit_id": foreign.unit}):
                text = await _listing(client, op, home.headers[role], query)
                leaked = foreign.ids() & set(UUID.findall(text))
                if leaked:
                    report.leaks.append(f"{role} {op.label} {query}: lists foreign {sorted(leaked)[:3]}")
    return report


# What the department that delegated the item reads of a township (四(三)五): these must answer 200.
OVERSIGHT_READS = {
    "GET /api/v1/actions/{action_id}",
    "GET /api/v1/cases/{case_id}",
    "GET /api/v1/evidence/{evidence_id}",
}
OVERSEEN_LISTS = {"/api/v1/actions", "/api/v1/cases"}


async def run_department_probe(
    client: httpx.AsyncClient, openapi: dict[str, Any], world: Townships
) -> Report:
    """The department's officer and legal adviser against the foreign town's objects: they read its
    actions and cases under the delegated item and their evidence, change none of them, and meet
    every other record of the town as a missing one; their own lists hold none of the town's
    records unless asked for the overseen ones."""
    report = Report()
    with_ids, lists = operations(openapi)
    foreign = world.foreign
    overseen = set(foreign.objects["overseen"])
    for op in with_ids:
        if any(p not in foreign.objects for p in op.params) or op.params[0] in SHARED_KINDS:
            continue
        for value in _combinations(op, foreign):
            readable = value[op.params[0]] in overseen
            missing = {p: missing_id() for p in op.params}
            for role, headers in world.department.items():
                report.probes += 1
                got = await _send(client, op, value, headers)
                if readable and op.method not in ("GET", "HEAD"):
                    if got.status_code not in (403, 404):
                        report.leaks.append(f"dept {role} {op.label} {value}: changed ({got.status_code})")
                    continue
                if readable and op.label in OVERSIGHT_READS:
                    if got.status_code != 200:
                        report.vacuous.append(
                            f"dept {role} {op.label} {value}: {got.status_code} {got.text[:120]}"
                        )
                    continue
                if readable:
                    continue  # a part of an overseen record (its rendition, its clocks): either way
                absent = await _send(client, op, missing, headers)
                if got.status_code not in (403, 404) or _shape(got) != _shape(absent):
                    report.leaks.append(
                        f"dept {role} {op.label} {value}: {got.status_code} {got.text[:200]!r}, "
                        f"a missing id gets {absent.status_code}"
                    )
    for op in lists:
        if op.path in NOT_RECORDS or op.path in SHARED_LISTS:
            continue
        for role, headers in world.department.items():
            report.probes += 1
            text = await _listing(client, op, headers)
            leaked = foreign.ids() & set(UUID.findall(text))
            if leaked:
                report.leaks.append(f"dept {role} {op.label}: lists foreign {sorted(leaked)[:3]}")
            if op.path in OVERSEEN_LISTS:
                listed = set(UUID.findall(await _listing(client, op, headers, {"overseen": "true"})))
                if not overseen & listed:
                    report.vacuous.append(f"dept {role} {op.label}?overseen=true: no foreign record")
    return report


# Operations only some evidence answers (any other has no such rendition: 404 for everyone), probed
# with the fixture objects that have it.
OBJECTS_FOR = {
    "GET /api/v1/evidence/{evidence_id}/poster": "video_evidence_id",
    "GET /api/v1/evidence/{evidence_id}/preview": "pdf_evidence_id",
}


def _combinations(op: Operation, town: Town) -> list[dict[str, str]]:
    """Each fixture object of the (single) path parameter; the first for any others."""
    first, *rest = op.params
    values = town.objects[OBJECTS_FOR.get(op.label, first)]
    return [{first: value, **{p: town.objects[p][0] for p in rest}} for value in values]


async def _listing(
    client: httpx.AsyncClient, op: Operation, headers: dict[str, str], query: dict[str, str] | None = None
) -> str:
    """Every page of a list as text (or the refusal)."""
    params: dict[str, str] = {**(query or {}), "limit": "200"}
    pages = []
    for _ in range(50):
        response = await client.get(op.path, params=params, headers=headers)
        pages.append(response.text)
        cursor = (
            response.json().get("next_cursor")
            if response.status_code == 200 and response.text.startswith("{")
            else None
        )
        if not cursor:
            break
        params["cursor"] = cursor
    return "\n".join(pages)


# --- the world, built on a served API while every role watches the live stream -------------------


@dataclass
class Built:
    world: Townships
    roles: list[str]
    events: dict[str, list[dict[str, Any]]]  # home role → events it received


@pytest.fixture(scope="module")
def matrix_api(migrated, world, tmp_path_factory) -> Iterator[str]:
    with api_process(tmp_path_factory.mktemp("matrix")) as url:
        yield url


@pytest.fixture(scope="module")
async def built(matrix_api: str, world) -> AsyncIterator[Built]:
    async with httpx.AsyncClient(base_url=matrix_api, timeout=30) as http:
        openapi = (await http.get("/schema/openapi.json")).json()
        roles = _roles(openapi)
        admin_login = await http.post(
            "/api/v1/auth/login", json={"username": world.username("admin"), "password": PASSWORD}
        )
        admin = {"Authorization": f"Bearer {admin_login.json()['access_token']}"}
        townships, _ = await people(http, admin, roles)
        watchers: dict[str, Watcher] = {}
        async with contextlib.AsyncExitStack() as stack:
            for role, token in townships.home.tokens.items():
                if role != "officer2":
                    watchers[role] = await stack.enter_async_context(watching(matrix_api, token))
            for town in (townships.home, townships.foreign):
                await objects(http, townships, town)
            foreign_alert = townships.foreign.objects["alert_id"][0]
            await watchers["supervisor"].wait_for(
                lambda e: e["type"] == "alert.raised" and e["data"]["id"] == foreign_alert
            )
            await asyncio.sleep(0.5)  # anything misrouted would have arrived by now
        yield Built(townships, roles, {role: list(w.events) for role, w in watchers.items()})


def _roles(openapi: dict[str, Any]) -> list[str]:
    """Every role the API knows (the enum of UserCreate.roles)."""
    props = openapi["components"]["schemas"]["UserCreate"]["properties"]
    return list(props["roles"]["items"]["enum"])


# What unit-bound roles receive of their own town (docs/live.md): enforcement roles everything,
# invited supervisors whereabouts and spot-checks.
HOME_EVENTS = {
    "officer": {"action.created", "evidence.added", "case.updated"},  # alerts go to command and supervisors
    "legal_reviewer": {"action.created", "case.updated"},
    "invited_supervisor": {"position.updated"},
    "responder": {"document.updated", "corrective_action.updated"},
}


# --- the tests ---------------------------------------------------------------------------------


async def test_no_foreign_event_reaches_a_unit_bound_role(built: Built) -> None:
    foreign = built.world.foreign.ids()
    seen = {e["type"] for e in built.events["supervisor"] if foreign & set(UUID.findall(json.dumps(e)))}
    # the control: the stream did carry the foreign town's events
    assert {"action.created", "evidence.added", "case.updated", "alert.raised", "position.updated"} <= seen, (
        seen
    )
    home = built.world.home.ids()
    for role, events in built.events.items():
        if role in ALL_SEEING:
            continue
        leaked = [e for e in events if foreign & set(UUID.findall(json.dumps(e)))]
        assert leaked == [], f"{role} received foreign events: {leaked[:3]}"
        if role in HOME_EVENTS:  # the control: this socket was open and served its own town
            got = {e["type"] for e in events if home & set(UUID.findall(json.dumps(e)))}
            assert HOME_EVENTS[role] <= got, (role, got)


async def test_a_responder_sees_its_own_townships_document_only(
    built: Built, client: httpx.AsyncClient
) -> None:
    """The documents' control, by the very person it is for: each town's responder reads and lists its
    own town's document and may answer it; the other town's document is as missing to it."""
    for town, other in ((built.world.home, built.world.foreign), (built.world.foreign, built.world.home)):
        headers = town.headers["responder"]
        own, foreign = town.objects["document_id"][0], other.objects["document_id"][0]
        mine = await client.get(f"/api/v1/supervision-documents/{own}", headers=headers)
        assert mine.status_code == 200, mine.text
        assert "respond" in mine.json()["allowed"], mine.json()["allowed"]
        theirs = await client.get(f"/api/v1/supervision-documents/{foreign}", headers=headers)
        absent = await client.get(f"/api/v1/supervision-documents/{missing_id()}", headers=headers)
        assert theirs.status_code == 404 and _shape(theirs) == _shape(absent), theirs.text
        listed = {
            d["id"]
            for d in (await client.get("/api/v1/supervision-documents", headers=headers)).json()["items"]
        }
        assert own in listed and foreign not in listed, listed


async def test_scope_matrix_finds_no_leak(built: Built, client: httpx.AsyncClient, app: Litestar) -> None:
    openapi = app.openapi_schema.to_schema()
    report = await run_matrix(client, json.loads(json.dumps(openapi, default=str)), built.world, built.roles)
    assert report.problems() == [], "\n".join(report.problems())
    assert report.probes > 100


async def test_a_department_reads_what_it_delegated_and_changes_none_of_it(
    built: Built, client: httpx.AsyncClient, app: Litestar
) -> None:
    openapi = json.loads(json.dumps(app.openapi_schema.to_schema(), default=str))
    report = await run_department_probe(client, openapi, built.world)
    assert report.problems() == [], "\n".join(report.problems())
    assert report.probes > 100


REMOVED_CHECKS = {
    # a case's own visibility check: the foreign case answers as if it were the officer's
    "case detail": (
        "backend.org.oversight",
        "can_see",
        lambda viewer, unit_id: True,
        "case_id",
        "officer GET /api/v1/cases/{case_id}",
    ),
    # the feed's unit filter: every unit's actions in the officer's feed
    "action feed": (
        "backend.actions.services",
        "enforcement_units",
        lambda viewer: None,
        "action_id",
        "officer GET /api/v1/actions ",
    ),
    # a document's scope: every issued document as if the viewer answered for its unit
    "document detail": (
        "backend.documents.services",
        "_visible_in",
        lambda scope, viewer, row: True,
        "document_id",
        "responder GET /api/v1/supervision-documents/{document_id}",
    ),
    # a channel item's scope: every report, petition and lawsuit as if it were the viewer's
    "channel item detail": (
        "backend.channels.services",
        "_may_view",
        lambda scope, row: True,
        "channel_item_id",
        "liaison GET /api/v1/channels/items/{channel_item_id}",
    ),
    # a corrective action's scope: every task as if it were the viewer's
    "corrective action detail": (
        "backend.corrective.services",
        "_may_view",
        lambda viewer, units, row: True,
        "task_id",
        "officer GET /api/v1/corrective-actions/{task_id}",
    ),
}


@pytest.mark.parametrize("removed", list(REMOVED_CHECKS))
async def test_the_matrix_reports_a_removed_scope_check(
    removed: str, built: Built, client: httpx.AsyncClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real scope check turned off: the matrix must name the leak."""
    module, name, allow_all, kind, expected = REMOVED_CHECKS[removed]
    monkeypatch.setattr(importlib.import_module(module), name, allow_all)
    openapi = json.loads(json.dumps(app.openapi_schema.to_schema(), default=str))
    report = await run_matrix(client, openapi, built.world, built.roles, only=kind)
    assert any(leak.startswith(expected) for leak in report.leaks), report.leaks


async def test_a_path_parameter_without_a_fixture_fails_the_matrix(
    built: Built, client: httpx.AsyncClient
) -> None:
    openapi = {
        "paths": {
            "/api/v1/widgets/{widget_id}": {"get": {"parameters": [{"name": "widget_id", "in": "path"}]}}
        }
    }
    report = await run_matrix(client, openapi, built.world, built.roles)
    assert report.missing_fixtures and "widget_id" in report.missing_fixtures[0]


async def test_the_department_probe_reports_lost_reads_and_a_let_through_change(
    built: Built, client: httpx.AsyncClient, app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Oversight's read turned off, then the case's write refusals: the probe names both. Last in
    the module: the second probe's requests may change the foreign town's case."""
    openapi = json.loads(json.dumps(app.openapi_schema.to_schema(), default=str))
    oversight = importlib.import_module("backend.org.oversight")

    async def own_only(viewer: Any, unit_id: Any, item_id: Any) -> bool:
        return bool(oversight.can_see(viewer, unit_id))

    with monkeypatch.context() as patch:
        patch.setattr(oversight, "may_read", own_only)
        report = await run_department_probe(client, openapi, built.world)
    assert any(v.startswith("dept officer GET /api/v1/cases/{case_id}") for v in report.vacuous), (
        report.vacuous
    )

    async def allow(viewer: Any, unit_id: Any, item_id: Any, noun: str) -> None:
        return None

    monkeypatch.setattr(oversight, "writable", allow)
    monkeypatch.setattr(importlib.import_module("backend.cases.services"), "_acts_for", lambda v, u: True)
    report = await run_department_probe(client, openapi, built.world)
    assert any(leak.startswith("dept officer PATCH /api/v1/cases/{case_id}") for leak in report.leaks), (
        report.leaks
    )
