"""The relief workflow on SQLite and PostgreSQL: request, offers, acceptance, maker-checker
approval, the restructured journal, its reversal, and what collections and the close read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tenor.actions import loans, relief
from tenor.core.errors import DomainError, InvalidArgumentError
from tenor.core.money import Money
from tenor.core.restructure import Option, Relief
from tenor.relief.tables import ReliefOffer
from tenor.relief.workflow import evaluate, open_relief, options_document, watch_flag
from tenor.store.database import Database
from tenor.store.journal import load_events, load_loan, loan_state, rebuild, set_business_date
from tenor.store.models import JournalEntry, Loan, LoanStateRow
from tests.builders import seed_loan

# The loan of tests.builders: 6000 CNY at 18% over six months from 15 January 2026. On
# 1 April the first two installments are paid and nothing is overdue.
DAY = dt.date(2026, 4, 1)
STAFF, CHECKER, BORROWER = "key:staff", "key:checker", "key:borrower"


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def book(db: Database, *, score: int | None = 700, policy: dict[str, Any] | None = None) -> int:
    loan_id = seed_loan(db, business_date=dt.date(2026, 2, 15))
    loans.post_repayment(db, loan_id, amount=cny("1053.15"), value_date=dt.date(2026, 2, 15))
    with db.transaction() as session:
        set_business_date(session, dt.date(2026, 3, 15))
    loans.post_repayment(db, loan_id, amount=cny("1053.15"), value_date=dt.date(2026, 3, 15))
    with db.transaction() as session:
        set_business_date(session, DAY)
        loan = session.get(Loan, loan_id)
        assert loan is not None
        if score is not None:
            relief.record_credit_score(
                session,
                borrower_id=loan.borrower_id,
                score=score,
                source="bureau",
                as_of=dt.date(2026, 3, 1),
                actor=STAFF,
            )
        if policy is not None:
            relief.set_relief_policy(
                session,
                product_id=loan.product_id,
                document={"currency": "CNY", **policy},
                actor=STAFF,
            )
    return loan_id


def offers_for(db: Database, loan_id: int, chosen: dict[Option, Relief] | None = None) -> list[int]:
    with db.transaction() as session:
        request = relief.request_relief(
            session, loan_id=loan_id, channel="self-service", actor=BORROWER, reason="失业"
        )
        return [
            offer.id
            for offer in relief.make_offers(
                session, request_id=request.id, actor=STAFF, chosen=chosen
            )
        ]


def offer_of(db: Database, offer_ids: list[int], option: Option) -> int:
    with db.reading() as session:
        for offer_id in offer_ids:
            row = session.get(ReliefOffer, offer_id)
            assert row is not None
            if row.option == option.value:
                return offer_id
    raise AssertionError(f"no {option} offer")


def snapshot(db: Database, loan_id: int) -> tuple[Any, ...]:
    with db.reading() as session:
        book_ = load_loan(session, loan_id)
        state = loan_state(session, book_, load_events(session, loan_id))
        row = session.get(LoanStateRow, loan_id)
        assert row is not None
        return state, row.loan_class, row.stage, row.outstanding_principal_minor


def test_an_accepted_deferral_restructures_the_journal_and_flags_the_loan(db: Database) -> None:
    loan_id = book(db)
    before = snapshot(db, loan_id)
    offers = offers_for(db, loan_id)
    deferral = offer_of(db, offers, Option.DEFERRAL)
    offer = relief.accept_offer(db, deferral, actor=BORROWER)
    assert offer.status == "applied"
    with db.reading() as session:
        entry = session.query(JournalEntry).filter_by(event_id=offer.event_id).one()
        assert entry.kind == "restructured"
        assert entry.actor == BORROWER
        others = session.query(ReliefOffer).filter(ReliefOffer.id != deferral).all()
        assert {row.status for row in others} == {"superseded"}
        assert watch_flag(session, loan_id, DAY)
        found = open_relief(session, loan_id, DAY)
        assert found is not None
        assert (found.kind, found.option) == ("plan", "deferral")
    state, loan_class, stage, _ = snapshot(db, loan_id)
    assert (loan_class, stage) == (2, 2)
    assert state.restructured_on == (DAY,)
    # The projection written with the event is what a fresh fold of the whole journal gives.
    with db.transaction() as session:
        assert rebuild(session, loan_id).differences == ()
    # Reversing the restructuring restores the loan exactly, and collections resume.
    loans.reverse(db, loan_id, offer.event_id or "")
    assert snapshot(db, loan_id) == before
    with db.reading() as session:
        assert open_relief(session, loan_id, DAY) is None
        assert not watch_flag(session, loan_id, DAY)


def test_maker_checker_above_the_policys_limit(db: Database) -> None:
    loan_id = book(db, policy={"approval_above": "1000", "always_approve": []})
    offers = offers_for(db, loan_id)
    extension = offer_of(db, offers, Option.TERM_EXTENSION)
    accepted = relief.accept_offer(db, extension, actor=STAFF)
    assert accepted.status == "accepted"
    with db.reading() as session:
        found = open_relief(session, loan_id, DAY)
        assert found is not None
        assert found.kind == "offer"
    events = len(_journal(db, loan_id))
    for maker in (STAFF, BORROWER):
        with pytest.raises(DomainError) as refused:
            relief.approve_offer(db, extension, approver=maker)
        assert refused.value.code == "approver_is_maker"
    assert len(_journal(db, loan_id)) == events
    approved = relief.approve_offer(db, extension, approver=CHECKER)
    assert (approved.status, approved.approved_by) == ("applied", CHECKER)
    with pytest.raises(DomainError) as again:
        relief.approve_offer(db, extension, approver=CHECKER)
    assert again.value.code == "offer_not_open"
    assert len(_journal(db, loan_id)) == events + 1


def test_below_the_limit_no_approval_is_needed(db: Database) -> None:
    loan_id = book(db, policy={"approval_above": "5000", "always_approve": []})
    offers = offers_for(db, loan_id, {Option.TERM_EXTENSION: Relief(Option.TERM_EXTENSION, 3)})
    assert relief.accept_offer(db, offers[0], actor=BORROWER).status == "applied"


def test_an_offer_goes_stale_when_the_loan_changes(db: Database) -> None:
    loan_id = book(db)
    offers = offers_for(db, loan_id)
    deferral = offer_of(db, offers, Option.DEFERRAL)
    loans.post_repayment(db, loan_id, amount=cny("100"), value_date=DAY)
    events = len(_journal(db, loan_id))
    with pytest.raises(DomainError) as stale:
        relief.accept_offer(db, deferral, actor=BORROWER)
    assert stale.value.code == "offer_stale"
    assert len(_journal(db, loan_id)) == events
    with db.reading() as session:
        row = session.get(ReliefOffer, deferral)
        assert row is not None
        assert row.status == "open"


def test_without_a_credit_score_nothing_is_eligible_and_the_request_is_declined(
    db: Database,
) -> None:
    loan_id = book(db, score=None)
    with db.reading() as session:
        document = options_document(evaluate(session, loan_id))
    assert [item["type"] for item in document["options"]] == [o.value for o in Option]
    for item in document["options"]:
        assert item["eligible"] is False
        assert item["schedule"] is None
        assert {
            "code": "no_credit_score",
            "zh": "没有信用评分记录",
            "en": "No credit score on record",
        } in item["reasons"]
    assert offers_for(db, loan_id) == []
    with pytest.raises(DomainError) as refused:
        offers_for(db, loan_id, {Option.DEFERRAL: Relief(Option.DEFERRAL, 2)})
    assert refused.value.code == "not_eligible"
    assert "deferral: No credit score on record" in refused.value.message


def test_a_chosen_option_the_loan_does_not_qualify_for_is_refused_with_its_reasons(
    db: Database,
) -> None:
    loan_id = book(db, score=500)
    with pytest.raises(DomainError) as refused:
        offers_for(db, loan_id, {Option.DEFERRAL: Relief(Option.DEFERRAL, 2)})
    assert refused.value.code == "not_eligible"
    assert "Credit score 500 is below the 600 required" in refused.value.message


def test_a_staff_restructuring_in_one_step_needs_a_second_person(db: Database) -> None:
    loan_id = book(db, policy={"approval_above": "0"})
    deferral = Relief(Option.DEFERRAL, installments=2)
    with pytest.raises(DomainError) as missing:
        relief.restructure(db, loan_id, deferral, maker=STAFF)
    assert missing.value.code == "approval_required"
    with pytest.raises(DomainError) as same:
        relief.restructure(db, loan_id, deferral, maker=STAFF, approver=STAFF)
    assert same.value.code == "approver_is_maker"
    assert [e for e in _journal(db, loan_id) if e.kind == "restructured"] == []
    offer = relief.restructure(db, loan_id, deferral, maker=STAFF, approver=CHECKER)
    assert (offer.status, offer.approved_by) == ("applied", CHECKER)


def test_a_broken_plan_returns_the_case_to_collections(db: Database) -> None:
    loan_id = book(db)
    plan = relief.restructure(
        db, loan_id, Relief(Option.TERM_EXTENSION, installments=2), maker=STAFF
    )
    with db.reading() as session:
        found = open_relief(session, loan_id, dt.date(2026, 5, 15))
        assert found is not None
        assert found.offer_id == plan.id
        # Nothing paid since: 15 April is 30 days past due on 15 May, 31 on 16 May.
        assert open_relief(session, loan_id, dt.date(2026, 5, 16)) is None


def test_bad_input_changes_nothing(db: Database) -> None:
    loan_id = book(db)
    with db.reading() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        product_id, borrower_id = loan.product_id, loan.borrower_id
    cases: list[dict[str, Any]] = [
        {"currency": "CNY", "min_credit_score": -1},
        {"currency": "USD"},
        {"currency": "CNY", "options": {"holiday": {}}},
        {"currency": "CNY", "approval_above": "0.001"},
    ]
    for document in cases:
        with pytest.raises(InvalidArgumentError), db.transaction() as session:
            relief.set_relief_policy(session, product_id=product_id, document=document, actor=STAFF)
    with pytest.raises(InvalidArgumentError), db.transaction() as session:
        relief.record_credit_score(
            session, borrower_id=borrower_id, score=1001, source="bureau", as_of=DAY, actor=STAFF
        )
    with pytest.raises(InvalidArgumentError), db.transaction() as session:
        relief.request_relief(session, loan_id=loan_id, channel="fax", actor=STAFF)
    with db.reading() as session:
        assert evaluate(session, loan_id).policy_version == 0


def _journal(db: Database, loan_id: int) -> list[JournalEntry]:
    with db.reading() as session:
        rows = session.query(JournalEntry).filter_by(loan_id=loan_id).all()
        for row in rows:
            session.expunge(row)
        return rows


def test_request_fields_are_kept(db: Database) -> None:
    loan_id = book(db, policy={"max_debt_to_income_percent": "40"})
    with db.transaction() as session:
        request = relief.request_relief(
            session,
            loan_id=loan_id,
            channel="staff",
            actor=STAFF,
            monthly_income=cny("2000"),
            monthly_debt=cny("0"),
            hardship_evidence="doc-17",
        )
        offers = relief.make_offers(session, request_id=request.id, actor=STAFF)
        # 40% of 2,000 is 800: only options with a regular installment of at most 800 remain.
        kept = {offer.option for offer in offers}
    assert Option.TERM_EXTENSION.value in kept
    assert Option.DEFERRAL.value not in kept
