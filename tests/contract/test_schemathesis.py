"""Schemathesis against the app's own OpenAPI document: a served API (``fieldwatch serve`` on a free
port, demo data, a database of its own) fuzzed as an officer, a supervisor and an admin. No generated
request, valid or not, may produce a server error.

The operations that end the caller's own session (logout, refresh, changing one's own password or
account) are fuzzed apart, each example on a fresh session of a throw-away account, so they never
sign the main identities out. The case review step only a legal reviewer may take is fuzzed as one.
officer1 answers its unit's supervision documents (the demo makes it the unit's responder), and the
supervisor is given signing rights to issue a document the demo's signer drafted.

Examples per operation: ``FIELDWATCH_FUZZ_EXAMPLES`` (CI default below); the seed is fixed
(Hypothesis ``derandomize``). ``scripts/fuzz.sh`` runs the long version.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.contract.databases import own_database
from tests.integration.evidence.photos import pattern_video, pdf_document, phone_photo
from tests.plant import age_action
from tests.servers import api_process

DEMO_PASSWORD = "fuzz-demo-password"
EXAMPLES = int(os.environ.get("FIELDWATCH_FUZZ_EXAMPLES", "10"))
ROLES = {"officer": "officer1", "supervisor": "supervisor", "admin": "admin"}
REVIEWER = "reviewer"
# The channels' outside roles (demo accounts), fuzzed on the channels' operations only.
CHANNEL_ROLES = {
    "liaison": "liaison",
    "petition_office": "petition",
    "court": "court",
    "procuratorate": "procurator",
    "public_security": "police",
}
# The demo's second supervisor, with signing rights: drafts documents for the fuzzing supervisor to
# issue (签发 takes a second person) and issues the fuzzing supervisor's own. officer1, the fuzzing
# officer, is the demo's responder of 水江镇, so it answers that unit's documents.
SIGNER = "signer"
CHECKS = (not_a_server_error, response_schema_conformance)
# The tus handlers' 204 answers are documented as a JSON ``null`` body (Litestar's reading of
# ``Response[None]``) but, as tus requires, carry none: response schema conformance is checked on
# every other operation. ``test_the_known_schema_mismatches_are_still_there`` drops an entry once fixed.
BODILESS_DOCUMENTED_AS_JSON = {
    "OPTIONS /api/v1/uploads",
    "PATCH /api/v1/uploads/{upload_id}",
    "DELETE /api/v1/uploads/{upload_id}",
}
SESSION_ENDING = r"/api/v1/auth/(logout|refresh)$"

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


@dataclass
class Target:
    url: str
    log_dir: Path
    headers: dict[str, dict[str, str]]
    user_ids: dict[str, str]
    # path parameter name → ids of real objects the fuzzer may aim at (never its own accounts)
    pools: dict[str, list[str]] = field(default_factory=dict)
    # objects a fuzzed DELETE may remove, apart from the pools the other operations aim at
    disposable: dict[str, list[str]] = field(default_factory=dict)
    spare_admin: tuple[str, str] = ("", "")  # (id, username) of the throw-away account

    def login(self, username: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return response.json()

    def server_log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in self.log_dir.glob("api-*.log"))


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 300, (response.request.method, response.request.url, response.text)
    return response.json() if response.content else {}


def _seed(target: Target, env: dict[str, str]) -> None:
    """Objects of every kind on top of the demo data, so path parameters can name real ones."""
    base = f"{target.url}/api/v1"
    admin, supervisor = target.headers["admin"], target.headers["supervisor"]
    officer2 = {"Authorization": f"Bearer {target.login('officer2')['access_token']}"}
    me = _ok(httpx.get(f"{base}/me", headers=officer2))
    unit = me["units"][0]["id"]
    item = _ok(httpx.get(f"{base}/items", params={"unit_id": unit}, headers=officer2))["items"][0]["id"]
    action = _ok(
        httpx.post(
            f"{base}/actions",
            headers=officer2,
            json={
                "unit_id": unit,
                "item_id": item,
                "kind": "inspection",
                "officer_ids": [me["id"], target.user_ids["officer"]],
                "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
                "location": {"lat": 29.157, "lon": 107.098, "accuracy_m": 8},
            },
        )
    )
    photo = {**officer2, "Content-Type": "image/jpeg"}
    evidence = _ok(
        httpx.post(f"{base}/actions/{action['id']}/evidence", headers=photo, content=phone_photo())
    )
    case = _ok(
        httpx.post(
            f"{base}/cases",
            headers=officer2,
            json={"unit_id": unit, "item_id": item, "action_ids": [action["id"]], "summary": "模糊测试案件"},
        )
    )
    # a decided case, published (执法公示), for the publication ids
    decided = _ok(
        httpx.post(
            f"{base}/cases",
            headers=officer2,
            json={"unit_id": unit, "item_id": item, "action_ids": [], "summary": "模糊测试公示案件"},
        )
    )
    _ok(
        httpx.patch(
            f"{base}/cases/{decided['id']}",
            headers=officer2,
            json={"version": decided["version"], "investigation": "已调查"},
        )
    )
    _ok(httpx.post(f"{base}/cases/{decided['id']}/decision", headers=officer2, json={"fine": 100}))
    published = _ok(httpx.post(f"{base}/publications", headers=officer2, json={"case_id": decided["id"]}))
    alert = _ok(httpx.post(f"{base}/sos", headers=officer2, json={}))
    check = _ok(httpx.post(f"{base}/spot-checks", headers=supervisor, json={"officer_id": me["id"]}))
    # one the fuzzing officer must answer itself (only the target officer may submit)
    own_check = _ok(
        httpx.post(f"{base}/spot-checks", headers=supervisor, json={"officer_id": target.user_ids["officer"]})
    )
    answer = _ok(
        httpx.post(
            f"{base}/spot-checks/{check['id']}/submission",
            headers=photo,
            content=phone_photo(datetime.now(UTC).astimezone()),
        )
    )
    invitation = _ok(
        httpx.post(
            f"{base}/invitations",
            headers=supervisor,
            json={
                "name": "模糊测试邀请",
                "unit_ids": [unit],
                "expires_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
            },
        )
    )
    # Personal applications (个人报名) to select or decline, from the public form.
    nominations = [
        _ok(
            httpx.post(
                f"{base}/nominations",
                json={
                    "name": f"模糊测试报名{n}",
                    "phone": "13900004444",
                    "category": "retired",
                    "organisation": "退休",
                    "statement": "模糊测试",
                    "unit_ids": [unit],
                },
            )
        )["id"]
        for n in range(2)
    ]
    meta = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in (("action_id", action["id"]), ("filetype", "video/mp4"))
    )
    upload = httpx.post(
        f"{base}/uploads",
        headers={**officer2, "Tus-Resumable": "1.0.0", "Upload-Length": "1000", "Upload-Metadata": meta},
    )
    assert upload.status_code == 201, upload.text
    spare = f"fz-{uuid.uuid4().hex[:10]}"  # not a name a generator would guess (lockout)
    spare_user = _ok(
        httpx.post(
            f"{base}/users",
            headers=admin,
            json={
                "username": spare,
                "password": DEMO_PASSWORD,
                "display_name": "会话测试",
                "roles": ["admin"],
            },
        )
    )
    target.spare_admin = (spare_user["id"], spare)
    documents, tasks, attachments = _seed_documents(target, unit)
    channel_pools = _seed_channels(target, unit, item, case["id"], action["id"], officer2)
    webhook_pools = _seed_webhooks(target, officer2)
    retention_pools = _seed_retention(target, env, officer2, action)
    share_pools = _seed_sharing(target, evidence["id"])
    report_pools = _seed_reports(target, officer2, unit, item)
    meeting_pools = _seed_meetings(target, unit)
    catalogue_pools = _seed_catalogue(target, unit)
    training = _ok(
        httpx.post(
            f"{base}/trainings",
            headers=supervisor,
            json={
                "title": "模糊测试培训",
                "format": "以案释法",
                "organiser_unit_id": unit,
                "held_on": datetime.now(UTC).date().isoformat(),
                "hours": 2,
                "unit_ids": [unit],
                "has_exam": True,
            },
        )
    )
    card = _ok(httpx.get(f"{base}/users/{me['id']}/certificate/qr", headers=supervisor))
    mine = {*target.user_ids.values(), spare_user["id"]}
    users = [u["id"] for u in _ok(httpx.get(f"{base}/users", params={"limit": 200}, headers=admin))["items"]]
    target.pools = {
        "user_id": [u for u in users if u not in mine],
        "unit_id": [
            u["id"] for u in _ok(httpx.get(f"{base}/units", params={"limit": 200}, headers=admin))["items"]
        ],
        "item_id": [
            i["id"] for i in _ok(httpx.get(f"{base}/items", params={"limit": 200}, headers=admin))["items"]
        ],
        "action_id": [action["id"]],
        "case_id": [case["id"]],
        "publication_id": [published["id"]],
        "evidence_id": [
            *_seed_rendered(target, officer2, action["id"]),
            evidence["id"],
            answer["evidence_id"] or evidence["id"],
            *attachments,
        ],
        "alert_id": [alert["id"]],
        "check_id": [check["id"], own_check["id"]],
        "invitation_id": [invitation["invitation"]["id"]],
        "nomination_id": nominations,
        "upload_id": [upload.headers["Location"].rstrip("/").rsplit("/", 1)[-1]],
        "document_id": documents,
        "task_id": tasks,
        **channel_pools,
        **webhook_pools,
        **retention_pools,
        **share_pools,
        **report_pools,
        **meeting_pools,
        **catalogue_pools,
        "training_id": [training["id"]],
        "token": [card["token"]],  # a card's QR (the public check)
        # the year the calendar library carries and one it does not (provisional)
        "year": [str(datetime.now(UTC).year), "2099"],
    }


def _seed_retention(
    target: Target, env: dict[str, str], officer: dict[str, str], action: dict[str, Any]
) -> dict[str, list[str]]:
    """A legal hold, and a disposal batch of one photo on an act planted four years back."""
    base, supervisor = f"{target.url}/api/v1", target.headers["supervisor"]
    hold = _ok(
        httpx.post(
            f"{base}/legal-holds",
            headers=supervisor,
            json={"object_type": "action", "object_id": action["id"], "reason": "模糊测试保全"},
        )
    )
    body = {k: action[k] for k in ("unit_id", "item_id", "kind", "officer_ids")}
    old = _ok(
        httpx.post(
            f"{base}/actions",
            headers=officer,
            json={**body, "occurred_at": datetime.now(UTC).isoformat(), "address": "模糊测试旧案"},
        )
    )
    photo = _ok(
        httpx.post(
            f"{base}/actions/{old['id']}/evidence",
            headers={**officer, "Content-Type": "image/jpeg"},
            content=phone_photo(seed=7),
        )
    )
    age_action(env, old["id"], days=1500)
    batch = _ok(
        httpx.post(
            f"{base}/retention/disposals",
            headers=supervisor,
            json={"evidence_ids": [photo["id"]], "reason": "模糊测试销毁"},
        )
    )
    assert batch["removed"] == 1, batch
    return {"hold_id": [hold["id"]], "batch_id": [batch["id"]]}


def _seed_rendered(target: Target, officer: dict[str, str], action_id: str) -> list[str]:
    """A video and a PDF the server's rendition job has rendered, so their poster and preview reads
    have something to serve."""
    base, made = f"{target.url}/api/v1", []
    for body, content_type in (
        (pattern_video("h264", "mp4"), "video/mp4"),
        (pdf_document(), "application/pdf"),
    ):
        headers = {**officer, "Content-Type": content_type}
        made.append(
            _ok(httpx.post(f"{base}/actions/{action_id}/evidence", headers=headers, content=body))["id"]
        )
    deadline = time.monotonic() + 60
    for evidence_id in made:
        while (
            _ok(httpx.get(f"{base}/evidence/{evidence_id}", headers=officer))["rendition_state"] == "pending"
        ):
            assert time.monotonic() < deadline, f"evidence {evidence_id} was not rendered in 60 s"
            time.sleep(0.2)
    return made


def _seed_sharing(target: Target, evidence_id: str) -> dict[str, list[str]]:
    """A share the fuzzed supervisor may revoke, and one opened as the outside recipient, whose id
    the fuzzer never aims at (so a fuzzed revocation does not end the recipient's session)."""
    base, supervisor = f"{target.url}/api/v1", target.headers["supervisor"]
    body = {"recipient": "模糊测试法官", "organisation": "模糊测试法院", "purpose": "court"}
    aimed = _ok(
        httpx.post(f"{base}/shares", headers=supervisor, json={**body, "evidence_ids": [evidence_id]})
    )
    kept = _ok(httpx.post(f"{base}/shares", headers=supervisor, json={**body, "evidence_ids": [evidence_id]}))
    opened = _ok(httpx.post(f"{base}/shared/open", json={"token": kept["token"]}))
    target.headers["share_recipient"] = {"Authorization": f"Share {opened['session']}"}
    return {"share_id": [aimed["share"]["id"]]}


def _seed_reports(target: Target, officer: dict[str, str], unit: str, item: str) -> dict[str, list[str]]:
    """Last month's report of the unit, and a 案卷评查 draw of a case the officer takes to its close."""
    base, supervisor = f"{target.url}/api/v1", target.headers["supervisor"]
    today = datetime.now(UTC).date()
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    report = _ok(
        httpx.get(
            f"{base}/reports/monthly", params={"unit_id": unit, "month": last_month}, headers=supervisor
        )
    )
    case = _ok(
        httpx.post(
            f"{base}/cases",
            headers=officer,
            json={"unit_id": unit, "item_id": item, "summary": "模糊测试评查"},
        )
    )
    case = _ok(
        httpx.patch(
            f"{base}/cases/{case['id']}",
            headers=officer,
            json={"version": case["version"], "proposed_decision": {"fine": 100}},
        )
    )
    _ok(httpx.post(f"{base}/cases/{case['id']}/decision", headers=officer, json={}))
    _ok(
        httpx.post(f"{base}/cases/{case['id']}/serve", headers=officer, json={"served_on": today.isoformat()})
    )
    _ok(httpx.post(f"{base}/cases/{case['id']}/close", headers=officer, json={}))
    draw = _ok(
        httpx.post(
            f"{base}/case-reviews/draw",
            headers=supervisor,
            json={
                "unit_id": unit,
                "from": (today - timedelta(days=2)).isoformat(),
                "to": (today + timedelta(days=2)).isoformat(),
                "size": 5,
            },
        )
    )
    return {"report_id": [report["id"]], "draw_id": [draw["id"]]}


def _seed_meetings(target: Target, unit: str) -> dict[str, list[str]]:
    """The unit's leading group and a joint meeting with a resolution it owes."""
    base, supervisor = f"{target.url}/api/v1", target.headers["supervisor"]
    today = datetime.now(UTC).date()
    group = _ok(
        httpx.post(
            f"{base}/leading-groups",
            headers=supervisor,
            json={"unit_id": unit, "name": "模糊测试领导小组", "set_up_on": today.isoformat()},
        )
    )
    meeting = _ok(
        httpx.post(
            f"{base}/meetings",
            headers=supervisor,
            json={
                "held_on": today.isoformat(),
                "title": "模糊测试联席会议",
                "kind": "联席会议",
                "unit_ids": [unit],
                "resolutions": [
                    {
                        "text": "模糊测试议定事项",
                        "owner_unit_id": unit,
                        "due_on": (today + timedelta(days=7)).isoformat(),
                    }
                ],
            },
        )
    )
    return {"group_id": [group["id"]], "meeting_id": [meeting["id"]]}


def _seed_catalogue(target: Target, unit: str) -> dict[str, list[str]]:
    """An item of its own delegated to the officers' township: the fuzzing admin may end that
    delegation (or change the item) without touching what the other seeds act on."""
    base, admin = f"{target.url}/api/v1", target.headers["admin"]
    [dept] = _ok(httpx.get(f"{base}/units", params={"kind": "department", "limit": 1}, headers=admin))[
        "items"
    ]
    item = _ok(
        httpx.post(
            f"{base}/items",
            headers=admin,
            json={
                "code": f"FZ-{uuid.uuid4().hex[:8]}",
                "name": "模糊测试事项",
                "kind": "penalty",
                "owner_unit_id": dept["id"],
            },
        )
    )
    delegation = _ok(
        httpx.post(
            f"{base}/items/{item['id']}/delegations",
            headers=admin,
            json={"unit_id": unit, "effective_from": "2024-01-01"},
        )
    )
    return {"delegation_id": [delegation["id"]]}


def _seed_webhooks(target: Target, officer: dict[str, str]) -> dict[str, list[str]]:
    """Webhook endpoints (to a closed loopback port) with a delivery each: their path parameters;
    and two more that only the fuzzed DELETE aims at, so it never removes the others."""
    base, admin = f"{target.url}/api/v1", target.headers["admin"]
    endpoints = [
        _ok(
            httpx.post(
                f"{base}/webhooks",
                headers=admin,
                json={"url": "http://127.0.0.1:9/fuzz", "event_types": ["action.created"]},
            )
        )["id"]
        for _ in range(3)
    ]
    page = _ok(httpx.get(f"{base}/actions", params={"limit": 1}, headers=officer))["items"][0]
    body = {k: page[k] for k in ("unit_id", "item_id", "kind", "officer_ids", "address")}
    body |= {"occurred_at": datetime.now(UTC).isoformat(), "location": page["location"] or None}
    _ok(httpx.post(f"{base}/actions", headers=officer, json=body))
    deliveries: list[str] = []
    deadline = time.monotonic() + 20  # the server's webhook job turns the event into deliveries
    while len(deliveries) < len(endpoints) and time.monotonic() < deadline:
        deliveries = [
            d["id"]
            for e in endpoints
            for d in _ok(httpx.get(f"{base}/webhooks/{e}/deliveries", headers=admin))
        ]
        time.sleep(0.2)
    assert len(deliveries) >= len(endpoints), "no webhook deliveries were made"
    target.disposable["endpoint_id"] = [
        _ok(
            httpx.post(
                f"{base}/webhooks",
                headers=admin,
                json={"url": "http://127.0.0.1:9/fuzz-delete", "event_types": ["alert.raised"]},
            )
        )["id"]
        for _ in range(2)
    ]
    return {"endpoint_id": endpoints, "delivery_id": deliveries}


def _seed_channels(
    target: Target, unit: str, item: str, case_id: str, action_id: str, officer: dict[str, str]
) -> dict[str, list[str]]:
    """A liaison's report (forwarded to the unit), a lawsuit with an outcome and a petition about
    the case, and a case transferred to the demo's procuratorate: the channels' path parameters."""
    base = f"{target.url}/api/v1"
    supervisor, today = target.headers["supervisor"], datetime.now(UTC).date().isoformat()
    report = _ok(
        httpx.post(
            f"{base}/channels/reports",
            headers=target.headers["liaison"],
            json={"title": "模糊测试反映", "category": "其他", "address": "水江镇", "unit_id": unit},
        )
    )
    _ok(
        httpx.post(
            f"{base}/channels/items/{report['id']}/forward", headers=supervisor, json={"question": "请说明"}
        )
    )
    registration = {"received_on": today, "unit_id": unit, "case_id": case_id, "action_id": action_id}
    lawsuit = _ok(
        httpx.post(
            f"{base}/channels/lawsuits",
            headers=target.headers["court"],
            json={"title": "模糊测试诉讼", "reference": f"FZ-{uuid.uuid4().hex[:8]}", **registration},
        )
    )
    judged = _ok(
        httpx.post(
            f"{base}/channels/items/{lawsuit['id']}/outcomes",
            headers=target.headers["court"],
            json={"outcome": "撤销", "decided_on": today, "decision_number": f"FZ-{uuid.uuid4().hex[:8]}"},
        )
    )
    petition = _ok(
        httpx.post(
            f"{base}/channels/petitions",
            headers=target.headers["petition_office"],
            json={"title": "模糊测试信访", "reference": f"FZ-{uuid.uuid4().hex[:8]}", **registration},
        )
    )
    moved = _ok(
        httpx.post(
            f"{base}/cases",
            headers=officer,
            json={"unit_id": unit, "item_id": item, "summary": "模糊测试移送"},
        )
    )
    moved = _ok(
        httpx.patch(
            f"{base}/cases/{moved['id']}", headers=officer, json={"version": 1, "investigation": "涉嫌犯罪"}
        )
    )
    _ok(
        httpx.post(
            f"{base}/cases/{moved['id']}/transfer",
            headers=officer,
            json={"organ": "区人民检察院", "transferred_on": today, "receipt_number": "FZ-1"},
        )
    )
    transfers = _ok(httpx.get(f"{base}/channels/transfers", headers=supervisor))
    points = _ok(httpx.get(f"{base}/channels/points", headers=supervisor))
    return {
        "channel_item_id": [report["id"], lawsuit["id"], petition["id"]],
        "outcome_id": [judged["outcomes"][0]["id"]],
        "transfer_id": [t["id"] for t in transfers if t["case_id"] == moved["id"]],
        "point_id": [p["id"] for p in points],
    }


def _seed_documents(target: Target, unit: str) -> tuple[list[str], list[str], list[str]]:
    """Supervision documents to the fuzzing officer's unit and corrective actions, with attachments:
    (document ids, task ids, evidence ids). The fuzzing supervisor gets signing rights from the admin
    (the demo's signer has them), so both may issue what the other drafted."""
    base = f"{target.url}/api/v1"
    admin, supervisor, officer = (target.headers[r] for r in ("admin", "supervisor", "officer"))
    signer = {"Authorization": f"Bearer {target.login(SIGNER)['access_token']}"}
    _ok(
        httpx.put(
            f"{base}/users/{target.user_ids['supervisor']}/capabilities",
            headers=admin,
            json={"signing": True, "responder_units": []},
        )
    )
    assert _ok(httpx.get(f"{base}/me/capabilities", headers=supervisor))["signing"] is True

    def draft(by: dict[str, str], kind: str) -> str:
        return _ok(
            httpx.post(
                f"{base}/supervision-documents",
                headers=by,
                json={
                    "type": kind,
                    "unit_id": unit,
                    "title": "模糊测试文书",
                    "facts": "问题事实",
                    "requirement": "限期整改",
                    "deadline": {"days": 10, "working": True},
                },
            )
        )["id"]

    # issued by the signer: the officer answers it, the supervisor accepts, decides, closes it
    issued = draft(supervisor, "correction_order")
    _ok(httpx.post(f"{base}/supervision-documents/{issued}/issue", headers=signer))
    # a second one the officer asks to have reviewed before answering
    reviewed = draft(supervisor, "opinion")
    _ok(httpx.post(f"{base}/supervision-documents/{reviewed}/issue", headers=signer))
    _ok(
        httpx.post(
            f"{base}/supervision-documents/{reviewed}/review-request",
            headers=officer,
            json={"reason": "申请复查"},
        )
    )
    # drafted by the signer: the fuzzing supervisor may issue it
    drafted = draft(signer, "proposal")
    photo = {**officer, "Content-Type": "image/jpeg"}
    attachment = _ok(
        httpx.post(
            f"{base}/supervision-documents/{issued}/evidence",
            headers=photo,
            content=phone_photo(datetime.now(UTC).astimezone()),
        )
    )
    # a task of the fuzzing officer's (it attaches and completes; the supervisor, who opened it,
    # closes it), and the unit's own, opened from the first document
    assigned = _ok(
        httpx.post(
            f"{base}/corrective-actions",
            headers=supervisor,
            json={"title": "模糊测试整改", "unit_id": unit, "assignee_user_id": target.user_ids["officer"]},
        )
    )
    proof = _ok(
        httpx.post(
            f"{base}/corrective-actions/{assigned['id']}/evidence",
            headers=photo,
            content=phone_photo(datetime.now(UTC).astimezone()),
        )
    )
    from_document = _ok(
        httpx.post(
            f"{base}/corrective-actions",
            headers=supervisor,
            json={"source": {"kind": "document", "id": issued}, "due_days": 5},
        )
    )
    return (
        [issued, reviewed, drafted],
        [assigned["id"], from_document["id"]],
        [attachment["id"], proof["id"]],
    )


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    data = tmp_path_factory.mktemp("fuzz")
    with own_database(data) as database_url:
        env = {
            "FIELDWATCH_DATA_DIR": str(data),
            "FIELDWATCH_DATABASE_URL": database_url,
            # the main identities sign in once; a long run (scripts/fuzz.sh) outlasts 15 minutes
            "FIELDWATCH_ACCESS_TOKEN_TTL": "86400",
            # the served app renders uploaded videos and PDFs as in production
            "FIELDWATCH_RENDER_INTERVAL": "60",
        }
        demo = subprocess.run(
            [sys.executable, "-m", "backend.cli", "demo", "--password", DEMO_PASSWORD],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        assert demo.returncode == 0, demo.stderr
        with api_process(data, **env) as url:
            target = Target(url=url, log_dir=data, headers={}, user_ids={})
            for role, username in {**ROLES, "legal_reviewer": REVIEWER, **CHANNEL_ROLES}.items():
                pair = target.login(username)
                target.headers[role] = {"Authorization": f"Bearer {pair['access_token']}"}
                target.user_ids[role] = pair["user"]["id"]
            _seed(target, env)
            # A signed tree head, so GET /audit/head has one to show (the server signs every 5 min).
            signed = subprocess.run(
                [sys.executable, "-m", "backend.cli", "audit-head"],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                check=False,
            )
            assert signed.returncode == 0, signed.stderr
            yield target


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_target: Target) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_target.url}/schema/openapi.json")


