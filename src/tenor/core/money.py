"""Exact money: integer minor units with an ISO 4217 currency.

A float never holds money. Amounts enter as ``str``, ``int`` or ``Decimal`` in major units
(``Money.of("120.50", "CNY")``) or as integer minor units (``Money(12050, "CNY")``). Arithmetic
that could lose a cent takes an explicit rounding mode. Operations without meaning for money
(``Money * Money``, adding two currencies, comparing across currencies) raise.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from tenor.core.errors import (
    CurrencyMismatchError,
    InvalidArgumentError,
    PrecisionError,
    UnknownCurrencyError,
    UnsafeMoneyOperationError,
)

#: ISO 4217 minor-unit exponents of the currencies Tenor books loans in.
CURRENCY_EXPONENTS: Final[dict[str, int]] = {
    "CNY": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "SGD": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "INR": 2,
    "MXN": 2,
    "BRL": 2,
    "PHP": 2,
    "IDR": 2,
    "THB": 2,
    "MYR": 2,
    "TWD": 2,
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
}

#: The largest amount in minor units; it keeps every stored amount, and sums of a book's
#: amounts, inside a signed 64-bit integer column.
MAX_MINOR_UNITS: Final = 10**17

# Plain decimal notation only: no exponents, underscores or inner spaces in amounts.
_DECIMAL_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")

# Enough digits for any loan amount times any rate power a schedule computes.
_CONTEXT = decimal.Context(prec=50, traps=[decimal.InvalidOperation, decimal.DivisionByZero])


class Rounding(StrEnum):
    """How an amount that falls between two minor units is settled."""

    HALF_UP = "half-up"
    HALF_EVEN = "half-even"
    DOWN = "down"
    UP = "up"

    @property
    def decimal_mode(self) -> str:
        """The matching ``decimal`` rounding constant."""
        return _DECIMAL_MODES[self]


_DECIMAL_MODES: Final[dict[Rounding, str]] = {
    Rounding.HALF_UP: decimal.ROUND_HALF_UP,
    Rounding.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    Rounding.DOWN: decimal.ROUND_DOWN,
    Rounding.UP: decimal.ROUND_UP,
}


def exponent(currency: str) -> int:
    """The number of minor-unit digits of ``currency`` (2 for CNY, 0 for JPY, 3 for KWD)."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        known = ", ".join(sorted(CURRENCY_EXPONENTS))
        raise UnknownCurrencyError(
            f"unknown currency {currency!r}; use an ISO 4217 code such as {known}"
        ) from None


def to_decimal(value: str | int | Decimal, *, what: str = "amount") -> Decimal:
    """Parse a number for money or rates, refusing floats, NaN, infinities and garbage."""
    if isinstance(value, bool | float):
        raise UnsafeMoneyOperationError(
            f"{what} must be given as a string, int or Decimal, not {type(value).__name__}; "
            "floats cannot hold money exactly"
        )
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        if not _DECIMAL_TEXT.fullmatch(value.strip()):
            raise InvalidArgumentError(f"{what} {value!r} is not a decimal number like 120.50")
        number = Decimal(value.strip())
    else:
        raise UnsafeMoneyOperationError(
            f"{what} must be a string, int or Decimal, not {type(value).__name__}"
        )
    if not number.is_finite():
        raise InvalidArgumentError(f"{what} must be a finite number, not {value!r}")
    return number


