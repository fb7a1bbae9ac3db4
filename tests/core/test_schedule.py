"""Repayment schedules: each test states a loan and compares its whole schedule.

Rows read ``number due-date principal interest fee total balance``; the docstrings show the
arithmetic that fixes the numbers.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenor.core.calendar import (
    NAMED_FREQUENCIES,
    BusinessDayConvention,
    DayCount,
    Frequency,
    HolidayCalendar,
    year_fraction,
)
from tenor.core.money import Money, Rounding, round_decimal
from tenor.core.schedule import (
    # Private helpers are tested too, where they mirror calendar.py or round by hand.
    _DIVIDE,
    GraceTreatment,
    InterestMethod,
    InvalidTermsError,
    LoanTerms,
    Method,
    Milestone,
    Schedule,
    _periods_per_year,
    _year_fraction,
    build_schedule,
    milestone_term,
)
from tests.strategies import loan_terms

MONTHLY = Frequency.every_months(1)


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def loan(**options: object) -> LoanTerms:
    """1000 CNY at 12% a year (1% a month), 4 monthly installments from 1 January 2026."""
    defaults: dict[str, object] = {
        "principal": cny("1000"),
        "annual_rate": Decimal("0.12"),
        "term": 4,
        "frequency": MONTHLY,
        "start": date(2026, 1, 1),
    }
    return LoanTerms(**{**defaults, **options})  # type: ignore[arg-type]


def rows(schedule: Schedule) -> list[str]:
    return [
        " ".join(
            [
                str(i.number),
                i.due_date.isoformat(),
                i.principal.format(),
                i.interest.format(),
                i.fee.format(),
                i.total.format(),
                i.balance.format(),
            ]
        )
        for i in schedule.installments
    ]


def table(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


# --- methods -----------------------------------------------------------------------------------


def test_annuity_at_zero_rate_splits_the_principal_and_the_last_absorbs_the_cent() -> None:
    """1000 / 3 = 333.33 twice; the last installment takes the 333.34 left."""
    schedule = build_schedule(loan(annual_rate=Decimal(0), term=3))
    assert rows(schedule) == table(
        """
        1 2026-02-01 333.33 0.00 0.00 333.33 666.67
        2 2026-03-01 333.33 0.00 0.00 333.33 333.34
        3 2026-04-01 333.34 0.00 0.00 333.34 0.00
        """
    )


def test_equal_principal() -> None:
    """250 of principal each month; interest 1% of the balance: 10, 7.50, 5, 2.50."""
    assert rows(build_schedule(loan(method=Method.EQUAL_PRINCIPAL))) == table(
        """
        1 2026-02-01 250.00 10.00 0.00 260.00 750.00
        2 2026-03-01 250.00 7.50 0.00 257.50 500.00
        3 2026-04-01 250.00 5.00 0.00 255.00 250.00
        4 2026-05-01 250.00 2.50 0.00 252.50 0.00
        """
    )


def test_interest_only_with_balloon() -> None:
    """10 of interest every month, the whole 1000 with the last."""
    assert rows(build_schedule(loan(method=Method.INTEREST_ONLY))) == table(
        """
        1 2026-02-01 0.00 10.00 0.00 10.00 1000.00
        2 2026-03-01 0.00 10.00 0.00 10.00 1000.00
        3 2026-04-01 0.00 10.00 0.00 10.00 1000.00
        4 2026-05-01 1000.00 10.00 0.00 1010.00 0.00
        """
    )


def test_bullet_is_one_installment_at_maturity() -> None:
    """Twelve months of 1% on 1000, all paid with the principal on 1 January 2027."""
    schedule = build_schedule(loan(method=Method.BULLET, term=12))
    assert rows(schedule) == table("1 2027-01-01 1000.00 120.00 0.00 1120.00 0.00")
    assert schedule.installments[0].start_date == date(2026, 1, 1)


def test_bullet_with_daily_interest_counts_the_days() -> None:
    """365 days at 10% on ACT/360: 1000 x 0.10 x 365/360 = 101.388... -> 101.39."""
    terms = loan(
        method=Method.BULLET,
        term=12,
        annual_rate=Decimal("0.10"),
        daily_interest=True,
        day_count=DayCount.ACT_360,
    )
    assert rows(build_schedule(terms)) == table("1 2027-01-01 1000.00 101.39 0.00 1101.39 0.00")


def test_stepped_principal() -> None:
    """Principal 100, 200, 300, 400 as stated; interest 1% of the balance before each."""
    steps = tuple(cny(amount) for amount in ("100", "200", "300", "400"))
    assert rows(build_schedule(loan(method=Method.STEPPED, stepped_principal=steps))) == table(
        """
        1 2026-02-01 100.00 10.00 0.00 110.00 900.00
        2 2026-03-01 200.00 9.00 0.00 209.00 700.00
        3 2026-04-01 300.00 7.00 0.00 307.00 400.00
        4 2026-05-01 400.00 4.00 0.00 404.00 0.00
        """
    )


PROJECT_MILESTONES = (
    Milestone("phase 1 complete", date(2026, 6, 15), Decimal("0.3")),
    Milestone("completion", date(2027, 3, 1), Decimal("0.7")),
)


def test_milestone_term_counts_periodic_dates_up_to_the_last_milestone() -> None:
    """Quarterly from 1 January 2026 the fifth date, 1 April 2027, is the first past 1 March."""
    quarterly = Frequency.every_months(3)
    assert milestone_term(date(2026, 1, 1), quarterly, PROJECT_MILESTONES) == 5


def test_milestone_principal_falls_due_on_milestones_between_quarterly_interest() -> None:
    """A 1,000,000 CNY project loan at 6%, quarterly interest, 30% then 70% on milestones.

    Full quarters earn 1.5%: 15000 on 1,000,000 and 10500 on 700,000. The stretches cut by a
    milestone earn by the day (ACT/365F): 75 days to 15 June on 1,000,000 = 12328.77; 16 days
    to 1 July on 700,000 = 1841.10; and 59 days to the completion on 1 March 2027 = 6789.04.
    """
    terms = LoanTerms(
        principal=cny("1000000"),
        annual_rate=Decimal("0.06"),
        term=5,
        frequency=Frequency.every_months(3),
        start=date(2026, 1, 1),
        method=Method.MILESTONE,
        milestones=PROJECT_MILESTONES,
    )
    assert rows(build_schedule(terms)) == table(
        """
        1 2026-04-01 0.00 15000.00 0.00 15000.00 1000000.00
        2 2026-06-15 300000.00 12328.77 0.00 312328.77 700000.00
        3 2026-07-01 0.00 1841.10 0.00 1841.10 700000.00
        4 2026-10-01 0.00 10500.00 0.00 10500.00 700000.00
        5 2027-01-01 0.00 10500.00 0.00 10500.00 700000.00
        6 2027-03-01 700000.00 6789.04 0.00 706789.04 0.00
        """
    )


def test_milestone_shares_split_the_principal_by_largest_remainder() -> None:
    """Thirds of 100.00 are 33.34, 33.33, 33.33 (the first has the largest remainder)."""
    thirds = tuple(
        Milestone(f"m{n}", date(2026, n + 1, 1), Decimal(share))
        for n, share in enumerate(["0.3333", "0.3333", "0.3334"], start=1)
    )
    terms = loan(
        principal=cny("100"),
        annual_rate=Decimal(0),
        term=3,
        method=Method.MILESTONE,
        milestones=thirds,
    )
    principal = [i.principal.format() for i in build_schedule(terms).installments]
    assert principal == ["33.33", "33.33", "33.34"]


# --- interest ----------------------------------------------------------------------------------


def test_flat_interest_is_spread_evenly_with_the_remainder_first() -> None:
    """Flat 10% on 1000 for three months is 25.00: 8.34, 8.33, 8.33 (largest remainder)."""
    terms = loan(
        term=3,
        annual_rate=Decimal("0.10"),
        method=Method.EQUAL_PRINCIPAL,
        interest_method=InterestMethod.FLAT,
    )
    assert rows(build_schedule(terms)) == table(
        """
        1 2026-02-01 333.33 8.34 0.00 341.67 666.67
        2 2026-03-01 333.33 8.33 0.00 341.66 333.34
        3 2026-04-01 333.34 8.33 0.00 341.67 0.00
        """
    )


def test_broken_first_period_earns_interest_for_its_days() -> None:
    """First due on 1 March after a 10 January disbursement: 50 days, 1000 x 12% x 50/365 =
    16.44; the annuity is still that of the regular month, 1000 at 1% over 4 = 256.28."""
    terms = loan(start=date(2026, 1, 10), first_due=date(2026, 3, 1))
    assert rows(build_schedule(terms)) == table(
        """
        1 2026-03-01 239.84 16.44 0.00 256.28 760.16
        2 2026-04-01 248.68 7.60 0.00 256.28 511.48
        3 2026-05-01 251.17 5.11 0.00 256.28 260.31
        4 2026-06-01 260.31 2.60 0.00 262.91 0.00
        """
    )


def test_first_due_one_period_after_the_start_is_a_regular_period() -> None:
    regular = build_schedule(loan()).installments
    assert build_schedule(loan(first_due=date(2026, 2, 1))).installments == regular


def test_a_long_first_period_never_makes_principal_negative() -> None:
    """Six months at 1000% before the first due date earn more than the level installment:
    the first installment is all interest, never negative principal."""
    terms = loan(annual_rate=Decimal(10), first_due=date(2026, 7, 1), term=3)
    first = build_schedule(terms).installments[0]
    assert first.principal == cny("0")
    assert first.interest > cny("4900")


@pytest.mark.parametrize(("rounding", "interest"), [("half-even", "0.00"), ("half-up", "0.01")])
def test_an_exact_half_rounds_by_the_stated_rule(rounding: str, interest: str) -> None:
    """0.60 CNY at 10% for a month earns exactly half a fen (60 x 0.10 / 12 = 0.5): a rate
    rounded first (10% / 12 = 0.008333...) would make it 0.4999... and half-up would miss."""
    terms = loan(
        principal=cny("0.60"),
        annual_rate=Decimal("0.10"),
        method=Method.INTEREST_ONLY,
        rounding=Rounding(rounding),
    )
    assert build_schedule(terms).installments[0].interest == cny(interest)


@pytest.mark.parametrize(("rounding", "interest"), [("half-even", "0.00"), ("half-up", "0.01")])
def test_an_exact_half_of_daily_interest_rounds_by_the_stated_rule(
    rounding: str, interest: str
) -> None:
    """18.25 CNY at 10% for one day on ACT/365F is 1825 x 0.10 / 365 = 0.5 fen exactly."""
    terms = loan(
        principal=cny("18.25"),
        annual_rate=Decimal("0.10"),
        term=1,
        frequency=Frequency.every_days(1),
        method=Method.BULLET,
        daily_interest=True,
        rounding=Rounding(rounding),
    )
    assert build_schedule(terms).installments[0].interest == cny(interest)


@settings(deadline=None)
@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)),
    st.integers(min_value=0, max_value=3 * 366),
    st.sampled_from(list(DayCount)),
)
def test_exact_year_fractions_are_the_calendars(
    start: date, days: int, day_count: DayCount
) -> None:
    """The schedule keeps year fractions as exact ratios; they must be calendar.py's figures
    (to calendar.py's own rounding: it adds ACT/ACT's yearly parts as 28-digit Decimals)."""
    end = start + timedelta(days=days)
    ratio = _year_fraction(start, end, day_count)
    with localcontext(prec=28):
        exact = Decimal(ratio.numerator) / Decimal(ratio.denominator)
        assert abs(exact - year_fraction(start, end, day_count)) <= Decimal("1e-27")


@pytest.mark.parametrize(
    "frequency", [*NAMED_FREQUENCIES.values(), *map(Frequency.every_days, [1, 10, 21, 30])]
)
def test_exact_periods_per_year_are_the_calendars(frequency: Frequency) -> None:
    ratio = _periods_per_year(frequency)
    assert Decimal(ratio.numerator) / Decimal(ratio.denominator) == frequency.periods_per_year


@given(
    st.integers(min_value=0, max_value=10**30),
    st.integers(min_value=1, max_value=10**12),
    st.sampled_from(list(Rounding)),
)
def test_integer_division_rounds_like_decimal(
    numerator: int, denominator: int, rounding: Rounding
) -> None:
    with localcontext(prec=100):
        exact = Decimal(numerator) / Decimal(denominator)
    assert _DIVIDE[rounding](numerator, denominator) == int(round_decimal(exact, 0, rounding))


# --- grace and moratorium ----------------------------------------------------------------------


def test_principal_grace_then_equal_principal() -> None:
    """One month of interest only, then 1000 over the three months left."""
    terms = loan(method=Method.EQUAL_PRINCIPAL, grace_principal=1)
    assert rows(build_schedule(terms)) == table(
        """
        1 2026-02-01 0.00 10.00 0.00 10.00 1000.00
        2 2026-03-01 333.33 10.00 0.00 343.33 666.67
        3 2026-04-01 333.33 6.67 0.00 340.00 333.34
        4 2026-05-01 333.34 3.33 0.00 336.67 0.00
        """
    )


def test_interest_grace_capitalised() -> None:
    """The first month's 10.00 joins the balance (1010), which amortises over three months:
    1010 at 1% over 3 = 343.42; the principal repaid is 1010.00."""
    terms = loan(
        grace_principal=1, grace_interest=1, interest_grace_treatment=GraceTreatment.CAPITALISE
    )
    schedule = build_schedule(terms)
    assert rows(schedule) == table(
        """
        1 2026-02-01 0.00 0.00 0.00 0.00 1010.00
        2 2026-03-01 333.32 10.10 0.00 343.42 676.68
        3 2026-04-01 336.65 6.77 0.00 343.42 340.03
        4 2026-05-01 340.03 3.40 0.00 343.43 0.00
        """
    )
    assert schedule.capitalised_interest == cny("10")
    assert schedule.total_principal == cny("1010")


def test_interest_grace_spread_over_the_rest() -> None:
    """Two months' interest (20.00) is spread over the last two: 10.00 more in each."""
    terms = loan(
        grace_principal=2, grace_interest=2, interest_grace_treatment=GraceTreatment.SPREAD
    )
    assert rows(build_schedule(terms)) == table(
        """
        1 2026-02-01 0.00 0.00 0.00 0.00 1000.00
        2 2026-03-01 0.00 0.00 0.00 0.00 1000.00
        3 2026-04-01 497.51 20.00 0.00 517.51 502.49
        4 2026-05-01 502.49 15.02 0.00 517.51 0.00
        """
    )


