"""Security headers on every response: successes, refusals, the schema, probes and the PWA."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import World

COMMON = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


def assert_hardened(response, csp_start: str) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (response.request.url, name, dict(response.headers))
    assert response.headers["content-security-policy"].startswith(csp_start), response.request.url
    assert "strict-transport-security" not in response.headers  # plain HTTP: HSTS would be ignored


async def test_api_answers_and_refusals_carry_the_headers(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    responses = [
        await client.get("/api/v1/me", headers=officer),  # 200
        await client.get("/api/v1/me"),  # 401 from the auth middleware
        await client.get(f"/api/v1/actions/{uuid.uuid4()}", headers=officer),  # 404 from a service
        await client.get("/api/v1/nothing-here", headers=officer),  # 404 from the router
        await client.get("/api/v1/audit", headers=officer),  # 403 from a guard
        await client.post("/api/v1/auth/login", json={"username": 1}),  # 400 from validation
        await client.get("/healthz"),
        await client.get("/readyz"),
        await client.get("/schema/openapi.json"),
    ]
    assert [r.status_code for r in responses] == [200, 401, 404, 404, 403, 400, 200, 200, 200]
    for response in responses:
        assert_hardened(response, "default-src 'none'")


async def test_the_pwa_may_open_sockets_to_its_own_origin_only(client) -> None:
    for path in ("/", "/sw.js", "/no-such-file.js"):
        response = await client.get(path)
        assert_hardened(response, "default-src 'self'")
        policy = dict(
            part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";")
        )
        assert policy["connect-src"] == "'self'", policy
        assert policy["frame-ancestors"] == "'none'" and policy["script-src"] == "'self'"


@pytest.mark.parametrize("path", ["/api/v1/me", "/healthz", "/"])
async def test_hsts_behind_a_proxy_that_terminates_https(client, path: str) -> None:
    behind = await client.get(path, headers={"X-Forwarded-Proto": "https"})
    assert behind.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    plain = await client.get(path, headers={"X-Forwarded-Proto": "http"})
    assert "strict-transport-security" not in plain.headers


async def test_the_schema_viewer_gets_a_policy_of_its_own(client) -> None:
    # The interactive schema page needs a wider policy than the JSON documents.
    page = await client.get("/schema/swagger")
    assert page.status_code == 200
    assert "script-src 'self' 'unsafe-inline' https:" in page.headers["content-security-policy"]
