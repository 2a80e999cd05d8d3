"""A fresh pilot township for report tests, and random records of every kind the figures count."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from backend.accounts.tables import Certificate, CertificateEvent, Membership, UnitResponder, User
from backend.actions.tables import Action, ActionOfficer
from backend.alerts.tables import Alert
from backend.cases.tables import Case, CaseClock, CaseReview
from backend.channels.tables import ChannelItem, ChannelOutcome, TransferAnswer
from backend.documents.tables import SupervisionDocument
from backend.lib.clock import BEIJING
from backend.org import schemas as o
from backend.org import services as org
from backend.reports.tables import FileReviewScore
from backend.supervision.tables import SpotCheck
from backend.training.tables import Attendance, ExamScore, Training
from tests.conftest import PASSWORD, World, unique


@dataclass
class Town:
    id: uuid.UUID
    name: str
    officers: list[uuid.UUID]
    responder: str  # username
    responder_id: uuid.UUID
    officer: str  # username of an officer who is not a responder
    item: uuid.UUID
    items: list[uuid.UUID] = field(default_factory=list)


async def new_town(world: World) -> Town:
    """A pilot township with three certified officers (the first its responder) and two delegated
    items; every test gets its own, so its figures are its own."""
    from backend.accounts import schemas as a
    from backend.accounts import services as accounts

    unit = await org.create_unit(None, o.UnitCreate(name=unique("试点镇"), kind="township", pilot=True))
    items = []
    for n in range(2):
        item = await org.create_item(
            None,
            o.ItemCreate(
                code=unique(f"RPT{n}"),
                name=f"报表事项{n}",
                kind="penalty",
                owner_unit_id=world.dept,
                criminal_threshold=o.CriminalThreshold(amount_involved_at_least=50000),
            ),
        )
        await org.create_delegation(
            None, item.id, o.DelegationCreate(unit_id=unit.id, effective_from=date(2020, 1, 1))
        )
        items.append(item.id)
    officers, names = [], []
    for n in range(3):
        username = unique(f"rpt_officer{n}")
        user = await accounts.create_user(
            None,
            a.UserCreate(
                username=username,
                password=PASSWORD,
                display_name=f"报表执法{n}",
                roles=["officer"],
                unit_ids=[unit.id],
            ),
        )
        await Certificate.insert(
            Certificate(
                id=uuid.uuid4(),
                user=user.id,
                number=unique("RC"),
                issued_on=date(2024, 1, 1),
                expires_on=date(2030, 1, 1),
            )
        ).run()
        officers.append(user.id)
        names.append(username)
    await UnitResponder.insert(
        UnitResponder(id=uuid.uuid4(), user=officers[0], unit=unit.id, leader=True)
    ).run()
    return Town(unit.id, unit.name, officers, names[0], officers[0], names[1], items[0], items)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BEIJING).astimezone(UTC)


async def plant_action(
    town: Town,
    day: date,
    *,
    kind: str = "inspection",
    item: uuid.UUID | None = None,
    recording_required: bool = False,
    recorded: bool = False,
) -> uuid.UUID:
    action_id = uuid.uuid4()
    await Action.insert(
        Action(
            id=action_id,
            unit=town.id,
            item=item or town.item,
            kind=kind,
            occurred_at=at(day),
            created_by=town.officers[0],
            request_hash="0" * 64,
            recording_required=recording_required,
            recording_at=at(day, 11) if recorded else None,
        )
    ).run()
    for officer in town.officers[:2]:
        await ActionOfficer.insert(ActionOfficer(id=uuid.uuid4(), action=action_id, officer=officer)).run()
    return action_id


async def plant_case(town: Town, created: date, **fields: Any) -> uuid.UUID:
    case_id = uuid.uuid4()
    await Case.insert(
        Case(
            id=case_id,
            number=unique("案"),
            unit=town.id,
            item=fields.pop("item", town.item),
            status=fields.pop("status", "filed"),
            created_by=town.officers[0],
            request_hash="0" * 64,
            created_at=at(created),
            **fields,
        )
    ).run()
    return case_id


async def random_records(town: Town, rng: random.Random, start: date, end: date, n: int = 12) -> None:
    """Records of every source the figures read, dated around ``start``…``end`` (some outside)."""
    span = (end - start).days + 40

    def day() -> date:
        return start - timedelta(days=20) + timedelta(days=rng.randrange(span))

    def maybe_day() -> date | None:
        return day() if rng.random() < 0.6 else None

    for _ in range(n):
        await plant_action(
            town,
            day(),
            kind=rng.choice(["inspection", "evidence", "service", "coercive", "hearing", "other"]),
            item=rng.choice(town.items),
            recording_required=rng.random() < 0.5,
            recorded=rng.random() < 0.5,
        )
    for _ in range(n // 2):
        decided = maybe_day()
        closed = maybe_day()
        case_id = await plant_case(
            town,
            day(),
            item=rng.choice(town.items),
            status=rng.choice(["filed", "decided", "closed"]) if closed is None else "closed",
            decided_on=decided,
            major=rng.random() < 0.5,
            closed_at=at(closed) if closed else None,
            amount_involved=rng.choice([None, 1000, 60000]),
        )
        if rng.random() < 0.5:
            await CaseReview.insert(
                CaseReview(
                    id=uuid.uuid4(),
                    case=case_id,
                    reviewer=town.officers[2],
                    outcome=rng.choice(["approved", "rejected"]),
                    opinion="意见",
                    case_version=1,
                    created_at=at(day()),
                )
            ).run()
        if rng.random() < 0.3:
            await TransferAnswer.insert(
                TransferAnswer(
                    id=uuid.uuid4(), case_id=case_id, unit_id=town.id, organ="检察院", transferred_on=day()
                )
            ).run()
        if rng.random() < 0.5:
            due = day()
            met = rng.choice([None, due - timedelta(days=1), due + timedelta(days=2)])
            await CaseClock.insert(
                CaseClock(
                    id=uuid.uuid4(),
                    case=case_id,
                    unit=town.id,
                    kind="publication",
                    started_on=due - timedelta(days=9),
                    days=7,
                    working=True,
                    due_on=due,
                    status=rng.choice(["running", "met", "stopped"]) if met is None else "met",
                    met_on=met,
                )
            ).run()
        if rng.random() < 0.4:
            passed = rng.random() < 0.5
            await FileReviewScore.insert(
                FileReviewScore(
                    id=uuid.uuid4(),
                    draw_id=uuid.uuid4(),
                    case_id=case_id,
                    unit_id=town.id,
                    total=80 if passed else 40,
                    passed=passed,
                    reviewer_id=town.officers[2],
                    scored_at=at(day()),
                )
            ).run()
    for _ in range(n // 2):
        await SpotCheck.insert(
            SpotCheck(
                id=uuid.uuid4(),
                officer_id=rng.choice(town.officers),
                unit_id=town.id,
                requested_by=town.officers[2],
                requested_at=at(day()),
                due_at=at(day()),
                status=rng.choice(["requested", "submitted", "passed", "failed", "overdue"]),
            )
        ).run()
    for _ in range(n // 3):
        issued = maybe_day()
        await SupervisionDocument.insert(
            SupervisionDocument(
                id=uuid.uuid4(),
                type="proposal",
                unit_id=town.id,
                title="监督建议",
                facts="事实",
                basis="依据",
                requirement="要求",
                drafted_by=town.officers[2],
                status="issued" if issued else "draft",
                issued_at=at(issued) if issued else None,
                due_on=day() if issued else None,
                responded_at=at(day()) if issued and rng.random() < 0.6 else None,
                overdue_at=at(day()) if issued and rng.random() < 0.3 else None,
            )
        ).run()
    for _ in range(2):
        held = day()
        training = uuid.uuid4()
        await Training.insert(
            Training(
                id=training,
                title="通用法律知识培训",
                format="offline",
                organiser_unit_id=town.id,
                held_on=held,
                year=held.year,
                hours=rng.choice([2.0, 3.5]),
                created_by=town.officers[2],
                has_exam=True,
                pass_mark=rng.choice([None, 70.0]),
                cancelled=rng.random() < 0.2,
            )
        ).run()
        for officer in town.officers:
            await Attendance.insert(
                Attendance(
                    id=uuid.uuid4(),
                    training_id=training,
                    officer_id=officer,
                    status=rng.choice(["present", "excused", "absent"]),
                    recorded_by=town.officers[2],
                )
            ).run()
            await ExamScore.insert(
                ExamScore(
                    id=uuid.uuid4(),
                    training_id=training,
                    officer_id=officer,
                    score=rng.choice([50.0, 65.0, 90.0]),
                    recorded_by=town.officers[2],
                )
            ).run()
    for _ in range(n // 4):
        await CertificateEvent.insert(
            CertificateEvent(
                id=uuid.uuid4(),
                user=rng.choice(town.officers),
                number="RC",
                change=rng.choice(["issued", "suspended", "revoked"]),
                to_status="valid",
                effective_on=day(),
                at=at(day()),
            )
        ).run()
    for _ in range(n // 3):
        item_id = uuid.uuid4()
        kind = rng.choice(["report", "petition", "lawsuit"])
        await ChannelItem.insert(
            ChannelItem(
                id=item_id,
                kind=kind,
                title="反映事项",
                unit_id=town.id,
                reporter_id=town.officers[2],
                reference=rng.choice(["府复决字〔2026〕1号", "（2026）渝0119行初1号", None]),
                created_at=at(day()),
            )
        ).run()
        if kind == "lawsuit":
            number = unique("决")
            await ChannelOutcome.insert(
                ChannelOutcome(
                    id=uuid.uuid4(),
                    item_id=item_id,
                    outcome=rng.choice(["维持", "撤销", "确认违法", "驳回"]),
                    decided_on=day(),
                    decision_number=number,
                    live_number=number,
                    superseded=rng.random() < 0.2,
                    entered_by=town.officers[2],
                )
            ).run()
    for _ in range(n // 4):
        await Alert.insert(
            Alert(
                id=uuid.uuid4(),
                type="action.refused",
                severity="high",
                unit_id=town.id,
                message="无证执法被拒",
                data={"code": rng.choice(["certificate.invalid", "action.two_officers"])},
                created_at=at(day()),
            )
        ).run()
    # An officer without a valid certificate, one inactive.
    for active, status in ((True, "revoked"), (False, "valid")):
        user_id = uuid.uuid4()
        await User.insert(
            User(
                id=user_id,
                username=unique("rpt_extra"),
                password_hash="x",
                display_name="其他执法人员",
                roles=" officer ",
                active=active,
            )
        ).run()
        await Membership.insert(Membership(id=uuid.uuid4(), user=user_id, unit=town.id)).run()
        await Certificate.insert(
            Certificate(
                id=uuid.uuid4(),
                user=user_id,
                number=unique("RC"),
                issued_on=date(2024, 1, 1),
                expires_on=date(2030, 1, 1),
                status=status,
            )
        ).run()
