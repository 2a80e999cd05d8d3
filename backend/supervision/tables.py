from piccolo.columns import JSON, UUID, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

DEFAULT_CHECKLIST = [
    {"key": "uniform", "label": "着装规范、标志齐全"},
    {"key": "certificate", "label": "主动出示执法证件"},
    {"key": "body_camera", "label": "执法记录仪全程开启"},
    {"key": "civil_language", "label": "文明用语、态度规范"},
    {"key": "no_phone", "label": "执法中未使用个人手机"},
]


class Invitation(Table, tablename="invitations"):
    """特邀监督员 invitation. Only the token's SHA-256 is stored; the link works once and expires."""

    id = UUID(primary_key=True)
    name = Varchar(length=100)
    phone = Varchar(length=32, null=True, default=None)
    unit_ids = Text()  # space-separated
    expires_at = Timestamptz()
    token_hash = Varchar(length=64, unique=True)
    created_by = UUID()
    created_at = Timestamptz(default=TimestamptzNow())
    accepted_at = Timestamptz(null=True, default=None)
    user_id = UUID(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    # The roster (特邀监督员名册): the invitation is the appointment, so the period runs from
    # appointed_from (null: from created_at) to expires_at, when access ends.
    category = Varchar(length=20, default="other")  # deputy | cppcc | retired | other
    appointed_from = Timestamptz(null=True, default=None)


class ChecklistTemplate(Table, tablename="checklist_templates"):
    """The conduct-and-appearance checklist (仪容仪表、执法风纪) spot-checks start from."""

    id = Varchar(length=40, primary_key=True)
    items = JSON(default=DEFAULT_CHECKLIST)
    updated_by = UUID(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class SpotCheck(Table, tablename="spot_checks"):
    id = UUID(primary_key=True)
    officer_id = UUID(index=True)
    unit_id = UUID(index=True)
    requested_by = UUID(index=True)
    requested_at = Timestamptz(default=TimestamptzNow())
    due_at = Timestamptz(index=True)
    random_pick = Boolean(default=False)
    checklist = JSON(default=[])
    # requested → submitted → passed | failed; requested → overdue (by the deadline scheduler)
    status = Varchar(length=20, default="requested", index=True)
    evidence_id = UUID(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    results = JSON(null=True, default=None)
    score = Integer(null=True, default=None)
    comment = Text(null=True, default=None)
    reviewed_by = UUID(null=True, default=None)
    reviewed_at = Timestamptz(null=True, default=None)
    appeal = JSON(null=True, default=None)


class Nomination(Table, tablename="nominations"):
    """A unit's nomination (单位推荐) or a person's own application (个人报名) to be invited."""

    id = UUID(primary_key=True)
    name = Varchar(length=100)
    phone = Varchar(length=32)
    category = Varchar(length=20)  # deputy | cppcc | retired | other
    organisation = Varchar(length=100)
    statement = Text()
    unit_ids = Text(default="")  # space-separated; the units they would supervise, may be empty
    nominated_by_unit = UUID(null=True, default=None)  # null: a personal application
    submitted_by = UUID(null=True, default=None)  # the signed-in nominator; null for the public form
    created_at = Timestamptz(default=TimestamptzNow())
    status = Varchar(length=20, default="received", index=True)  # received → selected | declined
    decided_by = UUID(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decline_reason = Text(null=True, default=None)
    invitation_id = UUID(null=True, default=None)
