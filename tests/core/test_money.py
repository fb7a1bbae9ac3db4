"""Tests of ``tenor.core.money``: exact amounts, refused operations, rounding and splitting."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenor.core.errors import (
    CurrencyMismatchError,
    DomainError,
    InvalidArgumentError,
    PrecisionError,
    UnknownCurrencyError,
    UnsafeMoneyOperationError,
)
from tenor.core.money import CURRENCY_EXPONENTS, Money, Rounding, allocate, exponent

HU, HE, DN, UP = Rounding.HALF_UP, Rounding.HALF_EVEN, Rounding.DOWN, Rounding.UP
MODES = (HU, HE, DN, UP)


def _untyped(value: object) -> Any:
    """``value`` hidden from mypy, to pass what the signatures rightly forbid."""
    return value


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


# --- Local strategies (tests/strategies.py is owned elsewhere for now). ---------------------

#: Far beyond any loan book (10^18 major units) yet inside the 28-digit default Decimal context
#: that ``Money.of`` and ``Money.amount`` compute in.
MINOR_UNITS = st.integers(min_value=-(10**17), max_value=10**17)
CURRENCIES = st.sampled_from(sorted(CURRENCY_EXPONENTS))
MONEY = st.builds(Money, MINOR_UNITS, CURRENCIES)


@st.composite
def weights(draw: st.DrawFn) -> list[int | Decimal]:
    """One to eight non-negative weights, not all zero; ints or Decimals with a few places."""
    whole = st.integers(min_value=0, max_value=1000)
    fractional = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False)
    values: list[int | Decimal] = draw(
        st.lists(st.one_of(whole, fractional), min_size=1, max_size=8)
    )
    if all(value == 0 for value in values):
        values[draw(st.integers(0, len(values) - 1))] = draw(st.integers(1, 1000))
    return values


# --- Currencies ------------------------------------------------------------------------------


def test_iso_exponents() -> None:
    codes = ("CNY", "USD", "EUR", "GBP", "HKD", "JPY", "KRW", "KWD", "BHD")
    assert {code: exponent(code) for code in codes} == {
        "CNY": 2,
        "USD": 2,
        "EUR": 2,
        "GBP": 2,
        "HKD": 2,
        "JPY": 0,
        "KRW": 0,
        "KWD": 3,
        "BHD": 3,
    }
    assert {code: Money.of(1, code).minor for code in codes} == {
        "CNY": 100,
        "USD": 100,
        "EUR": 100,
        "GBP": 100,
        "HKD": 100,
        "JPY": 1,
        "KRW": 1,
        "KWD": 1000,
        "BHD": 1000,
    }


@pytest.mark.parametrize("code", ["XYZ", "cny", "", "RMB"])
def test_unknown_currency_is_refused_with_the_known_codes(code: str) -> None:
    with pytest.raises(UnknownCurrencyError) as caught:
        Money.of("1", code)
    assert caught.value.code == "unknown_currency"
    assert repr(code) in caught.value.message
    assert "ISO 4217" in caught.value.message
    assert "CNY" in caught.value.message
    assert isinstance(caught.value, InvalidArgumentError)
    with pytest.raises(UnknownCurrencyError):
        Money(100, code)


# --- Construction and parsing ---------------------------------------------------------------


def test_of_parses_str_int_and_decimal() -> None:
    cases: list[tuple[str | int | Decimal, str]] = [
        ("120.50", "CNY"),
        ("120.5", "CNY"),
        (" 7 ", "CNY"),
        ("-3.5", "USD"),
        ("-0.00", "USD"),
        (120, "CNY"),
        (-2, "EUR"),
        (Decimal("0.01"), "GBP"),
        (Decimal("1E+2"), "HKD"),
        ("1000", "JPY"),
        ("1.0", "JPY"),
        ("0.001", "KWD"),
        ("-1.234", "BHD"),
    ]
    assert [Money.of(amount, currency) for amount, currency in cases] == [
        Money(12050, "CNY"),
        Money(12050, "CNY"),
        Money(700, "CNY"),
        Money(-350, "USD"),
        Money(0, "USD"),
        Money(12000, "CNY"),
        Money(-200, "EUR"),
        Money(1, "GBP"),
        Money(10000, "HKD"),
        Money(1000, "JPY"),
        Money(1, "JPY"),
        Money(1, "KWD"),
        Money(-1234, "BHD"),
    ]


@pytest.mark.parametrize("amount", [1.5, 1.0, float("nan"), float("inf"), True, False])
def test_of_refuses_floats_and_bools(amount: object) -> None:
    with pytest.raises(UnsafeMoneyOperationError, match=r"float|bool"):
        Money.of(_untyped(amount), "CNY")


@pytest.mark.parametrize("amount", [None, [1], Money(1, "CNY"), Fraction(1, 2)])
def test_of_refuses_other_types(amount: object) -> None:
    with pytest.raises(UnsafeMoneyOperationError):
        Money.of(_untyped(amount), "CNY")


@pytest.mark.parametrize(
    "amount",
    [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")],
)
def test_of_refuses_non_finite_numbers(amount: Decimal) -> None:
    with pytest.raises(InvalidArgumentError, match="finite"):
        Money.of(amount, "CNY")


@pytest.mark.parametrize(
    "amount",
    [
        "",
        "  ",
        "abc",
        "1,000.00",
        "1.2.3",
        "12 CNY",
        "0x10",
        "--1",
        "NaN",
        "nan",
        "sNaN",
        "Infinity",
        "-inf",
        "1e3",
        "1_000",
        "1 000",
    ],
)
def test_of_refuses_garbage_strings(amount: str) -> None:
    with pytest.raises(InvalidArgumentError, match="not a decimal number"):
        Money.of(amount, "CNY")


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("0.001", "CNY"), ("120.505", "USD"), ("1.5", "JPY"), ("0.1", "KRW"), ("0.0001", "KWD")],
)
def test_of_refuses_over_precise_amounts(amount: str, currency: str) -> None:
    with pytest.raises(PrecisionError) as caught:
        Money.of(amount, currency)
    assert caught.value.code == "amount_too_precise"
    assert currency in caught.value.message


def test_of_rounds_over_precise_amounts_when_told_how() -> None:
    amounts = ("0.005", "0.015", "0.0049", "-0.005", "-0.015", "-0.0051")
    assert {
        mode.value: [Money.of(amount, "CNY", rounding=mode).minor for amount in amounts]
        for mode in MODES
    } == {
        "half-up": [1, 2, 0, -1, -2, -1],
        "half-even": [0, 2, 0, 0, -2, -1],
        "down": [0, 1, 0, 0, -1, 0],
        "up": [1, 2, 1, -1, -2, -1],
    }
    assert Money.of("1234.5", "JPY", rounding=HE) == Money(1234, "JPY")
    assert Money.of("0.0005", "KWD", rounding=HU) == Money(1, "KWD")


@pytest.mark.parametrize("minor", [1.0, Decimal(1), "1", True, None])
def test_minor_units_must_be_an_int(minor: object) -> None:
    with pytest.raises(UnsafeMoneyOperationError, match=r"Money\.of"):
        Money(_untyped(minor), "CNY")


def test_money_is_immutable() -> None:
    money = cny("1.00")
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.minor = 2  # type: ignore[misc]


def test_zero_sum_and_amount() -> None:
    assert Money.zero("JPY") == Money(0, "JPY")
    assert Money.sum([], "CNY") == Money(0, "CNY")
    assert Money.sum([cny("1.10"), cny("2.20"), cny("-0.30")], "CNY") == cny("3.00")
    assert [Money(12050, "CNY").amount, Money(-5, "KWD").amount, Money(7, "JPY").amount] == [
        Decimal("120.50"),
        Decimal("-0.005"),
        Decimal(7),
    ]
    assert Money.from_decimal(Decimal("1.005"), "CNY", HU) == Money(101, "CNY")


# --- Arithmetic and comparison --------------------------------------------------------------


def test_arithmetic_within_one_currency() -> None:
    a, b = cny("10.25"), cny("0.75")
    assert [a + b, a - b, b - a, -a, abs(-a), a * 3, 3 * a, a * -2, a * 0] == [
        cny("11.00"),
        cny("9.50"),
        cny("-9.50"),
        cny("-10.25"),
        cny("10.25"),
        cny("30.75"),
        cny("30.75"),
        cny("-20.50"),
        cny("0"),
    ]
    assert [a > b, a >= b, a < b, a <= b, a <= cny("10.25"), a.min(b), a.max(b)] == [
        True,
        True,
        False,
        False,
        True,
        b,
        a,
    ]
    assert [bool(cny("0")), bool(b), b.is_positive, b.is_negative, (-b).is_negative] == [
        False,
        True,
        True,
        False,
        True,
    ]


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: a.min(b),
        lambda a, b: a.max(b),
        lambda a, b: Money.sum([a, b], "CNY"),
        lambda a, b: a.round_to_multiple(b, Rounding.HALF_UP),
    ],
)
def test_mixing_currencies_raises(operation: Any) -> None:
    with pytest.raises(CurrencyMismatchError) as caught:
        operation(cny("1.00"), Money.of("1.00", "USD"))
    assert isinstance(caught.value, TypeError)
    assert caught.value.code == "currency_mismatch"
    assert "CNY" in caught.value.message
    assert "USD" in caught.value.message


def test_equality_across_currencies_is_false_not_an_error() -> None:
    assert cny("1.00") != Money.of("1.00", "USD")
    assert Money(100, "JPY") != Money(100, "KRW")


@pytest.mark.parametrize(
    "operation",
    [
        lambda a: a + 1,
        lambda a: a - Decimal(1),
        lambda a: a < 1,
        lambda a: a * a,
        lambda a: a * 1.5,
        lambda a: 1.5 * a,
        lambda a: a * 2.0,
        lambda a: a * Decimal(2),
        lambda a: a * True,
        lambda a: a * "2",
        lambda a: a.scale(0.5, Rounding.HALF_UP),
        lambda a: a.scale(a, Rounding.HALF_UP),
    ],
)
def test_operations_without_meaning_for_money_raise(operation: Any) -> None:
    with pytest.raises(UnsafeMoneyOperationError) as caught:
        operation(cny("2.00"))
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, DomainError)


# --- Scaling and rounding -------------------------------------------------------------------


def test_scale_in_each_rounding_mode() -> None:
    """Each row: amount, factor -> minor units under half-up, half-even, down, up."""
    cases: list[tuple[Money, str | int | Decimal]] = [
        (Money(5, "CNY"), "0.5"),  # 2.5 fen: a tie
        (Money(15, "CNY"), "0.5"),  # 7.5 fen: a tie rounding to even 8
        (Money(-5, "CNY"), "0.5"),
        (Money(-15, "CNY"), "0.5"),
        (Money(1000, "CNY"), "0.12345"),
        (Money(1000, "CNY"), Decimal("0.12355")),
        (Money(-1000, "CNY"), "0.12345"),
        (Money(10000, "CNY"), "0.0365"),  # exact
        (Money(333, "CNY"), 3),  # exact
        (Money(1001, "JPY"), "0.5"),
        (Money(-1001, "JPY"), "0.5"),
        (Money(1, "KWD"), "0.5"),
        (Money(1, "BHD"), "-0.5"),
    ]
    table = [tuple(money.scale(factor, mode).minor for mode in MODES) for money, factor in cases]
    assert table == [
        # HU, HE, DN, UP
        (3, 2, 2, 3),
        (8, 8, 7, 8),
        (-3, -2, -2, -3),
        (-8, -8, -7, -8),
        (123, 123, 123, 124),
        (124, 124, 123, 124),
        (-123, -123, -123, -124),
        (365, 365, 365, 365),
        (999, 999, 999, 999),
        (501, 500, 500, 501),
        (-501, -500, -500, -501),
        (1, 0, 0, 1),
        (-1, 0, 0, -1),
    ]
    assert {money.scale("0.5", HU).currency for money, _ in cases} == {"CNY", "JPY", "KWD", "BHD"}


def test_scale_keeps_precision_of_small_rates() -> None:
    # 1,000,000.00 at a daily rate of 0.05% over 365 days, then a tiny rate on a large amount.
    assert cny("1000000.00").scale(Decimal("0.0005") * 365, HE) == cny("182500.00")
    assert cny("99999999.99").scale("0.000000001", UP) == cny("0.10")


def test_round_to_multiple_of_one_and_ten_yuan() -> None:
    one, ten = cny("1"), cny("10")
    to_one = ("12.50", "13.50", "12.01", "12.00", "-12.50", "-12.51")
    to_ten = ("15.00", "25.00", "24.99", "0.01", "-15.00", "-25.00")
    assert {
        mode.value: (
            [cny(a).round_to_multiple(one, mode).format() for a in to_one],
            [cny(a).round_to_multiple(ten, mode).format() for a in to_ten],
        )
        for mode in MODES
    } == {
        "half-up": (
            ["13.00", "14.00", "12.00", "12.00", "-13.00", "-13.00"],
            ["20.00", "30.00", "20.00", "0.00", "-20.00", "-30.00"],
        ),
        "half-even": (
            ["12.00", "14.00", "12.00", "12.00", "-12.00", "-13.00"],
            ["20.00", "20.00", "20.00", "0.00", "-20.00", "-20.00"],
        ),
        "down": (
            ["12.00", "13.00", "12.00", "12.00", "-12.00", "-12.00"],
            ["10.00", "20.00", "20.00", "0.00", "-10.00", "-20.00"],
        ),
        "up": (
            ["13.00", "14.00", "13.00", "12.00", "-13.00", "-13.00"],
            ["20.00", "30.00", "30.00", "10.00", "-20.00", "-30.00"],
        ),
    }


@pytest.mark.parametrize("multiple", [Money(0, "CNY"), Money(-100, "CNY")])
def test_round_to_multiple_needs_a_positive_multiple(multiple: Money) -> None:
    with pytest.raises(InvalidArgumentError, match="positive"):
        cny("12.50").round_to_multiple(multiple, HU)


# --- Formatting -----------------------------------------------------------------------------


def test_format_for_each_exponent() -> None:
    amounts = [
        Money(0, "CNY"),
        Money(5, "CNY"),
        Money(-5, "CNY"),
        Money(50, "USD"),
        Money(12050, "CNY"),
        Money(-12050, "EUR"),
        Money(123456789, "HKD"),
        Money(0, "JPY"),
        Money(5, "JPY"),
        Money(-1234, "KRW"),
        Money(5, "KWD"),
        Money(-5, "KWD"),
        Money(1000, "BHD"),
        Money(-1234, "BHD"),
    ]
    assert [amount.format() for amount in amounts] == [
        "0.00",
        "0.05",
        "-0.05",
        "0.50",
        "120.50",
        "-120.50",
        "1234567.89",
        "0",
        "5",
        "-1234",
        "0.005",
        "-0.005",
        "1.000",
        "-1.234",
    ]
    assert [str(Money(12050, "CNY")), str(Money(-5, "KWD")), str(Money(7, "JPY"))] == [
        "120.50 CNY",
        "-0.005 KWD",
        "7 JPY",
    ]


@given(MONEY)
def test_format_round_trips_through_of(money: Money) -> None:
    assert Money.of(money.format(), money.currency) == money
    assert Money.of(money.amount, money.currency) == money


# --- Allocation -----------------------------------------------------------------------------


def test_allocate_exact_examples() -> None:
    cases: list[tuple[Money, list[int | Decimal | str]]] = [
        (cny("100.00"), [1, 1, 1]),
        (cny("-100.00"), [1, 1, 1]),
        (cny("0.02"), [1, 1, 1]),  # ties: the earlier parts get the spare fen
        (cny("0.01"), [1, 1, 1, 1]),
        (cny("1.00"), [1, 2, 3]),  # largest remainder, not the earliest, gets the fen
        (cny("100.00"), [1, 0, 1]),  # zero weights get zero
        (cny("0.03"), [0, 1, 1]),
        (cny("0.01"), [0, 0, 5]),
        (cny("10.00"), ["0.5", "0.25", Decimal("0.25")]),
        (cny("0.00"), [1, 2]),
        (cny("7.00"), [1]),
        (Money(100, "JPY"), [1, 1, 1]),
        (Money(-1, "KWD"), [1, 1]),
    ]
    assert [[part.format() for part in allocate(money, ws)] for money, ws in cases] == [
        ["33.34", "33.33", "33.33"],
        ["-33.34", "-33.33", "-33.33"],
        ["0.01", "0.01", "0.00"],
        ["0.01", "0.00", "0.00", "0.00"],
        ["0.17", "0.33", "0.50"],
        ["50.00", "0.00", "50.00"],
        ["0.00", "0.02", "0.01"],
        ["0.00", "0.00", "0.01"],
        ["5.00", "2.50", "2.50"],
        ["0.00", "0.00"],
        ["7.00"],
        ["34", "33", "33"],
        ["-0.001", "0.000"],
    ]
    assert {part.currency for part in allocate(Money(100, "JPY"), [1, 1])} == {"JPY"}


@pytest.mark.parametrize(
    ("ws", "message"),
    [
        ([], "at least one weight"),
        ([1, -1], "must not be negative"),
        ([Decimal("-0.5"), 2], "must not be negative"),
        ([0, 0], "must not all be zero"),
        (["0", Decimal(0)], "must not all be zero"),
        (["x"], "not a decimal number"),
        ([Decimal("NaN")], "finite"),
        (["NaN"], "not a decimal number"),
    ],
)
def test_allocate_refuses_bad_weights(ws: list[int | Decimal | str], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        allocate(cny("1.00"), ws)


def test_allocate_refuses_float_weights() -> None:
    with pytest.raises(UnsafeMoneyOperationError):
        allocate(cny("1.00"), _untyped([0.5, 0.5]))


@given(MONEY, weights())
def test_allocate_sums_back_exactly(money: Money, ws: list[int | Decimal]) -> None:
    parts = allocate(money, ws)
    assert len(parts) == len(ws)
    assert Money.sum(parts, money.currency) == money


@given(MONEY, weights())
def test_allocate_parts_are_within_one_minor_unit_of_the_exact_share(
    money: Money, ws: list[int | Decimal]
) -> None:
    total = sum((Fraction(w) for w in ws), Fraction(0))
    for part, weight in zip(allocate(money, ws), ws, strict=True):
        exact = Fraction(money.minor) * Fraction(weight) / total
        assert abs(Fraction(part.minor) - exact) < 1
        if weight == 0:
            assert part.minor == 0


@given(MONEY, weights())
def test_allocate_parts_take_the_sign_of_the_amount(money: Money, ws: list[int | Decimal]) -> None:
    parts = allocate(money, ws)
    if money.minor >= 0:
        assert all(part.minor >= 0 for part in parts)
    else:
        assert all(part.minor <= 0 for part in parts)
        assert allocate(-money, ws) == [-part for part in parts]


def test_amounts_beyond_a_64_bit_column_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="largest"):
        Money(10**17 + 1, "CNY")
    with pytest.raises(InvalidArgumentError, match="too large"):
        Money.of("1" + "0" * 40, "CNY")
    assert Money(10**17, "CNY").amount == Decimal("1000000000000000.00")


def test_trusted_money_equals_checked_money_and_keeps_the_range_check() -> None:
    assert Money.trusted(12050, "CNY") == Money(12050, "CNY")
    assert Money.trusted(-5, "KWD").format() == "-0.005"
    with pytest.raises(InvalidArgumentError, match="largest"):
        Money.trusted(10**17 + 1, "CNY")
