from piccolo.columns import JSON, UUID, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

SEVERITIES = ("info", "medium", "high")
STATES = ("open", "acked", "resolved", "false_alarm")


class Alert(Table, tablename="alerts"):
    id = UUID(primary_key=True)
    type = Varchar(length=40, index=True)
    severity = Varchar(length=10)
    unit_id = UUID(null=True, default=None, index=True)
    subject_user_id = UUID(null=True, default=None)
    object_type = Varchar(length=40, null=True, default=None)
    object_id = Varchar(length=64, null=True, default=None)
    message = Text()
    data = JSON(default={})
    status = Varchar(length=16, default="open", index=True)
    handled_by = UUID(null=True, default=None)
    handled_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
