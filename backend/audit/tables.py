from piccolo.columns import UUID, BigInt, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AuditEntry(Table, tablename="audit_log"):
    """Append-only; each row's hash covers its content and the previous row's hash. On PostgreSQL a
    row is written without ``seq`` and hashes and linked just after it commits (``services.settle``);
    on SQLite, where the columns stay NOT NULL, at once."""

    id = UUID(primary_key=True)
    seq = BigInt(unique=True, null=True)
    at = Timestamptz(default=TimestamptzNow())
    actor_id = UUID(null=True, default=None)
    actor = Varchar(length=64, null=True, default=None)
    action = Varchar(length=64, index=True)
    object_type = Varchar(length=40)
    object_id = Varchar(length=64, index=True)
    data = Text(default="{}")
    prev_hash = Varchar(length=64, null=True)
    hash = Varchar(length=64, null=True)


class AuditHead(Table, tablename="audit_head"):
    """The chain's last link, so removing the newest rows is detectable too."""

    id = Integer(primary_key=True)
    seq = BigInt(default=0)
    hash = Varchar(length=64)


class AuditTreeHead(Table, tablename="audit_tree_head"):
    """A signed tree head: the Merkle root over the first ``tree_size`` entries, signed with the
    server's integrity key (which the database never holds). ``frontier`` lets the next head be
    computed from the entries since this one."""

    id = UUID(primary_key=True)
    tree_size = BigInt(unique=True)
    root_hash = Varchar(length=64)
    timestamp = BigInt()  # milliseconds since the epoch, as signed
    key_id = Varchar(length=16)
    signature = Varchar(length=100)
    frontier = Text(default="[]")
