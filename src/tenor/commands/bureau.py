"""``tenor bureau``: credit-bureau files (Metro 2, PBOC-style) and what they need.

``export`` writes a month's file for the whole book and prints its record counts and every
account held back with its reasons; ``correct`` re-reports one account's past month (or
deletes it with DA / DF); ``furnisher``, ``consumer``, ``collections``, ``comment``,
``associate``, ``creditor`` and ``dispute open|resolve`` record what the records are made of.
National ids and SSNs are never printed.
"""

# Imports inside the commands keep `tenor --help` fast, as in tenor.commands.book.
# ruff: noqa: PLC0415

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, NoReturn

import typer

from tenor.commands.opening import database_errors, open_database

if TYPE_CHECKING:
    from tenor.bureau.export import Export

FORMATS: Final = ("metro2", "pboc")


def _fail(message: str) -> NoReturn:
    from tenor.cli import fail

    fail(message)


@contextmanager
def _domain_errors() -> Iterator[None]:
    from tenor.cli import domain_errors

    with domain_errors():
        yield


def _id(option: str, raw: str) -> int:
    from tenor.cli import parse_count

    with _domain_errors():
        number = parse_count(option, raw)
    if not 1 <= number <= 2**63 - 1:
        _fail(f"{option} must be a positive id, got {number}")
    return number


def _date(option: str, raw: str) -> dt.date:
    from tenor.cli import parse_date

    with _domain_errors():
        return parse_date(option, raw)


def _month(raw: str) -> dt.date:
    from tenor.bureau.export import parse_month

    with _domain_errors():
        return parse_month(raw)


def _format(raw: str) -> str:
    value = raw.strip().lower()
    if value not in FORMATS:
        _fail(f"--format must be metro2 or pboc, not {raw!r}")
    return value


def _print(export: Export, out: Path, *, json_output: bool) -> None:
    summary = {**export.summary(), "out": str(out)}
    if json_output:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    counts = ", ".join(f"{status} {count}" for status, count in summary["status_counts"].items())
    typer.echo(
        f"wrote {export.records} {export.format} records for {export.month} to {out}"
        + (f" ({counts})" if counts else "")
    )
    if export.not_reported:
        typer.echo(f"not reported (not yet open, closed earlier or deleted): {export.not_reported}")
    if export.held_back:
        typer.echo(f"held back: {len(export.held_back)}")
        for held in export.held_back:
            typer.echo(f"  loan {held.loan_id}: {'; '.join(held.reasons)}")


def _write(
    out: Path,
    build: Any,
    *,
    kind: str,
    loan_id: int | None,
    after: Any = None,
) -> Export:
    from tenor.bureau.export import log_export

    if out.exists() and out.is_dir():
        _fail(f"--out {out} is a directory")
    if not out.parent.exists():
        _fail(f"--out {out}: the directory {out.parent} does not exist")
    db = open_database()
    try:
        with database_errors(db.url), _domain_errors(), db.transaction() as session:
            export: Export = build(session)
            if after is not None:
                after(session)
            log_export(session, export, kind=kind, loan_id=loan_id)
            out.write_text(export.text, encoding="utf-8")
    finally:
        db.dispose()
    return export


FormatOption = Annotated[str, typer.Option("--format", help="metro2 or pboc.", metavar="FORMAT")]
MonthOption = Annotated[str, typer.Option("--month", help="The month, YYYY-MM.", metavar="MONTH")]
OutOption = Annotated[Path, typer.Option("--out", help="The file to write.", metavar="FILE")]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the counts and held-back accounts as JSON.")
]
CsvOption = Annotated[bool, typer.Option("--csv", help="PBOC-style records as CSV, not JSON.")]


