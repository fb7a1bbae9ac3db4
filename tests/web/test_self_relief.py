"""Relief in self-service on SQLite and PostgreSQL: a borrower asks for a deferral and takes it,
an offer that needs approval waits for a checker, refusals change nothing, and a borrower sees
only their own loans' relief."""

# The pages' Chinese is written with full-width punctuation, which RUF001 takes for look-alikes.
# ruff: noqa: RUF001

from __future__ import annotations

import re

from sqlalchemy import func, select

from tenor.relief.tables import ReliefOffer, ReliefRequest
from tenor.store.models import JournalEntry
from tests.api.conftest import Book
from tests.web.books import offer_status, score, waiting_offer
from tests.web.conftest import Web, sqlite_only

PHONE_A = "13800138000"
PHONE_B = "13900139000"
_ACCEPT = re.compile(r"/web/me/relief/offers/(\d+)/accept")


def _requests(web: Web) -> int:
    with web.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(ReliefRequest)) or 0)


def test_a_borrower_asks_for_a_deferral_sees_its_schedule_and_takes_it(
    web: Web, book: Book
) -> None:
    score(web.db, book.borrower_a)
    me = web.borrower_signed_in(book.borrower_a, PHONE_A)
    loan = me.get(f"/web/me/loans/{book.loan_a}").text
    assert f'href="/web/me/loans/{book.loan_a}/relief"' in loan
    page = me.get(f"/web/me/loans/{book.loan_a}/relief")
    assert page.status_code == 200
    assert "哪种方式对您有帮助？" in page.text
    assert 'value="deferral"' in page.text
    assert "延期还款与您当前的还款计划对比" in page.text
    asked = me.post(
        f"/web/me/loans/{book.loan_a}/relief",
        {"option": "deferral", "reason": "失业", "monthly_income": "3,000.00"},
    )
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/web/me/loans/{book.loan_a}/relief?n=requested"
    offers = me.get(asked.headers["location"]).text
    assert "我们已收到您的申请" in offers
    assert "新的还款计划" in offers
    accept = _ACCEPT.findall(offers)
    assert len(accept) == 1  # the deferral alone, as asked
    with web.db.reading() as session:
        request = session.scalars(select(ReliefRequest)).one()
        assert (request.channel, request.requested_by, request.reason) == (
            "self-service",
            f"borrower:{book.borrower_a}",
            "失业",
        )
        assert request.monthly_income_minor == 300000
    taken = me.post(f"/web/me/relief/offers/{accept[0]}/accept", {})
    assert taken.status_code == 303
    assert taken.headers["location"].endswith("?n=applied")
    assert "已完成：新的还款计划已生效。" in me.get(taken.headers["location"]).text
    assert offer_status(web.db, int(accept[0])) == ("applied", None)
    with web.db.reading() as session:
        last = session.scalars(
            select(JournalEntry)
            .where(JournalEntry.loan_id == book.loan_a)
            .order_by(JournalEntry.sequence.desc())
        ).first()
        assert last is not None
        assert (last.kind, last.actor) == ("restructured", f"borrower:{book.borrower_a}")
    # The schedule the borrower now sees is the restructured one.
    assert "延期还款" in web.signed_in("collector").get(f"/web/loans/{book.loan_a}").text


