"""Dates for loans: day-count conventions, payment frequencies and business-day rolling.

Holiday calendars come from the ``holidays`` package, which computes them without I/O; a
calendar also knows a country's make-up working days (China's 调休 Saturdays).
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

import holidays

from tenor.core.errors import InvalidArgumentError


class DayCount(StrEnum):
    """Day-count conventions, named as a lender's term sheet names them."""

    THIRTY_360_US = "30/360"
    THIRTY_E_360 = "30E/360"
    ACT_360 = "ACT/360"
    ACT_365F = "ACT/365F"
    ACT_ACT_ISDA = "ACT/ACT"


def _is_last_day_of_february(day: dt.date) -> bool:
    return day.month == 2 and day.day == _stdlib_calendar.monthrange(day.year, 2)[1]


def day_count_days(start: dt.date, end: dt.date, convention: DayCount) -> int:
    """The days between ``start`` and ``end`` as ``convention`` counts them."""
    if convention in (DayCount.ACT_360, DayCount.ACT_365F, DayCount.ACT_ACT_ISDA):
        return (end - start).days
    d1, d2 = start.day, end.day
    if convention is DayCount.THIRTY_360_US:
        # The US (NASD / bond basis) rule, including its end-of-February adjustments.
        if _is_last_day_of_february(start):
            if _is_last_day_of_february(end):
                d2 = 30
            d1 = 30
        if d2 == 31 and d1 >= 30:
            d2 = 30
        if d1 == 31:
            d1 = 30
    else:
        d1, d2 = min(d1, 30), min(d2, 30)
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def year_fraction(start: dt.date, end: dt.date, convention: DayCount) -> Decimal:
    """The fraction of a year from ``start`` to ``end`` under ``convention``, exactly."""
    if end < start:
        raise InvalidArgumentError(f"period end {end} is before its start {start}")
    if convention is DayCount.ACT_365F:
        return Decimal(day_count_days(start, end, convention)) / Decimal(365)
    if convention is DayCount.ACT_ACT_ISDA:
        # Days in each calendar year over that year's length.
        fraction = Decimal(0)
        cursor = start
        while cursor < end:
            next_year = dt.date(cursor.year + 1, 1, 1)
            stop = min(end, next_year)
            year_length = 366 if _stdlib_calendar.isleap(cursor.year) else 365
            fraction += Decimal((stop - cursor).days) / Decimal(year_length)
            cursor = stop
        return fraction
    return Decimal(day_count_days(start, end, convention)) / Decimal(360)


class FrequencyUnit(StrEnum):
    """The unit a payment frequency steps in."""

    DAY = "day"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Frequency:
    """How often installments fall due: every ``count`` days or months."""

    unit: FrequencyUnit
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise InvalidArgumentError(f"a frequency must step at least 1 {self.unit}")

    @classmethod
    def every_days(cls, days: int) -> Frequency:
        """Every ``days`` days (7 is weekly, 14 biweekly)."""
        return cls(FrequencyUnit.DAY, days)

    @classmethod
    def every_months(cls, months: int) -> Frequency:
        """Every ``months`` months (1 monthly, 3 quarterly, 12 annual)."""
        return cls(FrequencyUnit.MONTH, months)

    @classmethod
    def parse(cls, name: str) -> Frequency:
        """A frequency from its name, or ``every-N-days``; raises on anything else."""
        key = name.strip().lower().replace("_", "-")
        if key in NAMED_FREQUENCIES:
            return NAMED_FREQUENCIES[key]
        if key.startswith("every-") and key.endswith("-days"):
            number = key.removeprefix("every-").removesuffix("-days")
            if number.isascii() and number.isdigit() and int(number) > 0:
                return cls.every_days(int(number))
        names = ", ".join([*NAMED_FREQUENCIES, "every-N-days"])
        raise InvalidArgumentError(f"unknown frequency {name!r}; use one of {names}")

    @property
    def periods_per_year(self) -> Decimal:
        """Installments a year: 12 for monthly, 52 for weekly, 365/N for every N days."""
        if self.unit is FrequencyUnit.MONTH:
            return Decimal(12) / Decimal(self.count)
        if self.count % 7 == 0:
            return Decimal(52) / Decimal(self.count // 7)
        return Decimal(365) / Decimal(self.count)

    @property
    def name(self) -> str:
        """The frequency's name, as :meth:`parse` accepts it."""
        for name, frequency in NAMED_FREQUENCIES.items():
            if frequency == self:
                return name
        return f"every-{self.count}-days"


NAMED_FREQUENCIES: dict[str, Frequency] = {
    "weekly": Frequency(FrequencyUnit.DAY, 7),
    "biweekly": Frequency(FrequencyUnit.DAY, 14),
    "monthly": Frequency(FrequencyUnit.MONTH, 1),
    "quarterly": Frequency(FrequencyUnit.MONTH, 3),
    "semi-annual": Frequency(FrequencyUnit.MONTH, 6),
    "annual": Frequency(FrequencyUnit.MONTH, 12),
}


def add_months(anchor: dt.date, months: int, *, month_end: bool = False) -> dt.date:
    """``anchor`` moved by ``months``, clamped to the month's last day.

    Counting always from the anchor (never step by step) is the end-of-month rule: a loan
    started on 31 January falls due on 28/29 February and then on 31 March. With
    ``month_end`` an anchor on a month's last day keeps every date on a month's last day.
    """
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(index, 12)
    last = _stdlib_calendar.monthrange(year, month + 1)[1]
    anchor_is_month_end = anchor.day == _stdlib_calendar.monthrange(anchor.year, anchor.month)[1]
    day = last if month_end and anchor_is_month_end else min(anchor.day, last)
    return dt.date(year, month + 1, day)


def add_periods(
    anchor: dt.date, frequency: Frequency, periods: int, *, month_end: bool = False
) -> dt.date:
    """The date ``periods`` steps of ``frequency`` after ``anchor``."""
    if frequency.unit is FrequencyUnit.DAY:
        return anchor + dt.timedelta(days=frequency.count * periods)
    return add_months(anchor, frequency.count * periods, month_end=month_end)


class BusinessDayConvention(StrEnum):
    """How a due date that falls on a holiday moves."""

    UNADJUSTED = "unadjusted"
    FOLLOWING = "following"
    MODIFIED_FOLLOWING = "modified-following"
    PRECEDING = "preceding"


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    """Working days of one country (weekends, public holidays and make-up working days)."""

    country: str

    def __post_init__(self) -> None:
        if self.country not in holidays.list_supported_countries():
            raise InvalidArgumentError(f"no holiday calendar for country {self.country!r}")

    def is_business_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day in this country."""
        return bool(_country_holidays(self.country, day.year).is_working_day(day))

    def adjust(self, day: dt.date, convention: BusinessDayConvention) -> dt.date:
        """``day`` rolled to a business day by ``convention``."""
        if convention is BusinessDayConvention.UNADJUSTED or self.is_business_day(day):
            return day
        if convention is BusinessDayConvention.PRECEDING:
            return self._roll(day, -1)
        following = self._roll(day, 1)
        if convention is BusinessDayConvention.MODIFIED_FOLLOWING and following.month != day.month:
            return self._roll(day, -1)
        return following

    def _roll(self, day: dt.date, step: int) -> dt.date:
        cursor = day + dt.timedelta(days=step)
        while not self.is_business_day(cursor):
            cursor += dt.timedelta(days=step)
        return cursor


@lru_cache(maxsize=256)
def _country_holidays(country: str, year: int) -> holidays.HolidayBase:
    # Each country-year is computed once; holidays builds them from rules, not files.
    return holidays.country_holidays(country, years=year)
