from piccolo.columns import JSON, UUID, Boolean, Date, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

# type → the name printed on the document
TYPES = {
    "inspection_notice": "行政执法监督检查通知书",
    "opinion": "行政执法监督意见书",
    "proposal": "行政执法监督建议书",
    "correction_order": "责令纠正通知书",
    "check_record": "检查记录",
}


class SupervisionDocument(Table, tablename="supervision_documents"):
    """A supervision document (行政执法监督文书). Editable only as a draft; once issued, only its
    workflow state moves (a correction is a new document citing the old number)."""

    id = UUID(primary_key=True)
    type = Varchar(length=40)
    unit_id = UUID(index=True)  # the target unit
    title = Varchar(length=200)
    facts = Text()  # 问题事实
    basis = Text()  # 依据
    requirement = Text()  # 要求
    links = JSON(default=[])
    deadline_days = Integer(null=True, default=None)
    deadline_working = Boolean(default=True)
    deadline_on = Date(null=True, default=None)  # a fixed date instead of a number of days
    cites_id = UUID(null=True, default=None)  # the issued document this one corrects
    # draft → issued → responded → accepted → closed; responded → returned (不合格) → responded…;
    # issued | returned → overdue (by the scheduler); any but closed → closed
    status = Varchar(length=20, default="draft", index=True)
    drafted_by = UUID()
    drafted_at = Timestamptz(default=TimestamptzNow())
    issuer_unit_id = UUID(null=True, default=None)
    issued_by = UUID(null=True, default=None)
    issued_at = Timestamptz(null=True, default=None)
    issued_on = Date(null=True, default=None)  # 成文日期 (Beijing date)
    year = Integer(null=True, default=None)
    seq = Integer(null=True, default=None)
    number = Varchar(length=60, null=True, default=None, unique=True)
    # the current round's deadline: counted from due_from by due_days (working or calendar) or fixed
    due_from = Date(null=True, default=None)
    due_days = Integer(null=True, default=None)
    due_working = Boolean(default=True)
    due_on = Date(null=True, default=None, index=True)
    due_provisional = Boolean(default=False)
    round = Integer(default=1)
    read_at = Timestamptz(null=True, default=None)  # first opened by the unit
    responded_at = Timestamptz(null=True, default=None)
    overdue_at = Timestamptz(null=True, default=None)
    review_requested_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    closed_by = UUID(null=True, default=None)
    pdf_key = Varchar(length=100, null=True, default=None)
    pdf_sha256 = Varchar(length=64, null=True, default=None)
    pdf_size = Integer(null=True, default=None)


class DocumentStep(Table, tablename="document_steps"):
    """The document's history: issue, read, response, review request, acceptance, recomputed deadline…"""

    id = UUID(primary_key=True)
    document_id = UUID(index=True)
    step = Varchar(length=40)
    by = UUID(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow())
    data = JSON(default={})


class DocumentCounter(Table, tablename="document_counters"):
    """The last number given per issuing body, type and year; locked in the issuing transaction."""

    key = Varchar(length=120, primary_key=True)
    last = Integer(default=0)
