from piccolo.columns import JSON, UUID, Boolean, Date, DoublePrecision, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

KINDS = ("report", "petition", "lawsuit")  # 联系点反映, 信访件, 涉法涉诉 (诉讼/复议)
CATEGORIES = ("乱执法", "不作为", "态度作风", "执法扰企", "建议", "其他")
OUTCOMES = ("维持", "驳回", "确认违法", "撤销", "变更", "责令履行")
REVERSING = ("确认违法", "撤销", "变更")  # the act does not stand (counted in the assessment)


class LiaisonPoint(Table, tablename="liaison_points"):
    """监督联系点: an association or social group with a named liaison (联络员), for a period."""

    id = UUID(primary_key=True)
    organisation = Varchar(length=100)
    address = Varchar(length=300, default="")
    liaison_user_id = UUID(index=True)
    active_from = Date()
    active_to = Date(null=True, default=None)
    created_by = UUID()
    created_at = Timestamptz(default=TimestamptzNow())


class ChannelItem(Table, tablename="channel_items"):
    """Everything that came in through a channel: a liaison's report, a petition or a lawsuit /
    reconsideration case. One inbox, one triage.

    status: new → (assigned) → forwarded (the unit is asked to explain) → explained → closed;
    closed with ``resolution`` dismissed | document | corrective | noted."""

    id = UUID(primary_key=True)
    kind = Varchar(length=20, index=True)
    category = Varchar(length=20, null=True, default=None)
    title = Varchar(length=200)
    description = Text(default="")
    occurred_at = Timestamptz(null=True, default=None)
    lat = DoublePrecision(null=True, default=None)
    lon = DoublePrecision(null=True, default=None)
    address = Varchar(length=300, default="")
    unit_id = UUID(null=True, default=None, index=True)  # the unit concerned, when known
    officer_ids = JSON(default=[])
    officer_text = Varchar(length=200, default="")  # an officer named but not identified
    action_id = UUID(null=True, default=None, index=True)
    case_id = UUID(null=True, default=None, index=True)
    point_id = UUID(null=True, default=None)
    anonymous = Boolean(default=False)  # towards the unit: never shown to it, in any form
    reporter_id = UUID(index=True)  # the liaison, or the petition office / court user registering
    registrant_unit_id = UUID(null=True, default=None, index=True)  # the petition office / court
    reference = Varchar(length=60, null=True, default=None)  # 信访件编号 / 案号
    received_on = Date(null=True, default=None)
    status = Varchar(length=20, default="new", index=True)
    assignee_id = UUID(null=True, default=None, index=True)
    question = Text(null=True, default=None)  # what the unit is asked to explain
    forwarded_at = Timestamptz(null=True, default=None)
    explanation = Text(null=True, default=None)
    explained_by = UUID(null=True, default=None)
    explained_at = Timestamptz(null=True, default=None)
    resolution = Varchar(length=20, null=True, default=None)
    resolution_ref = UUID(null=True, default=None)  # the document or corrective action made from it
    reason = Text(null=True, default=None)  # why it was dismissed
    reply = Text(null=True, default=None)  # what the reporter is told
    closed_by = UUID(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class ChannelStep(Table, tablename="channel_steps"):
    """An item's history. ``by`` is never shown to the unit when it is an anonymous reporter."""

    id = UUID(primary_key=True)
    item_id = UUID(index=True)
    step = Varchar(length=40)
    by = UUID(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow())
    data = JSON(default={})


class ChannelOutcome(Table, tablename="channel_outcomes"):
    """A decision on a petition or lawsuit (复议决定 / 判决 / 信访处理意见). One live entry per decision
    number (``live_number``, unique); a change supersedes it with a new entry."""

    id = UUID(primary_key=True)
    item_id = UUID(index=True)
    outcome = Varchar(length=20)
    decided_on = Date()
    decision_number = Varchar(length=60, index=True)
    live_number = Varchar(length=60, null=True, default=None, unique=True)  # null once superseded
    note = Text(default="")
    supersedes_id = UUID(null=True, default=None)
    superseded = Boolean(default=False)
    entered_by = UUID()
    entered_at = Timestamptz(default=TimestamptzNow())


class TransferAnswer(Table, tablename="channel_transfers"):
    """A case transferred (移送) to a procuratorate or public-security organ, and its answer."""

    id = UUID(primary_key=True)
    case_id = UUID(unique=True)
    unit_id = UUID(index=True)  # the transferring unit
    organ = Varchar(length=100)
    organ_unit_id = UUID(null=True, default=None, index=True)  # the unit named by ``organ``
    transferred_on = Date()
    status = Varchar(length=20, default="pending", index=True)  # pending | accepted | returned
    receipt_on = Date(null=True, default=None)
    receipt_number = Varchar(length=60, null=True, default=None)
    return_reason = Text(null=True, default=None)
    answered_by = UUID(null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    alerted_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
