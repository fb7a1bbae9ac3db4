"""Assigning cases to collectors by rules, rebalanced every day.

A collector can take a case when they are active, speak the borrower's language, cover the
loan's product (an empty list: every product) and the case's segment (an empty list: every
segment), and have room under their capacity. Each day, in the close's collections pass:

- a case keeps its collector while that collector can still take it (continuity: a borrower
  talks to the same person), unless the collector is over capacity, in which case the
  collector's lowest-value cases are released first;
- unassigned cases, highest balance first, go to the eligible collector with the most room
  (ties: the lower id), so that work spreads evenly;
- cases placed with an agency, and stopped cases, have no in-house collector.
Field visits are given to two field collectors when the visit task is created or rebalanced.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.collect.tables import CaseAction, CollectionCase, Collector
from tenor.store.models import Borrower, Loan, Product

#: Collectors who go out on a field visit together.
VISIT_CREW: Final = 2


def _eligible(collector: Collector, locale: str, product: str, segment: str) -> bool:
    return (
        collector.active
        and locale in collector.languages
        and (not collector.products or product in collector.products)
        and (not collector.stages or segment in collector.stages)
    )


def rebalance(session: Session, day: dt.date) -> int:
    """Assign open in-house cases to collectors; the number of cases whose collector changed."""
    collectors = list(
        session.scalars(select(Collector).where(Collector.active.is_(True)).order_by(Collector.id))
    )
    desk = [c for c in collectors if not c.field]
    rows = session.execute(
        select(CollectionCase, Borrower.locale, Product.code)
        .join(Loan, Loan.id == CollectionCase.loan_id)
        .join(Borrower, Borrower.id == CollectionCase.borrower_id)
        .join(Product, Product.id == Loan.product_id)
        .where(CollectionCase.status == "open")
        .order_by(CollectionCase.balance_minor.desc(), CollectionCase.id)
    ).all()
    load: dict[int, int] = defaultdict(int)
    changed = 0
    waiting = []
    by_id = {c.id: c for c in desk}
    for case, locale, product in rows:
        in_house = case.agency_id is None and case.paused not in ("deceased", "bankruptcy")
        current = by_id.get(case.collector_id) if case.collector_id is not None else None
        if not in_house:
            if case.collector_id is not None:
                case.collector_id = None
                changed += 1
            continue
        if (
            current is not None
            and _eligible(current, locale, product, case.segment)
            and load[current.id] < current.capacity
        ):
            load[current.id] += 1
            continue
        waiting.append((case, locale, product))
    for case, locale, product in waiting:
        candidates = [
            c
            for c in desk
            if _eligible(c, locale, product, case.segment) and load[c.id] < c.capacity
        ]
        chosen = max(candidates, key=lambda c: (c.capacity - load[c.id], -c.id), default=None)
        new_id = None if chosen is None else chosen.id
        if chosen is not None:
            load[chosen.id] += 1
        if case.collector_id != new_id:
            case.collector_id = new_id
            changed += 1
    _staff_tasks(session, collectors, day)
    return changed


def _staff_tasks(session: Session, collectors: list[Collector], day: dt.date) -> None:
    """Open call tasks follow their case's collector; visits get a crew of field collectors."""
    field = [c for c in collectors if c.field]
    tasks = session.execute(
        select(CaseAction, CollectionCase)
        .join(CollectionCase, CollectionCase.id == CaseAction.case_id)
        .where(CaseAction.state == "task")
    ).all()
    visits: dict[int, int] = defaultdict(int)
    for task, case in tasks:
        if task.kind == "call":
            task.collector_id = case.collector_id
            continue
        crew = task.detail.get("crew") or []
        if len(crew) < VISIT_CREW and len(field) >= VISIT_CREW:
            chosen = sorted(field, key=lambda c: (visits[c.id], c.id))[:VISIT_CREW]
            for c in chosen:
                visits[c.id] += 1
            task.detail = {**task.detail, "crew": [c.id for c in chosen]}
            task.collector_id = chosen[0].id
        elif len(crew) < VISIT_CREW:
            task.detail = {**task.detail, "crew": [], "waiting": "two field collectors"}
