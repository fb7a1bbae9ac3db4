"""Borrowers: creating them and changing how they may be contacted."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy.orm import Session

from tenor.core.errors import InvalidArgumentError
from tenor.core.money import Money
from tenor.store.journal import NotFoundError
from tenor.store.models import Borrower

KINDS = ("individual", "enterprise")
LOCALES = ("zh-CN", "en")
CHANNELS = ("sms", "push", "email", "voice", "letter")


@functools.cache
def _time_zones() -> frozenset[str]:
    # available_timezones() walks the time-zone database on disk at every call (about 8 ms),
    # which would dominate creating a book of thousands of borrowers.
    return frozenset(available_timezones())


def _check_contact_preferences(
    time_zone: str | None,
    locale: str | None,
    preferred_channels: Sequence[str] | None,
    opt_outs: Sequence[str] | None,
) -> None:
    if time_zone is not None and time_zone not in _time_zones():
        raise InvalidArgumentError(f"unknown time zone {time_zone!r}; use an IANA name")
    if locale is not None and locale not in LOCALES:
        raise InvalidArgumentError(f"locale must be one of {', '.join(LOCALES)}, not {locale!r}")
    for channel in [*(preferred_channels or ()), *(opt_outs or ())]:
        if channel not in CHANNELS:
            raise InvalidArgumentError(
                f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}"
            )


def create_borrower(
    session: Session,
    *,
    kind: str,
    name: str,
    national_id: str | None = None,
    phones: Sequence[str] = (),
    email: str | None = None,
    address: str | None = None,
    time_zone: str = "Asia/Shanghai",
    locale: str = "zh-CN",
    preferred_channels: Sequence[str] = ("sms",),
    consents: dict[str, Any] | None = None,
    opt_outs: Sequence[str] = (),
    industry: str | None = None,
    registered_capital: Money | None = None,
    contacts: Sequence[dict[str, Any]] = (),
) -> Borrower:
    """A new individual or enterprise borrower."""
    if kind not in KINDS:
        raise InvalidArgumentError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if not name.strip():
        raise InvalidArgumentError("a borrower needs a name")
    _check_contact_preferences(time_zone, locale, preferred_channels, opt_outs)
    borrower = Borrower(
        kind=kind,
        name=name.strip(),
        national_id=national_id,
        phones=list(phones),
        email=email,
        address=address,
        time_zone=time_zone,
        locale=locale,
        preferred_channels=list(preferred_channels),
        consents=dict(consents or {}),
        opt_outs=list(opt_outs),
        industry=industry,
        registered_capital_minor=registered_capital.minor if registered_capital else None,
        registered_capital_currency=registered_capital.currency if registered_capital else None,
        contacts=list(contacts),
    )
    session.add(borrower)
    session.flush()
    return borrower


def update_contact_preferences(
    session: Session,
    borrower_id: int,
    *,
    phones: Sequence[str] | None = None,
    email: str | None = None,
    time_zone: str | None = None,
    locale: str | None = None,
    preferred_channels: Sequence[str] | None = None,
    consents: dict[str, Any] | None = None,
    opt_outs: Sequence[str] | None = None,
) -> Borrower:
    """Change how and when a borrower may be contacted; ``None`` leaves a field as it is."""
    borrower = session.get(Borrower, borrower_id)
    if borrower is None:
        raise NotFoundError(f"borrower {borrower_id} does not exist")
    _check_contact_preferences(time_zone, locale, preferred_channels, opt_outs)
    if phones is not None:
        borrower.phones = list(phones)
    if email is not None:
        if email.strip().lower() != (borrower.email or "").strip().lower():
            # A new address has not bounced.
            borrower.email_invalid_since = None
        borrower.email = email
    if time_zone is not None:
        borrower.time_zone = time_zone
    if locale is not None:
        borrower.locale = locale
    if preferred_channels is not None:
        borrower.preferred_channels = list(preferred_channels)
    if consents is not None:
        borrower.consents = {**borrower.consents, **consents}
    if opt_outs is not None:
        borrower.opt_outs = list(opt_outs)
    session.flush()
    return borrower