def test_interest_grace_longer_than_principal_grace_recomputes_the_annuity() -> None:
    """Principal from the first month but interest capitalised for two months, so the level
    amount follows the grown balance: 256.28 on 1000 over four (principal 256.28 - 10.00),
    259.68 on 763.72 over three (principal 259.68 - 7.64), then 263.56 on 519.32 over two."""
    terms = loan(grace_interest=2, interest_grace_treatment=GraceTreatment.CAPITALISE)
    schedule = build_schedule(terms)
    assert rows(schedule) == table(
        """
        1 2026-02-01 246.28 0.00 0.00 246.28 763.72
        2 2026-03-01 252.04 0.00 0.00 252.04 519.32
        3 2026-04-01 258.37 5.19 0.00 263.56 260.95
        4 2026-05-01 260.95 2.61 0.00 263.56 0.00
        """
    )


def test_moratorium_capitalised_with_fees() -> None:
    """Two months with nothing due, not even the 5.00 fee; interest compounds to 1020.10,
    which amortises over the last four months at 261.43 plus the fee."""
    terms = loan(term=6, moratorium=2, installment_fee=cny("5"), upfront_fee=cny("20"))
    schedule = build_schedule(terms)
    assert rows(schedule) == table(
        """
        1 2026-02-01 0.00 0.00 0.00 0.00 1010.00
        2 2026-03-01 0.00 0.00 0.00 0.00 1020.10
        3 2026-04-01 251.23 10.20 5.00 266.43 768.87
        4 2026-05-01 253.74 7.69 5.00 266.43 515.13
        5 2026-06-01 256.28 5.15 5.00 266.43 258.85
        6 2026-07-01 258.85 2.59 5.00 266.44 0.00
        """
    )
    assert schedule.upfront_fee == cny("20")
    assert schedule.total_fee == cny("40")
    assert schedule.total_due == cny("1020.10") + cny("25.63") + cny("40")


