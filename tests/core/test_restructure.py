"""Relief options: schedules that reconcile with the ledger core, eligibility at each rule's
edge, the watch period, and a restructuring reversed."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenor.core.account import (
    AccountRules,
    ChargeApplied,
    ChargeKind,
    Disbursed,
    LoanEvent,
    LoanState,
    RepaymentReceived,
    Reversed,
    fold,
)
from tenor.core.calendar import Frequency, add_months
from tenor.core.money import Money, Rounding
from tenor.core.restructure import (
    BorrowerFacts,
    DeferredInterest,
    LoanFacts,
    Option,
    OptionLimits,
    Relief,
    ReliefError,
    ReliefPolicy,
    eligibility,
    plan,
    position,
    propose,
    under_watch,
)
from tenor.core.schedule import GraceTreatment, LoanTerms, Method, Milestone, build_schedule

START = dt.date(2026, 1, 15)
RULES = AccountRules()
#: Each example folds a loan three times: half the profile's examples keep the suite fast
#: (HYPOTHESIS_PROFILE=thorough still runs 1,500).
HALF = settings(max_examples=max(settings().max_examples // 2, 1))


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def loan_terms(principal: str = "6000", rate: str = "0.18", term: int = 6) -> LoanTerms:
    return LoanTerms(
        principal=cny(principal),
        annual_rate=Decimal(rate),
        term=term,
        frequency=Frequency.parse("monthly"),
        start=START,
    )


def journal(terms: LoanTerms, paid: int, late_fee: str | None = None) -> list[LoanEvent]:
    """Disbursed on START, the first ``paid`` installments paid on their due dates."""
    events: list[LoanEvent] = [
        Disbursed(event_id="d", sequence=1, value_date=START, amount=terms.principal)
    ]
    for item in build_schedule(terms).installments[:paid]:
        events.append(
            RepaymentReceived(
                event_id=f"p{item.number}",
                sequence=len(events) + 1,
                value_date=item.due_date,
                amount=item.total,
            )
        )
    if late_fee:
        events.append(
            ChargeApplied(
                event_id="fee",
                sequence=len(events) + 1,
                value_date=dt.date(2026, 3, 20),
                kind=ChargeKind.LATE_FEE,
                amount=cny(late_fee),
            )
        )
    return events


def unpaid_principal(state: LoanState) -> int:
    return sum(item.unpaid_principal.minor for item in state.installments)


# --- whole schedules ----------------------------------------------------------------------


def test_a_deferral_is_the_schedule_cores_moratorium() -> None:
    """6000 at 18% over 6 months, two paid: two installments deferred on 1 April capitalise
    their interest exactly as a moratorium of the schedule core does."""
    terms = loan_terms()
    events = journal(terms, paid=2)
    day = dt.date(2026, 4, 1)
    proposal = propose(terms, events, RULES, Relief(Option.DEFERRAL, installments=2), day)
    expected = build_schedule(
        dataclasses.replace(
            terms,
            principal=cny("4059.25"),
            start=dt.date(2026, 3, 15),
            first_due=dt.date(2026, 4, 15),
            term=6,
            moratorium=2,
            moratorium_treatment=GraceTreatment.CAPITALISE,
        )
    )
    new = proposal.schedule
    assert [(i.due_date, i.principal, i.interest) for i in new] == [
        (i.due_date, i.principal, i.interest) for i in expected.installments
    ]
    assert proposal.event.capitalised == expected.capitalised_interest
    assert proposal.proposed.term == 6  # two holiday installments, then four
    assert proposal.proposed.last_due_date == dt.date(2026, 9, 15)


def test_deferred_interest_capitalised_accrued_to_the_end_or_waived() -> None:
    terms = loan_terms()
    events = journal(terms, paid=2)
    day = dt.date(2026, 4, 1)

    def total_interest(treatment: DeferredInterest) -> Money:
        relief = Relief(Option.DEFERRAL, installments=2, interest=treatment)
        return propose(terms, events, RULES, relief, day).proposed.total_interest

    # The holiday's interest on 4059.25 at 1.5% a month for two months, not compounded.
    holiday = cny("121.78")
    assert total_interest(DeferredInterest.ACCRUE_TO_END) == (
        total_interest(DeferredInterest.WAIVE) + holiday
    )
    to_end = propose(
        terms,
        events,
        RULES,
        Relief(Option.DEFERRAL, installments=2, interest=DeferredInterest.ACCRUE_TO_END),
        day,
    )
    last = to_end.schedule[-1]
    waived = propose(
        terms,
        events,
        RULES,
        Relief(Option.DEFERRAL, installments=2, interest=DeferredInterest.WAIVE),
        day,
    )
    assert last.interest == waived.schedule[-1].interest + holiday


def test_an_arrears_plan_spreads_the_overdue_amount_beside_the_schedule() -> None:
    """Installment 2 (15 March) unpaid with a 30.00 late fee: over three months."""
    terms = loan_terms()
    events = journal(terms, paid=1, late_fee="30")
    day = dt.date(2026, 3, 25)
    proposal = propose(terms, events, RULES, Relief(Option.ARREARS_PLAN, installments=3), day)
    regular = build_schedule(terms).installments
    new = proposal.schedule
    assert [item.due_date for item in new] == [item.due_date for item in regular[2:]]
    overdue = regular[1]
    # The overdue principal, interest and fee are split over the first three, to the cent.
    added_principal = sum(new[i].principal.minor - regular[i + 2].principal.minor for i in range(4))
    assert added_principal == overdue.principal.minor
    assert sum(i.penalty.minor for i in new) == 3000
    assert [i.penalty for i in new[:3]] == [cny("10")] * 3
    assert new[3].total_due == regular[5].total
    # Nothing is added or taken away: the plan costs what the loan owed.
    assert proposal.proposed.total_cost == proposal.current.total_cost


def test_a_settlement_forgives_part_of_the_overdue_charges_by_a_deadline() -> None:
    terms = loan_terms()
    events = journal(terms, paid=1, late_fee="30")
    day = dt.date(2026, 3, 25)
    relief = Relief(Option.SETTLEMENT, discount=Decimal("0.5"), deadline=dt.date(2026, 4, 30))
    proposal = propose(terms, events, RULES, relief, day)
    (row,) = proposal.schedule
    where = position(proposal.before, day)
    assert row.due_date == dt.date(2026, 4, 30)
    assert row.principal.minor == where.principal
    forgiven = where.overdue_charges // 2
    assert row.unpaid.minor == where.principal + where.overdue_charges - forgiven
    assert row.waived.minor == forgiven


def test_a_lower_rate_then_the_loans_own_rate() -> None:
    terms = loan_terms(term=12)
    events = journal(terms, paid=3)
    day = dt.date(2026, 4, 20)
    relief = Relief(Option.LOWER_RATE, installments=3, annual_rate=Decimal("0.06"))
    new = propose(terms, events, RULES, relief, day).schedule
    assert len(new) == 9
    low = build_schedule(
        dataclasses.replace(
            terms,
            principal=Money.sum((i.principal for i in new), "CNY"),
            annual_rate=Decimal("0.06"),
            start=dt.date(2026, 4, 15),
            first_due=dt.date(2026, 5, 15),
            term=9,
        )
    ).installments
    assert [i.interest for i in new[:3]] == [i.interest for i in low[:3]]
    # From the fourth on, 18% on what is left: 1.5% a month.
    left = Money.sum((i.principal for i in new[3:]), "CNY")
    assert new[3].interest == left.scale(Decimal("0.015"), Rounding.HALF_EVEN)


def test_a_reamortisation_to_a_target_installment_takes_the_fewest_installments() -> None:
    terms = loan_terms()
    events = journal(terms, paid=2)
    day = dt.date(2026, 4, 1)
    relief = Relief(Option.REAMORTISATION, installment_amount=cny("500"))
    proposal = propose(terms, events, RULES, relief, day)
    assert proposal.proposed.installment <= cny("500")
    shorter = plan(
        terms, proposal.before, Relief(Option.REAMORTISATION, term=proposal.proposed.term - 1), day
    )
    assert shorter.installments[0].total > cny("500")


def test_a_milestone_loan_follows_its_progress_report() -> None:
    terms = LoanTerms(
        principal=cny("1000000"),
        annual_rate=Decimal("0.06"),
        term=12,
        frequency=Frequency.parse("monthly"),
        start=START,
        method=Method.MILESTONE,
        milestones=(
            Milestone("foundations", dt.date(2026, 7, 15), Decimal("0.4")),
            Milestone("handover", dt.date(2027, 1, 15), Decimal("0.6")),
        ),
    )
    events = journal(terms, paid=2)
    day = dt.date(2026, 4, 1)
    dates = (dt.date(2026, 10, 15), dt.date(2027, 4, 15))
    relief = Relief(Option.MILESTONE_RESCHEDULE, milestone_dates=dates)
    new = propose(terms, events, RULES, relief, day).schedule
    with_principal = [(i.due_date, i.principal) for i in new if i.principal.is_positive]
    assert with_principal == [(dates[0], cny("400000")), (dates[1], cny("600000"))]
    with pytest.raises(ReliefError, match="progress report"):
        plan(terms, fold(terms, events), Relief(Option.DEFERRAL, installments=1), day)


# --- invariants over many loans -------------------------------------------------------------

reliefs = st.one_of(
    st.builds(
        Relief,
        option=st.just(Option.DEFERRAL),
        installments=st.integers(1, 6),
        interest=st.sampled_from(DeferredInterest),
    ),
    st.builds(Relief, option=st.just(Option.TERM_EXTENSION), installments=st.integers(1, 12)),
    st.builds(Relief, option=st.just(Option.REAMORTISATION), term=st.integers(1, 36)),
    st.builds(Relief, option=st.just(Option.ARREARS_PLAN), installments=st.integers(1, 6)),
    st.builds(
        Relief,
        option=st.just(Option.LOWER_RATE),
        installments=st.integers(1, 3),
        annual_rate=st.decimals(0, Decimal("0.05"), places=3),
    ),
    st.builds(
        Relief,
        option=st.just(Option.SETTLEMENT),
        discount=st.decimals(0, 1, places=2),
        deadline=st.just(dt.date(2027, 1, 1)),
    ),
)


@st.composite
def loans(draw: st.DrawFn) -> tuple[LoanTerms, list[LoanEvent], dt.date]:
    terms = LoanTerms(
        principal=Money(draw(st.integers(100_00, 500_000_00)), "CNY"),
        annual_rate=draw(st.decimals(Decimal("0.06"), Decimal("0.36"), places=3)),
        term=draw(st.integers(4, 24)),
        frequency=Frequency.parse("monthly"),
        start=START,
        method=draw(st.sampled_from([Method.ANNUITY, Method.EQUAL_PRINCIPAL])),
    )
    paid = draw(st.integers(0, terms.term - 2))
    fee = draw(st.sampled_from([None, "30", "0.01"]))
    events = journal(terms, paid, late_fee=fee)
    # Some days after the last payment: on time, or an installment or two behind.
    day = add_months(START, paid + 1) + dt.timedelta(days=draw(st.integers(-20, 70)))
    return terms, events, max(day, dt.date(2026, 3, 21))


@HALF
@given(loans(), reliefs)
def test_every_option_reconciles_with_the_ledger_core(
    loan: tuple[LoanTerms, list[LoanEvent], dt.date], relief: Relief
) -> None:
    terms, events, day = loan
    before = fold(terms, events)
    try:
        proposal = propose(terms, events, RULES, relief, day)
    except ReliefError:
        return
    after = proposal.after
    where = position(before, day)
    capitalised = proposal.event.capitalised.minor
    forgiven = proposal.event.forgive.minor if proposal.event.forgive else 0
    # Principal: every unit owed before is owed after, plus what the holiday capitalised.
    assert unpaid_principal(after) == unpaid_principal(before) + capitalised
    owed = sum(i.principal.minor for i in after.installments)
    assert owed == terms.principal.minor + capitalised
    # Interest and fees: the overdue ones carried, the new schedule's instead of the old.
    new_rows = proposal.event.installments
    assert after.total_outstanding.minor == (
        where.principal
        + capitalised
        + where.overdue_charges
        + sum(row.interest.minor + row.fee.minor for row in new_rows)
        - forgiven
    )
    # Balances: the new schedule repays its principal to zero, never going negative.
    assert new_rows[-1].balance.minor == 0
    assert all(not row.balance.is_negative for row in new_rows)
    # Payments: nothing paid is lost.
    assert after.repaid == before.repaid
    paid = sum(i.paid_minor for i in after.installments)
    assert paid + after.credit_balance.minor == after.repaid.minor
    assert all(not i.unpaid.is_negative for i in after.installments)
    # Reversing it restores the account exactly.
    reversal = Reversed(event_id="undo", sequence=999, value_date=day, target="proposal")
    assert fold(terms, [*events, proposal.event, reversal]) == before


@HALF
@given(loans(), reliefs, st.integers(1, 3))
def test_the_fold_after_a_restructuring_is_a_fresh_fold_in_any_booking_order(
    loan: tuple[LoanTerms, list[LoanEvent], dt.date], relief: Relief, payments: int
) -> None:
    terms, events, day = loan
    try:
        proposal = propose(terms, events, RULES, relief, day)
    except ReliefError:
        return
    later: list[LoanEvent] = [
        RepaymentReceived(
            event_id=f"later{n}",
            sequence=1000 + n,
            value_date=item.due_date,
            amount=item.unpaid,
        )
        for n, item in enumerate(proposal.schedule[:payments])
        if item.unpaid.is_positive
    ]
    journal_ = [*events, proposal.event, *later]
    state = fold(terms, journal_)
    assert fold(terms, list(reversed(journal_))) == state
    assert state.restructured_on == (day,)


# --- the watch period -------------------------------------------------------------------------


def test_the_watch_flag_clears_only_for_a_borrower_who_kept_paying() -> None:
    terms = loan_terms()
    events = journal(terms, paid=2)
    day = dt.date(2026, 4, 1)
    proposal = propose(
        terms, events, RULES, Relief(Option.TERM_EXTENSION, installments=2), day, watch_days=60
    )
    assert not under_watch(proposal.before, day)
    assert under_watch(proposal.after, day)
    assert under_watch(proposal.after, dt.date(2026, 5, 31))
    # Installments of 15 April and 15 May fell due in the watch period and were not paid.
    assert under_watch(proposal.after, dt.date(2026, 6, 1))
    paid = [
        RepaymentReceived(
            event_id=f"w{n}", sequence=100 + n, value_date=item.due_date, amount=item.unpaid
        )
        for n, item in enumerate(proposal.schedule[:2])
    ]
    kept_paying = fold(terms, [*events, proposal.event, *paid])
    assert under_watch(kept_paying, dt.date(2026, 5, 31))
    assert not under_watch(kept_paying, dt.date(2026, 6, 1))
    late = [dataclasses.replace(paid[0], value_date=dt.date(2026, 4, 20)), paid[1]]
    paid_late = fold(terms, [*events, proposal.event, *late])
    assert under_watch(paid_late, dt.date(2026, 6, 1))


# --- eligibility at each rule's edge ----------------------------------------------------------

EVERY_OPTION = {
    Option.DEFERRAL: OptionLimits(Relief(Option.DEFERRAL, installments=2), max_installments=3),
    Option.TERM_EXTENSION: OptionLimits(Relief(Option.TERM_EXTENSION, installments=6)),
    Option.REAMORTISATION: OptionLimits(Relief(Option.REAMORTISATION)),
    Option.ARREARS_PLAN: OptionLimits(Relief(Option.ARREARS_PLAN, installments=3)),
    Option.LOWER_RATE: OptionLimits(
        Relief(Option.LOWER_RATE, installments=2, annual_rate=Decimal("0.09")),
        min_annual_rate=Decimal("0.06"),
    ),
    Option.SETTLEMENT: OptionLimits(
        Relief(Option.SETTLEMENT, discount=Decimal("0.2"), deadline=dt.date(2026, 5, 31)),
        max_discount=Decimal("0.5"),
    ),
}


def facts(paid: int = 2, dpd: int = 0, late_fee: str | None = None) -> LoanFacts:
    terms = loan_terms()
    return LoanFacts(terms, tuple(journal(terms, paid, late_fee)), RULES, dpd)


def codes(
    policy: ReliefPolicy,
    borrower: BorrowerFacts,
    loan: LoanFacts | None = None,
    option: Option = Option.DEFERRAL,
    chosen: dict[Option, Relief] | None = None,
) -> set[str]:
    results = eligibility(loan or facts(), borrower, policy, dt.date(2026, 4, 1), chosen)
    (result,) = [r for r in results if r.option is option]
    assert result.eligible == (not result.reasons)
    assert (result.proposal is not None) == result.eligible
    for reason in result.reasons:
        assert reason.zh
        assert reason.en
    return {reason.code for reason in result.reasons}


SCORED = BorrowerFacts(credit_score=650, score_as_of=dt.date(2026, 3, 1))


@pytest.mark.parametrize(
    ("policy", "borrower", "loan", "failed"),
    [
        (ReliefPolicy(EVERY_OPTION), BorrowerFacts(), None, set()),
        (
            ReliefPolicy(EVERY_OPTION, min_credit_score=600),
            BorrowerFacts(),
            None,
            {"no_credit_score"},
        ),
        (ReliefPolicy(EVERY_OPTION, min_credit_score=650), SCORED, None, set()),
        (ReliefPolicy(EVERY_OPTION, min_credit_score=651), SCORED, None, {"credit_score_too_low"}),
        (
            ReliefPolicy(EVERY_OPTION, min_credit_score=600, max_score_age_days=31),
            SCORED,
            None,
            set(),
        ),
        (
            ReliefPolicy(EVERY_OPTION, min_credit_score=600, max_score_age_days=30),
            SCORED,
            None,
            {"credit_score_stale"},
        ),
        (ReliefPolicy(EVERY_OPTION, max_days_past_due=17), SCORED, facts(dpd=17), set()),
        (
            ReliefPolicy(EVERY_OPTION, max_days_past_due=16),
            SCORED,
            facts(dpd=17),
            {"too_many_days_past_due"},
        ),
        (ReliefPolicy(EVERY_OPTION, min_on_time_payments_12m=2), SCORED, None, set()),
        (
            ReliefPolicy(EVERY_OPTION, min_on_time_payments_12m=3),
            SCORED,
            None,
            {"too_few_on_time_payments"},
        ),
        # Two of six installments paid: 32.9% of the principal.
        (ReliefPolicy(EVERY_OPTION, min_paid_share=Decimal("0.32")), SCORED, None, set()),
        (
            ReliefPolicy(EVERY_OPTION, min_paid_share=Decimal("0.33")),
            SCORED,
            None,
            {"too_little_repaid"},
        ),
        # 4212.60 owed: principal 4016.05 and scheduled interest.
        (ReliefPolicy(EVERY_OPTION, hardship_evidence_above=cny("4212.60")), SCORED, None, set()),
        (
            ReliefPolicy(EVERY_OPTION, hardship_evidence_above=cny("4212.59")),
            SCORED,
            None,
            {"hardship_evidence_required"},
        ),
        (
            ReliefPolicy(EVERY_OPTION, hardship_evidence_above=cny("4212.59")),
            dataclasses.replace(SCORED, hardship_evidence=True),
            None,
            set(),
        ),
    ],
)
def test_eligibility_at_each_rules_edge(
    policy: ReliefPolicy, borrower: BorrowerFacts, loan: LoanFacts | None, failed: set[str]
) -> None:
    assert codes(policy, borrower, loan) == failed


def test_the_owed_amount_in_the_hardship_edge_is_what_the_account_says() -> None:
    state = fold(loan_terms(), journal(loan_terms(), 2))
    assert state.total_outstanding == cny("4212.60")


def test_restructurings_in_twelve_months_and_ever() -> None:
    terms = loan_terms(term=12)
    events = journal(terms, paid=2)
    first = propose(
        terms, events, RULES, Relief(Option.TERM_EXTENSION, installments=1), dt.date(2026, 3, 20)
    )
    event = dataclasses.replace(first.event, event_id="r1")
    loan = LoanFacts(terms, (*events, event), RULES, 0)
    assert codes(ReliefPolicy(EVERY_OPTION, max_restructurings_12m=2), SCORED, loan) == set()
    assert codes(ReliefPolicy(EVERY_OPTION, max_restructurings_12m=1), SCORED, loan) == {
        "too_many_recent_restructurings"
    }
    assert codes(ReliefPolicy(EVERY_OPTION, max_restructurings_ever=1), SCORED, loan) == {
        "too_many_restructurings"
    }
    undone = Reversed(event_id="u", sequence=99, value_date=dt.date(2026, 3, 21), target="r1")
    loan = LoanFacts(terms, (*events, event, undone), RULES, 0)
    assert codes(ReliefPolicy(EVERY_OPTION, max_restructurings_ever=1), SCORED, loan) == set()


def test_option_limits_and_debt_to_income() -> None:
    policy = ReliefPolicy(EVERY_OPTION, max_debt_to_income=Decimal("0.5"))
    assert (
        codes(policy, SCORED, chosen={Option.DEFERRAL: Relief(Option.DEFERRAL, installments=3)})
        == set()
    )
    assert codes(
        policy, SCORED, chosen={Option.DEFERRAL: Relief(Option.DEFERRAL, installments=4)}
    ) == {"beyond_policy_limit"}
    low = {
        Option.LOWER_RATE: Relief(Option.LOWER_RATE, installments=2, annual_rate=Decimal("0.05"))
    }
    assert codes(policy, SCORED, option=Option.LOWER_RATE, chosen=low) == {"rate_below_floor"}
    late = facts(paid=1, late_fee="30")
    big = {
        Option.SETTLEMENT: Relief(
            Option.SETTLEMENT, discount=Decimal("0.51"), deadline=dt.date(2026, 5, 31)
        )
    }
    assert codes(policy, SCORED, late, Option.SETTLEMENT, big) == {"discount_too_large"}
    # The deferral's regular installment is 1,084.98 (capitalised): 50% of 2,169.96 is the edge.
    income = dataclasses.replace(SCORED, monthly_income=cny("2169.96"))
    assert codes(policy, income) == set()
    poorer = dataclasses.replace(SCORED, monthly_income=cny("2169.95"))
    assert codes(policy, poorer) == {"debt_to_income_too_high"}
    indebted = dataclasses.replace(income, monthly_debt=cny("0.01"))
    assert codes(policy, indebted) == {"debt_to_income_too_high"}


def test_every_option_is_answered_with_reasons_when_not_offered_or_not_possible() -> None:
    results = eligibility(facts(), SCORED, ReliefPolicy(EVERY_OPTION), dt.date(2026, 4, 1))
    by_option = {result.option: result for result in results}
    assert list(by_option) == list(Option)
    assert {r.code for r in by_option[Option.MILESTONE_RESCHEDULE].reasons} == {
        "option_not_offered",
        "option_not_possible",
    }
    # Nothing is overdue on 1 April: there is no arrears plan to make.
    assert {r.code for r in by_option[Option.ARREARS_PLAN].reasons} == {"option_not_possible"}
    assert by_option[Option.DEFERRAL].eligible


def test_approval_above_the_policys_limit() -> None:
    loan = facts()
    policy = ReliefPolicy(EVERY_OPTION, approval_above=cny("4212.60"))
    results = eligibility(loan, SCORED, policy, dt.date(2026, 4, 1))
    assert not any(result.needs_approval for result in results)
    policy = dataclasses.replace(policy, approval_above=cny("4212.59"))
    results = eligibility(loan, SCORED, policy, dt.date(2026, 4, 1))
    assert all(result.needs_approval for result in results)
    policy = ReliefPolicy(EVERY_OPTION, always_approve=frozenset({Option.SETTLEMENT}))
    results = eligibility(loan, SCORED, policy, dt.date(2026, 4, 1))
    assert [r.option for r in results if r.needs_approval] == [Option.SETTLEMENT]


@HALF
@given(loans(), reliefs, st.integers(1, 100_00))
def test_a_payment_backdated_before_a_restructuring_is_a_prepayment_of_it(
    loan: tuple[LoanTerms, list[LoanEvent], dt.date], relief: Relief, amount: int
) -> None:
    terms, events, day = loan
    try:
        proposal = propose(terms, events, RULES, relief, day)
    except ReliefError:
        return
    backdated = RepaymentReceived(
        event_id="late-post", sequence=500, value_date=day, amount=Money(amount, "CNY")
    )
    before = fold(terms, [*events, backdated])
    after = fold(terms, [*events, backdated, proposal.event])
    capitalised = proposal.event.capitalised.minor
    assert sum(i.principal.minor for i in after.installments) == (
        terms.principal.minor + capitalised
    )
    assert sum(i.paid_minor for i in after.installments) + after.credit_balance.minor == (
        after.repaid.minor
    )
    assert after.repaid == before.repaid
    assert all(not i.unpaid.is_negative for i in after.installments)
