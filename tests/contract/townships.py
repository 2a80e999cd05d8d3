"""Two townships built through the API, each with a user of every role (plus a second officer and the
unit's document responder) and an object of every kind: action, case, evidence (of an action, a
case, a spot-check, a document's answer, a corrective action), spot-check, alert, upload,
invitation, position, an issued supervision document, corrective actions, channel items (a report,
a lawsuit with its outcome, a petition), a transfer, a liaison point. The scope matrix probes
one township's objects as the other's users."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from backend.evidence import rendering
from media_store import open_store
from tests.conftest import PASSWORD, make_settings, unique
from tests.integration.evidence.photos import pattern_video, pdf_document, phone_photo

# Path parameter kinds that are not township records: the item both towns act on, calendar years
# (one working-day calendar for everyone, "admin writes, all read", like the units and items), and
# the token on a certificate card's QR (the public check: anyone may read it, by design).
SHARED = {"item_id", "year", "token"}
YEAR = str(date.today().year)
# Beyond one user per role: a second officer, and an officer who answers the unit's supervision
# documents (its responder, an account capability).
EXTRA = {"officer2": "officer", "responder": "officer"}


@dataclass
class Town:
    key: str
    unit: str
    users: dict[str, str] = field(default_factory=dict)  # role (or officer2, responder) → user id
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    # path parameter name → ids of this town's objects of that kind
    objects: dict[str, list[str]] = field(default_factory=dict)
    delegation: str = ""  # the shared item's delegation to this town

    def ids(self) -> set[str]:
        """Everything that identifies this town's records: its unit, its people, its objects (not
        the item both towns act on, nor a calendar year)."""
        own = (ids for kind, ids in self.objects.items() if kind not in SHARED)
        return {self.unit, *self.users.values(), *(i for ids in own for i in ids)}


@dataclass
class Townships:
    home: Town
    foreign: Town
    item: str
    # a supervisor of the supervision office (no township) with signing rights: issues both towns' documents
    signer: dict[str, str] = field(default_factory=dict)
    # the department that owns the item and delegated it to both towns: its officer and its legal
    # adviser (role → headers) oversee both towns' actions and cases under it, read-only (四(三)五)
    department: dict[str, dict[str, str]] = field(default_factory=dict)
    department_unit: str = ""


async def _rendered(client: httpx.AsyncClient, path: str, body: bytes, headers: dict[str, str]) -> Any:
    """Evidence uploaded and rendered by the server's job (as the app would after the upload)."""
    evidence = _ok(await client.post(path, content=body, headers=headers))
    settings = make_settings()
    outcome = await rendering.render_one(uuid.UUID(evidence["id"]), open_store(settings.media_url), settings)
    assert outcome == "done", outcome
    return evidence


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, (response.request.method, str(response.request.url), response.text)
    return response.json() if response.content else None


