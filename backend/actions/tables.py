from __future__ import annotations

from typing import TYPE_CHECKING

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    LazyTableReference,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

if TYPE_CHECKING:
    from backend.accounts.tables import User
    from backend.org.tables import Item, Unit


# hearing: 听证; service_left: 留置送达 (a document left at the party's home, recorded on video).
ACTION_KINDS = ("inspection", "evidence", "service", "coercive", "hearing", "service_left", "other")


def _ref(name: str, module: str) -> LazyTableReference:
    return LazyTableReference(table_class_name=name, module_path=module)


class Action(Table, tablename="actions"):
    """现场执法记录. The id may be chosen by the phone, so a re-sent record is recognised."""

    id = UUID(primary_key=True)
    unit: ForeignKey[Unit] = ForeignKey(references=_ref("Unit", "backend.org.tables"), index=True)
    item: ForeignKey[Item] = ForeignKey(references=_ref("Item", "backend.org.tables"), index=True)
    kind = Varchar(length=20)
    occurred_at = Timestamptz()
    # All three null when the record was made without a GPS fix (未定位); the address says where.
    lat = DoublePrecision(null=True, default=None)
    lon = DoublePrecision(null=True, default=None)
    accuracy_m = DoublePrecision(null=True, default=None)
    address = Varchar(length=300, default="")
    party_name = Varchar(length=100, null=True, default=None)
    party_type = Varchar(length=20, null=True, default=None)
    party_id_number = Varchar(length=40, null=True, default=None)
    notes = Text(default="")
    status = Varchar(length=20, default="recorded")
    created_by: ForeignKey[User] = ForeignKey(references=_ref("User", "backend.accounts.tables"))
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    # SHA-256 of the canonical request, to tell a retry from a different record reusing an id.
    request_hash = Varchar(length=64)
    evidence_count = Integer(default=0)
    # 全过程记录: the act needs an audio or video file; when the first one arrived; when the one
    # alert for a missing recording was raised.
    recording_required = Boolean(default=False)
    recording_at = Timestamptz(null=True, default=None)
    recording_alerted_at = Timestamptz(null=True, default=None)
    # Set when a reconsideration or court outcome recorded in the channels domain confirmed the act
    # illegal, revoked or changed it: {outcome, decision_number, decided_on}; null while it stands.
    reversal = JSON(null=True, default=None)


class ActionOfficer(Table, tablename="action_officers"):
    id = UUID(primary_key=True)
    action: ForeignKey[Action] = ForeignKey(references=Action, index=True)
    officer: ForeignKey[User] = ForeignKey(references=_ref("User", "backend.accounts.tables"), index=True)
