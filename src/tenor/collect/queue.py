"""Reads of collections: a collector's work queue, an agency's cases, a case with its history.

A queue holds the collector's open call and visit tasks on cases that are neither placed with
an agency nor paused (a promise, a dispute, hardship), ordered by
:func:`tenor.core.collection.queue_order`: the cases the contact rules allow to be contacted
at that instant first, then cases with a broken promise, then expected value, balance x
propensity to pay - the action's cost. Propensity comes from the promoted propensity model when
there is one and from a transparent heuristic otherwise (:mod:`tenor.collect.propensity`); each
row says which.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.collect.contacts import HISTORY_DAYS, shared_history
from tenor.collect.propensity import Propensity, loan_propensities
from tenor.collect.strategy import strategy_in_force
from tenor.collect.tables import (
    Agency,
    CaseAction,
    CollectionCase,
    Collector,
    ContactOutcome,
    Dispute,
    LegalCase,
    LegalCost,
    LegalDocument,
    LegalEvent,
    Placement,
    Promise,
)
from tenor.core.collection import (
    ActionKind,
    QueueItem,
    queue_order,
)
from tenor.core.contact import Allowed, Channel, Contact, check, profile
from tenor.core.money import Money
from tenor.notify.reminders import borrower_context
from tenor.store.journal import NotFoundError
from tenor.store.models import Borrower

#: How long a broken promise keeps a case above the others.
BROKEN_PROMISE_DAYS = 7


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One task in a collector's queue, with what orders it and what the contact rules say."""

    rank: int
    case_id: int
    task_id: int
    action: str
    loan_id: int
    borrower_id: int
    borrower_name: str
    locale: str
    segment: str
    arm: str
    days_past_due: int
    balance: Money
    propensity: Decimal
    propensity_source: str
    contact_cost: Money
    expected_value: Money
    broken_promise: bool
    contactable_now: bool
    refused_rule: str | None
    next_allowed_at: dt.datetime | None

    def document(self) -> dict[str, Any]:
        """The entry as JSON (amounts as decimal strings)."""
        return {
            "rank": self.rank,
            "case_id": self.case_id,
            "task_id": self.task_id,
            "action": self.action,
            "loan_id": self.loan_id,
            "borrower_id": self.borrower_id,
            "borrower_name": self.borrower_name,
            "locale": self.locale,
            "segment": self.segment,
            "arm": self.arm,
            "days_past_due": self.days_past_due,
            "balance": str(self.balance.amount),
            "currency": self.balance.currency,
            "propensity": str(self.propensity),
            "propensity_source": self.propensity_source,
            "contact_cost": str(self.contact_cost.amount),
            "expected_value": str(self.expected_value.amount),
            "broken_promise": self.broken_promise,
            "contactable_now": self.contactable_now,
            "refused_rule": self.refused_rule,
            "next_allowed_at": None
            if self.next_allowed_at is None
            else self.next_allowed_at.isoformat(),
        }


def propensities(
    session: Session, cases: Sequence[CollectionCase], day: dt.date
) -> dict[int, Propensity]:
    """Each case's propensity to pay, by its loan (:func:`loan_propensities`)."""
    by_loan = loan_propensities(session, {case.loan_id: case.days_past_due for case in cases}, day)
    return {case.id: by_loan[case.loan_id] for case in cases}


def on_shift(collector: Collector, at: dt.datetime) -> bool:
    """Whether ``at`` falls in the collector's working hours, in their time zone."""
    local = at.astimezone(ZoneInfo(collector.time_zone))
    return collector.work_start <= local.hour < collector.work_end


def collector_queue(
    session: Session, collector_id: int, at: dt.datetime, day: dt.date
) -> list[QueueEntry]:
    """A collector's open tasks in working order at instant ``at`` (business date ``day``)."""
    collector = session.get(Collector, collector_id)
    if collector is None:
        raise NotFoundError(f"collector {collector_id} does not exist")
    rows = session.execute(
        select(CaseAction, CollectionCase)
        .join(CollectionCase, CollectionCase.id == CaseAction.case_id)
        .where(
            CaseAction.state == "task",
            CollectionCase.status == "open",
            # An agency works its placed cases; a paused case (a promise, a dispute, hardship)
            # is not called until the close resumes it.
            CollectionCase.agency_id.is_(None),
            CollectionCase.paused.is_(None),
        )
        .order_by(CaseAction.id)
    ).all()
    mine = [
        (task, case)
        for task, case in rows
        if task.collector_id == collector_id or collector_id in task.detail.get("crew", [])
    ]
    return _entries(session, mine, at, day)