def round_decimal(value: Decimal, places: int, rounding: Rounding) -> Decimal:
    """Round ``value`` to ``places`` decimal places with ``rounding``."""
    with decimal.localcontext(_CONTEXT):
        return value.quantize(Decimal(1).scaleb(-places), rounding=rounding.decimal_mode)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: ``minor`` units (cents, fen, yen) of ``currency``."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise UnsafeMoneyOperationError(
                f"minor units must be an int, not {type(self.minor).__name__}; "
                "use Money.of() for amounts in major units"
            )
        if abs(self.minor) > MAX_MINOR_UNITS:
            raise InvalidArgumentError(
                f"amount of {self.minor} minor units is beyond the largest Tenor books "
                f"({MAX_MINOR_UNITS})"
            )
        exponent(self.currency)

    @classmethod
    def of(
        cls,
        amount: str | int | Decimal,
        currency: str,
        *,
        rounding: Rounding | None = None,
    ) -> Money:
        """Money from an amount in major units; over-precise amounts need an explicit rounding."""
        number = to_decimal(amount)
        places = exponent(currency)
        if abs(number) > Decimal(MAX_MINOR_UNITS).scaleb(-places):
            raise InvalidArgumentError(f"amount {amount} {currency} is too large")
        rounded = round_decimal(number, places, rounding or Rounding.HALF_EVEN)
        if rounding is None and rounded != number:
            raise PrecisionError(
                f"amount {amount} has more than {places} decimal places for {currency}"
            )
        return cls(int(rounded.scaleb(places)), currency)

    @classmethod
    def trusted(cls, minor: int, currency: str) -> Money:
        """Money from int minor units of an already-validated currency.

        Only for core arithmetic whose inputs were Money already; it skips the type and
        currency checks (a schedule or a fold would pay for them thousands of times) and keeps
        the range check.
        """
        if not -MAX_MINOR_UNITS <= minor <= MAX_MINOR_UNITS:
            return cls(minor, currency)
        money = _new_object(cls)
        _set_minor(money, minor)
        _set_currency(money, currency)
        return money

    @classmethod
    def zero(cls, currency: str) -> Money:
        """No money in ``currency``."""
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, amount: Decimal, currency: str, rounding: Rounding) -> Money:
        """Money from a computed amount in major units, rounded to the minor unit."""
        places = exponent(currency)
        return cls(int(round_decimal(amount, places, rounding).scaleb(places)), currency)

    @classmethod
    def sum(cls, amounts: Iterable[Money], currency: str) -> Money:
        """The total of ``amounts``, all in ``currency`` (zero when there are none)."""
        total = cls.zero(currency)
        for amount in amounts:
            total = total + amount
        return total

    @property
    def exponent(self) -> int:
        """Minor-unit digits of this amount's currency."""
        return CURRENCY_EXPONENTS[self.currency]

    @property
    def amount(self) -> Decimal:
        """The amount in major units, exactly."""
        with decimal.localcontext(_CONTEXT):
            return Decimal(self.minor).scaleb(-self.exponent)

    def format(self) -> str:
        """The amount as a plain decimal string in major units, e.g. ``"120.50"``."""
        places = self.exponent
        sign = "-" if self.minor < 0 else ""
        digits = str(abs(self.minor)).rjust(places + 1, "0")
        if places == 0:
            return f"{sign}{digits}"
        return f"{sign}{digits[:-places]}.{digits[-places:]}"

    def __str__(self) -> str:
        return f"{self.format()} {self.currency}"

    def _check(self, other: object, operation: str) -> Money:
        if not isinstance(other, Money):
            raise UnsafeMoneyOperationError(
                f"cannot {operation} Money and {type(other).__name__}; both must be Money"
            )
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"cannot {operation} {self.currency} and {other.currency} amounts"
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money.trusted(self.minor + self._check(other, "add").minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money.trusted(self.minor - self._check(other, "subtract").minor, self.currency)

    def __neg__(self) -> Money:
        return Money.trusted(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return Money.trusted(abs(self.minor), self.currency)

    def __mul__(self, factor: int) -> Money:
        """Multiply by a whole number, which is always exact; see :meth:`scale` for Decimals."""
        if isinstance(factor, Money):
            raise UnsafeMoneyOperationError("cannot multiply Money by Money")
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise UnsafeMoneyOperationError(
                f"Money can be multiplied only by an int; use scale() with a rounding "
                f"mode for {type(factor).__name__}"
            )
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def scale(self, factor: Decimal | int | str, rounding: Rounding) -> Money:
        """This amount times ``factor`` (a rate, a share), rounded to the minor unit."""
        number = to_decimal(factor, what="factor")
        with decimal.localcontext(_CONTEXT):
            return Money.from_decimal(self.amount * number, self.currency, rounding)

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._check(other, "compare").minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._check(other, "compare").minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._check(other, "compare").minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._check(other, "compare").minor

    def __bool__(self) -> bool:
        return self.minor != 0

    @property
    def is_positive(self) -> bool:
        """More than zero."""
        return self.minor > 0

    @property
    def is_negative(self) -> bool:
        """Less than zero."""
        return self.minor < 0

    def round_to_multiple(self, multiple: Money, rounding: Rounding) -> Money:
        """This amount rounded to a multiple of ``multiple`` (installments in whole yuan)."""
        step = self._check(multiple, "round").minor
        if step <= 0:
            raise InvalidArgumentError(f"the rounding multiple must be positive, not {multiple}")
        quotient = round_decimal(Decimal(self.minor) / Decimal(step), 0, rounding)
        return Money(int(quotient) * step, self.currency)

    def min(self, other: Money) -> Money:
        """The smaller of two amounts in the same currency."""
        return self if self <= other else other

    def max(self, other: Money) -> Money:
        """The larger of two amounts in the same currency."""
        return self if self >= other else other


# The slots' own descriptors set a frozen instance's fields without going through __init__.
_new_object = object.__new__
_set_minor = vars(Money)["minor"].__set__
_set_currency = vars(Money)["currency"].__set__


def allocate(amount: Money, weights: Sequence[int | Decimal | str]) -> list[Money]:
    """Split ``amount`` in proportion to ``weights`` so that the parts sum back exactly.

    The largest-remainder rule: each part first gets the floor of its exact share; the minor
    units left over go one each to the parts with the largest fractional remainders, earlier
    parts first on ties. A negative amount is split as its absolute value, then negated.
    """
    if not weights:
        raise InvalidArgumentError("allocate needs at least one weight")
    numbers = [to_decimal(weight, what="weight") for weight in weights]
    if any(number < 0 for number in numbers):
        raise InvalidArgumentError("allocation weights must not be negative")
    total_weight = sum(numbers, Decimal(0))
    if total_weight == 0:
        raise InvalidArgumentError("allocation weights must not all be zero")
    units = abs(amount.minor)
    with decimal.localcontext(_CONTEXT):
        shares = [Decimal(units) * number / total_weight for number in numbers]
    floors = [int(share) for share in shares]
    leftover = units - sum(floors)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for index in by_remainder[:leftover]:
        floors[index] += 1
    sign = -1 if amount.minor < 0 else 1
    return [Money(sign * part, amount.currency) for part in floors]
