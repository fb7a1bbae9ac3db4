"""Bureau files: Metro 2 and PBOC-style records of the whole book for one month, and
corrections that re-report one account's past month.

Every account's record is built from its journal (see :mod:`tenor.bureau.snapshot`) and, for
Metro 2, checked with :func:`tenor.core.bureau.validate_base`. An account that cannot be
reported correctly is held back with its reasons, never sent with a guess; the file is checked
again as a whole before it is written.

PBOC-style JSON schema (``format: tenor-pboc``, ``version: 1``): ``month`` (YYYY-MM) and
``records``, each with ``loan_id``, ``account_number``, ``borrower`` (``name``,
``national_id``), ``currency``, ``opened_on``, ``closed_on``, ``status_character``,
``history_24`` and ``history_60`` (oldest month first, ``/`` before the loan opened),
``account_status`` and ``account_status_en``, ``loan_class`` (1-5) with ``loan_class_zh`` and
``loan_class_en``, ``balance``, ``overdue_amount``, ``scheduled_payment``, ``actual_payment``
(decimal strings in the loan's currency), ``days_past_due``, ``last_payment_on``,
``special_transactions`` (``kind`` in Chinese, ``kind_en``) and ``correction``. The CSV has
the same fields, one column each, special transactions joined by ``;``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.bureau.records import COMMENT_CODES, BureauInputError, Furnisher, furnisher
from tenor.bureau.snapshot import LoanHistory, month_facts
from tenor.bureau.tables import (
    BureauAccount,
    BureauAssociate,
    BureauComment,
    BureauConsumer,
    BureauDispute,
    BureauExport,
)
from tenor.core.bureau import (
    AccountRecord,
    Address,
    BaseSegment,
    Consumer,
    Dispute,
    HeaderRecord,
    J1Segment,
    J2Segment,
    K1Segment,
    Metro2Month,
    compliance_condition,
    encode_file,
    metro2_months,
    month_end,
    pboc_months,
    terms_frequency,
    validate_base,
    whole_units,
)
from tenor.core.errors import InvalidArgumentError
from tenor.store.journal import NotFoundError, business_date, load_events, load_loan
from tenor.store.models import Borrower, JournalEntry, Loan
from tenor.store.reads import amount

#: Loan statuses that have a journal worth reporting.
REPORTED_LOAN_STATUSES: Final = ("active", "overpaid", "closed", "written-off")

#: Metro 2 statuses reported once, in the month they are reached.
_FINAL_STATUSES: Final = frozenset({"13", "62", "64"})

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text: str) -> dt.date:
    """The last day of the month ``YYYY-MM``."""
    match = _MONTH.fullmatch(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InvalidArgumentError(f"--month must be a month as YYYY-MM, not {text!r}")
    return month_end(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True, slots=True)
class Held:
    """An account held back from a file, and why."""

    loan_id: int
    reasons: tuple[str, ...]


@dataclass(slots=True)
class Export:
    """A file's text and what went into it."""

    format: str
    month: str
    text: str
    records: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    held_back: list[Held] = field(default_factory=list)
    not_reported: int = 0

    def summary(self) -> dict[str, Any]:
        """Counts and held-back accounts, for people and for ``--json``."""
        return {
            "format": self.format,
            "month": self.month,
            "records": self.records,
            "status_counts": dict(sorted(self.status_counts.items())),
            "not_reported": self.not_reported,
            "held_back": [
                {"loan_id": held.loan_id, "reasons": list(held.reasons)} for held in self.held_back
            ],
        }


def _check_month_ended(session: Session, end: dt.date) -> None:
    today = business_date(session)
    if end >= today:
        raise BureauInputError(f"the month {end:%Y-%m} has not ended: the business date is {today}")


def _check_correction(export: Export, loan_id: int | None) -> None:
    """A correction that would write no record is refused, with the reason."""
    if loan_id is None or export.records:
        return
    if export.held_back:
        raise BureauInputError(
            f"loan {loan_id} cannot be reported: {'; '.join(export.held_back[0].reasons)}"
        )
    raise BureauInputError(f"loan {loan_id} has nothing to report for {export.month}")


def _loan_rows(session: Session, loan_id: int | None) -> list[tuple[Loan, Borrower]]:
    statement = (
        select(Loan, Borrower)
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .where(Loan.status.in_(REPORTED_LOAN_STATUSES))
        .order_by(Loan.id)
    )
    if loan_id is not None:
        if session.get(Loan, loan_id) is None:
            raise NotFoundError(f"loan {loan_id} does not exist")
        statement = statement.where(Loan.id == loan_id)
    return [(loan, borrower) for loan, borrower in session.execute(statement)]


