"""What the collector workbench reads: a collector's queue, one case with everything a collector
needs before a call, and a loan's collection and legal cases for the loan page.

- The **queue** is :func:`tenor.collect.queue.collector_queue` at the console's clock and the
  business date: open call and visit tasks, those the contact rules allow now first, then
  broken promises, then expected value. Each entry carries the rules' answer for its channel.
- A **case** is :func:`tenor.collect.queue.case_document` with the loan's balances (arrears
  included), the borrower masked as the viewer's role requires, and the contact rules' answer
  (:func:`tenor.collect.contacts.check_contact`) for the case's open task at this instant:
  what the collector reads before dialling. The same check runs again when an outcome is
  recorded (:func:`tenor.collect.actions.record_outcome`), which refuses a forbidden call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.api.roles import Principal, borrower_view
from tenor.collect.actions import MAX_PROMISE_DAYS
from tenor.collect.contacts import check_contact
from tenor.collect.queue import QueueEntry, case_document, collector_queue, legal_document
from tenor.collect.strategy import strategy_in_force
from tenor.collect.tables import Agency, CollectionCase, Collector, LegalCase
from tenor.core.collection import OutcomeCode
from tenor.core.contact import Channel, Refused
from tenor.core.money import Money
from tenor.store.journal import NotFoundError
from tenor.store.models import Borrower
from tenor.store.reads import get_loan

#: How many days ahead the promise form proposes the promised date.
PROMISE_DAYS_AHEAD: Final = 3

#: Outcomes recorded with one button each, in the order a call most often ends; a promise to
#: pay has its own form (amount and date).
OUTCOME_BUTTONS: Final = tuple(
    code for code in OutcomeCode if code is not OutcomeCode.PROMISE_TO_PAY
)

#: The channels a collector works from the queue.
TASK_CHANNELS: Final = ("call", "visit")


@dataclass(frozen=True, slots=True)
class ContactAnswer:
    """What the contact rules say of one contact at one instant: allowed (with conditions), or
    refused by ``rule`` until ``next_allowed_at`` (None: time alone does not lift it)."""

    channel: str
    at: dt.datetime
    allowed: bool
    conditions: tuple[str, ...] = ()
    rule: str | None = None
    reason: str | None = None
    next_allowed_at: dt.datetime | None = None


def contact_answer(
    session: Session, borrower: Borrower, loan_id: int, channel: str, at: dt.datetime
) -> ContactAnswer:
    """May the borrower be contacted about the loan on ``channel`` at ``at``, under the contact
    profile of the strategy in force?"""
    document, _ = strategy_in_force(session)
    decision = check_contact(
        session, borrower, loan_id, Channel(channel), at, document.contact_profile
    )
    if isinstance(decision, Refused):
        return ContactAnswer(
            channel, at, False, (), decision.rule, decision.reason, decision.next_allowed_at
        )
    return ContactAnswer(channel, at, True, tuple(decision.conditions))


def collectors(session: Session) -> list[Collector]:
    """Every active collector, by id: whose queue an admin or a reader may open."""
    return list(
        session.scalars(select(Collector).where(Collector.active.is_(True)).order_by(Collector.id))
    )


@dataclass(frozen=True, slots=True)
class Queue:
    """A collector's queue at an instant, and each borrower's time zone (the rules' times are
    the borrower's local ones)."""

    collector_id: int
    collector_name: str
    team: str
    at: dt.datetime
    entries: list[QueueEntry]
    zones: dict[int, str]

    def position(self, case_id: int) -> int | None:
        """The rank of the case's first task in the queue, or None when it is not in it."""
        return next((e.rank for e in self.entries if e.case_id == case_id), None)

    def after(self, case_id: int) -> QueueEntry | None:
        """The first entry of another case: where a collector goes once this case is done."""
        return next((e for e in self.entries if e.case_id != case_id), None)


def queue(session: Session, collector_id: int, at: dt.datetime, day: dt.date) -> Queue:
    """Collector ``collector_id``'s tasks in working order at ``at`` (NotFoundError)."""
    collector = session.get(Collector, collector_id)
    if collector is None:
        raise NotFoundError(f"collector {collector_id} does not exist")
    entries = collector_queue(session, collector_id, at, day)
    ids = {entry.borrower_id for entry in entries}
    zones = (
        {
            int(row[0]): str(row[1] or "")
            for row in session.execute(
                select(Borrower.id, Borrower.time_zone).where(Borrower.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    return Queue(collector.id, collector.name, collector.team, at, entries, zones)


@dataclass(frozen=True, slots=True)
class CaseView:
    """One case as the workbench shows it."""

    case: dict[str, Any]
    loan: dict[str, Any]
    borrower: dict[str, Any]
    time_zone: str
    task: dict[str, Any] | None
    answer: ContactAnswer
    names: dict[str, dict[int, str]]
    legal: list[dict[str, Any]]
    promise_amount: str
    promise_date: dt.date
    last_promise_date: dt.date
    business_date: dt.date

    @property
    def is_open(self) -> bool:
        """Whether outcomes may still be recorded on the case."""
        return bool(self.case["status"] == "open")

    @property
    def pending_promises(self) -> list[dict[str, Any]]:
        """The case's promises still waiting for the close's judgement."""
        return [p for p in self.case["promises"] if p["status"] == "pending"]


def _names(session: Session, model: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        int(row[0]): str(row[1])
        for row in session.execute(select(model.id, model.name).where(model.id.in_(ids)))
    }


def people(session: Session, cases: list[dict[str, Any]]) -> dict[str, dict[int, str]]:
    """The names of the collectors and agencies ``cases`` (case documents) mention."""
    collector_ids = {c["collector_id"] for c in cases if c["collector_id"] is not None}
    agency_ids = {c["agency_id"] for c in cases if c["agency_id"] is not None}
    for case in cases:
        collector_ids |= {a["collector_id"] for a in case["actions"] if a["collector_id"]}
        collector_ids |= {o["collector_id"] for o in case["outcomes"] if o["collector_id"]}
        agency_ids |= {o["agency_id"] for o in case["outcomes"] if o["agency_id"]}
        agency_ids |= {p["agency_id"] for p in case["placements"]}
    return {
        "collectors": _names(session, Collector, collector_ids),
        "agencies": _names(session, Agency, agency_ids),
    }


def case_view(
    session: Session, case_id: int, principal: Principal, at: dt.datetime, day: dt.date
) -> CaseView:
    """Case ``case_id`` (NotFoundError) with its loan, borrower, open task and the contact
    rules' answer for that task (a call when there is none) at ``at``."""
    case = case_document(session, case_id)
    borrower = session.get(Borrower, case["borrower_id"])
    assert borrower is not None  # a case's borrower row always exists (foreign key)
    loan = get_loan(session, case["loan_id"])
    task = next(
        (a for a in case["actions"] if a["state"] == "task" and a["kind"] in TASK_CHANNELS), None
    )
    channel = "call" if task is None else str(task["kind"])
    # The promise form proposes the arrears (what is overdue now), never more than the case's
    # balance, which is the most a promise may be for.
    currency = case["currency"]
    arrears = Money.of(Decimal(loan["arrears"] or 0), currency)
    balance = Money.of(Decimal(case["balance"]), currency)
    proposed = arrears if arrears.is_positive and arrears <= balance else balance
    legal_ids = session.scalars(
        select(LegalCase.id).where(LegalCase.loan_id == case["loan_id"]).order_by(LegalCase.id)
    )
    return CaseView(
        case=case,
        loan=loan,
        borrower=borrower_view(borrower, principal),
        time_zone=borrower.time_zone or "",
        task=task,
        answer=contact_answer(session, borrower, case["loan_id"], channel, at),
        names=people(session, [case]),
        legal=[legal_document(session, legal_id) for legal_id in legal_ids],
        promise_amount=str(proposed.amount),
        promise_date=day + dt.timedelta(days=PROMISE_DAYS_AHEAD),
        last_promise_date=day + dt.timedelta(days=MAX_PROMISE_DAYS),
        business_date=day,
    )


@dataclass(frozen=True, slots=True)
class LoanCollections:
    """A loan's collection cases (newest first) and legal cases, for the loan page."""

    cases: list[dict[str, Any]]
    legal: list[dict[str, Any]]
    names: dict[str, dict[int, str]]


def loan_collections(session: Session, loan_id: int, *, legal: bool) -> LoanCollections:
    """The loan's collection cases with their actions, outcomes and promises, and (``legal``:
    the viewer may read them) its legal cases with their dated stages."""
    case_ids = list(
        session.scalars(
            select(CollectionCase.id)
            .where(CollectionCase.loan_id == loan_id)
            .order_by(CollectionCase.id.desc())
        )
    )
    cases = [case_document(session, case_id) for case_id in case_ids]
    legal_cases = []
    if legal:
        legal_cases = [
            legal_document(session, legal_id)
            for legal_id in session.scalars(
                select(LegalCase.id).where(LegalCase.loan_id == loan_id).order_by(LegalCase.id)
            )
        ]
    return LoanCollections(cases, legal_cases, people(session, cases))
