"""The approvals page on SQLite and PostgreSQL: a checker approves relief from the page, the
maker cannot, forms need their token and the role, and the policies are listed by version."""

# The pages' Chinese is written with full-width punctuation, which RUF001 takes for look-alikes.
# ruff: noqa: RUF001

from __future__ import annotations

import html

from sqlalchemy import select

from tenor.actions import relief
from tenor.notify.policy import DEFAULT_POLICY, save_policy
from tenor.store.models import JournalEntry
from tests.api.conftest import Book
from tests.web.books import MAKER, offer_status, score, waiting_offer
from tests.web.conftest import Web


def _journal(web: Web, loan_id: int) -> list[tuple[str, str]]:
    with web.db.reading() as session:
        return [
            (kind, actor)
            for kind, actor in session.execute(
                select(JournalEntry.kind, JournalEntry.actor)
                .where(JournalEntry.loan_id == loan_id)
                .order_by(JournalEntry.sequence)
            )
        ]


def test_a_checker_approves_an_accepted_offer_from_the_page(web: Web, book: Book) -> None:
    score(web.db, book.borrower_b)
    offer = waiting_offer(web.db, book.loan_b)
    checker = web.signed_in("risk", username="rita")
    page = checker.get("/web/approvals")
    assert page.status_code == 200
    assert f"方案 {offer}: 协商结清" in page.text
    assert "李娜" in page.text
    assert MAKER in page.text
    assert f"批准方案 {offer}" in page.text
    approved = checker.post(f"/web/approvals/{offer}/approve", {})
    assert approved.status_code == 303
    assert approved.headers["location"] == f"/web/approvals?approved={offer}"
    assert offer_status(web.db, offer) == ("applied", "web:rita")
    assert _journal(web, book.loan_b)[-1] == ("restructured", "web:rita")
    after = checker.get(approved.headers["location"]).text
    assert f"方案 {offer} 已批准：重组已记入贷款流水。" in after
    assert "暂无待审批的纾困方案。" in after
    # Approving again is refused: the offer no longer waits.
    again = checker.post(f"/web/approvals/{offer}/approve", {})
    assert again.status_code == 409
    assert f"方案 {offer} 已不在待审批状态。" in again.text
    assert len(_journal(web, book.loan_b)) == 2


def test_the_maker_cannot_approve_their_own_offer_and_nothing_changes(web: Web, book: Book) -> None:
    score(web.db, book.borrower_b)
    # Rita accepted the offer for the borrower in the console; she may not approve it too.
    offer = waiting_offer(web.db, book.loan_b, maker="web:rita")
    rita = web.signed_in("risk", username="rita")
    page = rita.get("/web/approvals").text
    assert "您申请、提出或接受了该方案：须由第二人审批。" in page
    assert f"批准方案 {offer}" not in page
    refused = rita.post(f"/web/approvals/{offer}/approve", {})
    assert refused.status_code == 409
    assert f"您申请、提出或接受了方案 {offer}：须由第二人审批。" in refused.text
    assert offer_status(web.db, offer) == ("accepted", None)
    assert [kind for kind, _ in _journal(web, book.loan_b)] == ["disbursed"]
    # A second person can.
    other = web.signed_in("admin", username="omar")
    assert f"批准方案 {offer}" in other.get("/web/approvals").text
    assert other.post(f"/web/approvals/{offer}/approve", {}).status_code == 303
    assert offer_status(web.db, offer) == ("applied", "web:omar")


def test_approving_needs_the_role_and_the_forms_token(web: Web, book: Book) -> None:
    score(web.db, book.borrower_b)
    offer = waiting_offer(web.db, book.loan_b)
    collector = web.signed_in("collector")
    page = collector.get("/web/approvals").text
    assert f"方案 {offer}: 协商结清" in page
    assert "由风险官和管理员审批；您的角色只读。" in page
    assert f"/web/approvals/{offer}/approve" not in page
    assert collector.post(f"/web/approvals/{offer}/approve", {}).status_code == 403
    checker = web.signed_in("risk")
    checker.get("/web/approvals")
    forged = checker.post(f"/web/approvals/{offer}/approve", {"csrf_token": "z" * 43}, token=False)
    assert forged.status_code == 403
    assert checker.post(f"/web/approvals/{offer}/approve", {}, token=False).status_code == 403
    assert offer_status(web.db, offer) == ("accepted", None)
    assert checker.post("/web/approvals/999999/approve", {}).status_code == 404
    agency = web.signed_in("agency", agency_id=7)
    assert agency.get("/web/approvals").status_code == 403


def test_relief_and_reminder_policies_are_listed_with_their_versions(web: Web, book: Book) -> None:
    with web.db.transaction() as session:
        for limit in ("5000", "2000"):
            relief.set_relief_policy(
                session,
                product_id=book.product_id,
                document={"currency": "CNY", "approval_above": limit, "min_credit_score": 650},
                actor=MAKER,
            )
        for version in (1, 2):
            save_policy(
                session,
                DEFAULT_POLICY.model_copy(
                    update={"code": "consumer-fast", "version": version, "products": ("consumer",)}
                ),
            )
    page = html.unescape(web.signed_in("auditor").get("/web/approvals").text)
    relief_section = page[page.index('id="relief-policies"') : page.index('id="reminder-policies"')]
    row = relief_section[relief_section.index("<tbody>") : relief_section.index("</tbody>")]
    assert '<td class="num">2</td>' in row  # version 2 is in force
    assert "650" in row
    assert "¥2,000.00" in row
    assert "协商结清" in row  # always approved by a second person, by default
    assert "全部版本" in relief_section
    assert "版本 1" in relief_section
    assert '"approval_above": "5000"' in relief_section
    reminders = page[page.index('id="reminder-policies"') :]
    assert "consumer-fast" in reminders
    assert "consumer-standard" in reminders
    assert "内置：没有匹配的已保存政策时使用" in reminders
    assert "D-3: 短信/推送通知" in reminders
