"""End to end in a real headless Chromium (Debian's, driven by Playwright): a member of staff
and a borrower go through the console as people do, every page passes axe-core's automated
accessibility check, and no page breaks its own Content-Security-Policy.

Screenshots go to ``$TENOR_TEST_ARTIFACTS`` (default ``.artifacts/web`` in the repository).
Chromium comes from Debian's ``chromium`` package, which ``.ci/run`` installs; Playwright cannot
download its own browser here.
"""

# The pages' Chinese is written with full-width punctuation, which RUF001 takes for look-alikes.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from tenor.actions import apikeys
from tenor.api.app import create_app
from tenor.store.database import Database
from tenor.web import accounts
from tenor.web.accounts import create_staff_user
from tests.api.conftest import Book, seed_book
from tests.conftest import make_database
from tests.web.books import (
    MAKER,
    SPLIT_STRATEGY,
    WORKDAY,
    CollectionsBook,
    closed_book,
    collections_book,
    offer_status,
    score,
    waiting_offer,
)
from tests.web.conftest import PASSWORD, Web, web_app

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
ARTIFACTS = Path(os.environ.get("TENOR_TEST_ARTIFACTS", ROOT / ".artifacts" / "web"))


def chromium_path() -> str | None:
    """Debian's Chromium, or the one ``TENOR_CHROMIUM`` names."""
    for candidate in (os.environ.get("TENOR_CHROMIUM"), "/usr/bin/chromium", "chromium"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


@dataclass
class Site:
    """A live server on loopback over a seeded SQLite book."""

    url: str
    db: Database
    book: Book
    web: Web


@contextmanager
def _serving(db: Database, clock: Callable[[], dt.datetime] | None = None) -> Iterator[str]:
    """Tenor over ``db`` served by uvicorn in a thread, on a free port of 127.0.0.1; its URL.
    ``clock``: the console's clock (the contact rules' instant), the real one by default."""
    app = create_app(db)
    if clock is not None:
        web_app(app).state.clock = clock
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start in 30 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@contextmanager
def _cheap_hashes() -> Iterator[None]:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    patch = pytest.MonkeyPatch()
    for module, name in ((apikeys, "_HASHER"), (accounts, "password_hasher")):
        patch.setattr(module, name, cheap)
    patch.setattr(accounts, "code_hasher", cheap)
    yield
    patch.undo()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The API tests' book served on loopback, with a collector (carol) and a risk officer
    (rita), and credit scores on record for relief."""
    request = _Finalizers()
    with _cheap_hashes():
        db = make_database("sqlite", tmp_path_factory.mktemp("site"), request)  # type: ignore[arg-type]
        book = seed_book(db)
        with db.transaction() as session:
            create_staff_user(session, username="carol", password=PASSWORD, role="collector")
            create_staff_user(session, username="rita", password=PASSWORD, role="risk")
        for borrower in (book.borrower_a, book.borrower_b):
            score(db, borrower)
        with _serving(db) as url:
            yield Site(url, db, book, Web(db, create_app(db), clock=None))  # type: ignore[arg-type]
        request.run()


@pytest.fixture(scope="module")
def closed_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A book the daily close went through two month ends, served on loopback; its URL."""
    request = _Finalizers()
    with _cheap_hashes():
        db = make_database("sqlite", tmp_path_factory.mktemp("closed"), request)  # type: ignore[arg-type]
        closed_book(db)
        with db.transaction() as session:
            create_staff_user(session, username="rita", password=PASSWORD, role="risk")
        with _serving(db) as url:
            yield url
        request.run()


@dataclass
class CollectionsSite:
    """The collections book served on loopback with its clock at 11:30 in Shanghai."""

    url: str
    book: CollectionsBook


@pytest.fixture(scope="module")
def collections_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectionsSite]:
    """Three loans a day into collections (half the first-payment defaults on a challenger
    path), collector 王芳's user wang, and a risk officer (rita)."""
    request = _Finalizers()
    with _cheap_hashes():
        db = make_database("sqlite", tmp_path_factory.mktemp("collect"), request)  # type: ignore[arg-type]
        book = collections_book(db, strategy=SPLIT_STRATEGY)
        with db.transaction() as session:
            create_staff_user(
                session,
                username="wang",
                password=PASSWORD,
                role="collector",
                collector_id=book.collector_id,
            )
            create_staff_user(session, username="rita", password=PASSWORD, role="risk")
        with _serving(db, clock=lambda: WORKDAY) as url:
            yield CollectionsSite(url, book)
        request.run()