def test_moratorium_spread() -> None:
    """The moratorium's 20.00 of interest is spread as 5.00 over the four months after it."""
    terms = loan(term=6, moratorium=2, moratorium_treatment=GraceTreatment.SPREAD)
    assert rows(build_schedule(terms)) == table(
        """
        1 2026-02-01 0.00 0.00 0.00 0.00 1000.00
        2 2026-03-01 0.00 0.00 0.00 0.00 1000.00
        3 2026-04-01 246.28 15.00 0.00 261.28 753.72
        4 2026-05-01 248.74 12.54 0.00 261.28 504.98
        5 2026-06-01 251.23 10.05 0.00 261.28 253.75
        6 2026-07-01 253.75 7.54 0.00 261.29 0.00
        """
    )


def test_moratorium_deferred_to_the_first_installment_after_it() -> None:
    terms = loan(term=6, moratorium=2, moratorium_treatment=GraceTreatment.DEFER)
    interest = [i.interest.format() for i in build_schedule(terms).installments]
    assert interest == ["0.00", "0.00", "30.00", "7.54", "5.05", "2.54"]


# --- rounding ----------------------------------------------------------------------------------


def test_installments_in_multiples_of_ten() -> None:
    """The annuity 256.28 becomes 260; the last installment absorbs the difference.

    Interest on 497.50 is 4.975, which half-even rounds to 4.98."""
    terms = loan(installment_multiple=cny("10"))
    assert rows(build_schedule(terms)) == table(
        """
        1 2026-02-01 250.00 10.00 0.00 260.00 750.00
        2 2026-03-01 252.50 7.50 0.00 260.00 497.50
        3 2026-04-01 255.02 4.98 0.00 260.00 242.48
        4 2026-05-01 242.48 2.42 0.00 244.90 0.00
        """
    )


