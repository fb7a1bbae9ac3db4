"""Rich tables for people: schedules and loan states as Tenor prints them."""

from __future__ import annotations

from rich import box
from rich.table import Table

from tenor.core.schedule import Schedule


def schedule_table(schedule: Schedule, title: str | None = None) -> Table:
    """A schedule as a Rich table for people, totals in the last row.

    The title says the loan's terms unless ``title`` is given.
    """
    terms = schedule.terms
    rate = (terms.annual_rate * 100).normalize()
    table = Table(
        title=title
        or (
            f"{terms.principal} at {rate:f}% a year, {terms.term} x {terms.frequency.name}, "
            f"{terms.method.value}, {terms.interest_method.value} interest"
        ),
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("#", justify="right")
    table.add_column("Due date")
    for heading in ("Principal", "Interest", "Fee", "Total", "Balance"):
        table.add_column(heading, justify="right")
    for installment in schedule.installments:
        table.add_row(
            str(installment.number),
            installment.due_date.isoformat(),
            installment.principal.format(),
            installment.interest.format(),
            installment.fee.format(),
            installment.total.format(),
            installment.balance.format(),
        )
    table.add_section()
    installment_fees = schedule.total_fee - schedule.upfront_fee
    table.add_row(
        "",
        "Total",
        schedule.total_principal.format(),
        schedule.total_interest.format(),
        installment_fees.format(),
        (schedule.total_due - schedule.upfront_fee).format(),
        "",
    )
    if schedule.upfront_fee:
        table.caption = (
            f"Up-front fee {schedule.upfront_fee.format()}; "
            f"total due with it {schedule.total_due.format()}"
        )
    return table