def _operations(schema: schemathesis.BaseSchema, keep: Callable[[str, str], bool]) -> list[APIOperation]:
    found = [result.ok() for result in schema.get_all_operations()]
    return [op for op in found if keep(op.method.upper(), op.path)]


def _aim(case: schemathesis.Case, target: Target, data: st.DataObject) -> None:
    """Point each path parameter at a real object about half the time, so the fuzzer gets past 404."""
    deleting = case.method.upper() == "DELETE"
    for name in list(case.path_parameters or {}):
        pool = (
            target.disposable.get(name) if deleting and name in target.disposable else target.pools.get(name)
        )
        if pool:
            chosen = data.draw(st.sampled_from([None, *pool]), label=name)
            if chosen is not None:
                case.path_parameters[name] = chosen


# operation label → every status it answered, over all identities (see the last test)
ANSWERS: dict[str, set[int]] = defaultdict(set)


def _call(case: schemathesis.Case, headers: dict[str, str]) -> None:
    response = case.call(headers=headers, timeout=30)
    ANSWERS[case.operation.label].add(response.status_code)
    known = case.operation.label in BODILESS_DOCUMENTED_AS_JSON
    case.validate_response(response, checks=(not_a_server_error,) if known else CHECKS)


Prepare = Callable[[schemathesis.Case, st.DataObject], dict[str, str]]


