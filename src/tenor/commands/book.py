"""``tenor demo``, ``tenor db``, ``tenor rebuild``, ``tenor loans`` and ``tenor borrowers``.

The commands of the book itself: building the demo book, migrating the database, rebuilding
projections from the journal, and reading loans and borrowers from the shell. Reads answer
from ``tenor.store.reads``, so a loan looks the same here as in the API.

Heavy modules (SQLAlchemy, the store, Faker) are imported inside the commands, so that
``tenor schedule`` and ``tenor --help`` start fast; ``tenor.cli`` is imported there too,
because it imports this module while it is being defined.
"""

# Imports inside the commands are the design (see above), not an accident.
# ruff: noqa: PLC0415

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, NoReturn

import typer

from tenor.commands.opening import database_errors, open_database, safe_url, sqlite_file

if TYPE_CHECKING:
    from rich.progress import Progress

    from tenor.store.database import Database

#: The statuses a loan passes through in its life, for ``tenor loans list --status``.
LOAN_STATUSES: Final = (
    "pending",
    "approved",
    "rejected",
    "active",
    "overpaid",
    "closed",
    "written-off",
)

#: How many loans ``tenor rebuild --all`` rebuilds in one transaction.
_REBUILD_BATCH: Final = 200

#: Exit status of ``tenor rebuild`` when it found (and repaired) differences.
DIFFERENCES_FOUND: Final = 1


def _fail(message: str) -> NoReturn:
    from tenor.cli import fail

    fail(message)


@contextmanager
def _domain_errors() -> Iterator[None]:
    from tenor.cli import domain_errors

    with domain_errors():
        yield


def _whole(option: str, raw: str, *, minimum: int, maximum: int) -> int:
    from tenor.cli import parse_count

    with _domain_errors():
        number = parse_count(option, raw)
    if not minimum <= number <= maximum:
        _fail(f"{option} must be between {minimum} and {maximum}, got {number}")
    return number


def _id(what: str, raw: str) -> int:
    return _whole(what, raw, minimum=1, maximum=2**63 - 1)


