"""Alerts: persisted first, then streamed, so nothing shown live is missing from the history."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from backend.alerts import schemas
from backend.alerts.tables import Alert
from backend.audit import services as audit
from backend.db import atomic, json_value
from backend.lib.auth import CurrentUser
from backend.lib.clock import utcnow
from backend.lib.errors import AppError, Errors
from backend.lib.pagination import Page, newest_first_after, time_cursor
from backend.live.publish import Publisher
from backend.live.schemas import SosCreate
from backend.live.services import store_position


def _view(row: dict[str, Any]) -> schemas.Alert:
    data = row["data"]
    return schemas.Alert(
        id=row["id"],
        type=row["type"],
        severity=row["severity"],
        unit_id=row["unit_id"],
        subject_user_id=row["subject_user_id"],
        object_type=row["object_type"],
        object_id=row["object_id"],
        message=row["message"],
        data=json_value(data, {}),
        status=row["status"],
        handled_by=row["handled_by"],
        handled_at=row["handled_at"],
        created_at=row["created_at"],
    )


async def record_alert(
    type_: str,
    message: str,
    *,
    severity: str = "medium",
    unit_id: uuid.UUID | None = None,
    subject_user_id: uuid.UUID | None = None,
    object_type: str | None = None,
    object_id: uuid.UUID | str | None = None,
    data: dict[str, Any] | None = None,
) -> schemas.Alert:
    """Insert an alert inside the caller's transaction (announce it after the commit)."""
    alert_id = uuid.uuid4()
    async with atomic():
        await Alert.insert(
            Alert(
                id=alert_id,
                type=type_,
                severity=severity,
                unit_id=unit_id,
                subject_user_id=subject_user_id,
                object_type=object_type,
                object_id=str(object_id) if object_id else None,
                message=message,
                data=data or {},
            )
        ).run()
        await audit.record(None, "alert.raised", "alert", alert_id, {"type": type_, "message": message})
        row = await Alert.select().where(Alert.id == alert_id).first()
    assert row is not None
    return _view(row)


async def announce(events: Publisher, alert: schemas.Alert) -> None:
    await events.publish("alert.raised", alert.unit_id, _event(alert))


async def raise_alert(events: Publisher, type_: str, message: str, **fields: Any) -> schemas.Alert:
    """Record an alert in its own transaction (it must outlive a refused request), then stream it."""
    alert = await record_alert(type_, message, **fields)
    await announce(events, alert)
    return alert


def _event(view: schemas.Alert) -> dict[str, Any]:
    return msgspec.to_builtins(view)


def _scoped(query: Any, viewer: CurrentUser) -> Any:
    if viewer.sees_everything:
        return query
    return query.where(Alert.unit_id.is_in(list(viewer.unit_ids) or [uuid.UUID(int=0)]))


async def list_alerts(
    viewer: CurrentUser, cursor: str | None, limit: int, status: str | None, type_: str | None
) -> Page[schemas.Alert]:
    query = _scoped(
        Alert.select()
        .order_by(Alert.created_at, ascending=False)
        .order_by(Alert.id, ascending=False)
        .limit(limit + 1),
        viewer,
    )
    if status:
        query = query.where(Alert.status == status)
    if type_:
        query = query.where(Alert.type == type_)
    after = newest_first_after(Alert.created_at, Alert.id, cursor)
    if after is not None:
        query = query.where(after)
    rows = await query
    items = [_view(r) for r in rows[:limit]]
    next_cursor = time_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def handle(
    viewer: CurrentUser, alert_id: uuid.UUID, data: schemas.AlertAck, events: Publisher
) -> schemas.Alert:
    row = await _scoped(Alert.select(), viewer).where(Alert.id == alert_id).first()
    if row is None:
        raise AppError(Errors.NOT_FOUND, "No such alert.")
    async with atomic():
        await (
            Alert.update({Alert.status: data.status, Alert.handled_by: viewer.id, Alert.handled_at: utcnow()})
            .where(Alert.id == alert_id)
            .run()
        )
        await audit.record(
            viewer, "alert.handled", "alert", alert_id, {"status": data.status, "comment": data.comment}
        )
    view = _view(await Alert.select().where(Alert.id == alert_id).first())  # type: ignore[arg-type]
    await events.publish("alert.acked", view.unit_id, _event(view))
    return view


# --- SOS ---------------------------------------------------------------------------------------


async def sos(user: CurrentUser, data: SosCreate, events: Publisher) -> dict[str, Any]:
    """An officer's panic button: an alert for each of their units, and their position if sent."""
    where = (
        f" at {data.lat:.5f},{data.lon:.5f} (±{data.accuracy_m or 0:.0f} m)" if data.lat is not None else ""
    )
    # The position first: a screen that recounts on the alert must already find the officer on duty.
    if data.lat is not None and data.lon is not None:
        now = utcnow()
        await store_position(events, user, data.lat, data.lon, data.accuracy_m or 0.0, now, sos_at=now)
    alert = None
    units: list[uuid.UUID | None] = [*sorted(user.unit_ids)] or [None]
    for unit_id in units:
        alert = await raise_alert(
            events,
            "officer.sos",
            f"SOS from {user.display_name}{where}",
            severity="high",
            unit_id=unit_id,
            subject_user_id=user.id,
            object_type="user",
            object_id=user.id,
            data={
                "lat": data.lat,
                "lon": data.lon,
                "accuracy_m": data.accuracy_m,
                "note": data.note,
                "officer_name": user.display_name,
            },
        )
    assert alert is not None
    return msgspec.to_builtins(alert)
