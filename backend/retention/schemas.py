from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

from backend.lib.schema import Strict

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class RuleChange(Strict):
    subject: Literal["case_closed", "action", "spot_check", "supervision"]
    years: Annotated[int, msgspec.Meta(ge=1, le=100)]
    kind: Literal["photo", "video", "audio", "document", "*"] = "*"


class RulesUpdate(Strict):
    rules: Annotated[list[RuleChange], msgspec.Meta(min_length=1, max_length=40)]


class HoldCreate(Strict):
    object_type: Literal["evidence", "case", "action"]
    object_id: uuid.UUID
    reason: Reason


class HoldRelease(Strict):
    reason: Reason


class DisposalCreate(Strict):
    evidence_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=500)]
    reason: Reason
