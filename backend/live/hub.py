"""One hub per API process: a single channel subscription fanned out to this process's sockets.

Each event arrives encoded once; the hub decodes only its small route, then hands the same bytes
(under ``fieldwatch serve`` one websocket frame, see ``wire.py``) to every client allowed to see
it. A client whose queue is full is disconnected (close code 4429) rather than slowing everyone
else down.

When the channel comes back after an outage (``channel.RECONNECTED``), the hub sends its clients
the events stored meanwhile from the live-events table, each once, then carries on live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Callable

import msgspec
from litestar.channels import ChannelsPlugin, Subscriber
from litestar.channels.backends.base import ChannelsBackend
from litestar.di import NamedDependency
from litestar.params import SkipValidation

from backend.accounts.services import live_sessions, load_current_user
from backend.accounts.session_cache import SESSIONS
from backend.lib.auth import CurrentUser
from backend.lib.clock import utcnow
from backend.lib.errors import AppError
from backend.live import channel as live_channel
from backend.live import services
from backend.live.routing import INTERNAL_TYPES, Audience, Route, visible
from backend.live.wire import Wire, text_frame

logger = logging.getLogger(__name__)
_route_decoder = msgspec.json.Decoder(Route)
CLOSE_UNAUTHORISED = 4401  # no valid token, or the session ended while connected
CLOSE_TOO_SLOW = 4429  # the client did not keep up with the stream


class Client:
    """One socket's share of the stream. Under ``fieldwatch serve`` it has a ``wire``: the hub writes
    frames to the connection directly, those due at one flush in one write, and the messages due or
    still in the transport's buffer are what counts against the queue limit. Otherwise messages wait
    in ``queue`` for the socket's sender task (the ASGI path)."""

    __slots__ = (
        "access_timer",
        "audience",
        "close_code",
        "delivered",
        "floor",
        "held",
        "marks",
        "on_close",
        "outbox",
        "pending",
        "queue",
        "replaying",
        "types",
        "user",
        "wake",
        "wire",
        "written",
    )

    def __init__(self, user: CurrentUser, max_queue: int, wire: Wire | None = None) -> None:
        self.user = user
        self.audience = Audience.of(user)
        self.access_timer: asyncio.TimerHandle | None = None
        self.queue: asyncio.Queue[str] = asyncio.Queue(max_queue)
        self.close_code: int | None = None
        self.on_close: Callable[[], object] = lambda: None
        self.types: frozenset[str] | None = None
        self.replaying = False
        self.pending: list[tuple[int, str]] = []
        # Recently delivered ids, so a replay never repeats what already went out live.
        self.delivered: deque[int] = deque(maxlen=2048)
        # The last event id the client was told of at connection: a catch-up sends nothing older
        # (nothing at all until the socket has told it, right after connecting).
        self.floor = 2**63 - 1
        self.wire = wire
        self.outbox: list[bytes] = []  # frames due at the next flush
        self.written = 0  # bytes this client has written to its wire
        self.marks: deque[int] = deque()  # where each written frame ends, while it may be buffered
        self.held = wire is not None  # nothing is written before the socket's hello
        self.wake: Callable[[Client], None] = lambda client: None

    def wants(self, route: Route) -> bool:
        return visible(self.audience, route) and (self.types is None or route.type in self.types)

    def offer(self, seq: int, text: str, frame: bytes | None = None) -> None:
        if self.replaying:
            if len(self.pending) < self.queue.maxsize:
                self.pending.append((seq, text))
            else:
                self.overflow()
            return
        if self.wire is None:
            try:
                self.queue.put_nowait(text)
            except asyncio.QueueFull:
                self.overflow()
                return
        elif self.has_room():
            self._due(frame or text_frame(text))
        else:
            self.overflow()
            return
        self.delivered.append(seq)

    def notify(self, text: str, frame: bytes | None = None) -> None:
        """A message that is not an event (heartbeat, account changed): dropped, not fatal, when full."""
        if self.wire is None:
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(text)
        elif self.has_room():
            self._due(frame or text_frame(text))

    async def put(self, text: str) -> None:
        """Send, waiting for room: a replay is sent at the pace the client reads it."""
        if self.wire is None:
            await self.queue.put(text)
            return
        self._due(text_frame(text))
        self.flush()
        while not self.wire.writable.is_set() and self.close_code is None:
            await self.wire.writable.wait()

    def _due(self, frame: bytes) -> None:
        if not self.outbox:
            self.wake(self)
        self.outbox.append(frame)

    def flush(self) -> None:
        if self.held or not self.outbox or self.wire is None:
            return
        due, self.outbox = self.outbox, []
        if not self.wire.write_frames(due):
            return  # closing: the socket's receive loop ends
        written, marks = self.written, self.marks
        for frame in due:
            written += len(frame)
            marks.append(written)
        self.written = written

    def release(self) -> None:
        """The hello went out: write what arrived meanwhile."""
        self.held = False
        self.flush()

    def has_room(self) -> bool:
        """Fewer than ``max_queue`` messages wait for this client: due, or written and still in the
        wire's buffer (not yet taken by the kernel), as they waited in the queue before."""
        if len(self.marks) + len(self.outbox) < self.queue.maxsize:
            return True  # ``marks`` only over-counts what is buffered: no need to look closer
        assert self.wire is not None
        sent = self.written - self.wire.buffered()
        marks = self.marks
        while marks and marks[0] <= sent:
            marks.popleft()
        return len(marks) + len(self.outbox) < self.queue.maxsize

    def overflow(self) -> None:
        self.close(CLOSE_TOO_SLOW)

    def close(self, code: int) -> None:
        """Stop serving this client; the socket handler closes the connection with ``code``."""
        if self.close_code is None:
            self.close_code = code
            self.on_close()


