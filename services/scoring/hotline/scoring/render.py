"""The reports as a clerk sends them: Markdown, a Word document (python-docx), a workbook
(openpyxl). JSON is the reports' own form; these are views of it."""

import io
from collections.abc import Sequence
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Font

from hotline.scoring.reports import Bulletin, OverdueReport, SpotCheckReport, UnitsReport

UNIT_COLUMNS = (
    "承办单位",
    "交办总量",
    "已办理总量",
    "超时量",
    "回访量",
    "市民满意",
    "市民不满意",
    "满意率",
    "重新立单",
)

Report = UnitsReport | OverdueReport | SpotCheckReport | Bulletin


def period_text(report: Report) -> str:
    return f"{report.start:%Y年%m月%d日}至{report.end:%Y年%m月%d日}"


def tables(report: Report) -> list[tuple[str, Sequence[str], list[Sequence[Any]]]]:
    """(title, header, rows) of each table the report holds."""
    if isinstance(report, Bulletin):
        attachments = report.attachments
        return [
            *tables(attachments.units),
            *tables(attachments.overdue),
            *tables(attachments.spot_checks),
        ]
    if isinstance(report, UnitsReport):
        rows: list[Sequence[Any]] = [
            (
                row.unit,
                row.assigned,
                row.handled,
                row.overdue,
                row.callbacks,
                row.satisfied,
                row.unsatisfied,
                row.satisfaction_rate,
                row.reopened,
            )
            for row in [*report.rows, report.total]
        ]
        return [("附件1 各成员单位办件量统计", UNIT_COLUMNS, rows)]
    if isinstance(report, OverdueReport):
        overdue: list[Sequence[Any]] = [(row.unit, row.overdue) for row in report.rows]
        return [
            (
                "附件2 各成员单位超期工单统计",
                ("网络单位", "超期工单（件）"),
                [*overdue, ("合计", report.total)],
            )
        ]
    checks: list[Sequence[Any]] = [(row.unit, row.unsatisfied, "不满意") for row in report.rows]
    return [
        (
            "附件3 省12345指挥监管平台抽查回访不满意工单统计",
            ("网络单位", "件数（件）", "办结结果满意度"),
            [*checks, ("合计", report.total, "")],
        )
    ]


def summary(bulletin: Bulletin) -> list[str]:
    """The bulletin's opening paragraphs, in its own words."""
    calls, tickets, satisfaction = bulletin.calls, bulletin.tickets, bulletin.satisfaction
    lines = calls.by_line
    categories = "、".join(f"{c.category}（{c.tickets}件）" for c in bulletin.top_categories)
    units = "、".join(unit.unit for unit in bulletin.top_units)
    return [
        f"{period_text(bulletin)}，热线平台呼入总次数{calls.inbound}次（含归并优化后12333呼入"
        f"{lines.get('12333', 0)}次，12315呼入{lines.get('12315', 0)}次，12348呼入"
        f"{lines.get('12348', 0)}次），呼出总次数{calls.outbound}次。受理市民有效投诉事项"
        f"{tickets.total}件，热线当即答复{tickets.answered_directly}件，网络转办"
        f"{tickets.forwarded}件。在办理的{tickets.total}件中，市民满意{satisfaction.satisfied}"
        f"件，满意率{satisfaction.rate}。超期工单{bulletin.overdue}件。",
        f"热线诉求量较多的领域有：{categories or '无'}。",
        f"热线诉求涉及较多的单位有：{units or '无'}。",
    ]


def markdown(report: Report) -> str:
    out = []
    if isinstance(report, Bulletin):
        out += ["# 12345政务服务便民热线工作情况通报", "", f"统计期间：{period_text(report)}", ""]
        out += [paragraph + "\n" for paragraph in summary(report)]
    for title, header, rows in tables(report):
        out += [f"## {title}", "", f"统计期间：{period_text(report)}", ""]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "---|" * len(header))
        out += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
        out.append("")
    return "\n".join(out)


def word(report: Report) -> bytes:
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(11)
    if isinstance(report, Bulletin):
        title = document.add_heading("邵阳市12345政务服务便民热线工作情况通报", level=0)
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        document.add_paragraph(f"统计期间：{period_text(report)}")
        document.add_heading("一、基本情况", level=1)
        for paragraph in summary(report):
            document.add_paragraph(paragraph)
    for title, header, rows in tables(report):
        document.add_heading(title, level=1)
        document.add_paragraph(f"统计期间：{period_text(report)}")
        table = document.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.font.bold = True
        for row in rows:
            cells = table.add_row().cells
            for cell, value in zip(cells, row, strict=True):
                cell.text = str(value)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def workbook(report: Report) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, header, rows in tables(report):
        sheet = book.create_sheet(title.split(" ")[0])
        sheet.append([title])
        sheet.append([f"统计期间：{period_text(report)}"])
        sheet.append(list(header))
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(list(row))
        sheet.column_dimensions["A"].width = 40
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