async def people(
    client: httpx.AsyncClient, admin: dict[str, str], roles: list[str]
) -> tuple[Townships, dict[str, str]]:
    """Units, an item delegated to both towns, and in each town one user per role, a second officer
    and the unit's document responder, signed in; and a signing supervisor of the department.
    Returns the townships and the first admin's headers."""
    dept = _ok(
        await client.post(
            "/api/v1/units", json={"name": unique("matrix-dept"), "kind": "department"}, headers=admin
        )
    )
    item = _ok(
        await client.post(
            "/api/v1/items",
            json={"code": unique("MX"), "name": "矩阵事项", "kind": "penalty", "owner_unit_id": dept["id"]},
            headers=admin,
        )
    )
    towns = []
    for key in ("home", "foreign"):
        unit = _ok(
            await client.post(
                "/api/v1/units", json={"name": unique(f"matrix-{key}"), "kind": "township"}, headers=admin
            )
        )
        delegation = _ok(
            await client.post(
                f"/api/v1/items/{item['id']}/delegations",
                json={"unit_id": unit["id"], "effective_from": "2020-01-01"},
                headers=admin,
            )
        )
        town = Town(key=key, unit=unit["id"], delegation=delegation["id"])
        for role in [*roles, *EXTRA]:
            username = unique(f"mx-{key}-{role}")
            user = _ok(
                await client.post(
                    "/api/v1/users",
                    json={
                        "username": username,
                        "password": PASSWORD,
                        "display_name": f"矩阵{role}",
                        "roles": [EXTRA.get(role, role)],
                        "unit_ids": [unit["id"]],
                        "phone": "13900001111",
                    },
                    headers=admin,
                )
            )
            town.users[role] = user["id"]
            if role == "responder":
                _ok(
                    await client.put(
                        f"/api/v1/users/{user['id']}/capabilities",
                        json={"signing": False, "responder_units": [{"unit_id": unit["id"], "leader": True}]},
                        headers=admin,
                    )
                )
            if role in ("officer", "officer2"):
                today = date.today()
                _ok(
                    await client.put(
                        f"/api/v1/users/{user['id']}/certificate",
                        json={
                            "number": unique("MXC"),
                            "issued_on": (today - timedelta(days=100)).isoformat(),
                            "expires_on": (today + timedelta(days=365)).isoformat(),
                        },
                        headers=admin,
                    )
                )
            login = _ok(
                await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
            )
            town.tokens[role] = login["access_token"]
            town.headers[role] = {"Authorization": f"Bearer {login['access_token']}"}
        towns.append(town)
    signer = unique("mx-signer")
    signer_user = _ok(
        await client.post(
            "/api/v1/users",
            json={
                "username": signer,
                "password": PASSWORD,
                "display_name": "矩阵签发人",
                "roles": ["supervisor"],
                "unit_ids": [dept["id"]],
            },
            headers=admin,
        )
    )
    _ok(
        await client.put(
            f"/api/v1/users/{signer_user['id']}/capabilities",
            json={"signing": True, "responder_units": []},
            headers=admin,
        )
    )
    login = _ok(await client.post("/api/v1/auth/login", json={"username": signer, "password": PASSWORD}))
    world = Townships(home=towns[0], foreign=towns[1], item=item["id"], department_unit=dept["id"])
    world.signer = {"Authorization": f"Bearer {login['access_token']}"}
    for role in ("officer", "legal_reviewer"):
        username = unique(f"mx-dept-{role}")
        _ok(
            await client.post(
                "/api/v1/users",
                json={
                    "username": username,
                    "password": PASSWORD,
                    "display_name": f"矩阵部门{role}",
                    "roles": [role],
                    "unit_ids": [dept["id"]],
                },
                headers=admin,
            )
        )
        login = _ok(
            await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        )
        world.department[role] = {"Authorization": f"Bearer {login['access_token']}"}
    return world, admin


