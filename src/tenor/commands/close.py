"""``tenor close`` and ``tenor report portfolio``: the daily close and the portfolio it leaves.

Heavy modules (Polars, SQLAlchemy, the close) are imported inside the commands, so that
``tenor --help`` starts fast.
"""

# Imports inside the commands are the design (see above).
# ruff: noqa: PLC0415

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tenor.commands import reports
from tenor.commands.opening import database_errors, open_database

if TYPE_CHECKING:
    from rich.console import Console

    from tenor.batch.close import CloseResult


def _fail(message: str) -> Any:
    from tenor.cli import fail

    fail(message)


def _date(option: str, raw: str | None) -> Any:
    if raw is None:
        return None
    from tenor.cli import domain_errors, parse_date

    with domain_errors():
        return parse_date(option, raw)


def _count(option: str, raw: str, *, minimum: int, maximum: int) -> int:
    from tenor.cli import domain_errors, parse_count

    with domain_errors():
        number = parse_count(option, raw)
    if not minimum <= number <= maximum:
        _fail(f"{option} must be between {minimum} and {maximum}, got {number}")
    return number


def close_command(
    date: Annotated[
        str | None,
        typer.Option(
            help="Close this business date, which must be the open one (a date closed before: "
            "nothing to do).",
            metavar="DATE",
        ),
    ] = None,
    through: Annotated[
        str | None,
        typer.Option(
            help="Catch up: close every business date from the open one through DATE, day by day.",
            metavar="DATE",
        ),
    ] = None,
    workers: Annotated[
        str, typer.Option(help="Worker processes for the partitions (local engine).", metavar="N")
    ] = "1",
    engine: Annotated[
        str,
        typer.Option(
            help="local (this machine) or dask (a Dask distributed cluster, with --scheduler).",
            metavar="ENGINE",
        ),
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="The Dask scheduler's address, tcp://HOST:PORT.", metavar="ADDRESS"),
    ] = None,
    partition_size: Annotated[
        str | None,
        typer.Option(
            help="Loan ids per partition (default: from the book's size, about eight "
            "partitions per worker, 5,000 to 50,000).",
            metavar="N",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print what the close did as JSON for machines.")
    ] = False,
) -> None:
    """Close the open business date: the whole book's consequences of the day.

    Installments falling due move into arrears; days past due, bucket,
    five-level class and IFRS 9 stage move (with an event in the journal
    when they change); penalty interest is posted; reminders due are
    recorded as actions; the end-of-day summary and the rolls since
    yesterday are written. Then the open business date moves to the next day.

    Only loans with something to do are read: those with a date that has
    come, with new journal events, or never closed. The close records its
    progress per partition of loan ids; killed at any point and run again,
    it finishes the same way. Loans whose data break a rule are reported as
    errors and the close goes on.
    """
    from tenor.batch.close import ENGINES

    day = _date("--date", date)
    last = _date("--through", through)
    if day is not None and last is not None:
        _fail("give either --date or --through, not both")
    count = _count("--workers", workers, minimum=1, maximum=256)
    size = (
        None
        if partition_size is None
        else _count("--partition-size", partition_size, minimum=1, maximum=1_000_000)
    )
    if engine not in ENGINES:
        _fail(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "dask" and not scheduler:
        _fail("--engine dask needs --scheduler tcp://HOST:PORT")
    if scheduler and engine != "dask":
        _fail("--scheduler is for --engine dask")
    db = open_database()
    try:
        document = _close(db, day, last, count, engine, scheduler, size, json_output)
    finally:
        # A refused close still returns its connections, on the way to its one-line error.
        db.dispose()
    if json_output:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    from rich.console import Console

    _print_close(Console(highlight=False), document)


def _close(
    db: Any,
    day: Any,
    last: Any,
    count: int,
    engine: str,
    scheduler: str | None,
    size: int | None,
    json_output: bool,
) -> dict[str, Any]:
    from tenor.batch.close import close_book
    from tenor.cli import domain_errors

    with database_errors(db.url), domain_errors(), _bar(json_output) as bar:
        task: list[Any] = []

        def on_day(run: Any, done: int) -> None:
            if task:
                bar.remove_task(task.pop())
            task.append(
                bar.add_task(
                    f"Closing {run.business_date}", total=run.partitions, completed=done, note=""
                )
            )

        def on_partition(counts: Any, done: int, total: int) -> None:
            bar.update(task[-1], completed=done, note=f"{counts.loans} loans in the last")

        result = close_book(
            db,
            date=day,
            through=last,
            workers=count,
            engine=engine,
            scheduler=scheduler,
            partition_size=size,
            on_day=on_day,
            on_partition=on_partition,
        )
    with database_errors(db.url):
        return close_document(db, result)


def _bar(json_output: bool) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("partitions {task.fields[note]}"),
        TimeElapsedColumn(),
        console=console,
        disable=json_output or not console.is_terminal,
    )


