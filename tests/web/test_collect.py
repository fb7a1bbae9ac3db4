"""The collector workbench on SQLite and PostgreSQL: the queue in the order collections computes
it with the contact rules' answer, a case with everything before the call, outcomes and
promises in two clicks that take the collector to the next case, refusals that record nothing;
the loan page's collection and legal cases, the approvals page's collection strategy, and the
dashboard's collections performance with its CSV files."""

# The pages' Chinese is written with full-width punctuation, which RUF001 takes for look-alikes.
# ruff: noqa: RUF001

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from tenor.actions import loans
from tenor.batch.close import close_book
from tenor.collect import actions
from tenor.collect.queue import collector_queue
from tenor.collect.reports import collections_report, strategies_report
from tenor.collect.strategy import DEFAULT_STRATEGY
from tenor.collect.tables import CaseAction, CollectionCase, ContactOutcome, Dispute, Promise
from tenor.core.collection import CommissionBand, LegalStage, OutcomeCode
from tenor.core.money import Money
from tenor.store.journal import business_date, set_business_date
from tests.api.conftest import Book
from tests.web.books import SPLIT_STRATEGY, WORKDAY, CollectionsBook, collections_book
from tests.web.conftest import Browser, Web

#: 21:30 in Shanghai, 08:30 in New York: every borrower of the book may be called.
EVENING = dt.datetime(2026, 2, 16, 13, 30, tzinfo=dt.UTC)


@pytest.fixture
def cases(web: Web) -> CollectionsBook:
    """The collections book in the console's database, the clock at :data:`WORKDAY`."""
    web.clock.now = WORKDAY
    return collections_book(web.db)


def _collector(web: Web, book: CollectionsBook, username: str = "wang") -> Browser:
    return web.signed_in("collector", username=username, collector_id=book.collector_id)


def _text(page: str) -> str:
    """The page's main text, tags removed and spaces collapsed."""
    main = page[page.index("<main") :]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main)))


def _outcomes(web: Web) -> list[tuple[int, str, int | None, str]]:
    with web.db.reading() as session:
        return [
            (row.case_id, row.code, row.collector_id, row.actor)
            for row in session.scalars(select(ContactOutcome).order_by(ContactOutcome.id))
        ]


def _task_states(web: Web, case_id: int) -> list[str]:
    with web.db.reading() as session:
        return list(
            session.scalars(
                select(CaseAction.state)
                .where(CaseAction.case_id == case_id)
                .order_by(CaseAction.id)
            )
        )


def test_a_collector_sees_their_queue_in_order_with_the_rules_answer(
    web: Web, cases: CollectionsBook
) -> None:
    browser = _collector(web, cases)
    page = browser.get("/web/collect")
    assert page.status_code == 200
    text = _text(page.text)
    with web.db.reading() as session:
        expected = collector_queue(session, cases.collector_id, WORKDAY, business_date(session))
    # Tom Baker owes more than 张伟, but it is 22:30 in New York: he is called last.
    assert [entry.borrower_name for entry in expected] == ["李娜", "张伟", "Tom Baker"]
    positions = [text.index(f" {entry.rank} {entry.borrower_name} ") for entry in expected]
    assert positions == sorted(positions)
    assert "王芳（early）的工作队列" in text
    assert "从队首案件开始：李娜" in text
    assert text.count("现在可以联系") == 2
    assert "休息时间 下次可联系：2026年2月16日 08:00:00 (America/New_York)" in text
    assert "¥5,685.02" in text  # 李娜's expected value: 12,637.83 x 45% - 2.00
    assert f'href="/web/collect/cases/{cases.cases["李娜"]}"' in page.text
    assert '<a href="/web/collect" aria-current="page">催收</a>' in page.text


