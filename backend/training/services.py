"""Trainings, attendance, exam scores, the year's rules, the officer's own view, and the annual run
(年度考核) that revokes the certificates of officers who missed compulsory training without excuse
or failed an exam (根据年度通用法律知识培训考核结果，注销并收回…执法证件).

Who must attend a training is worked out when asked: the officers it names and the officers (by
role) who belong to the units it names now."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import msgspec
from openpyxl import load_workbook

from backend.accounts import services as accounts
from backend.accounts.certificates import effective_status, read_card_token
from backend.accounts.tables import Certificate, Membership, User
from backend.audit import services as audit
from backend.db import atomic, current_engine, is_postgres, json_value
from backend.lib.auth import CurrentUser
from backend.lib.clock import today_local, utcnow
from backend.lib.deps import Notifier
from backend.lib.errors import AppError, Errors
from backend.lib.signing import IntegrityKey
from backend.org.tables import Unit
from backend.supervision.tables import SpotCheck
from backend.training import schemas
from backend.training.tables import (
    AssessmentRun,
    Attendance,
    ExamScore,
    Training,
    TrainingTarget,
    TrainingYear,
)

PLANNERS = ("supervisor",)
_RUN_LOCK = 0x66770000  # + the year: the advisory lock key of one year's annual run
READERS = ("supervisor", "admin", "command")


def _plans(actor: CurrentUser) -> None:
    if not actor.has_any(*PLANNERS):
        raise AppError(Errors.FORBIDDEN, "Only supervisors (the justice bureau) plan and run training.")


def _not_found() -> AppError:
    return AppError(Errors.NOT_FOUND, "No such training.")


# --- who must attend -----------------------------------------------------------------------------


async def _officers_of_units(unit_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Active officers (by role) who belong to these units now."""
    if not unit_ids:
        return set()
    members = {
        r["user"] for r in await Membership.select(Membership.user).where(Membership.unit.is_in(unit_ids))
    }
    if not members:
        return set()
    officers = await User.select(User.id).where(
        User.id.is_in(list(members)) & accounts.role_filter("officer") & (User.active == True)  # noqa: E712
    )
    return {r["id"] for r in officers}


async def _targets(training_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[list[uuid.UUID], list[uuid.UUID]]]:
    """training → (named officers, named units)."""
    out: dict[uuid.UUID, tuple[list[uuid.UUID], list[uuid.UUID]]] = {t: ([], []) for t in training_ids}
    if not training_ids:
        return out
    for r in await TrainingTarget.select().where(TrainingTarget.training_id.is_in(training_ids)):
        officers, units = out[r["training_id"]]
        if r["officer_id"] is not None:
            officers.append(r["officer_id"])
        if r["unit_id"] is not None:
            units.append(r["unit_id"])
    return out


