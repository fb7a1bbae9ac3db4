"""The close's collections pass and the collections actions on one loan, on SQLite and
PostgreSQL: a case opens the day the loan falls past due, follows its path, pauses for a
promise or a dispute, closes when cured; promises are decided at their edges; the contact rules
refuse a call at night and nothing is written; agencies are paid their commission to the cent;
legal cases keep to their state machine and charge costs as the judgment says."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tenor.actions import loans
from tenor.actions import relief as relief_actions
from tenor.batch.close import close_book
from tenor.batch.tables import CloseAction
from tenor.bureau.tables import BureauAccount
from tenor.collect import actions
from tenor.collect.queue import case_document, collector_queue, legal_document
from tenor.collect.reports import agency_statement, collections_report, strategies_report
from tenor.collect.strategy import DEFAULT_STRATEGY, parse_strategy
from tenor.collect.tables import (
    Agency,
    CaseAction,
    CollectionCase,
    ContactOutcome,
    LegalCase,
    Placement,
    Promise,
)
from tenor.core.collection import (
    CommissionBand,
    InvalidTransitionError,
    Judgment,
    LegalStage,
    OutcomeCode,
    assign_arm,
)
from tenor.core.errors import InvalidArgumentError
from tenor.core.money import Money
from tenor.core.restructure import Option, Relief
from tenor.notify.tables import Notification
from tenor.relief.tables import ReliefOffer
from tenor.store.database import Database
from tenor.store.journal import set_business_date
from tenor.store.models import Borrower, JournalEntry, Loan
from tests.builders import seed_loan, seed_relief
from tests.collect.book import FIRST_DUE, TODAY, past_due, seed_loans

INSTALLMENT = Money.of("1053.15", "CNY")
CST = dt.timezone(dt.timedelta(hours=8))


def _case(db: Database, loan_id: int) -> CollectionCase:
    with db.reading() as session:
        return session.scalars(
            select(CollectionCase)
            .where(CollectionCase.loan_id == loan_id)
            .order_by(CollectionCase.id.desc())
        ).first()  # type: ignore[return-value]


def _actions(db: Database, case_id: int) -> list[tuple[str, str, str]]:
    with db.reading() as session:
        return [
            (a.business_date.isoformat(), a.kind, a.state)
            for a in session.scalars(
                select(CaseAction).where(CaseAction.case_id == case_id).order_by(CaseAction.id)
            )
        ]


def _pay(db: Database, loan_id: int, day: dt.date, amount: Money) -> None:
    with db.transaction() as session:
        set_business_date(session, day)
    loans.post_repayment(db, loan_id, amount=amount, value_date=day)


def test_a_missed_first_installment_opens_a_case_that_follows_its_path(db: Database) -> None:
    loan_id, collector = past_due(db)
    case = _case(db, loan_id)
    # Never paid anything: a first-payment default, whose path calls at once.
    assert (case.status, case.segment, case.arm, case.opened_on) == (
        "open",
        "first-payment-default",
        "champion",
        FIRST_DUE + dt.timedelta(days=1),
    )
    assert case.collector_id == collector
    assert _actions(db, case.id) == [("2026-02-16", "call", "task")]
    with db.reading() as session:
        kinds = session.scalars(
            select(CloseAction.kind).where(
                CloseAction.loan_id == loan_id, CloseAction.business_date == FIRST_DUE
            )
        ).all()
    assert {"collection_open", "collection_call"} <= set(kinds)
    # The next step (an SMS) waits one day after the call; then a call three days later.
    close_book(db, through=FIRST_DUE + dt.timedelta(days=4))
    assert [kind for _, kind, _ in _actions(db, case.id)] == ["call", "sms", "call"]
    # Closing a closed date again changes nothing.
    before = _actions(db, case.id)
    close_book(db, date=FIRST_DUE + dt.timedelta(days=2))
    assert _actions(db, case.id) == before


def test_the_queue_orders_by_expected_value_and_shows_what_the_rules_refuse(db: Database) -> None:
    loan_id, collector = past_due(db)
    day = FIRST_DUE + dt.timedelta(days=1)
    morning = dt.datetime(2026, 2, 16, 10, 0, tzinfo=CST)
    with db.reading() as session:
        queue = collector_queue(session, collector, morning, day)
        night = collector_queue(session, collector, morning.replace(hour=23), day)
    assert [(e.loan_id, e.action, e.contactable_now) for e in queue] == [(loan_id, "call", True)]
    entry = queue[0]
    # Balance x propensity - a call's cost (2.00 CNY), to the cent.
    expected = (Decimal(entry.balance.minor) * entry.propensity - 200).quantize(Decimal(1))
    assert entry.expected_value.minor == int(expected)
    assert entry.propensity_source == "heuristic"
    assert night[0].contactable_now is False
    assert night[0].refused_rule == "quiet_hours"
    assert night[0].next_allowed_at == dt.datetime(2026, 2, 17, 8, 0, tzinfo=CST)


def test_a_call_the_rules_forbid_is_refused_and_nothing_is_recorded(db: Database) -> None:
    loan_id, _ = past_due(db)
    case = _case(db, loan_id)
    with pytest.raises(actions.ContactRefusedError, match="quiet_hours"):
        actions.record_outcome(
            db,
            case.id,
            actions.OutcomeRequest(
                code=OutcomeCode.NO_ANSWER, at=dt.datetime(2026, 2, 16, 22, 30, tzinfo=CST)
            ),
            actor="t",
        )
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(ContactOutcome)) == 0
    assert _actions(db, case.id) == [("2026-02-16", "call", "task")]


def test_a_field_visit_at_night_is_refused_like_a_call(db: Database) -> None:
    loan_id, _ = past_due(db)
    case = _case(db, loan_id)
    with pytest.raises(actions.ContactRefusedError, match="the visit is not allowed: quiet_hours"):
        actions.record_outcome(
            db,
            case.id,
            actions.OutcomeRequest(
                code=OutcomeCode.RIGHT_PARTY_CONTACT,
                channel="visit",
                at=dt.datetime(2026, 2, 16, 7, 30, tzinfo=CST),
            ),
            actor="t",
        )
    # At 8:00 the same visit may happen.
    actions.record_outcome(
        db,
        case.id,
        actions.OutcomeRequest(
            code=OutcomeCode.RIGHT_PARTY_CONTACT,
            channel="visit",
            at=dt.datetime(2026, 2, 16, 8, 0, tzinfo=CST),
        ),
        actor="t",
    )
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(ContactOutcome)) == 1


def _promise(db: Database, case_id: int, amount: str, on: dt.date) -> int:
    recorded = actions.record_outcome(
        db,
        case_id,
        actions.OutcomeRequest(
            code=OutcomeCode.PROMISE_TO_PAY,
            at=dt.datetime(2026, 2, 16, 10, 30, tzinfo=CST),
            amount=Decimal(amount),
            promise_date=on,
        ),
        actor="t",
    )
    assert recorded.promise_id is not None
    return recorded.promise_id


def _promise_row(db: Database, promise_id: int) -> dict[str, Any]:
    with db.reading() as session:
        promise = session.get(Promise, promise_id)
        assert promise is not None
        return {
            "status": promise.status,
            "paid_minor": promise.paid_minor,
            "decided_on": promise.decided_on,
        }


def test_a_promise_pauses_the_case_and_a_payment_keeps_it(db: Database) -> None:
    loan_id, _ = past_due(db)
    case = _case(db, loan_id)
    promise = _promise(db, case.id, "1053.15", dt.date(2026, 2, 20))
    # The call task is done; while the promise is pending the path waits.
    close_book(db, through=dt.date(2026, 2, 18))
    assert _actions(db, case.id) == [("2026-02-16", "call", "done")]
    assert _case(db, loan_id).paused == "promise_to_pay"
    # Paid, within the 5% tolerance, the day before the promised date: kept at once, and the
    # loan is current again, so the case closes as cured.
    _pay(db, loan_id, dt.date(2026, 2, 19), Money.of("1001.00", "CNY"))
    close_book(db, through=dt.date(2026, 2, 19))
    assert _promise_row(db, promise) == {
        "status": "kept",
        "paid_minor": 100100,
        "decided_on": dt.date(2026, 2, 19),
    }
    closed = _case(db, loan_id)
    # 1001 of 1053.15 leaves 52.15 past due: still past due, so the case stays open and
    # follows its path again from the next day.
    assert closed.status == "open"
    assert closed.paused is None
    _pay(db, loan_id, dt.date(2026, 2, 20), Money.of("60", "CNY"))
    close_book(db, through=dt.date(2026, 2, 20))
    assert (_case(db, loan_id).status, _case(db, loan_id).close_reason) == ("closed", "cured")


def test_a_promise_one_cent_short_of_the_tolerance_is_broken_after_its_grace_day(
    db: Database,
) -> None:
    loan_id, _ = past_due(db)
    case = _case(db, loan_id)
    promise = _promise(db, case.id, "1000.00", dt.date(2026, 2, 18))
    # 95% of 1000.00 is 950.00: 949.99 does not keep it.
    _pay(db, loan_id, dt.date(2026, 2, 17), Money.of("949.99", "CNY"))
    close_book(db, through=dt.date(2026, 2, 18))
    assert _promise_row(db, promise)["status"] == "pending"  # the grace day is 19 February
    close_book(db, through=dt.date(2026, 2, 19))
    assert _promise_row(db, promise) == {
        "status": "broken",
        "paid_minor": 94999,
        "decided_on": dt.date(2026, 2, 19),
    }
    after = _case(db, loan_id)
    assert "broken_promise" in after.flags
    assert after.paused is None
    with db.reading() as session:
        assert session.scalar(
            select(CloseAction.kind).where(
                CloseAction.loan_id == loan_id, CloseAction.kind == "promise_broken"
            )
        )
    report = collections_report_for(db)
    assert report["promises"]["broken"] == 1
    assert report["promises"]["keep_rate"] == 0.0


def collections_report_for(db: Database) -> dict[str, Any]:
    with db.reading() as session:
        return collections_report(session, dt.date(2026, 2, 20))


def test_bad_promises_are_refused_and_change_nothing(db: Database) -> None:
    loan_id, _ = past_due(db)
    case = _case(db, loan_id)
    for amount, on, message in (
        ("0", dt.date(2026, 2, 20), "positive"),
        ("100", dt.date(2026, 2, 1), "before the business date"),
        ("100", dt.date(2026, 6, 1), "at most 60 days"),
        ("999999", dt.date(2026, 2, 20), "more than the loan owes"),
        ("10.001", dt.date(2026, 2, 20), "decimal places"),
    ):
        with pytest.raises(InvalidArgumentError, match=message):
            _promise(db, case.id, amount, on)
    with pytest.raises(InvalidArgumentError, match="needs --amount and --date"):
        actions.record_outcome(
            db, case.id, actions.OutcomeRequest(code=OutcomeCode.PROMISE_TO_PAY), actor="t"
        )
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Promise)) == 0
        assert session.scalar(select(func.count()).select_from(ContactOutcome)) == 0


def test_a_dispute_pauses_collection_until_it_is_resolved(db: Database) -> None:
    loan_id, _ = past_due(db)
    case = _case(db, loan_id)
    actions.record_outcome(
        db,
        case.id,
        actions.OutcomeRequest(
            code=OutcomeCode.DISPUTE,
            at=dt.datetime(2026, 2, 16, 11, 0, tzinfo=CST),
            note="says the first installment was paid in cash",
        ),
        actor="t",
    )
    close_book(db, through=dt.date(2026, 2, 25))
    assert _case(db, loan_id).paused == "dispute"
    assert [kind for _, kind, _ in _actions(db, case.id)] == ["call"]
    actions.resolve_dispute(
        db, case.id, resolution="no cash receipt found", upheld=False, actor="t"
    )
    close_book(db, through=dt.date(2026, 2, 26))
    assert _case(db, loan_id).paused is None
    # Back from the pause, the next step (an SMS, one day after the call) waits its day again:
    # no burst of what the pause held back.
    assert [kind for _, kind, _ in _actions(db, case.id)] == ["call"]
    close_book(db, through=dt.date(2026, 2, 27))
    assert _actions(db, case.id)[1:] == [("2026-02-28", "sms", "sent")]


def test_an_agency_statement_reconciles_to_the_cent(db: Database) -> None:
    loan_id, _ = past_due(db)
    case = _case(db, loan_id)
    agency = actions.add_agency(
        db,
        name="华信 Recovery",
        commission=[CommissionBand(1, Decimal("0.175"))],
        recall_days=30,
        capacity=10,
        actor="t",
    )
    placement = actions.place(db, case.id, agency.id, actor="t")
    assert placement.rate == "0.175"
    # Credit bureaus are told the account is in collections (Metro 2 status 93) from now.
    with db.reading() as session:
        account = session.get(BureauAccount, loan_id)
        assert account is not None
        assert account.collections_on == placement.placed_on
    for day, amount in ((dt.date(2026, 2, 17), "333.33"), (dt.date(2026, 2, 18), "100.01")):
        _pay(db, loan_id, day, Money.of(amount, "CNY"))
    with db.reading() as session:
        statement = agency_statement(session, agency.id, None, dt.date(2026, 2, 18))
    # 17.5% of 333.33 is 58.33275 -> 58.33; of 100.01, 17.50175 -> 17.50.
    assert [(line.collected, line.commission, line.net) for line in statement.lines] == [
        (Money.of("333.33", "CNY"), Money.of("58.33", "CNY"), Money.of("275.00", "CNY")),
        (Money.of("100.01", "CNY"), Money.of("17.50", "CNY"), Money.of("82.51", "CNY")),
    ]
    assert (statement.collected, statement.commission, statement.net) == (
        Money.of("433.34", "CNY"),
        Money.of("75.83", "CNY"),
        Money.of("357.51", "CNY"),
    )
    # A dispute is an exclusion: the case comes back from the agency at once.
    actions.record_outcome(
        db,
        case.id,
        actions.OutcomeRequest(
            code=OutcomeCode.DISPUTE, at=dt.datetime(2026, 2, 18, 9, tzinfo=CST)
        ),
        actor="t",
    )
    assert _case(db, loan_id).agency_id is None
    with pytest.raises(InvalidArgumentError, match="cannot be placed: dispute"):
        actions.place(db, case.id, agency.id, actor="t")


def test_a_legal_case_keeps_to_its_state_machine_and_charges_costs_by_the_judgment(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENOR_DOCUMENTS", str(tmp_path / "documents"))
    loan_id, _ = past_due(db)
    legal = actions.open_legal(db, loan_id, court="北京市海淀区人民法院", actor="t")
    with pytest.raises(InvalidTransitionError, match="from referred to hearing"):
        actions.advance_legal(db, legal.id, LegalStage.HEARING, actor="t")
    actions.advance_legal(db, legal.id, LegalStage.DEMAND_LETTER, actor="t")
    actions.advance_legal(
        db, legal.id, LegalStage.FILED, reference="(2026)京0108民初123号", actor="t"
    )
    actions.add_cost(db, legal.id, kind="court", amount=Decimal("850.00"), actor="t")
    complaint = tmp_path / "complaint.pdf"
    complaint.write_bytes(b"%PDF-1.4 complaint")
    stored = actions.attach_document(db, legal.id, complaint, kind="complaint", actor="t")
    assert stored.sha256 == hashlib.sha256(b"%PDF-1.4 complaint").hexdigest()
    assert Path(stored.path).read_bytes() == complaint.read_bytes()
    actions.advance_legal(db, legal.id, LegalStage.HEARING, actor="t")
    award = Judgment(
        amount=Money.of("6000", "CNY"),
        costs=Money.of("850", "CNY"),
        interest=Money.of("120", "CNY"),
        costs_to_borrower=True,
    )
    actions.advance_legal(db, legal.id, LegalStage.JUDGMENT, judgment=award, actor="t")
    # The judgment charges the court cost recorded before it, and the lawyer's cost after it.
    actions.add_cost(db, legal.id, kind="lawyer", amount=Decimal("3000.00"), actor="t")
    with db.reading() as session:
        document = legal_document(session, legal.id)
        fees = session.scalars(
            select(JournalEntry.payload).where(
                JournalEntry.loan_id == loan_id, JournalEntry.kind == "charge-applied"
            )
        ).all()
    assert [e["to"] for e in document["events"] if e["kind"] == "stage"] == [
        "referred",
        "demand_letter",
        "filed",
        "hearing",
        "judgment",
    ]
    assert all(cost["charged"] for cost in document["costs"])
    assert sorted(p["amount"]["amount"] for p in fees if p["kind"] == "fee") == [
        "3000.00",
        "850.00",
    ]
    assert document["documents"][0]["size"] == len(b"%PDF-1.4 complaint")
    with pytest.raises(InvalidTransitionError):
        actions.advance_legal(db, legal.id, LegalStage.FILED, actor="t")


def test_write_off_then_recovery_go_through_the_journal(db: Database) -> None:
    loan_id, _ = past_due(db)
    case = _case(db, loan_id)
    actions.write_off(db, case.id, actor="t")
    with pytest.raises(actions.CaseClosedError):
        actions.write_off(db, case.id, actor="t")
    actions.recover(db, loan_id, Decimal("500"), idempotency_key="r-1", actor="t")
    actions.recover(db, loan_id, Decimal("500"), idempotency_key="r-1", actor="t")
    with db.reading() as session:
        kinds = session.scalars(
            select(JournalEntry.kind)
            .where(JournalEntry.loan_id == loan_id)
            .order_by(JournalEntry.id)
        ).all()
        document = case_document(session, case.id)
    assert kinds[-2:] == ["written-off", "recovered"]
    assert document["close_reason"] == "written_off"


def _more_loans(db: Database, count: int) -> list[int]:
    """``count`` more loans like the builders' one, each with a borrower of its own."""
    first = seed_loan(db, business_date=dt.date(2026, 2, 10))
    ids = [first]
    with db.transaction() as session:
        product_id = session.scalars(select(Loan.product_id).where(Loan.id == first)).one()
        for number in range(count - 1):
            borrower = Borrower(kind="individual", name=f"借款人{number}", phones=["13900139000"])
            session.add(borrower)
            session.flush()
            loan = loans.create_loan(
                session,
                borrower_id=borrower.id,
                product_id=product_id,
                principal=Money.of("6000", "CNY"),
                term=6,
                start=dt.date(2026, 1, 15),
            )
            loans.approve_loan(session, loan.id)
            ids.append(loan.id)
    for loan_id in ids[1:]:
        loans.disburse(db, loan_id, value_date=dt.date(2026, 1, 15))
    return ids


