"""The reports as a clerk sends them: Markdown, a Word document (python-docx), a workbook
(openpyxl). JSON is the reports' own form; these are views of it."""

import io
import unicodedata
from collections.abc import Sequence
from typing import Any

from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
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

TITLE = "邵阳市12345政务服务便民热线工作情况通报"
BODY_FONT, HEADING_FONT = "SimSun", "SimHei"
TEXT_WIDTH = Cm(16)  # A4 less python-docx's default margins
FULL_WIDTH, HALF_WIDTH, CELL_PADDING = Pt(9), Pt(5.5), Cm(0.45)


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
        out += [f"# {TITLE}", "", f"统计期间：{period_text(report)}", ""]
        out += [paragraph + "\n" for paragraph in summary(report)]
    for title, header, rows in tables(report):
        out += [f"## {title}", "", f"统计期间：{period_text(report)}", ""]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "---|" * len(header))
        out += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
        out.append("")
    return "\n".join(out)


def word(report: Report) -> bytes:
    """An A4 document in the bulletin's layout: a centred title, the summary, and each table with
    a wide unit column, narrow centred figures and its header repeated on every page."""
    document = Document()
    _set_fonts(document.styles["Normal"], BODY_FONT, Pt(11))
    for name in ("Heading 1", "Title"):
        _set_fonts(document.styles[name], HEADING_FONT, None)
        document.styles[name].font.color.rgb = RGBColor(0, 0, 0)
    if isinstance(report, Bulletin):
        top = document.add_paragraph()
        top.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = top.add_run(TITLE)
        run.font.size, run.font.bold = Pt(18), True
        _east_asian(run.element.get_or_add_rPr(), HEADING_FONT)
        centred = document.add_paragraph(f"统计期间：{period_text(report)}")
        centred.alignment = WD_ALIGN_PARAGRAPH.CENTER
        document.add_heading("一、基本情况", level=1)
        for paragraph in summary(report):
            document.add_paragraph(paragraph).paragraph_format.first_line_indent = Pt(22)
    for title, header, rows in tables(report):
        document.add_heading(title, level=1)
        document.add_paragraph(f"统计期间：{period_text(report)}")
        _add_table(document, header, rows)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _add_table(document: Any, header: Sequence[str], rows: list[Sequence[Any]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = _column_widths(header, rows)
    heading = table.rows[0]
    heading._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # repeated on each page
    for values, row in ((header, heading), *((values, table.add_row()) for values in rows)):
        for index, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            cell.width = widths[index]
            paragraph = cell.paragraphs[0]
            run = paragraph.add_run(str(value))
            run.font.size = Pt(9)
            run.font.bold = row is heading
            if index or row is heading:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the grid, which LibreOffice reads; Word reads the cells


def _column_widths(header: Sequence[str], rows: list[Sequence[Any]]) -> list[int]:
    """Every value on one line; the headers too when the page is wide enough, otherwise each
    wraps onto two lines, as far as it must, before any value would."""
    values = [max((_length(str(row[i])) for row in rows), default=0) for i in range(len(header))]
    widest = [
        max(value, _length(name)) + CELL_PADDING for value, name in zip(values, header, strict=True)
    ]
    narrowest = [
        max(value, _length(name[: (len(name) + 1) // 2])) + CELL_PADDING
        for value, name in zip(values, header, strict=True)
    ]
    spare = TEXT_WIDTH - sum(narrowest)
    wanted = sum(widest) - sum(narrowest)
    if spare >= wanted:  # all on one line, and the room left shared out
        return [int(w * TEXT_WIDTH / sum(widest)) for w in widest]
    share = max(spare, 0) / wanted if wanted else 0
    return [int(n + (w - n) * share) for n, w in zip(narrowest, widest, strict=True)]


def _length(text: str) -> int:
    """A text's width at the tables' 9 points, in EMU: a Chinese character is a full em."""
    return sum(
        FULL_WIDTH if unicodedata.east_asian_width(char) in "WF" else HALF_WIDTH for char in text
    )


def _set_fonts(style: Any, name: str, size: Pt | None) -> None:
    style.font.name = name
    if size is not None:
        style.font.size = size
    _east_asian(style.element.get_or_add_rPr(), name)


def _east_asian(properties: Any, name: str) -> None:
    """python-docx names the Latin font only; Chinese text takes the East Asian one."""
    properties.get_or_add_rFonts().set(qn("w:eastAsia"), name)


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
