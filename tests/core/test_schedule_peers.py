"""Schedules checked against peers: numpy-financial's formulas and Apache Fineract's tables."""

from __future__ import annotations

import itertools
import math
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import numpy_financial as npf
import pytest

from tenor.core.calendar import Frequency
from tenor.core.money import Money
from tenor.core.schedule import (
    InterestMethod,
    LoanTerms,
    Method,
    Schedule,
    build_schedule,
)

# --- numpy-financial ---------------------------------------------------------------------------
#
# numpy-financial computes the textbook annuity in floats without rounding: payment A* =
# pmt(r, n, P), and interest and principal parts ipmt/ppmt of the exact schedule. Tenor rounds
# the installment to the cent (A = round(A*), |A - A*| <= 1/2 unit) and each period's interest
# on its own rounded balance (I_k = B_{k-1} r + e_k, |e_k| <= 1/2 unit). The balance gap
# d_k = B_k - B*_k then follows d_k = (1 + r) d_{k-1} - (A - A*) + e_k, so
#     |d_k| <= u ((1 + r)^k - 1) / r                                 (u = one minor unit)
# and, comparing with numpy's values rounded to the cent (another 1/2 unit at most),
#     |I_k - round(I*_k)| <= u (1 + r)^(k-1)          -> floor((1 + r)^(k-1)) units
#     |P_k - round(P*_k)| <= u ((1 + r)^(k-1) + 1/2)  -> floor((1 + r)^(k-1) + 1/2) units.
# While (1 + r)^(k-1) < 1.5, which covers ordinary consumer loans (12% over 3 years), both are
# at most one minor unit; long loans at high rates genuinely drift further, and the bound says
# by how much. The installment amount itself must agree exactly. The last installment takes
# the remaining balance instead, |last - A| <= (1 + r) |d_(n-1)| + u.

PRINCIPALS = ["1000", "5000", "12345.67", "250000", "1000000"]
ANNUAL_RATES = ["0", "0.01", "0.05", "0.12", "0.18", "0.24", "0.36"]
TERMS = [1, 2, 3, 6, 12, 18, 24, 36, 60]
FREQUENCIES = {
    "monthly": Frequency.every_months(1),
    "quarterly": Frequency.every_months(3),
    "weekly": Frequency.every_days(7),
}