class _Finalizers:
    """Enough of pytest's request for make_database outside a function-scoped test."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def addfinalizer(self, call: Any) -> None:
        self.calls.append(call)

    def run(self) -> None:
        for call in reversed(self.calls):
            call()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium; skipped, saying why, only where Chromium cannot be installed."""
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium is not installed: apt-get install chromium (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=path, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture
def expected_errors() -> list[str]:
    """Console errors a test expects, by a part of their text: Chromium logs a page answered
    with an error status (a refused form's 409) as one."""
    return []


@pytest.fixture
def page(browser: Browser, expected_errors: list[str]) -> Iterator[Page]:
    """A fresh page that records console errors (a CSP violation is one)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    opened = context.new_page()
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    opened.on("console", record)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    unexpected = [error for error in errors if not any(part in error for part in expected_errors)]
    assert unexpected == [], f"the browser reported errors: {unexpected}"


def accessible(page: Page, name: str) -> None:
    """Screenshot the page, then fail on any axe-core violation (WCAG 2.1 A and AA)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    # Evaluated through the DevTools protocol, so the page's CSP (no inline script) allows it.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    problems = [
        f"{violation['id']}: {violation['help']} ({len(violation['nodes'])} elements)"
        for violation in result["violations"]
    ]
    assert problems == [], f"{name}: {problems}"


