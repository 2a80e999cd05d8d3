"""Publishing live events. Services publish after their transaction commits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin

LIVE_CHANNEL = "events"
_channels: ChannelsPlugin | None = None


def configure(channels: ChannelsPlugin | None) -> None:
    global _channels
    _channels = channels


def publish(event_type: str, unit_id: uuid.UUID | None, data: Any) -> None:
    """Encode once and hand to the channel backend; a no-op when no channel is configured (CLI)."""
    if _channels is None:
        return
    event = {
        "type": event_type,
        "id": uuid.uuid4().hex,
        "at": datetime.now(UTC).isoformat(),
        "unit_id": str(unit_id) if unit_id else None,
        "data": data,
    }
    _channels.publish(msgspec.json.encode(event), channels=[LIVE_CHANNEL])
