"""The only writer of the bureau tables: the furnisher, Metro 2 identities, account settings,
special comments, disputes and deletions. Each checks its input and raises
:class:`BureauInputError` (or the journal's ``NotFoundError``) without changing anything.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.bureau.tables import (
    BureauAccount,
    BureauAssociate,
    BureauComment,
    BureauConsumer,
    BureauDispute,
)
from tenor.core.errors import DomainError
from tenor.store.journal import NotFoundError
from tenor.store.models import Borrower, Loan, Setting

FURNISHER_SETTING: Final = "bureau.furnisher"

#: Special comment codes of the restructuring kinds: CO loan modified, CP in forbearance.
COMMENT_CODES: Final = {"restructured": "CO", "deferred": "CP"}


class BureauInputError(DomainError):
    """Bureau data that cannot be reported as given."""

    code = "bureau_invalid"


@dataclass(frozen=True, slots=True)
class Furnisher:
    """Who reports: the bureau-assigned identification number, name, address and telephone."""

    identification_number: str
    name: str
    address: str
    telephone: str = ""


def _ascii(what: str, value: str, length: int, *, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        raise BureauInputError(f"{what} is required")
    if not text.isascii():
        raise BureauInputError(f"{what} must be in Latin letters (Metro 2 carries ASCII only)")
    if len(text) > length:
        raise BureauInputError(f"{what} must be at most {length} characters, not {len(text)}")
    return text.upper()


def _digits(what: str, value: str | None, lengths: tuple[int, ...]) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip().replace("-", "")
    if not (text.isascii() and text.isdigit() and len(text) in lengths):
        shown = " or ".join(str(n) for n in lengths)
        raise BureauInputError(f"{what} must be {shown} digits")
    return text


def set_furnisher(session: Session, furnisher: Furnisher) -> None:
    """Record who reports to the bureaus."""
    checked = Furnisher(
        identification_number=_ascii(
            "the identification number", furnisher.identification_number, 20
        ),
        name=_ascii("the furnisher's name", furnisher.name, 40),
        address=_ascii("the furnisher's address", furnisher.address, 96),
        telephone=_digits("the furnisher's telephone", furnisher.telephone, (10,)) or "",
    )
    row = session.get(Setting, FURNISHER_SETTING)
    value = json.dumps(asdict(checked))
    if row is None:
        session.add(Setting(name=FURNISHER_SETTING, value=value))
    else:
        row.value = value


def furnisher(session: Session) -> Furnisher | None:
    """Who reports, or ``None`` before :func:`set_furnisher`."""
    row = session.get(Setting, FURNISHER_SETTING)
    return None if row is None else Furnisher(**json.loads(row.value))


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsumerInput:
    """A borrower's Metro 2 identification, as typed."""

    surname: str
    first_name: str
    first_line_address: str
    city: str
    state: str
    postal_code: str
    middle_name: str = ""
    generation_code: str = ""
    social_security_number: str | None = None
    date_of_birth: dt.date | None = None
    telephone_number: str | None = None
    second_line_address: str = ""
    ecoa_code: str = "1"


