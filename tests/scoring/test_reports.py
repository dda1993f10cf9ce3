"""A small month fed through the broker — shuffled, with duplicates — and every report checked
against the counts the month's plan gives, computed here, not by scoring."""

import asyncio
import io
import random
import shutil
import subprocess
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook

from tests.scoring.conftest import Scoring
from tests.scoring.month import HOTLINE, Month, make_month

FIRST, LAST = "2022-01-01", "2022-01-31"


@pytest.fixture(scope="module")
async def month(scoring: Scoring) -> Month:
    month = make_month(seed=7)
    events = list(month.events)
    rng = random.Random(7)
    events += rng.sample(events, len(events) // 10)  # redelivered
    rng.shuffle(events)  # and out of order, within a ticket too
    await scoring.publish(events)

    async def all_counted() -> bool:
        report = (await scoring.get("/v1/reports/units", **{"from": FIRST, "to": LAST})).json()
        expected = month.expected_units()
        rows = {row["unit"]: row for row in report["rows"]}
        calls = (await scoring.get("/v1/reports/bulletin", **{"from": FIRST, "to": LAST})).json()
        return calls["calls"]["inbound"] + calls["calls"]["outbound"] == len(
            month.tickets
        ) + month.outbound_calls and all(
            rows.get(unit, {}).get(key) == value
            for unit, counts in expected.items()
            for key, value in counts.items()
        )

    await scoring.until(all_counted, within=90, what="the month in the read model")
    return month


def percent(part: int, whole: int) -> str:
    return f"{part / whole * 100:.2f}%" if whole else "-"


async def test_attachment_1_counts_each_unit_as_the_plan_does(
    scoring: Scoring, month: Month
) -> None:
    report = (await scoring.get("/v1/reports/units", **{"from": FIRST, "to": LAST})).json()

    rows = {row["unit"]: row for row in report["rows"]}
    for unit, counts in month.expected_units().items():
        row = rows[unit]
        assert {key: row[key] for key in counts} == counts, unit
        assert row["satisfaction_rate"] == percent(counts["satisfied"], counts["callbacks"])
    assert report["rows"][0]["unit"] == HOTLINE
    assert report["total"]["assigned"] == len(month.tickets)
    assert report["total"]["callbacks"] == sum(t.first_verdict is not None for t in month.tickets)
    untouched = [row for unit, row in rows.items() if unit not in month.expected_units()]
    assert untouched, "the bulletin's units without tickets are rows of zeros"
    assert all(row["assigned"] == 0 and row["satisfaction_rate"] == "-" for row in untouched)


async def test_attachments_2_and_3_list_overdue_and_unsatisfied_spot_checks_by_unit(
    scoring: Scoring, month: Month
) -> None:
    overdue = (await scoring.get("/v1/reports/overdue", **{"from": FIRST, "to": LAST})).json()
    checks = (await scoring.get("/v1/reports/spot-checks", **{"from": FIRST, "to": LAST})).json()

    expected_overdue = {
        unit: counts["overdue"]
        for unit, counts in month.expected_units().items()
        if counts.get("overdue")
    }
    assert {row["unit"]: row["overdue"] for row in overdue["rows"]} == expected_overdue
    assert [row["overdue"] for row in overdue["rows"]] == sorted(
        expected_overdue.values(), reverse=True
    )
    assert overdue["total"] == sum(expected_overdue.values())
    assert {row["unit"]: row["unsatisfied"] for row in checks["rows"]} == (
        month.expected_spot_checks()
    )
    assert checks["total"] == sum(month.expected_spot_checks().values())


async def test_the_bulletin_says_what_the_plan_says(scoring: Scoring, month: Month) -> None:
    bulletin = (await scoring.get("/v1/reports/bulletin", **{"from": FIRST, "to": LAST})).json()

    forwarded = [t for t in month.tickets if t.unit is not None]
    lines = month.expected_calls()
    assert bulletin["calls"] == {
        "inbound": len(month.tickets),
        "by_line": {line: lines.get(line, 0) for line in ("12345", "12333", "12315", "12348")},
        "outbound": month.outbound_calls,
    }
    assert bulletin["tickets"] == {
        "total": len(month.tickets),
        "answered_directly": len(month.tickets) - len(forwarded),
        "forwarded": len(forwarded),
        "units": len({t.unit for t in forwarded}),
    }
    satisfied = sum(t.first_verdict in ("satisfied", "basically_satisfied") for t in month.tickets)
    callbacks = sum(t.first_verdict is not None for t in month.tickets)
    assert bulletin["satisfaction"] == {
        "callbacks": callbacks,
        "satisfied": satisfied,
        "unsatisfied": callbacks - satisfied,
        "rate": percent(satisfied, callbacks),
    }
    categories = [entry["tickets"] for entry in bulletin["top_categories"]]
    assert categories == sorted(categories, reverse=True)
    assert sum(categories) == len(month.tickets)  # five categories, all shown
    per_unit = Counter(t.unit for t in forwarded)
    assert [(e["unit"], e["tickets"]) for e in bulletin["top_units"]] == [
        (e["unit"], per_unit[e["unit"]]) for e in bulletin["top_units"]
    ]
    assert [e["tickets"] for e in bulletin["top_units"]] == sorted(per_unit.values(), reverse=True)[
        :5
    ]
    assert bulletin["attachments"]["units"]["total"]["assigned"] == len(month.tickets)


async def test_a_period_belongs_to_the_acceptance_date_in_local_time(
    scoring: Scoring, month: Month
) -> None:
    week = (await scoring.get("/v1/reports/units", **{"from": FIRST, "to": "2022-01-07"})).json()

    in_week = [t for t in month.tickets if t.accepted_at.date() <= date(2022, 1, 7)]
    assert week["total"]["assigned"] == len(in_week)


async def test_the_reports_come_as_markdown_word_and_excel(scoring: Scoring, month: Month) -> None:
    period = {"from": FIRST, "to": LAST}
    markdown = await scoring.get("/v1/reports/bulletin", **period, format="md")
    word = await scoring.get("/v1/reports/bulletin", **period, format="docx")
    excel = await scoring.get("/v1/reports/units", **period, format="xlsx")

    assert markdown.headers["content-type"].startswith("text/markdown")
    assert f"| {HOTLINE} | {month.expected_units()[HOTLINE]['assigned']} |" in markdown.text
    document = Document(io.BytesIO(word.content))
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert f"受理市民有效投诉事项{len(month.tickets)}件" in text
    assert len(document.tables) == 3
    sheet = load_workbook(io.BytesIO(excel.content)).active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[2][:2] == ["承办单位", "交办总量"]
    assert [HOTLINE, month.expected_units()[HOTLINE]["assigned"]] == values[3][:2]


RENDERERS = ("soffice", "pdftoppm", "pdftotext")
UNIT_KEYS = (
    "unit",
    "assigned",
    "handled",
    "overdue",
    "callbacks",
    "satisfied",
    "unsatisfied",
    "satisfaction_rate",
    "reopened",
)


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in RENDERERS),
    reason="rendering needs LibreOffice and poppler: `make render-tools` installs them",
)
async def test_the_word_bulletin_renders_as_pages_a_clerk_can_read(
    scoring: Scoring, month: Month, tmp_path: Path
) -> None:
    period = {"from": FIRST, "to": LAST}
    word = await scoring.get("/v1/reports/bulletin", **period, format="docx")
    units = (await scoring.get("/v1/reports/units", **period)).json()
    (tmp_path / "bulletin.docx").write_bytes(word.content)

    laid_out, pages = await asyncio.to_thread(render, tmp_path / "bulletin.docx")

    text = "".join(laid_out.split())  # the layout spaces Chinese from figures and wraps lines

    assert f"受理市民有效投诉事项{len(month.tickets)}件" in text
    assert "承办单位" in text
    for row in units["rows"]:  # each row on one line: no name, figure or rate wrapped
        assert "".join(str(row[key]) for key in UNIT_KEYS) in text, row["unit"]
    assert pages, "no page was rendered"
    assert ink(pages[0]) > 0.005, "the first page is blank"  # a page of text: a few % ink