def export_command(
    file_format: FormatOption,
    month: MonthOption,
    out: OutOption,
    json_output: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Write a month's bureau file for the whole book; print counts and held-back accounts."""
    from tenor.bureau.export import metro2_export, pboc_export

    chosen = _format(file_format)
    end = _month(month)
    if as_csv and chosen != "pboc":
        _fail("--csv applies to --format pboc only")
    now = dt.datetime.now(dt.UTC)

    def build(session: Any) -> Export:
        if chosen == "metro2":
            return metro2_export(session, end, now)
        return pboc_export(session, end, as_csv=as_csv)

    export = _write(out, build, kind="monthly", loan_id=None)
    _print(export, out, json_output=json_output)


def correct_command(
    loan: Annotated[str, typer.Option("--loan", help="The loan's id.", metavar="ID")],
    file_format: FormatOption,
    month: MonthOption,
    out: OutOption,
    delete: Annotated[
        str | None,
        typer.Option(
            "--delete",
            help="Delete the account from the bureaus: DA, or DF for fraud (Metro 2 only).",
            metavar="CODE",
        ),
    ] = None,
    json_output: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Re-report one account's past month, as its journal says now (or delete it)."""
    from tenor.bureau.export import metro2_export, pboc_export
    from tenor.bureau.records import delete_account

    loan_id = _id("--loan", loan)
    chosen = _format(file_format)
    end = _month(month)
    code = delete.strip().upper() if delete is not None else None
    if code is not None and (code not in ("DA", "DF") or chosen != "metro2"):
        _fail("--delete takes DA or DF, with --format metro2")
    if as_csv and chosen != "pboc":
        _fail("--csv applies to --format pboc only")
    now = dt.datetime.now(dt.UTC)

    def build(session: Any) -> Export:
        if chosen == "metro2":
            return metro2_export(session, end, now, loan_id=loan_id, delete_as=code)
        return pboc_export(session, end, loan_id=loan_id, as_csv=as_csv)

    def after(session: Any) -> None:
        if code is not None:
            delete_account(session, loan_id, code, f"{end:%Y-%m}")

    export = _write(out, build, kind="correction", loan_id=loan_id, after=after)
    _print(export, out, json_output=json_output)


def _save(write: Any) -> Any:
    db = open_database()
    try:
        with database_errors(db.url), _domain_errors(), db.transaction() as session:
            return write(session)
    finally:
        db.dispose()


def furnisher_command(
    identification: Annotated[
        str, typer.Option("--id", help="The bureau-assigned identification number.")
    ],
    name: Annotated[str, typer.Option("--name", help="The furnisher's name.")],
    address: Annotated[str, typer.Option("--address", help="The furnisher's address.")],
    phone: Annotated[str, typer.Option("--phone", help="Ten digits.")] = "",
) -> None:
    """Set who reports to the bureaus (the Metro 2 header and identification number)."""
    from tenor.bureau.records import Furnisher, set_furnisher

    _save(lambda s: set_furnisher(s, Furnisher(identification, name, address, phone)))
    typer.echo("furnisher set")


def consumer_command(
    borrower: Annotated[str, typer.Option("--borrower", help="The borrower's id.", metavar="ID")],
    surname: Annotated[str, typer.Option("--surname")],
    first_name: Annotated[str, typer.Option("--first-name")],
    address: Annotated[str, typer.Option("--address", help="First line of the address.")],
    city: Annotated[str, typer.Option("--city")],
    state: Annotated[str, typer.Option("--state", help="Two-letter state code.")],
    zip_code: Annotated[str, typer.Option("--zip", help="5 or 9 digits.")],
    ssn: Annotated[str | None, typer.Option("--ssn", help="9 digits.")] = None,
    birth: Annotated[str | None, typer.Option("--dob", help="Date of birth, YYYY-MM-DD.")] = None,
    middle_name: Annotated[str, typer.Option("--middle-name")] = "",
    phone: Annotated[str | None, typer.Option("--phone", help="Ten digits.")] = None,
    address_2: Annotated[str, typer.Option("--address-2", help="Second line.")] = "",
) -> None:
    """Record a borrower's Metro 2 identification (US names, SSN or date of birth, address)."""
    from tenor.bureau.records import ConsumerInput, set_consumer

    borrower_id = _id("--borrower", borrower)
    data = ConsumerInput(
        surname=surname,
        first_name=first_name,
        middle_name=middle_name,
        first_line_address=address,
        second_line_address=address_2,
        city=city,
        state=state,
        postal_code=zip_code,
        social_security_number=ssn,
        date_of_birth=_date("--dob", birth) if birth else None,
        telephone_number=phone,
    )
    _save(lambda s: set_consumer(s, borrower_id, data))
    typer.echo(f"Metro 2 identification of borrower {borrower_id} recorded")


LoanOption = Annotated[str, typer.Option("--loan", help="The loan's id.", metavar="ID")]


def collections_command(
    loan: LoanOption,
    on: Annotated[
        str | None, typer.Option("--on", help="Assigned to collections on YYYY-MM-DD.")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Not in collections.")] = False,
) -> None:
    """Mark a loan assigned to collections (Metro 2 status 93) from a date, or clear it."""
    from tenor.bureau.records import assign_to_collections

    loan_id = _id("--loan", loan)
    if (on is None) == (not clear):
        _fail("give --on DATE or --clear")
    day = _date("--on", on) if on else None
    _save(lambda s: assign_to_collections(s, loan_id, day))
    typer.echo(
        f"loan {loan_id}: " + (f"in collections from {day}" if day else "not in collections")
    )


def comment_command(
    loan: LoanOption,
    kind: Annotated[str, typer.Option("--kind", help="restructured or deferred.")],
    start: Annotated[str, typer.Option("--from", help="YYYY-MM-DD.")],
    until: Annotated[str | None, typer.Option("--until", help="YYYY-MM-DD.")] = None,
) -> None:
    """Record a restructuring (special comment CO) or deferral (CP) over a span of dates."""
    from tenor.bureau.records import add_comment

    loan_id = _id("--loan", loan)
    starts = _date("--from", start)
    ends = _date("--until", until) if until else None
    _save(lambda s: add_comment(s, loan_id, kind.strip().lower(), starts, ends))
    typer.echo(f"loan {loan_id}: {kind} from {starts}" + (f" until {ends}" if ends else ""))


def associate_command(
    loan: LoanOption,
    borrower: Annotated[str, typer.Option("--borrower", help="The co-borrower's id.")],
    ecoa: Annotated[str, typer.Option("--ecoa", help="ECOA code, 2 joint by default.")] = "2",
) -> None:
    """Add a co-borrower to a loan's Metro 2 record (a J1 or J2 segment)."""
    from tenor.bureau.records import add_associate

    loan_id = _id("--loan", loan)
    borrower_id = _id("--borrower", borrower)
    _save(lambda s: add_associate(s, loan_id, borrower_id, ecoa))
    typer.echo(f"loan {loan_id}: borrower {borrower_id} added")


def creditor_command(
    loan: LoanOption,
    name: Annotated[str, typer.Option("--name", help="The original creditor's name.")],
    classification: Annotated[str, typer.Option("--class", help="Creditor classification.")],
) -> None:
    """Record the original creditor of a purchased or collection account (a K1 segment)."""
    from tenor.bureau.records import set_original_creditor

    loan_id = _id("--loan", loan)
    number = _id("--class", classification)
    _save(lambda s: set_original_creditor(s, loan_id, name, number))
    typer.echo(f"loan {loan_id}: original creditor recorded")


def dispute_open(
    loan: LoanOption,
    on: Annotated[str, typer.Option("--on", help="Opened on YYYY-MM-DD.")],
    note: Annotated[str | None, typer.Option("--note")] = None,
) -> None:
    """Open a consumer dispute: the account reports XB until it is resolved."""
    from tenor.bureau.records import open_dispute

    loan_id = _id("--loan", loan)
    day = _date("--on", on)
    _save(lambda s: open_dispute(s, loan_id, day, note))
    typer.echo(f"loan {loan_id}: dispute opened {day} (XB)")


def dispute_resolve(
    loan: LoanOption,
    on: Annotated[str, typer.Option("--on", help="Resolved on YYYY-MM-DD.")],
    consumer_disagrees: Annotated[
        bool, typer.Option("--consumer-disagrees", help="Report XC instead of XH.")
    ] = False,
) -> None:
    """Resolve the loan's open dispute: XH, or XC when the consumer disagrees."""
    from tenor.bureau.records import resolve_dispute

    loan_id = _id("--loan", loan)
    day = _date("--on", on)
    _save(lambda s: resolve_dispute(s, loan_id, day, consumer_disagrees=consumer_disagrees))
    typer.echo(f"loan {loan_id}: dispute resolved {day} ({'XC' if consumer_disagrees else 'XH'})")


def register(app: typer.Typer) -> None:
    """Add ``tenor bureau`` to ``app``."""
    bureau = typer.Typer(
        name="bureau",
        help="Credit-bureau reporting: Metro 2 and PBOC-style files, corrections, disputes.",
        no_args_is_help=True,
    )
    bureau.command("export")(export_command)
    bureau.command("correct")(correct_command)
    bureau.command("furnisher")(furnisher_command)
    bureau.command("consumer")(consumer_command)
    bureau.command("collections")(collections_command)
    bureau.command("comment")(comment_command)
    bureau.command("associate")(associate_command)
    bureau.command("creditor")(creditor_command)
    dispute = typer.Typer(name="dispute", help="Consumer disputes.", no_args_is_help=True)
    dispute.command("open")(dispute_open)
    dispute.command("resolve")(dispute_resolve)
    bureau.add_typer(dispute)
    app.add_typer(bureau)
