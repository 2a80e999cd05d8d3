from piccolo.columns import JSON, UUID, Date, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class LeadingGroup(Table, tablename="leading_groups"):
    """行政执法协调监督领导小组: one per unit (a pilot township), its members kept as one list."""

    id = UUID(primary_key=True)
    unit_id = UUID(index=True)  # unique: hand-written migration
    name = Varchar(length=200)
    set_up_on = Date()
    # [{user_id, name, role, post, public_lawyer, legal_qualification}]
    members = JSON(default=[])
    version = Integer(default=1)
    created_by = UUID()
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Meeting(Table, tablename="meetings"):
    """联席会议 or 领导小组会议: who attended, the issues raised, and resolutions tracked as tasks."""

    id = UUID(primary_key=True)
    held_on = Date()
    title = Varchar(length=200)
    kind = Varchar(length=20)  # joint | group
    unit_ids = JSON(default=[])  # attending units
    attendees = JSON(default=[])  # [{user_id, name}]
    issues = JSON(default=[])  # [text]
    # [{id, text, owner_unit_id, owner_user_id, due_on, task_id}]
    resolutions = JSON(default=[])
    created_by = UUID()
    created_at = Timestamptz(default=TimestamptzNow())


class MeetingUnit(Table, tablename="meeting_units"):
    """Who may read a meeting: its attending units and the units owing one of its resolutions."""

    id = UUID(primary_key=True)
    meeting_id = UUID(index=True)
    unit_id = UUID(index=True)
    role = Varchar(length=20)  # attended | owner
