"""The demo, as people see it: the demo book's portfolio summary, and the walkthrough.

``tenor demo`` builds a book in the database (``tenor.simulation``) and prints it with
:func:`print_book_summary`, for staff, in Chinese and English. ``tenor demo --walkthrough``
runs :func:`walkthrough`: a few repayment schedules and one consumer loan's life, day by day,
computed in memory by ``tenor.core`` alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from tenor.core.account import (
    ChargeApplied,
    ChargeKind,
    Disbursed,
    LoanEvent,
    LoanState,
    RepaymentReceived,
    Reversed,
    fold,
)
from tenor.core.calendar import Frequency
from tenor.core.delinquency import (
    DelinquencyPolicy,
    OverdueInstallment,
    UnpaidInstallment,
    assess,
    penalty_for_day,
)
from tenor.core.money import Money
from tenor.core.schedule import LoanTerms, Method, Milestone, build_schedule
from tenor.simulation import PROFILE_OF, BookLife, BookPlan
from tenor.tables import schedule_table


def cny(amount: str) -> Money:
    """An amount in yuan."""
    return Money.of(amount, "CNY")


def sample_loans() -> list[tuple[str, LoanTerms]]:
    """Loans of the kinds Tenor services, to show their schedules."""
    start = dt.date(2026, 1, 15)
    monthly = Frequency.every_months(1)
    return [
        (
            "Consumer credit line: 6,000 CNY, 18% a year, 6 monthly annuity installments",
            LoanTerms(
                principal=cny("6000"),
                annual_rate=Decimal("0.18"),
                term=6,
                frequency=monthly,
                start=start,
            ),
        ),
        (
            "Equal principal: 12,000 CNY, 9.6% a year, 6 months, 10 CNY fee per installment",
            LoanTerms(
                principal=cny("12000"),
                annual_rate=Decimal("0.096"),
                term=6,
                frequency=monthly,
                start=start,
                method=Method.EQUAL_PRINCIPAL,
                installment_fee=cny("10"),
            ),
        ),
        (
            "Project finance: 50,000,000 CNY, 5.2% a year, quarterly interest, principal on "
            "milestones",
            LoanTerms(
                principal=cny("50000000"),
                annual_rate=Decimal("0.052"),
                term=8,
                frequency=Frequency.every_months(3),
                start=start,
                method=Method.MILESTONE,
                milestones=(
                    Milestone("phase 1 complete", dt.date(2027, 3, 1), Decimal("0.3")),
                    Milestone("plant commissioned", dt.date(2027, 9, 1), Decimal("0.3")),
                    Milestone("first full year of operation", dt.date(2028, 1, 15), Decimal("0.4")),
                ),
            ),
        ),
    ]


@dataclass(frozen=True, slots=True)
class Day:
    """One line of a loan's life: what happened and where the loan then stood."""

    date: dt.date
    happened: str
    state: LoanState
    days_past_due: int
    bucket: str
    loan_class: str


def live_through(terms: LoanTerms, script: dict[dt.date, str], until: dt.date) -> Iterator[Day]:
    """Walk a loan day by day: post the borrower's scripted payments and the daily penalty.

    ``script`` maps a date to an amount paid, to ``"bounce"`` to reverse the last payment, or
    to ``"payoff"`` to pay everything owed and a little over. Yields a line on every day
    something happens or the loan changes bucket.
    """
    policy = DelinquencyPolicy(tolerance=cny("1"))
    events: list[LoanEvent] = []

    def post(event: LoanEvent) -> LoanEvent:
        events.append(event)
        return event

    def slot(day: dt.date) -> dict[str, Any]:
        return {"event_id": f"e{len(events) + 1}", "sequence": len(events) + 1, "value_date": day}

    post(Disbursed(**slot(terms.start), amount=terms.principal))
    state = fold(terms, events)
    yield Day(terms.start, f"disbursed {terms.principal}", state, 0, "M0", "正常 Normal")
    last_payment = ""
    previous_bucket = "M0"
    day = terms.start
    while day < until:
        day += dt.timedelta(days=1)
        happened = []
        action = script.get(day)
        if action == "bounce":
            post(Reversed(**slot(day), target=last_payment))
            happened.append(f"payment {last_payment} bounced and was reversed")
        elif action:
            amount = (
                fold(terms, events, as_of=day).total_outstanding + cny("8.80")
                if action == "payoff"
                else cny(action)
            )
            last_payment = post(RepaymentReceived(**slot(day), amount=amount)).event_id
            happened.append(f"paid {amount}")
        state = fold(terms, events, as_of=day)
        overdue = [
            OverdueInstallment(item.due_date, item.unpaid_principal, item.unpaid_interest)
            for item in state.installments
            if item.due_date < day and not item.is_settled
        ]
        penalty = penalty_for_day(overdue, day, policy.penalty, currency="CNY")
        if penalty:
            post(ChargeApplied(**slot(day), kind=ChargeKind.PENALTY_INTEREST, amount=penalty))
            state = fold(terms, events, as_of=day)
        status = assess(
            [UnpaidInstallment(item.due_date, item.unpaid) for item in state.installments],
            day,
            policy,
        )
        bucket = status.bucket.name
        if bucket != previous_bucket:
            happened.append(f"moved from {previous_bucket} to {bucket}")
            previous_bucket = bucket
        if happened:
            yield Day(
                day,
                "; ".join(happened),
                state,
                status.days_past_due,
                bucket,
                f"{status.loan_class.label_zh} {status.loan_class.label_en}",
            )


