"""The demo book: borrowers who behave like borrowers, and a book that lives through months.

Two halves, both deterministic for a seed:

- **The plan** (pure, no database): :func:`plan_book` draws the borrowers (names, national IDs
  and phone numbers from Faker's zh_CN locale; enterprises with a unified social credit code,
  industry and registered capital), each with a behaviour :class:`Profile`, and the loans they
  take: consumer credit-line draws of 3 to 24 monthly installments, SME working-capital loans
  and project loans whose principal falls due on milestones. Loans originate over the first
  half of the period, so the book has vintages. :func:`plan_payments` turns a profile and a
  loan's due dates into the payments the borrower will make.
- **The life** (:func:`live_through`): day by day it moves the business date, originates and
  disburses the day's loans and posts the day's payments, through the write layer
  (``tenor.actions``) and :func:`tenor.store.journal.append_in`, one transaction a day; then
  the daily close (:func:`tenor.batch.close.close_book`) closes the day: penalty interest,
  days past due, buckets, classes and stages, reminders, the end-of-day summary. The last day
  stays open, as today's business date. Journal and projections stay consistent:
  ``tenor rebuild --all`` afterwards finds nothing to repair.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import json
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from faker import Faker
from sqlalchemy import case, func, select, true, update
from sqlalchemy.orm import Session

from tenor.actions import borrowers as borrower_actions
from tenor.actions import loans as loan_actions
from tenor.actions import products as product_actions
from tenor.batch.close import close_book
from tenor.collect import simulated as floor
from tenor.collect.reports import collections_report
from tenor.collect.tables import LegalCase
from tenor.core.account import LoanEvent, LoanState, OverpaymentPolicy, Status
from tenor.core.calendar import Frequency, add_months
from tenor.core.delinquency import (
    CHINESE_BUCKETS,
    LoanClass,
)
from tenor.core.money import Money
from tenor.core.schedule import Method, Milestone, milestone_term
from tenor.notify.outbox import settle_rewards
from tenor.notify.simulated import CHANNELS, HiddenPreference, hidden_preference
from tenor.notify.tables import Notification
from tenor.products import PenaltyDocument, ProductConfig
from tenor.risk.demo_profiles import record_demo_profiles
from tenor.risk.demo_statements import file_statements
from tenor.store.database import Database
from tenor.store.journal import (
    Appended,
    LoanBook,
    Slot,
    append_in,
    business_date,
    set_business_date,
)
from tenor.store.models import (
    Borrower,
    InstallmentRow,
    JournalEntry,
    Loan,
    LoanStateRow,
    Product,
    Setting,
)

CURRENCY: Final = "CNY"

#: The settings row that marks a database as holding a demo book, with how it was built.
DEMO_BOOK_SETTING: Final = "demo_book"


# ---------------------------------------------------------------------------------------------
# Behaviour profiles


class Behaviour(StrEnum):
    """How a borrower pays."""

    ON_TIME = "on-time"
    EARLY = "early"
    LATE = "late"
    PARTIAL = "partial"
    SETTLES_EARLY = "settles-early"
    CURES = "cures"
    DEFAULTS = "defaults"


@dataclass(frozen=True, slots=True)
class Profile:
    """A behaviour and how common it is among consumers and among enterprises."""

    behaviour: Behaviour
    label_zh: str
    label_en: str
    consumer_weight: int
    enterprise_weight: int

    @property
    def label(self) -> str:
        """Both names, for staff: ``按时还款 Pays on time``."""
        return f"{self.label_zh} {self.label_en}"


#: The mix of the demo book. Enterprises rarely pay in part or settle milestone loans early.
PROFILES: Final = (
    Profile(Behaviour.ON_TIME, "按时还款", "Pays on time", 50, 70),
    Profile(Behaviour.EARLY, "提前还款", "Pays before the due date", 12, 10),
    Profile(Behaviour.LATE, "逾期还款", "Pays late", 12, 12),
    Profile(Behaviour.PARTIAL, "部分还款", "Pays in part, catches up", 6, 0),
    Profile(Behaviour.SETTLES_EARLY, "提前结清", "Settles the loan early", 8, 0),
    Profile(Behaviour.CURES, "逾期后补缴", "Falls behind, then cures", 7, 5),
    Profile(Behaviour.DEFAULTS, "违约", "Defaults", 5, 3),
)

PROFILE_OF: Final = {profile.behaviour: profile for profile in PROFILES}


def draw_behaviour(rng: random.Random, *, enterprise: bool) -> Behaviour:
    """One borrower's behaviour, drawn with the profiles' weights."""
    weights = [p.enterprise_weight if enterprise else p.consumer_weight for p in PROFILES]
    return rng.choices([p.behaviour for p in PROFILES], weights)[0]


class PaymentKind(StrEnum):
    """What a planned payment pays."""

    THROUGH = "through"  # everything owed on the installments up to the planned one
    PART = "part"  # a share of that
    SETTLE = "settle"  # the whole loan, early: arrears, the current installment, the principal


@dataclass(frozen=True, slots=True)
class PlannedPayment:
    """A payment a borrower will make on ``day``; its amount is worked out on the day."""

    day: dt.date
    kind: PaymentKind
    installment: int
    percent: int = 100


def plan_payments(
    behaviour: Behaviour, disbursed: dt.date, due_dates: Sequence[dt.date], rng: random.Random
) -> tuple[PlannedPayment, ...]:
    """The payments a borrower of ``behaviour`` makes on a loan with these due dates.

    Amounts are not fixed here: each payment pays what is owed on its day (penalties
    included), because what is owed depends on what happened before.
    """
    count = len(due_dates)
    plan: list[PlannedPayment] = []

    def pay(
        day: dt.date, number: int, kind: PaymentKind = PaymentKind.THROUGH, pct: int = 100
    ) -> None:
        # No money can arrive before the loan was paid out.
        plan.append(PlannedPayment(max(day, disbursed + dt.timedelta(days=1)), kind, number, pct))

    def days(count: int) -> dt.timedelta:
        return dt.timedelta(days=count)

    match behaviour:
        case Behaviour.ON_TIME:
            for number, due in enumerate(due_dates, start=1):
                pay(due - days(1 if rng.random() < 0.2 else 0), number)
        case Behaviour.EARLY:
            for number, due in enumerate(due_dates, start=1):
                pay(due - days(rng.randint(2, 10)), number)
        case Behaviour.LATE:
            for number, due in enumerate(due_dates, start=1):
                roll = rng.random()
                # Some within the penalty grace, most a few weeks late, a few over a month.
                late = rng.randint(1, 3) if roll < 0.4 else rng.randint(4, 20)
                if roll > 0.85:
                    late = rng.randint(21, 45)
                pay(due + days(late), number)
        case Behaviour.PARTIAL:
            for number, due in enumerate(due_dates, start=1):
                day = due + days(rng.randint(0, 5))
                if number % 3 == 0 or number == count:
                    pay(day, number)  # catches up on everything owed so far
                else:
                    pay(day, number, PaymentKind.PART, rng.randint(40, 90))
        case Behaviour.SETTLES_EARLY:
            # Most who settle early do so within months of the loan, with the first windfall.
            settle_at = min(max(1, count - 1), rng.randint(1, 3) + rng.randint(0, 3))
            for number, due in enumerate(due_dates[:settle_at], start=1):
                if number == settle_at:
                    pay(due - days(rng.randint(1, 15)), number, PaymentKind.SETTLE)
                else:
                    pay(due, number)
        case Behaviour.CURES:
            kept = rng.randint(0, max(0, count - 2))
            missed = rng.randint(1, min(3, count - kept))
            for number, due in enumerate(due_dates[:kept], start=1):
                pay(due, number)
            catch_up = due_dates[kept + missed - 1] + days(rng.randint(3, 25))
            # Catching up pays everything that has fallen due by then; later ones on time.
            caught_up = bisect.bisect_right(due_dates, catch_up)
            pay(catch_up, caught_up)
            for number, due in enumerate(due_dates[caught_up:], start=caught_up + 1):
                pay(due, number)
        case Behaviour.DEFAULTS:
            for number, due in enumerate(due_dates[: rng.randint(0, min(3, count - 1))], start=1):
                pay(due, number)
    return tuple(sorted(plan, key=lambda payment: (payment.day, payment.installment)))


# ---------------------------------------------------------------------------------------------
# Products


@dataclass(frozen=True, slots=True)
class DemoProduct:
    """A product of the demo book: its code, names and configuration."""

    code: str
    name: str
    config: ProductConfig


PRODUCTS: Final = (
    DemoProduct(
        "consumer-credit-line",
        "消费信用贷 Consumer credit line",
        ProductConfig(
            currency=CURRENCY,
            method=Method.ANNUITY,
            annual_rate_percent=Decimal("18"),
            terms=[3, 6, 9, 12, 18, 24],
            min_principal=Decimal("500"),
            max_principal=Decimal("200000"),
            overpayment=OverpaymentPolicy.REDUCE_TERM,
            arrears_tolerance=Decimal("1"),
        ),
    ),
    DemoProduct(
        "sme-working-capital",
        "流动资金贷款 SME working capital",
        ProductConfig(
            currency=CURRENCY,
            method=Method.EQUAL_PRINCIPAL,
            annual_rate_percent=Decimal("4.35"),
            terms=[12, 24, 36],
            min_principal=Decimal("100000"),
            max_principal=Decimal("50000000"),
            overpayment=OverpaymentPolicy.REDUCE_TERM,
            penalty=PenaltyDocument(daily_rate_percent=Decimal("0.02"), grace_days=0),
        ),
    ),
    DemoProduct(
        "project-finance",
        "项目贷款 Project finance",
        ProductConfig(
            currency=CURRENCY,
            method=Method.MILESTONE,
            annual_rate_percent=Decimal("4.9"),
            frequency="quarterly",
            min_principal=Decimal("5000000"),
            max_principal=Decimal("2000000000"),
            penalty=PenaltyDocument(daily_rate_percent=Decimal("0.015"), grace_days=0),
        ),
    ),
)

CONSUMER, SME, PROJECT = (product.code for product in PRODUCTS)


# ---------------------------------------------------------------------------------------------
# The plan of a book


@dataclass(frozen=True, slots=True)
class BorrowerPlan:
    """A borrower to create: who they are and how they pay."""

    number: int
    kind: str
    name: str
    national_id: str
    phones: tuple[str, ...]
    email: str | None
    address: str
    locale: str
    preferred_channels: tuple[str, ...]
    consents: dict[str, Any]
    opt_outs: tuple[str, ...]
    behaviour: Behaviour
    industry: str | None = None
    registered_capital: Money | None = None
    contacts: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class LoanPlan:
    """A loan to originate on ``originated``: its product and terms."""

    number: int
    borrower: int
    product: str
    principal: Money
    term: int
    annual_rate_percent: Decimal
    originated: dt.date
    milestones: tuple[Milestone, ...] = ()


@dataclass(frozen=True, slots=True)
class BookPlan:
    """Everything the demo book will hold, and the days it lives through."""

    seed: int
    start: dt.date
    end: dt.date
    months: int
    borrowers: tuple[BorrowerPlan, ...]
    loans: tuple[LoanPlan, ...]

    @property
    def days(self) -> int:
        """Business dates the book lives through, ``start`` and ``end`` included."""
        return (self.end - self.start).days + 1

    def behaviours(self) -> Counter[Behaviour]:
        """How many borrowers follow each behaviour."""
        return Counter(borrower.behaviour for borrower in self.borrowers)


def _rng(seed: int, *parts: object) -> random.Random:
    # One stream per purpose and per loan: what one loan draws never shifts another's draws,
    # so a book is the same for a seed whatever order the work is done in.
    return random.Random(":".join(["tenor-demo", str(seed), *map(str, parts)]))


_INDUSTRIES: Final = (
    "制造业",
    "批发和零售业",
    "建筑业",
    "交通运输、仓储和邮政业",
    "信息传输、软件和信息技术服务业",
    "住宿和餐饮业",
    "农、林、牧、渔业",
    "电力、热力、燃气及水生产和供应业",
    "租赁和商务服务业",
)
_REGIONS: Final = ("110105", "310115", "440300", "330106", "320505", "510107", "420106")
_CREDIT_CODE_CHARS: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORGANISATION_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code_check(body: str) -> str:
    """The check character of the first 17 characters of a unified social credit code."""
    total = sum(
        _CREDIT_CODE_CHARS.index(c) * w for c, w in zip(body, _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return _CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def credit_code(rng: random.Random) -> str:
    """A well-formed unified social credit code (统一社会信用代码, GB 32100-2015).

    "91" (an enterprise registered with market regulation), a region code, an organisation
    code with its GB 11714 check digit, and the final check character.
    """
    body = "".join(rng.choice("0123456789") for _ in range(8))
    remainder = 11 - sum(int(c) * w for c, w in zip(body, _ORGANISATION_WEIGHTS, strict=True)) % 11
    code = "91" + rng.choice(_REGIONS) + body + {10: "X", 11: "0"}.get(remainder, str(remainder))
    return code + credit_code_check(code)


def _individual(number: int, fake: Faker, rng: random.Random) -> BorrowerPlan:
    phones = [fake.phone_number()]
    if rng.random() < 0.2:
        phones.append(fake.phone_number())
    return BorrowerPlan(
        number=number,
        kind="individual",
        name=fake.name(),
        # zh_CN's ssn takes ages; Faker's type stub knows only the base provider's.
        national_id=fake.ssn(min_age=22, max_age=60),  # type: ignore[call-arg]
        phones=tuple(phones),
        email=fake.free_email() if rng.random() < 0.5 else None,
        address=fake.address(),
        locale="en" if rng.random() < 0.03 else "zh-CN",
        preferred_channels=tuple(rng.choice([["sms"], ["sms", "push"], ["push", "sms"]])),
        consents={"collections_contact": True, "marketing": rng.random() < 0.4},
        opt_outs=("voice",) if rng.random() < 0.05 else (),
        behaviour=draw_behaviour(rng, enterprise=False),
    )


def _enterprise(number: int, fake: Faker, rng: random.Random) -> BorrowerPlan:
    capital = rng.choice([1, 2, 5, 10, 20, 50, 100, 200, 500]) * 1_000_000
    return BorrowerPlan(
        number=number,
        kind="enterprise",
        name=fake.company(),
        national_id=credit_code(rng),
        phones=(fake.phone_number(),),
        email=fake.company_email(),
        address=fake.address(),
        locale="zh-CN",
        preferred_channels=("email", "voice"),
        consents={"collections_contact": True},
        opt_outs=(),
        behaviour=draw_behaviour(rng, enterprise=True),
        industry=rng.choice(_INDUSTRIES),
        registered_capital=Money.of(capital, CURRENCY),
        contacts=(
            {"name": fake.name(), "role": "法定代表人 Legal representative"},
            {"name": fake.name(), "role": "财务负责人 Finance", "phone": fake.phone_number()},
        ),
    )


def _yuan(amount: int) -> Money:
    return Money.of(amount, CURRENCY)


_MILESTONE_NAMES: Final = (
    "土建完工 Civil works complete",
    "设备安装 Equipment installed",
    "投产 Commissioning",
    "达产 Full production",
)
# Shares in whole tenths or quarters, so that each is exact and they sum to exactly 1.
_MILESTONE_SHARES: Final = (
    ("0.3", "0.7"),
    ("0.5", "0.5"),
    ("0.2", "0.3", "0.5"),
    ("0.3", "0.3", "0.4"),
    ("0.25", "0.25", "0.25", "0.25"),
    ("0.1", "0.2", "0.3", "0.4"),
)


def _consumer_loan(number: int, borrower: int, day: dt.date, rng: random.Random) -> LoanPlan:
    amounts = (1000, 2000, 3000, 5000, 8000, 10000, 15000, 20000, 30000, 50000)
    rates = ("7.2", "9.9", "12", "15.4", "18", "21.6", "23.9")
    return LoanPlan(
        number=number,
        borrower=borrower,
        product=CONSUMER,
        principal=_yuan(rng.choices(amounts, (8, 12, 12, 16, 10, 14, 8, 8, 6, 6))[0]),
        term=rng.choices((3, 6, 9, 12, 18, 24), (15, 25, 10, 30, 10, 10))[0],
        annual_rate_percent=Decimal(rng.choices(rates, (5, 10, 15, 20, 25, 15, 10))[0]),
        originated=day,
    )


def _sme_loan(number: int, borrower: int, day: dt.date, rng: random.Random) -> LoanPlan:
    amounts = (500_000, 1_000_000, 2_000_000, 3_000_000, 5_000_000, 8_000_000, 20_000_000)
    return LoanPlan(
        number=number,
        borrower=borrower,
        product=SME,
        principal=_yuan(rng.choice(amounts)),
        term=rng.choice((12, 24, 36)),
        annual_rate_percent=Decimal(rng.choice(("3.45", "3.95", "4.35", "4.75", "5.2", "6"))),
        originated=day,
    )


def _project_loan(number: int, borrower: int, day: dt.date, rng: random.Random) -> LoanPlan:
    shares = rng.choice(_MILESTONE_SHARES)
    month = rng.randint(5, 11)
    milestones = []
    for name, share in zip(_MILESTONE_NAMES, shares, strict=False):
        milestones.append(Milestone(name, add_months(day, month), Decimal(share)))
        month += rng.randint(4, 9)
    frequency = Frequency.parse("quarterly")
    return LoanPlan(
        number=number,
        borrower=borrower,
        product=PROJECT,
        principal=_yuan(rng.randint(10, 300) * 1_000_000),
        term=milestone_term(day, frequency, milestones),
        annual_rate_percent=Decimal(rng.choice(("4.2", "4.65", "4.9", "5.4"))),
        originated=day,
        milestones=tuple(milestones),
    )


def plan_book(*, borrowers: int, months: int, seed: int, start: dt.date) -> BookPlan:
    """The demo book for ``seed``: its borrowers, their behaviours and the loans they take.

    About one borrower in 25 is an enterprise (at least two when there are four or more
    borrowers, alternately an SME working-capital and a project loan); the others draw on a
    consumer credit line, some of them twice. Loans originate on days spread over the first
    half of the ``months`` (at least the first month).
    """
    if borrowers < 1 or months < 1:
        raise ValueError("a demo book needs at least one borrower and one month")
    rng = _rng(seed, "book")
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    end = add_months(start, months)
    window = (add_months(start, max(1, (months + 1) // 2)) - start).days
    enterprises = set(
        rng.sample(range(1, borrowers + 1), min(borrowers // 2, max(2, borrowers // 25)))
    )
    people: list[BorrowerPlan] = []
    draws: list[tuple[dt.date, int, str]] = []
    for number in range(1, borrowers + 1):
        if number in enterprises:
            borrower = _enterprise(number, fake, rng)
            product = SME if len([n for n in enterprises if n < number]) % 2 == 0 else PROJECT
            draws.append((start + dt.timedelta(days=rng.randrange(window)), number, product))
        else:
            borrower = _individual(number, fake, rng)
            for _ in range(2 if rng.random() < 0.15 else 1):
                draws.append((start + dt.timedelta(days=rng.randrange(window)), number, CONSUMER))
        people.append(borrower)
    draws.sort()
    loans = []
    makers = {CONSUMER: _consumer_loan, SME: _sme_loan, PROJECT: _project_loan}
    for number, (day, borrower_number, product) in enumerate(draws, start=1):
        loans.append(makers[product](number, borrower_number, day, _rng(seed, "loan", number)))
    return BookPlan(seed, start, end, months, tuple(people), tuple(loans))


# ---------------------------------------------------------------------------------------------
# Living through the book


@dataclass(slots=True)
class _Loan:
    """What the demo keeps in memory about one loan between its events."""

    id: int
    behaviour: Behaviour
    state: LoanState


@dataclass(slots=True)
class BookLife:
    """What living through the book did so far: the journal events it posted, by kind."""

    plan: BookPlan
    events: Counter[str] = field(default_factory=Counter)
    #: What the collections floor recorded: contact outcomes (not journal events).
    collections: Counter[str] = field(default_factory=Counter)
    #: Messages sent from the outbox, by kind, and reminders whose reward was settled.
    messages: Counter[str] = field(default_factory=Counter)
    #: Per month, reminders (SMS or push) sent on the borrower's hidden preferred channel and
    #: hour slot, and all of them: whether the timing bandit learns what borrowers read.
    preferred: dict[str, list[int]] = field(default_factory=dict)
    #: The propensity-to-pay model trained and promoted on the way (version, date, AUC), or
    #: why none was.
    propensity_model: dict[str, Any] = field(default_factory=dict)


class _Book:
    """The day-by-day life of one book; private to :func:`live_through`."""

    def __init__(self, db: Database, plan: BookPlan, life: BookLife) -> None:
        self.db = db
        self.plan = plan
        self.life = life
        self.loans: dict[int, _Loan] = {}
        self.agenda: defaultdict[dt.date, list[tuple[_Loan, PlannedPayment]]] = defaultdict(list)
        self.products: dict[str, int] = {}
        self.borrower_ids: dict[int, int] = {}
        self.planned: dict[int, list[PlannedPayment]] = {}
        # Each borrower's hidden contact preference (by database id): what reminders they
        # respond to, unknown to Tenor, whose timing bandit must learn it.
        self.hidden: dict[int, HiddenPreference] = {}

    # --- setting up -----------------------------------------------------------------------

    def set_up(self) -> None:
        """Create the products and the borrowers, and mark the database as a demo book."""
        plan = self.plan
        with self.db.transaction() as session:
            set_business_date(session, plan.start)
            for product in PRODUCTS:
                row = product_actions.create_product(
                    session, code=product.code, name=product.name, config=product.config
                )
                self.products[product.code] = row.id
            for borrower in plan.borrowers:
                created = borrower_actions.create_borrower(
                    session,
                    kind=borrower.kind,
                    name=borrower.name,
                    national_id=borrower.national_id,
                    phones=borrower.phones,
                    email=borrower.email,
                    address=borrower.address,
                    locale=borrower.locale,
                    preferred_channels=borrower.preferred_channels,
                    consents=borrower.consents,
                    opt_outs=borrower.opt_outs,
                    industry=borrower.industry,
                    registered_capital=borrower.registered_capital,
                    contacts=borrower.contacts,
                )
                self.borrower_ids[borrower.number] = created.id
                self.hidden[created.id] = hidden_preference(
                    _rng(plan.seed, "hidden-preference", borrower.number)
                )
            record_demo_profiles(session, plan, self.borrower_ids)  # consumers' applications
            # Demo metadata, not part of any loan: it lets `tenor demo` recognise its own book.
            marker = {
                "seed": plan.seed,
                "borrowers": len(plan.borrowers),
                "months": plan.months,
                "start": plan.start.isoformat(),
                "end": plan.end.isoformat(),
            }
            session.merge(Setting(name=DEMO_BOOK_SETTING, value=json.dumps(marker)))

    # --- one day --------------------------------------------------------------------------

    def live(self, day: dt.date, originations: Sequence[LoanPlan]) -> None:
        """Everything that happens to the book on business date ``day``, in one transaction."""
        with self.db.transaction() as session:
            set_business_date(session, day)
            # append_in reads through the session's connection, which does not autoflush:
            # the new date (and each new, approved loan below) must be flushed first.
            session.flush()
            for loan_plan in originations:
                self.originate(session, loan_plan, day)
            for loan, payment in self.agenda.pop(day, ()):
                self.pay(session, loan, payment, day)

    def record(self, loan: _Loan, appended: Appended, kind: str) -> None:
        """Keep the state an append left."""
        loan.state = appended.state
        self.life.events[kind] += 1

    def originate(self, session: Session, loan_plan: LoanPlan, day: dt.date) -> int:
        """Create, approve and disburse a planned loan; plan its borrower's payments."""
        product_id = self.products[loan_plan.product]
        created = loan_actions.create_loan(
            session,
            borrower_id=self.borrower_ids[loan_plan.borrower],
            product_id=product_id,
            principal=loan_plan.principal,
            term=loan_plan.term,
            start=day,
            annual_rate_percent=loan_plan.annual_rate_percent,
            milestones=loan_plan.milestones,
        )
        loan_actions.approve_loan(session, created.id)
        session.flush()
        appended = append_in(session, created.id, loan_actions.disbursement(value_date=day))
        behaviour = self.plan.borrowers[loan_plan.borrower - 1].behaviour
        loan = _Loan(created.id, behaviour, appended.state)
        self.record(loan, appended, "disbursed")
        self.loans[loan.id] = loan
        due_dates = [item.due_date for item in appended.state.installments]
        rng = _rng(self.plan.seed, "payments", loan_plan.number)
        for payment in plan_payments(behaviour, day, due_dates, rng):
            if payment.day <= self.plan.end:
                self.agenda[payment.day].append((loan, payment))
                self.planned.setdefault(loan.id, []).append(payment)
        return loan.id

    def deliver(self, day: dt.date) -> Counter[str]:
        """Send the day's messages from the outbox, as a dispatcher with a provider that
        always accepts would, and let borrowers respond to the reminders.

        A reminder on the borrower's hidden preferred channel and hour slot makes them pay at
        once with the chance :meth:`HiddenPreference.response` gives (less on another channel
        or hour): the planned payment covering the installment moves to today. Rewards for the
        timing bandit are then settled as the dispatcher's workers do, so that the close's next
        reminders are chosen by what the bandit has learned.
        """
        sent: Counter[str] = Counter()
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        with self.db.transaction() as session:
            due = session.scalars(
                select(Notification)
                .where(Notification.state == "pending", Notification.not_before < end)
                .order_by(Notification.id)
            ).all()
            for message in due:
                message.state = "sent"
                message.sent_at = message.not_before
                message.attempts = 1
                message.provider_id = f"demo-{message.id}"
                sent[message.kind] += 1
                if message.kind != "reminder" or message.loan_id not in self.loans:
                    continue
                hidden = self.hidden.get(message.borrower_id)
                arm = (message.channel, message.hour if message.hour is not None else -1)
                if hidden is not None and message.channel in CHANNELS:
                    month = self.life.preferred.setdefault(day.strftime("%Y-%m"), [0, 0])
                    month[0] += arm == (hidden.channel, hidden.hour)
                    month[1] += 1
                # One draw per message, seeded by what the message is (not by the outbox's row
                # order, which the close's partitions may write in any order).
                draw = _rng(self.plan.seed, "response", message.dedupe_key).random()
                if hidden is not None and draw < hidden.response(arm):
                    self.pay_sooner(message.loan_id, message.installment or 0, day)
        sent["rewarded"] = settle_rewards(self.db, now=end)
        return sent

    def pay_sooner(self, loan_id: int, installment: int, day: dt.date) -> None:
        """Bring the loan's next planned payment covering ``installment`` forward to ``day``."""
        payments = self.planned.get(loan_id, [])
        loan = self.loans[loan_id]
        for index, payment in enumerate(payments):
            if payment.day <= day or payment.installment < installment:
                continue
            sooner = dataclasses.replace(payment, day=day)
            payments[index] = sooner
            self.agenda[payment.day].remove((loan, payment))
            self.agenda[day].append((loan, sooner))
            payments.sort(key=lambda p: p.day)
            return

    def upcoming(self, day: dt.date) -> dict[int, tuple[dt.date, int]]:
        """Each loan's next planned payment from ``day`` on, and about what it will pay: what
        the collections floor learns when it asks the borrower."""
        found = {}
        for loan_id, payments in self.planned.items():
            loan = self.loans[loan_id]
            if loan.state.status in (Status.CLOSED, Status.WRITTEN_OFF):
                continue
            index = bisect.bisect_left([p.day for p in payments], day)
            if index < len(payments):
                payment = payments[index]
                amount = amount_to_pay(loan.state, payment, payment.day)
                if amount > 0:
                    found[loan_id] = (payment.day, amount)
        return found

    def pay(self, session: Session, loan: _Loan, payment: PlannedPayment, day: dt.date) -> None:
        """Post a planned payment, unless the loan owes nothing.

        The amount is taken from the loan as its journal stands (``state`` below), which
        includes the penalty interest the daily close has posted since the demo last saw it.
        """
        if loan.state.status in (Status.CLOSED, Status.WRITTEN_OFF):
            return
        if amount_to_pay(loan.state, payment, day) <= 0:
            return

        def make(book: LoanBook, state: LoanState, slot: Slot) -> LoanEvent:
            amount = Money(amount_to_pay(state, payment, day), state.currency)
            return loan_actions.repayment(amount=amount, value_date=day)(book, state, slot)

        self.record(loan, append_in(session, loan.id, make), "repayment-received")


