from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

from backend.lib.schema import LongText, Strict

Visible = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=r"\S")]
MAX_DAYS = 30  # the longest a link may live


class ShareCreate(Strict):
    """Either chosen evidence or a whole case file (the case's and its actions' evidence)."""

    recipient: Visible
    organisation: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
    purpose: Literal["court", "procuratorate", "reconsideration", "other"]
    evidence_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=500)] = []
    case_id: uuid.UUID | None = None
    days: Annotated[int, msgspec.Meta(ge=1, le=MAX_DAYS)] | None = None  # default: the setting (7)
    require_code: bool = False
    note: LongText = ""


class ShareRevoke(Strict):
    reason: Reason


class ShareOpen(Strict):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    code: Annotated[str, msgspec.Meta(max_length=20)] | None = None
