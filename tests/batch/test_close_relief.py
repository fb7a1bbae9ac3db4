"""The close and relief together: a restructured loan is 关注 and stage 2 through its watch
period at every close, the close's projection equals a fresh fold, and the flag clears after."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tenor.actions import loans, relief
from tenor.batch.close import close_book
from tenor.core.money import Money
from tenor.core.restructure import Option, Relief
from tenor.notify.tables import Notification
from tenor.store.database import Database
from tenor.store.journal import rebuild, set_business_date
from tenor.store.models import Loan, LoanStateRow
from tests.builders import seed_loan


def test_a_restructured_loan_stays_flagged_through_its_watch_at_each_close(db: Database) -> None:
    # The loan of tests.builders (6000 CNY over six months from 15 January 2026), paid on time
    # twice, deferred by two installments on 1 April with a 60-day watch period.
    day = dt.date(2026, 4, 1)
    loan_id = seed_loan(db, business_date=dt.date(2026, 2, 15))
    for paid_on in (dt.date(2026, 2, 15), dt.date(2026, 3, 15)):
        with db.transaction() as session:
            set_business_date(session, paid_on)
        loans.post_repayment(db, loan_id, amount=Money.of("1053.15", "CNY"), value_date=paid_on)
    with db.transaction() as session:
        set_business_date(session, day)
        loan = session.get(Loan, loan_id)
        assert loan is not None
        relief.record_credit_score(
            session,
            borrower_id=loan.borrower_id,
            score=700,
            source="bureau",
            as_of=dt.date(2026, 3, 1),
            actor="key:staff",
        )
        relief.set_relief_policy(
            session,
            product_id=loan.product_id,
            document={"currency": "CNY", "watch_days": 60},
            actor="key:staff",
        )
    relief.restructure(
        db,
        loan_id,
        Relief(Option.DEFERRAL, 2),
        maker="key:staff",
        approver="key:checker",
    )

    def flags() -> tuple[int, int]:
        with db.reading() as session:
            row = session.scalars(select(LoanStateRow).where(LoanStateRow.loan_id == loan_id)).one()
            return row.loan_class, row.stage

    close_book(db, through=day + dt.timedelta(days=30))
    assert flags() == (2, 2)
    with db.transaction() as session:
        assert rebuild(session, loan_id).differences == ()
    # Past the watch period, with nothing due in it unpaid, the loan is normal again.
    close_book(db, through=day + dt.timedelta(days=70))
    assert flags() == (1, 1)
    with db.transaction() as session:
        assert rebuild(session, loan_id).differences == ()


def test_the_close_puts_its_reminders_in_the_outbox_once(db: Database) -> None:
    # The same loan, its first installment due 15 February: the close of 12 February (D-3)
    # and of 15 February (D0) remind; closing again adds nothing.
    loan_id = seed_loan(db, business_date=dt.date(2026, 2, 10))
    close_book(db, through=dt.date(2026, 2, 15))
    with db.reading() as session:
        reminders = session.execute(
            select(Notification.loan_id, Notification.offset_days).where(
                Notification.loan_id == loan_id
            )
        ).all()
    assert {offset for _, offset in reminders} == {-3, -1, 0}
    count = len(reminders)
    close_book(db, date=dt.date(2026, 2, 15))
    with db.reading() as session:
        again = session.scalars(
            select(Notification.id).where(Notification.loan_id == loan_id)
        ).all()
    assert len(again) == count
