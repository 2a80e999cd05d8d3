"""案卷评查: a random, reproducible sample of a unit's closed cases, and one score sheet per file.

The draw is ``random.Random(seed).sample(population, size)`` over the unit's cases closed in the
period, ordered by id; the seed and the population are kept, so anyone can redo the draw and get the
same files. A veto item (基本标准) fails a file outright; otherwise it scores 20 points of form
(卷面) and 80 of content (内容), and passes at ``PASS_MARK``. Two vetoes the server can see for
itself are added to any sheet: fewer than two officers on an act of the case, and a missed transfer
(closed at or above the item's criminal threshold without a transfer)."""

from __future__ import annotations

import random
import secrets
import uuid
from typing import Any

from backend.actions.tables import ActionOfficer
from backend.audit import services as audit
from backend.cases.tables import Case, CaseAction
from backend.corrective import services as corrective
from backend.db import atomic, is_unique_violation, json_value
from backend.lib.auth import CurrentUser
from backend.lib.errors import AppError, Errors
from backend.live.publish import Publisher
from backend.org.tables import Item, Unit
from backend.reports import schemas
from backend.reports.periods import Period, parse
from backend.reports.services import is_bureau, readable_units, require_unit
from backend.reports.tables import FileReviewDraw, FileReviewScore

PASS_MARK = 60


def draw_sample(seed: str, population: list[str], size: int) -> list[str]:
    """The files a draw picks: the same seed and population always give the same files."""
    return random.Random(seed).sample(population, min(size, len(population)))


def _bureau_only(viewer: CurrentUser) -> None:
    if not is_bureau(viewer):
        raise AppError(Errors.FORBIDDEN, "The justice bureau draws and scores case files.")


async def draw(viewer: CurrentUser, data: schemas.DrawCreate) -> schemas.Draw:
    _bureau_only(viewer)
    if not await Unit.exists().where(Unit.id == data.unit_id):
        raise AppError(
            Errors.UNIT_NOT_FOUND, "No such unit.", errors=[{"key": "unit_id", "message": "unknown"}]
        )
    period = parse(None, data.from_, data.to, Period(data.from_, data.to))
    rows = await Case.select(Case.id).where(
        (Case.unit == data.unit_id)
        & (Case.status == "closed")
        & (Case.closed_at >= period.start_at)
        & (Case.closed_at < period.end_at)
    )
    population = sorted(str(r["id"]) for r in rows)
    if not population:
        raise AppError(
            Errors.REVIEW_NO_CASES, "The unit closed no case in that period: there is nothing to draw."
        )
    seed = data.seed or secrets.token_hex(8)
    picked = draw_sample(seed, population, data.size)
    draw_id = uuid.uuid4()
    async with atomic():
        await FileReviewDraw.insert(
            FileReviewDraw(
                id=draw_id,
                unit_id=data.unit_id,
                period_from=period.start,
                period_to=period.end,
                seed=seed,
                size=len(picked),
                population=population,
                case_ids=picked,
                drawn_by=viewer.id,
            )
        ).run()
        await audit.record(
            viewer,
            "case_review.drawn",
            "case_review",
            draw_id,
            {"unit_id": str(data.unit_id), "seed": seed, "population": len(population), "cases": picked},
        )
    return await get(viewer, draw_id)


async def _draw_row(viewer: CurrentUser, draw_id: uuid.UUID) -> dict[str, Any]:
    row = await FileReviewDraw.select().where(FileReviewDraw.id == draw_id).first()
    units = await readable_units(viewer)
    if row is None or (units is not None and row["unit_id"] not in units):
        raise AppError(Errors.NOT_FOUND, "No such draw.")
    return row


def _score(row: dict[str, Any]) -> schemas.Score:
    return schemas.Score(
        case_id=row["case_id"],
        vetoes=json_value(row["vetoes"], []),
        form_score=row["form_score"],
        content_score=row["content_score"],
        total=row["total"],
        passed=bool(row["passed"]),
        comment=row["comment"],
        reviewer_id=row["reviewer_id"],
        scored_at=row["scored_at"],
    )


async def get(viewer: CurrentUser, draw_id: uuid.UUID) -> schemas.Draw:
    row = await _draw_row(viewer, draw_id)
    ids = [uuid.UUID(i) for i in json_value(row["case_ids"], [])]
    cases = {
        r["id"]: r
        for r in await Case.select(
            Case.id, Case.number, Case.item.name.as_alias("item_name"), Case.closed_at
        ).where(Case.id.is_in(ids or [uuid.UUID(int=0)]))
    }
    scores = {
        r["case_id"]: _score(r)
        for r in await FileReviewScore.select().where(FileReviewScore.draw_id == draw_id)
    }
    unit = await Unit.select(Unit.name).where(Unit.id == row["unit_id"]).first()
    return schemas.Draw(
        id=row["id"],
        unit_id=row["unit_id"],
        unit_name=unit["name"] if unit else "",
        period_from=row["period_from"],
        period_to=row["period_to"],
        seed=row["seed"],
        size=row["size"],
        population=len(json_value(row["population"], [])),
        cases=[
            schemas.DrawnCase(
                case_id=i,
                number=cases[i]["number"] if i in cases else "",
                item_name=cases[i]["item_name"] if i in cases else "",
                closed_at=cases[i]["closed_at"] if i in cases else None,
                score=scores.get(i),
            )
            for i in ids
        ],
        drawn_by=row["drawn_by"],
        drawn_at=row["drawn_at"],
        pass_mark=PASS_MARK,
    )