def test_the_strategies_report_compares_the_arms_a_hash_assigns(db: Database) -> None:
    # Twenty loans that paid something and then missed: the early segment, where a fifth of the
    # loans (by the hash of their ids) follow the challenger.
    ids = _more_loans(db, 20)
    for loan_id in ids:
        loans.post_repayment(
            db, loan_id, amount=Money.of("10", "CNY"), value_date=dt.date(2026, 2, 10)
        )
    close_book(db, through=FIRST_DUE)
    with db.reading() as session:
        cases = session.execute(select(CollectionCase.loan_id, CollectionCase.opened_arm)).all()
        report = strategies_report(session, FIRST_DUE + dt.timedelta(days=1))
    early = next(s for s in report["segments"] if s["segment"] == "early")
    segment = parse_strategy(DEFAULT_STRATEGY).strategy(0).segment("early")
    assert dict(cases) == {
        loan_id: assign_arm("standard", segment, loan_id).value for loan_id in ids
    }
    assert {arm: figures["cases"] for arm, figures in early["arms"].items()} == {
        arm: sum(1 for _, a in cases if a == arm) for arm in {a for _, a in cases}
    }
    for arm in early["arms"].values():
        interval = arm["cure_rate"]
        assert interval["low"] <= interval["estimate"] <= interval["high"]


