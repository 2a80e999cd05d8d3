"""Responses on the wire: the app's text goes compressed (brotli where the client takes it, else
gzip), evidence bytes go as they are (byte ranges stay exact), versioned files are cached for good."""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli

from tests.conftest import World
from tests.integration.enforcement_helpers import record_action
from tests.integration.evidence.photos import phone_photo

PWA = Path(__file__).resolve().parents[2] / "pwa"


async def _raw(client, path: str, encoding: str | None, headers: dict[str, str] | None = None):
    """GET without letting the client undo the encoding: (response, bytes as sent)."""
    request = client.build_request(
        "GET", path, headers={**(headers or {}), **({"Accept-Encoding": encoding} if encoding else {})}
    )
    if encoding is None:
        request.headers["Accept-Encoding"] = "identity"
    response = await client.send(request, stream=True)
    body = b"".join([part async for part in response.aiter_raw()])
    await response.aclose()
    return response, body


async def test_shell_files_are_compressed_as_the_client_accepts(client) -> None:
    source = (PWA / "js" / "i18n.js").read_bytes()
    br, br_body = await _raw(client, "/js/i18n.js", "br, gzip")
    assert br.status_code == 200 and br.headers["content-encoding"] == "br"
    assert brotli.decompress(br_body) == source and len(br_body) < len(source) / 3
    assert "accept-encoding" in br.headers["vary"].lower()
    gz, gz_body = await _raw(client, "/js/i18n.js", "gzip")
    assert gz.headers["content-encoding"] == "gzip" and gzip.decompress(gz_body) == source
    plain, plain_body = await _raw(client, "/js/i18n.js", None)
    assert "content-encoding" not in plain.headers and plain_body == source
    # Shell files are revalidated (the service worker keeps them offline); versioned vendor files
    # never change under their URL.
    assert "no-cache" in br.headers["cache-control"]
    vendor, vendor_body = await _raw(client, "/vendor/leaflet-1.9.4/leaflet.js", "br")
    assert vendor.headers["content-encoding"] == "br"
    assert brotli.decompress(vendor_body) == (PWA / "vendor" / "leaflet-1.9.4" / "leaflet.js").read_bytes()
    cache = vendor.headers["cache-control"]
    assert "immutable" in cache and "max-age=31536000" in cache and "no-cache" not in cache
    missing, _ = await _raw(client, "/vendor/leaflet-1.9.4/nothing.js", "br")
    assert missing.status_code == 404


async def test_json_is_compressed_and_evidence_bytes_are_not(client, as_user, world: World) -> None:
    officer = await as_user("officer_a1")
    schema, schema_body = await _raw(client, "/schema/openapi.json", "br")
    assert schema.headers["content-encoding"] == "br" and brotli.decompress(schema_body).startswith(b"{")

    action = await record_action(client, officer, world)
    photo = phone_photo()
    stored = await client.post(
        f"/api/v1/actions/{action['id']}/evidence",
        content=photo,
        headers={**officer, "Content-Type": "image/jpeg"},
    )
    assert stored.status_code == 201, stored.text
    evidence = stored.json()
    original, body = await _raw(client, f"/api/v1/evidence/{evidence['id']}/content", "br, gzip", officer)
    assert original.status_code == 200 and "content-encoding" not in original.headers and body == photo
    part, part_body = await _raw(
        client, f"/api/v1/evidence/{evidence['id']}/content", "br, gzip", {**officer, "Range": "bytes=10-19"}
    )
    assert part.status_code == 206 and "content-encoding" not in part.headers and part_body == photo[10:20]
    thumb, _ = await _raw(client, f"/api/v1/evidence/{evidence['id']}/thumbnail", "br, gzip", officer)
    assert thumb.status_code == 200 and "content-encoding" not in thumb.headers