@pytest.mark.parametrize(
    ("rounding", "level"), [(Rounding.HALF_EVEN, "200.00"), (Rounding.HALF_UP, "300.00")]
)
def test_the_rounding_mode_settles_a_level_installment_halfway_between_multiples(
    rounding: Rounding, level: str
) -> None:
    """1000 over four at 0% is 250, halfway between multiples of 100."""
    terms = loan(annual_rate=Decimal(0), installment_multiple=cny("100"), rounding=rounding)
    totals = [i.total.format() for i in build_schedule(terms).installments]
    assert totals[:3] == [level] * 3
    assert Money.sum([cny(total) for total in totals], "CNY") == cny("1000")


def test_currencies_without_and_with_three_minor_digits() -> None:
    yen = build_schedule(loan(principal=Money.of("100000", "JPY"), term=3))
    assert [i.total.format() for i in yen.installments] == ["34002", "34002", "34003"]
    dinar = build_schedule(loan(principal=Money.of("1000", "KWD"), term=3))
    assert [i.interest.format() for i in dinar.installments] == ["10.000", "6.700", "3.367"]


# --- dates -------------------------------------------------------------------------------------


def test_due_dates_count_from_the_anchor_so_month_ends_do_not_drift() -> None:
    """From 31 January: 28 February, then 31 March again (not 28 March)."""
    terms = loan(start=date(2026, 1, 31), term=3)
    dues = [i.due_date for i in build_schedule(terms).installments]
    assert dues == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