def test_a_borrower_without_a_phone_gets_no_text_and_the_refusal_is_kept(db: Database) -> None:
    loan_id = seed_loan(db, business_date=dt.date(2026, 2, 10))
    loans.post_repayment(db, loan_id, amount=Money.of("10", "CNY"), value_date=dt.date(2026, 2, 10))
    with db.transaction() as session:
        borrower = session.scalars(select(Borrower)).one()
        borrower.phones = []
    close_book(db, through=FIRST_DUE)
    case = _case(db, loan_id)
    assert case.segment == "early"
    # The champion texts first, the challenger calls first (the hash decides which).
    first = {"champion": ("sms", "refused"), "challenger": ("call", "task")}[case.arm]
    assert _actions(db, case.id) == [("2026-02-16", *first)]


def test_open_relief_pauses_the_case_and_collection_resumes_when_the_offer_lapses(
    db: Database,
) -> None:
    loan_id, _ = past_due(db)
    case = _case(db, loan_id)
    _, (offer,) = seed_relief(db, loan_id, {"term-extension": {"installments": 2}})
    with db.reading() as session:
        expires = session.get(ReliefOffer, offer)
        assert expires is not None
        last_open_day = expires.expires_on
    close_book(db, through=dt.date(2026, 2, 17))
    assert _case(db, loan_id).paused == "hardship"
    assert [kind for _, kind, _ in _actions(db, case.id)] == ["call"]
    # The offer lapses unanswered: the case follows its strategy again.
    close_book(db, through=last_open_day + dt.timedelta(days=1))
    resumed = _case(db, loan_id)
    assert resumed.paused is None
    close_book(db, through=last_open_day + dt.timedelta(days=2))
    assert len(_actions(db, case.id)) > 1


