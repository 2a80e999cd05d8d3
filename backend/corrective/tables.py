from piccolo.columns import JSON, UUID, Boolean, Date, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class CorrectiveAction(Table, tablename="corrective_actions"):
    """整改任务: who must correct what by when, the evidence it was done, closed by whoever opened it."""

    id = UUID(primary_key=True)
    title = Varchar(length=200)
    description = Text(default="")
    unit_id = UUID(index=True)
    assignee_user_id = UUID(null=True, default=None, index=True)  # an officer; otherwise the unit
    due_on = Date(null=True, default=None)
    due_provisional = Boolean(default=False)
    source_kind = Varchar(length=20, default="manual")  # manual | spot_check | document | case_file | meeting
    source_id = UUID(null=True, default=None, index=True)
    opened_by = UUID(index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # open → completed → closed; open → closed (withdrawn by its opener)
    status = Varchar(length=20, default="open", index=True)
    completed_by = UUID(null=True, default=None)
    completed_at = Timestamptz(null=True, default=None)
    completion_note = Text(null=True, default=None)
    evidence_ids = JSON(default=[])
    closed_by = UUID(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    close_comment = Text(null=True, default=None)
