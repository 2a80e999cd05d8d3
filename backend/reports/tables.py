"""Reports the units submit, the bureau's indicator weights, and 案卷评查 draws with their score
sheets."""

from __future__ import annotations

from piccolo.columns import JSON, UUID, Boolean, Date, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Report(Table, tablename="unit_reports"):
    """One version of a unit's monthly report (月度工作推进情况) or final summary. A draft's figures
    are computed when read; submission freezes them in ``figures`` (with the ids each one counted).
    A correction is a new version; the earlier one becomes ``superseded`` and stays as it was."""

    id = UUID(primary_key=True)
    kind = Varchar(length=10)  # monthly | summary
    unit_id = UUID(index=True)
    period_from = Date()  # inclusive
    period_to = Date()  # exclusive
    version = Integer(default=1)
    status = Varchar(length=12, default="draft", index=True)  # draft | submitted | accepted | superseded
    narrative = JSON(default={})
    figures = JSON(null=True, default=None)  # frozen at submission: {key: {value, ids}}
    comments = JSON(default=[])
    due_on = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    created_by = UUID(null=True, default=None)  # none: drafted by the server
    updated_at = Timestamptz(default=TimestamptzNow())
    submitted_at = Timestamptz(null=True, default=None)
    submitted_by = UUID(null=True, default=None)
    accepted_at = Timestamptz(null=True, default=None)
    accepted_by = UUID(null=True, default=None)
    # The late reminders (the 13th, and the 16th once overdue), each sent once.
    reminded_at = Timestamptz(null=True, default=None)
    late_alerted_at = Timestamptz(null=True, default=None)


class ReportSetting(Table, tablename="report_settings"):
    key = Varchar(length=40, primary_key=True)
    value = JSON(default={})
    updated_by = UUID(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class FileReviewDraw(Table, tablename="file_review_draws"):
    """A random sample of a unit's closed cases (双随机). ``seed`` and the ordered ``population``
    make the draw reproducible: ``random.Random(seed).sample(population, size)``."""

    id = UUID(primary_key=True)
    unit_id = UUID(index=True)
    period_from = Date()
    period_to = Date()
    seed = Varchar(length=64)
    size = Integer()
    population = JSON(default=[])
    case_ids = JSON(default=[])
    drawn_by = UUID()
    drawn_at = Timestamptz(default=TimestamptzNow(), index=True)


class FileReviewScore(Table, tablename="file_review_scores"):
    """One case file's score sheet: any veto item fails it outright; otherwise 20 points for the
    file's form (卷面) and 80 for its content (内容)."""

    id = UUID(primary_key=True)
    draw_id = UUID(index=True)
    case_id = UUID(index=True)
    unit_id = UUID(index=True)
    vetoes = JSON(default=[])
    form_score = Integer(default=0)
    content_score = Integer(default=0)
    total = Integer(default=0)
    passed = Boolean(default=False)
    comment = Text(default="")
    reviewer_id = UUID()
    scored_at = Timestamptz(default=TimestamptzNow(), index=True)