def render(docx: Path) -> tuple[str, list[Path]]:
    """Word → PDF (LibreOffice, its own profile in the folder) → its text and greyscale pages;
    a PNG of the first page is kept beside them, to be looked at."""
    folder = docx.parent
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{folder}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(docx),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pdf = docx.with_suffix(".pdf")
    subprocess.run(["pdftotext", "-layout", str(pdf), str(folder / "bulletin.txt")], check=True)
    subprocess.run(["pdftoppm", "-gray", "-r", "50", str(pdf), str(folder / "page")], check=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(folder / "first")],
        check=True,
    )
    return (folder / "bulletin.txt").read_text(), sorted(folder.glob("page-*.pgm"))


def ink(page: Path) -> float:
    """The share of dark pixels on a binary PGM (P5) page."""
    data = page.read_bytes()
    magic, width, height, maxval, pixels = data.split(maxsplit=4)
    assert (magic, maxval) == (b"P5", b"255")
    size = int(width) * int(height)
    return sum(1 for value in pixels[:size] if value < 128) / size


async def test_an_empty_period_is_a_table_of_zeros(scoring: Scoring) -> None:
    report = await scoring.get("/v1/reports/units", **{"from": "2019-03-01", "to": "2019-03-31"})

    assert report.status_code == 200
    assert report.json()["total"]["assigned"] == 0
    assert len(report.json()["rows"]) >= 56  # the seed's Attachment 1 has 56 rows


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2022-02-01", "to": "2022-01-01"}, "from"),
        ({"from": "2020-01-01", "to": "2022-01-01"}, "to"),
        ({"from": "2022-01-01", "to": "2022-01-31", "format": "pdf"}, "query.format"),
        ({"from": "2022-13-01", "to": "2022-01-31"}, "query.from"),
        ({"to": "2022-01-31"}, "query.from"),
    ],
)
async def test_a_bad_period_or_format_is_a_problem_naming_the_field(
    scoring: Scoring, params: dict[str, Any], field: str
) -> None:
    response = await scoring.get("/v1/reports/units", **params)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field


async def test_reports_need_a_reader_token(scoring: Scoring) -> None:
    response = await scoring.http.get("/v1/reports/units", params={"from": FIRST, "to": LAST})

    assert response.status_code == 401