@pytest.mark.parametrize(("month_end", "days"), [(False, [30, 30, 30]), (True, [31, 30, 31])])
def test_month_end_rule_keeps_a_month_end_anchor_on_month_ends(
    month_end: bool, days: list[int]
) -> None:
    terms = loan(start=date(2026, 4, 30), term=3, month_end=month_end)
    assert [i.due_date.day for i in build_schedule(terms).installments] == days


def test_due_dates_step_from_the_first_due_date() -> None:
    terms = loan(start=date(2026, 1, 10), first_due=date(2026, 2, 28), month_end=True, term=3)
    dues = [i.due_date for i in build_schedule(terms).installments]
    assert dues == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_holidays_move_due_dates_and_daily_interest_follows_them() -> None:
    """China's National Day week (1-8 October 2025) moves the first due date to 9 October
    and Saturday 1 November to Monday 3 November: 38 days earn 12.49, then 25 days 4.15."""
    terms = loan(
        start=date(2025, 9, 1),
        term=2,
        daily_interest=True,
        holiday_calendar=HolidayCalendar("CN"),
        business_day=BusinessDayConvention.FOLLOWING,
    )
    schedule = build_schedule(terms)
    assert rows(schedule) == table(
        """
        1 2025-10-09 495.02 12.49 0.00 507.51 504.98
        2 2025-11-03 504.98 4.15 0.00 509.13 0.00
        """
    )
    assert schedule.installments[1].start_date == date(2025, 10, 9)


