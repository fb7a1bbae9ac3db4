"""Collections in the demo book: a collections floor that works its queues every business day.

The demo's borrowers pay as their drawn behaviour says (:mod:`tenor.simulation`); collections
do not change that here, so what the reports show of promises and arms is what the book's
behaviours give, not an effect made up for the demo. What the floor records follows the
borrower's plan: a borrower who will pay within ten days promises that payment (kept by the
close when it comes), others mostly do not answer, refuse or promise and break it; a few
dispute, ask for hardship relief, or turn out deceased. Everything goes through the same
actions as the CLI and the API (:mod:`tenor.collect.actions`), under the contact rules.

:func:`set_up_floor` registers the collectors and agencies; :func:`work_day` works the queues
on a business date; :func:`advance_legal_cases` walks the legal cases through the courts, with
their documents and costs; :func:`write_off_recommended` books the write-offs the strategy
recommends, at month ends.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tenor.actions import loans as loan_actions
from tenor.collect import actions
from tenor.collect.queue import collector_queue
from tenor.collect.tables import (
    CaseAction,
    CollectionCase,
    Collector,
    Dispute,
    LegalCase,
    LegalEvent,
    Placement,
)
from tenor.core.collection import (
    CommissionBand,
    Judgment,
    LegalStage,
    OutcomeCode,
    Preservation,
)
from tenor.core.errors import DomainError
from tenor.core.money import Money
from tenor.store.database import Database
from tenor.store.models import Loan, LoanStateRow

#: Who the floor acts as, in the journal and the transparency log.
FLOOR: Final = "demo:collections-floor"

#: Calls a desk collector makes on a working day; visits a field crew makes.
CALLS_PER_DAY: Final = 12
VISITS_PER_DAY: Final = 2

DESK: Final = (
    ("王芳 Wang Fang", "early-stage", ("zh-CN",), ("early", "first-payment-default"), 150),
    ("李强 Li Qiang", "early-stage", ("zh-CN", "en"), ("early", "first-payment-default"), 150),
    ("Emma Zhou", "early-stage", ("en", "zh-CN"), (), 100),
    ("张伟 Zhang Wei", "recovery", ("zh-CN",), ("middle", "late"), 120),
)
FIELD: Final = (("赵磊 Zhao Lei", "field"), ("孙静 Sun Jing", "field"))
AGENCIES: Final = (
    ("华信资产管理 Huaxin Recovery", ((91, "0.18"), (181, "0.30")), 60, 40),
    ("安和催收服务 Anhe Collections", ((91, "0.15"), (181, "0.28")), 90, 40),
)

#: Each legal stage's wait before the next, in days, for the demo's courts.
LEGAL_PACE: Final = {
    LegalStage.REFERRED: (5, LegalStage.DEMAND_LETTER),
    LegalStage.DEMAND_LETTER: (14, LegalStage.FILED),
    LegalStage.FILED: (21, LegalStage.HEARING),
    LegalStage.HEARING: (14, LegalStage.JUDGMENT),
    LegalStage.JUDGMENT: (10, LegalStage.ENFORCEMENT),
}

#: The chance, each week, that an agency gets a placed borrower to pay part of the arrears,
#: and the part.
AGENCY_WEEKLY_SUCCESS: Final = 0.12
AGENCY_SHARE: Final = (Decimal("0.15"), Decimal("0.40"))


def set_up_floor(db: Database) -> None:
    """Register the demo's collectors and agencies."""
    for name, team, languages, stages, capacity in DESK:
        actions.add_collector(
            db,
            actions.CollectorSpec(
                name=name, team=team, languages=languages, stages=stages, capacity=capacity
            ),
            actor=FLOOR,
        )
    for name, team in FIELD:
        actions.add_collector(
            db,
            actions.CollectorSpec(
                name=name, team=team, languages=("zh-CN", "en"), capacity=50, field=True
            ),
            actor=FLOOR,
        )
    for name, bands, recall_days, capacity in AGENCIES:
        actions.add_agency(
            db,
            name=name,
            commission=[CommissionBand(low, Decimal(rate)) for low, rate in bands],
            recall_days=recall_days,
            capacity=capacity,
            actor=FLOOR,
        )


