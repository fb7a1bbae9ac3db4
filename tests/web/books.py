"""Books for the console's tests beyond the API tests' seed: a book the daily close went through
month end after month end, relief waiting for a checker, loans a day into collections, and a
fake SMS channel."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select

from tenor.actions import loans, relief
from tenor.actions.borrowers import create_borrower
from tenor.batch.close import close_book
from tenor.collect import actions as collect_actions
from tenor.collect.strategy import DEFAULT_STRATEGY
from tenor.collect.tables import CollectionCase
from tenor.core.money import Money
from tenor.notify.channels import OutgoingMessage
from tenor.relief.tables import ReliefOffer
from tenor.store.database import Database
from tenor.store.journal import set_business_date
from tenor.store.models import Product
from tests.batch.closebook import START, Payment, build_book, plan_payments, post_payments
from tests.builders import START as START_OF_LOANS
from tests.builders import consumer_product

#: The closed book's last closed business date: two month ends, 31 March and 30 April.
CLOSED_THROUGH = dt.date(2026, 4, 30)
#: Who makes the relief a checker approves (an API key's name in the journal).
MAKER = "key:maker"


def closed_book(db: Database, *, loans: int = 16, seed: int = 9) -> list[int]:
    """Loans paid out over the 90 days before 1 March 2026 (some on time, some late, some
    never), closed day by day through :data:`CLOSED_THROUGH` with each day's payments."""
    ids = build_book(db, loans=loans, seed=seed)
    by_day: defaultdict[dt.date, list[Payment]] = defaultdict(list)
    for payment in plan_payments(db, ids, seed=seed, first=START, last=CLOSED_THROUGH):
        by_day[payment.day].append(payment)
    day = START
    while day <= CLOSED_THROUGH:
        post_payments(db, by_day.pop(day, []))
        close_book(db, date=day)
        day += dt.timedelta(days=1)
    return ids


def score(db: Database, borrower_id: int, value: int = 700) -> None:
    """A credit score on record, as eligibility for relief needs."""
    with db.transaction() as session:
        relief.record_credit_score(
            session,
            borrower_id=borrower_id,
            score=value,
            source="bureau",
            as_of=dt.date(2026, 2, 1),
            actor=MAKER,
        )


def waiting_offer(db: Database, loan_id: int, *, maker: str = MAKER) -> int:
    """A settlement offered and accepted by ``maker``: the default policy always has a second
    person approve a settlement, so it waits for a checker. Its id."""
    with db.transaction() as session:
        request = relief.request_relief(session, loan_id=loan_id, channel="staff", actor=maker)
        offers = relief.make_offers(session, request_id=request.id, actor=maker)
        settlement = next(offer.id for offer in offers if offer.option == "settlement")
    accepted = relief.accept_offer(db, settlement, actor=maker)
    assert accepted.status == "accepted"
    return settlement


def offer_status(db: Database, offer_id: int) -> tuple[str, str | None]:
    """An offer's status and who approved it."""
    with db.reading() as session:
        offer = session.get(ReliefOffer, offer_id)
        assert offer is not None
        return offer.status, offer.approved_by


@dataclass
class FakeSms:
    """An SMS channel that keeps what it is given (the seam every channel has)."""

    sent: list[OutgoingMessage] = field(default_factory=list)

    def send(self, message: OutgoingMessage) -> str | None:
        """Keep the message; its provider id is its position."""
        self.sent.append(message)
        return f"fake-{len(self.sent)}"


#: The collections book's first due date: every loan misses it, so the close of that day opens
#: a case for each (a first-payment default: its path calls at once).
FIRST_DUE = dt.date(2026, 2, 15)
#: Half past eleven in Shanghai on the first day in collections: 22:30 of the day before in New
#: York, inside that borrower's quiet hours.
WORKDAY = dt.datetime(2026, 2, 16, 3, 30, tzinfo=dt.UTC)


#: The default strategy with half of the first-payment defaults on a challenger path (a call,
#: then a visit), so that the collections book's cases split between the arms: by the hash of
#: their loan ids, loan 2 (Tom Baker) follows the challenger.
SPLIT_STRATEGY: Final[dict[str, Any]] = {
    **DEFAULT_STRATEGY,
    "segments": [
        {
            **segment,
            "challenger": [{"action": "call", "wait_days": 0}, {"action": "visit", "wait_days": 3}],
            "challenger_percent": 50,
        }
        if segment["name"] == "first-payment-default"
        else segment
        for segment in DEFAULT_STRATEGY["segments"]
    ],
}


@dataclass
class CollectionsBook:
    """Three loans a day past due, each with a call task for collector 王芳: 李娜 owes most,
    then Tom Baker (whose New York night the contact rules protect), then 张伟."""

    collector_id: int
    loans: dict[str, int]
    cases: dict[str, int]


def collections_book(db: Database, *, strategy: dict[str, Any] | None = None) -> CollectionsBook:
    """Three 6-month loans from 15 January 2026 that miss their first installment, a desk
    collector who speaks both languages, and the close run through :data:`FIRST_DUE` (under
    ``strategy``, saved first, or the default one)."""
    people = (
        ("李娜", "13900139000", "12000", "Asia/Shanghai", "zh-CN"),
        ("Tom Baker", "12125550100", "9000", "America/New_York", "en"),
        ("张伟", "13800138000", "6000", "Asia/Shanghai", "zh-CN"),
    )
    with db.transaction() as session:
        set_business_date(session, dt.date(2026, 2, 10))
        product = Product(
            code="consumer",
            name="Consumer credit line",
            currency="CNY",
            config=consumer_product().document(),
        )
        session.add(product)
        session.flush()
        loans_by_name = {}
        for name, phone, principal, zone, locale in people:
            borrower = create_borrower(
                session, kind="individual", name=name, phones=[phone], time_zone=zone, locale=locale
            )
            loan = loans.create_loan(
                session,
                borrower_id=borrower.id,
                product_id=product.id,
                principal=Money.of(principal, "CNY"),
                term=6,
                start=START_OF_LOANS,
            )
            loans.approve_loan(session, loan.id)
            loans_by_name[name] = loan.id
    for loan_id in loans_by_name.values():
        loans.disburse(db, loan_id, value_date=START_OF_LOANS)
    if strategy is not None:
        collect_actions.save_strategy(db, strategy, actor="key:seed")
    collector = collect_actions.add_collector(
        db,
        collect_actions.CollectorSpec(name="王芳", team="early", languages=("zh-CN", "en")),
        actor="key:seed",
    )
    close_book(db, through=FIRST_DUE)
    with db.reading() as session:
        cases = {
            name: session.scalars(
                select(CollectionCase.id).where(CollectionCase.loan_id == loan_id)
            ).one()
            for name, loan_id in loans_by_name.items()
        }
    return CollectionsBook(collector.id, loans_by_name, cases)