async def list_draws(viewer: CurrentUser, unit_id: uuid.UUID | None, limit: int) -> list[schemas.Draw]:
    units = await readable_units(viewer)
    query = FileReviewDraw.select(FileReviewDraw.id).order_by(FileReviewDraw.drawn_at, ascending=False)
    if unit_id is not None:
        await require_unit(viewer, unit_id)
        query = query.where(FileReviewDraw.unit_id == unit_id)
    elif units is not None:
        query = query.where(FileReviewDraw.unit_id.is_in(list(units)))
    return [await get(viewer, r["id"]) for r in await query.limit(limit)]


async def detected_vetoes(case_id: uuid.UUID) -> list[str]:
    """The veto items the records show by themselves."""
    found = []
    acts = [r["action"] for r in await CaseAction.select(CaseAction.action).where(CaseAction.case == case_id)]
    if acts:
        officers: dict[Any, int] = {a: 0 for a in acts}
        for r in await ActionOfficer.select(ActionOfficer.action).where(ActionOfficer.action.is_in(acts)):
            officers[r["action"]] += 1
        if any(n < 2 for n in officers.values()):
            found.append("执法人员不足2人")
    case = await Case.select(Case.amount_involved, Case.transfer, Case.item).where(Case.id == case_id).first()
    if case and case["amount_involved"] is not None and not json_value(case["transfer"]):
        item = (
            await Item.select(Item.kind, Item.criminal_amount_at_least).where(Item.id == case["item"]).first()
        )
        threshold = item["criminal_amount_at_least"] if item else None
        if (
            item
            and item["kind"] == "penalty"
            and threshold is not None
            and case["amount_involved"] >= threshold
        ):
            found.append("应移送未移送")
    return found


async def score(
    viewer: CurrentUser, draw_id: uuid.UUID, data: schemas.ScoreCreate, events: Publisher
) -> schemas.Draw:
    """One file's sheet; a failed file opens a corrective action (整改任务) for its unit."""
    _bureau_only(viewer)
    row = await _draw_row(viewer, draw_id)
    if str(data.case_id) not in json_value(row["case_ids"], []):
        raise AppError(
            Errors.REVIEW_NOT_DRAWN,
            "The case is not one of this draw's files.",
            errors=[{"key": "case_id", "message": "not drawn"}],
        )
    vetoes = sorted(set(data.vetoes) | set(await detected_vetoes(data.case_id)), key=schemas.VETOES.index)
    total = 0 if vetoes else data.form_score + data.content_score
    passed = not vetoes and total >= PASS_MARK
    score_id = uuid.uuid4()
    try:
        async with atomic():
            if await FileReviewScore.exists().where(
                (FileReviewScore.draw_id == draw_id) & (FileReviewScore.case_id == data.case_id)
            ):
                raise AppError(Errors.REVIEW_SCORED, "This file is already scored in this draw.")
            await FileReviewScore.insert(
                FileReviewScore(
                    id=score_id,
                    draw_id=draw_id,
                    case_id=data.case_id,
                    unit_id=row["unit_id"],
                    vetoes=vetoes,
                    form_score=data.form_score,
                    content_score=data.content_score,
                    total=total,
                    passed=passed,
                    comment=data.comment.strip(),
                    reviewer_id=viewer.id,
                )
            ).run()
            await audit.record(
                viewer,
                "case_review.scored",
                "case_review",
                draw_id,
                {"case_id": str(data.case_id), "vetoes": vetoes, "total": total, "passed": passed},
            )
    except Exception as exc:
        if is_unique_violation(exc):
            raise AppError(Errors.REVIEW_SCORED, "This file is already scored in this draw.") from None
        raise
    if not passed:
        case = await Case.select(Case.number).where(Case.id == data.case_id).first()
        reasons = [f"否决项：{v}" for v in vetoes] or [f"得分{total}分，低于合格线{PASS_MARK}分"]
        if data.comment.strip():
            reasons.append(data.comment.strip())
        await corrective.from_failed_case_file(
            viewer, score_id, row["unit_id"], case["number"] if case else "", reasons, events
        )
    return await get(viewer, draw_id)
