"""Publishing: persist the event (for replay), then hand it to the channel once, already encoded.

A channel message is ``<route JSON>\\n<event JSON>``: each process's hub reads the small route to
decide who receives it and forwards the event bytes untouched. Each app has its own ``Publisher``,
handed to handlers as the ``events`` dependency and by them to the services that publish.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, NamedTuple

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import SkipValidation

from backend.accounts.session_cache import SESSIONS
from backend.db import is_postgres
from backend.live.routing import Route
from backend.live.tables import LiveEvent

_encoder = msgspec.json.Encoder()
logger = logging.getLogger(__name__)


def channel_name(prefix: str) -> str:
    """Redis pub/sub names are global to the server: the prefix keeps deployments apart."""
    return f"{prefix}:events"


def encode_event(seq: int, type_: str, at: str, unit_id: uuid.UUID | None, data: Any) -> bytes:
    return _encoder.encode(
        {"type": type_, "id": str(seq), "at": at, "unit_id": str(unit_id) if unit_id else None, "data": data}
    )


class Staged(NamedTuple):
    """An event written with its change (``message``, ready for the channel) or to be written
    when sent (``later``: its type, unit, addressee and data)."""

    message: bytes | None
    later: tuple[str, uuid.UUID | None, uuid.UUID | None, Any] | None


async def _store(type_: str, unit_id: uuid.UUID | None, to: uuid.UUID | None, builtins: Any) -> bytes:
    """Write the event's row (its id is the event id) and return its channel message."""
    rows = await LiveEvent.insert(
        LiveEvent(type=type_, unit_id=unit_id, to_user=to, data=_encoder.encode(builtins).decode())
    ).returning(LiveEvent.id, LiveEvent.at)
    seq, at = rows[0]["id"], rows[0]["at"]
    event = encode_event(seq, type_, at.isoformat(), unit_id, builtins)
    route = _encoder.encode(Route(type=type_, seq=seq, unit_id=unit_id, to=to))
    return route + b"\n" + event


class Publisher:
    """Streams events to one app's channel. Without channels (the command line, scripts) nothing is
    persisted or streamed."""

    def __init__(self, channels: ChannelsPlugin | None = None, channel: str = "events") -> None:
        self.channels = channels
        self.channel = channel

    async def publish(
        self, type_: str, unit_id: uuid.UUID | None, data: Any, *, to: uuid.UUID | None = None
    ) -> None:
        """Call after the change has committed. A channel that cannot be reached does not fail the
        caller: the event is stored, and every hub sends it from the table once the channel is back."""
        await self.send(await self.stage(type_, unit_id, data, to=to, now=True))

    async def stage(
        self,
        type_: str,
        unit_id: uuid.UUID | None,
        data: Any,
        *,
        to: uuid.UUID | None = None,
        now: bool = False,
    ) -> Staged:
        """Call inside the change's transaction, and ``send`` what it returns once it has committed.
        On SQLite the event's row is written in that transaction (one writer, so ids still follow
        the commit order), sparing the writer a second transaction of its own per change; on
        PostgreSQL, where concurrent transactions commit out of id order, it is written at send."""
        if self.channels is None:
            return Staged(None, None)
        builtins = msgspec.to_builtins(data)
        if not now and is_postgres(LiveEvent._meta.db):
            return Staged(None, (type_, unit_id, to, builtins))
        return Staged(await _store(type_, unit_id, to, builtins), None)

    async def send(self, staged: Staged) -> None:
        """Hand a staged event to the channel (after its transaction committed)."""
        if self.channels is None:
            return
        message = staged.message
        if message is None:
            if staged.later is None:
                return
            message = await _store(*staged.later)
        try:
            await self.channels.wait_published(message, [self.channel])
        except Exception as exc:  # Redis away: any driver error; the stored event is replayed later
            route = message.partition(b"\n")[0].decode()
            logger.warning("live: event %s stored but not streamed (%r)", route, exc)

    async def notify(self, type_: str, to: uuid.UUID) -> None:
        """Tell every process's hub about one user (``account.changed``, ``session.revoked``): a
        route alone, not stored (a replay must never hand it out) and never sent to a client. Call
        after the change has committed. This process's session cache forgets the user at once; the
        other processes' hubs make theirs forget when the route reaches them."""
        SESSIONS.forget_user(to)
        if self.channels is None:
            return
        route = _encoder.encode(Route(type=type_, seq=0, to=to))
        await self.channels.wait_published(route + b"\n", [self.channel])


OFFLINE = Publisher()  # for work done outside the server: nothing is streamed
Events = NamedDependency[SkipValidation[Publisher]]  # the app's publisher, as a handler asks for it