def _fuzz(operations: list[APIOperation], target: Target, prepare: Prepare) -> None:
    """Every operation, valid and invalid inputs, a bounded number of examples each; every failure
    is collected (with the server's log) before the test fails."""
    failures: list[str] = []
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )

        @FUZZ_SETTINGS
        @given(case=cases, data=st.data())
        def run(case: schemathesis.Case, data: st.DataObject) -> None:
            _call(case, prepare(case, data))

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join([*failures, "--- server log ---", target.server_log()])


@pytest.mark.parametrize("role", list(ROLES))
def test_no_server_error(role: str, fuzz_target: Target, fuzz_schema: schemathesis.BaseSchema) -> None:
    def prepare(case: schemathesis.Case, data: st.DataObject) -> dict[str, str]:
        _aim(case, fuzz_target, data)
        return fuzz_target.headers[role]

    operations = _operations(fuzz_schema, lambda method, path: not re.search(SESSION_ENDING, path))
    _fuzz(operations, fuzz_target, prepare)
    # Still signed in: the examples ran as this role, not as an anonymous caller refused with 401.
    me = httpx.get(f"{fuzz_target.url}/api/v1/me", headers=fuzz_target.headers[role])
    assert me.status_code == 200 and role in me.json()["roles"], me.text


def test_no_server_error_as_legal_reviewer(fuzz_target: Target, fuzz_schema: schemathesis.BaseSchema) -> None:
    def prepare(case: schemathesis.Case, data: st.DataObject) -> dict[str, str]:
        _aim(case, fuzz_target, data)
        return fuzz_target.headers["legal_reviewer"]

    _fuzz(
        _operations(fuzz_schema, lambda method, path: method == "POST" and path.endswith("/review")),
        fuzz_target,
        prepare,
    )
    me = httpx.get(f"{fuzz_target.url}/api/v1/me", headers=fuzz_target.headers["legal_reviewer"])
    assert me.status_code == 200, me.text


