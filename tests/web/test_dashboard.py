"""The portfolio dashboard on SQLite and PostgreSQL: the roll-rate matrix and vintage curves of
a book the close went through, and the early-warning watchlist, each with its CSV file."""

# The pages' Chinese is written with full-width punctuation, which RUF001 takes for look-alikes.
# ruff: noqa: RUF001

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from tenor.batch.tables import CloseMonthEnd
from tenor.risk.actions import ingest_statements
from tenor.store.models import Borrower, JournalEntry, Loan
from tenor.web.dashboard import roll_tone
from tenor.web.views import csv_text
from tests.api.conftest import Book
from tests.risk.test_store import _quarter
from tests.web.books import closed_book
from tests.web.conftest import Web, sqlite_only

_CHART = re.compile(r"data-chart='([^']+)'")


def _rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def _charts(page: str) -> dict[str, dict[str, Any]]:
    specs = [json.loads(found.replace("&#34;", '"')) for found in _CHART.findall(page)]
    return {spec["kind"]: spec for spec in specs}


def _expected_rolls(web: Web) -> Counter[tuple[str, str]]:
    """Each loan's bucket at 31 March against where it was at 30 April, counted."""
    with web.db.reading() as session:
        rows = session.execute(select(CloseMonthEnd)).scalars().all()
    march = {r.loan_id: r for r in rows if r.month_end == dt.date(2026, 3, 31)}
    april = {r.loan_id: r for r in rows if r.month_end == dt.date(2026, 4, 30)}
    counted: Counter[tuple[str, str]] = Counter()
    for loan_id, before in march.items():
        if before.status == "written-off":
            continue
        after = april.get(loan_id)
        if after is None:
            to = "paid-off"
        elif after.status == "written-off":
            to = "written-off"
        else:
            to = after.bucket
        counted[(before.bucket, to)] += 1
    return counted


def _expected_vintage(web: Web) -> dict[tuple[str, str], tuple[int, int]]:
    """(cohort, month end) -> (loans in the cohort, of them over 30 days past due)."""
    with web.db.reading() as session:
        paid = {
            loan_id: min(days)
            for loan_id, days in _group(
                session.execute(
                    select(JournalEntry.loan_id, JournalEntry.value_date).where(
                        JournalEntry.kind == "disbursed"
                    )
                ).all()
            ).items()
        }
        snapshots = session.execute(select(CloseMonthEnd)).scalars().all()
    cohort = {loan_id: f"{day:%Y-%m}" for loan_id, day in paid.items()}
    sizes = Counter(cohort.values())
    late: Counter[tuple[str, str]] = Counter(
        (cohort[row.loan_id], row.month_end.isoformat())
        for row in snapshots
        if row.days_past_due > 30 or row.status == "written-off"
    )
    return {
        (name, end): (sizes[name], late[(name, end)])
        for name in sizes
        for end in ("2026-03-31", "2026-04-30")
    }


def _group(pairs: Sequence[Any]) -> dict[int, list[dt.date]]:
    grouped: dict[int, list[dt.date]] = {}
    for key, value in pairs:
        grouped.setdefault(int(key), []).append(value)
    return grouped


def test_the_dashboard_draws_the_roll_matrix_and_vintages_of_the_close(web: Web) -> None:
    closed_book(web.db)
    browser = web.signed_in("risk")
    page = browser.get("/web/portfolio")
    assert page.status_code == 200
    text = page.text
    assert "迁徙率：2026年3月31日 至 2026年4月30日（月末），CNY" in text
    assert "账龄曲线" in text
    charts = _charts(text)
    assert charts["rolls"]["type"] == "rolls"
    assert charts["vintages"]["type"] == "lines"

    # The matrix: every loan of 31 March, counted where it was a month later.
    rolls = browser.get("/web/portfolio/CNY/rolls.csv")
    assert rolls.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="tenor-rolls-CNY.csv"' in rolls.headers["content-disposition"]
    cells = _rows(rolls.text)
    assert {(row["from_month_end"], row["to_month_end"]) for row in cells} == {
        ("2026-03-31", "2026-04-30")
    }
    assert Counter({(r["from_bucket"], r["to"]): int(r["loans"]) for r in cells}) == (
        _expected_rolls(web)
    )
    for source in {row["from_bucket"] for row in cells}:
        shares = sum(float(r["rate_percent"]) for r in cells if r["from_bucket"] == source)
        assert abs(shares - 100) < 0.05, source
    # The chart draws the same cells as the table and the file: a bar a row, a segment a cell.
    spec = charts["rolls"]
    drawn = {
        (source, target): rate
        for target, rates in zip(spec["targets"], spec["values"], strict=True)
        for source, rate in zip(spec["rows"], rates, strict=True)
        if rate is not None
    }
    assert len(drawn) == len(cells)
    for row in cells:
        to = {"paid-off": "已结清", "written-off": "已核销"}.get(row["to"], row["to"])
        assert drawn[(row["from_bucket"], to)] == row["rate_percent"]
    tones = {
        (source, target): tone
        for target, row_tones in zip(spec["targets"], spec["tones"], strict=True)
        for source, tone in zip(spec["rows"], row_tones, strict=True)
    }
    assert {tones[pair] for pair in drawn} <= {
        "cured",
        "stayed",
        "worse",
        "much-worse",
        "paid-off",
        "written-off",
    }

    # Vintages: each cohort's share over 30 days past due, by months on book.
    vintage = _rows(browser.get("/web/portfolio/CNY/vintages.csv").text)
    expected = _expected_vintage(web)
    assert {row["cohort"] for row in vintage} == {name for name, _ in expected}
    for row in vintage:
        loans, late = expected[(row["cohort"], row["month_end"])]
        assert (int(row["loans"]), int(row["loans_over_30_dpd_or_written_off"])) == (loans, late)
        assert float(row["share_percent"]) == round(100 * late / loans, 2)
        cohort_month = dt.date.fromisoformat(row["cohort"] + "-01")
        end = dt.date.fromisoformat(row["month_end"])
        months = (end.year - cohort_month.year) * 12 + end.month - cohort_month.month
        assert int(row["months_on_book"]) == months
    lines = {line["name"]: line["values"] for line in charts["vintages"]["lines"]}
    for row in vintage:
        assert lines[row["cohort"]][int(row["months_on_book"])] == row["share_percent"]
    assert any(int(row["loans_over_30_dpd_or_written_off"]) > 0 for row in vintage)

    english = browser.post("/web/locale", {"locale": "en", "back": "/web/portfolio"})
    assert english.status_code == 303
    page_en = browser.get("/web/portfolio").text
    assert "Roll rates from Mar 31, 2026 to Apr 30, 2026 (month ends), CNY" in page_en
    assert "MOB 1" in page_en