def _history(session: Session, loan: Loan, end: dt.date, row: BureauAccount | None) -> LoanHistory:
    return month_facts(
        load_loan(session, loan.id),
        load_events(session, loan.id),
        end,
        collections_on=row.collections_on if row is not None else None,
    )


def _comment_spans(session: Session, loan_id: int) -> list[tuple[str, dt.date, dt.date | None]]:
    """(code, from, until) of each restructuring or deferral: the journal's own events when
    the relief capability writes them, and the comments recorded here."""
    spans: list[tuple[str, dt.date, dt.date | None]] = [
        (row.code, row.starts_on, row.ends_on)
        for row in session.scalars(select(BureauComment).where(BureauComment.loan_id == loan_id))
    ]
    journal = session.execute(
        select(JournalEntry.kind, JournalEntry.value_date).where(
            JournalEntry.loan_id == loan_id, JournalEntry.kind.in_(tuple(COMMENT_CODES))
        )
    )
    spans += [(COMMENT_CODES[kind], day, None) for kind, day in journal]
    return spans


def _special_comment(spans: Sequence[tuple[str, dt.date, dt.date | None]], end: dt.date) -> str:
    first = end.replace(day=1)
    active = [
        (start, code)
        for code, start, until in spans
        if start <= end and (until is None or until >= first)
    ]
    return max(active)[1] if active else ""


def _consumer(row: BureauConsumer, ecoa_code: str | None = None) -> Consumer:
    return Consumer(
        surname=row.surname,
        first_name=row.first_name,
        middle_name=row.middle_name,
        generation_code=row.generation_code,
        social_security_number=int(row.social_security_number or 0),
        date_of_birth=row.date_of_birth,
        telephone_number=int(row.telephone_number or 0),
        ecoa_code=ecoa_code or row.ecoa_code,
    )


def _address(row: BureauConsumer) -> Address:
    return Address(
        first_line_address=row.first_line_address,
        second_line_address=row.second_line_address,
        city=row.city,
        state=row.state,
        postal_code=row.postal_code,
        country_code=row.country_code,
    )


def _metro2_record(
    session: Session,
    loan: Loan,
    history: LoanHistory,
    month: Metro2Month,
    consumer: BureauConsumer,
    row: BureauAccount | None,
    source: Furnisher,
    now: dt.datetime,
    *,
    correction: bool,
    delete_as: str | None,
) -> AccountRecord:
    facts = month.facts
    end = facts.month_end
    disputes = [
        Dispute(d.opened_on, d.resolved_on, d.consumer_disagrees)
        for d in session.scalars(select(BureauDispute).where(BureauDispute.loan_id == loan.id))
    ]
    status = delete_as or month.account_status
    charged_off = status in ("64", "97")
    unit, count = history.frequency
    base = BaseSegment(
        time_stamp=now.replace(microsecond=0, tzinfo=None),
        correction_indicator=1 if correction else 0,
        identification_number=source.identification_number,
        consumer_account_number=str(loan.id),
        portfolio_type=row.portfolio_type if row is not None else "I",
        account_type=row.account_type if row is not None else "01",
        date_opened=history.disbursed_on or end,
        highest_credit=whole_units(history.disbursed),
        terms_duration=f"{history.term:03d}",
        terms_frequency=terms_frequency(unit, count) or "",
        scheduled_monthly_payment=whole_units(facts.scheduled_payment),
        actual_payment=whole_units(facts.paid_in_month),
        account_status=status,
        payment_rating="" if delete_as else month.payment_rating,
        payment_history_profile=month.payment_history_profile,
        special_comment=_special_comment(_comment_spans(session, loan.id), end)
        if facts.balance
        else "",
        compliance_condition_code=compliance_condition(disputes, end),
        current_balance=whole_units(facts.balance),
        amount_past_due=0 if status == "11" else whole_units(facts.past_due),
        original_charge_off_amount=whole_units(facts.written_off) if charged_off else 0,
        date_of_account_information=end,
        date_of_first_delinquency=month.date_of_first_delinquency,
        date_closed=facts.closed_on or facts.written_off_on,
        date_of_last_payment=facts.last_payment_on,
        consumer=_consumer(consumer),
        address=_address(consumer),
    )
    j1: list[J1Segment] = []
    j2: list[J2Segment] = []
    associates = session.execute(
        select(BureauAssociate, BureauConsumer)
        .join(BureauConsumer, BureauConsumer.borrower_id == BureauAssociate.borrower_id)
        .where(BureauAssociate.loan_id == loan.id)
        .order_by(BureauAssociate.id)
    )
    for associate, other in associates:
        if _address(other) == base.address:
            j1.append(J1Segment(consumer=_consumer(other, associate.ecoa_code)))
        else:
            j2.append(
                J2Segment(consumer=_consumer(other, associate.ecoa_code), address=_address(other))
            )
    k1 = None
    if row is not None and row.original_creditor_name:
        k1 = K1Segment(
            original_creditor_name=row.original_creditor_name,
            creditor_classification=row.creditor_classification or 0,
        )
    return AccountRecord(base=base, j1=tuple(j1), j2=tuple(j2), k1=k1)