@pytest.mark.parametrize("role", list(CHANNEL_ROLES))
def test_no_server_error_in_the_channels(
    role: str, fuzz_target: Target, fuzz_schema: schemathesis.BaseSchema
) -> None:
    """The channels' outside roles on the channels' operations (elsewhere they hold no rights)."""

    def prepare(case: schemathesis.Case, data: st.DataObject) -> dict[str, str]:
        _aim(case, fuzz_target, data)
        return fuzz_target.headers[role]

    _fuzz(
        _operations(fuzz_schema, lambda method, path: path.startswith("/api/v1/channels")),
        fuzz_target,
        prepare,
    )
    me = httpx.get(f"{fuzz_target.url}/api/v1/me", headers=fuzz_target.headers[role])
    assert me.status_code == 200 and role in me.json()["roles"], me.text


def test_no_server_error_as_share_recipient(
    fuzz_target: Target, fuzz_schema: schemathesis.BaseSchema
) -> None:
    """The outside recipient of a share link (a share session, no account) on the recipient's
    operations; the evidence it may read is the seeded share's."""

    def prepare(case: schemathesis.Case, data: st.DataObject) -> dict[str, str]:
        _aim(case, fuzz_target, data)
        return fuzz_target.headers["share_recipient"]

    _fuzz(
        _operations(fuzz_schema, lambda method, path: path.startswith("/api/v1/shared")),
        fuzz_target,
        prepare,
    )
    shown = httpx.get(f"{fuzz_target.url}/api/v1/shared", headers=fuzz_target.headers["share_recipient"])
    assert shown.status_code == 200 and shown.json()["items"], shown.text


