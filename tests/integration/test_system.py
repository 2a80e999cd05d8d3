"""Probes, the OpenAPI contract, and the PWA being served."""

from __future__ import annotations

import json
from pathlib import Path

from backend.app import create_app
from tests.conftest import World, assert_problem, login, make_settings, serve

FOUNDATION_PATHS = {
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/units"),
    ("post", "/api/v1/units"),
    ("get", "/api/v1/units/{unit_id}"),
    ("get", "/api/v1/items"),
    ("post", "/api/v1/items"),
    ("post", "/api/v1/items/{item_id}/delegations"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users/{user_id}"),
    ("patch", "/api/v1/users/{user_id}"),
    ("put", "/api/v1/users/{user_id}/certificate"),
    ("post", "/api/v1/users/{user_id}/certificate/revoke"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/audit/verify"),
    ("get", "/healthz"),
    ("get", "/readyz"),
}


async def test_probes(client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {
        "database": "ok",
        "media": "ok",
        "channels": "ok",
        "watermark": "ok",
    }


async def test_readyz_reports_a_broken_object_store(migrated, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    app = create_app(make_settings(media_url=f"file://{blocker}/media"))
    async with serve(app) as client:
        response = await client.get("/readyz")
        body = assert_problem(response, 503, "service.unavailable")
        assert body["checks"]["database"] == "ok" and body["checks"]["media"].startswith("error")
        assert response.headers["retry-after"]


async def test_openapi_lists_every_foundation_endpoint(client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["openapi"].startswith("3.1")
    present = {(method, path) for path, ops in schema["paths"].items() for method in ops}
    assert present >= FOUNDATION_PATHS, FOUNDATION_PATHS - present
    assert "BearerAuth" in schema["components"]["securitySchemes"]


async def test_unknown_api_path_and_method_are_problems(client, as_user) -> None:
    headers = await as_user("officer_a1")
    assert_problem(await client.get("/api/v1/nothing-here", headers=headers), 404, "not_found")
    assert_problem(await client.delete("/api/v1/me", headers=headers), 405, "request.method_not_allowed")


async def test_the_pwa_is_served_with_its_manifest_and_worker(client) -> None:
    index = await client.get("/")
    assert index.status_code == 200 and "text/html" in index.headers["content-type"]
    assert 'lang="zh-CN"' in index.text and "manifest.webmanifest" in index.text
    assert "default-src 'self'" in index.headers["content-security-policy"]
    worker = await client.get("/sw.js")
    assert worker.status_code == 200 and "no-cache" in worker.headers["cache-control"]
    assert "javascript" in worker.headers["content-type"]
    manifest = await client.get("/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    data = json.loads(manifest.text)
    for icon in data["icons"]:
        assert (await client.get(icon["src"])).status_code == 200
    api = await client.get("/healthz")
    assert api.headers["content-security-policy"].startswith("default-src 'none'")


async def test_the_map_tile_source_is_a_setting(world: World) -> None:
    cases = {("osm", ""): "tile.openstreetmap.org", ("tianditu", "abc123"): "tianditu.gov.cn"}
    for (tiles, key), host in cases.items():
        async with serve(create_app(make_settings(map_tiles=tiles, tianditu_key=key))) as c:
            headers = await login(c, world.username("command"))
            config = (await c.get("/api/v1/positions/map", headers=headers)).json()
            assert host in config["tiles"]["url"], config
            assert (key in config["tiles"]["url"]) if key else True
    # 天地图 without its key, or offline: no tiles, the map draws its grid.
    for tiles in ("tianditu", "offline"):
        async with serve(create_app(make_settings(map_tiles=tiles, tianditu_key=""))) as c:
            headers = await login(c, world.username("command"))
            assert (await c.get("/api/v1/positions/map", headers=headers)).json() == {"tiles": None}
            assert_problem(await c.get("/api/v1/positions/map"), 401, "auth.required")
