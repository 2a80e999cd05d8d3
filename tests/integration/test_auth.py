from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backend.app import create_app
from backend.lib.auth import TokenService
from tests.conftest import PASSWORD, World, assert_problem, login, make_settings, serve, unique


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_login_returns_token_pair_and_user(client, world: World) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"username": world.username("officer_a1"), "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert body["user"]["username"] == world.username("officer_a1")
    assert body["user"]["roles"] == ["officer"]
    assert [u["id"] for u in body["user"]["units"]] == [str(world.town_a)]
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA" and header["typ"] == "at+jwt" and header["kid"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == "fieldwatch" and claims["aud"] == "fieldwatch-api"
    assert claims["sub"] == str(world.users["officer_a1"])
    assert 0 < claims["exp"] - claims["iat"] <= 900
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == str(world.users["officer_a1"])


async def test_wrong_password_and_unknown_user_look_the_same(client, world: World) -> None:
    wrong = await client.post(
        "/api/v1/auth/login", json={"username": world.username("officer_a2"), "password": "nope-nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"username": unique("ghost"), "password": "nope-nope"}
    )
    for response in (wrong, unknown):
        body = assert_problem(response, 401, "auth.invalid_credentials")
        assert "password" in body["detail"]
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_repeated_failures_lock_the_account_even_for_the_right_password(client, world: World) -> None:
    from backend.accounts import schemas, services

    user = await services.create_user(
        None,
        schemas.UserCreate(
            username=unique("lock"), password=PASSWORD, display_name="锁定", roles=["officer"]
        ),
    )
    for _ in range(5):
        response = await client.post(
            "/api/v1/auth/login", json={"username": user.username, "password": "bad-guess"}
        )
    body = assert_problem(response, 429, "auth.locked")
    assert int(response.headers["retry-after"]) > 0 and body["retry_after"] > 0
    still = await client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD})
    assert_problem(still, 429, "auth.locked")


async def test_login_rejects_unknown_fields_and_overlong_input(client, world: World) -> None:
    extra = await client.post(
        "/api/v1/auth/login",
        json={"username": world.username("officer_a1"), "password": PASSWORD, "remember": True},
    )
    body = assert_problem(extra, 400, "validation.failed")
    assert "remember" in json.dumps(body)
    long = await client.post("/api/v1/auth/login", json={"username": "x" * 65, "password": PASSWORD})
    assert_problem(long, 400, "validation.failed")
    garbage = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert "malformed" in assert_problem(garbage, 400, "request.bad")["detail"]


async def test_missing_malformed_and_garbage_tokens_are_401(client) -> None:
    assert_problem(await client.get("/api/v1/me"), 401, "auth.required")
    for value in ("Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Bearer a.b.c", "Bearer " + "x" * 5000):
        response = await client.get("/api/v1/me", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_forged_alg_none_confused_and_expired_tokens_are_rejected(client, world: World) -> None:
    tokens = TokenService.for_settings(make_settings())
    ring = tokens.keyring
    user_id = str(world.users["officer_a1"])
    good = (await login(client, world.username("officer_a1")))["Authorization"].split()[1]
    sid = jwt.decode(good, options={"verify_signature": False})["sid"]
    now = datetime.now(UTC)
    claims = {
        "iss": "fieldwatch",
        "aud": "fieldwatch-api",
        "sub": user_id,
        "sid": sid,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
    }
    headers = {"kid": ring.signing_kid, "typ": "at+jwt"}
    forged = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers=headers)
    payload = {
        **claims,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    alg_none = f"{_b64({'alg': 'none', 'typ': 'at+jwt', 'kid': ring.signing_kid})}.{_b64(payload)}."
    from cryptography.hazmat.primitives import serialization

    public_pem = ring.public_keys[ring.signing_kid].public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    import hashlib
    import hmac

    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'at+jwt', 'kid': ring.signing_kid})}.{_b64(payload)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    confused = f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    expired = jwt.encode(
        {
            **claims,
            "exp": now - timedelta(minutes=1),
            "iat": now - timedelta(minutes=20),
            "nbf": now - timedelta(minutes=20),
        },
        ring.signing_key,
        algorithm="EdDSA",
        headers=headers,
    )
    wrong_aud = jwt.encode(
        {**claims, "aud": "other-api"}, ring.signing_key, algorithm="EdDSA", headers=headers
    )
    wrong_typ = jwt.encode(claims, ring.signing_key, algorithm="EdDSA", headers={**headers, "typ": "JWT"})
    unknown_kid = jwt.encode(claims, ring.signing_key, algorithm="EdDSA", headers={**headers, "kid": "nope"})
    for name, token in (
        ("forged", forged),
        ("alg none", alg_none),
        ("HS256 confusion", confused),
        ("expired", expired),
        ("wrong aud", wrong_aud),
        ("wrong typ", wrong_typ),
        ("unknown kid", unknown_kid),
    ):
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert_problem(response, 401, "auth.invalid_token")
        assert response.json()["status"] == 401, name
    # The genuine token from the same session still works: the refusals were about the tokens.
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"})).status_code == 200


async def test_refresh_rotates_and_reuse_revokes_the_session(client, world: World) -> None:
    first = (
        await client.post(
            "/api/v1/auth/login", json={"username": world.username("officer_a2"), "password": PASSWORD}
        )
    ).json()
    second = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"] and pair["access_token"] != first["access_token"]
    assert (
        await client.get("/api/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    ).is_success
    # The old refresh token presented again: a thief or a replay. The whole session ends.
    replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_problem(replay, 401, "auth.refresh_reused")
    assert_problem(
        await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}),
        401,
        "auth.refresh_invalid",
    )
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert_problem(me, 401, "auth.invalid_token")
    assert_problem(
        await client.post("/api/v1/auth/refresh", json={"refresh_token": "made-up"}),
        401,
        "auth.refresh_invalid",
    )


async def test_logout_ends_access_and_refresh(client, world: World) -> None:
    pair = (
        await client.post(
            "/api/v1/auth/login", json={"username": world.username("reviewer_a"), "password": PASSWORD}
        )
    ).json()
    auth = {"Authorization": f"Bearer {pair['access_token']}"}
    assert (await client.post("/api/v1/auth/logout", headers=auth)).status_code == 204
    assert_problem(await client.get("/api/v1/me", headers=auth), 401, "auth.invalid_token")
    assert_problem(
        await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}),
        401,
        "auth.refresh_invalid",
    )