def set_consumer(session: Session, borrower_id: int, data: ConsumerInput) -> None:
    """Record (or replace) the Metro 2 identification of borrower ``borrower_id``."""
    borrower = session.get(Borrower, borrower_id)
    if borrower is None:
        raise NotFoundError(f"borrower {borrower_id} does not exist")
    ssn = _digits("the social security number", data.social_security_number, (9,))
    if ssn is None and data.date_of_birth is None:
        raise BureauInputError("a social security number or a date of birth is required")
    state = _ascii("the state", data.state, 2)
    if len(state) != 2 or not state.isalpha():
        raise BureauInputError("the state must be a two-letter code")
    values = {
        "surname": _ascii("the surname", data.surname, 25),
        "first_name": _ascii("the first name", data.first_name, 20),
        "middle_name": _ascii("the middle name", data.middle_name, 20, required=False),
        "generation_code": _ascii("the generation code", data.generation_code, 1, required=False),
        "social_security_number": ssn,
        "date_of_birth": data.date_of_birth,
        "telephone_number": _digits("the telephone number", data.telephone_number, (10,)),
        "ecoa_code": _ascii("the ECOA code", data.ecoa_code, 1),
        "country_code": "US",
        "first_line_address": _ascii("the first line of the address", data.first_line_address, 32),
        "second_line_address": _ascii(
            "the second line of the address", data.second_line_address, 32, required=False
        ),
        "city": _ascii("the city", data.city, 20),
        "state": state,
        "postal_code": _digits("the ZIP code", data.postal_code, (5, 9)) or "",
    }
    row = session.get(BureauConsumer, borrower_id)
    if row is None:
        session.add(BureauConsumer(borrower_id=borrower_id, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)


def _loan(session: Session, loan_id: int) -> Loan:
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFoundError(f"loan {loan_id} does not exist")
    return loan


def account(session: Session, loan_id: int) -> BureauAccount:
    """The loan's reporting settings, created with the defaults on first use."""
    _loan(session, loan_id)
    row = session.get(BureauAccount, loan_id)
    if row is None:
        row = BureauAccount(loan_id=loan_id, portfolio_type="I", account_type="01")
        session.add(row)
    return row


def assign_to_collections(session: Session, loan_id: int, on: dt.date | None) -> None:
    """Mark the loan assigned to collections from ``on`` (None: not in collections)."""
    account(session, loan_id).collections_on = on


def set_original_creditor(session: Session, loan_id: int, name: str, classification: int) -> None:
    """The original creditor of a purchased or collection account (the K1 segment)."""
    if not 1 <= classification <= 99:
        raise BureauInputError("the creditor classification must be a code from 01 to 99")
    row = account(session, loan_id)
    row.original_creditor_name = _ascii("the original creditor's name", name, 30)
    row.creditor_classification = classification


def add_associate(session: Session, loan_id: int, borrower_id: int, ecoa_code: str = "2") -> int:
    """Add another consumer (a co-borrower, with a Metro 2 identification) to the loan."""
    _loan(session, loan_id)
    if session.get(BureauConsumer, borrower_id) is None:
        raise BureauInputError(
            f"borrower {borrower_id} has no Metro 2 identification; add it first"
        )
    row = BureauAssociate(
        loan_id=loan_id, borrower_id=borrower_id, ecoa_code=_ascii("the ECOA code", ecoa_code, 1)
    )
    session.add(row)
    session.flush()
    return row.id


def add_comment(
    session: Session, loan_id: int, kind: str, starts_on: dt.date, ends_on: dt.date | None
) -> int:
    """A restructuring or deferral over ``starts_on``..``ends_on``: its special comment."""
    _loan(session, loan_id)
    if kind not in COMMENT_CODES:
        raise BureauInputError(f"unknown kind {kind!r}; use {' or '.join(COMMENT_CODES)}")
    if ends_on is not None and ends_on < starts_on:
        raise BureauInputError(f"the comment ends {ends_on}, before it starts {starts_on}")
    row = BureauComment(
        loan_id=loan_id, kind=kind, code=COMMENT_CODES[kind], starts_on=starts_on, ends_on=ends_on
    )
    session.add(row)
    session.flush()
    return row.id


def _open_dispute(session: Session, loan_id: int) -> BureauDispute | None:
    return session.scalars(
        select(BureauDispute).where(
            BureauDispute.loan_id == loan_id, BureauDispute.resolved_on.is_(None)
        )
    ).first()


def open_dispute(session: Session, loan_id: int, on: dt.date, note: str | None = None) -> int:
    """Record that the consumer disputes the loan's reporting from ``on``: XB until resolved."""
    _loan(session, loan_id)
    if _open_dispute(session, loan_id) is not None:
        raise BureauInputError(f"loan {loan_id} already has an open dispute")
    row = BureauDispute(loan_id=loan_id, opened_on=on, consumer_disagrees=False, note=note)
    session.add(row)
    session.flush()
    return row.id


def resolve_dispute(
    session: Session, loan_id: int, on: dt.date, *, consumer_disagrees: bool
) -> int:
    """Close the loan's open dispute on ``on``: XH, or XC when the consumer disagrees."""
    _loan(session, loan_id)
    row = _open_dispute(session, loan_id)
    if row is None:
        raise BureauInputError(f"loan {loan_id} has no open dispute")
    if on < row.opened_on:
        raise BureauInputError(f"the dispute was opened {row.opened_on}, after {on}")
    row.resolved_on = on
    row.consumer_disagrees = consumer_disagrees
    return row.id


def delete_account(session: Session, loan_id: int, code: str, month: str) -> None:
    """Mark the account deleted from the bureaus from ``month``: DA, or DF for fraud."""
    if code not in ("DA", "DF"):
        raise BureauInputError(f"a deletion is DA or DF, not {code!r}")
    row = account(session, loan_id)
    row.deleted_as = code
    row.deleted_month = month
