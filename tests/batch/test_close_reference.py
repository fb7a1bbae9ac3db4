"""The reference test: a small random book closed day by day equals the fold of each journal.

Payments in full, late, in part and never come in between closes. After every close, each
penalty the close posted equals ``penalty_for_days`` on the overdue amounts the fold of the
loan's journal gives on the date the previous posting ran through; at the end ``rebuild``
finds no difference between the close's projections and the fold (days past due, bucket,
class and stage included, on the open business date).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import select, text

from tenor.batch.close import close_book
from tenor.batch.sqlbook import CLOSE_ACTOR
from tenor.batch.tables import CloseState
from tenor.core.account import ChargeApplied, fold
from tenor.core.delinquency import OverdueInstallment, penalty_for_days
from tenor.store.codec import terms_from_json
from tenor.store.database import Database
from tenor.store.journal import load_events, load_loan, rebuild
from tests.batch.closebook import START, build_book, plan_payments, post_payments

#: Days closed: on SQLite a third of a year; PostgreSQL runs the same code through its own SQL
#: (dates, locks) over two months, which keeps the suite's time down.
DAYS = {"sqlite": 120, "postgresql": 60}


def _penalised_through(db: Database) -> dict[int, dt.date | None]:
    with db.reading() as session:
        return dict(session.execute(select(CloseState.loan_id, CloseState.penalty_through)).all())


def _check_penalties(db: Database, day: dt.date, through: dict[int, dt.date | None]) -> int:
    """Every penalty the close of ``day`` posted, against the fold; how many there were."""
    with db.reading() as session:
        rows = session.execute(
            text(
                "SELECT loan_id, event_id FROM journal WHERE actor = :actor "
                "AND kind = 'charge-applied' AND value_date = :day"
            ),
            {"actor": CLOSE_ACTOR, "day": day},
        ).all()
        for loan_id, event_id in rows:
            book = load_loan(session, loan_id)
            events = load_events(session, loan_id)
            posted = next(event for event in events if event.event_id == event_id)
            assert isinstance(posted, ChargeApplied)
            after = through[loan_id]
            assert after is not None, f"loan {loan_id}: a penalty with no earlier close"
            state = fold(
                terms_from_json(book.loan.terms),
                [event for event in events if event.value_date <= after],
                book.product.account_rules(),
            )
            overdue = [
                OverdueInstallment(item.due_date, item.unpaid_principal, item.unpaid_interest)
                for item in state.installments
                if item.due_date <= after
            ]
            expected = penalty_for_days(
                overdue,
                after=after,
                through=day,
                rule=book.product.delinquency_policy().penalty,
                currency=state.currency,
            )
            assert posted.amount == expected, (loan_id, day, after, posted.amount, expected)
    return len(rows)


def test_a_random_book_closed_day_by_day_equals_the_fold(db: Database) -> None:
    ids = build_book(db, loans=24, seed=11)
    last = START + dt.timedelta(days=DAYS[db.engine.dialect.name])
    payments = plan_payments(db, ids, seed=12, first=START, last=last)
    by_day = defaultdict(list)
    for payment in payments:
        by_day[payment.day].append(payment)
    seen: Counter[str] = Counter()
    day = START
    while day <= last:
        seen["payments"] += post_payments(db, by_day.pop(day, []))
        through = _penalised_through(db)
        result = close_book(db, date=day)
        assert [closed.business_date for closed in result.closed] == [day]
        assert result.closed[0].errors == 0
        seen["actions"] += result.closed[0].actions
        seen["penalties"] += _check_penalties(db, day, through)
        day += dt.timedelta(days=1)
    with db.reading() as session:
        for kind, count in session.execute(
            text("SELECT kind, COUNT(*) FROM journal WHERE actor = :a GROUP BY kind"),
            {"a": CLOSE_ACTOR},
        ):
            seen[kind] += count
    # The book went through everything the close does.
    assert seen["payments"] > 10
    assert seen["penalties"] > 10
    assert seen["bucket-changed"] > 10
    assert seen["classification-changed"] > 3
    assert seen["actions"] > 20
    with db.transaction() as session:
        differences = {
            loan_id: found.differences
            for loan_id in ids
            if (found := rebuild(session, loan_id)).differences
        }
    assert differences == {}