def _outcome(
    rng: random.Random, upcoming: tuple[dt.date, int] | None, day: dt.date, visit: bool
) -> tuple[OutcomeCode, dt.date | None, int | None]:
    """What a contact gives, from the borrower's plan: (code, promise date, promise minor)."""
    roll = rng.random()
    if upcoming is not None and (upcoming[0] - day).days <= 10 and roll < 0.75:
        return OutcomeCode.PROMISE_TO_PAY, max(upcoming[0], day), upcoming[1]
    if roll < 0.004:
        return OutcomeCode.DECEASED, None, None
    if roll < 0.02:
        return OutcomeCode.DISPUTE, None, None
    if roll < 0.04:
        return OutcomeCode.HARDSHIP, None, None
    if roll < 0.14:
        # A promise the borrower's plan does not keep.
        return OutcomeCode.PROMISE_TO_PAY, day + dt.timedelta(days=rng.randint(2, 7)), None
    if visit:
        return rng.choice((OutcomeCode.RIGHT_PARTY_CONTACT, OutcomeCode.REFUSED)), None, None
    return (
        rng.choices(
            (
                OutcomeCode.NO_ANSWER,
                OutcomeCode.RIGHT_PARTY_CONTACT,
                OutcomeCode.REFUSED,
                OutcomeCode.WRONG_PARTY,
            ),
            (50, 30, 15, 5),
        )[0],
        None,
        None,
    )