def _entries(
    session: Session,
    tasks: Sequence[tuple[CaseAction, CollectionCase]],
    at: dt.datetime,
    day: dt.date,
) -> list[QueueEntry]:
    if not tasks:
        return []
    document, version = strategy_in_force(session)
    strategy = document.strategy(version)
    rules = profile(document.contact_profile)
    cases = list({case.id: case for _, case in tasks}.values())
    chances = propensities(session, cases, day)
    borrowers = {
        b.id: b
        for b in session.scalars(
            select(Borrower).where(Borrower.id.in_({case.borrower_id for case in cases}))
        )
    }
    history = shared_history(session, borrowers, at - dt.timedelta(days=HISTORY_DAYS))
    broken_since = day - dt.timedelta(days=BROKEN_PROMISE_DAYS)
    broken = set(
        session.scalars(
            select(Promise.case_id).where(
                Promise.case_id.in_([case.id for case in cases]),
                Promise.status == "broken",
                Promise.decided_on >= broken_since,
            )
        )
    )
    items: dict[int, tuple[QueueItem, CaseAction, CollectionCase, Any]] = {}
    for task, case in tasks:
        borrower = borrowers[case.borrower_id]
        decision = check(
            Contact(Channel(task.kind), debt=str(case.loan_id)),
            history.get(borrower.id, []),
            borrower_context(borrower),
            rules,
            at,
        )
        item = QueueItem(
            case_id=task.id,
            balance_minor=case.balance_minor,
            propensity=chances[case.id].chance,
            contact_cost_minor=strategy.cost(ActionKind(task.kind)),
            contactable_now=isinstance(decision, Allowed),
            broken_promise=case.id in broken,
        )
        items[task.id] = (item, task, case, decision)
    entries = []
    for rank, item in enumerate(queue_order(entry[0] for entry in items.values()), start=1):
        _, task, case, decision = items[item.case_id]
        borrower = borrowers[case.borrower_id]
        refused = not isinstance(decision, Allowed)
        entries.append(
            QueueEntry(
                rank=rank,
                case_id=case.id,
                task_id=task.id,
                action=task.kind,
                loan_id=case.loan_id,
                borrower_id=case.borrower_id,
                borrower_name=borrower.name,
                locale=borrower.locale,
                segment=case.segment,
                arm=case.arm,
                days_past_due=case.days_past_due,
                balance=Money(case.balance_minor, case.currency),
                propensity=item.propensity,
                propensity_source=chances[case.id].source,
                contact_cost=Money(item.contact_cost_minor, case.currency),
                expected_value=Money(item.expected_value_minor, case.currency),
                broken_promise=item.broken_promise,
                contactable_now=not refused,
                refused_rule=decision.rule if refused else None,
                next_allowed_at=decision.next_allowed_at if refused else None,
            )
        )
    return entries


def case_document(
    session: Session, case_id: int, *, agency_id: int | None = None
) -> dict[str, Any]:
    """A case with its actions, contacts, promises, disputes, placements and legal cases.

    ``agency_id``: the reader is that agency, which sees only cases placed with it now.
    """
    case = session.get(CollectionCase, case_id)
    if case is None or (agency_id is not None and case.agency_id != agency_id):
        raise NotFoundError(f"collection case {case_id} does not exist")

    def money(minor: int | None) -> str | None:
        return None if minor is None else str(Money(minor, case.currency).amount)

    actions = session.scalars(
        select(CaseAction).where(CaseAction.case_id == case.id).order_by(CaseAction.id)
    )
    outcomes = session.scalars(
        select(ContactOutcome).where(ContactOutcome.case_id == case.id).order_by(ContactOutcome.id)
    )
    promises = session.scalars(
        select(Promise).where(Promise.case_id == case.id).order_by(Promise.id)
    )
    disputes = session.scalars(
        select(Dispute).where(Dispute.case_id == case.id).order_by(Dispute.id)
    )
    placements = session.scalars(
        select(Placement).where(Placement.case_id == case.id).order_by(Placement.id)
    )
    legal = session.scalars(
        select(LegalCase).where(LegalCase.loan_id == case.loan_id).order_by(LegalCase.id)
    )
    return {
        **case_summary(case),
        "actions": [
            {
                "id": a.id,
                "business_date": a.business_date.isoformat(),
                "segment": a.segment,
                "arm": a.arm,
                "step": a.step,
                "kind": a.kind,
                "state": a.state,
                "detail": a.detail,
                "cost": money(a.cost_minor),
                "collector_id": a.collector_id,
            }
            for a in actions
        ],
        "outcomes": [
            {
                "id": o.id,
                "at": o.at.isoformat(),
                "channel": o.channel,
                "code": o.code,
                "collector_id": o.collector_id,
                "agency_id": o.agency_id,
                "note": o.note,
            }
            for o in outcomes
        ],
        "promises": [promise_document(p) for p in promises],
        "disputes": [
            {
                "id": d.id,
                "opened_on": d.opened_on.isoformat(),
                "reason": d.reason,
                "resolved_on": None if d.resolved_on is None else d.resolved_on.isoformat(),
                "resolution": d.resolution,
            }
            for d in disputes
        ],
        "placements": [placement_document(p) for p in placements]
        if agency_id is None
        else [placement_document(p) for p in placements if p.agency_id == agency_id],
        "legal_cases": [legal.id for legal in legal] if agency_id is None else [],
    }


