"""Names of the shared parts the app hands to every handler (see ``create_app``'s dependencies). A
handler asks for one by parameter name and type, e.g. ``settings: AppSettings``; a test replaces
one by building the app with another, never by patching a module. They are the app's own objects,
so the per-request validation of a handler's arguments skips them."""

from __future__ import annotations

import uuid
from typing import Protocol

from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import SkipValidation

from backend.lib.auth import CurrentUser, TokenService
from backend.lib.signing import IntegrityKey
from backend.settings import Settings
from media_store import MediaStore

AppSettings = NamedDependency[SkipValidation[Settings]]
Store = NamedDependency[SkipValidation[MediaStore]]
Tokens = NamedDependency[SkipValidation[TokenService]]
Channels = NamedDependency[SkipValidation[ChannelsPlugin]]
SignedIn = NamedDependency[SkipValidation[CurrentUser]]


class Notifier(Protocol):
    """What a domain below ``live`` may ask of the app's publisher (the ``events`` dependency): tell
    every API process's live hub that something about one user changed (an internal route type such
    as ``account.changed``; never streamed to clients, never stored)."""

    async def notify(self, type_: str, to: uuid.UUID) -> None: ...


Notify = NamedDependency[SkipValidation[Notifier]]  # ask for it as ``events: Notify``
Integrity = NamedDependency[SkipValidation[IntegrityKey]]