def test_the_case_shows_the_borrower_the_debt_and_the_rules_before_the_call(
    web: Web, cases: CollectionsBook
) -> None:
    browser = _collector(web, cases)
    page = browser.get(f"/web/collect/cases/{cases.cases['李娜']}")
    assert page.status_code == 200
    text = _text(page.text)
    assert f"案件 {cases.cases['李娜']}: 李娜" in text
    assert "王芳 的队列中第 1 个，共 3 个。" in text
    assert "联系规则现在允许电话。" in text
    assert "13900139000" in text  # a collector sees the phone they call
    assert "余额 ¥12,637.83" in text
    assert "逾期金额 ¥2,106.30" in text
    assert "逾期天数 1" in text
    assert "首期违约" in text
    # The promise form proposes the arrears, three days after the business date (16 February).
    assert 'name="amount" inputmode="decimal" required value="2106.30"' in page.text
    assert 'min="2026-02-16" max="2026-04-17" value="2026-02-19"' in page.text
    buttons = re.findall(r'<button type="submit" name="code" value="([a-z_]+)"', page.text)
    assert buttons == [
        "right_party_contact",
        "wrong_party",
        "no_answer",
        "refused",
        "dispute",
        "hardship",
        "deceased",
        "bankruptcy",
    ]
    # Before the call to New York at night: refused, and when it is next allowed.
    night = _text(browser.get(f"/web/collect/cases/{cases.cases['Tom Baker']}").text)
    assert "联系规则现在不允许电话：休息时间。" in night
    assert "下次可联系时间：2026年2月16日 08:00:00 (America/New_York)（借款人当地时间）。" in night
    # A risk officer reads the case with the phone masked and no way to record.
    risk = web.signed_in("risk").get(f"/web/collect/cases/{cases.cases['李娜']}")
    assert risk.status_code == 200
    assert "13900139000" not in risk.text
    assert "联系规则现在允许电话。" in _text(risk.text)
    assert "/outcome" not in risk.text


def test_a_promise_in_two_clicks_then_the_next_case(web: Web, cases: CollectionsBook) -> None:
    browser = _collector(web, cases)
    top = cases.cases["李娜"]
    browser.get(f"/web/collect/cases/{top}")
    done = browser.post(
        f"/web/collect/cases/{top}/outcome",
        {
            "code": "promise_to_pay",
            "channel": "call",
            "amount": "2106.30",
            "promise_date": "2026-02-19",
        },
    )
    assert done.status_code == 303
    assert _outcomes(web) == [(top, "promise_to_pay", cases.collector_id, "web:wang")]
    with web.db.reading() as session:
        promise = session.scalars(select(Promise)).one()
        case = session.get(CollectionCase, top)
        assert case is not None
        recorded_id = session.scalar(select(ContactOutcome.id))
        left = collector_queue(session, cases.collector_id, WORKDAY, business_date(session))
    assert (promise.amount_minor, promise.due_date, promise.status) == (
        210630,
        dt.date(2026, 2, 19),
        "pending",
    )
    assert case.paused == "promise_to_pay"
    assert _task_states(web, top) == ["done"]
    # The case left the queue; the collector is at the next one, 张伟.
    assert [entry.borrower_name for entry in left] == ["张伟", "Tom Baker"]
    assert done.headers["location"] == (
        f"/web/collect/cases/{cases.cases['张伟']}?recorded={recorded_id}"
    )
    after = _text(browser.get(done.headers["location"]).text)
    assert f"已在案件 {top} 上记录：承诺还款。" in after
    assert "承诺于 2026年2月19日 前还款 ¥2,106.30，待日终批处理判定。" in after
    assert "王芳 的队列中第 1 个，共 2 个。" in after
    again = _text(browser.get(f"/web/collect/cases/{top}").text)
    assert "待履行的还款承诺：2026年2月19日 前还款 ¥2,106.30（2026年2月16日 作出）。" in again
    assert "当前不在 王芳 的队列中。" in again
    assert "暂停 还款承诺中" in again


def test_an_outcome_button_records_its_code_and_a_dispute_pauses_the_case(
    web: Web, cases: CollectionsBook
) -> None:
    browser = _collector(web, cases)
    case_id = cases.cases["张伟"]
    browser.get(f"/web/collect/cases/{case_id}")
    done = browser.post(
        f"/web/collect/cases/{case_id}/outcome",
        {"code": "dispute", "channel": "call", "note": "说已经还过了"},
    )
    assert done.status_code == 303
    assert _outcomes(web) == [(case_id, "dispute", cases.collector_id, "web:wang")]
    with web.db.reading() as session:
        dispute = session.scalars(select(Dispute)).one()
        case = session.get(CollectionCase, case_id)
        assert case is not None
    assert (dispute.case_id, dispute.reason, case.paused) == (case_id, "说已经还过了", "dispute")
    page = _text(browser.get(f"/web/collect/cases/{case_id}").text)
    assert "提出异议" in page
    assert "说已经还过了" in page
    assert "异议解决前暂停催收" in page


