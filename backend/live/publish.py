"""Publishing: persist the event (for replay), then hand it to the channel once, already encoded.

A channel message is ``<route JSON>\\n<event JSON>``: each process's hub reads the small route to
decide who receives it and forwards the event bytes untouched. Each app has its own ``Publisher``,
handed to handlers as the ``events`` dependency and by them to the services that publish.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import SkipValidation

from backend.accounts.session_cache import SESSIONS
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
        if self.channels is None:
            return
        builtins = msgspec.to_builtins(data)
        rows = await LiveEvent.insert(
            LiveEvent(type=type_, unit_id=unit_id, to_user=to, data=_encoder.encode(builtins).decode())
        ).returning(LiveEvent.id, LiveEvent.at)
        seq, at = rows[0]["id"], rows[0]["at"]
        event = encode_event(seq, type_, at.isoformat(), unit_id, builtins)
        route = _encoder.encode(Route(type=type_, seq=seq, unit_id=unit_id, to=to))
        try:
            await self.channels.wait_published(route + b"\n" + event, [self.channel])
        except Exception as exc:  # Redis away: any driver error; the stored event is replayed later
            logger.warning("live: event %s stored but not streamed (%r)", seq, exc)

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
