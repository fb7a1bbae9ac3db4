"""Hypothesis strategies for Tenor's domain objects, shared by every test module.

Each strategy draws only valid objects, so a test can use them without filtering; where a
combination is invalid for a reason the strategy cannot see in advance (a holiday rolling the
first due date before the disbursement, a milestone inside a moratorium) it is rejected with
``assume``, and any other error is a bug in the strategy and surfaces.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import assume, reject
from hypothesis import strategies as st

from tenor.core.account import (
    AccountRules,
    ChargeApplied,
    ChargeKind,
    Disbursed,
    LoanEvent,
    OverpaymentPolicy,
    Recovered,
    RepaymentReceived,
    Waived,
    WrittenOff,
    fold,
)
from tenor.core.allocation import WATERFALLS, Component
from tenor.core.calendar import (
    NAMED_FREQUENCIES,
    BusinessDayConvention,
    DayCount,
    Frequency,
    HolidayCalendar,
)
from tenor.core.collection import AgencyCollection, LegalStage, Preservation
from tenor.core.errors import EventError
from tenor.core.money import Money, Rounding, allocate
from tenor.core.schedule import (
    GraceTreatment,
    InterestMethod,
    InvalidTermsError,
    LoanTerms,
    Method,
    Milestone,
    milestone_term,
)

#: Currencies with 2, 0 and 3 minor-unit digits.
currencies = st.sampled_from(["CNY", "USD", "JPY", "KWD"])

frequencies = st.sampled_from([*NAMED_FREQUENCIES.values(), Frequency.every_days(10)])

#: Realistic rates most of the time, anything up to the 1000% limit some of the time.
annual_rates = st.one_of(
    st.decimals(min_value=0, max_value=Decimal("0.5"), places=4),
    st.decimals(min_value=0, max_value=10, places=2),
)

methods = st.sampled_from(list(Method))

start_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


def money(
    currency: str, *, min_minor: int = 0, max_minor: int = 10**12
) -> st.SearchStrategy[Money]:
    """Amounts of ``currency`` between ``min_minor`` and ``max_minor`` minor units."""
    return st.integers(min_value=min_minor, max_value=max_minor).map(
        lambda minor: Money(minor, currency)
    )


@st.composite
def milestones(draw: st.DrawFn, start: date, *, max_count: int = 4) -> tuple[Milestone, ...]:
    """Milestones after ``start`` in date order, whose shares sum exactly to 1."""
    count = draw(st.integers(min_value=1, max_value=max_count))
    offsets = sorted(draw(st.sets(st.integers(1, 3 * 365), min_size=count, max_size=count)))
    # Cut 10000 basis points at distinct places, so that every share is at least 1 bp.
    cuts = sorted(draw(st.sets(st.integers(1, 9999), min_size=count - 1, max_size=count - 1)))
    points = [b - a for a, b in zip([0, *cuts], [*cuts, 10000], strict=True)]
    return tuple(
        Milestone(f"milestone {index}", start + timedelta(days=offset), Decimal(bp) / 10000)
        for index, (offset, bp) in enumerate(zip(offsets, points, strict=True), start=1)
    )


@st.composite
def loan_terms(
    draw: st.DrawFn,
    methods: st.SearchStrategy[Method] = methods,
    *,
    max_term: int = 48,
) -> LoanTerms:
    """Valid loan terms of any method with any mix of options."""
    currency = draw(currencies)
    method = draw(methods)
    start = draw(start_dates)
    frequency = draw(frequencies)
    first_due = draw(st.none() | st.integers(1, 70).map(lambda days: start + timedelta(days=days)))
    month_end = draw(st.booleans())
    principal = draw(money(currency, min_minor=1, max_minor=10**11))

    stepped: tuple[Money, ...] = ()
    chosen_milestones: tuple[Milestone, ...] = ()
    if method is Method.MILESTONE:
        chosen_milestones = draw(milestones(start))
        term = milestone_term(
            start, frequency, chosen_milestones, first_due=first_due, month_end=month_end
        )
    else:
        term = draw(st.integers(min_value=1, max_value=max_term))

    grace_principal = grace_interest = moratorium = 0
    if method is not Method.BULLET:
        small = st.integers(min_value=0, max_value=min(term - 1, 4))
        moratorium, grace_principal, grace_interest = draw(small), draw(small), draw(small)
    if method is Method.STEPPED:
        principal_free = max(grace_principal, moratorium)
        weights = draw(
            st.lists(
                st.integers(0, 5), min_size=term - principal_free, max_size=term - principal_free
            )
        )
        assume(any(weights))
        stepped = tuple(allocate(principal, [0] * principal_free + weights))

    calendar = draw(st.none() | st.sampled_from(["CN", "US"]).map(HolidayCalendar))
    business_day = (
        BusinessDayConvention.UNADJUSTED
        if calendar is None
        else draw(st.sampled_from(list(BusinessDayConvention)))
    )
    optional_fee = st.none() | money(currency, max_minor=10**5)
    try:
        return LoanTerms(
            principal=principal,
            annual_rate=draw(annual_rates),
            term=term,
            frequency=frequency,
            start=start,
            method=method,
            interest_method=draw(st.sampled_from(list(InterestMethod))),
            day_count=draw(st.sampled_from(list(DayCount))),
            daily_interest=draw(st.booleans()),
            first_due=first_due,
            grace_principal=grace_principal,
            grace_interest=grace_interest,
            interest_grace_treatment=draw(st.sampled_from(list(GraceTreatment))),
            moratorium=moratorium,
            moratorium_treatment=draw(st.sampled_from(list(GraceTreatment))),
            installment_multiple=draw(
                st.none() | st.sampled_from(["1", "10", "100"]).map(lambda m: Money.of(m, currency))
            ),
            rounding=draw(st.sampled_from(list(Rounding))),
            upfront_fee=draw(optional_fee),
            installment_fee=draw(optional_fee),
            stepped_principal=stepped,
            milestones=chosen_milestones,
            holiday_calendar=calendar,
            business_day=business_day,
            month_end=month_end,
        )
    except InvalidTermsError as error:
        # Only conflicts the draws above cannot foresee; anything else is a strategy bug.
        if error.field not in {"business_day", "milestones"}:
            raise
        reject()


# --- loan accounts -------------------------------------------------------------------------

account_rules = st.builds(
    AccountRules,
    waterfall=st.sampled_from(list(WATERFALLS.values())),
    overpayment=st.sampled_from(list(OverpaymentPolicy)),
)


@st.composite
def amortising_terms(draw: st.DrawFn) -> LoanTerms:
    """Consumer-style terms whose schedule can be re-amortised, in CNY."""
    return LoanTerms(
        principal=draw(money("CNY", min_minor=100_000, max_minor=5_000_000)),
        annual_rate=draw(st.decimals(min_value=0, max_value=Decimal("0.36"), places=4)),
        term=draw(st.integers(min_value=1, max_value=18)),
        frequency=Frequency.every_months(1),
        start=draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))),
        method=draw(
            st.sampled_from([Method.ANNUITY, Method.EQUAL_PRINCIPAL, Method.INTEREST_ONLY])
        ),
        installment_fee=draw(st.none() | money("CNY", min_minor=0, max_minor=2_000)),
    )


@st.composite
def journals(
    draw: st.DrawFn, *, max_events: int = 14
) -> tuple[LoanTerms, AccountRules, list[LoanEvent]]:
    """Terms, rules and a journal a real loan could have: every prefix of it folds.

    Events are drawn one at a time in booking order, with value dates anywhere in the loan's
    life (so many are backdated), and an event the account refuses is dropped.
    """
    terms = draw(amortising_terms())
    rules = draw(account_rules)
    life = terms.term * 31 + 90
    first_tranche = terms.principal
    if draw(st.booleans()):
        first_tranche = Money(
            draw(st.integers(min_value=1, max_value=terms.principal.minor)), "CNY"
        )
    events: list[LoanEvent] = [
        Disbursed(event_id="e1", sequence=1, value_date=terms.start, amount=first_tranche)
    ]
    remaining_principal = terms.principal.minor - first_tranche.minor
    for _ in range(draw(st.integers(min_value=0, max_value=max_events))):
        number = len(events) + 1
        common: dict[str, Any] = {
            "event_id": f"e{number}",
            "sequence": number,
            "value_date": terms.start + timedelta(days=draw(st.integers(1, life))),
        }
        kind = draw(st.sampled_from(["pay", "pay", "pay", "charge", "waive", "tranche", "off"]))
        event: LoanEvent
        if kind == "pay":
            amount = draw(money("CNY", min_minor=1, max_minor=terms.principal.minor))
            event = RepaymentReceived(**common, amount=amount)
        elif kind == "charge":
            event = ChargeApplied(
                **common,
                kind=draw(st.sampled_from(list(ChargeKind))),
                amount=draw(money("CNY", min_minor=1, max_minor=20_000)),
            )
        elif kind == "waive":
            event = Waived(
                **common,
                component=draw(
                    st.sampled_from([Component.PENALTY, Component.FEE, Component.INTEREST])
                ),
                amount=draw(money("CNY", min_minor=1, max_minor=5_000)),
            )
        elif kind == "tranche" and remaining_principal > 0:
            amount = Money(draw(st.integers(1, remaining_principal)), "CNY")
            event = Disbursed(**common, amount=amount)
        elif kind == "off" and draw(st.booleans()):
            event = WrittenOff(**common)
        elif kind == "off":
            event = Recovered(**common, amount=Money(10_000, "CNY"))
        else:
            continue
        try:
            fold(terms, [*events, event], rules)
        except EventError:
            continue
        if isinstance(event, Disbursed):
            remaining_principal -= event.amount.minor
        events.append(event)
    return terms, rules, events


# --- collections ---------------------------------------------------------------------------

#: Agency commission rates: any share in [0, 1) to the basis point, the edges included often.
commission_rates = st.one_of(
    st.sampled_from([Decimal(0), Decimal("0.005"), Decimal("0.5"), Decimal("0.9999")]),
    st.decimals(min_value=0, max_value=Decimal("0.9999"), places=4),
)


def agency_collections(
    currency: str, *, max_size: int = 12
) -> st.SearchStrategy[list[AgencyCollection]]:
    """Payments an agency collected in ``currency``, each with its placement's rate."""
    item = st.builds(
        AgencyCollection,
        reference=st.uuids().map(str),
        loan_id=st.integers(min_value=1, max_value=10**9),
        amount=money(currency, max_minor=10**11),
        rate=commission_rates,
    )
    return st.lists(item, max_size=max_size)


#: One move of a legal case: a stage for the main track or a state of asset preservation.
legal_moves = st.one_of(st.sampled_from(list(LegalStage)), st.sampled_from(list(Preservation)))