def _progress(description: str) -> Progress:
    """A progress bar on stderr, shown only on a terminal: stdout stays for the output."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=False,
    )


def _print_json(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2))


# ---------------------------------------------------------------------------------------------
# tenor demo


def _existing_book(db: Database) -> str | None:
    """What the database already holds: None if empty, "demo" or "other"."""
    from sqlalchemy import func, select

    from tenor.simulation import DEMO_BOOK_SETTING
    from tenor.store.migrate import current_revision
    from tenor.store.models import Borrower, Loan, Setting

    if current_revision(db) is None:
        return None
    with db.reading() as session:
        if session.get(Setting, DEMO_BOOK_SETTING) is not None:
            return "demo"
        loans = session.scalar(select(func.count()).select_from(Loan)) or 0
        borrowers = session.scalar(select(func.count()).select_from(Borrower)) or 0
    return "other" if loans or borrowers else None


def _empty(db: Database) -> Database:
    """The same database with nothing in it: a SQLite file is deleted, other databases have
    every Tenor table emptied (the schema stays)."""
    from sqlalchemy import delete

    from tenor.store.catalog import Base
    from tenor.store.database import Database

    path = sqlite_file(db.url)
    if path is not None:
        db.dispose()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return Database(db.url)
    with db.transaction() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
    return db


def _prepare(fresh: bool) -> Database:
    """The migrated, empty database the demo builds in, or fail() when it is not empty."""
    from tenor.store.database import Database, database_url
    from tenor.store.migrate import upgrade

    url = database_url()
    with database_errors(url):
        db = Database(url)
        holds = _existing_book(db)
        if holds == "other":
            db.dispose()
            _fail(
                f"the database {safe_url(url)} holds loans or borrowers that `tenor demo` did "
                "not create; point TENOR_DATABASE_URL at another database for the demo"
            )
        if holds == "demo":
            if not fresh:
                db.dispose()
                _fail(
                    f"the database {safe_url(url)} already holds a demo book; run "
                    "`tenor demo --fresh` to replace it"
                )
            db = _empty(db)
        upgrade(db)
    return db


def demo_command(
    borrowers: Annotated[
        str, typer.Option(help="How many borrowers the book has (1 to 100000).", metavar="N")
    ] = "2000",
    months: Annotated[
        str, typer.Option(help="How many months the book lives through (1 to 60).", metavar="N")
    ] = "12",
    seed: Annotated[
        str,
        typer.Option(
            help="Seed of every random draw: the same seed and start give the same book.",
            metavar="N",
        ),
    ] = "7",
    start: Annotated[
        str | None,
        typer.Option(
            help="First business date, YYYY-MM-DD. Default: --months months before today, so "
            "that the book's business date ends today.",
            metavar="DATE",
        ),
    ] = None,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Replace a demo book the database already holds (its SQLite file is deleted; "
            "another database has its Tenor tables emptied). Without it the demo refuses to "
            "touch a database that holds a book.",
        ),
    ] = False,
    walkthrough: Annotated[
        bool,
        typer.Option(
            "--walkthrough",
            help="Instead of the book, print sample schedules and one loan's life, computed "
            "in memory; no database is used.",
        ),
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the portfolio summary as JSON for machines.")
    ] = False,
) -> None:
    """Build a realistic demo book in the database and live through it, day by day.

    Borrowers with Chinese names, national IDs and phone numbers: consumers
    drawing on a credit line (3 to 24 monthly installments) and enterprises
    with SME loans and project loans repaid on milestones. They pay on time,
    early, late or in part; some default, cure or settle early. Loans
    originate over the first half of the period.

    Each business date the demo posts the day's disbursements, payments and
    penalty interest through the journal, and moves days past due, buckets
    and five-level classes; at the end it prints the portfolio.

    The database is TENOR_DATABASE_URL (default: the SQLite file tenor.db
    here), migrated first. The demo builds only in an empty database: one
    holding a demo book is replaced with --fresh (./run demo passes it), and
    one holding any other book is never touched.
    """
    from tenor.cli import parse_date

    if walkthrough:
        from rich.console import Console

        from tenor.demo import walkthrough as run_walkthrough

        run_walkthrough(Console())
        return
    count = _whole("--borrowers", borrowers, minimum=1, maximum=100_000)
    span = _whole("--months", months, minimum=1, maximum=60)
    seed_number = _whole("--seed", seed, minimum=0, maximum=2**63 - 1)
    if start is None:
        import datetime as dt

        from tenor.core.calendar import add_months

        first = add_months(dt.datetime.now(dt.UTC).date(), -span)
    else:
        with _domain_errors():
            first = parse_date("--start", start)
    _build_demo(count, span, seed_number, first, fresh=fresh, json_output=json_output)


def _last_quarter(plan: Any) -> Any:
    """The day the demo's propensity model is trained and promoted: three quarters through a
    book of six months or more (enough delinquent history to learn from and to test on)."""
    from tenor.core.calendar import add_months

    months = (plan.end.year - plan.start.year) * 12 + plan.end.month - plan.start.month
    return add_months(plan.start, months * 3 // 4) if months >= 6 else None


def _build_demo(
    borrowers: int, months: int, seed: int, start: Any, *, fresh: bool, json_output: bool
) -> None:
    import time

    from rich.console import Console

    from tenor.demo import print_book_summary
    from tenor.simulation import BookLife, live_through, plan_book, portfolio_summary

    db = _prepare(fresh)
    began = time.perf_counter()
    plan = plan_book(borrowers=borrowers, months=months, seed=seed, start=start)
    with database_errors(db.url), _domain_errors(), _progress("Setting up") as progress:
        task = progress.add_task(
            f"{len(plan.borrowers)} borrowers, {len(plan.loans)} loans",
            total=plan.days,
            note="",
        )

        def on_day(day: Any, life: BookLife) -> None:
            events = sum(life.events.values())
            progress.update(task, advance=1, description=f"{day}", note=f"{events:,} events")

        life = live_through(db, plan, on_day, propensity_model_on=_last_quarter(plan))
        with db.reading() as session:
            summary = portfolio_summary(session)
    elapsed = time.perf_counter() - began
    db.dispose()
    summary["behaviours"] = {
        behaviour.value: count for behaviour, count in sorted(plan.behaviours().items())
    }
    summary["seconds"] = round(elapsed, 1)
    if json_output:
        _print_json(summary)
        return
    print_book_summary(Console(highlight=False), summary, plan, life)


# ---------------------------------------------------------------------------------------------
# tenor db, tenor rebuild


def db_upgrade() -> None:
    """Bring the database's schema up to date with Tenor's migrations.

    The database is TENOR_DATABASE_URL (default: the SQLite file tenor.db
    here, created when missing). An up-to-date database is left as it is.
    Prints the schema revision the database is at.
    """
    from tenor.store.database import Database, database_url
    from tenor.store.migrate import current_revision, upgrade

    url = database_url()
    with database_errors(url):
        db = Database(url)
        before = current_revision(db)
        upgrade(db)
        after = current_revision(db)
        db.dispose()
    moved = "already at" if before == after else f"upgraded from {before or 'empty'} to"
    typer.echo(f"database {safe_url(url)}: {moved} revision {after}")


def rebuild_command(
    loan: Annotated[str | None, typer.Option(help="Rebuild this one loan.", metavar="ID")] = None,
    all_loans: Annotated[
        bool, typer.Option("--all", help="Rebuild every loan, with a progress bar.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print what was found as JSON for machines.")
    ] = False,
) -> None:
    """Rebuild loan projections (balances, installments, days past due) from the journal.

    Each loan's journal is replayed through the ledger core on the book's
    business date and compared with the stored projection; any difference
    is reported, then repaired.

    Exit status: 0 when the projections matched the journal; 1 when
    differences were found (they are repaired, so a second run exits 0);
    2 on bad input or an unknown loan.
    """
    if (loan is None) == (not all_loans):
        _fail("give either --loan ID or --all")
    from sqlalchemy import select

    from tenor.store.journal import Rebuilt, business_date, rebuild
    from tenor.store.models import Loan

    loan_id = None if loan is None else _id("--loan", loan)
    db = open_database()
    found: list[Rebuilt] = []
    with database_errors(db.url):
        with db.reading() as session:
            day = business_date(session)
            ids = (
                [loan_id]
                if loan_id is not None
                else list(session.scalars(select(Loan.id).order_by(Loan.id)))
            )
        with _progress("Rebuilding") as progress:
            task = progress.add_task("Rebuilding loans", total=len(ids), note="")
            for first in range(0, len(ids), _REBUILD_BATCH):
                with _domain_errors(), db.transaction() as session:
                    for one in ids[first : first + _REBUILD_BATCH]:
                        result = rebuild(session, one)
                        if result.differences:
                            found.append(result)
                progress.update(
                    task,
                    advance=len(ids[first : first + _REBUILD_BATCH]),
                    note=f"{len(found)} with differences",
                )
    db.dispose()
    if json_output:
        _print_json(
            {
                "business_date": day.isoformat(),
                "loans_rebuilt": len(ids),
                "loans_with_differences": len(found),
                "repaired": bool(found),
                "differences": [
                    {"loan_id": result.loan_id, "differences": list(result.differences)}
                    for result in found
                ],
            }
        )
    else:
        _print_rebuild(len(ids), day, found)
    if found:
        raise typer.Exit(DIFFERENCES_FOUND)


def _print_rebuild(checked: int, day: Any, found: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    loans = "loan" if checked == 1 else "loans"
    if not found:
        console.print(
            f"Rebuilt {checked} {loans} from the journal on business date {day}: no differences."
        )
        return
    table = Table("Loan", "Difference (stored, and what the journal gives)", title_justify="left")
    for result in found:
        for difference in result.differences:
            table.add_row(str(result.loan_id), difference)
    console.print(table)
    console.print(
        f"Rebuilt {checked} {loans} on business date {day}: {len(found)} had differences, "
        "now repaired from the journal."
    )


# ---------------------------------------------------------------------------------------------
# tenor loans, tenor borrowers


def _class_label(document: dict[str, Any]) -> str:
    from tenor.core.delinquency import LoanClass

    for loan_class in LoanClass:
        if loan_class.label_zh == document.get("classification_zh"):
            return f"{loan_class.label_zh} {loan_class.label_en}"
    return ""


def _bucket_name(raw: str) -> str:
    """A bucket as the products name it: ``m3`` is M3; names of custom schemes pass as given."""
    from tenor.core.delinquency import CHINESE_BUCKETS, US_BUCKETS

    for scheme in (CHINESE_BUCKETS, US_BUCKETS):
        for bucket in scheme.buckets:
            if bucket.name.lower() == raw.strip().lower():
                return bucket.name
    return raw.strip()


def loans_list(
    status: Annotated[
        str | None,
        typer.Option(help=f"Only loans in this status: {', '.join(LOAN_STATUSES)}.", metavar="S"),
    ] = None,
    bucket: Annotated[
        str | None,
        typer.Option(
            help="Only loans in this delinquency bucket, e.g. M0, M1 ... M6+.", metavar="B"
        ),
    ] = None,
    min_dpd: Annotated[
        str | None, typer.Option(help="Only loans at least N days past due.", metavar="N")
    ] = None,
    max_dpd: Annotated[
        str | None, typer.Option(help="Only loans at most N days past due.", metavar="N")
    ] = None,
    product: Annotated[
        str | None, typer.Option(help="Only loans of this product.", metavar="ID")
    ] = None,
    borrower: Annotated[
        str | None, typer.Option(help="Only loans of this borrower.", metavar="ID")
    ] = None,
    limit: Annotated[str, typer.Option(help="At most N loans (1 to 1000).", metavar="N")] = "50",
    offset: Annotated[
        str, typer.Option(help="Skip the first N matching loans, for the next page.", metavar="N")
    ] = "0",
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print a JSON list of loan documents (as GET /v1/loans/{id} gives them).",
        ),
    ] = False,
) -> None:
    """List loans, ordered by id, with their balances and delinquency.

    Filters combine: --bucket M3 --product 1 lists the product's loans 61 to
    90 days past due. Amounts are in major units of the loan's currency.
    """
    from tenor.store.reads import LoanFilter, list_loans

    if status is not None and status.strip().lower() not in LOAN_STATUSES:
        _fail(f"--status must be one of {', '.join(LOAN_STATUSES)}, got {status!r}")
    top = 10**6
    filters = LoanFilter(
        status=None if status is None else status.strip().lower(),
        bucket=None if bucket is None else _bucket_name(bucket),
        min_dpd=None if min_dpd is None else _whole("--min-dpd", min_dpd, minimum=0, maximum=top),
        max_dpd=None if max_dpd is None else _whole("--max-dpd", max_dpd, minimum=0, maximum=top),
        product_id=None if product is None else _id("--product", product),
        borrower_id=None if borrower is None else _id("--borrower", borrower),
    )
    low, high = filters.min_dpd, filters.max_dpd
    if low is not None and high is not None and low > high:
        _fail(f"--min-dpd {low} is above --max-dpd {high}")
    count = _whole("--limit", limit, minimum=1, maximum=1000)
    skip = _whole("--offset", offset, minimum=0, maximum=2**62)
    db = open_database()
    with database_errors(db.url), db.reading() as session:
        from tenor.store.journal import business_date

        loans, total = list_loans(session, filters, offset=skip, limit=count)
        day = business_date(session)
    db.dispose()
    if json_output:
        _print_json(loans)
        return
    from rich.console import Console

    console = Console(highlight=False)
    console.print(_loans_table(loans))
    shown = f"{skip + 1}-{skip + len(loans)} of {total}" if loans else f"none of {total}"
    more = f"; --offset {skip + len(loans)} for more" if skip + len(loans) < total else ""
    currencies = sorted({loan["currency"] for loan in loans})
    amounts = f" Amounts in {currencies[0]}." if len(currencies) == 1 else ""
    console.print(f"Loans {shown} matching, on business date {day}{more}.{amounts}")


def _loans_table(loans: list[dict[str, Any]], title: str | None = None) -> Any:
    """Loans as a table for people. Amounts carry their currency only when the loans are in
    more than one; otherwise the caller names it once."""
    from rich import box
    from rich.table import Table

    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        # Narrow enough for an 80-column terminal: the box's column dividers are the only
        # space between columns, and only the class wraps.
        padding=0,
        pad_edge=False,
    )
    for heading in ("Loan", "Borrower", "Product"):
        table.add_column(heading, justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Outstanding", justify="right", no_wrap=True)
    table.add_column("DPD", justify="right", no_wrap=True)
    table.add_column("Bucket", no_wrap=True)
    table.add_column("Class", min_width=11, overflow="fold")
    table.add_column("Next due", no_wrap=True)
    mixed = len({loan["currency"] for loan in loans}) > 1
    for loan in loans:
        table.add_row(
            str(loan["id"]),
            str(loan["borrower_id"]),
            str(loan["product_id"]),
            loan["status"],
            f"{loan['outstanding_principal']} {loan['currency']}"
            if mixed
            else loan["outstanding_principal"],
            str(loan["days_past_due"]),
            loan["bucket"] or "",
            _class_label(loan),
            loan["next_due_date"] or "",
        )
    return table


def loans_show(
    loan_id: Annotated[str, typer.Argument(help="The loan's id.", metavar="ID")],
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the loan document (as GET /v1/loans/{id} gives it) with its schedule "
            "under 'schedule', as JSON.",
        ),
    ] = False,
) -> None:
    """Show one loan: its terms, balances, delinquency and installment schedule."""
    from tenor.store.reads import get_loan, schedule_document

    number = _id("ID", loan_id)
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.reading() as session:
        document = get_loan(session, number)
        document["schedule"] = schedule_document(session, number)["installments"]
    db.dispose()
    if json_output:
        _print_json(document)
        return
    _print_loan(document)


def _print_loan(document: dict[str, Any]) -> None:
    from decimal import Decimal

    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    currency = document["currency"]
    console.print(
        f"[bold]Loan {document['id']}[/bold]: {document['principal']} {currency} at "
        f"{document['annual_rate_percent']}% a year, {document['term']} x "
        f"{document['frequency']}, {document['method']}"
    )
    facts = Table(box=box.SIMPLE, show_header=False)
    facts.add_column(style="bold")
    facts.add_column()
    for label, key in (
        ("Borrower", "borrower_id"),
        ("Product", "product_id"),
        ("Status", "status"),
        ("Started", "start_date"),
        ("Business date", "business_date"),
        ("Disbursed", "disbursed"),
        ("Repaid", "repaid"),
        ("Outstanding principal", "outstanding_principal"),
        ("Outstanding interest", "outstanding_interest"),
        ("Outstanding penalties", "outstanding_penalties"),
        ("Arrears", "arrears"),
        ("Credit balance", "credit_balance"),
        ("Days past due", "days_past_due"),
        ("Bucket", "bucket"),
        ("Next due", "next_due_date"),
    ):
        facts.add_row(label, str(document.get(key) if document.get(key) is not None else "-"))
    facts.add_row("Five-level class 五级分类", _class_label(document) or "-")
    facts.add_row("IFRS 9 stage", str(document.get("ifrs9_stage") or "-"))
    console.print(facts)
    items = document["schedule"]
    # Fee and penalty columns only when some installment has one: an 80-column terminal
    # has no room to spare for columns of zeros.
    parts = ["principal", "interest"] + [
        part for part in ("fee", "penalty") if any(Decimal(item[part]) for item in items)
    ]
    schedule = Table(
        title=f"Schedule ({currency})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=0,
        pad_edge=False,
    )
    schedule.add_column("#", justify="right")
    schedule.add_column("Due date", no_wrap=True)
    for heading in [*parts, "total", "paid", "unpaid"]:
        schedule.add_column(heading.capitalize(), justify="right", overflow="fold")
    schedule.add_column("Settled", no_wrap=True)
    for item in items:
        schedule.add_row(
            str(item["number"]),
            item["due_date"],
            *(item[part] for part in [*parts, "total", "paid", "unpaid"]),
            item["settled_on"] or "",
        )
    console.print(schedule)


def borrowers_show(
    borrower_id: Annotated[str, typer.Argument(help="The borrower's id.", metavar="ID")],
    reveal: Annotated[
        bool,
        typer.Option(
            "--reveal",
            help="Show national ID and phone numbers in full. Without it they are masked "
            "(110***********1234), as the API masks them for roles that do not need them.",
        ),
    ] = False,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print the borrower document (as the API gives it) as JSON."),
    ] = False,
) -> None:
    """Show one borrower: identity, contact preferences, consents, and their loans.

    National ID and phone numbers (contact people's included) are masked
    unless --reveal is given: the CLI is an operator's tool, and what it
    prints ends up in scrollback and in tickets.
    """
    from tenor.store.reads import LoanFilter, get_borrower, list_loans

    number = _id("ID", borrower_id)
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.reading() as session:
        document = get_borrower(session, number, reveal=reveal)
        loans, _ = list_loans(session, LoanFilter(borrower_id=number), limit=1000)
    db.dispose()
    if json_output:
        _print_json(document)
        return
    _print_borrower(document, loans)


def _print_borrower(document: dict[str, Any], loans: list[dict[str, Any]]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(
        f"[bold]Borrower {document['id']}[/bold]: {document['name']} ({document['kind']})"
    )
    facts = Table(box=box.SIMPLE, show_header=False)
    facts.add_column(style="bold")
    facts.add_column()

    def listed(values: Any) -> str:
        return ", ".join(str(value) for value in values) if values else "-"

    rows = [
        ("National ID", document["national_id"] or "-"),
        ("Phones", listed(document["phones"])),
        ("Email", document["email"] or "-"),
        ("Address", document["address"] or "-"),
        ("Time zone", document["time_zone"]),
        ("Locale", document["locale"]),
        ("Preferred channels", listed(document["preferred_channels"])),
        ("Opted out of", listed(document["opt_outs"])),
        ("Consents", listed(f"{k}={v}" for k, v in document["consents"].items())),
    ]
    if document["kind"] == "enterprise":
        capital = document["registered_capital"]
        rows += [
            ("Industry", document["industry"] or "-"),
            (
                "Registered capital",
                f"{capital} {document['registered_capital_currency']}" if capital else "-",
            ),
            (
                "Contacts",
                listed(
                    " ".join(str(v) for v in contact.values()) for contact in document["contacts"]
                ),
            ),
        ]
    for label, value in rows:
        facts.add_row(label, value)
    console.print(facts)
    console.print(_loans_table(loans, title="Loans"))


# ---------------------------------------------------------------------------------------------
# Registration


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("demo")(demo_command)
    app.command("rebuild")(rebuild_command)

    database = typer.Typer(
        name="db", help="The database's schema: migrations.", no_args_is_help=True
    )
    database.command("upgrade")(db_upgrade)
    app.add_typer(database)

    loans = typer.Typer(
        name="loans",
        help="Read loans: balances, delinquency and schedules, as the API shows them.",
        no_args_is_help=True,
    )
    loans.command("list")(loans_list)
    loans.command("show")(loans_show)
    app.add_typer(loans)

    borrowers = typer.Typer(
        name="borrowers", help="Read borrowers, masked unless asked.", no_args_is_help=True
    )
    borrowers.command("show")(borrowers_show)
    app.add_typer(borrowers)