# Idle, an event is written at once; in a steady stream, sockets are written at most this often.
FLUSH_INTERVAL = 0.05
HEARTBEAT = '{"type":"heartbeat"}'
HEARTBEAT_FRAME = text_frame(HEARTBEAT)
# Told to a user's open sockets when their account changed (roles kept): the app reloads /me, so a
# certificate revoked or suspended shows on the officer's phone at once. Not stored, no id.
ME_CHANGED = '{"type":"me.changed"}'


class Hub:
    def __init__(
        self,
        channels: ChannelsPlugin,
        channel: str,
        max_queue: int = 256,
        heartbeat_s: float = 25,
        backend: ChannelsBackend | None = None,
    ) -> None:
        self.channels = channels
        self.channel = channel
        self.max_queue = max_queue
        self.heartbeat_s = heartbeat_s
        self.backend = backend
        self.clients: set[Client] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self.last_seq: int | None = None  # the newest event this hub has handed on (None: unknown)
        self._caught_up: set[int] = set()  # ids the last catch-up sent, in case they also arrive live
        self._due: list[Client] = []  # clients with frames to write at the next flush
        self._flushed = 0.0  # the loop time of the last flush

    async def check(self) -> None:
        """Raise ``channel.ChannelUnavailable`` while events cannot reach other processes."""
        if self.backend is not None:
            await live_channel.check(self.backend)

    async def start(self) -> None:
        try:
            self.last_seq = await services.last_event_id()
        except Exception:  # the database may be away: the first catch-up starts from its next id
            logger.warning("live: could not read the last event id at start", exc_info=True)
        subscriber = await self.channels.subscribe([self.channel])
        self._tasks = [
            asyncio.create_task(self._run(subscriber), name="live-hub"),
            asyncio.create_task(self._keepalive(), name="live-keepalive"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keepalive(self) -> None:
        """One loop for all sockets: a heartbeat lets a browser notice a dead link, and a batched
        session check ends the stream of anyone logged out, disabled or revoked meanwhile."""
        while True:
            await asyncio.sleep(self.heartbeat_s)
            clients = tuple(self.clients)
            if not clients:
                continue
            try:
                alive = await live_sessions({c.user.session_id for c in clients})
            except Exception:  # the database may be briefly away: check again next round
                logger.exception("live: session check failed")
                continue
            for client in clients:
                if client.user.session_id not in alive:
                    client.close(CLOSE_UNAUTHORISED)
                    continue
                client.notify(HEARTBEAT, HEARTBEAT_FRAME)

    def connect(self, user: CurrentUser, wire: Wire | None = None) -> Client:
        client = Client(user, self.max_queue, wire)
        client.wake = self._wake
        self.clients.add(client)
        self._close_at_access_end(client)
        return client

    def _wake(self, client: Client) -> None:
        """Write ``client``'s frames once this loop turn's events are all in, and under a steady
        stream at most once per ``FLUSH_INTERVAL``: events arriving meanwhile go out in one write
        per client (a write per client per event was most of the fan-out's cost)."""
        if not self._due:
            loop = asyncio.get_running_loop()
            wait = self._flushed + FLUSH_INTERVAL - loop.time()
            if wait > 0:
                loop.call_later(wait, self._flush)
            else:
                loop.call_soon(self._flush)
        self._due.append(client)

    def _flush(self) -> None:
        self._flushed = asyncio.get_running_loop().time()
        due, self._due = self._due, []
        for client in due:
            client.flush()

    def disconnect(self, client: Client) -> None:
        self.clients.discard(client)
        if client.access_timer is not None:
            client.access_timer.cancel()

    def _close_at_access_end(self, client: Client) -> None:
        """Access that ends at a set time (an invitation's) ends the stream then, not at the next
        heartbeat's session check."""
        if client.access_timer is not None:
            client.access_timer.cancel()
            client.access_timer = None
        ends = client.user.access_ends
        if ends is not None:
            delay = max((ends - utcnow()).total_seconds(), 0)
            loop = asyncio.get_running_loop()
            client.access_timer = loop.call_later(delay, client.close, CLOSE_UNAUTHORISED)

    async def rescope(self, user_id: uuid.UUID) -> None:
        """This user's account or sessions changed (an admin's change, a logout, a replayed refresh
        token): reload each of their sockets' session. Still valid with the same roles: the socket
        carries on with the new units and is told ``me.changed`` (the app reloads the user: a
        certificate's status, say). Ended, disabled, or other roles: it closes with 4401, and the
        app reconnects as who the user is now (the screens it shows depend on the roles)."""
        for client in [c for c in self.clients if c.audience.user_id == user_id]:
            try:
                async with asyncio.timeout(5):
                    user = await load_current_user(user_id, client.user.session_id)
            except AppError:
                client.close(CLOSE_UNAUTHORISED)
                continue
            except Exception:  # the database is away: fail closed, the client reconnects and is checked
                logger.exception("live: reloading a changed account failed")
                client.close(CLOSE_UNAUTHORISED)
                continue
            if user.roles != client.user.roles:
                client.close(CLOSE_UNAUTHORISED)
                continue
            client.user = user
            client.audience = Audience.of(user)
            self._close_at_access_end(client)
            client.notify(ME_CHANGED)

    async def _run(self, subscriber: Subscriber) -> None:
        async for message in subscriber.iter_events():
            if message == live_channel.RECONNECTED:
                SESSIONS.clear()  # account changes announced while the channel was away are lost
                await self._catch_up()
                continue
            head, _, body = message.partition(b"\n")
            try:
                route = _route_decoder.decode(head)
            except msgspec.DecodeError:
                logger.warning("live: dropped a malformed channel message")
                continue
            if route.type in INTERNAL_TYPES:
                if route.to is None:
                    continue
                SESSIONS.forget_user(route.to)
                if route.type == "session.revoked":
                    # Access withdrawn (an invitation revoked): close at once.
                    for client in tuple(self.clients):
                        if client.audience.user_id == route.to:
                            client.close(CLOSE_UNAUTHORISED)
                else:
                    # Awaited here, not in a task: events published after the change are routed
                    # with the new scope, never the old one.
                    await self.rescope(route.to)
                continue
            if self._caught_up and route.seq in self._caught_up:
                continue  # published just as the channel came back: the catch-up sent it
            if self.last_seq is None or route.seq > self.last_seq:
                self.last_seq = route.seq
            text = body.decode()
            frame = text_frame(text)  # once, for every connection that may see it
            for client in tuple(self.clients):
                if client.wants(route):
                    client.offer(route.seq, text, frame)

    async def _catch_up(self) -> None:
        """Send the events stored since the last one handed on, oldest first, to those who may see
        them and were connected before them; retried at the next reconnection if the database is away."""
        if self.last_seq is None:
            try:
                self.last_seq = await services.last_event_id()
            except Exception:
                logger.warning("live: catch-up skipped, the database is unavailable", exc_info=True)
            return
        # Account changes are not stored, so one made while the channel was away is not replayed:
        # check every connected user's session and scope again instead.
        for user_id in {client.audience.user_id for client in self.clients}:
            await self.rescope(user_id)
        sent: set[int] = set()
        try:
            while True:
                count = 0
                async for route, text in services.replay(self.last_seq):
                    count += 1
                    self.last_seq = max(self.last_seq, route.seq)
                    sent.add(route.seq)
                    frame = text_frame(text)
                    for client in tuple(self.clients):
                        fresh = route.seq > client.floor and route.seq not in client.delivered
                        if fresh and client.wants(route):
                            client.offer(route.seq, text, frame)
                if count < services.REPLAY_LIMIT:
                    break
        except Exception:
            logger.warning("live: catch-up from the events table failed", exc_info=True)
        self._caught_up = sent
        if sent:
            logger.info("live: caught up %d events missed while the channel was away", len(sent))


LiveHub = NamedDependency[SkipValidation[Hub]]
