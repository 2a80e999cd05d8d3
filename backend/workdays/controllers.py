from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from backend.lib.auth import requires_roles
from backend.lib.deps import SignedIn
from backend.workdays import schemas, services

# Parsed in the service, so a bad value gets a problem naming the parameter rather than a generic 400.
RawQuery = Annotated[str | None, QueryParameter(max_length=40)]


class CalendarController(Controller):
    path = "/calendar"
    tags = ["calendar"]

    @get("/working-days", summary="The N-th working day after a date (public holidays and 调休)")
    async def working_days(
        self,
        from_: Annotated[str | None, QueryParameter(name="from", max_length=40)] = None,
        add: RawQuery = None,
    ) -> schemas.WorkingDay:
        return await services.working_days(from_, add)

    @get("/years/{year:int}", summary="A year's holidays and make-up working days, and where they come from")
    async def get_year(self, year: FromPath[int]) -> schemas.Year:
        return await services.get_year(year)

    @put(
        "/years/{year:int}",
        guards=[requires_roles("admin")],
        status_code=HTTP_200_OK,
        summary="Load a year's published arrangement (放假安排); provisional deadlines are recomputed",
    )
    async def load_year(
        self, user: SignedIn, year: FromPath[int], data: JSONBody[schemas.YearLoad]
    ) -> schemas.Year:
        return await services.load_year(user, year, data)