def test_a_call_the_rules_forbid_is_refused_and_nothing_is_recorded(
    web: Web, cases: CollectionsBook
) -> None:
    browser = _collector(web, cases)
    case_id = cases.cases["Tom Baker"]
    browser.get(f"/web/collect/cases/{case_id}")
    refused = browser.post(
        f"/web/collect/cases/{case_id}/outcome", {"code": "no_answer", "channel": "call"}
    )
    assert refused.status_code == 409
    text = _text(refused.text)
    assert "联系规则现在不允许此次联系：未记录任何内容。" in text
    assert "联系规则现在不允许电话：休息时间。" in text
    assert "2026年2月16日 08:00:00 (America/New_York)" in text
    assert _outcomes(web) == []
    assert _task_states(web, case_id) == ["task"]
    # In English too.
    browser.post("/web/locale", {"locale": "en", "back": f"/web/collect/cases/{case_id}"})
    browser.get(f"/web/collect/cases/{case_id}")
    english = browser.post(
        f"/web/collect/cases/{case_id}/outcome", {"code": "no_answer", "channel": "call"}
    )
    assert "The contact rules do not allow this contact now: nothing was recorded." in english.text
    assert "The contact rules do not allow a call now: quiet hours." in _text(english.text)
    assert _outcomes(web) == []


def test_working_through_the_queue_ends_on_the_empty_queue(
    web: Web, cases: CollectionsBook
) -> None:
    web.clock.now = EVENING
    browser = _collector(web, cases)
    path = browser.get("/web/collect").text
    first = re.search(r'href="(/web/collect/cases/\d+)"', path)
    assert first is not None
    visited = []
    location = first.group(1)
    while location.startswith("/web/collect/cases/"):
        case_id = int(re.findall(r"\d+", location)[0])
        visited.append(case_id)
        browser.get(location)
        done = browser.post(
            f"/web/collect/cases/{case_id}/outcome", {"code": "no_answer", "channel": "call"}
        )
        assert done.status_code == 303
        location = done.headers["location"]
    # In the evening everyone may be called: expected value alone orders the queue.
    assert visited == [cases.cases[name] for name in ("李娜", "Tom Baker", "张伟")]
    assert location.startswith("/web/collect?recorded=")
    end = _text(browser.get(location).text)
    assert f"已在案件 {cases.cases['张伟']} 上记录：无人接听。" in end
    assert "队列为空：没有待处理的电话或上门任务。" in end
    assert [row[:2] for row in _outcomes(web)] == [(case, "no_answer") for case in visited]


@pytest.mark.parametrize(
    ("amount", "promised", "message", "status"),
    [
        ("lots", "2026-02-19", "承诺金额须为正数金额，例如 1053.15。", 400),
        ("0", "2026-02-19", "承诺金额须为正数金额，例如 1053.15。", 400),
        ("12.345", "2026-02-19", "承诺金额须为正数金额，例如 1053.15。", 400),
        ("99999", "2026-02-19", "承诺金额不能超过案件余额（¥12,637.83）。", 400),
        ("100", "19/02/2026", "承诺还款日须为日期，例如 2026-03-01。", 400),
        ("100", "2026-02-15", "承诺还款日不能早于业务日期。", 400),
        ("100", "2026-04-18", "承诺还款日最多在 60 天之后。", 400),
    ],
)
def test_a_promise_form_tenor_cannot_take_is_refused_in_the_page_language(
    web: Web, cases: CollectionsBook, amount: str, promised: str, message: str, status: int
) -> None:
    browser = _collector(web, cases)
    case_id = cases.cases["李娜"]
    browser.get(f"/web/collect/cases/{case_id}")
    refused = browser.post(
        f"/web/collect/cases/{case_id}/outcome",
        {"code": "promise_to_pay", "channel": "call", "amount": amount, "promise_date": promised},
    )
    assert refused.status_code == status
    assert message in _text(refused.text)
    # What the collector typed stays in the form.
    assert f'value="{html.escape(amount)}"' in refused.text
    assert _outcomes(web) == []