def close_document(db: Any, result: CloseResult) -> dict[str, Any]:
    """What a close did, as one JSON document (``tenor close --json``)."""
    from sqlalchemy import func, select

    from tenor.batch.portfolio import SUMMARY_STATUSES, portfolio_report
    from tenor.batch.tables import CloseError
    from tenor.store.models import LoanStateRow

    closed = [day.business_date for day in result.closed]
    with db.reading() as session:
        book = session.scalar(select(func.count()).where(LoanStateRow.status.in_(SUMMARY_STATUSES)))
        errors = (
            session.execute(
                select(CloseError.business_date, CloseError.loan_id, CloseError.message)
                .where(CloseError.business_date.in_(closed))
                .order_by(CloseError.business_date, CloseError.loan_id)
            ).all()
            if closed
            else []
        )
        summary = portfolio_report(session, closed[-1]) if closed else None
    touched = sum(day.loans for day in result.closed)
    seconds = round(result.seconds, 3)
    return {
        "closed": [day.isoformat() for day in closed],
        "business_date": result.business_date.isoformat(),
        "already_closed": result.already_closed.isoformat() if result.already_closed else None,
        "book_loans": book or 0,
        "loans_touched": touched,
        "events": sum(day.events for day in result.closed),
        "penalties": sum(day.penalties for day in result.closed),
        "actions": sum(day.actions for day in result.closed),
        "errors": sum(day.errors for day in result.closed),
        "seconds": seconds,
        "loans_per_second": round((book or 0) * len(closed) / result.seconds)
        if closed and result.seconds
        else None,
        "days": [
            {**day.totals(), "seconds": round(day.seconds, 3), "resumed": day.resumed_partitions}
            for day in result.closed
        ],
        "error_loans": [
            {"business_date": day.isoformat(), "loan_id": loan_id, "message": message}
            for day, loan_id, message in errors
        ],
        "summary": summary,
    }


def _print_close(console: Console, document: dict[str, Any]) -> None:
    from rich.table import Table

    if not document["closed"]:
        console.print(
            f"Business date {document['already_closed']} was closed before: nothing to do. "
            f"The open business date is {document['business_date']}."
        )
        return
    closed = document["closed"]
    span = closed[0] if len(closed) == 1 else f"{closed[0]} to {closed[-1]} ({len(closed)} days)"
    console.print(f"Closed {span}; the open business date is now {document['business_date']}.")
    counts = Table("Loans in the book", "Touched", "Events", "Penalties", "Actions", "Errors")
    counts.add_row(
        *(
            f"{document[key]:,}"
            for key in ("book_loans", "loans_touched", "events", "penalties", "actions", "errors")
        )
    )
    console.print(counts)
    rate = document["loans_per_second"]
    console.print(
        f"{document['seconds']:.2f} s"
        + (f", {rate:,} loans per second (book loans x days / time)" if rate else "")
    )
    if document["error_loans"]:
        errors = Table("Date", "Loan", "Why it was left out", title="Errors", title_justify="left")
        for row in document["error_loans"][:20]:
            errors.add_row(row["business_date"], str(row["loan_id"]), row["message"])
        console.print(errors)
        if len(document["error_loans"]) > 20:
            console.print(f"... and {len(document['error_loans']) - 20} more (see --json).")
    if document["summary"]:
        print_portfolio(console, document["summary"], rolls_only_today=True)


