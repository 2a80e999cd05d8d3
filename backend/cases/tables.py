from __future__ import annotations

from typing import TYPE_CHECKING

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LazyTableReference,
    Numeric,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

if TYPE_CHECKING:
    from backend.accounts.tables import User
    from backend.actions.tables import Action
    from backend.org.tables import Item, Unit


CASE_STATES = ("filed", "investigating", "review", "decided", "served", "closed", "transferred")


def _ref(name: str, module: str) -> LazyTableReference:
    return LazyTableReference(table_class_name=name, module_path=module)


class Case(Table, tablename="cases"):
    """案件. ``version`` increases with every change, so concurrent edits are detected."""

    id = UUID(primary_key=True)
    number = Varchar(length=40, unique=True)
    unit: ForeignKey[Unit] = ForeignKey(references=_ref("Unit", "backend.org.tables"), index=True)
    item: ForeignKey[Item] = ForeignKey(references=_ref("Item", "backend.org.tables"), index=True)
    status = Varchar(length=20, default="filed", index=True)
    version = Integer(default=1)
    summary = Text(default="")
    investigation = Text(default="")
    party_name = Varchar(length=100, null=True, default=None)
    party_type = Varchar(length=20, null=True, default=None)
    party_id_number = Varchar(length=40, null=True, default=None)
    amount_involved = Numeric(digits=(14, 2), null=True, default=None)
    proposed_fine = Numeric(digits=(14, 2), null=True, default=None)
    proposed_measures = JSON(default=[])
    decision = JSON(null=True, default=None)
    served_on = Date(null=True, default=None)
    serve_method = Varchar(length=40, null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    transfer = JSON(null=True, default=None)
    override = JSON(null=True, default=None)
    # 听证 (第六十四条): notified_on, requested_on, notice_on, hearing_on as ISO dates.
    hearing = JSON(null=True, default=None)
    # As on actions: the reversing outcome (确认违法 / 撤销 / 变更) from the channels domain, or null.
    reversal = JSON(null=True, default=None)
    # Set by the decision: the Beijing date it was taken, and whether it was a major case then (the
    # assessment's 法制审核率 counts major decisions; the rule itself lives in services.is_major).
    decided_on = Date(null=True, default=None)
    major = Boolean(default=False)
    created_by: ForeignKey[User] = ForeignKey(references=_ref("User", "backend.accounts.tables"))
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow())
    request_hash = Varchar(length=64)


class CaseAction(Table, tablename="case_actions"):
    id = UUID(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    action: ForeignKey[Action] = ForeignKey(references=_ref("Action", "backend.actions.tables"), index=True)


class CaseReview(Table, tablename="case_reviews"):
    """法制审核. An approval covers the case ``version`` it was given for, nothing later."""

    id = UUID(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    reviewer: ForeignKey[User] = ForeignKey(references=_ref("User", "backend.accounts.tables"))
    outcome = Varchar(length=20)
    opinion = Text()
    case_version = Integer()
    created_at = Timestamptz(default=TimestamptzNow())


CLOCK_KINDS = ("decision", "delivery", "hearing_request", "publication", "withdrawal")
CLOCK_STATES = ("running", "met", "stopped")


class CaseClock(Table, tablename="case_clocks"):
    """A statutory period on a case: from ``started_on``, ``days`` working or calendar days, due on
    ``due_on``. ``warned_at`` and ``overdue_at`` are set once, with the one alert each."""

    id = UUID(primary_key=True)
    case = ForeignKey(references=Case, index=True)
    unit = UUID(index=True)
    kind = Varchar(length=20)
    started_on = Date()
    days = Integer()
    working = Boolean(default=False)
    provisional = Boolean(default=False)
    due_on = Date(index=True)
    status = Varchar(length=10, default="running", index=True)
    met_on = Date(null=True, default=None)
    warned_at = Timestamptz(null=True, default=None)
    overdue_at = Timestamptz(null=True, default=None)
    extension = JSON(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
