from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import msgspec

from backend.lib.schema import ShortText, Strict


class Alert(msgspec.Struct):
    id: uuid.UUID
    type: str
    severity: str
    unit_id: uuid.UUID | None
    subject_user_id: uuid.UUID | None
    object_type: str | None
    object_id: str | None
    message: str
    data: dict[str, Any]
    status: str
    handled_by: uuid.UUID | None
    handled_at: datetime | None
    created_at: datetime


class AlertAck(Strict):
    status: Literal["acked", "resolved", "false_alarm"] = "acked"
    comment: ShortText | None = None
