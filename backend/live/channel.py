"""The channel between API processes: Redis pub/sub that outlives Redis going away.

Litestar's own Redis backend subscribes once: with Redis down the app does not start, and when the
connection drops its reader ends and the stream stays dead until a restart. This backend instead
keeps trying, with backoff, and after every (re)subscription hands each subscriber a ``RECONNECTED``
marker so the hub can send what it missed from the live-events table. Publishing raises while Redis
is away; the publisher logs that and the event waits in the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Iterable

from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RECONNECTED = b"\x00reconnected"
"""Put in the stream after the subscription is (re)made: whatever was published meanwhile was lost."""

FIRST_RETRY_S = 0.2
MAX_RETRY_S = 5.0


class ChannelUnavailable(Exception):
    """The channel cannot carry events now."""


class RedisBackend(ChannelsBackend):
    def __init__(self, url: str, *, max_retry_s: float = MAX_RETRY_S) -> None:
        # Short timeouts: a publish or a readiness check must not hang on an unreachable server.
        self._redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._channels: set[str] = set()
        self._pubsub: PubSub | None = None
        self._missed = True  # nothing is subscribed yet: the first subscription is a catch-up too
        self._max_retry_s = max_retry_s
        self.subscribed = False

    async def on_startup(self) -> None:
        """Nothing to connect to yet: the stream connects (and keeps reconnecting) by itself."""

    async def on_shutdown(self) -> None:
        await self._drop_pubsub()
        with contextlib.suppress(RedisError, OSError):
            await self._redis.aclose()

    async def subscribe(self, channels: Iterable[str]) -> None:
        new = set(channels) - self._channels
        self._channels |= new
        if self._pubsub is not None and new:
            try:
                await self._pubsub.subscribe(*new)
            except (RedisError, OSError):
                await self._lost()  # the stream resubscribes to every channel

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        gone = set(channels) & self._channels
        self._channels -= gone
        if self._pubsub is not None and gone:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(*gone)

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        for channel in channels:
            await self._redis.publish(channel, data)

    async def ping(self) -> None:
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            raise ChannelUnavailable(f"redis unreachable: {type(exc).__name__}") from None
        if not self.subscribed:
            raise ChannelUnavailable("redis reachable, subscription not yet restored")

    async def stream_events(self) -> AsyncGenerator[tuple[str, bytes], None]:
        delay = FIRST_RETRY_S
        while True:
            if not self._channels:
                await asyncio.sleep(0.05)
                continue
            try:
                if self._pubsub is None:
                    pubsub = self._redis.pubsub()
                    self._pubsub = pubsub
                    await pubsub.subscribe(*self._channels)
                    self.subscribed = True
                    if self._missed:
                        logger.info("live: channel subscribed; catching up from the events table")
                        self._missed = False
                        for channel in tuple(self._channels):
                            yield channel, RECONNECTED
                    delay = FIRST_RETRY_S
                    continue
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except (RedisError, OSError) as exc:
                if self.subscribed or delay == FIRST_RETRY_S:
                    logger.warning("live: redis unavailable (%r); retrying with backoff", exc)
                await self._lost()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_retry_s)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"].decode()
            if channel in self._channels:
                yield channel, message["data"]

    async def _lost(self) -> None:
        self.subscribed = False
        self._missed = True
        await self._drop_pubsub()

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def get_history(self, channel: str, limit: int | None = None) -> list[bytes]:
        raise NotImplementedError("pub/sub keeps no history: replay comes from the live-events table")


def channels_backend(redis_url: str | None) -> ChannelsBackend:
    """Redis when configured (several API processes share the stream), else in-process memory."""
    return RedisBackend(redis_url) if redis_url else MemoryChannelsBackend(history=0)


async def check(backend: ChannelsBackend) -> None:
    """Raise ChannelUnavailable when events cannot reach other processes now."""
    if isinstance(backend, RedisBackend):
        await backend.ping()