def amount_to_pay(state: LoanState, payment: PlannedPayment, day: dt.date) -> int:
    """What a planned payment pays on ``day``, in minor units, given the loan's state."""
    items = state.installments
    if payment.kind is PaymentKind.SETTLE:
        # Everything owed up to the installment now running, and the principal after it: the
        # product's prepayment rule then closes the loan, with no interest for later periods.
        current = bisect.bisect_left([item.due_date for item in items], day)
        owed = sum(item.unpaid.minor for item in items[: current + 1])
        return owed + sum(item.unpaid_principal.minor for item in items[current + 1 :])
    owed = sum(item.unpaid.minor for item in items if item.number <= payment.installment)
    return owed * payment.percent // 100


def live_through(
    db: Database,
    plan: BookPlan,
    on_day: Callable[[dt.date, BookLife], None] | None = None,
    *,
    propensity_model_on: dt.date | None = None,
) -> BookLife:
    """Build ``plan``'s book in ``db`` (migrated and empty) and live through it day by day.

    ``on_day`` is called after each business date, for progress. On ``propensity_model_on``
    the head of collections has the propensity-to-pay model trained on the book's history so
    far and promotes it: from then on, collectors' queues and smart reminders weigh its
    scores instead of the heuristic. At the end the business date is ``plan.end`` and every
    loan's projection is as of that date.
    """
    life = BookLife(plan)
    book = _Book(db, plan, life)
    book.set_up()
    floor.set_up_floor(db)
    originations: defaultdict[dt.date, list[LoanPlan]] = defaultdict(list)
    for loan_plan in plan.loans:
        originations[loan_plan.originated].append(loan_plan)
    for day in _dates(plan.start, plan.end):
        if day == propensity_model_on:
            life.propensity_model = _promote_propensity_model(db, day)
        book.live(day, originations.pop(day, ()))
        if day < plan.end:
            closed = close_book(db, date=day)
            life.events["penalty-interest"] += sum(result.penalties for result in closed.closed)
            # The next morning the outbox is sent, and the collections floor works what the
            # close gave it.
            morning = day + dt.timedelta(days=1)
            life.messages.update(book.deliver(morning))
            life.collections["outcomes"] += floor.work_day(
                db, morning, book.upcoming(morning), plan.seed
            )
            floor.advance_legal_cases(db, morning)
            life.events["repayment-received"] += floor.agency_work(db, morning, plan.seed)
            life.events["written-off"] += floor.write_off_recommended(db, day)
        if on_day is not None:
            on_day(day, life)
    with db.transaction() as session:
        # Every projection now says what it is as of the last business date, as it is.
        session.execute(update(LoanStateRow).values(business_date=plan.end))
    file_statements(db, plan, book.borrower_ids)  # enterprises' quarterly statements
    return life