def test_a_collector_reads_the_portfolio_a_loan_and_switches_language(
    site: Site, page: Page
) -> None:
    page.goto(f"{site.url}/web/")
    expect(page).to_have_url(re.compile(r"/web/sign-in$"))
    accessible(page, "sign-in")
    page.get_by_label("用户名").fill("carol")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").first.click()
    expect(page).to_have_url(re.compile(r"/web/portfolio$"))
    # Every chart draws (ECharts renders SVG) from the data the server put in the page.
    charts = page.locator(".chart[data-drawn='true'] svg")
    expect(charts).to_have_count(3)
    # Each chart's CSV file, and the watchlist's.
    expect(page.locator("a.csv[download]")).to_have_count(4)
    accessible(page, "portfolio")

    page.get_by_role("link", name="贷款", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("共 4 笔贷款")
    # The filter answers through htmx: the table changes, the page does not reload.
    page.get_by_label("状态").select_option("active")
    expect(page.get_by_role("status")).to_contain_text("共 2 笔贷款")
    expect(page).to_have_url(re.compile(r"status=active"))
    accessible(page, "loans")

    page.get_by_role("link", name=str(site.book.loan_a), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"贷款 {site.book.loan_a}")
    expect(page.locator(".timeline .event")).to_have_count(3)
    accessible(page, "loan")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Schedule")).to_be_visible()
    expect(page.locator("body")).to_contain_text("CN¥6,000.00")
    accessible(page, "loan-en")


def test_a_borrower_signs_in_with_a_code_and_looks_after_their_loan(site: Site, page: Page) -> None:
    page.goto(f"{site.url}/web/me")
    expect(page).to_have_url(re.compile(r"/web/me/sign-in$"))
    accessible(page, "me-sign-in")
    page.get_by_label("手机号码").fill("138 0013 8000")
    page.get_by_role("button", name="发送验证码").click()
    expect(page.get_by_role("status")).to_contain_text("验证码正在发送中")
    page.get_by_label("验证码").fill(site.web.last_code(site.book.borrower_a))
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/web/me$"))
    # The disbursed loan and the approved one waiting for its money; not the application.
    expect(page.get_by_role("heading", level=2)).to_have_count(2)
    card = page.get_by_role("region", name=re.compile(f"^贷款 {site.book.loan_a} "))
    expect(card.locator(".next-due")).to_contain_text("应还")
    accessible(page, "me")

    card.get_by_role("link", name="查看还款计划和还款记录").click()
    expect(page.get_by_role("heading", name="还款记录")).to_be_visible()
    accessible(page, "me-loan")
    page.get_by_role("link", name=re.compile("^回执 ")).click()
    expect(page.locator(".receipt")).to_contain_text(site.book.repayment_a)
    accessible(page, "me-receipt")

    page.get_by_role("link", name="联系偏好").click()
    page.get_by_role("group", name="您偏好的渠道").get_by_label("电子邮件").check()
    page.get_by_role("group", name="您不希望使用的渠道").get_by_label("语音电话").check()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    accessible(page, "me-contact")

    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/web/me/sign-in\?n=out$"))


def _sign_in_staff(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/web/sign-in")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").first.click()
    expect(page).to_have_url(re.compile(r"/web/portfolio$"))


def test_the_dashboard_draws_the_roll_matrix_and_the_vintage_curves(
    closed_site: str, page: Page
) -> None:
    _sign_in_staff(page, closed_site, "rita")
    # Three bar charts of the open book, the roll rates and the vintage lines; the close's
    # collections too (stage rates, promises, champion against challenger).
    expect(page.locator(".chart[data-drawn='true'] svg")).to_have_count(8)
    rolls = page.get_by_role("img", name=re.compile("^迁徙率：2026年3月31日 至 2026年4月30日"))
    expect(rolls).to_be_visible()
    # A bar a bucket, cut where its loans went; the segments' labels are the table's rates.
    expect(rolls.locator("svg text").filter(has_text="%").first).to_be_visible()
    vintages = page.get_by_role("img", name=re.compile("^账龄曲线"))
    expect(vintages.locator("svg path").first).to_be_attached()
    expect(vintages.locator("svg text").filter(has_text="2026-01").first).to_be_visible()
    page.get_by_text("图表数据").nth(3).click()
    expect(page.get_by_role("table", name=re.compile("^迁徙矩阵"))).to_be_visible()
    expect(page.locator("a.csv[download]")).to_have_count(9)
    accessible(page, "dashboard")


def test_a_borrower_asks_for_a_deferral_and_takes_the_offer(site: Site, page: Page) -> None:
    page.goto(f"{site.url}/web/me/sign-in")
    page.get_by_label("手机号码").fill("13800138000")
    page.get_by_role("button", name="发送验证码").click()
    page.get_by_label("验证码").fill(site.web.last_code(site.book.borrower_a))
    page.get_by_role("button", name="登录").click()
    page.goto(f"{site.url}/web/me/loans/{site.book.loan_a}")
    page.get_by_role("link", name="还款有困难？申请延期还款或分期偿还").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("的纾困")
    accessible(page, "me-relief")
    page.get_by_role("radio", name=re.compile("^延期还款")).check()
    page.get_by_label("发生了什么（选填）").fill("公司裁员")
    page.get_by_role("button", name="申请纾困").click()
    expect(page.get_by_role("status")).to_contain_text("我们已收到您的申请")
    offer = page.get_by_role("article", name="延期还款")
    expect(offer.get_by_role("table", name=re.compile("与您当前的还款计划对比"))).to_be_visible()
    offer.get_by_text("新的还款计划").click()
    expect(offer.get_by_role("table", name=re.compile("您的还款计划"))).to_be_visible()
    accessible(page, "me-relief-offers")
    offer.get_by_role("button", name="接受此方案：延期还款").click()
    expect(page.get_by_role("status")).to_contain_text("新的还款计划已生效")
    accessible(page, "me-relief-done")


def test_a_checker_approves_an_offer_from_the_approvals_page(site: Site, page: Page) -> None:
    offer = waiting_offer(site.db, site.book.loan_b, maker=MAKER)
    _sign_in_staff(page, site.url, "rita")
    page.get_by_role("link", name="审批", exact=True).click()
    card = page.get_by_role("article", name=re.compile(f"^方案 {offer}: 协商结清"))
    expect(card).to_contain_text(MAKER)
    accessible(page, "approvals")
    card.get_by_role("button", name=f"批准方案 {offer}").click()
    expect(page.get_by_role("status")).to_contain_text(f"方案 {offer} 已批准")
    expect(page.get_by_text("暂无待审批的纾困方案。")).to_be_visible()
    assert offer_status(site.db, offer) == ("applied", "web:rita")
    accessible(page, "approvals-done")


def test_a_collector_works_the_top_case_of_the_queue(
    collections_site: CollectionsSite, page: Page, expected_errors: list[str]
) -> None:
    url, book = collections_site.url, collections_site.book
    _sign_in_staff(page, url, "wang")
    page.get_by_role("link", name="催收", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("催收工作台")
    queue = page.get_by_role("table", name=re.compile("项任务，处理顺序"))
    # 李娜 owes most; Tom Baker owes more than 张伟 but it is night in New York.
    expect(queue.locator("tbody th a")).to_have_text(["李娜", "张伟", "Tom Baker"])
    expect(queue.locator("tbody tr").nth(2)).to_contain_text("休息时间")
    accessible(page, "workbench")

    page.get_by_role("link", name="从队首案件开始：李娜").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("李娜")
    rules = page.get_by_role("region", name="联系规则（联系前检查）")
    expect(rules).to_contain_text("联系规则现在允许电话。")
    expect(page.get_by_text("13900139000")).to_be_visible()
    promise = page.get_by_role("group", name="承诺还款")
    expect(promise.get_by_label("金额（CNY）")).to_have_value("2106.30")
    expect(promise.get_by_label("承诺还款日")).to_have_value("2026-02-19")
    accessible(page, "workbench-case")

    # The second click: the promise is recorded and the next case of the queue opens.
    promise.get_by_role("button", name="记录还款承诺").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("张伟")
    notice = page.get_by_role("status")
    expect(notice).to_contain_text(f"已在案件 {book.cases['李娜']} 上记录：承诺还款。")
    expect(notice).to_contain_text("承诺于 2026年2月19日 前还款 ¥2,106.30")
    expect(page.get_by_text("王芳 的队列中第 1 个，共 2 个。")).to_be_visible()
    accessible(page, "workbench-next-case")

    notice.get_by_role("link", name=f"再次打开案件 {book.cases['李娜']}").click()
    expect(
        page.get_by_text(re.compile("^待履行的还款承诺：2026年2月19日 前还款 ¥2,106.30"))
    ).to_be_visible()
    expect(page.get_by_text("当前不在 王芳 的队列中。")).to_be_visible()
    page.get_by_role("link", name="返回队列").click()
    expect(queue.locator("tbody th a")).to_have_text(["张伟", "Tom Baker"])

    # A call the contact rules forbid: refused, said plainly, nothing recorded.
    queue.get_by_role("link", name="Tom Baker").click()
    expect(page.get_by_role("region", name="联系规则（联系前检查）")).to_contain_text(
        "联系规则现在不允许电话：休息时间。"
    )
    expected_errors.append("status of 409 (Conflict)")
    page.get_by_role("button", name="无人接听").click()
    expect(page.get_by_role("alert")).to_have_text("联系规则现在不允许此次联系：未记录任何内容。")
    expect(page.get_by_role("table", name=re.compile("的联系记录$"))).to_contain_text(
        "暂无联系记录。"
    )
    accessible(page, "workbench-refused")


def test_collections_on_the_dashboard_approvals_and_a_loan(
    collections_site: CollectionsSite, page: Page
) -> None:
    url, book = collections_site.url, collections_site.book
    _sign_in_staff(page, url, "rita")
    section = page.get_by_role("region", name="催收绩效")
    # Stage rates, promises and the champion/challenger forest plot draw beside the book's.
    expect(section.locator(".chart[data-drawn='true'] svg")).to_have_count(3)
    arms = page.get_by_role("img", name=re.compile("^冠军策略与挑战策略"))
    expect(arms.locator("svg text").filter(has_text="挑战组").first).to_be_visible()
    expect(section.locator("a.csv[download]")).to_have_count(3)
    accessible(page, "dashboard-collections")

    page.get_by_role("link", name="审批", exact=True).click()
    strategy = page.get_by_role("region", name="催收策略")
    expect(strategy).to_contain_text("现行：standard 版本 1。")
    expect(strategy.get_by_role("table")).to_contain_text("占客群 50%: D+0 电话 → D+3 上门拜访")
    accessible(page, "approvals-strategy")

    page.goto(f"{url}/web/loans/{book.loans['张伟']}")
    cases = page.get_by_role("region", name="催收")
    expect(cases.get_by_role("link", name=f"案件 {book.cases['张伟']}")).to_be_visible()
    expect(cases.get_by_role("table", name=re.compile("的催收动作$"))).to_contain_text("待处理")
    accessible(page, "loan-collections")
