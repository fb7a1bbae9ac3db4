"""The journal and its projections, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import func, select, text, update

from tenor.actions import loans
from tenor.core.account import ChargeKind
from tenor.core.allocation import Component
from tenor.core.errors import DomainError, EventError
from tenor.core.money import Money
from tenor.store import journal
from tenor.store.database import Database
from tenor.store.journal import (
    IdempotencyConflictError,
    LoanNotActiveError,
    NotFoundError,
    append_in,
    rebuild,
)
from tenor.store.models import InstallmentRow, JournalEntry, LoanStateRow
from tenor.store.reads import get_loan, journal_document, schedule_document
from tests.builders import consumer_product, seed_loan
from tests.conftest import make_database

D = dt.date


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def journal_size(db: Database, loan_id: int) -> int:
    with db.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(JournalEntry)
                .where(JournalEntry.loan_id == loan_id)
            )
            or 0
        )


def test_a_repayment_is_journaled_and_projected(db: Database) -> None:
    loan_id = seed_loan(db)
    loans.post_repayment(db, loan_id, amount=cny("1053.15"), value_date=D(2026, 2, 15))
    with db.transaction() as session:
        loan = get_loan(session, loan_id)
        schedule = schedule_document(session, loan_id)
        journal = journal_document(session, loan_id)
    assert (loan["status"], loan["outstanding_principal"], loan["days_past_due"]) == (
        "active",
        "5036.85",
        0,
    )
    assert (loan["bucket"], loan["classification"], loan["business_date"]) == (
        "M0",
        "normal",
        "2026-03-01",
    )
    assert [event["kind"] for event in journal["events"]] == ["disbursed", "repayment-received"]
    assert schedule["installments"][0]["settled_on"] == "2026-02-15"
    assert schedule["installments"][1]["unpaid"] == "1053.15"


def test_an_unpaid_loan_is_past_due_on_the_business_date(db: Database) -> None:
    loan_id = seed_loan(db, business_date=D(2026, 4, 1))
    loans.apply_charge(
        db, loan_id, kind=ChargeKind.LATE_FEE, amount=cny("30"), value_date=D(2026, 3, 20)
    )
    with db.transaction() as session:
        loan = get_loan(session, loan_id)
    assert (loan["days_past_due"], loan["bucket"], loan["ifrs9_stage"]) == (45, "M2", 2)
    assert loan["outstanding_penalties"] == "30.00"


def test_the_same_idempotency_key_records_once(db: Database) -> None:
    loan_id = seed_loan(db)
    request = {"amount": "100.00", "currency": "CNY", "value_date": "2026-02-15"}
    first = loans.post_repayment(
        db,
        loan_id,
        amount=cny("100"),
        value_date=D(2026, 2, 15),
        idempotency_key="pay-1",
        request=request,
    )
    again = loans.post_repayment(
        db,
        loan_id,
        amount=cny("100"),
        value_date=D(2026, 2, 15),
        idempotency_key="pay-1",
        request=request,
    )
    assert (again.event_id, again.replayed, first.replayed) == (first.event_id, True, False)
    assert journal_size(db, loan_id) == 2
    with pytest.raises(IdempotencyConflictError):
        loans.post_repayment(
            db,
            loan_id,
            amount=cny("200"),
            value_date=D(2026, 2, 15),
            idempotency_key="pay-1",
            request={**request, "amount": "200.00"},
        )
    assert journal_size(db, loan_id) == 2


def _at_once(count: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(i)`` on ``count`` threads released together; return results or errors."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as error:  # the test inspects every outcome
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_the_same_payment_at_the_same_moment_is_recorded_once(db: Database) -> None:
    loan_id = seed_loan(db)
    request = {"amount": "100.00"}
    results = _at_once(
        6,
        lambda _: loans.post_repayment(
            db,
            loan_id,
            amount=cny("100"),
            value_date=D(2026, 2, 15),
            idempotency_key="same",
            request=request,
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)]
    assert len({r.event_id for r in results}) == 1  # type: ignore[attr-defined]
    assert journal_size(db, loan_id) == 2


def test_two_different_payments_at_the_same_moment_are_both_kept(db: Database) -> None:
    loan_id = seed_loan(db)
    results = _at_once(
        4,
        lambda i: loans.post_repayment(
            db,
            loan_id,
            amount=cny("100"),
            value_date=D(2026, 2, 15),
            idempotency_key=f"pay-{i}",
            request={"i": i},
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)]
    assert journal_size(db, loan_id) == 5
    with db.transaction() as session:
        assert get_loan(session, loan_id)["repaid"] == "400.00"


@pytest.mark.parametrize(
    ("post", "error"),
    [
        (
            lambda db, i: loans.post_repayment(db, i, amount=cny("-1"), value_date=D(2026, 2, 1)),
            "amount_not_positive",
        ),
        (
            lambda db, i: loans.post_repayment(
                db, i, amount=Money.of("5", "USD"), value_date=D(2026, 2, 1)
            ),
            "currency_mismatch",
        ),
        (
            lambda db, i: loans.post_repayment(db, i, amount=cny("5"), value_date=D(2026, 1, 1)),
            "invalid_value_date",
        ),
        (
            lambda db, i: loans.post_repayment(db, i, amount=cny("5"), value_date=D(2026, 3, 2)),
            "invalid_value_date",
        ),
        (
            lambda db, i: loans.post_repayment(
                db, i + 99, amount=cny("5"), value_date=D(2026, 2, 1)
            ),
            "not_found",
        ),
        (
            lambda db, i: loans.waive(
                db, i, component=Component.PENALTY, amount=cny("5"), value_date=D(2026, 2, 1)
            ),
            "invalid_event",
        ),
        (lambda db, i: loans.reverse(db, i, "no-such-event"), "invalid_event"),
    ],
)
def test_bad_input_changes_nothing(
    db: Database, post: Callable[[Database, int], object], error: str
) -> None:
    loan_id = seed_loan(db)
    with db.transaction() as session:
        before = get_loan(session, loan_id)
    with pytest.raises(DomainError) as raised:
        post(db, loan_id)
    assert raised.value.code == error
    assert journal_size(db, loan_id) == 1
    with db.transaction() as session:
        assert get_loan(session, loan_id) == before


def test_a_pending_loan_takes_no_repayment(db: Database) -> None:
    loan_id = seed_loan(db, disburse=False)
    with pytest.raises(LoanNotActiveError):
        loans.post_repayment(db, loan_id, amount=cny("5"), value_date=D(2026, 2, 1))


def test_reversal_restores_the_projection(db: Database) -> None:
    loan_id = seed_loan(db)
    with db.transaction() as session:
        before = get_loan(session, loan_id)
    paid = loans.post_repayment(db, loan_id, amount=cny("500"), value_date=D(2026, 2, 10))
    loans.reverse(db, loan_id, paid.event_id)
    with db.transaction() as session:
        after = get_loan(session, loan_id)
    assert {k: v for k, v in after.items() if k != "repaid"} == {
        k: v for k, v in before.items() if k != "repaid"
    }
    with pytest.raises(EventError, match="more than once"):
        loans.reverse(db, loan_id, paid.event_id)


def test_rebuild_finds_and_repairs_a_tampered_projection(db: Database) -> None:
    loan_id = seed_loan(db)
    loans.post_repayment(db, loan_id, amount=cny("1053.15"), value_date=D(2026, 2, 15))
    with db.transaction() as session:
        assert rebuild(session, loan_id).differences == ()
        session.execute(
            update(LoanStateRow)
            .where(LoanStateRow.loan_id == loan_id)
            .values(outstanding_principal_minor=1)
        )
        session.execute(
            update(InstallmentRow)
            .where(InstallmentRow.loan_id == loan_id, InstallmentRow.number == 2)
            .values(paid_principal_minor=7)
        )
    with db.transaction() as session:
        found = rebuild(session, loan_id).differences
    assert found == (
        "loan_state.outstanding_principal_minor: stored 1, journal gives 503685",
        "installment 2.paid_principal_minor: stored 7, journal gives 0",
    )
    with db.transaction() as session:
        assert rebuild(session, loan_id).differences == ()


def test_unknown_loan_is_not_found(db: Database) -> None:
    with db.transaction() as session, pytest.raises(NotFoundError):
        get_loan(session, 12345)


@pytest.mark.parametrize("overpayment", ["credit-balance", "reduce-term", "reduce-installment"])
def test_incremental_projections_equal_a_rebuild(db: Database, overpayment: str) -> None:
    """Each append writes only the rows that changed; a rebuild from scratch must agree."""
    loan_id = seed_loan(
        db,
        term=12,
        business_date=D(2026, 9, 1),
        product=consumer_product(overpayment=overpayment),
    )
    loans.post_repayment(db, loan_id, amount=cny("560"), value_date=D(2026, 2, 15))
    loans.apply_charge(
        db, loan_id, kind=ChargeKind.LATE_FEE, amount=cny("25"), value_date=D(2026, 3, 20)
    )
    bounced = loans.post_repayment(db, loan_id, amount=cny("900"), value_date=D(2026, 3, 22))
    loans.post_repayment(db, loan_id, amount=cny("3000"), value_date=D(2026, 4, 15))
    loans.post_repayment(db, loan_id, amount=cny("120"), value_date=D(2026, 2, 1))  # backdated
    loans.waive(
        db, loan_id, component=Component.INTEREST, amount=cny("5"), value_date=D(2026, 5, 1)
    )
    loans.reverse(db, loan_id, bounced.event_id)
    with db.transaction() as session:
        assert rebuild(session, loan_id).differences == ()


def test_a_repeated_request_whose_event_can_no_longer_happen_is_still_a_replay(
    db: Database,
) -> None:
    """A reversal sent twice: the second cannot reverse again, but it is the same request."""
    loan_id = seed_loan(db)
    paid = loans.post_repayment(db, loan_id, amount=cny("500"), value_date=D(2026, 2, 10))
    first = loans.reverse(db, loan_id, paid.event_id, idempotency_key="undo", request="undo")
    again = loans.reverse(db, loan_id, paid.event_id, idempotency_key="undo", request="undo")
    assert (again.event_id, again.replayed) == (first.event_id, True)
    assert journal_size(db, loan_id) == 3


def test_the_channel_and_reference_of_a_payment_are_kept(db: Database) -> None:
    loan_id = seed_loan(db)
    loans.post_repayment(
        db,
        loan_id,
        amount=cny("100"),
        value_date=D(2026, 2, 10),
        channel="alipay",
        external_reference="2026021022001",
    )
    with db.reading() as session:
        event = journal_document(session, loan_id)["events"][-1]
    assert (event["channel"], event["external_reference"]) == ("alipay", "2026021022001")


def test_a_rolled_back_append_leaves_no_trace_in_the_next_one(db: Database) -> None:
    """The process remembers each loan's last fold; a rolled-back append must not be it."""
    loan_id = seed_loan(db)
    session = db.sessions()
    with session.begin():
        append_in(session, loan_id, loans.repayment(amount=cny("700"), value_date=D(2026, 2, 1)))
        session.rollback()
    session.close()
    posted = loans.post_repayment(db, loan_id, amount=cny("100"), value_date=D(2026, 2, 2))
    assert posted.state.repaid == cny("100")
    with db.transaction() as session:
        assert rebuild(session, loan_id).differences == ()
        assert get_loan(session, loan_id)["repaid"] == "100.00"


