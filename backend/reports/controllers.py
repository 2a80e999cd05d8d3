from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.lib import tables
from backend.lib.auth import CurrentUser
from backend.lib.deps import SignedIn
from backend.lib.errors import AppError, Errors
from backend.lib.params import DEFAULT_LIMIT, Cursor, Limit
from backend.live.publish import Events
from backend.reports import exports, reviews, schemas, services
from backend.reports import figures as figs
from backend.reports.periods import current_year, last_month, parse
from media_store.base import content_disposition

ReportId = FromPath[uuid.UUID]
Format = Annotated[Literal["json", "csv", "xlsx", "pdf"] | None, QueryParameter(description="file format")]
PeriodText = Annotated[
    str | None, QueryParameter(max_length=10, description="YYYY, YYYY-MM, YYYY-Qn or YYYY-H1/H2")
]
From = Annotated[date | None, QueryParameter(name="from", description="first day (with to)")]
To = Annotated[date | None, QueryParameter(name="to", description="the day after the last (exclusive)")]
MonthText = Annotated[str, QueryParameter(max_length=7, description="YYYY-MM")]
FigureKey = Annotated[str, QueryParameter(max_length=80)]
ListFormat = Annotated[
    Literal["json", "csv", "xlsx"] | None,
    QueryParameter(
        description=f"csv or xlsx: the whole list (at most {exports.EXPORT_LIMIT} rows) as a file"
    ),
]


def _format(request: Request[CurrentUser, Any, Any], format: str | None) -> str:
    """``?format=`` wins; otherwise the Accept header (text/csv, the XLSX type, application/pdf)."""
    if format:
        return format
    accept = request.headers.get("accept", "")
    for name, media in (("csv", "text/csv"), ("xlsx", tables.XLSX), ("pdf", "application/pdf")):
        if media in accept:
            return name
    return "json"


def _file(body: bytes, kind: str, filename: str) -> Response[bytes]:
    return Response(
        body,
        media_type=tables.MEDIA[kind],
        headers={"Content-Disposition": content_disposition(f"{filename}.{kind}")},
    )


def _list_file(records: schemas.Records, kind: str) -> Response[bytes] | schemas.Records:
    if kind == "json":
        return records
    table = exports.records_table(records)
    body = tables.to_csv(table) if kind == "csv" else tables.to_xlsx(table)
    return _file(body, kind, table.title or records.figure)


def _list_limit(kind: str | None, limit: int) -> int:
    return exports.EXPORT_LIMIT if kind in ("csv", "xlsx") else limit


async def _report_file(report: schemas.Report, kind: str) -> Response[bytes]:
    name = exports.report_title(report)
    table = exports.report_table(report)
    if kind == "csv":
        return _file(tables.to_csv(table, exports.narrative_lines(report)), kind, name)
    if kind == "xlsx":
        return _file(tables.to_xlsx(table, exports.narrative_lines(report)), kind, name)
    return _file(await exports.report_pdf(report), kind, name)