async def _required(training_ids: list[uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
    targets = await _targets(training_ids)
    unit_officers: dict[uuid.UUID, set[uuid.UUID]] = {}
    out: dict[uuid.UUID, set[uuid.UUID]] = {}
    for training_id, (officers, units) in targets.items():
        required = set(officers)
        for unit_id in units:
            if unit_id not in unit_officers:
                unit_officers[unit_id] = await _officers_of_units([unit_id])
            required |= unit_officers[unit_id]
        out[training_id] = required
    return out


# --- views ---------------------------------------------------------------------------------------


async def _rules(year: int) -> schemas.YearRulesView:
    row = await TrainingYear.select().where(TrainingYear.year == year).first()
    if row is None:
        return schemas.YearRulesView(
            year=year, min_hours=0.0, compulsory_ids=[], pass_mark=60.0, resit=True, stored=False
        )
    return schemas.YearRulesView(
        year=year,
        min_hours=row["min_hours"],
        compulsory_ids=[uuid.UUID(str(i)) for i in json_value(row["compulsory_ids"], [])],
        pass_mark=row["pass_mark"],
        resit=row["resit"],
        stored=True,
    )


def _pass_mark(row: dict[str, Any], rules: schemas.YearRulesView) -> float | None:
    if not row["has_exam"]:
        return None
    return row["pass_mark"] if row["pass_mark"] is not None else rules.pass_mark


async def _views(rows: list[dict[str, Any]]) -> list[schemas.Training]:
    ids = [r["id"] for r in rows]
    targets = await _targets(ids)
    required = await _required(ids)
    marks: dict[uuid.UUID, dict[uuid.UUID, str]] = defaultdict(dict)
    if ids:
        for a in await Attendance.select(
            Attendance.training_id, Attendance.officer_id, Attendance.status
        ).where(Attendance.training_id.is_in(ids)):
            marks[a["training_id"]][a["officer_id"]] = a["status"]
    unit_ids = list({r["organiser_unit_id"] for r in rows})
    names = (
        {u["id"]: u["name"] for u in await Unit.select(Unit.id, Unit.name).where(Unit.id.is_in(unit_ids))}
        if unit_ids
        else {}
    )
    rules_of: dict[int, schemas.YearRulesView] = {}
    views = []
    for r in rows:
        if r["year"] not in rules_of:
            rules_of[r["year"]] = await _rules(r["year"])
        rules = rules_of[r["year"]]
        req = required[r["id"]]
        seen = marks[r["id"]]
        statuses = [seen.get(o) for o in req]
        views.append(
            schemas.Training(
                id=r["id"],
                title=r["title"],
                format=r["format"],
                organiser_unit_id=r["organiser_unit_id"],
                organiser_unit_name=names.get(r["organiser_unit_id"], ""),
                held_on=r["held_on"],
                year=r["year"],
                hours=r["hours"],
                trainer=r["trainer"],
                has_exam=r["has_exam"],
                pass_mark=_pass_mark(r, rules),
                max_score=r["max_score"],
                resit_of=r["resit_of"],
                compulsory=r["id"] in rules.compulsory_ids,
                officer_ids=sorted(targets[r["id"]][0]),
                unit_ids=sorted(targets[r["id"]][1]),
                counts=schemas.AttendanceCounts(
                    required=len(req),
                    present=statuses.count("present"),
                    excused=statuses.count("excused"),
                    absent=statuses.count("absent"),
                    unrecorded=statuses.count(None),
                ),
            )
        )
    return views


async def _row(actor: CurrentUser, training_id: uuid.UUID) -> dict[str, Any]:
    """The training, if the actor may see it: readers see all, an officer the ones they must attend."""
    row = await Training.select().where(Training.id == training_id).first()
    if row is None:
        raise _not_found()
    if actor.has_any(*READERS):
        return row
    if actor.has_any("officer") and actor.id in (await _required([training_id]))[training_id]:
        return row
    raise _not_found()


async def get_training(actor: CurrentUser, training_id: uuid.UUID) -> schemas.Training:
    return (await _views([await _row(actor, training_id)]))[0]


async def list_trainings(actor: CurrentUser, year: int | None) -> list[schemas.Training]:
    query = Training.select().where(Training.cancelled == False).order_by(Training.held_on)  # noqa: E712
    if year is not None:
        query = query.where(Training.year == year)
    rows = await query
    if not actor.has_any(*READERS):
        if not actor.has_any("officer"):
            raise AppError(Errors.FORBIDDEN, "Your role has no trainings.")
        required = await _required([r["id"] for r in rows])
        rows = [r for r in rows if actor.id in required[r["id"]]]
    return await _views(rows)


# --- planning ------------------------------------------------------------------------------------


async def create_training(actor: CurrentUser, data: schemas.TrainingCreate) -> schemas.Training:
    _plans(actor)
    if not await Unit.exists().where(Unit.id == data.organiser_unit_id):
        raise AppError(
            Errors.UNIT_NOT_FOUND, "The organiser unit does not exist.", unit_id=str(data.organiser_unit_id)
        )
    unit_ids = list(dict.fromkeys(data.unit_ids))
    if unit_ids:
        found = {u["id"] for u in await Unit.select(Unit.id).where(Unit.id.is_in(unit_ids))}
        missing = [str(u) for u in unit_ids if u not in found]
        if missing:
            raise AppError(Errors.UNIT_NOT_FOUND, "Some units do not exist.", unit_ids=missing)
    officer_ids = list(dict.fromkeys(data.officer_ids))
    if officer_ids:
        found = {
            u["id"]
            for u in await User.select(User.id).where(
                User.id.is_in(officer_ids) & accounts.role_filter("officer")
            )
        }
        missing = [str(o) for o in officer_ids if o not in found]
        if missing:
            raise AppError(
                Errors.USER_NOT_FOUND, "Some of the named people are not officers.", officer_ids=missing
            )
    if not officer_ids and not unit_ids:
        raise AppError(
            Errors.VALIDATION,
            "Name the officers or units that must attend.",
            errors=[{"key": "officer_ids", "message": "name officers or units"}],
        )
    if data.pass_mark is not None and (not data.has_exam or data.pass_mark > data.max_score):
        raise AppError(
            Errors.VALIDATION,
            "pass_mark needs an exam and may not exceed max_score.",
            errors=[{"key": "pass_mark", "message": "needs has_exam and ≤ max_score"}],
        )
    if data.resit_of is not None:
        original = (
            await Training.select(Training.has_exam, Training.year)
            .where(Training.id == data.resit_of)
            .first()
        )
        if original is None or not original["has_exam"] or not data.has_exam:
            raise AppError(
                Errors.VALIDATION,
                "A resit is an exam, of a training that had one.",
                errors=[{"key": "resit_of", "message": "not a training with an exam"}],
            )
    training_id = uuid.uuid4()
    async with atomic():
        await Training.insert(
            Training(
                id=training_id,
                title=data.title,
                format=data.format,
                organiser_unit_id=data.organiser_unit_id,
                held_on=data.held_on,
                year=data.held_on.year,
                hours=data.hours,
                trainer=data.trainer,
                has_exam=data.has_exam,
                pass_mark=data.pass_mark,
                max_score=data.max_score,
                resit_of=data.resit_of,
                created_by=actor.id,
            )
        ).run()
        targets = [
            TrainingTarget(id=uuid.uuid4(), training_id=training_id, officer_id=o) for o in officer_ids
        ]
        targets += [TrainingTarget(id=uuid.uuid4(), training_id=training_id, unit_id=u) for u in unit_ids]
        await TrainingTarget.insert(*targets).run()
        await audit.record(
            actor,
            "training.created",
            "training",
            training_id,
            {"title": data.title, "format": data.format, "held_on": str(data.held_on), "hours": data.hours},
        )
    return await get_training(actor, training_id)


# --- attendance ----------------------------------------------------------------------------------


async def record_attendance(
    actor: CurrentUser, training_id: uuid.UUID, data: schemas.AttendanceRequest, key: IntegrityKey
) -> list[schemas.RosterLine]:
    """Present / excused (with a reason) / absent, for officers who must attend; one call may carry
    the whole list (a tap per officer on the phone, or a scanned card). All or nothing."""
    _plans(actor)
    row = await _row(actor, training_id)
    if row["cancelled"]:
        raise _not_found()
    required = (await _required([training_id]))[training_id]
    resolved: dict[uuid.UUID, schemas.AttendanceEntry] = {}
    errors: list[dict[str, str]] = []
    off_list: list[dict[str, str]] = []  # well-formed entries for people not on this training's list
    for i, entry in enumerate(data.entries):
        officer_id = entry.officer_id
        if entry.card_token is not None:
            officer_id = await _officer_of_card(key, entry.card_token)
            if officer_id is None:
                off_list.append(
                    {"key": f"entries[{i}].card_token", "message": "not a card issued by the bureau"}
                )
                continue
        if officer_id is None:
            errors.append({"key": f"entries[{i}]", "message": "officer_id or card_token is required"})
            continue
        if entry.status == "excused" and len(entry.reason.strip()) < 2:
            errors.append({"key": f"entries[{i}].reason", "message": "an excused absence needs its reason"})
            continue
        if officer_id not in required:
            off_list.append(
                {"key": f"entries[{i}].officer_id", "message": "not required to attend this training"}
            )
            continue
        resolved[officer_id] = entry
    if errors:
        raise AppError(Errors.VALIDATION, "Some entries cannot be recorded; nothing was.", errors=errors)
    if off_list:
        raise AppError(
            Errors.TRAINING_NOT_ON_LIST,
            "Some entries are for people not on this training's list; nothing was recorded.",
            errors=off_list,
        )
    now = utcnow()
    async with atomic():
        await (
            Attendance.delete()
            .where((Attendance.training_id == training_id) & Attendance.officer_id.is_in(list(resolved)))
            .run()
        )
        await Attendance.insert(
            *[
                Attendance(
                    id=uuid.uuid4(),
                    training_id=training_id,
                    officer_id=officer_id,
                    status=entry.status,
                    reason=entry.reason.strip() if entry.status != "present" else "",
                    recorded_by=actor.id,
                    recorded_at=now,
                )
                for officer_id, entry in resolved.items()
            ]
        ).run()
        await audit.record(
            actor,
            "training.attendance",
            "training",
            training_id,
            {"entries": {str(o): e.status for o, e in resolved.items()}},
        )
    return await roster(actor, training_id)


async def _officer_of_card(key: IntegrityKey, token: str) -> uuid.UUID | None:
    card = read_card_token(key, token)
    if card is None:
        return None
    row = (
        await Certificate.select(Certificate.user, Certificate.number)
        .where(Certificate.id == card.certificate_id)
        .first()
    )
    return row["user"] if row is not None and row["number"] == card.number else None


async def _people(ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    if not ids:
        return {}
    people: dict[uuid.UUID, dict[str, Any]] = {
        u["id"]: {
            "name": u["display_name"],
            "username": u["username"],
            "units": [],
            "number": None,
            "cert": None,
        }
        for u in await User.select(User.id, User.display_name, User.username).where(User.id.is_in(ids))
    }
    for m in await Membership.select(Membership.user, Membership.unit.name.as_alias("name")).where(
        Membership.user.is_in(ids)
    ):
        people[m["user"]]["units"].append(m["name"])
    for c in await Certificate.select().where(Certificate.user.is_in(ids)):
        people[c["user"]]["number"] = c["number"]
        people[c["user"]]["cert"] = c
    for p in people.values():
        p["units"].sort()
    return people


async def roster(actor: CurrentUser, training_id: uuid.UUID) -> list[schemas.RosterLine]:
    """Everyone who must attend, with their attendance and score so far, by name."""
    if not actor.has_any(*READERS):
        raise AppError(Errors.FORBIDDEN, "Only supervisors see the attendance list.")
    await _row(actor, training_id)
    required = sorted((await _required([training_id]))[training_id])
    people = await _people(required)
    marks = {
        a["officer_id"]: a for a in await Attendance.select().where(Attendance.training_id == training_id)
    }
    scores = {
        s["officer_id"]: s["score"]
        for s in await ExamScore.select().where(ExamScore.training_id == training_id)
    }
    lines = [
        schemas.RosterLine(
            officer_id=o,
            name=people[o]["name"],
            units=people[o]["units"],
            certificate_number=people[o]["number"],
            status=marks[o]["status"] if o in marks else None,
            reason=marks[o]["reason"] if o in marks else "",
            score=scores.get(o),
        )
        for o in required
        if o in people
    ]
    return sorted(lines, key=lambda line: (line.units, line.name))


# --- scores --------------------------------------------------------------------------------------

_KEY_COLUMNS = {
    "certificate_number": "number",
    "证件编号": "number",
    "执法证号": "number",
    "username": "username",
    "用户名": "username",
}
_SCORE_COLUMNS = {"score", "成绩", "分数"}


@dataclass
class _RawRow:
    row: int
    kind: str  # id | username | number
    key: str
    score: Any


def _sheet_rows(table: list[list[Any]]) -> list[_RawRow]:
    """Rows of a sheet whose first non-empty row names the columns, numbered as the sheet shows them."""
    start = 0
    while start < len(table) and not any(str(c if c is not None else "").strip() for c in table[start]):
        start += 1
    if start == len(table):
        raise AppError(Errors.VALIDATION, "The sheet is empty.", errors=[{"key": "file", "message": "empty"}])
    header = [str(c if c is not None else "").strip().lower() for c in table[start]]
    key_at = next((i for i, h in enumerate(header) if h in _KEY_COLUMNS), None)
    score_at = next((i for i, h in enumerate(header) if h in _SCORE_COLUMNS), None)
    if key_at is None or score_at is None:
        raise AppError(
            Errors.VALIDATION,
            "The first row must name a column 证件编号 (certificate_number) or 用户名 (username), "
            "and 成绩 (score).",
            errors=[{"key": "header", "message": f"found: {', '.join(h for h in header if h)}"}],
        )
    kind = _KEY_COLUMNS[header[key_at]]
    out = []
    for n in range(start + 1, len(table)):
        cells = list(table[n]) + [None] * len(header)
        if not any(str(c if c is not None else "").strip() for c in cells):
            continue
        key = str(cells[key_at] if cells[key_at] is not None else "").strip()
        out.append(_RawRow(n + 1, kind, key, cells[score_at]))
    return out


def parse_sheet(content_type: str, body: bytes) -> list[_RawRow]:
    """CSV (UTF-8, with or without BOM, or GB18030 as Excel saves it) or XLSX."""
    if content_type.startswith("text/csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = body.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise AppError(
                Errors.VALIDATION, "The CSV is neither UTF-8 nor GB18030.", errors=[{"key": "file"}]
            )
        return _sheet_rows([list(r) for r in csv.reader(io.StringIO(text))])
    try:
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except Exception:
        raise AppError(
            Errors.VALIDATION, "The file is not a readable XLSX workbook.", errors=[{"key": "file"}]
        ) from None
    try:
        sheet = book.worksheets[0]
        return _sheet_rows([list(r) for r in sheet.iter_rows(values_only=True)])
    finally:
        book.close()


def json_rows(data: schemas.ScoresIn) -> list[_RawRow]:
    out = []
    for n, s in enumerate(data.scores, start=1):
        if s.officer_id is not None:
            out.append(_RawRow(n, "id", str(s.officer_id), s.score))
        elif s.username:
            out.append(_RawRow(n, "username", s.username, s.score))
        else:
            out.append(_RawRow(n, "number", s.certificate_number or "", s.score))
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


async def import_scores(
    actor: CurrentUser, training_id: uuid.UUID, raw: list[_RawRow], *, dry_run: bool, source: str
) -> schemas.ScoreImport:
    """Match every row to an officer who must attend, check the score, and write all of them only
    when every row is good. A preview (``dry_run``) writes nothing and lists each row's problem."""
    _plans(actor)
    row = await _row(actor, training_id)
    if not row["has_exam"]:
        raise AppError(Errors.TRAINING_NO_EXAM, "This training has no exam; it takes no scores.")
    required = (await _required([training_id]))[training_id]
    people = await _people(sorted(required))
    by_username = {p["username"]: o for o, p in people.items()}
    by_number = {p["number"]: o for o, p in people.items() if p["number"]}
    unknown_ids: set[str] = set()
    lines: list[schemas.ScoreLine] = []
    first_row: dict[uuid.UUID, int] = {}
    for r in raw:
        officer_id: uuid.UUID | None = None
        if r.kind == "id":
            officer_id = uuid.UUID(r.key)
        elif r.kind == "username":
            officer_id = by_username.get(r.key)
        else:
            officer_id = by_number.get(r.key)
        problem = message = None
        score = _number(r.score)
        if officer_id is None or officer_id not in required:
            # Is it someone at all? Say "not required" rather than "unknown" for a real officer.
            exists = await _exists(r.kind, r.key)
            problem = "not_required" if exists else "unknown_officer"
            message = (
                f"{r.key} is not on this training's list"
                if exists
                else f"no officer {r.key} (check the column)"
            )
            officer_id = None
            unknown_ids.add(r.key)
        elif score is None:
            problem, message = "score_missing", "no score in this row"
        elif not 0 <= score <= row["max_score"]:
            problem, message = "score_out_of_range", f"{score:g} is outside 0–{row['max_score']:g}"
        elif officer_id in first_row:
            problem, message = "duplicate", f"the same officer as row {first_row[officer_id]}"
        if officer_id is not None and officer_id not in first_row:
            first_row[officer_id] = r.row
        lines.append(
            schemas.ScoreLine(
                row=r.row,
                key=r.key,
                officer_id=officer_id,
                name=people[officer_id]["name"] if officer_id in people else None,
                score=score,
                problem=problem,
                message=message,
            )
        )
    problems = sum(1 for line in lines if line.problem)
    result = schemas.ScoreImport(
        training_id=training_id, dry_run=dry_run, rows=lines, problems=problems, written=0
    )
    if dry_run:
        return result
    if problems:
        raise AppError(
            Errors.TRAINING_IMPORT_INVALID,
            f"{problems} of {len(lines)} rows cannot be matched or are wrong; nothing was written.",
            rows=[msgspec.to_builtins(line) for line in lines if line.problem],
        )
    now = utcnow()
    good = [
        (line.officer_id, line.score)
        for line in lines
        if line.officer_id is not None and line.score is not None
    ]
    async with atomic():
        await (
            ExamScore.delete()
            .where((ExamScore.training_id == training_id) & ExamScore.officer_id.is_in([o for o, _ in good]))
            .run()
        )
        await ExamScore.insert(
            *[
                ExamScore(
                    id=uuid.uuid4(),
                    training_id=training_id,
                    officer_id=o,
                    score=s,
                    source=source,
                    recorded_by=actor.id,
                    recorded_at=now,
                )
                for o, s in good
            ]
        ).run()
        await audit.record(
            actor,
            "training.scores",
            "training",
            training_id,
            {"source": source, "scores": {str(o): s for o, s in good}},
        )
    return msgspec.structs.replace(result, written=len(good))


async def _exists(kind: str, key: str) -> bool:
    if kind == "id":
        try:
            return await User.exists().where(User.id == uuid.UUID(key))
        except ValueError:
            return False
    if kind == "username":
        return await User.exists().where(User.username == key)
    return bool(key) and await Certificate.exists().where(Certificate.number == key)


# --- rules of the year ---------------------------------------------------------------------------


async def get_rules(actor: CurrentUser, year: int) -> schemas.YearRulesView:
    if not actor.has_any(*READERS):
        raise AppError(Errors.FORBIDDEN, "Only supervisors see the year's rules.")
    return await _rules(year)


async def set_rules(actor: CurrentUser, year: int, data: schemas.YearRules) -> schemas.YearRulesView:
    _plans(actor)
    ids = list(dict.fromkeys(data.compulsory_ids))
    if ids:
        found = {
            r["id"]
            for r in await Training.select(Training.id).where(
                Training.id.is_in(ids) & (Training.year == year)
            )
        }
        bad = [i for i, t in enumerate(ids) if t not in found]
        if bad:
            raise AppError(
                Errors.VALIDATION,
                f"Compulsory trainings must be trainings of {year}.",
                errors=[{"key": f"compulsory_ids[{i}]", "message": f"not a training of {year}"} for i in bad],
            )
    values = {
        "min_hours": data.min_hours,
        "compulsory_ids": [str(i) for i in ids],
        "pass_mark": data.pass_mark,
        "resit": data.resit,
        "updated_by": actor.id,
        "updated_at": utcnow(),
    }
    async with atomic():
        if await TrainingYear.exists().where(TrainingYear.year == year):
            await (
                TrainingYear.update({getattr(TrainingYear, k): v for k, v in values.items()})
                .where(TrainingYear.year == year)
                .run()
            )
        else:
            await TrainingYear.insert(TrainingYear.from_dict({"year": year, **values})).run()
        await audit.record(
            actor,
            "training.rules",
            "training_year",
            str(year),
            {k: values[k] for k in ("min_hours", "compulsory_ids", "pass_mark", "resit")},
        )
    return await _rules(year)


# --- the year as the rules judge it --------------------------------------------------------------


@dataclass
class _Standing:
    """One officer's year: what revokes the certificate (``grounds``) and what excuses were taken."""

    grounds: list[str] = field(default_factory=list)
    excuses: list[str] = field(default_factory=list)
    hours: float = 0.0
    excused_hours: float = 0.0
    lines: list[schemas.MyLine] = field(default_factory=list)
    due: list[str] = field(default_factory=list)


def _fmt(x: float) -> str:
    return f"{x:g}"


async def _year(
    year: int, only: uuid.UUID | None = None
) -> tuple[schemas.YearRulesView, dict[uuid.UUID, _Standing]]:
    """Every officer the year's trainings were for (or ``only`` that one), judged by the rules."""
    rules = await _rules(year)
    trainings = (
        await Training.select()
        .where((Training.year == year) & (Training.cancelled == False))  # noqa: E712
        .order_by(Training.held_on)
    )
    ids = [t["id"] for t in trainings]
    required = await _required(ids)
    marks: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]] = {}
    scores: dict[tuple[uuid.UUID, uuid.UUID], float] = {}
    if ids:
        for a in await Attendance.select().where(Attendance.training_id.is_in(ids)):
            marks[(a["training_id"], a["officer_id"])] = a
        for s in await ExamScore.select().where(ExamScore.training_id.is_in(ids)):
            scores[(s["training_id"], s["officer_id"])] = s["score"]
    resits: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for t in trainings:
        if t["resit_of"] is not None:
            resits[t["resit_of"]].append(t)
    officers = set().union(*required.values()) if required else set()
    if only is not None:
        officers &= {only}
    today = today_local()
    out: dict[uuid.UUID, _Standing] = {o: _Standing() for o in officers}
    for t in trainings:
        mark = _pass_mark(t, rules)
        compulsory = t["id"] in rules.compulsory_ids
        name = f"《{t['title']}》（{t['held_on'].isoformat()}）"
        for o in required[t["id"]] & officers:
            st = out[o]
            att = marks.get((t["id"], o))
            status = att["status"] if att else None
            score = scores.get((t["id"], o))
            passed: bool | None = None
            if status == "present":
                st.hours += t["hours"]
            elif status == "excused":
                st.excused_hours += t["hours"]
                if compulsory or t["has_exam"]:
                    st.excuses.append(f"{name}请假：{att['reason'] if att else ''}")
            held = t["held_on"] <= today
            if compulsory and t["resit_of"] is None:
                if status == "absent":
                    st.grounds.append(f"无故缺席必训课程{name}")
                elif status is None and held:
                    st.grounds.append(f"必训课程{name}无考勤记录，按无故缺席计")
                elif status is None:
                    st.due.append(f"参加必训课程{name}")
            if t["has_exam"] and t["resit_of"] is None and status != "excused":
                failed: str | None = None
                if status == "present" and score is not None:
                    passed = mark is not None and score >= mark
                    if not passed:
                        failed = f"{name}考试不合格（{_fmt(score)} 分，合格线 {_fmt(mark or 0)} 分）"
                elif status == "present" or (status is None and held) or status == "absent":
                    if held:
                        failed = f"{name}缺考或无成绩"
                        passed = False
                elif status is None:
                    st.due.append(f"参加{name}考试")
                if failed is not None:
                    made_up = False
                    if rules.resit:
                        for r in resits.get(t["id"], []):
                            r_score = scores.get((r["id"], o))
                            r_mark = _pass_mark(r, rules)
                            if r_score is not None and r_mark is not None and r_score >= r_mark:
                                made_up = True
                                st.excuses.append(f"{name}补考合格（{_fmt(r_score)} 分）")
                                break
                        if not made_up and any(r["held_on"] > today for r in resits.get(t["id"], [])):
                            st.due.append(f"参加{name}的补考")
                    if not made_up:
                        st.grounds.append(failed)
            st.lines.append(
                schemas.MyLine(
                    training_id=t["id"],
                    title=t["title"],
                    format=t["format"],
                    held_on=t["held_on"],
                    hours=t["hours"],
                    compulsory=compulsory,
                    status=status,
                    reason=att["reason"] if att else "",
                    has_exam=t["has_exam"],
                    score=score,
                    pass_mark=mark,
                    passed=passed,
                )
            )
    if rules.min_hours > 0:
        for st in out.values():
            counted = st.hours + st.excused_hours
            if counted < rules.min_hours:
                shortfall = (
                    f"学时不足：参训 {_fmt(st.hours)} 学时、请假 {_fmt(st.excused_hours)} 学时，"
                    f"要求 {_fmt(rules.min_hours)} 学时"
                )
                if all(t["held_on"] <= today for t in trainings):
                    st.grounds.append(shortfall)
                else:
                    st.due.append(f"再参训 {_fmt(rules.min_hours - counted)} 学时")
    return rules, out


async def my_training(actor: CurrentUser, year: int) -> schemas.MyTraining:
    """The officer's own year: hours, absences, scores, and what is still due."""
    if not actor.has_any("officer"):
        raise AppError(Errors.FORBIDDEN, "Only officers have their own training record.")
    rules, standings = await _year(year, only=actor.id)
    st = standings.get(actor.id, _Standing())
    due = list(st.due)
    due += [f"（将被注销执法证）{g}" for g in st.grounds]
    return schemas.MyTraining(
        year=year,
        hours_attended=st.hours,
        hours_excused=st.excused_hours,
        min_hours=rules.min_hours,
        trainings=st.lines,
        absences=sum(1 for line in st.lines if line.status == "absent"),
        due=due,
    )


# --- the annual run ------------------------------------------------------------------------------


def _digest(year: int, revoke: list[schemas.Revocation]) -> str:
    text = json.dumps(
        {"year": year, "revoke": [[str(r.officer_id), r.certificate_number, r.reasons] for r in revoke]},
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


async def _plan(year: int) -> schemas.AssessmentPlan:
    _, standings = await _year(year)
    people = await _people(sorted(standings))
    open_checks: dict[uuid.UUID, int] = defaultdict(int)
    if standings:
        for c in await SpotCheck.select(SpotCheck.officer_id).where(
            SpotCheck.officer_id.is_in(list(standings)) & (SpotCheck.status == "requested")
        ):
            open_checks[c["officer_id"]] += 1
    revoke, exempt, already = [], [], []
    for o, st in standings.items():
        p = people.get(o)
        if p is None or p["cert"] is None:
            continue  # no certificate: nothing to revoke
        status = effective_status(p["cert"])
        if status == "revoked":
            if st.grounds:
                already.append(schemas.Exemption(officer_id=o, name=p["name"], reasons=st.grounds))
            continue
        if st.grounds:
            revoke.append(
                schemas.Revocation(
                    officer_id=o,
                    name=p["name"],
                    units=p["units"],
                    certificate_number=p["number"],
                    reasons=st.grounds,
                    open_spot_checks=open_checks[o],
                )
            )
        elif st.excuses:
            exempt.append(schemas.Exemption(officer_id=o, name=p["name"], reasons=st.excuses))
    revoke.sort(key=lambda r: (r.units, r.name, str(r.officer_id)))
    exempt.sort(key=lambda r: (r.name, str(r.officer_id)))
    already.sort(key=lambda r: (r.name, str(r.officer_id)))
    return schemas.AssessmentPlan(
        year=year,
        digest=_digest(year, revoke),
        revoke=revoke,
        exempt=exempt,
        already_revoked=already,
        officers_checked=len(standings),
        computed_at=utcnow(),
    )


async def preview(actor: CurrentUser, year: int) -> schemas.AssessmentPlan:
    _plans(actor)
    return await _plan(year)


async def apply(
    actor: CurrentUser, year: int, data: schemas.AssessmentApply, events: Notifier | None = None
) -> schemas.AssessmentResult:
    """Revoke (注销) exactly the certificates the preview with this digest listed, in one transaction,
    audited. The same digest again changes nothing and answers what it did (a replay); a digest that
    no longer matches (someone recorded attendance or a score since) is a 409 with the new one."""
    _plans(actor)
    today = today_local()
    async with atomic():
        # One run of a year at a time: a second, concurrent apply waits here, then sees the first
        # one's result (and answers it as a replay). SQLite's write transaction already waits.
        if is_postgres(current_engine()):
            await AssessmentRun.raw("SELECT pg_advisory_xact_lock({})", _RUN_LOCK + year).run()
        plan = await _plan(year)
        if plan.digest != data.digest:
            done = await (
                AssessmentRun.select()
                .where((AssessmentRun.year == year) & (AssessmentRun.digest == data.digest))
                .first()
            )
            if done is not None:
                stored = json_value(done["plan"], {})
                return schemas.AssessmentResult(
                    year=year,
                    digest=data.digest,
                    revoked=msgspec.convert(stored.get("revoke", []), list[schemas.Revocation]),
                    replayed=True,
                    run_id=done["id"],
                )
            raise AppError(
                Errors.ASSESSMENT_CHANGED,
                "The result changed since the preview (attendance, scores or certificates were updated): "
                "preview again and apply the new result.",
                digest=plan.digest,
            )
        if not plan.revoke:
            return schemas.AssessmentResult(
                year=year, digest=plan.digest, revoked=[], replayed=False, run_id=None
            )
        run_id = uuid.uuid4()
        for r in plan.revoke:
            reason = f"{year}年度考核：" + "；".join(r.reasons)
            await accounts.apply_certificate_change(
                actor,
                r.officer_id,
                "revoke",
                reason,
                today,
                audit_data={"assessment_run": str(run_id), "year": year},
            )
        stored_plan = msgspec.to_builtins(plan)
        await AssessmentRun.insert(
            AssessmentRun(
                id=run_id,
                year=year,
                digest=plan.digest,
                plan=stored_plan,
                revoked_count=len(plan.revoke),
                applied_by=actor.id,
                applied_at=utcnow(),
            )
        ).run()
        await audit.record(
            actor,
            "assessment.applied",
            "assessment_run",
            run_id,
            {"year": year, "digest": plan.digest, "revoked": [str(r.officer_id) for r in plan.revoke]},
        )
    if events is not None:
        for r in plan.revoke:
            await events.notify("account.changed", r.officer_id)
    return schemas.AssessmentResult(
        year=year, digest=plan.digest, revoked=plan.revoke, replayed=False, run_id=run_id
    )
