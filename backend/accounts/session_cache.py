"""Verified bearer tokens and the signed-in user behind each, kept per process.

Checking a token (Ed25519 and PyJWT's parsing) and loading its session cost more than most handlers
do, and every request repeats them. A token's answer only changes when its session or account does,
and every such change is announced (``account.changed``, ``session.revoked``) through
``Publisher.notify``, which forgets the user here and, through the live channel, in every other
process (``backend.live.hub``). So an entry lives until the token expires, the account's access ends,
or ``max_age_s`` passes — the last bounds a change made where nothing announces it (SQL by hand, the
command line run against a live server) and a change announced while the channel was away.

Entries are keyed by the token's SHA-256, never by the token. A load that was running while its user
was forgotten is not stored: it may have read the row as it was before the change.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from backend.lib.auth import CurrentUser


@dataclass(frozen=True, slots=True)
class Entry:
    user: CurrentUser
    claims: dict[str, Any]
    until: float  # wall-clock seconds: tokens and access ends are wall-clock times


@dataclass(frozen=True, slots=True)
class Stamp:
    """Taken before loading a user; a store with an outdated stamp is dropped."""

    key: bytes
    user_id: uuid.UUID
    generation: int
    epoch: int


class SessionCache:
    def __init__(self, max_entries: int = 20_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, Entry] = OrderedDict()
        self._by_user: dict[uuid.UUID, set[bytes]] = {}
        self._generation: dict[uuid.UUID, int] = {}
        self._epoch = 0

    @staticmethod
    def key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, key: bytes) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.until <= time.time():
            self._drop(key, entry.user.id)
            return None
        self._entries.move_to_end(key)
        return entry

    def stamp(self, key: bytes, user_id: uuid.UUID) -> Stamp:
        return Stamp(key, user_id, self._generation.get(user_id, 0), self._epoch)

    def put(self, stamp: Stamp, user: CurrentUser, claims: dict[str, Any], max_age_s: float) -> None:
        if stamp.epoch != self._epoch or stamp.generation != self._generation.get(stamp.user_id, 0):
            return
        until = min(float(claims["exp"]), time.time() + max_age_s)
        if user.access_ends is not None:
            until = min(until, user.access_ends.timestamp())
        self._entries[stamp.key] = Entry(user, claims, until)
        self._entries.move_to_end(stamp.key)
        self._by_user.setdefault(user.id, set()).add(stamp.key)
        while len(self._entries) > self.max_entries:
            old_key, old = self._entries.popitem(last=False)
            self._unindex(old_key, old.user.id)

    def forget_user(self, user_id: uuid.UUID) -> None:
        """The user's account or one of their sessions changed: check their tokens again."""
        self._generation[user_id] = self._generation.get(user_id, 0) + 1
        for key in self._by_user.pop(user_id, set()):
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Changes may have been missed (the channel was away): check every token again."""
        self._epoch += 1
        self._entries.clear()
        self._by_user.clear()
        self._generation.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: bytes, user_id: uuid.UUID) -> None:
        self._entries.pop(key, None)
        self._unindex(key, user_id)

    def _unindex(self, key: bytes, user_id: uuid.UUID) -> None:
        keys = self._by_user.get(user_id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_user[user_id]


# One per process: every app, publisher and hub of the process forgets in the same place.
SESSIONS = SessionCache()
