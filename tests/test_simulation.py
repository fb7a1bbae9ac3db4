"""The demo book: behaviour profiles, the plan of a book, and a small book's life on both
databases, ending with journal and projections consistent and every yuan accounted for."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from sqlalchemy import func, select

from tenor.core.account import Disbursed, RepaymentReceived, Status, fold
from tenor.core.money import Money
from tenor.simulation import (
    PRODUCTS,
    PROFILES,
    Behaviour,
    PaymentKind,
    PlannedPayment,
    amount_to_pay,
    credit_code,
    credit_code_check,
    draw_behaviour,
    live_through,
    plan_book,
    plan_payments,
    portfolio_summary,
)
from tenor.store.codec import money_from_json
from tenor.store.database import Database
from tenor.store.journal import business_date, load_events, load_loan, loan_state, rebuild
from tenor.store.models import Borrower, JournalEntry, Loan, LoanStateRow

START = dt.date(2026, 1, 5)
# Twelve monthly due dates from 5 February 2026.
DUES = [dt.date(2026 + (month - 1) // 12, (month - 1) % 12 + 1, 5) for month in range(2, 14)]
DISBURSED = dt.date(2026, 1, 5)


# --- profiles and plans (no database) -------------------------------------------------------


def test_a_seed_gives_the_same_book_and_another_seed_another() -> None:
    first = plan_book(borrowers=60, months=6, seed=7, start=START)
    again = plan_book(borrowers=60, months=6, seed=7, start=START)
    other = plan_book(borrowers=60, months=6, seed=8, start=START)
    assert first == again
    assert first.borrowers != other.borrowers
    assert first.loans != other.loans


def test_behaviours_are_drawn_deterministically_with_the_profiles_weights() -> None:
    def draws(seed: int) -> list[Behaviour]:
        rng = random.Random(seed)
        return [draw_behaviour(rng, enterprise=False) for _ in range(5000)]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)
    counts = Counter(draws(1))
    total = sum(profile.consumer_weight for profile in PROFILES)
    for profile in PROFILES:
        expected = 5000 * profile.consumer_weight / total
        assert abs(counts[profile.behaviour] - expected) < 5 * expected**0.5 + 5


def test_enterprises_never_pay_in_part_or_settle_milestone_loans_early() -> None:
    rng = random.Random(3)
    drawn = {draw_behaviour(rng, enterprise=True) for _ in range(2000)}
    assert Behaviour.PARTIAL not in drawn
    assert Behaviour.SETTLES_EARLY not in drawn


def test_payment_plans_are_deterministic_per_seed() -> None:
    for behaviour in Behaviour:
        plans = [plan_payments(behaviour, DISBURSED, DUES, random.Random(9)) for _ in range(2)]
        assert plans[0] == plans[1], behaviour


@pytest.mark.parametrize("seed", range(20))
def test_each_behaviour_pays_as_its_name_says(seed: int) -> None:
    def plan(behaviour: Behaviour) -> tuple[PlannedPayment, ...]:
        return plan_payments(behaviour, DISBURSED, DUES, random.Random(seed))

    on_time = plan(Behaviour.ON_TIME)
    assert [p.installment for p in on_time] == list(range(1, 13))
    assert all(0 <= (DUES[p.installment - 1] - p.day).days <= 1 for p in on_time)
    assert all(DUES[p.installment - 1] - p.day >= dt.timedelta(2) for p in plan(Behaviour.EARLY))
    assert all(p.day > DUES[p.installment - 1] for p in plan(Behaviour.LATE))
    partial = plan(Behaviour.PARTIAL)
    assert {p.kind for p in partial} == {PaymentKind.PART, PaymentKind.THROUGH}
    assert all(40 <= p.percent <= 90 for p in partial if p.kind is PaymentKind.PART)
    settles = plan(Behaviour.SETTLES_EARLY)
    assert settles[-1].kind is PaymentKind.SETTLE
    assert settles[-1].installment <= 6
    cures = plan(Behaviour.CURES)
    # Falls behind (one payment comes after its installment's due date, covering every
    # installment due by then), then pays on time again to the end.
    catch_up = [p for p in cures if p.day > DUES[p.installment - 1]]
    assert len(catch_up) == 1
    assert catch_up[0].installment == sum(due <= catch_up[0].day for due in DUES)
    assert cures[-1].installment == 12
    assert len(plan(Behaviour.DEFAULTS)) <= 3
    assert all(p.day > DISBURSED for b in Behaviour for p in plan(b))


def test_settling_early_closes_the_loan_without_later_interest() -> None:
    consumer = PRODUCTS[0].config
    terms = consumer.loan_terms(principal=Money.of("10000", "CNY"), term=12, start=DISBURSED)
    events = [Disbursed(event_id="d", sequence=1, value_date=DISBURSED, amount=terms.principal)]
    state = fold(terms, events, consumer.account_rules())
    day = DUES[2] - dt.timedelta(days=10)  # during the third period, nothing paid yet
    amount = amount_to_pay(state, PlannedPayment(day, PaymentKind.SETTLE, 3), day)
    payment = RepaymentReceived(
        event_id="p", sequence=2, value_date=day, amount=Money(amount, "CNY")
    )
    settled = fold(terms, [*events, payment], consumer.account_rules())
    assert settled.status is Status.CLOSED
    assert settled.credit_balance == Money.zero("CNY")
    # Three periods of interest (two overdue, the current one), none after.
    assert Money(amount, "CNY") - terms.principal == Money.sum(
        [item.interest for item in state.installments[:3]], "CNY"
    )


@pytest.mark.parametrize(
    "code",
    ["91330100716105852F", "9144030071526726XG", "914403001922038216", "91110108551385082Q"],
)
def test_the_credit_code_check_character_agrees_with_real_codes(code: str) -> None:
    assert credit_code_check(code[:17]) == code[17]


def test_generated_credit_codes_are_well_formed() -> None:
    rng = random.Random(5)
    for _ in range(100):
        code = credit_code(rng)
        assert len(code) == 18
        assert code.startswith("91")
        assert credit_code_check(code[:17]) == code[17]


def test_the_book_has_vintages_enterprises_and_chinese_identities() -> None:
    plan = plan_book(borrowers=200, months=12, seed=7, start=START)
    origination_months = {loan.originated.replace(day=1) for loan in plan.loans}
    assert len(origination_months) >= 6
    assert max(loan.originated for loan in plan.loans) < dt.date(2026, 7, 6)
    products = Counter(loan.product for loan in plan.loans)
    assert set(products) == {product.code for product in PRODUCTS}
    people = [b for b in plan.borrowers if b.kind == "individual"]
    assert all(len(b.national_id) == 18 for b in people)
    assert all(len(b.phones[0]) == 11 and b.phones[0].startswith("1") for b in people)
    assert all(3 <= loan.term <= 24 for loan in plan.loans if loan.product == PRODUCTS[0].code)
    enterprises = [b for b in plan.borrowers if b.kind == "enterprise"]
    assert enterprises
    assert all(b.industry and b.registered_capital for b in enterprises)
    milestone_loans = [loan for loan in plan.loans if loan.milestones]
    assert milestone_loans
    assert all(sum(m.share for m in loan.milestones) == 1 for loan in milestone_loans)


# --- a small book on SQLite and PostgreSQL ---------------------------------------------------


def test_a_small_book_lives_through_three_months_consistently(db: Database) -> None:
    plan = plan_book(borrowers=40, months=3, seed=2, start=START)
    days: list[dt.date] = []
    life = live_through(db, plan, lambda day, _: days.append(day))
    assert days[0] == START
    assert days[-1] == plan.end == dt.date(2026, 4, 5)

    with db.transaction() as session:
        assert business_date(session) == plan.end
        loan_ids = list(session.scalars(select(Loan.id).order_by(Loan.id)))
        assert len(loan_ids) == len(plan.loans) == life.events["disbursed"]
        differences = {i: rebuild(session, i).differences for i in loan_ids}
    assert {i: d for i, d in differences.items() if d} == {}

    with db.reading() as session:
        statuses = Counter(session.scalars(select(Loan.status)))
        delinquent = session.scalar(
            select(func.count()).select_from(LoanStateRow).where(LoanStateRow.days_past_due > 0)
        )
        assert statuses["closed"] > 0
        assert delinquent
        assert session.scalar(select(func.count()).select_from(Borrower)) == 40

        # Every yuan paid in is in some loan's balances: the journal's repayments are the
        # projections' repaid, and each loan's repaid is what its installments were paid,
        # plus principal prepaid, plus any credit balance.
        journal_repaid = sum(
            money_from_json(payload["amount"]).minor
            for payload in session.scalars(
                select(JournalEntry.payload).where(JournalEntry.kind == "repayment-received")
            )
        )
        projected = session.scalar(select(func.sum(LoanStateRow.repaid_minor)))
        assert journal_repaid == projected
        assert journal_repaid > 0
        for loan_id in loan_ids:
            book = load_loan(session, loan_id)
            state = loan_state(session, book, load_events(session, loan_id))
            paid = sum(item.paid.minor for item in state.installments)
            principal = sum(item.principal.minor for item in state.installments)
            prepaid = state.prepaid_principal.minor
            assert state.repaid.minor == paid + prepaid + state.credit_balance.minor
            assert state.disbursed.minor == principal + prepaid
            assert state.outstanding_principal.minor == principal - sum(
                item.paid_principal.minor for item in state.installments
            )

        summary = portfolio_summary(session)
    open_loans = statuses["active"] + statuses["overpaid"]
    assert sum(row["loans"] for row in summary["by_bucket"]) == open_loans
    assert sum(row["loans"] for row in summary["by_class"]) == open_loans
    assert summary["journal_events"]["repayment-received"] == life.events["repayment-received"]
    assert summary["journal_events"].get("charge-applied", 0) == life.events["penalty-interest"]
    assert summary["by_bucket"][0]["bucket"] == "M0"
    assert 0 < float(summary["collections"]["collection_rate_percent"]) <= 100
