"""Writing one pre-built websocket frame to many connections, as ``websockets.broadcast()`` does.

Through ASGI every event is framed and written once per client, each send a task wake-up: with
hundreds of watchers that was half the server's time. ``fieldwatch serve`` runs uvicorn with
``FrameProtocol``, which is uvicorn's own websocket protocol plus one ASGI scope extension: the
hub encodes each event's frame once and writes the same bytes to every connection in scope, and
writes all the frames a connection is due in one call (events arriving together are coalesced).

Under any other server the extension is absent and the socket falls back to the ASGI send path.
Server-to-client frames are never masked (RFC 6455 §5.1) and deflate is off, so one frame's bytes
are valid on every connection.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode

EXTENSION = "fieldwatch.frames"


def text_frame(text: str) -> bytes:
    """The unmasked, unfragmented text frame carrying ``text``."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


class Wire(Protocol):
    """What the hub needs of a connection to write frames to it directly."""

    writable: asyncio.Event  # cleared while the transport's buffer is over its high-water mark

    def write_frames(self, frames: list[bytes]) -> bool: ...

    def buffered(self) -> int: ...

    def close_now(self, code: int, reason: str) -> None: ...


class FrameProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol, offering itself as a ``Wire`` in the ASGI scope."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:  # absent when the handshake was refused
            scope["extensions"][EXTENSION] = {"wire": self}

    def write_frames(self, frames: list[bytes]) -> bool:
        """Write whole frames after whatever uvicorn wrote before; False once the connection is closing."""
        if self.close_sent or self.disconnected or self.transport.is_closing():
            return False
        self.transport.writelines(frames)
        return True

    def buffered(self) -> int:
        return self.transport.get_write_buffer_size()

    def close_now(self, code: int, reason: str) -> None:
        """Queue the close frame behind what is buffered, without waiting for the buffer to drain as
        an ASGI send does: a client too slow to read must still be told why it was cut off, and one
        that never reads again is dropped after ``close_timeout``."""
        if self.close_sent or self.disconnected or self.transport.is_closing():
            return
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)


def wire_of(scope: Any) -> Wire | None:
    found = (scope.get("extensions") or {}).get(EXTENSION)
    return found["wire"] if found else None