def _balance_table(title: str, first: str, rows: list[dict[str, Any]], key: Any) -> Any:
    from rich.table import Table

    table = Table(
        first,
        "Loans",
        "Principal",
        "Outstanding",
        "Arrears",
        title=title,
        title_justify="left",
    )
    for row in rows:
        table.add_row(
            key(row),
            f"{row['loans']:,}",
            f"{row['principal']} {row['currency']}",
            row["outstanding"],
            row["arrears"],
        )
    return table


def print_portfolio(
    console: Console, report: dict[str, Any], *, rolls_only_today: bool = False
) -> None:
    """The portfolio report for people: balances by bucket, class and stage, rolls, rates,
    and the early-warning summary."""
    from rich.table import Table

    from tenor.risk.close import summary_lines

    console.print(
        _balance_table(
            f"Open loans by bucket 按逾期阶段, end of {report['business_date']}",
            "Bucket",
            report["buckets"],
            lambda row: row["bucket"],
        )
    )
    console.print(
        _balance_table(
            "By five-level class 五级分类",
            "Class",
            report["classes"],
            lambda row: f"{row['label_zh']} {row['label_en']}",
        )
    )
    if not rolls_only_today:
        console.print(
            _balance_table(
                "By IFRS 9 stage 阶段", "Stage", report["stages"], lambda row: str(row["stage"])
            )
        )
    rolls = Table(
        "From",
        "To",
        "Loans",
        "Principal",
        title="Rolls since yesterday 迁徙 (stays included)",
        title_justify="left",
    )
    for row in report["rolls"]:
        if row["from"] != row["to"]:
            rolls.add_row(row["from"], row["to"], f"{row['loans']:,}", row["principal"])
    stays = sum(row["loans"] for row in report["rolls"] if row["from"] == row["to"])
    rolls.add_row("(stayed)", "", f"{stays:,}", "")
    console.print(rolls)
    for line in summary_lines(report.get("early_warning")):
        console.print(line)
    if rolls_only_today:
        return
    rates = report["roll_rates"]
    if rates["matrix"]:
        matrix = Table(
            "From",
            "To",
            "Loans",
            "Principal",
            "Rate",
            title=f"Month-over-month roll rates 月度迁徙率, {rates['from_month_end']} to "
            f"{rates['to_month_end']}",
            title_justify="left",
        )
        for row in rates["matrix"]:
            matrix.add_row(
                row["from"], row["to"], f"{row['loans']:,}", row["principal"], f"{row['rate']:.1%}"
            )
        console.print(matrix)
        cures = report["cure_rates"]
        if cures["overall"] is not None:
            console.print(
                f"Cure rate 回收率 (delinquent at the earlier month end, current or paid off at "
                f"the later): {cures['overall']:.1%} of {cures['delinquent_loans']:,} loans"
            )
    else:
        console.print(f"Month-over-month roll rates: {rates['note']}.")


def report_portfolio(
    date: Annotated[
        str | None,
        typer.Option(help="A closed business date; default: the last one closed.", metavar="DATE"),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON for machines.")
    ] = False,
) -> None:
    """The portfolio at the end of a closed business date.

    Open loans and balances by bucket, five-level class and IFRS 9 stage;
    the rolls since the day before; the month-over-month roll-rate matrix
    and cure rates, from the last two month ends closed.
    """
    from tenor.batch.portfolio import portfolio_report
    from tenor.cli import domain_errors

    day = _date("--date", date)
    db = open_database()
    try:
        with database_errors(db.url), domain_errors(), db.reading() as session:
            report = portfolio_report(session, day)
    finally:
        db.dispose()
    if json_output:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    from rich.console import Console

    print_portfolio(Console(highlight=False), report)


def register(app: typer.Typer) -> None:
    """Add ``tenor close`` and ``tenor report portfolio`` to ``app``."""
    app.command("close")(close_command)
    reports.report.command("portfolio")(report_portfolio)
