"""Tests of ``tenor.core.calendar``: day counts, frequencies, month arithmetic, business days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenor.core.calendar import (
    BusinessDayConvention,
    DayCount,
    Frequency,
    FrequencyUnit,
    HolidayCalendar,
    add_months,
    add_periods,
    day_count_days,
    year_fraction,
)
from tenor.core.errors import InvalidArgumentError

D = dt.date.fromisoformat

# --- Day counts -----------------------------------------------------------------------------


def test_day_counts_on_textbook_cases() -> None:
    """Each row: start, end -> (30/360 US, 30E/360, actual days)."""
    periods = [
        ("2024-02-29", "2024-08-31"),  # US: both ends treated as the 30th; 30E: only the 31st
        ("2023-02-28", "2023-08-31"),  # same, non-leap year
        ("2023-02-28", "2024-02-29"),  # US: February month end to February month end is 360
        ("2024-02-28", "2024-03-31"),  # 28 Feb is not the end of February in a leap year
        ("2023-01-31", "2023-02-28"),
        ("2023-08-31", "2023-09-30"),
        ("2023-01-30", "2023-03-31"),  # US: D2=31 becomes 30 because D1 is 30
        ("2023-01-15", "2023-03-31"),  # US: D2=31 stays because D1 is under 30
        ("2023-12-15", "2024-06-15"),
        ("2026-03-10", "2026-03-10"),
        ("2026-03-10", "2026-03-01"),  # a negative count: day_count_days does not refuse it
    ]
    table = [
        (
            day_count_days(D(start), D(end), DayCount.THIRTY_360_US),
            day_count_days(D(start), D(end), DayCount.THIRTY_E_360),
            day_count_days(D(start), D(end), DayCount.ACT_360),
        )
        for start, end in periods
    ]
    assert table == [
        (180, 181, 184),
        (180, 182, 184),
        (360, 361, 366),
        (33, 32, 32),
        (28, 28, 28),
        (30, 30, 30),
        (60, 60, 60),
        (76, 75, 75),
        (180, 180, 183),
        (0, 0, 0),
        (-9, -9, -9),
    ]
    # The three actual conventions count the same days; they differ only in the year length.
    for start, end in periods:
        assert {
            day_count_days(D(start), D(end), convention)
            for convention in (DayCount.ACT_360, DayCount.ACT_365F, DayCount.ACT_ACT_ISDA)
        } == {(D(end) - D(start)).days}


def test_year_fractions() -> None:
    cases = [
        ("2026-01-01", "2026-04-01", DayCount.ACT_360),  # 90 days
        ("2026-01-01", "2026-03-15", DayCount.ACT_365F),  # 73 days
        ("2024-01-01", "2025-01-01", DayCount.ACT_365F),  # a leap year is 366/365
        ("2024-02-29", "2024-08-31", DayCount.THIRTY_360_US),
        ("2024-02-29", "2024-08-31", DayCount.THIRTY_E_360),
        ("2024-01-01", "2025-01-01", DayCount.ACT_ACT_ISDA),
        ("2023-01-01", "2024-01-01", DayCount.ACT_ACT_ISDA),
        ("2026-05-05", "2026-05-05", DayCount.ACT_ACT_ISDA),
    ]
    assert [year_fraction(D(start), D(end), convention) for start, end, convention in cases] == [
        Decimal("0.25"),
        Decimal("0.2"),
        Decimal(366) / Decimal(365),
        Decimal("0.5"),
        Decimal(181) / Decimal(360),
        Decimal(1),
        Decimal(1),
        Decimal(0),
    ]


def test_act_act_isda_splits_the_period_at_the_year_boundary() -> None:
    # 17 days of 2023 (365 days long) and 166 days of 2024 (366 days long).
    fraction = year_fraction(D("2023-12-15"), D("2024-06-15"), DayCount.ACT_ACT_ISDA)
    assert fraction == Decimal(17) / Decimal(365) + Decimal(166) / Decimal(366)
    assert abs(Fraction(fraction) - (Fraction(17, 365) + Fraction(166, 366))) < Fraction(1, 10**25)
    # Not the same as counting every day over one year's length.
    assert fraction != Decimal(183) / Decimal(365)
    assert fraction != Decimal(183) / Decimal(366)
    # Two years and more, starting mid-year.
    fraction = year_fraction(D("2023-07-01"), D("2025-07-01"), DayCount.ACT_ACT_ISDA)
    exact = Fraction(184, 365) + 1 + Fraction(181, 365)
    assert abs(Fraction(fraction) - exact) < Fraction(1, 10**25)


@pytest.mark.parametrize("convention", list(DayCount))
def test_year_fraction_refuses_an_end_before_the_start(convention: DayCount) -> None:
    with pytest.raises(InvalidArgumentError, match="before its start"):
        year_fraction(D("2026-03-10"), D("2026-03-09"), convention)


def test_day_count_names() -> None:
    assert [DayCount(name) for name in ("30/360", "30E/360", "ACT/360", "ACT/365F", "ACT/ACT")] == [
        DayCount.THIRTY_360_US,
        DayCount.THIRTY_E_360,
        DayCount.ACT_360,
        DayCount.ACT_365F,
        DayCount.ACT_ACT_ISDA,
    ]


# --- Frequencies ----------------------------------------------------------------------------


def test_parse_frequency_names() -> None:
    names = [
        "weekly",
        "Biweekly",
        " MONTHLY ",
        "quarterly",
        "semi-annual",
        "semi_annual",
        "annual",
        "every-10-days",
        "Every_30_Days",
        "every-7-days",
        "every-007-days",
    ]
    assert [Frequency.parse(name) for name in names] == [
        Frequency(FrequencyUnit.DAY, 7),
        Frequency(FrequencyUnit.DAY, 14),
        Frequency(FrequencyUnit.MONTH, 1),
        Frequency(FrequencyUnit.MONTH, 3),
        Frequency(FrequencyUnit.MONTH, 6),
        Frequency(FrequencyUnit.MONTH, 6),
        Frequency(FrequencyUnit.MONTH, 12),
        Frequency.every_days(10),
        Frequency.every_days(30),
        Frequency.every_days(7),
        Frequency.every_days(7),
    ]
    assert [Frequency.parse(name).name for name in names] == [
        "weekly",
        "biweekly",
        "monthly",
        "quarterly",
        "semi-annual",
        "semi-annual",
        "annual",
        "every-10-days",
        "every-30-days",
        "weekly",
        "weekly",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "",
        "daily",
        "month",
        "every-0-days",
        "every--3-days",
        "every-x-days",
        "every-3.5-days",
        "every-3-months",
        "every-days",
        "every-\u00b2-days",  # a superscript two: str.isdigit() says yes, int() says no
        "every-\u0663-days",  # an Arabic-Indic three
    ],
)
def test_parse_refuses_unknown_frequencies(name: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        Frequency.parse(name)
    assert caught.value.code == "invalid_argument"
    assert repr(name) in caught.value.message
    assert "monthly" in caught.value.message
    assert "every-N-days" in caught.value.message


@pytest.mark.parametrize("count", [0, -1])
def test_frequency_steps_at_least_one(count: int) -> None:
    with pytest.raises(InvalidArgumentError):
        Frequency.every_days(count)
    with pytest.raises(InvalidArgumentError):
        Frequency.every_months(count)


def test_periods_per_year() -> None:
    names = ["weekly", "biweekly", "monthly", "quarterly", "semi-annual", "annual"]
    assert {name: Frequency.parse(name).periods_per_year for name in names} == {
        "weekly": Decimal(52),
        "biweekly": Decimal(26),
        "monthly": Decimal(12),
        "quarterly": Decimal(4),
        "semi-annual": Decimal(2),
        "annual": Decimal(1),
    }
    assert [
        Frequency.every_days(28).periods_per_year,
        Frequency.every_days(10).periods_per_year,
        Frequency.every_days(30).periods_per_year,
        Frequency.every_months(5).periods_per_year,
    ] == [Decimal(13), Decimal("36.5"), Decimal(365) / Decimal(30), Decimal("2.4")]


@given(st.integers(min_value=1, max_value=10_000))
def test_every_n_days_round_trips_through_its_name(days: int) -> None:
    frequency = Frequency.every_days(days)
    assert Frequency.parse(frequency.name) == frequency


# --- Month arithmetic -----------------------------------------------------------------------


def test_add_months_counts_from_the_anchor() -> None:
    """31 Jan -> 28/29 Feb -> 31 Mar: never stepping from the clamped date."""
    assert [add_months(D("2023-01-31"), n) for n in range(6)] == [
        D("2023-01-31"),
        D("2023-02-28"),
        D("2023-03-31"),
        D("2023-04-30"),
        D("2023-05-31"),
        D("2023-06-30"),
    ]
    assert [add_months(D("2024-01-31"), n) for n in range(1, 4)] == [
        D("2024-02-29"),
        D("2024-03-31"),
        D("2024-04-30"),
    ]
    # Stepping month by month from the clamped date would lose the 31st for good.
    assert add_months(add_months(D("2023-01-31"), 1), 1) == D("2023-03-28")


def test_add_months_across_years_and_backwards() -> None:
    cases = [
        ("2023-11-30", 3),
        ("2023-12-31", 1),
        ("2024-01-15", -1),
        ("2023-03-31", -1),
        ("2024-02-29", 12),
        ("2024-02-29", -12),
        ("2024-02-29", 48),
        ("2026-01-15", -25),
        ("2026-01-15", 120),
    ]
    assert [add_months(D(anchor), months) for anchor, months in cases] == [
        D("2024-02-29"),
        D("2024-01-31"),
        D("2023-12-15"),
        D("2023-02-28"),
        D("2025-02-28"),
        D("2023-02-28"),
        D("2028-02-29"),
        D("2023-12-15"),
        D("2036-01-15"),
    ]


def test_add_months_month_end_keeps_month_end_anchors_on_month_ends() -> None:
    cases = [
        ("2026-04-30", 1),  # 30 Apr is April's last day: 31 May with month_end
        ("2023-02-28", 1),
        ("2024-02-29", 1),
        ("2024-02-28", 1),  # not a month end in a leap year: month_end changes nothing
        ("2026-04-30", 10),
        ("2026-04-15", 1),
        ("2023-01-31", 1),
    ]
    assert [
        (add_months(D(anchor), n), add_months(D(anchor), n, month_end=True)) for anchor, n in cases
    ] == [
        (D("2026-05-30"), D("2026-05-31")),
        (D("2023-03-28"), D("2023-03-31")),
        (D("2024-03-29"), D("2024-03-31")),
        (D("2024-03-28"), D("2024-03-28")),
        (D("2027-02-28"), D("2027-02-28")),
        (D("2026-05-15"), D("2026-05-15")),
        (D("2023-02-28"), D("2023-02-28")),
    ]
    assert [add_months(D("2026-04-30"), n, month_end=True) for n in range(1, 5)] == [
        D("2026-05-31"),
        D("2026-06-30"),
        D("2026-07-31"),
        D("2026-08-31"),
    ]


@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)),
    st.integers(min_value=-600, max_value=600),
)
def test_add_months_lands_in_the_right_month_never_past_the_anchor_day(
    anchor: dt.date, months: int
) -> None:
    moved = add_months(anchor, months)
    assert (moved.year * 12 + moved.month) - (anchor.year * 12 + anchor.month) == months
    assert moved.day <= anchor.day
    # Only a clamped date differs from the anchor's day, and it is its month's last day.
    assert moved.day == anchor.day or (moved + dt.timedelta(days=1)).month != moved.month


def test_add_periods() -> None:
    weekly, biweekly = Frequency.parse("weekly"), Frequency.parse("biweekly")
    quarterly = Frequency.parse("quarterly")
    anchor = D("2026-01-01")
    assert [add_periods(anchor, weekly, n) for n in range(4)] == [
        D("2026-01-01"),
        D("2026-01-08"),
        D("2026-01-15"),
        D("2026-01-22"),
    ]
    assert [add_periods(anchor, biweekly, n) for n in range(1, 4)] == [
        D("2026-01-15"),
        D("2026-01-29"),
        D("2026-02-12"),
    ]
    assert [
        add_periods(D("2025-12-25"), biweekly, 1),
        add_periods(anchor, weekly, -1),
        add_periods(anchor, Frequency.every_days(10), 3),
        add_periods(D("2024-02-29"), weekly, 1, month_end=True),  # month_end is for months only
    ] == [D("2026-01-08"), D("2025-12-25"), D("2026-01-31"), D("2024-03-07")]
    assert [
        (
            add_periods(D("2025-11-30"), quarterly, n),
            add_periods(D("2025-11-30"), quarterly, n, month_end=True),
        )
        for n in (1, 2)
    ] == [(D("2026-02-28"), D("2026-02-28")), (D("2026-05-30"), D("2026-05-31"))]
    assert add_periods(D("2023-01-31"), Frequency.parse("monthly"), 2) == D("2023-03-31")


# --- Business days --------------------------------------------------------------------------


def adjustments(calendar: HolidayCalendar, day: str) -> dict[str, str]:
    """``day`` rolled by every convention, as ISO dates keyed by convention name."""
    return {
        convention.value: calendar.adjust(D(day), convention).isoformat()
        for convention in BusinessDayConvention
    }


def test_china_national_day_rolls_past_golden_week() -> None:
    assert adjustments(HolidayCalendar("CN"), "2026-10-01") == {
        "unadjusted": "2026-10-01",
        "following": "2026-10-08",
        "modified-following": "2026-10-08",
        "preceding": "2026-09-30",
    }


def test_china_make_up_working_days() -> None:
    cn = HolidayCalendar("CN")
    days = ["2026-02-14", "2026-02-15", "2026-02-21", "2026-02-24", "2026-02-28", "2026-03-07"]
    # 14 and 28 Feb are make-up working Saturdays; 15-23 Feb is the Spring Festival holiday.
    assert {day: cn.is_business_day(D(day)) for day in days} == {
        "2026-02-14": True,
        "2026-02-15": False,
        "2026-02-21": False,
        "2026-02-24": True,
        "2026-02-28": True,
        "2026-03-07": False,
    }
    assert adjustments(cn, "2026-02-14") == dict.fromkeys(
        ("unadjusted", "following", "modified-following", "preceding"), "2026-02-14"
    )
    # Preceding from the first day of Spring Festival lands on the make-up Saturday.
    assert adjustments(cn, "2026-02-15") == {
        "unadjusted": "2026-02-15",
        "following": "2026-02-24",
        "modified-following": "2026-02-24",
        "preceding": "2026-02-14",
    }


def test_us_observed_independence_day() -> None:
    us = HolidayCalendar("US")
    days = ["2026-07-02", "2026-07-03", "2026-07-04", "2026-07-06"]
    assert {day: us.is_business_day(D(day)) for day in days} == {
        "2026-07-02": True,
        "2026-07-03": False,  # Saturday 4 July is observed on Friday
        "2026-07-04": False,
        "2026-07-06": True,
    }
    assert adjustments(us, "2026-07-03") == {
        "unadjusted": "2026-07-03",
        "following": "2026-07-06",
        "modified-following": "2026-07-06",
        "preceding": "2026-07-02",
    }


def test_modified_following_does_not_cross_the_month_end() -> None:
    # Sunday 31 May 2026: following is Monday 1 June, so modified following goes back.
    assert adjustments(HolidayCalendar("US"), "2026-05-31") == {
        "unadjusted": "2026-05-31",
        "following": "2026-06-01",
        "modified-following": "2026-05-29",
        "preceding": "2026-05-29",
    }
    # New Year's Day 2028 (a Saturday) is observed on Friday 31 December 2027: the roll crosses
    # both a month and a year and reads the next year's calendar.
    assert adjustments(HolidayCalendar("US"), "2027-12-31") == {
        "unadjusted": "2027-12-31",
        "following": "2028-01-03",
        "modified-following": "2027-12-30",
        "preceding": "2027-12-30",
    }
    assert adjustments(HolidayCalendar("CN"), "2026-01-31") == {
        "unadjusted": "2026-01-31",
        "following": "2026-02-02",
        "modified-following": "2026-01-30",
        "preceding": "2026-01-30",
    }


def test_a_business_day_never_moves() -> None:
    us = HolidayCalendar("US")
    assert us.is_business_day(D("2026-06-10"))
    assert set(adjustments(us, "2026-06-10").values()) == {"2026-06-10"}


@pytest.mark.parametrize("country", ["XX", "cn", "", "China"])
def test_unknown_country_has_no_calendar(country: str) -> None:
    with pytest.raises(InvalidArgumentError, match="no holiday calendar"):
        HolidayCalendar(country)


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)))
def test_adjusted_dates_are_business_days(day: dt.date) -> None:
    cn = HolidayCalendar("CN")
    following = cn.adjust(day, BusinessDayConvention.FOLLOWING)
    preceding = cn.adjust(day, BusinessDayConvention.PRECEDING)
    modified = cn.adjust(day, BusinessDayConvention.MODIFIED_FOLLOWING)
    assert cn.is_business_day(following)
    assert cn.is_business_day(preceding)
    assert preceding <= day <= following
    assert modified in (following, preceding)
    assert modified.month == day.month