async def test_disabling_an_account_ends_its_sessions(client, world: World) -> None:
    from backend.accounts import schemas, services

    user = await services.create_user(
        None,
        schemas.UserCreate(
            username=unique("gone"), password=PASSWORD, display_name="离职", roles=["liaison"]
        ),
    )
    auth = await login(client, user.username)
    admin = await login(client, world.username("admin"))
    response = await client.patch(f"/api/v1/users/{user.id}", json={"active": False}, headers=admin)
    assert response.status_code == 200 and response.json()["active"] is False
    assert_problem(await client.get("/api/v1/me", headers=auth), 401, "auth.invalid_token")
    again = await client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD})
    assert_problem(again, 401, "auth.account_disabled")


async def test_tokens_survive_a_key_rotation(migrated) -> None:
    from backend.lib.keys import rotate

    settings = make_settings()
    app = create_app(settings)
    async with serve(app) as client:
        from backend.accounts import schemas, services

        user = await services.create_user(
            None,
            schemas.UserCreate(
                username=unique("rot"), password=PASSWORD, display_name="轮换", roles=["command"]
            ),
        )
        old = await login(client, user.username)
    new_kid = rotate(settings.keys_dir)
    rotated = create_app(settings)
    async with serve(rotated) as client:
        assert (await client.get("/api/v1/me", headers=old)).status_code == 200
        fresh = await login(client, user.username)
        assert jwt.get_unverified_header(fresh["Authorization"].split()[1])["kid"] == new_kid
    _ = uuid


async def test_a_change_of_units_applies_to_the_next_request(client, as_user, world: World) -> None:
    """The signed-in user's units are read with the session on every request, never kept."""
    from backend.accounts import schemas, services
    from tests.integration.enforcement_helpers import record_action

    action = await record_action(client, await as_user("officer_a1"), world)
    user = await services.create_user(
        None,
        schemas.UserCreate(
            username=unique("moved"),
            password=PASSWORD,
            display_name="调动",
            roles=["legal_reviewer"],
            unit_ids=[world.town_a, world.town_b],
        ),
    )
    auth = await login(client, user.username)
    assert (await client.get(f"/api/v1/actions/{action['id']}", headers=auth)).status_code == 200
    admin = await login(client, world.username("admin"))
    moved = {"unit_ids": [str(world.town_b)]}
    assert (await client.patch(f"/api/v1/users/{user.id}", json=moved, headers=admin)).status_code == 200
    assert_problem(await client.get(f"/api/v1/actions/{action['id']}", headers=auth), 404, "not_found")
    removed = await client.patch(f"/api/v1/users/{user.id}", json={"unit_ids": []}, headers=admin)
    assert removed.status_code == 200
    assert (await client.get("/api/v1/actions", headers=auth)).json()["items"] == []


async def test_options_lists_the_methods_without_a_token_even_where_roles_are_required(client) -> None:
    # Role-guarded controllers (alerts, audit, summary) once answered OPTIONS with a 500.
    for path, methods in (
        ("/api/v1/alerts", {"GET", "OPTIONS"}),
        ("/api/v1/audit", {"GET", "OPTIONS"}),
        ("/api/v1/audit/verify", {"GET", "POST", "OPTIONS"}),
        ("/api/v1/summary", {"GET", "OPTIONS"}),
        ("/api/v1/actions", {"GET", "POST", "OPTIONS"}),
    ):
        response = await client.options(path)
        assert response.status_code == 204, (path, response.text)
        assert {m.strip() for m in response.headers["allow"].split(",")} == methods, path
        assert not response.content
    assert_problem(await client.get("/api/v1/alerts"), 401, "auth.required")


async def test_a_role_guard_still_refuses_other_roles(client, as_user) -> None:
    officer = await as_user("officer_a1")
    assert_problem(await client.get("/api/v1/audit", headers=officer), 403, "auth.forbidden")
    assert_problem(await client.get("/api/v1/alerts", headers=officer), 403, "auth.forbidden")


async def test_a_json_body_nested_past_the_decoders_depth_is_a_400(client, as_user) -> None:
    # The decoder's RecursionError once passed through as a 500.
    deep = {"content": b"[" * 5000 + b"]" * 5000, "headers": {"content-type": "application/json"}}
    officer = await as_user("officer_a1")
    for response in (
        await client.post("/api/v1/auth/login", **deep),
        await client.post("/api/v1/actions", content=deep["content"], headers={**deep["headers"], **officer}),
    ):
        assert "nested too deeply" in assert_problem(response, 400, "request.bad")["detail"]
