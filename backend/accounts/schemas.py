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
CertificateStatus = Literal["valid", "expired", "suspended", "revoked"]


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


class CertificateRevoke(Strict):
    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=500)]


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