def test_recording_needs_the_work_role_the_forms_token_and_known_codes(
    web: Web, cases: CollectionsBook
) -> None:
    case_id = cases.cases["李娜"]
    risk = web.signed_in("risk")
    risk.get(f"/web/collect/cases/{case_id}")
    forbidden = risk.post(
        f"/web/collect/cases/{case_id}/outcome", {"code": "no_answer", "channel": "call"}
    )
    assert forbidden.status_code == 403
    browser = _collector(web, cases)
    browser.get(f"/web/collect/cases/{case_id}")
    untokened = browser.post(
        f"/web/collect/cases/{case_id}/outcome",
        {"code": "no_answer", "channel": "call"},
        token=False,
    )
    assert untokened.status_code == 403
    unknown = browser.post(
        f"/web/collect/cases/{case_id}/outcome", {"code": "shouted", "channel": "call"}
    )
    assert unknown.status_code == 400
    by_letter = browser.post(
        f"/web/collect/cases/{case_id}/outcome", {"code": "no_answer", "channel": "letter"}
    )
    assert by_letter.status_code == 400
    assert browser.get("/web/collect/cases/999999").status_code == 404
    assert _outcomes(web) == []


def test_an_admin_chooses_a_collector_and_works_their_queue(
    web: Web, cases: CollectionsBook
) -> None:
    admin = web.signed_in("admin", username="ada")
    chooser = admin.get("/web/collect")
    assert chooser.status_code == 200
    assert f'<option value="{cases.collector_id}">王芳 · early' in chooser.text
    assert "工作队列" not in chooser.text
    page = admin.get(f"/web/collect?collector={cases.collector_id}")
    top = cases.cases["李娜"]
    assert f'href="/web/collect/cases/{top}?collector={cases.collector_id}"' in page.text
    case = admin.get(f"/web/collect/cases/{top}?collector={cases.collector_id}")
    assert f'name="collector" value="{cases.collector_id}"' in case.text
    assert "13900139000" in case.text  # an admin sees everything
    done = admin.post(
        f"/web/collect/cases/{top}/outcome",
        {"code": "right_party_contact", "channel": "call", "collector": cases.collector_id},
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith(f"/web/collect/cases/{cases.cases['张伟']}?")
    assert done.headers["location"].endswith(f"&collector={cases.collector_id}")
    # The admin is no collector: the outcome is theirs, not 王芳's.
    assert _outcomes(web) == [(top, "right_party_contact", None, "web:ada")]
    assert admin.get("/web/collect?collector=999999").status_code == 404


def test_who_has_a_workbench(web: Web, cases: CollectionsBook) -> None:
    unlinked = web.signed_in("collector", username="carl").get("/web/collect")
    assert unlinked.status_code == 200
    assert "您的用户未关联催收员，因此没有工作队列。" in _text(unlinked.text)
    assert "<select" not in unlinked.text
    # A linked collector cannot open another collector's queue by asking for it.
    other = actions.add_collector(
        web.db, actions.CollectorSpec(name="赵六", team="late", languages=("zh-CN",)), actor="t"
    )
    mine = _collector(web, cases).get(f"/web/collect?collector={other.id}")
    assert "王芳（early）的工作队列" in _text(mine.text)
    auditor = web.signed_in("auditor").get(f"/web/collect?collector={cases.collector_id}")
    assert auditor.status_code == 200
    assert "从队首案件开始：李娜" in _text(auditor.text)
    agency = web.signed_in("agency", agency_id=1)
    assert agency.get("/web/collect").status_code == 403
    assert agency.get(f"/web/collect/cases/{cases.cases['李娜']}").status_code == 403
    assert "/web/collect" not in agency.get("/web/loans").text


def test_a_closed_case_takes_no_outcome(web: Web, cases: CollectionsBook) -> None:
    case_id = cases.cases["张伟"]
    browser = _collector(web, cases)
    browser.get(f"/web/collect/cases/{case_id}")
    actions.write_off(web.db, case_id, actor="key:seed")
    refused = browser.post(
        f"/web/collect/cases/{case_id}/outcome", {"code": "no_answer", "channel": "call"}
    )
    assert refused.status_code == 409
    text = _text(refused.text)
    assert "该案件已结案：未记录任何内容。" in text
    assert "该案件已结案，不再记录任何内容。" in text
    assert "/outcome" not in refused.text  # no form, and the language switch comes back here
    assert _outcomes(web) == []


def test_the_loan_page_shows_its_collection_and_legal_cases(
    web: Web, cases: CollectionsBook
) -> None:
    loan_id, case_id = cases.loans["李娜"], cases.cases["李娜"]
    browser = _collector(web, cases)
    browser.get(f"/web/collect/cases/{case_id}")
    browser.post(
        f"/web/collect/cases/{case_id}/outcome",
        {
            "code": "promise_to_pay",
            "channel": "call",
            "amount": "500",
            "promise_date": "2026-02-18",
        },
    )
    legal = actions.open_legal(web.db, loan_id, court="上海市浦东新区人民法院", actor="key:seed")
    actions.advance_legal(web.db, legal.id, LegalStage.DEMAND_LETTER, actor="key:seed")
    page = _text(browser.get(f"/web/loans/{loan_id}").text)
    assert f"案件 {case_id} 在催" in page
    assert "2026年2月16日 电话 已完成 承诺还款" in page
    assert "承诺还款" in page
    assert "¥500.00 2026年2月18日 待判定" in page
    assert f"诉讼案件 {legal.id} 律师函" in page
    assert "上海市浦东新区人民法院" in page
    assert "2026年2月16日 已转诉讼" in page
    # An auditor reads the same; a loan that never fell behind says so.
    auditor = _text(web.signed_in("auditor").get(f"/web/loans/{loan_id}").text)
    assert f"诉讼案件 {legal.id}" in auditor
    with web.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(CollectionCase)) == 3