def test_a_pending_promise_or_an_open_dispute_stops_the_overdue_reminders(db: Database) -> None:
    loan_id, _ = past_due(db)
    case = _case(db, loan_id)

    def reminder_offsets() -> set[int]:
        with db.reading() as session:
            return set(
                session.scalars(
                    select(Notification.offset_days).where(
                        Notification.loan_id == loan_id, Notification.kind == "reminder"
                    )
                )
            )

    before = reminder_offsets()
    _promise(db, case.id, "1053.15", dt.date(2026, 2, 25))
    close_book(db, through=dt.date(2026, 2, 23))
    # The default policy reminds 3 and 7 days past due; the promise stops both.
    assert reminder_offsets() == before
    assert not {3, 7} & reminder_offsets()


def test_a_plan_in_force_pauses_the_case_and_a_broken_plan_returns_it_to_its_strategy(
    db: Database,
) -> None:
    loan_id, _ = past_due(db)
    case = _case(db, loan_id)
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        relief_actions.record_credit_score(
            session,
            borrower_id=loan.borrower_id,
            score=700,
            source="bureau",
            as_of=dt.date(2026, 2, 1),
            actor="key:staff",
        )
    # An arrears plan: what is overdue spread over the next installments, applied at once.
    relief_actions.restructure(
        db,
        loan_id,
        Relief(Option.ARREARS_PLAN, 3),
        maker="key:staff",
        approver="key:checker",
    )
    # The overdue amount moves into the plan: the loan is current and the case closes.
    close_book(db, through=dt.date(2026, 2, 20))
    assert (_case(db, loan_id).status, _case(db, loan_id).close_reason) == ("closed", "cured")
    # The plan's first installment is missed: a new case opens, paused while the plan holds.
    close_book(db, through=dt.date(2026, 3, 20))
    again = _case(db, loan_id)
    assert again.id != case.id
    assert (again.status, again.paused) == ("open", "hardship")
    assert _actions(db, again.id) == []
    # Nothing is paid: past the policy's 30 days past due the plan is broken, and the case
    # follows its strategy again.
    close_book(db, through=dt.date(2026, 4, 30))
    after = _case(db, loan_id)
    assert (after.id, after.status, after.paused) == (again.id, "open", None)
    assert _actions(db, again.id)


