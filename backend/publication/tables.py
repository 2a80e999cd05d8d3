from piccolo.columns import JSON, UUID, Date, Numeric, Text, Timestamptz, Varchar
from piccolo.table import Table

STATES = ("published", "withdrawn")


class Publication(Table, tablename="publications"):
    """A decision as the public sees it: copied and masked when published, so nothing internal (the
    case's summary, a person's ID number) is ever read by the public page. One per case; a withdrawn
    one stays, with its reason."""

    id = UUID(primary_key=True)
    case = UUID(unique=True)
    unit = UUID(index=True)
    unit_name = Varchar(length=100)
    item = UUID(index=True)
    item_code = Varchar(length=40)
    item_name = Varchar(length=200)
    item_kind = Varchar(length=20)
    legal_basis = Text(default="")
    case_number = Varchar(length=40)
    document_number = Varchar(length=60, null=True, default=None)
    # 张* for a natural person; an organisation's full name and its credit code (party_code).
    party_label = Varchar(length=100, default="")
    party_type = Varchar(length=20, default="")
    party_code = Varchar(length=40, null=True, default=None)
    fine = Numeric(digits=(14, 2), null=True, default=None)
    measures = JSON(default=[])
    decided_on = Date()
    published_on = Date()
    published_at = Timestamptz()
    published_by = UUID()
    status = Varchar(length=12, default="published")
    withdrawn_at = Timestamptz(null=True, default=None)
    withdrawal_reason = Text(null=True, default=None)
    withdrawn_by = UUID(null=True, default=None)
