"""The certificate as a state machine (valid, suspended, revoked, expired, lost → re-issued), its
history and the recall of the card, and the public check a citizen makes from the card's QR."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

from backend.accounts.tables import Certificate, CertificateEvent
from backend.app import create_app
from backend.lib.clock import today_local
from tests.conftest import PASSWORD, World, assert_problem, login, make_settings, serve, unique

U = "/api/v1/users"


async def _officer(client, world: World, field: str = "综合行政执法") -> tuple[str, str, str]:
    """A town-A officer with a valid certificate: (user id, username, certificate number)."""
    admin = await login(client, world.username("admin"))
    username = unique("life")
    created = await client.post(
        U,
        json={
            "username": username,
            "password": PASSWORD,
            "display_name": "王执法",
            "roles": ["officer"],
            "unit_ids": [str(world.town_a)],
            "phone": "13900001111",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    number = unique("NC")
    today = today_local()
    put = await client.put(
        f"{U}/{user_id}/certificate",
        json={
            "number": number,
            "issued_on": str(today - timedelta(days=30)),
            "expires_on": str(today + timedelta(days=700)),
            "field": field,
        },
        headers=admin,
    )
    assert put.status_code == 200 and put.json()["status"] == "valid", put.text
    return user_id, username, number


async def test_suspend_reinstate_revoke_recall_with_history(client, as_user, world: World) -> None:
    user_id, username, number = await _officer(client, world)
    supervisor = await as_user("supervisor")
    url = f"{U}/{user_id}/certificate"
    suspended = await client.post(f"{url}/suspend", json={"reason": "停职审查"}, headers=supervisor)
    assert suspended.status_code == 200, suspended.text
    body = suspended.json()
    assert body["status"] == "suspended" and body["status_label"] == "已暂停"
    assert body["status_reason"] == "停职审查" and body["status_on"] == str(today_local())
    # suspended → suspended is not a change the machine knows
    again = assert_problem(
        await client.post(f"{url}/suspend", json={"reason": "再次"}, headers=supervisor),
        409,
        "certificate.invalid_transition",
    )
    assert again["status_now"] == "suspended" and again["allowed_from"] == ["valid"]
    back = await client.post(f"{url}/reinstate", json={"reason": "审查结束"}, headers=supervisor)
    assert back.status_code == 200 and back.json()["status"] == "valid"
    # a card that is valid is not "recalled"
    assert_problem(
        await client.post(f"{url}/recall", json={"received_by": "李科长"}, headers=supervisor),
        409,
        "certificate.invalid_transition",
    )
    day = today_local() - timedelta(days=2)
    revoked = await client.post(
        f"{url}/revoke", json={"reason": "年度考核不合格", "effective_on": str(day)}, headers=supervisor
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked" and revoked.json()["status_on"] == str(day)
    assert_problem(
        await client.post(f"{url}/revoke", json={"reason": "再注销"}, headers=supervisor),
        409,
        "certificate.invalid_transition",
    )
    assert_problem(
        await client.post(f"{url}/reinstate", json={"reason": "恢复"}, headers=supervisor),
        409,
        "certificate.invalid_transition",
    )
    # the revoked card is on the list to recall until it is handed back
    pending = (await client.get("/api/v1/certificates/unrecalled", headers=supervisor)).json()
    assert [c for c in pending if c["user_id"] == user_id] == [
        {
            "user_id": user_id,
            "display_name": "王执法",
            "number": number,
            "revoked_on": str(day),
            "reason": "年度考核不合格",
        }
    ]
    officer = await login(client, username)
    assert_problem(
        await client.get("/api/v1/certificates/unrecalled", headers=officer), 403, "auth.forbidden"
    )
    recalled = await client.post(
        f"{url}/recall", json={"received_by": "李科长", "recalled_on": str(today_local())}, headers=supervisor
    )
    assert recalled.status_code == 200, recalled.text
    assert recalled.json()["recalled_on"] == str(today_local())
    assert recalled.json()["recalled_received_by"] == "李科长"
    assert_problem(
        await client.post(f"{url}/recall", json={"received_by": "李科长"}, headers=supervisor),
        409,
        "certificate.invalid_transition",
    )
    pending = (await client.get("/api/v1/certificates/unrecalled", headers=supervisor)).json()
    assert user_id not in {c["user_id"] for c in pending}
    # the officer reads their own history, newest first
    history = (await client.get(f"{url}/history", headers=officer)).json()
    assert [(h["change"], h["from_status"], h["to_status"]) for h in history] == [
        ("recalled", "revoked", "revoked"),
        ("revoked", "valid", "revoked"),
        ("reinstated", "suspended", "valid"),
        ("suspended", "valid", "suspended"),
        ("issued", None, "valid"),
    ]
    assert history[1]["reason"] == "年度考核不合格" and history[1]["effective_on"] == str(day)
    me = (await client.get("/api/v1/me", headers=officer)).json()["certificate"]
    assert me["status"] == "revoked" and me["status_label"] == "已注销"
    audit = await client.get(f"/api/v1/audit?object_id={user_id}", headers=supervisor)
    actions = [e["action"] for e in audit.json()["items"] if e["action"].startswith("certificate.")]
    assert actions == [
        "certificate.recalled",
        "certificate.revoked",
        "certificate.reinstated",
        "certificate.suspended",
        "certificate.set",
    ]


async def test_bad_changes_change_nothing(client, as_user, world: World) -> None:
    user_id, _, _ = await _officer(client, world)
    supervisor = await as_user("supervisor")
    url = f"{U}/{user_id}/certificate"
    before = await CertificateEvent.count().where(CertificateEvent.user == uuid.UUID(user_id))
    future = str(today_local() + timedelta(days=3))
    assert_problem(
        await client.post(
            f"{url}/suspend", json={"reason": "停职", "effective_on": future}, headers=supervisor
        ),
        400,
        "validation.failed",
    )
    assert_problem(
        await client.post(
            f"{url}/reissue",
            json={"number": unique("N"), "issued_on": "2026-01-01", "expires_on": "2030-01-01"},
            headers=supervisor,
        ),
        409,
        "certificate.invalid_transition",
    )
    assert_problem(
        await client.post(f"{url}/suspend", json={"reason": "x"}, headers=supervisor),
        400,
        "validation.failed",
    )
    officer_b = await as_user("officer_b1")
    assert_problem(
        await client.post(f"{url}/suspend", json={"reason": "停职审查"}, headers=officer_b),
        403,
        "auth.forbidden",
    )
    for other in ("officer_b1", "officer_a1"):  # another township's officer; a colleague
        assert_problem(await client.get(f"{url}/history", headers=await as_user(other)), 404, "not_found")
    row = await Certificate.select(Certificate.status).where(Certificate.user == uuid.UUID(user_id)).first()
    assert row == {"status": "valid"}
    assert await CertificateEvent.count().where(CertificateEvent.user == uuid.UUID(user_id)) == before


async def test_lost_card_is_reissued_and_the_old_qr_shows_it_replaced(client, as_user, world: World) -> None:
    user_id, username, number = await _officer(client, world)
    supervisor = await as_user("supervisor")
    officer = await login(client, username)
    url = f"{U}/{user_id}/certificate"
    old = (await client.get(f"{url}/qr", headers=officer)).json()
    assert old["url"].endswith(f"/c/{old['token']}") and old["svg"].startswith("<svg")
    lost = await client.post(f"{url}/lost", json={"reason": "外勤时遗失"}, headers=supervisor)
    assert (
        lost.status_code == 200
        and lost.json()["status"] == "lost"
        and lost.json()["status_label"] == "已挂失"
    )
    page = await client.get(f"/c/{old['token']}")
    assert page.status_code == 200 and "已挂失" in page.text
    new_number = unique("NC")
    today = today_local()
    reissued = await client.post(
        f"{url}/reissue",
        json={"number": new_number, "issued_on": str(today), "expires_on": str(today + timedelta(days=1000))},
        headers=supervisor,
    )
    assert reissued.status_code == 200, reissued.text
    assert reissued.json()["status"] == "valid" and reissued.json()["number"] == new_number
    stale = await client.get(f"/c/{old['token']}")
    assert stale.status_code == 200 and "已作废" in stale.text and number in stale.text
    new = (await client.get(f"{url}/qr", headers=officer)).json()
    assert new["token"] != old["token"]
    fresh = await client.get(f"/c/{new['token']}")
    assert "有效" in fresh.text and new_number in fresh.text


async def test_the_public_page_shows_live_status_and_no_personal_data(client, as_user, world: World) -> None:
    user_id, username, number = await _officer(client, world, field="市场监管")
    officer = await login(client, username)
    qr = (await client.get(f"{U}/{user_id}/certificate/qr", headers=officer)).json()
    page = await client.get(f"/c/{qr['token']}")  # no sign-in
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "王执法" in text and number in text and "市场监管" in text and ">有效<" in text
    assert "13900001111" not in text and "<script" not in text
    assert len(page.content) < 4096, len(page.content)
    assert "script-src" not in page.headers["content-security-policy"]
    data = (await client.get(f"/api/v1/public/certificates/{qr['token']}")).json()
    assert data["status"] == "valid" and data["name"] == "王执法" and data["number"] == number
    assert set(data) == {
        "name",
        "units",
        "number",
        "field",
        "issued_on",
        "expires_on",
        "status",
        "status_label",
        "checked_at",
    }
    # revoked: the same QR shows it at once
    supervisor = await as_user("supervisor")
    await client.post(
        f"{U}/{user_id}/certificate/revoke", json={"reason": "年度考核不合格"}, headers=supervisor
    )
    assert ">已注销<" in (await client.get(f"/c/{qr['token']}")).text
    # expired
    await (
        Certificate.update(
            {Certificate.status: "valid", Certificate.expires_on: today_local() - timedelta(days=1)}
        )
        .where(Certificate.user == uuid.UUID(user_id))
        .run()
    )
    assert ">已过期<" in (await client.get(f"/c/{qr['token']}")).text
    # another user may not fetch this officer's QR (it is not theirs to print)
    other = await as_user("officer_a2")
    assert_problem(await client.get(f"{U}/{user_id}/certificate/qr", headers=other), 404, "not_found")


async def test_forged_and_tampered_tokens_are_refused(client, as_user, world: World) -> None:
    user_id, username, _ = await _officer(client, world)
    token = (await client.get(f"{U}/{user_id}/certificate/qr", headers=await login(client, username))).json()[
        "token"
    ]
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    flipped = bytes([raw[0] ^ 1]) + raw[1:]  # another certificate id, same tag
    tampered = base64.urlsafe_b64encode(flipped).rstrip(b"=").decode()
    guessed_id = base64.urlsafe_b64encode(uuid.uuid4().bytes + b"NC-1" + b"\0" * 16).rstrip(b"=").decode()
    for bad in (tampered, guessed_id, token[:-2], "1", "not-base64!!", "%E4%BD%A0"):
        page = await client.get(f"/c/{bad}")
        assert page.status_code == 404 and "无法核验" in page.text, bad
        api = await client.get(f"/api/v1/public/certificates/{bad}")
        assert_problem(api, 404, "certificate.token_invalid")


async def test_the_public_check_is_rate_limited_per_client(client, world: World) -> None:
    async with serve(create_app(make_settings(public_check_rate_per_minute=3))) as limited:
        codes = [(await limited.get("/c/forged-token-x")).status_code for _ in range(4)]
        assert codes == [404, 404, 404, 429]
        # the JSON check shares the window
        refused = await limited.get("/api/v1/public/certificates/forged")
        assert refused.status_code == 429 and int(refused.headers["ratelimit-reset"]) > 0