def test_approvals_show_the_collection_strategy_and_its_versions(
    web: Web, cases: CollectionsBook
) -> None:
    browser = web.signed_in("risk")
    page = _text(browser.get("/web/approvals").text)
    assert "现行：standard 版本 0。 内置默认策略：尚未保存任何版本。" in page
    assert "early 1–30 D+0 短信 → D+2 推送通知 → D+3 电话 → D+7 电话 → D+7 电子邮件" in page
    assert "占客群 20%: D+0 电话 → D+1 短信 → D+5 电话 → D+7 电话" in page
    assert "余额不低于 ¥500,000.00" in page
    changed = {
        **DEFAULT_STRATEGY,
        "segments": [
            {**segment, "challenger_percent": 50} if segment["name"] == "early" else segment
            for segment in DEFAULT_STRATEGY["segments"]
        ],
    }
    actions.save_strategy(web.db, changed, actor="key:strategist")
    after = browser.get("/web/approvals")
    text = _text(after.text)
    assert "现行：standard 版本 1。" in text
    assert "内置默认策略" not in text
    assert "占客群 50%: D+0 电话" in text
    assert "standard · 版本 1 · 现行 · key:strategist" in text
    assert "&#34;challenger_percent&#34;: &#34;50&#34;" in after.text
    # Collectors read the strategy they work under too.
    assert "催收策略" in _text(_collector(web, cases).get("/web/approvals").text)


