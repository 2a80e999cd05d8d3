from piccolo.columns import UUID, BigInt, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class RetentionRule(Table, tablename="retention_rules"):
    """How long evidence is kept: per subject (what it belongs to and how that ended) and kind of
    evidence (``*`` for every kind without a rule of its own). Set by an admin."""

    id = UUID(primary_key=True)
    subject = Varchar(length=20)  # case_closed | action | spot_check
    kind = Varchar(length=20)  # photo | video | audio | document | *
    years = Integer()
    key = Varchar(length=45, unique=True)  # subject:kind
    updated_by = UUID(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class LegalHold(Table, tablename="legal_holds"):
    """A supervisor's hold (保全) on a piece of evidence, a case or an action: while it is active
    nothing under it is ever due for disposal."""

    id = UUID(primary_key=True)
    object_type = Varchar(length=20)  # evidence | case | action
    object_id = UUID(index=True)
    unit_id = UUID(index=True)
    reason = Text()
    placed_by = UUID()
    placed_at = Timestamptz(default=TimestamptzNow())
    released_by = UUID(null=True, default=None)
    released_at = Timestamptz(null=True, default=None, index=True)
    release_reason = Text(null=True, default=None)


class DisposalBatch(Table, tablename="disposal_batches"):
    """One approved list of expired evidence (销毁清单), reviewed and approved by a supervisor."""

    id = UUID(primary_key=True)
    approved_by = UUID()
    approved_at = Timestamptz(default=TimestamptzNow())
    reason = Text()
    removed = Integer(default=0)
    refused = Integer(default=0)


class Disposal(Table, tablename="disposals"):
    """What a batch did to one piece of evidence. The evidence row leaves (with an
    ``evidence.removed`` audit entry); this keeps what it was. ``outcome``: removed (record and
    stored bytes), record_only (the bytes are also another record's, so they stay), or refused (the
    object store's lock is still in force: nothing changed)."""

    id = UUID(primary_key=True)
    batch_id = UUID(index=True)
    evidence_id = UUID(index=True)
    parent_type = Varchar(length=20)
    parent_id = UUID()
    unit_id = UUID(index=True)
    sha256 = Varchar(length=64)
    size = BigInt()
    content_type = Varchar(length=80)
    retain_until = Timestamptz()
    outcome = Varchar(length=20)
    detail = Text(default="")
    at = Timestamptz(default=TimestamptzNow())


class ObjectRetention(Table, tablename="object_retentions"):
    """The per-object retention last put on an original in the object store (so it is set once and
    extended only when its rule's date moves later)."""

    id = UUID(primary_key=True)
    object_key = Varchar(length=100, unique=True)
    retain_until = Timestamptz()
    mode = Varchar(length=20)
    set_at = Timestamptz(default=TimestamptzNow())