def test_a_payment_between_two_tranches_of_the_first_period_is_accepted(db: Database) -> None:
    loan_id = seed_loan(db, disburse=False)
    loans.disburse(db, loan_id, value_date=D(2026, 1, 15), amount=cny("3000"))
    loans.disburse(db, loan_id, value_date=D(2026, 1, 25), amount=cny("3000"))
    paid = loans.post_repayment(db, loan_id, amount=cny("50"), value_date=D(2026, 1, 20))
    assert paid.state.repaid == cny("50")


def test_reversing_the_only_disbursement_makes_the_loan_approved_again(db: Database) -> None:
    loan_id = seed_loan(db, disburse=False)
    paid_out = loans.disburse(db, loan_id, value_date=D(2026, 1, 15))
    loans.reverse(db, loan_id, paid_out.event_id)
    with db.reading() as session:
        assert get_loan(session, loan_id)["status"] == "approved"
    loans.disburse(db, loan_id, value_date=D(2026, 1, 16))
    with db.reading() as session:
        assert get_loan(session, loan_id)["status"] == "active"


def test_a_kept_fold_that_another_writer_overtook_is_not_used(db: Database) -> None:
    """Each process keeps every loan's last fold; another process's append must void it."""
    loan_id = seed_loan(db)
    loans.post_repayment(db, loan_id, amount=cny("100"), value_date=D(2026, 2, 1))
    kept_before = journal._KEPT[loan_id]
    loans.post_repayment(db, loan_id, amount=cny("200"), value_date=D(2026, 2, 2))
    # As if the second payment had come through another process: this one kept the first.
    journal._KEPT[loan_id] = kept_before
    posted = loans.post_repayment(db, loan_id, amount=cny("300"), value_date=D(2026, 2, 3))
    assert posted.state.repaid == cny("600")
    with db.transaction() as session:
        assert rebuild(session, loan_id).differences == ()


@pytest.mark.postgres
def test_a_payment_survives_a_pooled_connection_the_server_dropped(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The payment path's connections are not pinged: a dead one is replaced, the payment
    recorded once."""
    db = make_database("postgres", tmp_path, request)
    loan_id = seed_loan(db)
    loans.post_repayment(db, loan_id, amount=cny("100"), value_date=D(2026, 2, 1))
    with db.postgres_connection(journal._PG_SETUP) as connection:
        backend = connection.info.backend_pid
    admin: sqlalchemy.Engine = request.getfixturevalue("postgres_admin")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    posted = loans.post_repayment(
        db, loan_id, amount=cny("200"), value_date=D(2026, 2, 2), idempotency_key="after"
    )
    assert posted.state.repaid == cny("300")
    assert journal_size(db, loan_id) == 3
    with db.postgres_connection(journal._PG_SETUP) as connection:
        assert connection.info.backend_pid != backend
