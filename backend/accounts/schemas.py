from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from backend.lib.schema import Code, Name, Password, Phone, Strict, Username

Role = Literal[
    "officer",
    "legal_reviewer",
    "supervisor",
    "invited_supervisor",
    "liaison",
    "command",
    "admin",
    # The channels' outside organs, each bound to its own unit(s) by membership (docs/channels.md).
    "petition_office",
    "court",
    "procuratorate",
    "public_security",
]
CertificateStatus = Literal["valid", "expired", "suspended", "revoked", "lost"]


class UnitRef(msgspec.Struct):
    id: uuid.UUID
    name: str
    kind: str


class Certificate(msgspec.Struct):
    number: str
    issued_on: date
    expires_on: date
    status: CertificateStatus
    revoked_reason: str | None = None
    revoked_at: datetime | None = None
    field: str = ""
    status_label: str = ""  # 有效 / 已暂停 / 已注销 / 已过期 / 已挂失
    status_reason: str | None = None
    status_on: date | None = None  # since when the status holds
    recalled_on: date | None = None  # 收回: the card was handed back
    recalled_received_by: str | None = None


class CertificateChange(msgspec.Struct):
    change: str  # issued | suspended | reinstated | revoked | lost | reissued | recalled
    number: str
    from_status: str | None
    to_status: str
    reason: str
    effective_on: date
    at: datetime


class UnrecalledCard(msgspec.Struct):
    user_id: uuid.UUID
    display_name: str
    number: str
    revoked_on: date | None
    reason: str


class User(msgspec.Struct):
    id: uuid.UUID
    username: str
    display_name: str
    roles: list[str]
    units: list[UnitRef]
    certificate: Certificate | None
    active: bool
    phone: str | None = None


class UserCreate(Strict):
    username: Username
    password: Password
    display_name: Name
    roles: Annotated[list[Role], msgspec.Meta(min_length=1, max_length=11)]
    unit_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=50)] = []
    phone: Phone | None = None
    id: uuid.UUID | None = None


class UserUpdate(Strict):
    display_name: Name | msgspec.UnsetType = msgspec.UNSET
    roles: Annotated[list[Role], msgspec.Meta(min_length=1, max_length=11)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    unit_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=50)] | msgspec.UnsetType = msgspec.UNSET
    phone: Phone | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    password: Password | msgspec.UnsetType = msgspec.UNSET


class CertificatePut(Strict):
    number: Code
    issued_on: date
    expires_on: date
    field: Annotated[str, msgspec.Meta(max_length=60)] = ""  # 执法领域, as printed on the card


Reason = Annotated[str, msgspec.Meta(min_length=2, max_length=500)]


class CertificateRevoke(Strict):
    reason: Reason
    effective_on: date | None = None  # default today; never in the future


class CertificateChangeRequest(Strict):
    """Suspend, reinstate or report lost."""

    reason: Reason
    effective_on: date | None = None


class CertificateReissue(Strict):
    number: Code
    issued_on: date
    expires_on: date
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class CertificateRecall(Strict):
    received_by: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    recalled_on: date | None = None


class CardQr(msgspec.Struct):
    """The card's QR: the signed token, the public URL it opens, and the QR image (SVG)."""

    token: str
    url: str
    svg: str


class LoginRequest(Strict):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class RefreshRequest(Strict):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class LogoutRequest(Strict):
    refresh_token: Annotated[str, msgspec.Meta(max_length=256)] | None = None


class TokenPair(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret


class ResponderUnit(Strict):
    unit_id: uuid.UUID
    leader: bool = False  # the unit's leader; otherwise a person the unit named


class CapabilitiesPut(Strict):
    signing: bool
    responder_units: Annotated[list[ResponderUnit], msgspec.Meta(max_length=20)] = []


class Capabilities(msgspec.Struct):
    """Account capabilities that are not roles: signing supervision documents (签发) and answering
    them for a unit (the unit responder)."""

    user_id: uuid.UUID
    signing: bool
    responder_units: list[dict[str, Any]]  # [{unit_id, leader}]


class PublicCertificate(msgspec.Struct):
    """What anyone may read about a card (the public check): never an ID number or a phone."""

    name: str
    units: list[str]
    number: str
    field: str
    issued_on: date
    expires_on: date
    status: str  # valid | suspended | revoked | expired | lost | replaced
    status_label: str
    checked_at: datetime


class PasswordResetLink(msgspec.Struct):
    """Shown once to the admin, to hand to the user; the token is in the fragment, never sent in a URL."""

    link: str
    expires_at: datetime


class PasswordResetFinish(Strict):
    token: Annotated[str, msgspec.Meta(min_length=20, max_length=128)]
    password: Password


class Unlocked(msgspec.Struct):
    was_locked: bool