def work_day(
    db: Database,
    day: dt.date,
    upcoming: Mapping[int, tuple[dt.date, int]],
    seed: int,
) -> int:
    """Work every collector's queue on business date ``day`` (weekdays); outcomes recorded."""
    if day.weekday() >= 5:
        return 0
    rng = random.Random(f"{seed}:floor:{day.isoformat()}")
    with db.reading() as session:
        collectors = list(
            session.scalars(
                select(Collector).where(Collector.active.is_(True)).order_by(Collector.id)
            )
        )
    recorded = 0
    for index, collector in enumerate(collectors):
        zone = ZoneInfo(collector.time_zone)
        at = dt.datetime.combine(day, dt.time(10, 5 * index), tzinfo=zone)
        with db.reading() as session:
            queue = collector_queue(session, collector.id, at, day)
        budget = VISITS_PER_DAY if collector.field else CALLS_PER_DAY
        for entry in queue:
            if budget == 0 or not entry.contactable_now:
                break
            if collector.field and entry.action != "visit":
                continue
            budget -= 1
            plan = upcoming.get(entry.loan_id)
            code, promised_on, promised = _outcome(rng, plan, day, entry.action == "visit")
            amount = None
            if code is OutcomeCode.PROMISE_TO_PAY:
                minor = promised if promised else max(entry.balance.minor // 10, 100)
                minor = min(minor, entry.balance.minor)
                amount = Money(minor, entry.balance.currency).amount
            try:
                actions.record_outcome(
                    db,
                    entry.case_id,
                    actions.OutcomeRequest(
                        code=code,
                        channel=entry.action,
                        at=at + dt.timedelta(minutes=3 * budget),
                        amount=amount,
                        promise_date=promised_on,
                        collector_id=collector.id,
                    ),
                    actor=FLOOR,
                )
                recorded += 1
            except DomainError:
                # The rules refused this one (a cap reached since the queue was read): the
                # collector moves on, as a person would.
                continue
    _resolve_disputes(db, day, rng)
    return recorded


def _resolve_disputes(db: Database, day: dt.date, rng: random.Random) -> None:
    """Disputes are looked into and most are rejected after a week or two."""
    with db.reading() as session:
        waiting = [
            (dispute.case_id, dispute.opened_on)
            for dispute in session.scalars(select(Dispute).where(Dispute.resolved_on.is_(None)))
        ]
    for case_id, opened_on in waiting:
        if (day - opened_on).days >= 10:
            upheld = rng.random() < 0.1
            try:
                actions.resolve_dispute(
                    db,
                    case_id,
                    resolution="statement checked with the borrower",
                    upheld=upheld,
                    actor=FLOOR,
                )
            except DomainError:
                continue


def advance_legal_cases(db: Database, day: dt.date) -> None:
    """Move each open legal case on when its stage's time has passed, with its paperwork."""
    with db.reading() as session:
        cases = [
            (legal.id, LegalStage(legal.stage), legal.opened_on, legal.currency, legal.preservation)
            for legal in session.scalars(
                select(LegalCase).where(LegalCase.stage != LegalStage.CLOSED.value)
            )
        ]
        last_step = dict(
            session.execute(
                select(LegalEvent.legal_case_id, func.max(LegalEvent.on))
                .where(LegalEvent.kind == "stage")
                .group_by(LegalEvent.legal_case_id)
            ).all()
        )
    for legal_id, stage, opened_on, currency, preservation in cases:
        pace = LEGAL_PACE.get(stage)
        if pace is None or (day - last_step.get(legal_id, opened_on)).days < pace[0]:
            continue
        target = pace[1]
        try:
            if target is LegalStage.FILED:
                _paper(db, legal_id, "complaint", day)
                actions.add_cost(
                    db, legal_id, kind="court", amount=Decimal("850.00"), on=day, actor=FLOOR
                )
                actions.add_cost(
                    db, legal_id, kind="lawyer", amount=Decimal("3000.00"), on=day, actor=FLOOR
                )
            judgment = None
            if target is LegalStage.JUDGMENT:
                with db.reading() as session:
                    legal = session.get(LegalCase, legal_id)
                    assert legal is not None
                    owed = session.get(CollectionCase, legal.case_id) if legal.case_id else None
                balance = owed.balance_minor if owed is not None else 0
                judgment = Judgment(
                    amount=Money(balance, currency),
                    costs=Money(385000, currency),
                    interest=Money(balance // 50, currency),
                    costs_to_borrower=True,
                )
            actions.advance_legal(db, legal_id, target, on=day, judgment=judgment, actor=FLOOR)
            if target is LegalStage.FILED and preservation == Preservation.NONE.value:
                actions.preserve(db, legal_id, Preservation.REQUESTED, on=day, actor=FLOOR)
            if target is LegalStage.HEARING and preservation == Preservation.REQUESTED.value:
                actions.preserve(db, legal_id, Preservation.GRANTED, on=day, actor=FLOOR)
            if target is LegalStage.JUDGMENT:
                _paper(db, legal_id, "judgment", day)
        except DomainError:
            continue


def agency_work(db: Database, day: dt.date, seed: int) -> int:
    """On Mondays, agencies get some of their placed borrowers to pay part of the arrears
    (through the agency's channel, so the statement shows it)."""
    if day.weekday() != 0:
        return 0
    rng = random.Random(f"{seed}:agencies:{day.isoformat()}")
    with db.reading() as session:
        placed = session.execute(
            select(Placement.loan_id, Placement.agency_id, LoanStateRow.arrears_minor)
            .join(LoanStateRow, LoanStateRow.loan_id == Placement.loan_id)
            .where(Placement.recalled_on.is_(None), LoanStateRow.status == "active")
            .order_by(Placement.id)
        ).all()
        currency = dict(
            session.execute(
                select(Loan.id, Loan.currency).where(Loan.id.in_([row[0] for row in placed]))
            ).all()
        )
    paid = 0
    for loan_id, agency_id, arrears in placed:
        if arrears <= 0 or rng.random() >= AGENCY_WEEKLY_SUCCESS:
            continue
        share = Decimal(rng.uniform(*(float(s) for s in AGENCY_SHARE))).quantize(Decimal("0.01"))
        amount = Money(max(int(arrears * share), 1), currency[loan_id])
        try:
            loan_actions.post_repayment(
                db,
                loan_id,
                amount=amount,
                value_date=day,
                channel=f"agency:{agency_id}",
                actor=FLOOR,
            )
            paid += 1
        except DomainError:
            continue
    return paid


def _paper(db: Database, legal_id: int, kind: str, day: dt.date) -> None:
    """A generated court document, stored with its hash like any other."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"legal-{legal_id}-{kind}.txt"
        path.write_text(
            f"Legal case {legal_id}: {kind}, {day.isoformat()}.\n"
            f"法律案件 {legal_id} - {kind} - {day.isoformat()}\n",
            encoding="utf-8",
        )
        actions.attach_document(db, legal_id, path, kind=kind, actor=FLOOR)


def write_off_recommended(db: Database, day: dt.date) -> int:
    """At a month end, write off the loans the strategy recommended for write-off."""
    if (day + dt.timedelta(days=1)).day != 1:
        return 0
    with db.reading() as session:
        recommended = sorted(
            set(
                session.scalars(
                    select(CaseAction.case_id)
                    .join(CollectionCase, CollectionCase.id == CaseAction.case_id)
                    .where(
                        CaseAction.kind == "write_off",
                        CaseAction.state == "recommended",
                        CollectionCase.status == "open",
                    )
                )
            )
        )
    done = 0
    for case_id in recommended:
        try:
            actions.write_off(db, case_id, actor=FLOOR)
            done += 1
        except DomainError:
            continue
    return done