def _units(value: float) -> int:
    """A float from numpy rounded half-even to whole cents, through its shortest repr."""
    return int((Decimal(repr(float(value))) * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@pytest.mark.parametrize("frequency", FREQUENCIES)
@pytest.mark.parametrize("annual_rate", ANNUAL_RATES)
def test_annuity_agrees_with_numpy_financial(frequency: str, annual_rate: str) -> None:
    for principal, term in itertools.product(PRINCIPALS, TERMS):
        terms = LoanTerms(
            principal=Money.of(principal, "USD"),
            annual_rate=Decimal(annual_rate),
            term=term,
            frequency=FREQUENCIES[frequency],
            start=date(2024, 1, 15),
        )
        schedule = build_schedule(terms)
        rate = Decimal(annual_rate) / FREQUENCIES[frequency].periods_per_year
        # The oracle is float by nature; only its rounded cents are compared.
        r, p = float(rate), float(principal)
        case = f"{principal} at {annual_rate} {frequency} over {term}"
        # numpy evaluates both branches of its rate == 0 special case; the other one warns.
        with np.errstate(divide="ignore", invalid="ignore"):
            payment = _units(-npf.pmt(r, term, p))
            interest = [_units(-npf.ipmt(r, k, term, p)) for k in range(1, term + 1)]
            principal_part = [_units(-npf.ppmt(r, k, term, p)) for k in range(1, term + 1)]

        *regular, last = schedule.installments
        for installment in regular:
            k = installment.number
            growth = (1 + rate) ** (k - 1)
            assert installment.total.minor == payment, case
            assert abs(installment.interest.minor - interest[k - 1]) <= math.floor(growth), case
            assert abs(installment.principal.minor - principal_part[k - 1]) <= math.floor(
                growth + Decimal("0.5")
            ), case

        previous_balance = regular[-1].balance if regular else terms.principal
        assert last.principal == previous_balance, case
        drift = term - 1 if rate == 0 else ((1 + rate) ** (term - 1) - 1) / rate
        assert abs(last.total.minor - payment) <= (1 + rate) * drift + 1, case


def test_tolerance_is_one_unit_for_ordinary_loans() -> None:
    """The bound above is at most one cent for 12% a year over 36 months."""
    assert math.floor((1 + Decimal("0.01")) ** 35 + Decimal("0.5")) == 1


# --- Apache Fineract ---------------------------------------------------------------------------
#
# Fineract's end-to-end suite (apache/fineract, fineract-e2e-tests-runner/src/test/resources/
# features/Loan.feature, scenarios RS01-RS07, TestRail C2490-C2497) publishes whole schedules for
# one loan: 5000 disbursed on 1 November 2022 at 12% a year, 18 monthly installments, interest
# at the rate per period (1% a month) unless daily, installments in multiples of 1, half-even.
# The tables below are those schedules: number, due date, principal, interest, total, balance.


def fineract_loan(**options: object) -> LoanTerms:
    """The loan of Fineract's RS scenarios, with the scenario's own options."""
    return LoanTerms(
        principal=Money.of("5000", "EUR"),
        annual_rate=Decimal("0.12"),
        term=18,
        frequency=Frequency.every_months(1),
        start=date(2022, 11, 1),
        installment_multiple=Money.of("1", "EUR"),
        **options,  # type: ignore[arg-type]
    )


def render(schedule: Schedule) -> list[str]:
    """A schedule as the rows of Fineract's tables, and its totals."""
    rows = [
        f"{i.number:>2} {i.due_date} {i.principal.format():>7} {i.interest.format():>6}"
        f" {i.total.format():>6} {i.balance.format():>7}"
        for i in schedule.installments
    ]
    rows.append(
        f"total principal {schedule.total_principal.format()}"
        f" interest {schedule.total_interest.format()} due {schedule.total_due.format()}"
    )
    return table("\n".join(rows))


def table(text: str) -> list[str]:
    """The non-empty rows of ``text``, with runs of spaces made one: alignment is cosmetic."""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def test_fineract_rs01_flat_equal_installments() -> None:
    """Flat 900 of interest is 50 a month; (5000 + 900) / 18 = 327.78 rounds to 328."""
    schedule = build_schedule(fineract_loan(interest_method=InterestMethod.FLAT))
    assert render(schedule) == table(
        """
         1 2022-12-01  278.00  50.00 328.00 4722.00
         2 2023-01-01  278.00  50.00 328.00 4444.00
         3 2023-02-01  278.00  50.00 328.00 4166.00
         4 2023-03-01  278.00  50.00 328.00 3888.00
         5 2023-04-01  278.00  50.00 328.00 3610.00
         6 2023-05-01  278.00  50.00 328.00 3332.00
         7 2023-06-01  278.00  50.00 328.00 3054.00
         8 2023-07-01  278.00  50.00 328.00 2776.00
         9 2023-08-01  278.00  50.00 328.00 2498.00
        10 2023-09-01  278.00  50.00 328.00 2220.00
        11 2023-10-01  278.00  50.00 328.00 1942.00
        12 2023-11-01  278.00  50.00 328.00 1664.00
        13 2023-12-01  278.00  50.00 328.00 1386.00
        14 2024-01-01  278.00  50.00 328.00 1108.00
        15 2024-02-01  278.00  50.00 328.00  830.00
        16 2024-03-01  278.00  50.00 328.00  552.00
        17 2024-04-01  278.00  50.00 328.00  274.00
        18 2024-05-01  274.00  50.00 324.00    0.00
        total principal 5000.00 interest 900.00 due 5900.00
        """
    )


def test_fineract_rs02_declining_equal_installments() -> None:
    """The annuity 304.91 rounds to 305: 255.00 principal and 50.00 interest first."""
    assert render(build_schedule(fineract_loan())) == table(
        """
         1 2022-12-01  255.00  50.00 305.00 4745.00
         2 2023-01-01  257.55  47.45 305.00 4487.45
         3 2023-02-01  260.13  44.87 305.00 4227.32
         4 2023-03-01  262.73  42.27 305.00 3964.59
         5 2023-04-01  265.35  39.65 305.00 3699.24
         6 2023-05-01  268.01  36.99 305.00 3431.23
         7 2023-06-01  270.69  34.31 305.00 3160.54
         8 2023-07-01  273.39  31.61 305.00 2887.15
         9 2023-08-01  276.13  28.87 305.00 2611.02
        10 2023-09-01  278.89  26.11 305.00 2332.13
        11 2023-10-01  281.68  23.32 305.00 2050.45
        12 2023-11-01  284.50  20.50 305.00 1765.95
        13 2023-12-01  287.34  17.66 305.00 1478.61
        14 2024-01-01  290.21  14.79 305.00 1188.40
        15 2024-02-01  293.12  11.88 305.00  895.28
        16 2024-03-01  296.05   8.95 305.00  599.23
        17 2024-04-01  299.01   5.99 305.00  300.22
        18 2024-05-01  300.22   3.00 303.22    0.00
        total principal 5000.00 interest 488.22 due 5488.22
        """
    )


def test_fineract_rs03_daily_interest() -> None:
    """Interest by the day, ACT/365 (49.32 for November's 30 days); the annuity stays 305."""
    assert render(build_schedule(fineract_loan(daily_interest=True))) == table(
        """
         1 2022-12-01  255.68  49.32 305.00 4744.32
         2 2023-01-01  256.65  48.35 305.00 4487.67
         3 2023-02-01  259.26  45.74 305.00 4228.41
         4 2023-03-01  266.08  38.92 305.00 3962.33
         5 2023-04-01  264.62  40.38 305.00 3697.71
         6 2023-05-01  268.53  36.47 305.00 3429.18
         7 2023-06-01  270.05  34.95 305.00 3159.13
         8 2023-07-01  273.84  31.16 305.00 2885.29
         9 2023-08-01  275.59  29.41 305.00 2609.70
        10 2023-09-01  278.40  26.60 305.00 2331.30
        11 2023-10-01  282.01  22.99 305.00 2049.29
        12 2023-11-01  284.11  20.89 305.00 1765.18
        13 2023-12-01  287.59  17.41 305.00 1477.59
        14 2024-01-01  289.94  15.06 305.00 1187.65
        15 2024-02-01  292.90  12.10 305.00  894.75
        16 2024-03-01  296.47   8.53 305.00  598.28
        17 2024-04-01  298.90   6.10 305.00  299.38
        18 2024-05-01  299.38   2.95 302.33    0.00
        total principal 5000.00 interest 487.33 due 5487.33
        """
    )


def test_fineract_rs04_equal_principal() -> None:
    """5000 / 18 = 277.78 a month, the last 277.74; the multiple rounds only annuities."""
    assert render(build_schedule(fineract_loan(method=Method.EQUAL_PRINCIPAL))) == table(
        """
         1 2022-12-01  277.78  50.00 327.78 4722.22
         2 2023-01-01  277.78  47.22 325.00 4444.44
         3 2023-02-01  277.78  44.44 322.22 4166.66
         4 2023-03-01  277.78  41.67 319.45 3888.88
         5 2023-04-01  277.78  38.89 316.67 3611.10
         6 2023-05-01  277.78  36.11 313.89 3333.32
         7 2023-06-01  277.78  33.33 311.11 3055.54
         8 2023-07-01  277.78  30.56 308.34 2777.76
         9 2023-08-01  277.78  27.78 305.56 2499.98
        10 2023-09-01  277.78  25.00 302.78 2222.20
        11 2023-10-01  277.78  22.22 300.00 1944.42
        12 2023-11-01  277.78  19.44 297.22 1666.64
        13 2023-12-01  277.78  16.67 294.45 1388.86
        14 2024-01-01  277.78  13.89 291.67 1111.08
        15 2024-02-01  277.78  11.11 288.89  833.30
        16 2024-03-01  277.78   8.33 286.11  555.52
        17 2024-04-01  277.78   5.56 283.34  277.74
        18 2024-05-01  277.74   2.78 280.52    0.00
        total principal 5000.00 interest 475.00 due 5475.00
        """
    )


def test_fineract_rs05_principal_grace() -> None:
    """Three months of interest only, then an annuity of 361 over the other fifteen."""
    assert render(build_schedule(fineract_loan(grace_principal=3))) == table(
        """
         1 2022-12-01    0.00  50.00  50.00 5000.00
         2 2023-01-01    0.00  50.00  50.00 5000.00
         3 2023-02-01    0.00  50.00  50.00 5000.00
         4 2023-03-01  311.00  50.00 361.00 4689.00
         5 2023-04-01  314.11  46.89 361.00 4374.89
         6 2023-05-01  317.25  43.75 361.00 4057.64
         7 2023-06-01  320.42  40.58 361.00 3737.22
         8 2023-07-01  323.63  37.37 361.00 3413.59
         9 2023-08-01  326.86  34.14 361.00 3086.73
        10 2023-09-01  330.13  30.87 361.00 2756.60
        11 2023-10-01  333.43  27.57 361.00 2423.17
        12 2023-11-01  336.77  24.23 361.00 2086.40
        13 2023-12-01  340.14  20.86 361.00 1746.26
        14 2024-01-01  343.54  17.46 361.00 1402.72
        15 2024-02-01  346.97  14.03 361.00 1055.75
        16 2024-03-01  350.44  10.56 361.00  705.31
        17 2024-04-01  353.95   7.05 361.00  351.36
        18 2024-05-01  351.36   3.51 354.87    0.00
        total principal 5000.00 interest 558.87 due 5558.87
        """
    )


def test_fineract_rs07_interest_grace_deferred() -> None:
    """Six months without principal; the first three months' interest is paid in the fourth.

    Fineract calls these three months an interest-free period whose interest is recovered
    later; in Tenor that is ``grace_interest=3`` with the default treatment, DEFER.
    """
    schedule = build_schedule(fineract_loan(grace_principal=6, grace_interest=3))
    assert render(schedule) == table(
        """
         1 2022-12-01    0.00   0.00   0.00 5000.00
         2 2023-01-01    0.00   0.00   0.00 5000.00
         3 2023-02-01    0.00   0.00   0.00 5000.00
         4 2023-03-01    0.00 200.00 200.00 5000.00
         5 2023-04-01    0.00  50.00  50.00 5000.00
         6 2023-05-01    0.00  50.00  50.00 5000.00
         7 2023-06-01  394.00  50.00 444.00 4606.00
         8 2023-07-01  397.94  46.06 444.00 4208.06
         9 2023-08-01  401.92  42.08 444.00 3806.14
        10 2023-09-01  405.94  38.06 444.00 3400.20
        11 2023-10-01  410.00  34.00 444.00 2990.20
        12 2023-11-01  414.10  29.90 444.00 2576.10
        13 2023-12-01  418.24  25.76 444.00 2157.86
        14 2024-01-01  422.42  21.58 444.00 1735.44
        15 2024-02-01  426.65  17.35 444.00 1308.79
        16 2024-03-01  430.91  13.09 444.00  877.88
        17 2024-04-01  435.22   8.78 444.00  442.66
        18 2024-05-01  442.66   4.43 447.09    0.00
        total principal 5000.00 interest 631.09 due 5631.09
        """
    )
