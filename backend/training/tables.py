from piccolo.columns import JSON, UUID, Boolean, Date, DoublePrecision, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

FORMATS = (
    "法律知识培训",
    "以案释法",
    "专用法律知识轮训",
    "跟班学习",
    "下派指导",
    "党风廉政",
    "组织纪律",
)


class Training(Table, tablename="trainings"):
    """One training session, with an optional exam (pass mark; the year's when unset)."""

    id = UUID(primary_key=True)
    title = Varchar(length=200)
    format = Varchar(length=20)
    organiser_unit_id = UUID(index=True)
    held_on = Date(index=True)
    year = Integer(index=True)  # the assessment year (of held_on)
    hours = DoublePrecision()
    trainer = Varchar(length=100, default="")
    has_exam = Boolean(default=False)
    pass_mark = DoublePrecision(null=True, default=None)
    max_score = DoublePrecision(default=100.0)
    resit_of = UUID(null=True, default=None, index=True)  # a resit exam of that training
    cancelled = Boolean(default=False)
    created_by = UUID()
    created_at = Timestamptz(default=TimestamptzNow())


class TrainingTarget(Table, tablename="training_targets"):
    """Who must attend: an officer, or every officer of a unit."""

    id = UUID(primary_key=True)
    training_id = UUID(index=True)
    officer_id = UUID(null=True, default=None, index=True)
    unit_id = UUID(null=True, default=None, index=True)


class Attendance(Table, tablename="training_attendance"):
    """present / excused (with a reason: leave, duty) / absent. One row per officer and training."""

    id = UUID(primary_key=True)
    training_id = UUID(index=True)
    officer_id = UUID(index=True)
    status = Varchar(length=10)
    reason = Text(default="")
    recorded_by = UUID()
    recorded_at = Timestamptz(default=TimestamptzNow())


class ExamScore(Table, tablename="training_scores"):
    id = UUID(primary_key=True)
    training_id = UUID(index=True)
    officer_id = UUID(index=True)
    score = DoublePrecision()
    source = Varchar(length=10, default="manual")  # manual | import
    recorded_by = UUID()
    recorded_at = Timestamptz(default=TimestamptzNow())


class TrainingYear(Table, tablename="training_years"):
    """The rules of one assessment year."""

    year = Integer(primary_key=True)
    min_hours = DoublePrecision(default=0.0)
    compulsory_ids = JSON(default=[])  # trainings whose unexcused absence revokes the certificate
    pass_mark = DoublePrecision(default=60.0)
    resit = Boolean(default=True)  # a passed resit makes up for a failed exam
    updated_by = UUID(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class AssessmentRun(Table, tablename="assessment_runs"):
    """One applied annual run: the plan it applied (its digest equals the preview's)."""

    id = UUID(primary_key=True)
    year = Integer(index=True)
    digest = Varchar(length=64, index=True)
    plan = JSON(default={})
    revoked_count = Integer(default=0)
    applied_by = UUID()
    applied_at = Timestamptz(default=TimestamptzNow())
