from __future__ import annotations

from typing import TYPE_CHECKING

from piccolo.columns import (
    UUID,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LazyTableReference,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

if TYPE_CHECKING:
    from backend.org.tables import Unit


ROLES = (
    "officer",
    "legal_reviewer",
    "supervisor",
    "invited_supervisor",
    "liaison",
    "command",
    "admin",
    "petition_office",
    "court",
    "procuratorate",
    "public_security",
)


class User(Table, tablename="users"):
    id = UUID(primary_key=True)
    username = Varchar(length=64, unique=True)
    password_hash = Varchar(length=255)
    display_name = Varchar(length=100)
    # Space-delimited and padded (" officer admin ") so one LIKE finds a role on every engine.
    roles = Varchar(length=255, default=" ")
    phone = Varchar(length=32, null=True, default=None)
    active = Boolean(default=True)
    # No longer written: sign-in failures are counted in LoginFailure (per name, known or not).
    failed_logins = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    # Invited supervisors' access ends with their invitation.
    access_expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Membership(Table, tablename="memberships"):
    """A user belongs to (or is assigned to) a unit."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    unit: ForeignKey[Unit] = ForeignKey(
        references=LazyTableReference(table_class_name="Unit", module_path="backend.org.tables"),
        index=True,
    )


class Certificate(Table, tablename="certificates"):
    """执法证. ``status`` is what was decided; expiry is computed from ``expires_on``."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, unique=True)
    number = Varchar(length=40, unique=True)
    issued_on = Date()
    expires_on = Date()
    status = Varchar(length=16, default="valid")
    revoked_reason = Text(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
    field = Varchar(length=60, default="")  # 执法领域 / 执法类别 printed on the card
    # Why and from which date the current status holds (suspension, revocation, loss, re-issue).
    status_reason = Text(null=True, default=None)
    status_on = Date(null=True, default=None)
    # 收回: the physical card handed back after a revocation: when, and who received it.
    recalled_on = Date(null=True, default=None)
    recalled_received_by = Varchar(length=100, null=True, default=None)
    recall_recorded_by = UUID(null=True, default=None)


class CertificateEvent(Table, tablename="certificate_events"):
    """One change of a certificate's status, with its reason and the date it takes effect."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    number = Varchar(length=40)
    change = Varchar(length=20)  # issued | suspended | reinstated | revoked | lost | reissued | recalled
    from_status = Varchar(length=16, null=True, default=None)
    to_status = Varchar(length=16)
    reason = Text(default="")
    effective_on = Date()
    actor = UUID(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow(), index=True)


class Session(Table, tablename="auth_sessions"):
    """One sign-in. Access tokens carry its id, so revoking it ends them at once."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    revoked_reason = Varchar(length=40, null=True, default=None)


class RefreshToken(Table, tablename="refresh_tokens"):
    """Refresh tokens are stored hashed; each is used once, then replaced (rotation)."""

    id = UUID(primary_key=True)
    session = ForeignKey(references=Session, index=True)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class PasswordReset(Table, tablename="password_resets"):
    """A one-time link an admin makes for a user to set a new password; only the token's SHA-256 is
    kept. A newer link voids the older ones; using one ends every session of the user."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class LoginFailure(Table, tablename="login_failures"):
    """Failed sign-ins per username, whether or not an account has that name, so an unknown name
    locks exactly like a real one and the lockout cannot tell which exist. Keyed by the SHA-256 of
    the normalised name (what people type as a username is sometimes their password). Rows past the
    failure window are pruned."""

    name_hash = Varchar(length=64, primary_key=True)
    failures = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow(), index=True)


class SigningRight(Table, tablename="signing_rights"):
    """签发权: the user may issue supervision documents (as the second person after the drafter)."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, unique=True)
    granted_by = UUID(null=True, default=None)
    granted_at = Timestamptz(default=TimestamptzNow())


class UnitResponder(Table, tablename="unit_responders"):
    """Who receives and answers supervision documents for a unit: its leader or a person it names."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    unit: ForeignKey[Unit] = ForeignKey(
        references=LazyTableReference(table_class_name="Unit", module_path="backend.org.tables"),
        index=True,
    )
    leader = Boolean(default=False)
    named_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
