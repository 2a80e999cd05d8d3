from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.lib.auth import CurrentUser, requires_roles
from backend.lib.clock import today_local
from backend.lib.deps import Integrity, Notify, SignedIn
from backend.lib.errors import AppError, Errors
from backend.training import schemas, services

SUPERVISOR = [requires_roles("supervisor")]
YearPath = Annotated[int, Parameter(ge=2000, le=2999)]
MAX_SHEET = 5 * 2**20  # a score sheet of a few thousand rows is well under this
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class TrainingController(Controller):
    path = "/trainings"
    tags = ["training"]

    @post("/", guards=SUPERVISOR, status_code=HTTP_201_CREATED, summary="Plan a training")
    async def create(self, user: SignedIn, data: JSONBody[schemas.TrainingCreate]) -> schemas.Training:
        return await services.create_training(user, data)

    @get("/", summary="Trainings (an officer: the ones they must attend)")
    async def list_trainings(
        self, user: SignedIn, year: Annotated[int | None, QueryParameter(ge=2000, le=2999)] = None
    ) -> list[schemas.Training]:
        return await services.list_trainings(user, year)

    @get("/mine", summary="My training year: hours, absences, scores and what is still due")
    async def mine(
        self, user: SignedIn, year: Annotated[int | None, QueryParameter(ge=2000, le=2999)] = None
    ) -> schemas.MyTraining:
        return await services.my_training(user, year or today_local().year)

    @get("/{training_id:uuid}", summary="One training")
    async def get_training(self, user: SignedIn, training_id: FromPath[uuid.UUID]) -> schemas.Training:
        return await services.get_training(user, training_id)

    @get("/{training_id:uuid}/attendance", summary="Who must attend, with attendance and scores")
    async def roster(self, user: SignedIn, training_id: FromPath[uuid.UUID]) -> list[schemas.RosterLine]:
        return await services.roster(user, training_id)

    @post(
        "/{training_id:uuid}/attendance",
        guards=SUPERVISOR,
        status_code=HTTP_200_OK,
        summary="Record attendance: present / excused (with a reason) / absent; by officer or scanned card",
    )
    async def attendance(
        self,
        user: SignedIn,
        training_id: FromPath[uuid.UUID],
        integrity: Integrity,
        data: JSONBody[schemas.AttendanceRequest],
    ) -> list[schemas.RosterLine]:
        return await services.record_attendance(user, training_id, data, integrity)

    @post(
        "/{training_id:uuid}/scores",
        guards=SUPERVISOR,
        status_code=HTTP_200_OK,
        request_max_body_size=MAX_SHEET,
        summary="Exam scores: JSON, or a CSV/XLSX sheet; dry_run previews every row and writes nothing",
    )
    async def scores(
        self,
        request: Request[CurrentUser, Any, Any],
        training_id: FromPath[uuid.UUID],
        dry_run: FromQuery[bool] = False,
    ) -> schemas.ScoreImport:
        content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        body = await request.body()
        if content_type == "application/json":
            try:
                data = msgspec.json.decode(body, type=schemas.ScoresIn)
            except msgspec.ValidationError as exc:
                raise AppError(
                    Errors.VALIDATION, str(exc), errors=[{"key": "body", "message": str(exc)}]
                ) from None
            except msgspec.DecodeError:
                raise AppError(Errors.VALIDATION, "The body is not JSON.", errors=[{"key": "body"}]) from None
            rows, source = services.json_rows(data), "manual"
        elif content_type in ("text/csv", XLSX):
            rows, source = services.parse_sheet(content_type, body), "import"
        else:
            raise AppError(Errors.UNSUPPORTED_MEDIA, "Send application/json, text/csv or an XLSX workbook.")
        return await services.import_scores(request.user, training_id, rows, dry_run=dry_run, source=source)


class AssessmentController(Controller):
    path = "/assessments"
    tags = ["training"]

    @get(
        "/{year:int}/rules", summary="The year's rules: minimum hours, compulsory trainings, pass mark, resit"
    )
    async def rules(self, user: SignedIn, year: YearPath) -> schemas.YearRulesView:
        return await services.get_rules(user, year)

    @put("/{year:int}/rules", guards=SUPERVISOR, summary="Set the year's rules")
    async def set_rules(
        self, user: SignedIn, year: YearPath, data: JSONBody[schemas.YearRules]
    ) -> schemas.YearRulesView:
        return await services.set_rules(user, year, data)

    @get(
        "/{year:int}/preview",
        guards=SUPERVISOR,
        summary="The annual run (年度考核) as it would apply now: who is revoked and why, who is exempt",
    )
    async def preview(self, user: SignedIn, year: YearPath) -> schemas.AssessmentPlan:
        return await services.preview(user, year)

    @post(
        "/{year:int}/run",
        guards=SUPERVISOR,
        status_code=HTTP_200_OK,
        summary="Apply the previewed run (its digest): atomic, audited, idempotent",
    )
    async def run(
        self, user: SignedIn, year: YearPath, events: Notify, data: JSONBody[schemas.AssessmentApply]
    ) -> schemas.AssessmentResult:
        return await services.apply(user, year, data, events)