class ReportController(Controller):
    path = "/reports"
    tags = ["reports"]

    @get("/figures", summary="The figure catalogue (keys, labels, groups)")
    async def catalogue(self, user: SignedIn) -> list[schemas.FigureInfo]:
        await services.readable_units(user)
        return services.catalogue()

    @get("/records", summary="The records a figure counts for a unit and period (the same filter)")
    async def records(
        self,
        user: SignedIn,
        figure: FigureKey,
        unit_id: FromQuery[uuid.UUID],
        period: PeriodText = None,
        from_: From = None,
        to: To = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        format: ListFormat = None,
    ) -> Any:
        found = figs.get(figure)
        if found is None:
            raise AppError(Errors.REPORT_FIGURE, f"No figure {figure!r}.", errors=[{"key": "figure"}])
        chosen = parse(period, from_, to, last_month())
        kind = format or "json"
        page = await services.live_records(user, found, unit_id, chosen, _list_limit(kind, limit), cursor)
        return _list_file(page, kind)

    @get(
        "/monthly", summary="A unit's monthly report (drafted once the month is over); JSON, CSV, XLSX or PDF"
    )
    async def monthly(
        self,
        request: Request[CurrentUser, Any, Any],
        unit_id: FromQuery[uuid.UUID],
        month: MonthText,
        format: Format = None,
    ) -> Any:
        report = await services.monthly(request.user, unit_id, month)
        kind = _format(request, format)
        return report if kind == "json" else await _report_file(report, kind)

    @get("/monthly/overview", summary="Every pilot unit's report for a month: who submitted, who is late")
    async def overview(self, user: SignedIn, month: MonthText) -> schemas.Overview:
        return await services.overview(user, month)

    @post("/summaries", status_code=HTTP_201_CREATED, summary="A final summary report over a period")
    async def summary(self, user: SignedIn, data: JSONBody[schemas.SummaryCreate]) -> schemas.Report:
        return await services.summary(user, data)

    @get("/{report_id:uuid}", summary="One report version")
    async def get_report(self, user: SignedIn, report_id: ReportId) -> schemas.Report:
        return await services.get(user, report_id)

    @patch("/{report_id:uuid}", summary="The narrative, while a draft (the unit's responder)")
    async def update(
        self, user: SignedIn, report_id: ReportId, data: JSONBody[schemas.ReportUpdate]
    ) -> schemas.Report:
        return await services.update(user, report_id, data)

    @post(
        ["/{report_id:uuid}/submit", "/monthly/{report_id:uuid}/submit"],
        status_code=HTTP_200_OK,
        summary="Submit: the figures are frozen as of now",
    )
    async def submit(self, user: SignedIn, report_id: ReportId) -> schemas.Report:
        return await services.submit(user, report_id)

    @post("/{report_id:uuid}/comments", status_code=HTTP_201_CREATED, summary="Comment on a report")
    async def comment(
        self, user: SignedIn, report_id: ReportId, data: JSONBody[schemas.CommentCreate]
    ) -> schemas.Report:
        return await services.comment(user, report_id, data)

    @post(
        "/{report_id:uuid}/accept", status_code=HTTP_200_OK, summary="Accept a submitted report (the bureau)"
    )
    async def accept(self, user: SignedIn, report_id: ReportId) -> schemas.Report:
        return await services.accept(user, report_id)

    @post(
        "/{report_id:uuid}/correct",
        status_code=HTTP_201_CREATED,
        summary="Correct a submitted report: a new draft version",
    )
    async def correct(self, user: SignedIn, report_id: ReportId) -> schemas.Report:
        return await services.correct(user, report_id)

    @get("/{report_id:uuid}/records", summary="The records behind one figure of this version")
    async def report_records(
        self,
        user: SignedIn,
        report_id: ReportId,
        figure: FigureKey,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        format: ListFormat = None,
    ) -> Any:
        kind = format or "json"
        page = await services.report_records(user, report_id, figure, _list_limit(kind, limit), cursor)
        return _list_file(page, kind)

    @get("/{report_id:uuid}/export", summary="The report as CSV, XLSX or PDF")
    async def export(
        self,
        user: SignedIn,
        report_id: ReportId,
        format: Annotated[Literal["csv", "xlsx", "pdf"], QueryParameter()],
    ) -> Response[bytes]:
        return await _report_file(await services.get(user, report_id), format)

    @get(
        "/assessment",
        summary="The assessment table: indicators, scores, ranks, change; JSON, CSV, XLSX or PDF",
    )
    async def assessment(
        self,
        request: Request[CurrentUser, Any, Any],
        period: PeriodText = None,
        from_: From = None,
        to: To = None,
        format: Format = None,
    ) -> Any:
        table = await services.assessment(request.user, parse(period, from_, to, current_year()))
        kind = _format(request, format)
        if kind == "json":
            return table
        name = exports.assessment_table(table).title
        if kind == "csv":
            return _file(tables.to_csv(exports.assessment_table(table)), kind, name)
        if kind == "xlsx":
            lines = exports.formula_lines(table)
            return _file(tables.to_xlsx(exports.assessment_table(table), lines), kind, name)
        return _file(await exports.assessment_pdf(table), kind, name)

    @get("/assessment/records", summary="The records behind one indicator of one unit")
    async def assessment_records(
        self,
        user: SignedIn,
        unit_id: FromQuery[uuid.UUID],
        indicator: Annotated[str, QueryParameter(max_length=40)],
        part: FromQuery[Literal["numerator", "denominator"]] = "numerator",
        period: PeriodText = None,
        from_: From = None,
        to: To = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        format: ListFormat = None,
    ) -> Any:
        chosen = parse(period, from_, to, current_year())
        kind = format or "json"
        page = await services.assessment_records(
            user, unit_id, indicator, part, chosen, _list_limit(kind, limit), cursor
        )
        return _list_file(page, kind)

    @get("/assessment/weights", summary="The indicator weights")
    async def get_weights(self, user: SignedIn) -> schemas.Weights:
        await services.readable_units(user)
        return schemas.Weights(weights=await services.weights())

    @put("/assessment/weights", summary="Set indicator weights (the bureau)")
    async def set_weights(self, user: SignedIn, data: JSONBody[schemas.WeightsUpdate]) -> schemas.Weights:
        return await services.set_weights(user, data)


class CaseReviewController(Controller):
    path = "/case-reviews"
    tags = ["reports"]

    @post(
        "/draw",
        status_code=HTTP_201_CREATED,
        summary="Draw a random sample of a unit's closed cases (双随机)",
    )
    async def draw(self, user: SignedIn, data: JSONBody[schemas.DrawCreate]) -> schemas.Draw:
        return await reviews.draw(user, data)

    @get("/", summary="Draws, newest first")
    async def list_draws(
        self, user: SignedIn, unit_id: FromQuery[uuid.UUID | None] = None, limit: Limit = 50
    ) -> list[schemas.Draw]:
        return await reviews.list_draws(user, unit_id, limit)

    @get("/{draw_id:uuid}", summary="One draw with its files and their scores")
    async def get_draw(self, user: SignedIn, draw_id: FromPath[uuid.UUID]) -> schemas.Draw:
        return await reviews.get(user, draw_id)

    @post("/{draw_id:uuid}/score", status_code=HTTP_201_CREATED, summary="Score one file of the draw")
    async def score(
        self,
        user: SignedIn,
        events: Events,
        draw_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.ScoreCreate],
    ) -> schemas.Draw:
        return await reviews.score(user, draw_id, data, events)
