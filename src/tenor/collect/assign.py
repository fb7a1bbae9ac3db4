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
from typing import Final, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from tenor.collect.tables import CaseAction, CollectionCase, Collector
from tenor.store.models import Borrower, Loan, Product

#: Collectors who go out on a field visit together.
VISIT_CREW: Final = 2

_CASES = cast(Table, CollectionCase.__table__)
_ACTIONS = cast(Table, CaseAction.__table__)


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
    # Plain rows, not ORM objects: the book may hold hundreds of thousands of open cases.
    rows = session.execute(
        select(
            _CASES.c.id,
            _CASES.c.collector_id,
            _CASES.c.agency_id,
            _CASES.c.paused,
            _CASES.c.segment,
            Borrower.locale,
            Product.code,
        )
        .join(Loan, Loan.id == _CASES.c.loan_id)
        .join(Borrower, Borrower.id == _CASES.c.borrower_id)
        .join(Product, Product.id == Loan.product_id)
        .where(_CASES.c.status == "open")
        .order_by(_CASES.c.balance_minor.desc(), _CASES.c.id)
    ).all()
    load: dict[int, int] = defaultdict(int)
    moves: dict[int, int | None] = {}
    waiting = []
    by_id = {c.id: c for c in desk}
    for case in rows:
        in_house = case.agency_id is None and case.paused not in ("deceased", "bankruptcy")
        current = by_id.get(case.collector_id) if case.collector_id is not None else None
        if not in_house:
            if case.collector_id is not None:
                moves[case.id] = None
            continue
        if (
            current is not None
            and _eligible(current, case.locale, case.code, case.segment)
            and load[current.id] < current.capacity
        ):
            load[current.id] += 1
            continue
        waiting.append(case)
    for case in waiting:
        candidates = [
            c
            for c in desk
            if _eligible(c, case.locale, case.code, case.segment) and load[c.id] < c.capacity
        ]
        chosen = max(candidates, key=lambda c: (c.capacity - load[c.id], -c.id), default=None)
        new_id = None if chosen is None else chosen.id
        if chosen is not None:
            load[chosen.id] += 1
        if case.collector_id != new_id:
            moves[case.id] = new_id
    if moves:
        session.execute(
            update(_CASES)
            .where(_CASES.c.id == bindparam("b_id"))
            .values(collector_id=bindparam("b_collector_id")),
            [{"b_id": case_id, "b_collector_id": new_id} for case_id, new_id in moves.items()],
        )
    _staff_tasks(session, collectors)
    return len(moves)


def _staff_tasks(session: Session, collectors: list[Collector]) -> None:
    """Open call tasks follow their case's collector; visits get a crew of field collectors."""
    field = [c for c in collectors if c.field]
    tasks = session.execute(
        select(
            _ACTIONS.c.id,
            _ACTIONS.c.kind,
            _ACTIONS.c.detail,
            _ACTIONS.c.collector_id,
            _CASES.c.collector_id.label("case_collector_id"),
        )
        .join(_CASES, _CASES.c.id == _ACTIONS.c.case_id)
        .where(_ACTIONS.c.state == "task")
        # In task order, so that every run gives the same visits the same crews.
        .order_by(_ACTIONS.c.id)
    ).all()
    visits: dict[int, int] = defaultdict(int)
    callers = []
    crews = []
    for task in tasks:
        if task.kind == "call":
            if task.collector_id != task.case_collector_id:
                callers.append({"b_id": task.id, "b_collector_id": task.case_collector_id})
            continue
        crew = task.detail.get("crew") or []
        if len(crew) < VISIT_CREW and len(field) >= VISIT_CREW:
            chosen = sorted(field, key=lambda c: (visits[c.id], c.id))[:VISIT_CREW]
            for c in chosen:
                visits[c.id] += 1
            crews.append(
                {
                    "b_id": task.id,
                    "b_detail": {**task.detail, "crew": [c.id for c in chosen]},
                    "b_collector_id": chosen[0].id,
                }
            )
        elif len(crew) < VISIT_CREW:
            waiting = {**task.detail, "crew": [], "waiting": "two field collectors"}
            if waiting != task.detail:
                crews.append(
                    {"b_id": task.id, "b_detail": waiting, "b_collector_id": task.collector_id}
                )
    if callers:
        session.execute(
            update(_ACTIONS)
            .where(_ACTIONS.c.id == bindparam("b_id"))
            .values(collector_id=bindparam("b_collector_id")),
            callers,
        )
    if crews:
        session.execute(
            update(_ACTIONS)
            .where(_ACTIONS.c.id == bindparam("b_id"))
            .values(detail=bindparam("b_detail"), collector_id=bindparam("b_collector_id")),
            crews,
        )