def _csv(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def _charts(page: str) -> dict[str, dict[str, Any]]:
    specs = [
        json.loads(html.unescape(found)) for found in re.findall(r"data-chart='([^']+)'", page)
    ]
    return {spec["kind"]: spec for spec in specs}


def _percent(rate: float | None) -> str:
    return "" if rate is None else str((Decimal(str(rate)) * 100).quantize(Decimal("0.01")))


def test_the_dashboard_shows_collections_performance_with_its_csv(web: Web) -> None:
    """李娜 promises and pays (kept, cured), 张伟 promises and does not (broken), Tom Baker's
    case goes to an agency: the section's figures, charts and files are the reports'."""
    web.clock.now = WORKDAY
    book = collections_book(web.db, strategy=SPLIT_STRATEGY)
    for name, amount in (("李娜", "2106.30"), ("张伟", "1053.15")):
        actions.record_outcome(
            web.db,
            book.cases[name],
            actions.OutcomeRequest(
                code=OutcomeCode.PROMISE_TO_PAY,
                at=EVENING,
                amount=Decimal(amount),
                promise_date=dt.date(2026, 2, 17),
            ),
            actor="key:seed",
        )
    with web.db.transaction() as session:
        set_business_date(session, dt.date(2026, 2, 17))
    loans.post_repayment(
        web.db,
        book.loans["李娜"],
        amount=Money.of("2106.30", "CNY"),
        value_date=dt.date(2026, 2, 17),
    )
    close_book(web.db, through=dt.date(2026, 2, 18))
    agency = actions.add_agency(
        web.db,
        name="信达催收",
        commission=[CommissionBand(1, Decimal("0.15"))],
        recall_days=60,
        capacity=100,
        actor="key:seed",
    )
    actions.place(web.db, book.cases["Tom Baker"], agency.id, actor="key:seed")
    with web.db.reading() as session:
        day = business_date(session)
        report = collections_report(session, day)
        arms = strategies_report(session, day)
    assert report["promises"]["keep_rate"] == 0.5
    assert report["by_stage"]["M1"]["cured"] == 1

    browser = web.signed_in("risk")
    # The portfolio asks for the section once shown; without JavaScript it is a link to it.
    portfolio = browser.get("/web/portfolio").text
    assert 'hx-get="/web/portfolio/collections" hx-trigger="load"' in portfolio
    assert '<a href="/web/portfolio/collections">查看催收绩效</a>' in portfolio
    page = browser.get("/web/portfolio/collections", headers={"HX-Request": "true"})
    assert page.status_code == 200
    assert "<html" not in page.text  # the section alone, swapped into the portfolio
    whole = browser.get("/web/portfolio/collections")
    assert "<html" in whole.text
    assert "echarts.common.min.js" in whole.text
    assert _charts(whole.text).keys() == _charts(page.text).keys()
    text = _text("<main>" + page.text)
    assert "催收绩效" in text
    assert "已开立案件 3 在催案件 2 出催率 33.33% 承诺履约率 50% 案件回收金额 ¥2,106.30" in text
    charts = _charts(page.text)
    assert charts["stages"]["categories"] == ["M1", "M2", "M3", "M4-M6", "M6+"]
    assert [group["name"] for group in charts["stages"]["groups"]] == ["迁徙率", "出催率", "回收率"]
    assert charts["stages"]["groups"][1]["values"][0] == "33.33"
    assert charts["promises"]["values"] == ["1", "1", "0"]
    assert charts["promises"]["categories"] == ["已履行", "已违约", "待判定"]
    assert charts["agencies"]["categories"] == ["信达催收"]
    segment = next(s for s in arms["segments"] if s["segment"] == "first-payment-default")
    assert set(segment["arms"]) == {"champion", "challenger"}
    assert charts["arms"]["arms"] == ["challenger", "champion"]
    assert charts["arms"]["low"] == [
        _percent(segment["arms"][arm]["cure_rate"]["low"]) for arm in ("challenger", "champion")
    ]

    stages = _csv(browser.get("/web/portfolio/CNY/stages.csv").text)
    assert [
        (row["stage"], row["entered"], row["cure_rate_percent"], row["recovered"]) for row in stages
    ] == [
        (
            name,
            str(report["by_stage"][name]["entered"]),
            _percent(report["by_stage"][name]["cure_rate"]),
            report["by_stage"][name]["recovered"],
        )
        for name in ("M1", "M2", "M3", "M4-M6", "M6+")
    ]
    assert _csv(browser.get("/web/portfolio/CNY/promises.csv").text) == [
        {
            "currency": "CNY",
            "made": "2",
            "pending": "0",
            "kept": "1",
            "broken": "1",
            "keep_rate_percent": "50.00",
            "promised_decided": "3159.45",
            "paid_against_decided": report["promises"]["paid_against"],
        }
    ]
    by_arm = {row["arm"]: row for row in _csv(browser.get("/web/portfolio/CNY/arms.csv").text)}
    for arm in ("champion", "challenger"):
        interval = segment["arms"][arm]["cure_rate"]
        assert by_arm[arm]["cases"] == str(segment["arms"][arm]["cases"])
        assert by_arm[arm]["cure_rate_low"] == _percent(interval["low"])
        assert by_arm[arm]["cure_rate_high"] == _percent(interval["high"])
    difference = segment["cure_rate_difference"]
    assert by_arm["challenger"]["cure_rate_difference_estimate"] == _percent(difference["estimate"])
    assert by_arm["champion"]["cure_rate_difference_estimate"] == ""
    (placed,) = _csv(browser.get("/web/portfolio/CNY/agencies.csv").text)
    assert (placed["agency"], placed["placements"], placed["open"]) == ("信达催收", "1", "1")
    assert placed["placed_balance"] == report["agencies"][0]["placed_balance"]

    # Collectors work cases; the performance reports are for risk officers, admins, auditors.
    collector = _collector(web, book)
    assert "催收绩效" not in collector.get("/web/portfolio").text
    assert collector.get("/web/portfolio/collections").status_code == 403
    assert collector.get("/web/portfolio/CNY/stages.csv").status_code == 403
    assert browser.get("/web/portfolio/USD/stages.csv").status_code == 404


def test_the_dashboard_says_when_no_case_has_opened(web: Web, book: Book) -> None:
    page = web.signed_in("auditor").get("/web/portfolio/collections")
    assert "尚未开立任何催收案件。" in _text(page.text)
    assert (
        web.signed_in("risk", username="rita").get("/web/portfolio/CNY/stages.csv").status_code
        == 404
    )
