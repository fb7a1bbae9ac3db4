"""The staff loan page on SQLite and PostgreSQL: the contacts the outbox made (and the rules
that refused some), relief and restructurings, bureau records month by month, and the
inclusion receipts of the loan's events."""

# The pages' Chinese is written with full-width punctuation, which RUF001 takes for look-alikes.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from tenor.actions import relief
from tenor.audit.keys import Signer
from tenor.audit.log import sign_tree_head
from tenor.audit.receipts import check_receipt
from tenor.bureau.records import add_comment, open_dispute
from tenor.notify.outbox import dispatch_once
from tenor.notify.policy import DEFAULT_POLICY, ReminderChannel, Step
from tenor.notify.reminders import ReminderDue, schedule_reminders
from tenor.notify.tables import Notification
from tenor.store.models import Borrower, JournalEntry
from tests.api.conftest import Book
from tests.web.books import FakeSms, score
from tests.web.conftest import Web

PHONE_A = "13800138000"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = dt.date(2026, 3, 15)


def _remind(
    web: Web,
    book: Book,
    day: dt.date,
    offset: int,
    hour: int,
    channels: tuple[ReminderChannel, ...],
) -> None:
    policy = DEFAULT_POLICY.model_copy(
        update={
            "version": 2,
            "hours": (hour,),
            "default_hour": hour,
            "steps": (Step(offset=offset, channels=channels, template="overdue"),),
        }
    )
    with web.db.transaction() as session:
        action = ReminderDue(book.loan_a, 2, DUE, offset, 1053_15)
        schedule_reminders(session, [action], day, policies=[policy])


def test_contacts_show_each_message_its_state_and_the_rule_that_refused_it(
    web: Web, book: Book
) -> None:
    with web.db.transaction() as session:
        borrower = session.get(Borrower, book.borrower_a)
        assert borrower is not None
        borrower.opt_outs = ["email"]
    # On the due date at 10:00, a push; the day after at 23:00, a text and an email.
    _remind(web, book, DUE, 0, 10, ("push",))
    _remind(web, book, DUE + dt.timedelta(days=1), 1, 23, ("sms", "email"))
    fake = FakeSms()
    # 10:05 in Shanghai; written in UTC, as the dispatcher's clock gives it.
    sent_at = dt.datetime(2026, 3, 15, 2, 5, tzinfo=dt.UTC)
    dispatch_once(web.db, {"push": fake}, now=sent_at)
    assert len(fake.sent) == 1
    # A sign-in code is about no loan: it is never on a loan's page.
    code_browser = web.browser()
    code_browser.get("/web/me/sign-in")
    code_browser.post("/web/me/code", {"phone": PHONE_A})
    code = web.last_code(book.borrower_a)

    page = web.signed_in("auditor").get(f"/web/loans/{book.loan_a}")
    assert page.status_code == 200
    history = page.text[page.text.index('id="contact-history"') :]
    history = history[: history.index("</section>")]
    assert "关于该贷款的 3 条消息中最新的 3 条" in history
    body = history[history.index("<tbody>") :]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    assert len(rows) == 3
    email, sms, push = rows  # newest first (the text and the email of one step: email last)
    assert "短信" in sms
    assert "暂缓" in sms
    assert "休息时间" in sms
    assert "暂缓至 2026年3月17日 08:00:00" in sms
    assert "电子邮件" in email
    assert "已拒绝" in email
    assert "借款人已退订该渠道" in email
    assert "推送通知" in push
    assert "已发送" in push
    assert "2026年3月15日 10:05:00" in push
    assert "还款提醒" in push
    assert "第 2 期" in push
    assert "D+0" in push
    assert "登录验证码" not in page.text
    assert code not in page.text
    with web.db.reading() as session:
        bodies = session.scalars(
            select(Notification.body).where(Notification.loan_id == book.loan_a)
        ).all()
    assert all(body not in page.text for body in bodies)


