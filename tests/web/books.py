"""Books for the console's tests beyond the API tests' seed: a book the daily close went through
month end after month end, relief waiting for a checker, and a fake SMS channel."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from tenor.actions import relief
from tenor.batch.close import close_book
from tenor.notify.channels import OutgoingMessage
from tenor.relief.tables import ReliefOffer
from tenor.store.database import Database
from tests.batch.closebook import START, Payment, build_book, plan_payments, post_payments

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
