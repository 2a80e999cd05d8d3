"""The enforcement certificate (执法证) as the right to enforce: its status at a given moment, the one
gate every enforcement act passes, the allowed changes of status, and the signed token on the card's
QR code that lets anyone check a certificate without signing in.

Stored statuses are ``valid``, ``suspended``, ``revoked`` and ``lost``; ``expired`` is never stored,
it is a ``valid`` certificate whose ``expires_on`` is before today (a Beijing date)."""

from __future__ import annotations

import base64
import binascii
import hmac
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from backend.accounts.tables import Certificate, User
from backend.lib.clock import today_local
from backend.lib.errors import AppError, Errors
from backend.lib.signing import IntegrityKey

STORED = ("valid", "suspended", "revoked", "lost")

# change → the statuses (as they stand today, expiry included) it may start from, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "suspend": (frozenset({"valid"}), "suspended"),
    "reinstate": (frozenset({"suspended"}), "valid"),
    "revoke": (frozenset({"valid", "suspended", "expired", "lost"}), "revoked"),
    "lose": (frozenset({"valid", "suspended", "expired"}), "lost"),
    "reissue": (frozenset({"lost"}), "valid"),
}

# What the public page and the phone say (有效 / 已暂停 / 已注销 / 已过期 / 已挂失).
LABELS = {
    "valid": "有效",
    "suspended": "已暂停",
    "revoked": "已注销",
    "expired": "已过期",
    "lost": "已挂失",
    "missing": "无执法证",
    "replaced": "已作废（已补发新证）",
}


def effective_status(row: dict[str, Any] | None, on: date | None = None) -> str:
    """The status that holds ``on`` (default today): ``missing`` without a certificate."""
    if row is None or row.get("number") is None:
        return "missing"
    status: str = row["status"]
    if status == "valid" and row["expires_on"] < (on or today_local()):
        return "expired"
    return status


def status_reason(row: dict[str, Any] | None) -> str | None:
    """Why the certificate is not valid, in the words recorded with the change."""
    if row is None or row.get("number") is None:
        return None
    status = effective_status(row)
    if status == "expired":
        return f"有效期至 {row['expires_on'].isoformat()}"
    if status == "revoked":
        return row.get("status_reason") or row.get("revoked_reason")
    if status in ("suspended", "lost"):
        return row.get("status_reason")
    return None


_GATE_COLUMNS = (
    Certificate.number,
    Certificate.expires_on,
    Certificate.status,
    Certificate.status_reason,
    Certificate.revoked_reason,
)


async def require_valid_certificate(
    user_id: uuid.UUID, *, name: str | None = None, row: dict[str, Any] | None = None
) -> None:
    """The certificate gate: every enforcement act by an officer passes here, at the moment of the
    act. Refuses with ``422 certificate.invalid`` naming the officer, the status and its reason
    unless the certificate is valid and not expired today. ``row`` is a certificate row the caller
    already read (with number, expires_on, status and the reasons); ``name`` the officer's name."""
    if row is None:
        row = await Certificate.select(*_GATE_COLUMNS).where(Certificate.user == user_id).first()
    status = effective_status(row)
    if status == "valid":
        return
    if name is None:
        user = await User.select(User.display_name).where(User.id == user_id).first()
        name = user["display_name"] if user else str(user_id)
    reason = status_reason(row)
    detail = f"The enforcement certificate of {name} is {status}"
    detail += (
        f" ({reason}): no enforcement act is possible." if reason else ": no enforcement act is possible."
    )
    raise AppError(
        Errors.CERTIFICATE_INVALID,
        detail,
        officer_id=str(user_id),
        officer_name=name,
        certificate_status=status,
        reason=reason,
    )


def check_transition(change: str, row: dict[str, Any] | None) -> str:
    """The status ``change`` leads to, or a 409 naming the status it cannot start from."""
    if row is None:
        raise AppError(Errors.NOT_FOUND, "This officer has no enforcement certificate.")
    allowed, to = TRANSITIONS[change]
    now = effective_status(row)
    if now not in allowed:
        raise AppError(
            Errors.CERTIFICATE_TRANSITION,
            f"'{change}' is not possible for a certificate that is {now} "
            f"(only from: {', '.join(sorted(allowed))}).",
            status_now=now,
            change=change,
            allowed_from=sorted(allowed),
        )
    return to


# --- the public check token ----------------------------------------------------------------------
#
# The QR on the card carries base64url(certificate id ‖ number ‖ tag), tag = the first 16 bytes of
# an HMAC-SHA-256 under a key derived from the server's integrity key. It names one card, not a
# person: a re-issued card (new number) gets a new token, and the lost card's token then shows that
# it was replaced. It holds nothing secret and never expires (the status it shows is read live), but
# nobody without the server's key can make one: ids are random and the tag is 128 bits.

_MAC_DOMAIN = "fieldwatch certificate check v1\x00"
_TAG_BYTES = 16


@dataclass(frozen=True)
class CardToken:
    certificate_id: uuid.UUID
    number: str


def _tag(key: IntegrityKey, body: bytes) -> bytes:
    return bytes.fromhex(key.mac(_MAC_DOMAIN + body.hex()))[:_TAG_BYTES]


def card_token(key: IntegrityKey, certificate_id: uuid.UUID, number: str) -> str:
    body = certificate_id.bytes + number.encode()
    return base64.urlsafe_b64encode(body + _tag(key, body)).rstrip(b"=").decode()


def read_card_token(key: IntegrityKey, token: str) -> CardToken | None:
    """The card a token names, or None for anything the server did not sign (forged, altered,
    truncated, not base64)."""
    if not 0 < len(token) <= 200 or not token.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) <= 16 + _TAG_BYTES:
        return None
    body, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    if not hmac.compare_digest(_tag(key, body), tag):
        return None
    try:
        number = body[16:].decode()
    except UnicodeDecodeError:
        return None
    return CardToken(uuid.UUID(bytes=body[:16]), number)
