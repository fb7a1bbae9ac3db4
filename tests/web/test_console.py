"""The console through HTTP, on SQLite and PostgreSQL: sign-in, CSRF, scope, masking, locale."""

from __future__ import annotations

from sqlalchemy import func, select

from tenor.actions.apikeys import create_api_key
from tenor.store.models import Borrower
from tenor.web.tables import SignInCode, StaffUser, WebSession
from tests.api.conftest import Book
from tests.web.conftest import PASSWORD, Web, sqlite_only

#: Tests of what pages look like, not of what is stored, run on SQLite only.

PHONE_A = "13800138000"
PHONE_B = "13900139000"


def _sessions(web: Web) -> int:
    with web.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(WebSession)) or 0)


# --- staff sign-in ----------------------------------------------------------------------------


def test_staff_sign_in_opens_the_portfolio_with_charts_tables_and_csv(web: Web, book: Book) -> None:
    browser = web.signed_in("risk")
    home = browser.get("/web/")
    assert home.status_code == 303
    assert home.headers["location"] == "/web/portfolio"
    page = browser.get("/web/portfolio")
    assert page.status_code == 200
    assert "data-chart=" in page.text
    assert "/web/portfolio/CNY/buckets.csv" in page.text
    csv = browser.get("/web/portfolio/CNY/buckets.csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.lstrip("\ufeff").splitlines()
    assert lines[0] == "currency,bucket,loans,outstanding_principal,arrears,share_percent"
    # Two disbursed loans in the book, both open; every bucket has a row.
    rows = [line.split(",") for line in lines[1:]]
    assert [row[1] for row in rows] == ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M6+"]
    assert sum(int(row[2]) for row in rows) == 2


def test_a_wrong_password_is_refused_and_five_lock_the_user(web: Web) -> None:
    username = web.staff_user("collector")
    browser = web.browser()
    browser.get("/web/sign-in")
    for _ in range(5):
        refused = browser.post("/web/sign-in", {"username": username, "password": "wrong" * 3})
        assert refused.status_code == 401
        assert "用户名或密码错误" in refused.text
    assert "tenor_session" not in refused.headers.get("set-cookie", "")
    locked = browser.post("/web/sign-in", {"username": username, "password": PASSWORD})
    assert locked.status_code == 401
    assert "锁定" in locked.text
    assert _sessions(web) == 0
    web.clock.advance(minutes=16)
    assert (
        browser.post("/web/sign-in", {"username": username, "password": PASSWORD}).status_code
        == 303
    )


def test_an_unknown_user_reads_like_a_wrong_password(web: Web) -> None:
    browser = web.browser()
    browser.get("/web/sign-in")
    refused = browser.post("/web/sign-in", {"username": "nobody", "password": PASSWORD})
    assert refused.status_code == 401
    assert "用户名或密码错误" in refused.text


def test_an_api_key_signs_staff_in_but_not_a_borrower(web: Web, book: Book) -> None:
    with web.db.transaction() as session:
        _, admin_key = create_api_key(session, "admin")
        _, borrower_key = create_api_key(session, "borrower", borrower_id=book.borrower_a)
    browser = web.browser()
    browser.get("/web/sign-in")
    refused = browser.post("/web/sign-in", {"api_key": borrower_key})
    assert refused.status_code == 401
    assert "借款人请在借款人页面登录" in refused.text
    assert _sessions(web) == 0
    assert browser.post("/web/sign-in", {"api_key": admin_key}).status_code == 303
    assert browser.get(f"/web/loans/{book.loan_a}").status_code == 200


def test_signing_out_ends_the_session(web: Web) -> None:
    browser = web.signed_in()
    assert browser.get("/web/loans").status_code == 200
    assert browser.post("/web/sign-out", {}).status_code == 303
    assert browser.get("/web/loans").headers["location"] == "/web/sign-in"


def test_a_session_expires_and_pages_send_the_browser_to_sign_in(web: Web) -> None:
    browser = web.signed_in()
    web.clock.advance(hours=9)
    response = browser.get("/web/portfolio")
    assert response.status_code == 303
    assert response.headers["location"] == "/web/sign-in"


# --- CSRF, cookies and headers --------------------------------------------------------------


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(web: Web) -> None:
    username = web.staff_user("admin")
    browser = web.browser()
    browser.get("/web/sign-in")
    missing = browser.post(
        "/web/sign-in", {"username": username, "password": PASSWORD}, token=False
    )
    assert missing.status_code == 403
    forged = browser.post(
        "/web/sign-in",
        {"username": username, "password": PASSWORD, "csrf_token": "x" * 43},
        token=False,
    )
    assert forged.status_code == 403
    assert _sessions(web) == 0


def test_a_signed_in_form_needs_the_sessions_own_token(web: Web, book: Book) -> None:
    browser = web.borrower_signed_in(book.borrower_a, PHONE_A)
    browser.get("/web/me/contact")
    refused = browser.post(
        "/web/me/contact",
        {"preferred": ["email"], "message_locale": "en", "csrf_token": "y" * 43},
        token=False,
    )
    assert refused.status_code == 403
    with web.db.reading() as session:
        borrower = session.get(Borrower, book.borrower_a)
        assert borrower is not None
        assert borrower.preferred_channels == []
        assert borrower.locale == "zh-CN"


@sqlite_only
def test_pages_carry_security_headers_and_cookies_are_locked_down(web: Web) -> None:
    browser = web.browser()
    page = browser.get("/web/sign-in")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie
    assert "<script>" not in page.text
    assert " style=" not in page.text
    secure = web.browser(base_url="https://testserver").get("/web/sign-in")
    assert "secure" in secure.headers["set-cookie"].lower()


@sqlite_only
def test_static_files_are_served_from_the_package(web: Web) -> None:
    browser = web.browser()
    for name in ("console.js", "console.css", "vendor/htmx.min.js", "vendor/echarts.common.min.js"):
        response = browser.get(f"/web/static/{name}")
        assert response.status_code == 200, name
        assert response.headers["cache-control"] == "public, max-age=3600"
    assert browser.get("/web/static/../tables.py").status_code == 404


# --- roles and scope ----------------------------------------------------------------------------


def test_masking_follows_the_role(web: Web, book: Book) -> None:
    collector = web.signed_in("collector").get(f"/web/borrowers/{book.borrower_a}").text
    assert PHONE_A in collector
    assert "110101199003071234" not in collector
    assert "110***********1234" in collector
    auditor = web.signed_in("auditor").get(f"/web/borrowers/{book.borrower_a}").text
    assert PHONE_A not in auditor
    assert "138****8000" in auditor
    admin = web.signed_in("admin").get(f"/web/borrowers/{book.borrower_a}").text
    assert "110101199003071234" in admin


def test_an_agency_sees_no_loans_and_no_portfolio(web: Web, book: Book) -> None:
    agency = web.signed_in("agency", agency_id=7)
    assert agency.get("/web/portfolio").status_code == 403
    assert agency.get(f"/web/loans/{book.loan_a}").status_code == 404
    assert "没有符合条件的贷款" in agency.get("/web/loans").text


def test_the_loan_page_shows_schedule_balances_and_the_journal(web: Web, book: Book) -> None:
    page = web.signed_in("collector").get(f"/web/loans/{book.loan_a}")
    assert page.status_code == 200
    text = page.text
    assert "还款计划" in text
    assert "流水" in text
    # The journal as a timeline: disbursement, repayment, late fee, newest first.
    assert text.index("滞纳金") < text.index("还款</strong>") < text.index("放款</strong>")
    assert "¥6,000.00" in text


def test_loan_filters_answer_htmx_with_the_table_and_refuse_nonsense(web: Web, book: Book) -> None:
    browser = web.signed_in()
    fragment = browser.get("/web/loans?status=active&bucket=&min_dpd=", headers={"HX-Request": "1"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert f'href="/web/loans/{book.loan_a}"' in fragment.text
    assert f'href="/web/loans/{book.pending}"' not in fragment.text
    bad = browser.get("/web/loans?min_dpd=abc")
    assert bad.status_code == 400
    assert "days past due is a whole number" in bad.text


# --- borrower self-service --------------------------------------------------------------------


def test_a_borrower_signs_in_with_a_code_and_sees_only_their_loans(web: Web, book: Book) -> None:
    browser = web.borrower_signed_in(book.borrower_a, PHONE_A)
    home = browser.get("/web/me")
    assert home.status_code == 200
    assert f"/web/me/loans/{book.loan_a}" in home.text
    assert f"/web/me/loans/{book.loan_b}" not in home.text
    assert browser.get(f"/web/me/loans/{book.loan_a}").status_code == 200
    assert browser.get(f"/web/me/loans/{book.loan_b}").status_code == 404
    assert browser.get(f"/web/me/loans/{book.loan_b}/receipts/x").status_code == 404
    # Staff pages are not a borrower's.
    assert browser.get(f"/web/loans/{book.loan_b}").status_code == 403
    assert browser.get("/web/portfolio").status_code == 403


def test_a_borrower_sees_the_next_payment_and_a_receipt(web: Web, book: Book) -> None:
    browser = web.borrower_signed_in(book.borrower_a, PHONE_A)
    page = browser.get(f"/web/me/loans/{book.loan_a}")
    assert "下一期还款" in page.text
    assert "还款记录" in page.text
    receipt = browser.get(f"/web/me/loans/{book.loan_a}/receipts/{book.repayment_a}")
    assert receipt.status_code == 200
    assert book.repayment_a in receipt.text
    assert "¥100.00" in receipt.text


def test_a_wrong_code_uses_up_tries_and_the_right_one_then_fails(web: Web, book: Book) -> None:
    browser = web.browser()
    browser.get("/web/me/sign-in")
    browser.post("/web/me/code", {"phone": PHONE_A})
    code = web.last_code(book.borrower_a)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        refused = browser.post("/web/me/sign-in", {"phone": PHONE_A, "code": wrong})
        assert refused.status_code == 401
    assert browser.post("/web/me/sign-in", {"phone": PHONE_A, "code": code}).status_code == 401
    assert _sessions(web) == 0


def test_a_code_expires_and_codes_are_rationed(web: Web, book: Book) -> None:
    browser = web.browser()
    browser.get("/web/me/sign-in")
    browser.post("/web/me/code", {"phone": PHONE_A})
    code = web.last_code(book.borrower_a)
    web.clock.advance(minutes=11)
    assert browser.post("/web/me/sign-in", {"phone": PHONE_A, "code": code}).status_code == 401
    for _ in range(3):
        browser.post("/web/me/code", {"phone": PHONE_A})
    with web.db.reading() as session:
        codes = session.scalar(select(func.count()).select_from(SignInCode))
    assert codes == 3  # one expired, two more in this window, and the fourth ask sent nothing


def test_an_unknown_number_gets_the_same_answer_and_no_code(web: Web, book: Book) -> None:
    browser = web.browser()
    browser.get("/web/me/sign-in")
    unknown = browser.post("/web/me/code", {"phone": "13700000000"})
    assert unknown.status_code == 200
    assert "如果该号码已登记" in unknown.text
    with web.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(SignInCode)) == 0
    assert browser.post("/web/me/code", {"phone": "12ab"}).status_code == 400


def test_a_borrower_manages_channels_and_opt_outs(web: Web, book: Book) -> None:
    browser = web.borrower_signed_in(book.borrower_a, PHONE_A)
    browser.get("/web/me/contact")
    saved = browser.post(
        "/web/me/contact",
        {"preferred": ["email", "push"], "opt_out": ["voice"], "message_locale": "en"},
    )
    assert saved.status_code == 303
    clash = browser.post(
        "/web/me/contact", {"preferred": ["sms"], "opt_out": ["sms"], "message_locale": "zh-CN"}
    )
    assert clash.status_code == 400
    with web.db.reading() as session:
        borrower = session.get(Borrower, book.borrower_a)
        assert borrower is not None
        assert borrower.preferred_channels == ["email", "push"]
        assert borrower.opt_outs == ["voice"]
        assert borrower.locale == "en"


# --- languages ----------------------------------------------------------------------------------


def test_the_language_switches_and_formats_follow_it(web: Web, book: Book) -> None:
    browser = web.signed_in()
    chinese = browser.get(f"/web/loans/{book.loan_a}").text
    assert "还款计划" in chinese
    assert "¥6,000.00" in chinese
    assert "2026年1月15日" in chinese
    switched = browser.post("/web/locale", {"locale": "en", "back": f"/web/loans/{book.loan_a}"})
    assert switched.status_code == 303
    assert switched.headers["location"] == f"/web/loans/{book.loan_a}"
    english = browser.get(f"/web/loans/{book.loan_a}").text
    assert "Schedule" in english
    assert "CN¥6,000.00" in english
    assert "Jan 15, 2026" in english
    # The switch never redirects off the console.
    away = browser.post("/web/locale", {"locale": "en", "back": "https://example.com/"})
    assert away.headers["location"] == "/web/"


@sqlite_only
def test_the_browser_language_is_the_default(web: Web) -> None:
    english = web.browser().get("/web/sign-in", headers={"Accept-Language": "en-US,en;q=0.8"})
    assert "Sign in to the staff console" in english.text
    chinese = web.browser().get("/web/sign-in", headers={"Accept-Language": "fr"})
    assert "登录员工控制台" in chinese.text


def test_staff_user_rows_keep_only_a_hash(web: Web) -> None:
    web.staff_user("admin", username="ana")
    with web.db.reading() as session:
        row = session.scalars(select(StaffUser)).one()
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