def test_relief_and_restructurings_are_on_the_loan_page(web: Web, book: Book) -> None:
    score(web.db, book.borrower_a)
    with web.db.transaction() as session:
        asked = relief.request_relief(
            session, loan_id=book.loan_a, channel="staff", actor="key:maker", reason="失业"
        )
        offers = relief.make_offers(session, request_id=asked.id, actor="key:maker")
        deferral = next(offer.id for offer in offers if offer.option == "deferral")
    applied = relief.accept_offer(web.db, deferral, actor="key:maker")
    assert applied.status == "applied"
    page = web.signed_in("collector").get(f"/web/loans/{book.loan_a}").text
    section = page[page.index('id="relief"') :]
    section = section[: section.index("</section>")]
    assert "已重组并处于观察期" in section
    assert "催收暂停：执行中的方案 延期还款" in section
    assert f"纾困申请 {asked.id}" in section
    assert "已生效" in section
    assert "员工代办" in section
    assert "失业" in section
    assert f"方案 {deferral}</summary>" not in section  # the summary names the option too
    assert f"方案 {deferral}: 延期还款 · 已生效" in section
    assert "已被其他方案取代" in section
    assert "流水中的重组事件" in section
    # The journal's timeline shows the restructuring, newest first, with its option.
    timeline = page[page.index('class="timeline"') :]
    assert timeline.index("重组</strong>") < timeline.index("放款</strong>")
    assert "· 延期还款" in timeline


def test_bureau_records_are_listed_month_by_month(web: Web, book: Book) -> None:
    with web.db.transaction() as session:
        add_comment(session, book.loan_a, "deferred", dt.date(2026, 2, 1), dt.date(2026, 2, 28))
        open_dispute(session, book.loan_a, dt.date(2026, 2, 20), note="金额有误")
    page = web.signed_in("risk").get(f"/web/loans/{book.loan_a}").text
    section = page[page.index('id="bureau"') :]
    section = section[: section.index("</section>")]
    # Business date 1 March: the month ends of January (nothing due yet) and February (the
    # first installment, due 15 February, paid 100.00 of 1,053.15: overdue).
    months = re.findall(r'<th scope="row">(\d{4}-\d{2})</th>', section)
    assert months == ["2026-02", "2026-01"]
    february = section[section.index("2026-02") : section.index("2026-01")]
    assert ">1</span> 逾期" in february
    assert "/" * 22 + "*1" in february  # the 24-month history: not open, nothing due, 1-30
    assert "¥983.15" in february  # past due: 1,053.15 less the 100.00 paid, and the 30.00 fee
    assert "逾期 · 展期" in february  # the deferral's special comment marks the month
    assert "特殊说明" in section
    assert "CP" in section
    assert "延期" in section
    assert "异议" in section
    assert "金额有误" in section
    # A loan not paid out yet has no month end to report, and no relief.
    pending = web.signed_in("collector").get(f"/web/loans/{book.pending}").text
    assert "尚无可报送的月末。" in pending
    assert "暂无纾困申请或重组。" in pending


def test_each_covered_event_has_an_inclusion_receipt_that_checks(web: Web, book: Book) -> None:
    browser = web.signed_in("collector")
    before = browser.get(f"/web/loans/{book.loan_a}").text
    assert "尚未签名任何树头" in before
    assert "/receipts/" not in before
    signer = Signer(Ed25519PrivateKey.generate())
    with web.db.transaction() as session:
        sign_tree_head(session, signer, dt.datetime(2026, 3, 1, 18, tzinfo=dt.UTC))
    page = browser.get(f"/web/loans/{book.loan_a}").text
    links = re.findall(rf"/web/loans/{book.loan_a}/receipts/([0-9a-f-]{{36}})\.json", page)
    with web.db.reading() as session:
        events = set(
            session.scalars(
                select(JournalEntry.event_id).where(JournalEntry.loan_id == book.loan_a)
            )
        )
    assert set(links) == events
    assert "该贷款 3 个事件中有 3 个已在最新签名树头之下" in page
    download = browser.get(f"/web/loans/{book.loan_a}/receipts/{book.repayment_a}.json")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/json"
    assert "attachment" in download.headers["content-disposition"]
    checked = check_receipt(json.loads(download.text), signer.public_key)
    assert checked.event["event_id"] == book.repayment_a
    # Another loan's event through this loan, or no event at all, is not found.
    other = browser.get(f"/web/loans/{book.loan_b}")
    other_event = re.findall(rf"/web/loans/{book.loan_b}/receipts/([0-9a-f-]{{36}})", other.text)
    assert other_event
    wrong = browser.get(f"/web/loans/{book.loan_a}/receipts/{other_event[0]}.json")
    assert wrong.status_code == 404
    assert browser.get(f"/web/loans/{book.loan_a}/receipts/nope.json").status_code == 404