def test_without_daily_interest_adjusted_dates_keep_the_rate_per_period() -> None:
    terms = loan(
        start=date(2025, 9, 1),
        term=2,
        holiday_calendar=HolidayCalendar("CN"),
        business_day=BusinessDayConvention.FOLLOWING,
    )
    assert build_schedule(terms).installments[0].interest == cny("10")


@pytest.mark.parametrize(
    ("convention", "due"),
    [
        (BusinessDayConvention.UNADJUSTED, date(2025, 5, 31)),
        (BusinessDayConvention.FOLLOWING, date(2025, 6, 3)),
        (BusinessDayConvention.MODIFIED_FOLLOWING, date(2025, 5, 30)),
        (BusinessDayConvention.PRECEDING, date(2025, 5, 30)),
    ],
)
def test_business_day_conventions_on_the_dragon_boat_festival(
    convention: BusinessDayConvention, due: date
) -> None:
    """Saturday 31 May 2025 to Monday 2 June is a holiday in China."""
    terms = loan(
        start=date(2025, 3, 31),
        term=2,
        holiday_calendar=HolidayCalendar("CN"),
        business_day=convention,
    )
    assert build_schedule(terms).installments[1].due_date == due


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field", "problem"),
    [
        ({"principal": cny("0")}, "principal", "must be greater than zero, got 0.00"),
        ({"principal": cny("-5")}, "principal", "must be greater than zero, got -5.00"),
        ({"annual_rate": Decimal("10.01")}, "annual_rate", "between 0 and 10 (1000%)"),
        ({"annual_rate": Decimal("-0.01")}, "annual_rate", "between 0 and 10"),
        ({"annual_rate": 0.12}, "annual_rate", "must be a finite Decimal"),
        ({"term": 0}, "term", "must be between 1 and 10000 installments, got 0"),
        ({"term": 10_001}, "term", "must be between 1 and 10000 installments, got 10001"),
        ({"first_due": date(2026, 1, 1)}, "first_due", "must be after the start"),
        ({"grace_principal": 4}, "grace_principal", "less than the term (4), got 4"),
        ({"grace_interest": -1}, "grace_interest", "must not be negative"),
        ({"moratorium": 5}, "moratorium", "less than the term"),
        ({"method": Method.BULLET, "moratorium": 1}, "moratorium", "bullet"),
        ({"installment_multiple": cny("0")}, "installment_multiple", "greater than zero"),
        ({"upfront_fee": Money.of("1", "USD")}, "upfront_fee", "must be in CNY"),
        ({"installment_fee": cny("-1")}, "installment_fee", "must not be negative"),
        ({"method": Method.STEPPED}, "stepped_principal", "one amount per installment"),
        (
            {"method": Method.STEPPED, "stepped_principal": (cny("500"),) * 3 + (cny("400"),)},
            "stepped_principal",
            "sums to 1900.00, not the principal 1000.00",
        ),
        (
            {
                "method": Method.STEPPED,
                "grace_principal": 1,
                "stepped_principal": (cny("250"),) * 4,
            },
            "stepped_principal",
            "inside the principal grace",
        ),
        ({"stepped_principal": (cny("1000"),)}, "stepped_principal", "only for the stepped"),
        ({"method": Method.MILESTONE}, "milestones", "are needed"),
        (
            {"method": Method.MILESTONE, "milestones": PROJECT_MILESTONES[:1]},
            "milestones",
            "shares must sum to 1, got 0.3",
        ),
        (
            {"method": Method.MILESTONE, "milestones": PROJECT_MILESTONES[::-1]},
            "milestones",
            "date order",
        ),
        (
            {"method": Method.MILESTONE, "milestones": PROJECT_MILESTONES, "term": 4},
            "term",
            "must be 14 for these milestones",
        ),
        (
            {
                "method": Method.MILESTONE,
                "milestones": PROJECT_MILESTONES,
                "term": 14,
                "moratorium": 6,
            },
            "milestones",
            "inside the principal grace or moratorium",
        ),
        ({"business_day": BusinessDayConvention.FOLLOWING}, "business_day", "holiday calendar"),
        (
            {
                "start": date(2025, 9, 30),
                "first_due": date(2025, 10, 1),
                "holiday_calendar": HolidayCalendar("CN"),
                "business_day": BusinessDayConvention.PRECEDING,
            },
            "business_day",
            "rolls the first due date to 2025-09-30, not after the start",
        ),
    ],
)
def test_invalid_terms_name_the_field(options: dict[str, object], field: str, problem: str) -> None:
    with pytest.raises(InvalidTermsError) as raised:
        loan(**options)
    assert raised.value.field == field
    assert problem in raised.value.problem
    assert raised.value.message.startswith(f"{field} ")


