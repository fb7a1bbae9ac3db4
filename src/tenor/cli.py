"""The ``tenor`` command.

Every command parses its option strings into domain objects here, at the edge, and hands them to
``tenor.core``. Bad input of any kind ends the same way: one line ``error: --option what is
wrong`` on stderr and exit status 2, the status of a usage error (see :func:`fail` and
:func:`domain_errors`). Add a command with ``@app.command()``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Final, NoReturn, TypeVar

import typer
from rich.console import Console

from tenor.commands import (
    audit,
    book,
    bureau,
    close,
    collect,
    notify,
    relief,
    reports,
    risk,
    service,
    web,
)
from tenor.core.calendar import BusinessDayConvention, DayCount, Frequency, HolidayCalendar
from tenor.core.errors import DomainError, InvalidArgumentError, PrecisionError
from tenor.core.money import CURRENCY_EXPONENTS, Money, Rounding, exponent, to_decimal
from tenor.core.schedule import (
    GraceTreatment,
    InterestMethod,
    InvalidTermsError,
    LoanTerms,
    Method,
    Schedule,
    build_schedule,
)
from tenor.tables import schedule_table

#: Exit status of every usage error, Typer's own included.
USAGE_ERROR: Final = 2

app = typer.Typer(
    name="tenor",
    no_args_is_help=True,
    add_completion=False,
    # Help texts are plain prose; "rich" mode keeps Typer's panels and styles them.
    rich_markup_mode="rich",
    # A traceback must never print the loan data held in local variables.
    pretty_exceptions_show_locals=False,
)


@app.callback()
def tenor() -> None:
    """Tenor: post-loan management and collections.

    Every command prints a table for people, or JSON with --json for machines. Bad arguments
    exit with status 2 and one line on stderr.
    """


def fail(message: str) -> NoReturn:
    """Print ``error: <message>`` as one line on stderr and exit with status 2."""
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(USAGE_ERROR)


@contextmanager
def domain_errors(options: Mapping[str, str] | None = None) -> Iterator[None]:
    """Turn a :class:`DomainError` raised in the block into :func:`fail`.

    ``options`` maps the fields of :class:`InvalidTermsError` to the options that set them, so
    that the message names what the user typed (``--principal``, not ``principal``).
    """
    try:
        yield
    except InvalidTermsError as error:
        fail(f"{(options or {}).get(error.field, error.field)} {error.problem}")
    except DomainError as error:
        fail(error.message)


_Choice = TypeVar("_Choice", bound=StrEnum)


def _bad(option: str, problem: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"{option} {problem}")


def parse_choice(
    option: str, raw: str, choices: type[_Choice], allowed: tuple[_Choice, ...] | None = None
) -> _Choice:
    """The member of ``choices`` (or of ``allowed``) whose value is ``raw``, ignoring case."""
    members = allowed or tuple(choices)
    for member in members:
        if member.value.lower() == raw.strip().lower():
            return member
    names = ", ".join(member.value for member in members)
    raise _bad(option, f"must be one of {names}, got {raw!r}")


def parse_currency(option: str, raw: str) -> str:
    """An ISO 4217 code Tenor books loans in, e.g. ``usd`` -> ``USD``."""
    code = raw.strip().upper()
    if code not in CURRENCY_EXPONENTS:
        known = ", ".join(sorted(CURRENCY_EXPONENTS))
        raise _bad(option, f"must be an ISO 4217 code Tenor knows ({known}), got {raw!r}")
    return code


def parse_amount(option: str, raw: str, currency: str, *, allow_zero: bool = False) -> Money:
    """An amount in major units of ``currency``: more than zero, or at least zero."""
    try:
        number = to_decimal(raw, what=option)
    except DomainError:
        raise _bad(option, f"must be an amount such as 5000 or 5000.50, got {raw!r}") from None
    if number < 0 or (number == 0 and not allow_zero):
        problem = "must not be negative" if allow_zero else "must be greater than zero"
        raise _bad(option, f"{problem}, got {raw}")
    try:
        return Money.of(number, currency)
    except PrecisionError:
        places = exponent(currency)
        raise _bad(option, f"has more than {places} decimal places for {currency}: {raw}") from None


def parse_percent(option: str, raw: str) -> Decimal:
    """A percentage between 0 and 1000 as a fraction: ``12`` -> ``Decimal("0.12")``."""
    try:
        number = to_decimal(raw, what=option)
    except DomainError:
        raise _bad(option, f"must be a number of percent such as 12 or 7.5, got {raw!r}") from None
    if not 0 <= number <= 1000:
        raise _bad(option, f"must be between 0 and 1000 (percent), got {raw}")
    return number / 100


def parse_count(option: str, raw: str) -> int:
    """A whole number of periods; the domain decides which counts are allowed."""
    text = raw.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise _bad(option, f"must be a whole number, got {raw!r}")
    return int(text)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(option: str, raw: str) -> date:
    """A calendar date written ``YYYY-MM-DD`` that exists (no 2022-02-30)."""
    text = raw.strip()
    if not _ISO_DATE.fullmatch(text):
        raise _bad(option, f"must be a date written YYYY-MM-DD, got {raw!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise _bad(option, f"must be a real date, got {raw!r} ({error})") from None


def parse_frequency(option: str, raw: str) -> Frequency:
    """A payment frequency: weekly, biweekly, monthly, ..., or every-N-days."""
    try:
        return Frequency.parse(raw)
    except DomainError:
        raise _bad(
            option,
            "must be weekly, biweekly, monthly, quarterly, semi-annual, annual or every-N-days, "
            f"got {raw!r}",
        ) from None


def parse_calendar(option: str, raw: str) -> HolidayCalendar:
    """The holiday calendar of a country code such as CN or US."""
    try:
        return HolidayCalendar(raw.strip().upper())
    except DomainError:
        raise _bad(
            option, f"must be a country code with holidays, such as CN or US, got {raw!r}"
        ) from None


_CLI_METHODS: Final = (
    Method.ANNUITY,
    Method.EQUAL_PRINCIPAL,
    Method.INTEREST_ONLY,
    Method.BULLET,
)

#: The option that sets each field of LoanTerms, for messages about the terms as a whole.
_SCHEDULE_OPTIONS: Final = {
    "principal": "--principal",
    "annual_rate": "--annual-rate-percent",
    "term": "--term",
    "frequency": "--frequency",
    "start": "--start",
    "method": "--method",
    "interest_method": "--interest",
    "day_count": "--day-count",
    "first_due": "--first-due",
    "grace_principal": "--grace-principal",
    "grace_interest": "--grace-interest",
    "interest_grace_treatment": "--grace-interest-treatment",
    "moratorium": "--moratorium",
    "moratorium_treatment": "--moratorium-treatment",
    "installment_multiple": "--installment-multiple",
    "rounding": "--rounding",
    "upfront_fee": "--upfront-fee",
    "installment_fee": "--installment-fee",
    "holiday_calendar": "--calendar",
    "business_day": "--business-day",
}


def _choices(values: tuple[StrEnum, ...] | type[StrEnum]) -> str:
    return ", ".join(member.value for member in values)


@app.command("schedule")
def schedule_command(
    principal: Annotated[
        str, typer.Option(help="Loan amount in major units, e.g. 5000.", metavar="AMOUNT")
    ],
    currency: Annotated[
        str, typer.Option(help="ISO 4217 currency code, e.g. CNY or USD.", metavar="CODE")
    ],
    annual_rate_percent: Annotated[
        str,
        typer.Option(help="Nominal annual interest rate in percent: 12 for 12%.", metavar="PCT"),
    ],
    term: Annotated[
        str,
        typer.Option(help="Number of installments; for bullet, periods to maturity.", metavar="N"),
    ],
    start: Annotated[str, typer.Option(help="Disbursement date, YYYY-MM-DD.", metavar="DATE")],
    frequency: Annotated[
        str,
        typer.Option(
            help="weekly, biweekly, monthly, quarterly, semi-annual, annual or every-N-days.",
            metavar="FREQ",
        ),
    ] = "monthly",
    method: Annotated[
        str,
        typer.Option(help=f"How principal is repaid: {_choices(_CLI_METHODS)}.", metavar="METHOD"),
    ] = Method.ANNUITY.value,
    interest: Annotated[
        str,
        typer.Option(
            help="declining: on the outstanding balance; flat: on the original principal.",
            metavar="KIND",
        ),
    ] = InterestMethod.DECLINING.value,
    day_count: Annotated[
        str,
        typer.Option(
            help=f"Day count for broken periods and daily interest: {_choices(DayCount)}.",
            metavar="BASIS",
        ),
    ] = DayCount.ACT_365F.value,
    daily_interest: Annotated[
        bool,
        typer.Option(
            "--daily-interest",
            help="Interest by the day count over each actual period, not the rate per period.",
        ),
    ] = False,
    first_due: Annotated[
        str | None,
        typer.Option(
            help="First due date, YYYY-MM-DD; a broken first period earns interest by the day "
            "count and later dates step from it.",
            metavar="DATE",
        ),
    ] = None,
    month_end: Annotated[
        bool,
        typer.Option("--month-end", help="Keep due dates on month ends when the anchor is one."),
    ] = False,
    grace_principal: Annotated[
        str, typer.Option(help="First N periods pay interest only.", metavar="N")
    ] = "0",
    grace_interest: Annotated[
        str, typer.Option(help="First N periods pay no interest.", metavar="N")
    ] = "0",
    grace_interest_treatment: Annotated[
        str,
        typer.Option(
            help="What becomes of the interest of --grace-interest periods: "
            f"{_choices(GraceTreatment)}.",
            metavar="TREATMENT",
        ),
    ] = GraceTreatment.DEFER.value,
    moratorium: Annotated[
        str, typer.Option(help="First N periods pay nothing at all.", metavar="N")
    ] = "0",
    moratorium_treatment: Annotated[
        str,
        typer.Option(
            help="What becomes of the interest of --moratorium periods: "
            f"{_choices(GraceTreatment)}.",
            metavar="TREATMENT",
        ),
    ] = GraceTreatment.CAPITALISE.value,
    installment_multiple: Annotated[
        str | None,
        typer.Option(
            help="Round the level installment to a multiple of this amount, e.g. 1 or 10.",
            metavar="AMOUNT",
        ),
    ] = None,
    rounding: Annotated[
        str,
        typer.Option(
            help=f"Rounding of every computed amount: {_choices(Rounding)}.", metavar="MODE"
        ),
    ] = Rounding.HALF_EVEN.value,
    upfront_fee: Annotated[
        str | None, typer.Option(help="Fee due at disbursement.", metavar="AMOUNT")
    ] = None,
    installment_fee: Annotated[
        str | None,
        typer.Option(help="Fee added to every installment but moratorium ones.", metavar="AMOUNT"),
    ] = None,
    calendar: Annotated[
        str | None,
        typer.Option(
            help="Holiday calendar to move due dates off holidays: CN or US.", metavar="CC"
        ),
    ] = None,
    business_day: Annotated[
        str | None,
        typer.Option(
            help="How a due date on a holiday moves: following|modified-following|preceding. "
            "Needs --calendar, which defaults it to following.",
            metavar="RULE",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON for machines instead of a table.")
    ] = False,
) -> None:
    """Print the repayment schedule of a loan.

    Each installment's due date, principal, interest and fee, and the balance
    left after it. For 5000 USD at 12% a year over 18 monthly installments,
    rounded to whole dollars:

    tenor schedule --principal 5000 --currency USD --annual-rate-percent 12
        --term 18 --start 2022-11-01 --installment-multiple 1
    """
    with domain_errors(_SCHEDULE_OPTIONS):
        code = parse_currency("--currency", currency)
        amount = parse_amount("--principal", principal, code)

        def optional_amount(option: str, raw: str | None, *, allow_zero: bool) -> Money | None:
            return None if raw is None else parse_amount(option, raw, code, allow_zero=allow_zero)

        holiday_calendar = None if calendar is None else parse_calendar("--calendar", calendar)
        if business_day is None:
            convention = (
                BusinessDayConvention.UNADJUSTED
                if holiday_calendar is None
                else BusinessDayConvention.FOLLOWING
            )
        elif holiday_calendar is None:
            fail("--business-day needs --calendar to know the holidays")
        else:
            convention = parse_choice("--business-day", business_day, BusinessDayConvention)
        terms = LoanTerms(
            principal=amount,
            annual_rate=parse_percent("--annual-rate-percent", annual_rate_percent),
            term=parse_count("--term", term),
            frequency=parse_frequency("--frequency", frequency),
            start=parse_date("--start", start),
            method=parse_choice("--method", method, Method, _CLI_METHODS),
            interest_method=parse_choice("--interest", interest, InterestMethod),
            day_count=parse_choice("--day-count", day_count, DayCount),
            daily_interest=daily_interest,
            first_due=None if first_due is None else parse_date("--first-due", first_due),
            grace_principal=parse_count("--grace-principal", grace_principal),
            grace_interest=parse_count("--grace-interest", grace_interest),
            interest_grace_treatment=parse_choice(
                "--grace-interest-treatment", grace_interest_treatment, GraceTreatment
            ),
            moratorium=parse_count("--moratorium", moratorium),
            moratorium_treatment=parse_choice(
                "--moratorium-treatment", moratorium_treatment, GraceTreatment
            ),
            installment_multiple=optional_amount(
                "--installment-multiple", installment_multiple, allow_zero=False
            ),
            rounding=parse_choice("--rounding", rounding, Rounding),
            upfront_fee=optional_amount("--upfront-fee", upfront_fee, allow_zero=True),
            installment_fee=optional_amount("--installment-fee", installment_fee, allow_zero=True),
            holiday_calendar=holiday_calendar,
            business_day=convention,
            month_end=month_end,
        )
        schedule = build_schedule(terms)
    if json_output:
        print(json.dumps(schedule_json(schedule), indent=2))
    else:
        Console().print(schedule_table(schedule))


def schedule_json(schedule: Schedule) -> dict[str, object]:
    """The JSON contract of ``tenor schedule --json``: amounts as strings in major units."""
    return {
        "installments": [
            {
                "number": installment.number,
                "due_date": installment.due_date.isoformat(),
                "principal": installment.principal.format(),
                "interest": installment.interest.format(),
                "fee": installment.fee.format(),
                "total": installment.total.format(),
                "balance": installment.balance.format(),
            }
            for installment in schedule.installments
        ],
        "total_principal": schedule.total_principal.format(),
        "total_interest": schedule.total_interest.format(),
    }


book.register(app)
service.register(app)
close.register(app)
bureau.register(app)
relief.register(app)
audit.register(app)
notify.register(app)
web.register(app)
risk.register(app)
collect.register(app)
app.add_typer(reports.report)


def main() -> None:
    """Entry point of the ``tenor`` console script."""
    app(prog_name="tenor")