async def objects(client: httpx.AsyncClient, world: Townships, town: Town) -> None:
    """One object of every kind in ``town``, made by its own people."""
    officer, supervisor = town.headers["officer"], town.headers["supervisor"]
    photo = {**officer, "Content-Type": "image/jpeg"}
    action = _ok(
        await client.post(
            "/api/v1/actions",
            json={
                "unit_id": town.unit,
                "item_id": world.item,
                "kind": "inspection",
                "officer_ids": [town.users["officer"], town.users["officer2"]],
                "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
                "location": {"lat": 29.157, "lon": 107.098, "accuracy_m": 8},
                "party": {"name": "矩阵当事人", "type": "person", "id_number": "500119199001011234"},
            },
            headers=officer,
        )
    )
    action_evidence = _ok(
        await client.post(f"/api/v1/actions/{action['id']}/evidence", content=phone_photo(), headers=photo)
    )
    # A video and a PDF, rendered, for the operations only they answer (a poster, a preview).
    rendered = [
        await _rendered(
            client, f"/api/v1/actions/{action['id']}/evidence", body, {**officer, "Content-Type": ctype}
        )
        for body, ctype in (
            (pattern_video("libx264", "mp4", seconds=1), "video/mp4"),
            (pdf_document(), "application/pdf"),
        )
    ]
    case = _ok(
        await client.post(
            "/api/v1/cases",
            json={
                "unit_id": town.unit,
                "item_id": world.item,
                "action_ids": [action["id"]],
                "summary": "矩阵案件",
            },
            headers=officer,
        )
    )
    case_evidence = _ok(
        await client.post(f"/api/v1/cases/{case['id']}/evidence", content=phone_photo(), headers=photo)
    )
    _ok(
        await client.patch(
            f"/api/v1/cases/{case['id']}",
            json={"version": case["version"], "investigation": "已调查"},
            headers=officer,
        )
    )
    # A second case, decided and published (执法公示).
    decided = _ok(
        await client.post(
            "/api/v1/cases",
            json={"unit_id": town.unit, "item_id": world.item, "action_ids": [], "summary": "矩阵公示案件"},
            headers=officer,
        )
    )
    _ok(
        await client.patch(
            f"/api/v1/cases/{decided['id']}",
            json={"version": decided["version"], "investigation": "已调查"},
            headers=officer,
        )
    )
    _ok(await client.post(f"/api/v1/cases/{decided['id']}/decision", json={"fine": 100}, headers=officer))
    published = _ok(
        await client.post("/api/v1/publications", json={"case_id": decided["id"]}, headers=officer)
    )
    check = _ok(
        await client.post(
            "/api/v1/spot-checks", json={"officer_id": town.users["officer"]}, headers=supervisor
        )
    )
    invited_check = _ok(
        await client.post(
            "/api/v1/spot-checks",
            json={"officer_id": town.users["officer2"]},
            headers=town.headers["invited_supervisor"],
        )
    )
    answered = _ok(
        await client.post(
            f"/api/v1/spot-checks/{check['id']}/submission",
            content=phone_photo(datetime.now(UTC).astimezone()),
            headers=photo,
        )
    )
    alert = _ok(
        await client.post("/api/v1/sos", json={"lat": 29.15, "lon": 107.1, "accuracy_m": 9}, headers=officer)
    )
    _ok(
        await client.post(
            "/api/v1/positions",
            json={"lat": 29.15, "lon": 107.1, "accuracy_m": 9, "at": datetime.now(UTC).isoformat()},
            headers=town.headers["officer2"],
        )
    )
    meta = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in (("action_id", action["id"]), ("filetype", "video/mp4"))
    )
    upload = await client.post(
        "/api/v1/uploads",
        headers={**officer, "Tus-Resumable": "1.0.0", "Upload-Length": "1000", "Upload-Metadata": meta},
    )
    assert upload.status_code == 201, upload.text
    # The town nominates an invited supervisor (单位推荐); the queue is the bureau's.
    nomination = _ok(
        await client.post(
            "/api/v1/nominations",
            json={
                "name": "矩阵推荐",
                "phone": "13900003333",
                "category": "deputy",
                "organisation": "矩阵人大",
                "statement": "矩阵推荐理由",
                "unit_ids": [town.unit],
                "nominated_by_unit": town.unit,
            },
            headers=officer,
        )
    )
    invitation = _ok(
        await client.post(
            "/api/v1/invitations",
            json={
                "name": "矩阵邀请",
                "unit_ids": [town.unit],
                "expires_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
            },
            headers=supervisor,
        )
    )
    # A supervision document to the town, drafted by its supervisor and issued (签发) by the
    # department's signer (a second person with signing rights); its responder attaches a photo.
    draft = _ok(
        await client.post(
            "/api/v1/supervision-documents",
            json={
                "type": "correction_order",
                "unit_id": town.unit,
                "title": "矩阵责令纠正通知书",
                "facts": "矩阵问题事实",
                "requirement": "限期整改",
                "deadline": {"days": 10, "working": True},
                "links": [{"kind": "case", "id": case["id"]}],
            },
            headers=supervisor,
        )
    )
    _ok(await client.post(f"/api/v1/supervision-documents/{draft['id']}/issue", headers=world.signer))
    responder = town.headers["responder"]
    attachment = _ok(
        await client.post(
            f"/api/v1/supervision-documents/{draft['id']}/evidence",
            content=phone_photo(datetime.now(UTC).astimezone()),
            headers={**responder, "Content-Type": "image/jpeg"},
        )
    )
    # Corrective actions: one assigned to the town's officer (with its proof attached), one to the
    # unit itself, opened from the document.
    assigned = _ok(
        await client.post(
            "/api/v1/corrective-actions",
            json={
                "title": "矩阵整改任务",
                "unit_id": town.unit,
                "assignee_user_id": town.users["officer"],
                "due_days": 5,
            },
            headers=supervisor,
        )
    )
    proof = _ok(
        await client.post(
            f"/api/v1/corrective-actions/{assigned['id']}/evidence",
            content=phone_photo(datetime.now(UTC).astimezone()),
            headers=photo,
        )
    )
    unit_task = _ok(
        await client.post(
            "/api/v1/corrective-actions",
            json={"source": {"kind": "document", "id": draft["id"]}, "due_days": 5},
            headers=supervisor,
        )
    )
    # Channels: the town's liaison reports on the town (forwarded, so the unit sees it); its court
    # and petition office register a lawsuit (with an outcome) and a petition about its case; a case
    # transferred to the town's unit by name (where its procuratorate and police users sit); a
    # liaison point; a closed case over the criminal threshold of the town's own item.
    today = date.today().isoformat()
    report = _ok(
        await client.post(
            "/api/v1/channels/reports",
            json={
                "title": "矩阵反映",
                "category": "不作为",
                "address": "矩阵地址",
                "unit_id": town.unit,
                "anonymous": True,
            },
            headers=town.headers["liaison"],
        )
    )
    _ok(
        await client.post(
            f"/api/v1/channels/items/{report['id']}/forward",
            json={"question": "矩阵说明"},
            headers=supervisor,
        )
    )
    registration = {
        "reference": unique("MXR"),
        "received_on": today,
        "unit_id": town.unit,
        "case_id": case["id"],
    }
    lawsuit = _ok(
        await client.post(
            "/api/v1/channels/lawsuits",
            json={"title": "矩阵诉讼", **registration, "action_id": action["id"]},
            headers=town.headers["court"],
        )
    )
    judged = _ok(
        await client.post(
            f"/api/v1/channels/items/{lawsuit['id']}/outcomes",
            json={"outcome": "撤销", "decided_on": today, "decision_number": unique("MXJ")},
            headers=town.headers["court"],
        )
    )
    petition = _ok(
        await client.post(
            "/api/v1/channels/petitions",
            json={"title": "矩阵信访", **registration, "reference": unique("MXP")},
            headers=town.headers["petition_office"],
        )
    )
    point = _ok(
        await client.post(
            "/api/v1/channels/points",
            json={
                "organisation": unique("矩阵联系点"),
                "liaison_user_id": town.users["liaison"],
                "active_from": today,
            },
            headers=supervisor,
        )
    )
    # A training the town's officers must attend, the officer's card token, and a revoked card not
    # yet recalled (a fresh officer, so the town's own officers keep acting).
    training = _ok(
        await client.post(
            "/api/v1/trainings",
            json={
                "title": "矩阵培训",
                "format": "法律知识培训",
                "organiser_unit_id": town.unit,
                "held_on": date.today().isoformat(),
                "hours": 2,
                "unit_ids": [town.unit],
                "has_exam": True,
            },
            headers=supervisor,
        )
    )
    unit_name = _ok(await client.get(f"/api/v1/units/{town.unit}", headers=supervisor))["name"]
    moved = _ok(
        await client.post(
            "/api/v1/cases",
            json={"unit_id": town.unit, "item_id": world.item, "summary": "矩阵移送"},
            headers=officer,
        )
    )
    moved = _ok(
        await client.patch(
            f"/api/v1/cases/{moved['id']}",
            json={"version": moved["version"], "investigation": "涉嫌犯罪"},
            headers=officer,
        )
    )
    _ok(
        await client.post(
            f"/api/v1/cases/{moved['id']}/transfer",
            json={"organ": unit_name, "transferred_on": today, "receipt_number": unique("MXT")},
            headers=officer,
        )
    )
    transfers = _ok(await client.get("/api/v1/channels/transfers", headers=supervisor))
    transfer = next(t for t in transfers if t["case_id"] == moved["id"])
    own_item = _ok(
        await client.post(
            "/api/v1/items",
            json={
                "code": unique("MXC"),
                "name": "矩阵刑事门槛事项",
                "kind": "penalty",
                "owner_unit_id": town.unit,
                "criminal_threshold": {"amount_involved_at_least": 50000},
            },
            headers=town.headers["admin"],
        )
    )
    fined = _ok(
        await client.post(
            "/api/v1/cases",
            json={"unit_id": town.unit, "item_id": own_item["id"], "summary": "矩阵罚款"},
            headers=officer,
        )
    )
    fined = _ok(
        await client.patch(
            f"/api/v1/cases/{fined['id']}",
            json={"version": fined["version"], "amount_involved": 60000, "proposed_decision": {"fine": 1000}},
            headers=officer,
        )
    )
    fined = _ok(await client.post(f"/api/v1/cases/{fined['id']}/decision", json={}, headers=officer))
    fined = _ok(
        await client.post(f"/api/v1/cases/{fined['id']}/serve", json={"served_on": today}, headers=officer)
    )
    _ok(
        await client.post(
            f"/api/v1/cases/{fined['id']}/override", json={"reason": "矩阵已与检察院会商"}, headers=supervisor
        )
    )
    _ok(await client.post(f"/api/v1/cases/{fined['id']}/close", json={}, headers=officer))
    # A webhook endpoint: district-wide configuration an admin keeps (no township's record).
    endpoint = _ok(
        await client.post(
            "/api/v1/webhooks",
            json={
                "url": "http://127.0.0.1:9/matrix",
                "event_types": ["alert.raised"],
                "unit_ids": [town.unit],
            },
            headers=town.headers["admin"],
        )
    )
    card = _ok(await client.get(f"/api/v1/users/{town.users['officer']}/certificate/qr", headers=supervisor))
    admin = town.headers["admin"]
    revoked = _ok(
        await client.post(
            "/api/v1/users",
            json={
                "username": unique(f"mx-{town.key}-revoked"),
                "password": PASSWORD,
                "display_name": "矩阵注销",
                "roles": ["officer"],
                "unit_ids": [town.unit],
            },
            headers=admin,
        )
    )
    today = date.today()
    _ok(
        await client.put(
            f"/api/v1/users/{revoked['id']}/certificate",
            json={
                "number": unique("MXR"),
                "issued_on": (today - timedelta(days=100)).isoformat(),
                "expires_on": (today + timedelta(days=365)).isoformat(),
            },
            headers=admin,
        )
    )
    _ok(
        await client.post(
            f"/api/v1/users/{revoked['id']}/certificate/revoke", json={"reason": "矩阵注销"}, headers=admin
        )
    )
    # Paused at once: the suite shares one database, and an active endpoint would have every later
    # test's app deliver its events to a closed port.
    _ok(
        await client.patch(
            f"/api/v1/webhooks/{endpoint['id']}", json={"active": False}, headers=town.headers["admin"]
        )
    )
    hold = _ok(
        await client.post(
            "/api/v1/legal-holds",
            json={"object_type": "action", "object_id": action["id"], "reason": "矩阵保全"},
            headers=town.headers["supervisor"],
        )
    )
    share = _ok(
        await client.post(
            "/api/v1/shares",
            json={
                "recipient": "矩阵法官",
                "organisation": "矩阵法院",
                "purpose": "court",
                "evidence_ids": [action_evidence["id"]],
            },
            headers=town.headers["supervisor"],
        )
    )
    # The town's report for last month (drafted on first read), and a 案卷评查 draw of its closed case.
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    unit_report = _ok(
        await client.get(
            "/api/v1/reports/monthly", params={"unit_id": town.unit, "month": last_month}, headers=supervisor
        )
    )
    review_draw = _ok(
        await client.post(
            "/api/v1/case-reviews/draw",
            json={
                "unit_id": town.unit,
                "from": (today - timedelta(days=2)).isoformat(),
                "to": (today + timedelta(days=2)).isoformat(),
                "size": 1,
            },
            headers=supervisor,
        )
    )
    # The town's leading group and a joint meeting it attended, with a resolution it owes.
    group = _ok(
        await client.post(
            "/api/v1/leading-groups",
            json={
                "unit_id": town.unit,
                "name": "矩阵领导小组",
                "set_up_on": today.isoformat(),
                "members": [{"role": "组长", "user_id": town.users["officer"], "legal_qualification": True}],
            },
            headers=supervisor,
        )
    )
    meeting = _ok(
        await client.post(
            "/api/v1/meetings",
            json={
                "held_on": today.isoformat(),
                "title": "矩阵联席会议",
                "kind": "联席会议",
                "unit_ids": [town.unit],
                "issues": ["矩阵议题"],
                "resolutions": [
                    {
                        "text": "矩阵议定事项",
                        "owner_unit_id": town.unit,
                        "due_on": (today + timedelta(days=7)).isoformat(),
                    }
                ],
            },
            headers=supervisor,
        )
    )
    town.objects = {
        "report_id": [unit_report["id"]],
        "draw_id": [review_draw["id"]],
        "group_id": [group["id"]],
        "meeting_id": [meeting["id"]],
        "endpoint_id": [endpoint["id"]],
        # The bureau's retention work (supervisor-only, refused to unit-bound roles before any lookup):
        # compared as shared kinds, like the admin's webhooks.
        "hold_id": [hold["id"]],
        "batch_id": [missing_id()],
        "share_id": [share["share"]["id"]],
        # Admin-only operations, compared as shared kinds: the guard refuses a unit-bound role before
        # any lookup, so no delivery need exist for the probe.
        "delivery_id": [missing_id()],
        "training_id": [training["id"]],
        "token": [card["token"]],
        "revoked_card": [revoked["id"]],  # not a path parameter: a row of the list still to recall
        "unit_id": [town.unit],
        "user_id": [town.users["officer"]],
        "item_id": [world.item],
        # The catalogue's delegations are the admin's (admin writes; refused to every other role
        # before any lookup): compared as shared kinds, under the shared item.
        "delegation_id": [town.delegation],
        "action_id": [action["id"]],
        "case_id": [case["id"]],
        "publication_id": [published["id"]],
        "evidence_id": [
            action_evidence["id"],
            case_evidence["id"],
            answered["evidence_id"],
            attachment["id"],
            proof["id"],
        ],
        # not a path parameter: what the department that delegated the item reads of this town
        "overseen": [
            action["id"],
            case["id"],
            action_evidence["id"],
            case_evidence["id"],
            *(r["id"] for r in rendered),
        ],
        "video_evidence_id": [rendered[0]["id"]],  # not path parameters: see OBJECTS_FOR in the matrix
        "pdf_evidence_id": [rendered[1]["id"]],
        "check_id": [check["id"], invited_check["id"]],
        "alert_id": [alert["id"]],
        "upload_id": [upload.headers["Location"].rstrip("/").rsplit("/", 1)[-1]],
        "invitation_id": [invitation["invitation"]["id"]],
        "nomination_id": [nomination["id"]],
        "document_id": [draft["id"]],
        "task_id": [assigned["id"], unit_task["id"]],
        "channel_item_id": [report["id"], lawsuit["id"], petition["id"]],
        "outcome_id": [judged["outcomes"][0]["id"]],
        "transfer_id": [transfer["id"]],
        "point_id": [point["id"]],
        "year": [YEAR],
    }


def missing_id() -> str:
    return str(uuid.uuid4())
