"""Security headers on every HTTP response: API answers, errors, the schema, probes and the PWA.

A ``before_send`` hook of the app rather than ``after_request`` hooks, because those do not run for
responses made by exception handlers (a 401 or 404) nor for routes outside the API router
(``/schema``, ``/healthz``). A header a handler set itself is kept.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope

_COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(self), microphone=(self), geolocation=(self)"),
)
# The PWA's pages: only this origin's scripts, styles and sockets ('self' covers ws:/wss: of the same
# host). Images may come from object storage's short-lived links.
PWA_CSP = (
    "default-src 'self'; img-src 'self' data: blob: https:; media-src 'self' blob: https:; "
    "connect-src 'self'; style-src 'self'; script-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
# API answers are data, never a document to render.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The interactive schema viewers load their scripts from a CDN; the JSON/YAML documents need nothing.
_SCHEMA_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https:; style-src 'self' 'unsafe-inline' https:; "
    "img-src 'self' data: https:; font-src 'self' https: data:; connect-src 'self'; frame-ancestors 'none'"
)
HSTS = b"max-age=31536000; includeSubDomains"


def _csp_for(path: str) -> str:
    if path.startswith("/api/") or path in ("/healthz", "/readyz"):
        return API_CSP
    if path == "/schema" or path.startswith("/schema/"):
        return API_CSP if path.endswith((".json", ".yaml", ".yml")) else _SCHEMA_CSP
    return PWA_CSP


def _served_over_https(scope: Scope) -> bool:
    """HTTPS to the client, directly or behind a proxy that terminates it. A forged
    X-Forwarded-Proto over plain HTTP is harmless: browsers ignore HSTS received without TLS."""
    if scope.get("scheme") == "https":
        return True
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-proto":
            return value.split(b",")[0].strip().lower() == b"https"
    return False


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers") or ())
    message["headers"] = headers
    present = {name.lower() for name, _ in headers}
    extra = [*_COMMON, (b"content-security-policy", _csp_for(scope["path"]).encode())]
    if _served_over_https(scope):
        extra.append((b"strict-transport-security", HSTS))
    headers.extend(item for item in extra if item[0] not in present)


def allow_every_method(app: Litestar) -> None:
    """Make ``OPTIONS`` list every method of its path. Litestar builds the automatic OPTIONS answer
    for the first handlers registered at a path, so behind a nested router a path with GET and POST
    in separate handlers answered ``Allow: GET, OPTIONS``; the 405 answer already lists them all."""
    methods = {
        route.path_format: ", ".join(sorted(route.methods)).encode()
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }

    async def fix_allow(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
            return
        allow = methods.get(scope.get("path_template", ""))
        if allow is not None:
            headers = [(k, v) for k, v in message.get("headers") or () if k.lower() != b"allow"]
            message["headers"] = [*headers, (b"allow", allow)]

    app.before_send.append(fix_allow)
