"""Reports, the assessment and the lists behind their figures as tables (written as CSV and XLSX by
``backend.lib.tables``), and the report and the assessment as a printable PDF (typst, as the
supervision documents)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anyio import to_thread

from backend.documents.pdf import BODY_FONT, typeset
from backend.lib.tables import Table
from backend.reports import schemas
from backend.reports.periods import Period

TEMPLATE = Path(__file__).with_name("templates") / "report.typ"
GROUPS = {
    "actions": "执法行为",
    "cases": "案件办理",
    "spot_checks": "执法抽查",
    "documents": "监督文书",
    "training": "培训考试",
    "certificates": "执法证件",
    "channels": "监督渠道",
    "file_reviews": "案卷评查",
}
STATUS = {"draft": "草稿", "submitted": "已报送", "accepted": "已采纳", "superseded": "已更正"}
NARRATIVE = (("progress", "工作进展"), ("problems", "存在问题"), ("next_steps", "下一步计划"))


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def report_title(report: schemas.Report) -> str:
    period = Period(report.period_from, report.period_to)
    kind = "工作推进情况" if report.kind == "monthly" else "试点工作总结"
    return f"{report.unit_name}{period.label()}{kind}"


def report_table(report: schemas.Report) -> Table:
    rows = [[GROUPS.get(f.group, f.group), f.label, _number(f.value), f.key] for f in report.figures]
    return Table(report_title(report), ["类别", "指标", "数值", "指标代码"], rows, [12, 30, 10, 40])


def assessment_table(assessment: schemas.Assessment) -> Table:
    header = ["排名", "单位", "得分", "上期得分", "变化"] + [i.label for i in assessment.indicators]
    rows = []
    for unit in assessment.units:
        row: list[Any] = [
            unit.rank if unit.rank is not None else "—",
            unit.unit_name,
            _number(unit.score),
            _number(unit.previous_score),
            "—" if unit.change is None else f"{unit.change:+.2f}",
        ]
        for i in assessment.indicators:
            v = unit.values[i.key]
            row.append(_number(v.value) if i.measure == "count" else _percent(v.value))
        rows.append(row)
    period = Period(assessment.period_from, assessment.period_to)
    widths = [6, 24, 8, 8, 8] + [12] * len(assessment.indicators)
    return Table(f"行政执法考核（{period.label()}）", header, rows, widths)


KINDS = {
    "action": "执法行为",
    "case": "案件",
    "legal_review": "法制审核",
    "spot_check": "抽查",
    "document": "监督文书",
    "attendance": "培训签到",
    "exam_score": "考试成绩",
    "officer": "执法人员",
    "certificate_event": "证件变动",
    "channel_item": "监督渠道事项",
    "outcome": "复议诉讼结果",
    "alert": "预警",
    "file_review": "案卷评查",
}
EXPORT_LIMIT = 10_000  # rows in one exported list


def records_table(records: schemas.Records) -> Table:
    rows = [
        [
            KINDS.get(r.kind, r.kind),
            r.at or "",
            r.title,
            r.detail,
            "" if r.amount is None else _number(r.amount),
            str(r.id),
        ]
        for r in records.items
    ]
    if records.count > len(rows):
        rows.append(["", "", f"共{records.count}条，仅导出前{len(rows)}条", "", "", ""])
    return Table(
        records.label, ["类型", "时间", "名称", "详情", "数额", "记录编号"], rows, [12, 22, 36, 20, 10, 38]
    )


def narrative_lines(report: schemas.Report) -> list[list[str]]:
    return [[label, getattr(report.narrative, key) or ""] for key, label in NARRATIVE]


def formula_lines(assessment: schemas.Assessment) -> list[list[str]]:
    return [[i.label, f"{i.formula}（权重 {_number(i.weight)}）"] for i in assessment.indicators]


async def report_pdf(report: schemas.Report) -> bytes:
    status = STATUS.get(report.status, report.status)
    subtitle = [f"第{report.version}版 · {status}"]
    if report.submitted_at:
        subtitle.append(f"报送时间：{report.submitted_at:%Y-%m-%d %H:%M}（{report.submitted_by or ''}）")
    sections: list[dict[str, Any]] = []
    for key, label in NARRATIVE:
        text = getattr(report.narrative, key) or "（未填写）"
        sections.append(
            {"heading": label, "paragraphs": [p for p in text.splitlines() if p.strip()] or [text]}
        )
    by_group: dict[str, list[list[str]]] = {}
    for f in report.figures:
        by_group.setdefault(f.group, []).append([f.label, _number(f.value)])
    for group, rows in by_group.items():
        sections.append(
            {"heading": GROUPS.get(group, group), "header": ["指标", "数值"], "rows": rows, "widths": [4, 1]}
        )
    data = {"title": report_title(report), "subtitle": subtitle, "sections": sections, "font": BODY_FONT}
    return await to_thread.run_sync(typeset, TEMPLATE, data)


async def assessment_pdf(assessment: schemas.Assessment) -> bytes:
    table = assessment_table(assessment)
    # The indicator columns go on a second table so the page stays readable.
    main = [[str(r[0]), r[1], r[2], r[3], r[4]] for r in table.rows]
    detail_header = ["单位"] + [i.label for i in assessment.indicators]
    detail = [[r[1]] + [str(c) for c in r[5:]] for r in table.rows]
    sections = [
        {"heading": "得分与排名", "header": table.header[:5], "rows": main, "widths": [1, 4, 1.5, 1.5, 1.5]},
        {"heading": "各项指标", "header": detail_header, "rows": detail},
        {"heading": "指标口径", "paragraphs": [f"{a}：{b}" for a, b in formula_lines(assessment)]},
    ]
    data = {"title": table.title, "subtitle": [], "sections": sections, "font": BODY_FONT, "landscape": True}
    return await to_thread.run_sync(typeset, TEMPLATE, data)