def life_table(days: list[Day]) -> Table:
    """A loan's life as a Rich table."""
    table = Table(title="A consumer loan's life, day by day", title_justify="left")
    for column in ("Date", "What happened", "Principal left", "Penalties", "DPD", "Bucket"):
        table.add_column(column, justify="left" if column == "What happened" else "right")
    table.add_column("Class")
    table.add_column("Status")
    for line in days:
        table.add_row(
            line.date.isoformat(),
            line.happened,
            line.state.outstanding_principal.format(),
            line.state.outstanding_penalties.format(),
            str(line.days_past_due),
            line.bucket,
            line.loan_class,
            line.state.status.value,
        )
    return table


def walkthrough(console: Console) -> None:
    """Print the sample schedules, then one loan's life from disbursement to its end."""
    for title, terms in sample_loans():
        console.print(schedule_table(build_schedule(terms), title))
        console.print()
    terms = sample_loans()[0][1]
    schedule = build_schedule(terms)
    regular = schedule.installments[0].total.format()
    dues = [item.due_date for item in schedule.installments]
    script = {
        dues[0]: regular,  # on time
        dues[1] - dt.timedelta(days=2): regular,  # early
        dues[2] + dt.timedelta(days=1): regular,  # a payment that bounces
        dues[2] + dt.timedelta(days=4): "bounce",
        dues[3] + dt.timedelta(days=20): "2200",  # catches up late, with penalties
        dues[4]: "500",  # partial
        dues[5] + dt.timedelta(days=3): "payoff",  # pays off, a little over
    }
    days = list(live_through(terms, script, dues[-1] + dt.timedelta(days=10)))
    console.print(life_table(days))
    final = days[-1].state
    console.print(
        f"Repaid {final.repaid} against {schedule.total_due} scheduled; "
        f"status {final.status.value}, credit balance {final.credit_balance}."
    )


# ---------------------------------------------------------------------------------------------
# The demo book's portfolio, for staff


def _amount(text: str) -> str:
    """A yuan amount in 万元 (ten thousand yuan), as Chinese portfolio reports give them, with
    thousands separators: "1234567.80" -> "123.46". Display only; the JSON keeps every fen."""
    return f"{(Decimal(text) / 10_000).quantize(Decimal('0.01'), ROUND_HALF_EVEN):,}"


def _count(number: int) -> str:
    return f"{number:,}"


def _segment_table(title: str, first: str, rows: list[tuple[str, dict[str, Any]]]) -> Table:
    """Open loans per bucket or class: loans, principal and share, consumer and enterprise."""
    table = Table(
        title=f"{title}, consumer 个人 and enterprise 对公",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        # Narrow enough for an 80-column terminal without cutting a number.
        collapse_padding=True,
        pad_edge=False,
    )
    table.add_column(first, min_width=8, overflow="fold")
    for segment in ("Consumer", "Enterprise"):
        table.add_column(f"{segment}\nloans", justify="right", no_wrap=True)
        table.add_column(f"{segment}\nprincipal", justify="right", no_wrap=True)
        table.add_column("\nshare", justify="right", no_wrap=True)
    for label, row in rows:
        cells = [label]
        for segment in ("consumer", "enterprise"):
            part = row[segment]
            cells += [
                _count(part["loans"]),
                _amount(part["outstanding_principal"]),
                f"{part['share_percent']}%",
            ]
        table.add_row(*cells)
    return table


def _share(counts: list[int]) -> str:
    return f"{100 * counts[0] / counts[1]:.0f}%" if counts[1] else "-"


