"""Liveness and readiness probes (outside /api/v1)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from piccolo.querystring import QueryString

from backend.db import current_engine
from backend.evidence.renditions import font_problem
from backend.lib.deps import AppSettings, Channels, Store
from backend.lib.errors import Errors, problem
from backend.live.channel import ChannelUnavailable
from backend.live.hub import LiveHub
from backend.retention.services import lock_problem
from media_store import MediaStoreUnavailable


@get("/healthz", exclude_from_auth=True, tags=["health"], summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/readyz",
    exclude_from_auth=True,
    tags=["health"],
    summary="Readiness: database, object store and its lock, channels; watermarks (degraded, still ready)",
)
async def readyz(store: Store, channels: Channels, hub: LiveHub, settings: AppSettings) -> Response[Any]:
    checks: dict[str, str] = {}
    try:
        await current_engine().run_querystring(QueryString("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means not ready
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await store.ping()
        checks["media"] = "ok"
        if store.supports_lock:  # the evidence bucket's object lock, as configured, not assumed
            lock = await lock_problem(store, settings)
            checks["object_lock"] = "ok" if lock is None else f"error: {lock}"
    except MediaStoreUnavailable as exc:
        checks["media"] = f"error: {exc}"
    try:
        await hub.check()  # Redis, when configured: the stream between processes
        checks["channels"] = "ok" if channels is not None else "error: not configured"
    except ChannelUnavailable as exc:
        checks["channels"] = f"error: {exc}"
    # Without a CJK font evidence is still recorded whole, only its watermarked copy waits for the
    # backfill: reported, but no reason to take the API out of service (docs/operations.md).
    missing_font = font_problem(settings)
    if all(v == "ok" for v in checks.values()):
        if missing_font is not None:
            checks["watermark"] = f"degraded: {missing_font}"
            return Response({"status": "degraded", "checks": checks})
        return Response({"status": "ready", "checks": {**checks, "watermark": "ok"}})
    checks["watermark"] = "ok" if missing_font is None else f"degraded: {missing_font}"
    return problem(
        Errors.UNAVAILABLE,
        "Not ready: a backing service is down.",
        checks=checks,
        headers={"Retry-After": "5"},
    )