@sqlite_only
def test_before_two_month_ends_the_dashboard_says_what_the_matrix_needs(
    web: Web, book: Book
) -> None:
    browser = web.signed_in("collector")
    page = browser.get("/web/portfolio")
    assert "迁徙矩阵需要日终批处理完成两个月末" in page.text
    assert set(_charts(page.text)) == {"buckets", "classes", "products"}
    assert browser.get("/web/portfolio/CNY/rolls.csv").status_code == 404
    assert browser.get("/web/portfolio/CNY/vintages.csv").status_code == 404
    assert browser.get("/web/portfolio/CNY/nonsense.csv").status_code == 404


def test_the_watchlist_shows_each_open_warning_with_its_task_and_csv(web: Web, book: Book) -> None:
    with web.db.transaction() as session:
        borrower = session.get(Borrower, book.borrower_b)
        assert borrower is not None
        borrower.kind = "enterprise"
        session.flush()
        quarters = [
            _quarter("2025-06-30", 130),
            _quarter("2025-09-30", 120),
            _quarter("2025-12-31", 110),
            _quarter("2026-03-31", 100, debt_service="200"),
        ]
        ingest_statements(session, book.borrower_b, quarters, source="q.json")
        loan = session.get(Loan, book.loan_b)
        assert loan is not None
    auditor = web.signed_in("auditor")
    page = auditor.get("/web/portfolio").text
    assert "预警名单" in page
    assert "共 2 条未结预警，违约在前" in page
    assert page.index("covenant:dscr") < page.index("trend:operating_cash_flow")
    assert "请在 5 个工作日内完成贷后检查" in page
    assert f'href="/web/loans/{book.loan_b}"' in page
    entries = _rows(auditor.get("/web/portfolio/watchlist.csv").text)
    assert [(e["code"], e["severity"], e["borrower"]) for e in entries] == [
        ("covenant:dscr", "breach", "李娜"),
        ("trend:operating_cash_flow", "warning", "李娜"),
    ]
    assert "5 business days" in entries[0]["task_en"]
    assert "贷后检查" in entries[0]["task_zh"]
    auditor.post("/web/locale", {"locale": "en", "back": "/web/portfolio"})
    assert "complete a post-loan review within 5 business days" in (
        auditor.get("/web/portfolio").text
    )
    agency = web.signed_in("agency", agency_id=7)
    assert agency.get("/web/portfolio/watchlist.csv").status_code == 403


def test_each_roll_reads_as_a_cure_a_stay_a_roll_on_or_an_exit() -> None:
    assert roll_tone("M2", "M0") == "cured"
    assert roll_tone("M2", "M2") == "stayed"
    assert roll_tone("M2", "M3") == "worse"
    assert roll_tone("M1", "M4") == "much-worse"
    assert roll_tone("30-59", "Current") == "cured"
    assert roll_tone("M1", "paid-off") == "paid-off"
    assert roll_tone("M6+", "written-off") == "written-off"
    assert roll_tone("M1", "30-59") == "other"  # another scheme's bucket


def test_csv_cells_a_spreadsheet_would_run_are_written_as_text() -> None:
    cells = [
        ("=HYPERLINK(1)", "-246.90"),
        ("+1", "0.00"),
        ("@SUM(A1)", None),
        ("-x", "-0.5"),
        ("王芳", 12),
    ]
    rows = [{"name": name, "amount": amount} for name, amount in cells]
    lines = csv_text(("name", "amount"), rows).splitlines()[1:]
    assert lines == [
        "'=HYPERLINK(1),-246.90",
        "'+1,0.00",
        "'@SUM(A1),",
        "'-x,-0.5",
        "王芳,12",
    ]
