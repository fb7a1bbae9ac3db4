"""Typed domain errors raised by ``tenor.core``.

Each error carries a stable machine-readable ``code`` so that the API can map it to a
problem+json response and the CLI to one clear line, without parsing messages.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the core raises for bad input or a forbidden operation."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgumentError(DomainError, ValueError):
    """An argument is outside what the domain allows (a negative term, an impossible rate)."""

    code = "invalid_argument"


class UnknownCurrencyError(InvalidArgumentError):
    """A currency code that is not an ISO 4217 currency Tenor knows."""

    code = "unknown_currency"


class CurrencyMismatchError(DomainError, TypeError):
    """Two amounts in different currencies were combined or compared."""

    code = "currency_mismatch"


class UnsafeMoneyOperationError(DomainError, TypeError):
    """An operation that has no meaning for money (Money x Money, a float amount)."""

    code = "unsafe_money_operation"


class PrecisionError(InvalidArgumentError):
    """An amount has more decimal places than its currency allows."""

    code = "amount_too_precise"


class EventError(DomainError):
    """An event cannot be applied to a loan account (reversing an unknown event, ...)."""

    code = "invalid_event"