def _in_force(db: Database, name: str, step: str) -> None:
    """A strategy whose one segment takes every case straight to ``step``."""
    actions.save_strategy(
        db,
        {"name": name, "segments": [{"name": "all", "min_dpd": 1, "champion": [{"action": step}]}]},
        actor="t",
    )


def _last_steps(db: Database) -> dict[int, tuple[str, str, dict[str, Any]]]:
    """Each loan's last action: kind, state and detail."""
    with db.reading() as session:
        rows = session.execute(
            select(CollectionCase.loan_id, CaseAction.kind, CaseAction.state, CaseAction.detail)
            .join(CollectionCase, CollectionCase.id == CaseAction.case_id)
            .order_by(CaseAction.id)
        ).all()
    return {loan_id: (kind, state, detail) for loan_id, kind, state, detail in rows}


def test_one_pass_places_cases_within_the_agencies_room_and_a_cure_recalls_one(
    db: Database,
) -> None:
    """Four cases reach their agency step in the same pass: each goes to the agency with the
    most room as the placements before it left it, until none has room."""
    book = seed_loans(db)
    a, b, c, d = book.loans
    with db.transaction() as session:
        for agency_id, capacity in ((book.agency, 2), (book.other_agency, 1)):
            agency = session.get(Agency, agency_id)
            assert agency is not None
            agency.capacity = capacity
    _in_force(db, "agency-first", "agency")
    close_book(db, date=TODAY)
    opening = TODAY + dt.timedelta(days=1)

    def placements() -> list[tuple[int, int, dt.date | None, str | None]]:
        with db.reading() as session:
            return [
                (p.loan_id, p.agency_id, p.recalled_on, p.recall_reason)
                for p in session.scalars(select(Placement).order_by(Placement.id))
            ]

    def in_collections() -> dict[int, dt.date | None]:
        with db.reading() as session:
            return {
                account.loan_id: account.collections_on
                for account in session.scalars(select(BureauAccount))
            }

    # Ties go to the lower id: A to the first agency, B too (one place left each), C to the
    # other; D finds no room.
    assert placements() == [
        (a, book.agency, None, None),
        (b, book.agency, None, None),
        (c, book.other_agency, None, None),
    ]
    assert _last_steps(db) == {
        a: ("agency", "done", {"agency_id": book.agency, "rate": "0.15"}),
        b: ("agency", "done", {"agency_id": book.agency, "rate": "0.15"}),
        c: ("agency", "done", {"agency_id": book.other_agency, "rate": "0.2"}),
        d: ("agency", "skipped", {"reason": "no_agency_capacity"}),
    }
    assert in_collections() == {a: opening, b: opening, c: opening}
    with db.reading() as session:
        assert session.scalars(
            select(CollectionCase.agency_id).order_by(CollectionCase.loan_id)
        ).all() == [book.agency, book.agency, book.other_agency, None]
    # A pays what is past due: its case closes as cured, the agency gives it back and the
    # bureau no longer sees the account in collections.
    _pay(db, a, opening, Money.of("1100", "CNY"))
    close_book(db, date=opening)
    cured = _case(db, a)
    assert (cured.status, cured.close_reason, cured.agency_id) == ("closed", "cured", None)
    recalled = opening + dt.timedelta(days=1)
    assert placements()[0] == (a, book.agency, recalled, "cured")
    assert placements()[1:] == [
        (b, book.agency, None, None),
        (c, book.other_agency, None, None),
    ]
    assert in_collections() == {a: None, b: opening, c: opening}


