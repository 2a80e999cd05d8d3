from piccolo.columns import JSON, UUID, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Share(Table, tablename="shares"):
    """Evidence a supervisor shares with an outside party (a court, a procuratorate, a
    reconsideration body) through a link that expires. Only the link token's SHA-256 is kept; the
    evidence list is fixed when the share is made, so a later upload is never shared by accident."""

    id = UUID(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    recipient = Varchar(length=100)  # the person who will open it, named on every view
    organisation = Varchar(length=200)
    purpose = Varchar(length=20)  # court | procuratorate | reconsideration | other
    note = Text(default="")
    case_id = UUID(null=True, default=None)  # a whole case file, or None for chosen evidence
    evidence_ids = JSON(default=[])
    code_hash = Varchar(length=200, null=True, default=None)  # Argon2id of the access code, if any
    failed_codes = Integer(default=0)
    created_by = UUID()
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = UUID(null=True, default=None)
    revoke_reason = Text(null=True, default=None)


class ShareSession(Table, tablename="share_sessions"):
    """A recipient's opened link: an opaque token (kept as its SHA-256) sent as
    ``Authorization: Share <token>``, so the link's own token travels once."""

    id = UUID(primary_key=True)
    share_id = UUID(index=True)
    token_hash = Varchar(length=64, unique=True)
    opened_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