def case_summary(case: CollectionCase) -> dict[str, Any]:
    """A case's current standing, as JSON."""
    return {
        "id": case.id,
        "loan_id": case.loan_id,
        "borrower_id": case.borrower_id,
        "status": case.status,
        "opened_on": case.opened_on.isoformat(),
        "closed_on": None if case.closed_on is None else case.closed_on.isoformat(),
        "close_reason": case.close_reason,
        "strategy": case.strategy,
        "strategy_version": case.strategy_version,
        "segment": case.segment,
        "arm": case.arm,
        "steps_taken": case.steps_taken,
        "days_past_due": case.days_past_due,
        "balance": str(Money(case.balance_minor, case.currency).amount),
        "currency": case.currency,
        "paused": case.paused,
        "flags": case.flags,
        "collector_id": case.collector_id,
        "agency_id": case.agency_id,
    }


def promise_document(promise: Promise) -> dict[str, Any]:
    """A promise to pay as JSON."""
    return {
        "id": promise.id,
        "case_id": promise.case_id,
        "loan_id": promise.loan_id,
        "amount": str(Money(promise.amount_minor, promise.currency).amount),
        "currency": promise.currency,
        "made_on": promise.made_on.isoformat(),
        "due_date": promise.due_date.isoformat(),
        "channel": promise.channel,
        "status": promise.status,
        "paid": str(Money(promise.paid_minor, promise.currency).amount),
        "decided_on": None if promise.decided_on is None else promise.decided_on.isoformat(),
    }


def placement_document(placement: Placement) -> dict[str, Any]:
    """A placement as JSON."""
    return {
        "id": placement.id,
        "case_id": placement.case_id,
        "loan_id": placement.loan_id,
        "agency_id": placement.agency_id,
        "placed_on": placement.placed_on.isoformat(),
        "recall_on": placement.recall_on.isoformat(),
        "recalled_on": None if placement.recalled_on is None else placement.recalled_on.isoformat(),
        "recall_reason": placement.recall_reason,
        "rate": placement.rate,
        "days_past_due": placement.days_past_due,
    }


def agency_cases(session: Session, agency_id: int) -> list[dict[str, Any]]:
    """The cases placed with an agency now."""
    if session.get(Agency, agency_id) is None:
        raise NotFoundError(f"agency {agency_id} does not exist")
    return [
        case_summary(case)
        for case in session.scalars(
            select(CollectionCase)
            .where(CollectionCase.agency_id == agency_id, CollectionCase.status == "open")
            .order_by(CollectionCase.id)
        )
    ]


def legal_document(session: Session, legal_id: int) -> dict[str, Any]:
    """A legal case with its dated events, documents and costs."""
    legal = session.get(LegalCase, legal_id)
    if legal is None:
        raise NotFoundError(f"legal case {legal_id} does not exist")

    def money(minor: int | None) -> str | None:
        return None if minor is None else str(Money(minor, legal.currency).amount)

    return {
        "id": legal.id,
        "loan_id": legal.loan_id,
        "borrower_id": legal.borrower_id,
        "case_id": legal.case_id,
        "stage": legal.stage,
        "preservation": legal.preservation,
        "court": legal.court,
        "reference": legal.reference,
        "currency": legal.currency,
        "judgment": None
        if legal.judgment_amount_minor is None
        else {
            "amount": money(legal.judgment_amount_minor),
            "costs": money(legal.judgment_costs_minor),
            "interest": money(legal.judgment_interest_minor),
            "costs_to_borrower": legal.costs_to_borrower,
        },
        "opened_on": legal.opened_on.isoformat(),
        "closed_on": None if legal.closed_on is None else legal.closed_on.isoformat(),
        "events": [
            {
                "on": e.on.isoformat(),
                "kind": e.kind,
                "from": e.from_state,
                "to": e.to_state,
                "note": e.note,
                "actor": e.actor,
            }
            for e in session.scalars(
                select(LegalEvent)
                .where(LegalEvent.legal_case_id == legal.id)
                .order_by(LegalEvent.id)
            )
        ],
        "documents": [
            {"id": d.id, "name": d.name, "kind": d.kind, "sha256": d.sha256, "size": d.size}
            for d in session.scalars(
                select(LegalDocument)
                .where(LegalDocument.legal_case_id == legal.id)
                .order_by(LegalDocument.id)
            )
        ],
        "costs": [
            {
                "id": c.id,
                "kind": c.kind,
                "amount": money(c.amount_minor),
                "incurred_on": c.incurred_on.isoformat(),
                "charged": c.charge_event_id is not None,
                "charge_event_id": c.charge_event_id,
            }
            for c in session.scalars(
                select(LegalCost).where(LegalCost.legal_case_id == legal.id).order_by(LegalCost.id)
            )
        ],
    }