def test_one_pass_refers_cases_to_legal_in_loan_order_and_a_loan_once(db: Database) -> None:
    """Every case reaches its legal step the same day: each loan without an open legal case
    gets one, numbered in loan order; the loan referred by hand keeps its own."""
    book = seed_loans(db)
    a, b, c, d = book.loans
    held = actions.open_legal(db, c, court=None, actor="t")
    _in_force(db, "legal-first", "legal")
    close_book(db, date=TODAY)
    opening = TODAY + dt.timedelta(days=1)
    with db.reading() as session:
        legal = session.execute(
            select(
                LegalCase.id, LegalCase.loan_id, LegalCase.case_id, LegalCase.opened_on
            ).order_by(LegalCase.id)
        ).all()
    assert [tuple(row) for row in legal] == [
        (held.id, c, book.case_of(c), TODAY),
        (held.id + 1, a, book.case_of(a), opening),
        (held.id + 2, b, book.case_of(b), opening),
        (held.id + 3, d, book.case_of(d), opening),
    ]
    assert _last_steps(db) == {
        a: ("legal", "done", {"legal_case_id": held.id + 1}),
        b: ("legal", "done", {"legal_case_id": held.id + 2}),
        c: ("legal", "skipped", {"reason": "legal_case_open", "legal_case_id": held.id}),
        d: ("legal", "done", {"legal_case_id": held.id + 3}),
    }