@pytest.mark.parametrize("share", [Decimal(0), Decimal("1.1")])
def test_a_milestone_share_is_a_part_of_the_principal(share: Decimal) -> None:
    with pytest.raises(InvalidTermsError, match="share of 'done'"):
        Milestone("done", date(2026, 6, 1), share)


# --- properties --------------------------------------------------------------------------------

CAPITALISE = GraceTreatment.CAPITALISE


def capitalises(terms: LoanTerms, number: int) -> bool:
    """Whether installment ``number`` adds its interest to the balance."""
    if number <= terms.moratorium:
        return terms.moratorium_treatment is CAPITALISE
    return number <= terms.grace_interest and terms.interest_grace_treatment is CAPITALISE


@settings(deadline=None)
@given(loan_terms())
def test_principal_repays_the_loan_and_capitalised_interest_exactly(terms: LoanTerms) -> None:
    schedule = build_schedule(terms)
    previous = terms.principal
    capitalised = Money.zero(terms.principal.currency)
    for installment in schedule.installments:
        growth = installment.balance - (previous - installment.principal)
        if capitalises(terms, installment.number):
            assert installment.interest.minor == 0
            capitalised += growth
        else:
            assert growth.minor == 0
        previous = installment.balance
    assert schedule.installments[-1].balance.minor == 0
    assert schedule.capitalised_interest == capitalised
    assert schedule.total_principal == terms.principal + capitalised


@settings(deadline=None)
@given(loan_terms())
def test_no_amount_or_balance_is_ever_negative(terms: LoanTerms) -> None:
    schedule = build_schedule(terms)
    assert not schedule.upfront_fee.is_negative
    for installment in schedule.installments:
        for amount in (
            installment.principal,
            installment.interest,
            installment.fee,
            installment.balance,
        ):
            assert not amount.is_negative, installment


@settings(deadline=None)
@given(loan_terms())
def test_totals_are_the_sums_of_the_installments(terms: LoanTerms) -> None:
    schedule = build_schedule(terms)
    currency = terms.principal.currency
    installments = schedule.installments
    assert schedule.total_interest == Money.sum([i.interest for i in installments], currency)
    assert schedule.total_fee == schedule.upfront_fee + Money.sum(
        [i.fee for i in installments], currency
    )
    assert schedule.total_due == schedule.upfront_fee + Money.sum(
        [i.total for i in installments], currency
    )


@settings(deadline=None)
@given(loan_terms())
def test_the_timeline_runs_forward_from_the_disbursement(terms: LoanTerms) -> None:
    installments = build_schedule(terms).installments
    assert [i.number for i in installments] == list(range(1, len(installments) + 1))
    if terms.method is Method.BULLET:
        assert len(installments) == 1
    elif terms.method is not Method.MILESTONE:
        assert len(installments) == terms.term
    assert installments[0].start_date == terms.start
    assert installments[0].due_date > terms.start
    for before, after in itertools.pairwise(installments):
        assert after.start_date == before.due_date <= after.due_date


@settings(deadline=None)
@given(loan_terms(methods=st.just(Method.ANNUITY)))
def test_annuity_installments_are_level_without_grace_or_broken_periods(terms: LoanTerms) -> None:
    if terms.first_due or terms.daily_interest or terms.moratorium or terms.grace_interest:
        return
    schedule = build_schedule(terms)
    amortising = schedule.installments[terms.grace_principal : -1]
    # Leaving out installments whose principal was capped at zero or at the balance.
    levels = {
        i.principal + i.interest
        for i in amortising
        if i.principal.is_positive and i.balance.is_positive
    }
    assert len(levels) <= 1
