"""The command center's counters: today's actions, officers on duty, open alerts, overdue and
unanswered supervision documents.

Counts across domains, so it sits above them all."""

from __future__ import annotations

import uuid
from datetime import datetime, time

from backend.actions.tables import Action
from backend.alerts.tables import Alert
from backend.documents import services as documents
from backend.lib.auth import CurrentUser
from backend.lib.clock import BEIJING, utcnow
from backend.live.schemas import Summary
from backend.live.services import list_positions


async def summary(viewer: CurrentUser, on_duty_within_s: int = 900) -> Summary:
    now = utcnow()
    start_of_day = datetime.combine(now.astimezone(BEIJING).date(), time.min, tzinfo=BEIJING)
    actions = Action.count().where(Action.created_at >= start_of_day)
    alerts = Alert.count().where(Alert.status == "open")
    if not viewer.sees_everything:
        units = list(viewer.unit_ids) or [uuid.UUID(int=0)]
        actions = actions.where(Action.unit.is_in(units))
        alerts = alerts.where(Alert.unit_id.is_in(units))
    counted = await documents.counts(viewer)
    return Summary(
        actions_today=await actions,
        on_duty=len(await list_positions(viewer, on_duty_within_s)),
        open_alerts=await alerts,
        overdue_documents=counted.overdue,
        awaiting_documents=counted.awaiting,
        as_of=now,
    )
