from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    Date,
    ForeignKey,
    Numeric,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

UNIT_KINDS = (
    "department",  # 区级行政执法部门
    "township",  # 乡镇/街道
    "justice",  # 区司法局
    "court",  # 法院
    "petition",  # 信访办
    "procuratorate",  # 检察院
    "police",  # 公安局
    "association",  # 行业协会/社会团体 (监督联系点)
)
ITEM_KINDS = ("penalty", "coercion", "inspection", "other")


class Unit(Table, tablename="units"):
    id = UUID(primary_key=True)
    name = Varchar(length=100, unique=True)
    kind = Varchar(length=20)
    parent_id = UUID(null=True, default=None, index=True)
    pilot = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    # The unit's part in the pilot (a pilot unit reports monthly within it), and whether it still
    # exists: a deactivated unit keeps its records but takes no new members or acts.
    pilot_from = Date(null=True, default=None)
    pilot_to = Date(null=True, default=None)
    active = Boolean(default=True)


class Item(Table, tablename="enforcement_items"):
    """One legal power from the power-and-responsibility list (权责清单)."""

    id = UUID(primary_key=True)
    code = Varchar(length=40, unique=True)
    name = Varchar(length=200)
    kind = Varchar(length=20)
    legal_basis = Text(default="")
    owner_unit = ForeignKey(references=Unit, index=True)
    major_fine_at_least = Numeric(digits=(14, 2), null=True, default=None)
    major_measures = JSON(default=[])
    criminal_amount_at_least = Numeric(digits=(14, 2), null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # 全过程记录 for this item: None follows the setting by action and item kind; True, every act on
    # it needs an audio or video file; False, none does.
    full_recording = Boolean(null=True, default=None)


class Delegation(Table, tablename="delegations"):
    """赋权: an item delegated by its owning department to a township for a period."""

    id = UUID(primary_key=True)
    item = ForeignKey(references=Item, index=True)
    unit = ForeignKey(references=Unit, index=True)
    effective_from = Date()
    effective_to = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