def test_a_settlement_waits_for_a_checker_after_the_borrower_takes_it(web: Web, book: Book) -> None:
    score(web.db, book.borrower_a)
    me = web.borrower_signed_in(book.borrower_a, PHONE_A)
    me.get(f"/web/me/loans/{book.loan_a}/relief")
    me.post(f"/web/me/loans/{book.loan_a}/relief", {"option": "all"})
    offers = me.get(f"/web/me/loans/{book.loan_a}/relief").text
    with web.db.reading() as session:
        settlement = session.scalars(
            select(ReliefOffer.id).where(ReliefOffer.option == "settlement")
        ).one()
    assert f"/web/me/relief/offers/{settlement}/accept" in offers
    assert len(_ACCEPT.findall(offers)) > 1  # every option the loan qualifies for
    taken = me.post(f"/web/me/relief/offers/{settlement}/accept", {})
    assert taken.headers["location"].endswith("?n=accepted")
    after = me.get(taken.headers["location"]).text
    assert "您已接受此方案，正在等待审批。" in after
    assert offer_status(web.db, settlement) == ("accepted", None)
    checker = web.signed_in("risk", username="rita")
    assert f"批准方案 {settlement}" in checker.get("/web/approvals").text
    assert checker.post(f"/web/approvals/{settlement}/approve", {}).status_code == 303
    assert offer_status(web.db, settlement) == ("applied", "web:rita")


def test_refusals_show_the_reason_and_change_nothing(web: Web, book: Book) -> None:
    score(web.db, book.borrower_a)
    me = web.borrower_signed_in(book.borrower_a, PHONE_A)
    path = f"/web/me/loans/{book.loan_a}/relief"
    me.get(path)
    bad_income = me.post(path, {"option": "deferral", "monthly_income": "lots"})
    assert bad_income.status_code == 400
    assert "收入和债务须为不小于零的金额" in bad_income.text
    assert 'value="lots"' in bad_income.text  # the form keeps what was typed
    negative = me.post(path, {"option": "deferral", "monthly_debt": "-5"})
    assert negative.status_code == 400
    unknown = me.post(path, {"option": "holiday"})
    assert unknown.status_code == 400
    assert "请选择您要申请的方案。" in unknown.text
    assert me.post(path, {"option": "deferral"}, token=False).status_code == 403
    assert _requests(web) == 0
    assert me.post(path, {"option": "deferral"}).status_code == 303
    again = me.post(path, {"option": "arrears-plan"})
    assert again.status_code == 400
    assert "该贷款已有一笔申请正在处理中。" in again.text
    assert _requests(web) == 1


def test_a_borrower_sees_and_takes_only_their_own_relief(web: Web, book: Book) -> None:
    score(web.db, book.borrower_b)
    offer = waiting_offer(web.db, book.loan_b)
    me = web.borrower_signed_in(book.borrower_a, PHONE_A)
    assert me.get(f"/web/me/loans/{book.loan_b}/relief").status_code == 404
    me.get(f"/web/me/loans/{book.loan_a}/relief")
    assert me.post(f"/web/me/loans/{book.loan_b}/relief", {"option": "all"}).status_code == 404
    assert me.post(f"/web/me/relief/offers/{offer}/accept", {}).status_code == 404
    assert me.post("/web/me/relief/offers/999999/accept", {}).status_code == 404
    # Staff pages stay staff's, and a borrower page is not a member of staff's.
    staff = web.signed_in("collector")
    assert staff.get(f"/web/me/loans/{book.loan_a}/relief").status_code == 303
    assert offer_status(web.db, offer) == ("accepted", None)


@sqlite_only
def test_without_a_credit_score_the_borrower_reads_why_and_is_declined(
    web: Web, book: Book
) -> None:
    me = web.borrower_signed_in(book.borrower_b, PHONE_B)
    page = me.get(f"/web/me/loans/{book.loan_b}/relief").text
    assert "没有信用评分记录" in page
    assert "目前不可申请" in page
    assert "哪种方式对您有帮助？" not in page  # nothing to ask for
    me.post("/web/locale", {"locale": "en", "back": f"/web/me/loans/{book.loan_b}/relief"})
    english = me.get(f"/web/me/loans/{book.loan_b}/relief").text
    assert "No credit score on record" in english
    assert "not available now" in english
    declined = me.post(f"/web/me/loans/{book.loan_b}/relief", {"option": "all"})
    assert declined.headers["location"].endswith("?n=declined")
    assert "your loan does not qualify for relief now" in me.get(declined.headers["location"]).text