def test_no_server_error_ending_its_own_session(
    fuzz_target: Target, fuzz_schema: schemathesis.BaseSchema
) -> None:
    """A fresh session of the throw-away admin for every example. PATCH aims at that account itself
    (a password change or deactivation ends its sessions); refresh sends a generated token, the
    current one, or one already rotated (reuse revokes the session). The main admin restores the
    account first."""
    spare_id, spare_name = fuzz_target.spare_admin

    def prepare(case: schemathesis.Case, data: st.DataObject) -> dict[str, str]:
        restore = httpx.patch(
            f"{fuzz_target.url}/api/v1/users/{spare_id}",
            headers=fuzz_target.headers["admin"],
            json={"active": True, "password": DEMO_PASSWORD, "roles": ["admin"]},
        )
        assert restore.status_code == 200, restore.text
        pair = fuzz_target.login(spare_name)
        if case.path_parameters and "user_id" in case.path_parameters:
            case.path_parameters["user_id"] = spare_id
        if case.path.endswith("/refresh") and isinstance(case.body, dict):
            token = data.draw(st.sampled_from(["generated", "current", "reused"]), label="refresh token")
            if token == "current":
                case.body["refresh_token"] = pair["refresh_token"]
            elif token == "reused":
                rotated = httpx.post(
                    f"{fuzz_target.url}/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
                )
                assert rotated.status_code == 200, rotated.text
                case.body["refresh_token"] = pair["refresh_token"]
        return {"Authorization": f"Bearer {pair['access_token']}"}

    own = _operations(
        fuzz_schema,
        lambda method, path: (
            bool(re.search(SESSION_ENDING, path)) or (method == "PATCH" and path == "/api/v1/users/{user_id}")
        ),
    )
    _fuzz(own, fuzz_target, prepare)