def _metro2_hold_reasons(
    loan: Loan, borrower: Borrower, consumer: BureauConsumer | None, history: LoanHistory
) -> list[str]:
    reasons = []
    if borrower.kind != "individual":
        reasons.append("Metro 2 reports consumers; the borrower is an enterprise")
    if loan.currency != "USD":
        reasons.append(f"Metro 2 reports US dollars; the loan is in {loan.currency}")
    if consumer is None:
        reasons.append(
            f"borrower {borrower.id} has no Metro 2 identification (`tenor bureau consumer`)"
        )
    if terms_frequency(*history.frequency) is None:
        reasons.append(
            f"Metro 2 has no terms frequency for every {history.frequency[1]} "
            f"{history.frequency[0]}s"
        )
    return reasons


def metro2_export(
    session: Session,
    end: dt.date,
    now: dt.datetime,
    *,
    loan_id: int | None = None,
    delete_as: str | None = None,
) -> Export:
    """The Metro 2 file for the month ending ``end``: every reportable account, or with
    ``loan_id`` a correction of that one account's record (``delete_as`` DA or DF deletes it)."""
    _check_month_ended(session, end)
    source = furnisher(session)
    if source is None:
        raise BureauInputError(
            "no furnisher is set; set it with `tenor bureau furnisher` before exporting"
        )
    correction = loan_id is not None
    export = Export(format="metro2", month=f"{end:%Y-%m}", text="")
    records: list[AccountRecord] = []
    for loan, borrower in _loan_rows(session, loan_id):
        row = session.get(BureauAccount, loan.id)
        if (
            not correction
            and row is not None
            and row.deleted_as
            and (row.deleted_month or "") <= export.month
        ):
            export.not_reported += 1
            continue
        history = _history(session, loan, end, row)
        if not history.months:
            export.not_reported += 1
            continue
        months = metro2_months(history.months)
        month = months[-1]
        if (
            not correction
            and len(months) > 1
            and months[-2].account_status in _FINAL_STATUSES
            and month.account_status == months[-2].account_status
        ):
            export.not_reported += 1
            continue
        consumer = session.get(BureauConsumer, borrower.id)
        reasons = _metro2_hold_reasons(loan, borrower, consumer, history)
        if consumer is not None and not reasons:
            record = _metro2_record(
                session,
                loan,
                history,
                month,
                consumer,
                row,
                source,
                now,
                correction=correction,
                delete_as=delete_as,
            )
            reasons = validate_base(record.base, end)
            if not reasons:
                records.append(record)
                continue
        export.held_back.append(Held(loan.id, tuple(reasons)))
    export.records = len(records)
    _check_correction(export, loan_id)
    for record in records:
        problems = validate_base(record.base, end)
        if problems:
            raise BureauInputError(
                f"refusing to write the file: account {record.base.consumer_account_number}: "
                f"{problems[0]}"
            )
    header = HeaderRecord(
        activity_date=end,
        date_created=now.date(),
        reporter_name=source.name,
        reporter_address=source.address,
        reporter_telephone_number=int(source.telephone or 0),
    )
    export.text = encode_file(header, records)
    for record in records:
        status = record.base.account_status
        export.status_counts[status] = export.status_counts.get(status, 0) + 1
    return export


