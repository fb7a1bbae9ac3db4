"""Collections performance: cure, roll, promise-keep and recovery rates by stage, agency,
strategy arm and collector; the champion against the challenger; agency reconciliation.

Every figure is read from what the close and the collectors recorded (cases, promises,
outcomes, placements) and from the journal's payments; money recovered by a case is what was
paid on its loan between the day it opened and the day it closed (or the business date).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.collect.payments import Received, payments_between
from tenor.collect.tables import (
    Agency,
    CollectionCase,
    Collector,
    ContactOutcome,
    Placement,
    Promise,
)
from tenor.core.collection import (
    AgencyCollection,
    AgencyStatement,
    Interval,
    mean_interval,
    proportion_interval,
    reconcile_agency,
)
from tenor.core.money import Money
from tenor.store.journal import NotFoundError

#: Days-past-due stages the report groups cases by (at opening), as bucket names.
STAGES = ((1, 30, "M1"), (31, 60, "M2"), (61, 90, "M3"), (91, 180, "M4-M6"), (181, None, "M6+"))


def stage_of(days_past_due: int) -> str:
    """The stage a number of days past due falls in."""
    for low, high, name in STAGES:
        if days_past_due >= low and (high is None or days_past_due <= high):
            return name
    return "current"


def _interval(value: Interval | None, places: int = 4) -> dict[str, float] | None:
    if value is None:
        return None
    return {
        "estimate": round(value.estimate, places),
        "low": round(value.low, places),
        "high": round(value.high, places),
    }


def _major(minor: int, currency: str) -> float:
    # Figures for a confidence interval, not money that is booked: a float is fine here.
    return float(Money(minor, currency).amount)


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _recovered(
    cases: Iterable[CollectionCase], payments: dict[int, list[Received]], day: dt.date
) -> dict[int, int]:
    found: dict[int, int] = {}
    for case in cases:
        end = case.closed_on or day
        found[case.id] = sum(
            p.amount.minor
            for p in payments.get(case.loan_id, [])
            if case.opened_on - dt.timedelta(days=1) <= p.value_date < end
        )
    return found


@dataclass(slots=True)
class _Group:
    cases: int = 0
    cured: int = 0
    closed: int = 0
    rolled: int = 0
    opened_minor: int = 0
    recovered_minor: int = 0
    cost_minor: int = 0

    def add(self, case: CollectionCase, recovered: int) -> None:
        self.cases += 1
        self.cured += case.close_reason in ("cured", "paid")
        self.closed += case.status == "closed"
        self.rolled += stage_of(case.max_days_past_due) != stage_of(case.opened_days_past_due)
        self.opened_minor += case.opened_balance_minor
        self.recovered_minor += recovered
        self.cost_minor += case.contact_cost_minor

    def document(self, currency: str) -> dict[str, Any]:
        def amount(minor: int) -> str:
            return str(Money(minor, currency).amount)

        return {
            "cases": self.cases,
            "cured": self.cured,
            "cure_rate": _ratio(self.cured, self.cases),
            "roll_rate": _ratio(self.rolled, self.cases),
            "recovered": amount(self.recovered_minor),
            "recovery_rate": _ratio(self.recovered_minor, self.opened_minor),
            "contact_cost": amount(self.cost_minor),
        }


@dataclass(frozen=True, slots=True)
class CaseBook:
    """Every case and what was paid on its loan while it was open: what both reports read.

    Load it once (:func:`load_cases`) for a page that shows both reports.
    """

    day: dt.date
    cases: list[CollectionCase]
    recovered: dict[int, int]


def load_cases(session: Session, day: dt.date) -> CaseBook:
    """Every case, and each case's money recovered, as of business date ``day``."""
    cases = list(session.scalars(select(CollectionCase).order_by(CollectionCase.id)))
    since: dict[int, dt.date] = {}
    for case in cases:
        start = case.opened_on - dt.timedelta(days=1)
        since[case.loan_id] = min(since.get(case.loan_id, start), start)
    payments = payments_between(session, since, day)
    return CaseBook(day, cases, _recovered(cases, payments, day))