def test_the_known_schema_mismatches_are_still_there(fuzz_schema: schemathesis.BaseSchema) -> None:
    for operation in _operations(
        fuzz_schema, lambda method, path: f"{method} {path}" in BODILESS_DOCUMENTED_AS_JSON
    ):
        content = operation.definition.raw["responses"]["204"].get("content", {})
        assert "application/json" in content, f"{operation.label} is fixed: remove it from the list"
    assert len(_operations(fuzz_schema, lambda m, p: f"{m} {p}" in BODILESS_DOCUMENTED_AS_JSON)) == 3


def test_the_identities_together_reach_every_operation(fuzz_schema: schemathesis.BaseSchema) -> None:
    """Some identity got past each operation's guard: an answer other than 401, 403, 404 or 405
    (guards run before the body is read, so even a 400 means the role may use the operation). A new
    operation only an unfuzzed role may use fails here: give the fuzzer that role."""
    if not ANSWERS:
        pytest.skip("runs after the fuzzing tests of this module")
    refused = {401, 403, 404, 405}
    unreached = [
        f"{op.label}: only {sorted(ANSWERS[op.label])}"
        for op in _operations(fuzz_schema, lambda method, path: True)
        if not ANSWERS[op.label] - refused
    ]
    assert unreached == [], unreached