def print_book_summary(
    console: Console, summary: dict[str, Any], plan: BookPlan, life: BookLife
) -> None:
    """Print the demo book's portfolio (from :func:`tenor.simulation.portfolio_summary`).

    Labels are bilingual, Chinese first, as staff of a Chinese lender read them. Consumer and
    enterprise loans are shown apart: a few project loans outweigh thousands of consumer
    loans, and their shares would hide each other.
    """
    currency = summary["currency"]
    loans = summary["loans"]
    statuses = " · ".join(
        f"{status} {_count(count)}" for status, count in sorted(loans["by_status"].items())
    )
    borrowers = summary["borrowers"]
    console.print()
    months = f"{plan.months} month{'s' if plan.months != 1 else ''}"
    console.print(
        f"[bold]Tenor demo book 演示资产组合[/bold]: business date 业务日期 "
        f"{summary['business_date']}, {months} from {plan.start}, seed {plan.seed}. "
        f"Amounts in 万元, ten thousand {currency}."
    )
    console.print(
        f"{_count(sum(borrowers.values()))} borrowers 借款人 "
        f"({_count(borrowers.get('enterprise', 0))} enterprises), "
        f"{_count(loans['total'])} loans 贷款 ({statuses}), "
        f"{_count(sum(life.events.values()))} journal events, in {summary['seconds']} s."
    )

    products = Table(
        title="By product 按产品",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    products.add_column("Product 产品", min_width=14, overflow="fold")
    for heading in (
        "Loans",
        "Disbursed",
        "Outstanding\nprincipal",
        "Over 30 days\npast due",
        "Collected\nagainst due",
    ):
        products.add_column(heading, justify="right", no_wrap=True)
    for row in summary["by_product"]:
        products.add_row(
            row["name"],
            _count(row["loans"]),
            _amount(row["disbursed"]),
            _amount(row["outstanding_principal"]),
            f"{row['past_due_30_share_percent']}%",
            f"{row['collection_rate_percent']}%",
        )
    console.print(products)
    console.print(
        _segment_table(
            "Open loans by bucket 逾期分档 (M1: 1-30 days past due, M2: 31-60 ...)",
            "Bucket",
            [(row["bucket"], row) for row in summary["by_bucket"]],
        )
    )
    console.print(
        _segment_table(
            "Open loans by five-level classification 五级分类",
            "Class",
            [(f"{row['label_zh']} {row['label_en']}", row) for row in summary["by_class"]],
        )
    )

    collections = summary["collections"]
    console.print(
        f"[bold]Collected against due 回收[/bold]: {_amount(collections['collected_on_it'])} "
        f"of the {_amount(collections['fell_due'])} that fell due to date "
        f"({collections['collection_rate_percent']}%); {_amount(collections['repaid'])} repaid "
        f"in all, early settlements included, against {_amount(collections['disbursed'])} "
        f"disbursed; {_amount(collections['penalty_interest_charged'])} penalty interest 罚息 "
        "charged."
    )
    floor = summary["collection_cases"]
    cases, promises = floor["cases"], floor["promises"]
    legal = ", ".join(f"{stage} {count}" for stage, count in sorted(floor["legal_cases"].items()))
    console.print(
        f"[bold]Collections 催收[/bold]: {_count(cases['opened'])} cases opened, "
        f"{_count(cases['open'])} open; {_count(promises['made'])} promises to pay 承诺还款, "
        f"{_count(promises['kept'])} kept, {_count(promises['broken'])} broken; "
        f"{_count(floor['placements'])} agency placements 委外, {floor['agency_collected']} "
        f"{currency} collected for {floor['agency_commission']} commission; legal cases 诉讼: "
        f"{legal or 'none'}. Try: tenor report collections, tenor report strategies, "
        "tenor collect queue --collector 1."
    )
    sent_months = sorted(life.preferred)
    if sent_months:
        first = life.preferred[sent_months[0]]
        last = life.preferred[sent_months[-1]]
        rewarded = _count(life.messages["rewarded"])
        console.print(
            f"[bold]Reminders 提醒[/bold]: {_count(life.messages['reminder'])} sent, "
            f"{_count(life.messages['collection'])} collection messages; on the borrower's "
            f"hidden preferred channel and hour: {_share(first)} in {sent_months[0]}, "
            f"{_share(last)} in {sent_months[-1]} (the timing bandit, {rewarded} rewards "
            "settled)."
        )
    smart = summary["smart_reminders"]
    model = smart["propensity_model"]
    console.print(
        f"[bold]Propensity to pay 还款倾向[/bold]: {_count(smart['weighed_propensity'])} overdue "
        "reminders weighed it, "
        f"{_count(smart['by_channel'].get('voice', 0))} of them robocalls to loans unlikely to pay "
        "(a likely payer gets no second text at D+3 and no robocall at D+7); "
        + (
            "the heuristic throughout."
            if model is None
            else f"model {model['name']} v{model['version']} (later-period AUC "
            f"{model['test_auc'] or 0:.2f}) promoted on {str(model['promoted_at'])[:10]}, the "
            "heuristic before it. Try: tenor risk propensity --limit 10."
        )
    )
    mix = " · ".join(
        f"{PROFILE_OF[behaviour].label} {_count(count)}"
        for behaviour, count in plan.behaviours().most_common()
    )
    console.print(f"[bold]Borrowers by behaviour 还款行为[/bold] (simulated): {mix}.")
    console.print()
    console.print(
        "[bold]Next[/bold]: open the API on this book (from the repository, `./run tenor ...`):\n"
        "  tenor apikey create --role admin     # prints a new key once, on its last line\n"
        "  tenor serve                          # then http://127.0.0.1:8000/docs\n"
        "  curl -H 'Authorization: Bearer KEY' 'http://127.0.0.1:8000/v1/loans?bucket=M3'\n"
        "Or read it from the shell: tenor loans list --bucket M3, tenor loans show ID, "
        "tenor borrowers show ID, tenor rebuild --all."
    )
