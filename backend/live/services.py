"""Positions of officers on duty, and replay of missed live events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import msgspec

from backend.accounts.certificates import require_valid_certificate
from backend.lib.auth import CurrentUser
from backend.lib.clock import utcnow
from backend.lib.errors import AppError, Errors
from backend.live import schemas
from backend.live.publish import Publisher, encode_event
from backend.live.routing import INTERNAL_TYPES, Route
from backend.live.tables import LatestPosition, LiveEvent, Position

REPLAY_LIMIT = 1000


def _position(row: dict[str, Any]) -> schemas.OfficerPosition:
    return schemas.OfficerPosition(
        user_id=row["user_id"],
        display_name=row["display_name"],
        unit_ids=[uuid.UUID(u) for u in row["unit_ids"].split()],
        lat=row["lat"],
        lon=row["lon"],
        accuracy_m=row["accuracy_m"],
        at=row["at"],
        received_at=row["received_at"],
        sos_at=row["sos_at"],
    )


async def record_position(
    user: CurrentUser, data: schemas.PositionCreate, min_interval_s: int, events: Publisher
) -> schemas.OfficerPosition:
    """Going on duty and staying on it: every ping is an enforcement officer reporting for duty, so
    it needs a certificate valid now (an SOS is never refused: it does not come through here)."""
    await require_valid_certificate(user.id, name=user.display_name)
    now = utcnow()
    latest = (
        await LatestPosition.select(LatestPosition.received_at)
        .where(LatestPosition.user_id == user.id)
        .first()
    )
    if (
        min_interval_s > 0  # 0 is no limit: two concurrent pings may see each other as later
        and latest is not None
        and (now - latest["received_at"]).total_seconds() < min_interval_s
    ):
        wait = max(1, int(min_interval_s - (now - latest["received_at"]).total_seconds()))
        raise AppError(
            Errors.RATE_LIMITED, f"Send your position at most every {min_interval_s} s.", retry_after=wait
        ).with_headers(**{"Retry-After": str(wait)})
    if data.at > now + timedelta(minutes=5):
        raise AppError(
            Errors.VALIDATION,
            "'at' is in the future; check the phone's clock.",
            errors=[{"key": "at", "message": "in the future"}],
        )
    return await store_position(events, user, data.lat, data.lon, data.accuracy_m, data.at)


async def store_position(
    events: Publisher,
    user: CurrentUser,
    lat: float,
    lon: float,
    accuracy_m: float,
    at: datetime,
    sos_at: datetime | None = None,
) -> schemas.OfficerPosition:
    values = {
        "display_name": user.display_name,
        "unit_ids": " ".join(sorted(str(u) for u in user.unit_ids)),
        "lat": lat,
        "lon": lon,
        "accuracy_m": accuracy_m,
        "at": at,
        "received_at": utcnow(),
        "sos_at": sos_at,
    }
    await Position.insert(
        Position(id=uuid.uuid4(), user=user.id, lat=lat, lon=lon, accuracy_m=accuracy_m, at=at)
    ).run()
    await (
        LatestPosition.insert(LatestPosition.from_dict({"user_id": user.id, **values}))
        .on_conflict(
            target=LatestPosition.user_id,
            action="DO UPDATE",
            values=[getattr(LatestPosition, k) for k in values],
        )
        .run()
    )
    view = _position({"user_id": user.id, **values})
    units: list[uuid.UUID | None] = [*sorted(user.unit_ids)] or [None]  # no unit: the watchers of all
    for unit_id in units:
        await events.publish("position.updated", unit_id, view)
    return view


async def list_positions(viewer: CurrentUser, active_within_s: int) -> list[schemas.OfficerPosition]:
    since = utcnow() - timedelta(seconds=active_within_s)
    rows = (
        await LatestPosition.select()
        .where(LatestPosition.received_at >= since)
        .order_by(LatestPosition.display_name)
    )
    positions = [_position(r) for r in rows]
    if viewer.sees_everything:
        return positions
    if not viewer.has_any("officer", "legal_reviewer", "invited_supervisor"):
        raise AppError(Errors.FORBIDDEN, "Your role does not show officers' positions.")
    return [p for p in positions if viewer.unit_ids.intersection(p.unit_ids)]


async def last_event_id() -> int:
    row = await LiveEvent.select(LiveEvent.id).order_by(LiveEvent.id, ascending=False).first()
    return row["id"] if row else 0


async def replay(after: int) -> AsyncIterator[tuple[Route, str]]:
    """Events after ``after``, oldest first, at most REPLAY_LIMIT (a client further behind reloads)."""
    rows = await LiveEvent.select().where(LiveEvent.id > after).order_by(LiveEvent.id).limit(REPLAY_LIMIT)
    for row in rows:
        if row["type"] in INTERNAL_TYPES:  # stored by earlier releases; never a client's event
            continue
        route = Route(type=row["type"], seq=row["id"], unit_id=row["unit_id"], to=row["to_user"])
        text = encode_event(
            row["id"], row["type"], row["at"].isoformat(), row["unit_id"], msgspec.json.decode(row["data"])
        ).decode()
        yield route, text


async def prune(event_retention_s: int, position_retention_s: int) -> None:
    now = utcnow()
    await LiveEvent.delete().where(LiveEvent.at < now - timedelta(seconds=event_retention_s)).run()
    await Position.delete().where(Position.at < now - timedelta(seconds=position_retention_s)).run()