def _pboc_record(loan: Loan, borrower: Borrower, month: Any, *, correction: bool) -> dict[str, Any]:
    facts = month.facts
    currency = loan.currency
    status = month.account_status
    return {
        "loan_id": loan.id,
        "account_number": str(loan.id),
        "borrower": {"name": borrower.name, "national_id": borrower.national_id},
        "month": f"{facts.month_end:%Y-%m}",
        "currency": currency,
        "opened_on": None,
        "closed_on": facts.closed_on.isoformat() if facts.closed_on else None,
        "status_character": month.status_character,
        "history_24": month.history_24,
        "history_60": month.history_60,
        "account_status": status.value if status else None,
        "account_status_en": status.label_en if status else None,
        "loan_class": int(facts.loan_class),
        "loan_class_zh": facts.loan_class.label_zh,
        "loan_class_en": facts.loan_class.label_en,
        "balance": amount(facts.balance.minor, currency),
        "overdue_amount": amount(facts.past_due.minor, currency),
        "scheduled_payment": amount(facts.scheduled_payment.minor, currency),
        "actual_payment": amount(facts.paid_in_month.minor, currency),
        "days_past_due": facts.days_past_due,
        "last_payment_on": facts.last_payment_on.isoformat() if facts.last_payment_on else None,
        "special_transactions": [
            {"kind": kind.value, "kind_en": kind.label_en} for kind in month.special_transactions
        ],
        "correction": correction,
    }


#: The CSV's columns, in order.
PBOC_CSV_COLUMNS: Final = (
    "loan_id",
    "account_number",
    "borrower_name",
    "borrower_national_id",
    "month",
    "currency",
    "opened_on",
    "closed_on",
    "status_character",
    "history_24",
    "history_60",
    "account_status",
    "account_status_en",
    "loan_class",
    "loan_class_zh",
    "loan_class_en",
    "balance",
    "overdue_amount",
    "scheduled_payment",
    "actual_payment",
    "days_past_due",
    "last_payment_on",
    "special_transactions",
    "correction",
)


def pboc_csv(records: Sequence[dict[str, Any]]) -> str:
    """The records as CSV, one row each, in :data:`PBOC_CSV_COLUMNS` order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PBOC_CSV_COLUMNS)
    for record in records:
        flat = {
            **record,
            "borrower_name": record["borrower"]["name"],
            "borrower_national_id": record["borrower"]["national_id"],
            "special_transactions": ";".join(s["kind"] for s in record["special_transactions"]),
        }
        writer.writerow(["" if flat[c] is None else flat[c] for c in PBOC_CSV_COLUMNS])
    return out.getvalue()


def pboc_export(
    session: Session, end: dt.date, *, loan_id: int | None = None, as_csv: bool = False
) -> Export:
    """The PBOC-style records of the month ending ``end`` (JSON, or CSV), or with ``loan_id``
    a correction of that one account's record."""
    _check_month_ended(session, end)
    correction = loan_id is not None
    export = Export(format="pboc", month=f"{end:%Y-%m}", text="")
    records: list[dict[str, Any]] = []
    for loan, borrower in _loan_rows(session, loan_id):
        row = session.get(BureauAccount, loan.id)
        history = _history(session, loan, end, row)
        if not history.months:
            export.not_reported += 1
            continue
        extended = [start for _, start, _ in _comment_spans(session, loan.id)]
        months = pboc_months(history.months, extended)
        month = months[-1]
        if (
            not correction
            and len(months) > 1
            and months[-2].status_character == "C"
            and month.status_character == "C"
        ):
            export.not_reported += 1
            continue
        if not (borrower.national_id or "").strip():
            export.held_back.append(Held(loan.id, ("the borrower has no national id on file",)))
            continue
        record = _pboc_record(loan, borrower, month, correction=correction)
        record["opened_on"] = history.disbursed_on.isoformat() if history.disbursed_on else None
        records.append(record)
        status = record["account_status"] or "-"
        export.status_counts[status] = export.status_counts.get(status, 0) + 1
    export.records = len(records)
    _check_correction(export, loan_id)
    if as_csv:
        export.text = pboc_csv(records)
    else:
        document = {
            "format": "tenor-pboc",
            "version": 1,
            "month": export.month,
            "records": records,
        }
        export.text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return export


def log_export(session: Session, export: Export, *, kind: str, loan_id: int | None) -> int:
    """Keep a row for a file written: its counts, held-back accounts and SHA-256."""
    row = BureauExport(
        format=export.format,
        month=export.month,
        kind=kind,
        loan_id=loan_id,
        records=export.records,
        summary=export.summary(),
        sha256=hashlib.sha256(export.text.encode()).hexdigest(),
    )
    session.add(row)
    session.flush()
    return row.id
