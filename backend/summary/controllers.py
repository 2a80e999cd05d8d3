from __future__ import annotations

from litestar import Controller, get

from backend.lib.auth import requires_roles
from backend.lib.deps import SignedIn
from backend.live.schemas import Summary
from backend.summary import services
from backend.summary.today import Today, today_for


class SummaryController(Controller):
    path = "/summary"
    tags = ["live"]
    guards = [requires_roles("command", "supervisor", "admin")]

    @get("/", summary="Today's counters for the command center")
    async def summary(self, user: SignedIn) -> Summary:
        return await services.summary(user)


class TodayController(Controller):
    path = "/today"
    tags = ["live"]

    @get("/", summary="What the signed-in person must do today, by role (the to-do card of every home)")
    async def today(self, user: SignedIn) -> Today:
        return await today_for(user)
