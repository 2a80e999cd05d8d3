"""Plant what the API cannot make: an act recorded years ago, in the database of a server the tests
run as another process (the API records acts as they happen)."""

from __future__ import annotations

import os
import subprocess
import sys

_AGE_ACTION = """
import asyncio, sys, uuid
from datetime import timedelta
from backend.actions.tables import Action
from backend.db import bind, engine_from_url
from backend.settings import get_settings

async def main(action_id, days):
    bind(engine_from_url(get_settings().database_url))
    row = await Action.select(Action.occurred_at).where(Action.id == action_id).first()
    await Action.update({Action.occurred_at: row["occurred_at"] - timedelta(days=days)}).where(
        Action.id == action_id
    )

asyncio.run(main(uuid.UUID(sys.argv[1]), int(sys.argv[2])))
"""


def age_action(env: dict[str, str], action_id: str, days: int) -> None:
    """Move an action's time ``days`` back in the database the FIELDWATCH_* ``env`` names."""
    base = {k: v for k, v in os.environ.items() if k != "FIELDWATCH_DATABASE_URL"}  # the suite's own
    done = subprocess.run(
        [sys.executable, "-c", _AGE_ACTION, action_id, str(days)],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