def collections_report(
    session: Session, day: dt.date, book: CaseBook | None = None
) -> dict[str, Any]:
    """The collections report as of business date ``day`` (from ``book`` when given)."""
    book = book or load_cases(session, day)
    cases, recovered = book.cases, book.recovered
    currency = cases[0].currency if cases else "CNY"
    by_arm: dict[tuple[str, str], _Group] = defaultdict(_Group)
    total = _Group()
    for case in cases:
        by_arm[(case.opened_segment, case.opened_arm)].add(case, recovered[case.id])
        total.add(case, recovered[case.id])
    promises = list(session.scalars(select(Promise)))
    decided = [p for p in promises if p.status in ("kept", "broken")]
    kept = [p for p in decided if p.status == "kept"]
    agencies = {a.id: a for a in session.scalars(select(Agency))}
    placements = list(session.scalars(select(Placement)))
    statements = {
        agency_id: agency_statement(session, agency_id, None, day) for agency_id in agencies
    }
    placed: dict[int, int] = defaultdict(int)
    for placement in placements:
        placed[placement.agency_id] += placement.balance_minor
    return {
        "business_date": day.isoformat(),
        "currency": currency,
        "cases": {
            "opened": len(cases),
            "open": sum(case.status == "open" for case in cases),
            "closed": _count(case.close_reason for case in cases if case.status == "closed"),
            "paused": _count(case.paused for case in cases if case.paused),
        },
        "total": total.document(currency),
        "by_stage": stage_rates(cases, recovered, currency),
        "by_arm": [
            {"segment": segment, "arm": arm, **group.document(currency)}
            for (segment, arm), group in sorted(by_arm.items())
        ],
        "promises": {
            "made": len(promises),
            "pending": sum(p.status == "pending" for p in promises),
            "kept": len(kept),
            "broken": len(decided) - len(kept),
            "keep_rate": _ratio(len(kept), len(decided)),
            "promised": str(Money(sum(p.amount_minor for p in decided), currency).amount),
            "paid_against": str(Money(sum(p.paid_minor for p in decided), currency).amount),
        },
        "agencies": [
            {
                "agency_id": agency_id,
                "name": agencies[agency_id].name,
                "placements": sum(p.agency_id == agency_id for p in placements),
                "open": sum(p.agency_id == agency_id and p.recalled_on is None for p in placements),
                "placed_balance": str(Money(placed[agency_id], currency).amount),
                "collected": str(statements[agency_id].collected.amount),
                "commission": str(statements[agency_id].commission.amount),
                "net": str(statements[agency_id].net.amount),
                "recovery_rate": _ratio(statements[agency_id].collected.minor, placed[agency_id]),
            }
            for agency_id in sorted(agencies)
        ],
        "collectors": collector_productivity(session, cases, recovered, currency),
    }


def _count(values: Iterable[str | None]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value or ""] += 1
    return dict(sorted(counts.items()))


def stage_rates(
    cases: list[CollectionCase], recovered: dict[int, int], currency: str
) -> dict[str, dict[str, Any]]:
    """Per stage: the cases that reached it, the share that rolled on to the next stage, the
    share cured having gone no further, and what the cases that went no further recovered
    against their balance at opening."""
    rows = {}
    for low, high, name in STAGES:
        entered = [c for c in cases if c.max_days_past_due >= low]
        rolled = [c for c in entered if high is not None and c.max_days_past_due > high]
        stayed = [c for c in entered if high is None or c.max_days_past_due <= high]
        cured = [c for c in stayed if c.close_reason in ("cured", "paid")]
        paid = sum(recovered[c.id] for c in stayed)
        balance = sum(c.opened_balance_minor for c in stayed)
        rows[name] = {
            "entered": len(entered),
            "rolled_forward": len(rolled),
            "roll_rate": _ratio(len(rolled), len(entered)),
            "cured": len(cured),
            "cure_rate": _ratio(len(cured), len(entered)),
            "recovered": str(Money(paid, currency).amount),
            "recovery_rate": _ratio(paid, balance),
        }
    return rows


def collector_productivity(
    session: Session, cases: list[CollectionCase], recovered: dict[int, int], currency: str
) -> list[dict[str, Any]]:
    """Per collector: contacts, right-party contacts, promises taken and kept, and the money
    paid on the cases they worked."""
    collectors = {c.id: c for c in session.scalars(select(Collector).order_by(Collector.id))}
    outcomes = list(session.scalars(select(ContactOutcome)))
    promises = {p.outcome_id: p for p in session.scalars(select(Promise)) if p.outcome_id}
    worked: dict[int, set[int]] = defaultdict(set)
    rows: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for outcome in outcomes:
        if outcome.collector_id is None:
            continue
        row = rows[outcome.collector_id]
        row["contacts"] += 1
        row["right_party"] += outcome.code not in ("no_answer", "wrong_party")
        worked[outcome.collector_id].add(outcome.case_id)
        promise = promises.get(outcome.id)
        if promise is not None:
            row["promises"] += 1
            row["kept"] += promise.status == "kept"
            row["promised_minor"] += promise.amount_minor
    return [
        {
            "collector_id": collector_id,
            "name": collectors[collector_id].name,
            "team": collectors[collector_id].team,
            "open_cases": sum(
                case.collector_id == collector_id and case.status == "open" for case in cases
            ),
            "contacts": rows[collector_id]["contacts"],
            "right_party_contacts": rows[collector_id]["right_party"],
            "right_party_rate": _ratio(
                rows[collector_id]["right_party"], rows[collector_id]["contacts"]
            ),
            "promises": rows[collector_id]["promises"],
            "promises_kept": rows[collector_id]["kept"],
            "promised": str(Money(rows[collector_id]["promised_minor"], currency).amount),
            "collected_on_worked_cases": str(
                Money(sum(recovered.get(c, 0) for c in worked[collector_id]), currency).amount
            ),
        }
        for collector_id in collectors
    ]