def _promote_propensity_model(db: Database, day: dt.date) -> dict[str, Any]:
    """Train the propensity model on the history before ``day`` and promote it; what was done,
    or why nothing was (a book too young to learn from)."""
    from tenor.collect.features import collection_features  # noqa: PLC0415
    from tenor.risk.propensity import PropensityDataError, train  # noqa: PLC0415
    from tenor.risk.registry import promote  # noqa: PLC0415

    moment = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
    try:
        with db.transaction() as session:
            row = train(session, actor="collections analyst", extra=collection_features(session))
            promote(session, row.id, actor="head of collections", now=moment)
    except PropensityDataError as error:
        return {"promoted_on": None, "reason": str(error)}
    return {
        "promoted_on": day.isoformat(),
        "name": row.name,
        "version": row.version,
        "test_auc": row.metrics.get("test_auc"),
    }


def _dates(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# The portfolio, as staff read it


#: The two books a lender keeps apart: consumer (个人) and enterprise (对公) lending.
SEGMENTS: Final = ("consumer", "enterprise")
_SEGMENT_OF_KIND: Final = {"individual": "consumer", "enterprise": "enterprise"}


def _is_open() -> Any:
    return LoanStateRow.status.in_((Status.ACTIVE.value, Status.OVERPAID.value))


def _major(minor: int | None) -> str:
    return Money(int(minor or 0), CURRENCY).format()


def _share(part: int, whole: int) -> str:
    return f"{Decimal(100 * part) / Decimal(whole):.1f}" if whole else "0.0"


def _by_segment(
    session: Session, key: Any
) -> tuple[dict[tuple[Any, str], tuple[int, int, int]], dict[str, int]]:
    """Open loans grouped by ``key`` and segment: (count, principal, arrears) in minor units,
    and each segment's open principal."""
    rows = session.execute(
        select(
            key,
            Borrower.kind,
            func.count(),
            func.sum(LoanStateRow.outstanding_principal_minor),
            func.sum(LoanStateRow.arrears_minor),
        )
        .join(Loan, Loan.id == LoanStateRow.loan_id)
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .where(_is_open())
        .group_by(key, Borrower.kind)
    )
    groups: dict[tuple[Any, str], tuple[int, int, int]] = {}
    totals = dict.fromkeys(SEGMENTS, 0)
    for value, kind, count, principal, arrears in rows:
        segment = _SEGMENT_OF_KIND.get(kind, "consumer")
        before = groups.get((value, segment), (0, 0, 0))
        groups[(value, segment)] = (
            before[0] + int(count),
            before[1] + int(principal or 0),
            before[2] + int(arrears or 0),
        )
        totals[segment] += int(principal or 0)
    return groups, totals


def _segment_row(
    groups: dict[tuple[Any, str], tuple[int, int, int]], totals: dict[str, int], value: Any
) -> dict[str, Any]:
    """One bucket's or class's loans and balances, in all and per segment."""
    parts = {segment: groups.get((value, segment), (0, 0, 0)) for segment in SEGMENTS}
    count = sum(part[0] for part in parts.values())
    principal = sum(part[1] for part in parts.values())
    return {
        "loans": count,
        "outstanding_principal": _major(principal),
        "arrears": _major(sum(part[2] for part in parts.values())),
        "share_percent": _share(principal, sum(totals.values())),
        **{
            segment: {
                "loans": part[0],
                "outstanding_principal": _major(part[1]),
                "share_percent": _share(part[1], totals[segment]),
            }
            for segment, part in parts.items()
        },
    }


def portfolio_summary(session: Session) -> dict[str, Any]:
    """The book on its business date, as JSON-ready data: loans by status; by product, with
    what was collected against what fell due; open loans and their balances by bucket and by
    five-level class, in all and for the consumer and enterprise segments.

    Amounts are decimal strings in yuan; a share is percent of the open principal of the
    book, or of the segment's.
    """
    setting = session.get(Setting, "business_date")
    day = dt.date.fromisoformat(setting.value) if setting else None
    marker = session.get(Setting, DEMO_BOOK_SETTING)
    by_status = dict(session.execute(select(Loan.status, func.count()).group_by(Loan.status)).all())

    buckets, totals = _by_segment(session, LoanStateRow.bucket)
    known = [bucket.name for bucket in CHINESE_BUCKETS.buckets]
    found = {bucket for bucket, _ in buckets}
    by_bucket = [
        {"bucket": name, **_segment_row(buckets, totals, name)}
        for name in [*known, *sorted(found - set(known))]
    ]
    classes, _ = _by_segment(session, LoanStateRow.loan_class)
    by_class = [
        {
            "class": loan_class.label_en.lower().replace(" ", "-"),
            "label_zh": loan_class.label_zh,
            "label_en": loan_class.label_en,
            **_segment_row(classes, totals, int(loan_class)),
        }
        for loan_class in LoanClass
    ]

    fell_due = InstallmentRow.due_date <= day if day else true()
    owed = (
        InstallmentRow.principal_minor
        + InstallmentRow.interest_minor
        + InstallmentRow.fee_minor
        + InstallmentRow.penalty_minor
    )
    paid = (
        InstallmentRow.paid_principal_minor
        + InstallmentRow.paid_interest_minor
        + InstallmentRow.paid_fee_minor
        + InstallmentRow.paid_penalty_minor
    )
    collected_by_product = {
        product_id: (int(due or 0), int(got or 0))
        for product_id, due, got in session.execute(
            select(Loan.product_id, func.sum(owed), func.sum(paid))
            .join(Loan, Loan.id == InstallmentRow.loan_id)
            .where(fell_due)
            .group_by(Loan.product_id)
        )
    }
    past_30 = case((LoanStateRow.days_past_due > 30, LoanStateRow.outstanding_principal_minor))
    by_product = []
    for product_id, code, name, count, disbursed, outstanding, late in session.execute(
        select(
            Product.id,
            Product.code,
            Product.name,
            func.count(),
            func.sum(LoanStateRow.disbursed_minor),
            func.sum(LoanStateRow.outstanding_principal_minor),
            func.sum(past_30),
        )
        .join(Loan, Loan.product_id == Product.id)
        .join(LoanStateRow, LoanStateRow.loan_id == Loan.id)
        .group_by(Product.id, Product.code, Product.name)
        .order_by(Product.id)
    ):
        due, got = collected_by_product.get(product_id, (0, 0))
        by_product.append(
            {
                "id": product_id,
                "code": code,
                "name": name,
                "loans": int(count),
                "disbursed": _major(disbursed),
                "outstanding_principal": _major(outstanding),
                "past_due_30_share_percent": _share(int(late or 0), int(outstanding or 0)),
                "fell_due": _major(due),
                "collected_on_it": _major(got),
                "collection_rate_percent": _share(got, due),
            }
        )

    due, collected, penalties = session.execute(
        select(func.sum(owed), func.sum(paid), func.sum(InstallmentRow.penalty_minor)).where(
            fell_due
        )
    ).one()
    disbursed, repaid = session.execute(
        select(func.sum(LoanStateRow.disbursed_minor), func.sum(LoanStateRow.repaid_minor))
    ).one()
    events = dict(
        session.execute(select(JournalEntry.kind, func.count()).group_by(JournalEntry.kind)).all()
    )
    return {
        "business_date": day.isoformat() if day else None,
        "currency": CURRENCY,
        "demo_book": json.loads(marker.value) if marker else None,
        "borrowers": dict(
            session.execute(select(Borrower.kind, func.count()).group_by(Borrower.kind)).all()
        ),
        "loans": {"total": sum(by_status.values()), "by_status": by_status},
        "journal_events": events,
        "open_principal": {segment: _major(total) for segment, total in totals.items()},
        "by_product": by_product,
        "by_bucket": by_bucket,
        "by_class": by_class,
        "collections": {
            "fell_due": _major(due),
            "collected_on_it": _major(collected),
            "collection_rate_percent": _share(int(collected or 0), int(due or 0)),
            "disbursed": _major(disbursed),
            "repaid": _major(repaid),
            "penalty_interest_charged": _major(penalties),
        },
        "collection_cases": collection_floor_summary(session),
        "smart_reminders": smart_reminder_summary(session),
    }


def smart_reminder_summary(session: Session) -> dict[str, Any]:
    """Reminders that weighed the loan's propensity to pay, and the model they weighed once
    one was promoted (before it, the heuristic)."""
    from tenor.notify.tables import Notification  # noqa: PLC0415
    from tenor.risk.propensity import MODEL_NAME  # noqa: PLC0415
    from tenor.risk.tables import RiskModel  # noqa: PLC0415

    weighed = Notification.propensity.is_not(None)
    by_channel = dict(
        session.execute(
            select(Notification.channel, func.count())
            .where(weighed, Notification.kind == "reminder")
            .group_by(Notification.channel)
        ).all()
    )
    model = session.scalars(
        select(RiskModel).where(RiskModel.name == MODEL_NAME, RiskModel.status == "champion")
    ).one_or_none()
    return {
        "weighed_propensity": sum(by_channel.values()),
        "by_channel": by_channel,
        "propensity_model": None
        if model is None
        else {
            "name": model.name,
            "version": model.version,
            "promoted_at": None if model.promoted_at is None else model.promoted_at.isoformat(),
            "test_auc": model.metrics.get("test_auc"),
        },
    }


def collection_floor_summary(session: Session) -> dict[str, Any]:
    """Collections on the book: cases, promises, agencies and legal cases, in a few figures."""
    report = collections_report(session, business_date(session))
    legal = dict(
        session.execute(select(LegalCase.stage, func.count()).group_by(LegalCase.stage)).all()
    )
    return {
        "cases": report["cases"],
        "promises": report["promises"],
        "placements": sum(agency["placements"] for agency in report["agencies"]),
        "agency_collected": str(
            sum((Decimal(agency["collected"]) for agency in report["agencies"]), Decimal(0))
        ),
        "agency_commission": str(
            sum((Decimal(agency["commission"]) for agency in report["agencies"]), Decimal(0))
        ),
        "legal_cases": legal,
    }