def strategies_report(
    session: Session, day: dt.date, book: CaseBook | None = None
) -> dict[str, Any]:
    """Champion against challenger in every segment that has both: cure rate, roll rate,
    recovered per case and contact cost per case, each with a 95% confidence interval, and the
    difference in cure rate with its interval (normal approximation)."""
    book = book or load_cases(session, day)
    cases, recovered = book.cases, book.recovered
    currency = cases[0].currency if cases else "CNY"
    groups: dict[str, dict[str, list[CollectionCase]]] = defaultdict(lambda: defaultdict(list))
    for case in cases:
        groups[case.opened_segment][case.opened_arm].append(case)
    segments = []
    for segment, arms in sorted(groups.items()):
        documents = {}
        for arm, members in sorted(arms.items()):
            n = len(members)
            cured = sum(c.close_reason in ("cured", "paid") for c in members)
            rolled = sum(
                stage_of(c.max_days_past_due) != stage_of(c.opened_days_past_due) for c in members
            )
            per_case = [_major(recovered[c.id], currency) for c in members]
            costs = [_major(c.contact_cost_minor, currency) for c in members]
            documents[arm] = {
                "cases": n,
                "cure_rate": _interval(proportion_interval(cured, n)),
                "roll_rate": _interval(proportion_interval(rolled, n)),
                "recovered_per_case": _interval(mean_interval(per_case), 2),
                "contact_cost_per_case": _interval(mean_interval(costs), 2),
            }
        entry: dict[str, Any] = {"segment": segment, "arms": documents}
        if "champion" in documents and "challenger" in documents:
            entry["cure_rate_difference"] = _difference(arms["challenger"], arms["champion"])
        segments.append(entry)
    return {"business_date": day.isoformat(), "currency": currency, "segments": segments}


def _difference(
    challenger: list[CollectionCase], champion: list[CollectionCase]
) -> dict[str, float] | None:
    """Challenger's cure rate minus champion's, with a 95% normal-approximation interval."""

    def rate(members: list[CollectionCase]) -> tuple[float, int]:
        n = len(members)
        return sum(c.close_reason in ("cured", "paid") for c in members) / n, n

    (p1, n1), (p2, n2) = rate(challenger), rate(champion)
    half = 1.959963984540054 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    difference = p1 - p2
    return {
        "estimate": round(difference, 4),
        "low": round(difference - half, 4),
        "high": round(difference + half, 4),
    }


def agency_statement(
    session: Session, agency_id: int, since: dt.date | None, through: dt.date
) -> AgencyStatement:
    """What an agency collected on its placed cases (payments from the placement day to the
    recall), with the commission due at each placement's rate, to the cent."""
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFoundError(f"agency {agency_id} does not exist")
    placements = list(
        session.scalars(
            select(Placement).where(Placement.agency_id == agency_id).order_by(Placement.id)
        )
    )
    currency = "CNY"
    if placements:
        case = session.get(CollectionCase, placements[0].case_id)
        currency = case.currency if case is not None else currency
    windows: dict[int, list[Placement]] = defaultdict(list)
    for placement in placements:
        windows[placement.loan_id].append(placement)
    start = {loan_id: min(p.placed_on for p in items) for loan_id, items in windows.items()}
    paid = payments_between(session, start, through)
    collections = []
    for loan_id, items in windows.items():
        for payment in paid.get(loan_id, []):
            if since is not None and payment.value_date < since:
                continue
            for placement in items:
                end = placement.recalled_on
                if placement.placed_on <= payment.value_date and (
                    end is None or payment.value_date < end
                ):
                    collections.append(
                        AgencyCollection(
                            payment.event_id, loan_id, payment.amount, Decimal(placement.rate)
                        )
                    )
    # By loan, each loan's payments in the order they were made (payments_between's order).
    collections.sort(key=lambda c: c.loan_id)
    return reconcile_agency(collections, currency)


def statement_document(statement: AgencyStatement, agency_id: int) -> dict[str, Any]:
    """An agency statement as JSON."""
    return {
        "agency_id": agency_id,
        "currency": statement.currency,
        "collected": str(statement.collected.amount),
        "commission": str(statement.commission.amount),
        "net": str(statement.net.amount),
        "lines": [
            {
                "payment": line.reference,
                "loan_id": line.loan_id,
                "collected": str(line.collected.amount),
                "rate": str(line.rate),
                "commission": str(line.commission.amount),
                "net": str(line.net.amount),
            }
            for line in statement.lines
        ],
    }
