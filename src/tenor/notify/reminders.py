"""From reminder actions to outbox rows: policy, channel, smart timing and contact rules.

The daily close writes one reminder action per installment and offset that a policy may want
(``ReminderDue``); :func:`schedule_reminders` turns them, in the caller's transaction, into
``notifications`` rows: it picks the policy step, the channel and hour (the timing bandit),
renders the template in the borrower's locale, asks :func:`tenor.core.contact.check` whether
the contact may happen then, and inserts the row under a unique key, so that running it again
for the same actions adds nothing. A refusal is kept on the row (``held`` with its rule and
the next allowed instant, or ``refused``), and logged.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, NamedTuple, Protocol, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    CursorResult,
    Engine,
    Integer,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql import ColumnElement

from tenor.core.contact import (
    Allowed,
    BorrowerContext,
    Channel,
    Contact,
    Decision,
    PastContact,
    Refused,
    check,
    profile,
)
from tenor.core.money import Money
from tenor.notify import timing
from tenor.notify.policy import (
    ReminderChannel,
    ReminderPolicy,
    Step,
    choose_policy,
    stored_policies,
)
from tenor.notify.render import ReminderFacts, render
from tenor.notify.tables import REQUESTED_KINDS, Notification, outbox_row
from tenor.store.bulk import among, chunks, copy_rows
from tenor.store.codec import string_tuple
from tenor.store.models import Borrower, InstallmentRow, Loan, LoanStateRow, Product, utc_now

log = logging.getLogger("tenor.notify")

_Record = TypeVar("_Record")

#: The contact-rule channel of each reminder channel.
CONTACT_CHANNEL: Final = {
    "sms": Channel.SMS,
    "email": Channel.EMAIL,
    "push": Channel.PUSH,
    "voice": Channel.CALL,
}

#: States of a notification that reached, or is reaching, the borrower.
CONTACTED: Final = ("sent", "delivered")

#: Days of past contacts the rules look at (the longest window is Reg F's 7 days).
HISTORY_DAYS: Final = 8

#: The random source of a reminder whose borrower has no timing history: the bandit then
#: takes the default arm and draws nothing.
_NO_DRAWS: Final = random.Random(0)


class BorrowerRecord(Protocol):
    """What reminders read of a borrower: its ORM row, or the :class:`BorrowerFacts` the
    scheduler loads."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def locale(self) -> str: ...
    @property
    def time_zone(self) -> str | None: ...
    @property
    def phones(self) -> Sequence[str]: ...
    @property
    def email(self) -> str | None: ...
    @property
    def email_invalid_since(self) -> dt.datetime | None: ...
    @property
    def consents(self) -> Mapping[str, Any] | None: ...
    @property
    def opt_outs(self) -> Sequence[str]: ...


class BorrowerFacts(NamedTuple):
    """A borrower's columns that reminders read, without the ORM's bookkeeping."""

    id: int
    kind: str
    name: str
    locale: str
    time_zone: str | None
    phones: Sequence[str]
    email: str | None
    email_invalid_since: dt.datetime | None
    consents: Mapping[str, Any] | None
    opt_outs: Sequence[str]


class _LoanFacts(NamedTuple):
    id: int
    borrower_id: int
    product_id: int
    currency: str


class _ProductCode(NamedTuple):
    id: int
    code: str


_Column = ColumnElement[Any] | QueryableAttribute[Any]
_LOAN_FACTS: Final = (Loan.id, Loan.borrower_id, Loan.product_id, Loan.currency)
#: The JSON columns as text: most borrowers share a handful of opt-out and consent documents,
#: parsed once each, and the driver's JSON loading cost more than the rest of the row.
_BORROWER_FACTS: Final = (
    Borrower.id,
    Borrower.kind,
    Borrower.name,
    Borrower.locale,
    Borrower.time_zone,
    Borrower.phones.cast(Text),
    Borrower.email,
    Borrower.email_invalid_since,
    Borrower.consents.cast(Text),
    Borrower.opt_outs.cast(Text),
)
_PRODUCT_CODES: Final = (Product.id, Product.code)


def _borrower_facts(
    borrower_id: int,
    kind: str,
    name: str,
    locale: str,
    time_zone: str | None,
    phones: str | None,
    email: str | None,
    email_invalid_since: dt.datetime | None,
    consents: str | None,
    opt_outs: str | None,
) -> BorrowerFacts:
    """A borrower's facts from its row, the JSON columns read as text."""
    return BorrowerFacts(
        borrower_id,
        kind,
        name,
        locale,
        time_zone,
        tuple(json.loads(phones) or ()) if phones else (),
        email,
        email_invalid_since,
        _consents(consents) if consents else None,
        string_tuple(opt_outs),
    )


@functools.lru_cache(maxsize=1_024)
def _consents(document: str) -> Mapping[str, Any]:
    return MappingProxyType(json.loads(document) or {})


@functools.lru_cache(maxsize=1_024)
def send_instant(day: dt.date, time_zone: str, hour: int) -> dt.datetime:
    """The instant (UTC) of ``hour`` on ``day`` in ``time_zone``."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(time_zone)).astimezone(dt.UTC)


@functools.lru_cache(maxsize=4_096)
def first_contact(
    channel: Channel, context: BorrowerContext, profile_name: str, at: dt.datetime
) -> Decision:
    """What the contact rules say of a contact with a borrower who has no past contacts.

    Without past contacts the rules weigh only the channel, the borrower's context, the
    profile and the instant (the debt a contact is about is compared with past contacts only),
    so one answer serves every such borrower alike.
    """
    return check(Contact(channel), (), context, profile(profile_name), at)


def borrower_records(session: Session, borrower_ids: Iterable[int]) -> dict[int, BorrowerFacts]:
    """What reminders and collection messages read of the borrowers ``borrower_ids``, by id:
    plain records, without the ORM's bookkeeping for each of thousands of rows."""
    return _by_id(session, _BORROWER_FACTS, _borrower_facts, borrower_ids)


def _dialect(session: Session) -> str:
    bind = session.get_bind()
    return bind.dialect.name if isinstance(bind, Engine) else bind.engine.dialect.name


@dataclass(frozen=True, slots=True)
class ReminderDue:
    """A reminder action of the daily close: this installment is ``offset_days`` from due.

    ``offset_days`` is the business date minus the due date (-3: three days before it).
    ``promise_to_pay`` and ``dispute`` are stop conditions that collections may set.
    """

    loan_id: int
    installment: int
    due_date: dt.date
    offset_days: int
    amount_minor: int
    kind: str = "reminder"
    promise_to_pay: bool = False
    dispute: bool = False


@dataclass(frozen=True, slots=True)
class Scheduled:
    """What :func:`schedule_reminders` did: rows written, and why the others were not."""

    written: int
    duplicates: int
    skipped: dict[str, int]
    #: Rows written held or refused, by the rule that refused them.
    refusals: dict[str, int] = field(default_factory=dict)
    #: Reminders on a step's low-propensity channels, for loans unlikely to pay without them.
    escalated: int = 0


def due_reminders(
    session: Session, day: dt.date, offsets: Iterable[int] = (-3, -1, 0, 1, 3, 7)
) -> list[ReminderDue]:
    """Reminder actions for ``day`` from the installments projection (what the close emits).

    One for each unpaid installment whose due date is ``offset`` days before ``day``.
    """
    wanted = sorted(set(offsets))
    dates = {day - dt.timedelta(days=offset): offset for offset in wanted}
    rows = session.execute(
        select(
            InstallmentRow.loan_id,
            InstallmentRow.number,
            InstallmentRow.due_date,
            InstallmentRow.unpaid_minor,
        )
        .join(Loan, Loan.id == InstallmentRow.loan_id)
        .where(
            InstallmentRow.due_date.in_(list(dates)),
            InstallmentRow.unpaid_minor > 0,
            Loan.status == "active",
        )
        .order_by(InstallmentRow.loan_id, InstallmentRow.number)
    )
    return [
        ReminderDue(loan_id, number, due, dates[due], unpaid)
        for loan_id, number, due, unpaid in rows
    ]


def borrower_context(borrower: BorrowerRecord) -> BorrowerContext:
    """What the contact rules need of a borrower's record."""
    opt_outs = frozenset(
        CONTACT_CHANNEL[channel] for channel in borrower.opt_outs if channel in CONTACT_CHANNEL
    )
    return BorrowerContext(
        time_zone=borrower.time_zone or None,
        opt_outs=opt_outs,
        night_consent=bool((borrower.consents or {}).get("night_contact", False)),
    )


def contact_history(
    session: Session, borrower_ids: Iterable[int], since: dt.datetime
) -> dict[int, list[PastContact]]:
    """Each borrower's reminders sent since ``since``, as past contacts."""
    ids = sorted(set(borrower_ids))
    history: dict[int, list[PastContact]] = {borrower: [] for borrower in ids}
    for condition in among(session, Notification.borrower_id, ids):
        rows = session.execute(
            select(
                Notification.borrower_id,
                Notification.sent_at,
                Notification.channel,
                Notification.loan_id,
            ).where(
                condition,
                Notification.state.in_(CONTACTED),
                Notification.sent_at >= since,
                # A code the borrower asked for is not a contact about a debt.
                Notification.kind.not_in(REQUESTED_KINDS),
            )
        )
        for borrower_id, sent_at, channel, loan_id in rows:
            if sent_at is None:
                continue
            history[borrower_id].append(
                PastContact(
                    at=_aware(sent_at),
                    channel=CONTACT_CHANNEL.get(channel, Channel.SMS),
                    debt=None if loan_id is None else str(loan_id),
                )
            )
    return history


def recipient(borrower: BorrowerRecord, channel: str) -> str | None:
    """Where a message on ``channel`` goes: a phone, an email address, the app's topic.

    None when there is none, or when the email address on record is known dead by its bounces.
    """
    if channel in ("sms", "voice"):
        return borrower.phones[0] if borrower.phones else None
    if channel == "email":
        if borrower.email_invalid_since is not None:
            return None
        return borrower.email or None
    return f"borrower-{borrower.id}"


def schedule_reminders(
    session: Session,
    actions: Iterable[ReminderDue],
    day: dt.date,
    *,
    policies: Sequence[ReminderPolicy] | None = None,
    seed: int = 0,
) -> Scheduled:
    """Write the outbox rows of ``actions`` for business date ``day``, in ``session``'s
    transaction; rows already written (same installment, offset and channel) stay as they are.

    Random draws of the timing bandit are seeded by ``seed`` and each reminder's identity, so
    that a rerun chooses the same channel and hour.
    """
    due = [action for action in actions if action.kind == "reminder"]
    skipped: dict[str, int] = {}

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    if not due:
        return Scheduled(0, 0, skipped, {})
    known = list(policies) if policies is not None else stored_policies(session)
    loans = _by_id(session, _LOAN_FACTS, _LoanFacts, {a.loan_id for a in due})
    borrowers = borrower_records(session, {loan.borrower_id for loan in loans.values()})
    products = _by_id(
        session, _PRODUCT_CODES, _ProductCode, {loan.product_id for loan in loans.values()}
    )
    unpaid = _unpaid(session, due)
    # The contacts the rules weigh are those before the day the reminders go out: counted back
    # from the business date, not the wall clock, so a catch-up close reads the right ones.
    since = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=HISTORY_DAYS)
    history = contact_history(session, borrowers, since)
    arms = timing.load_arms(session, borrowers)
    prior = timing.population_prior(timing.load_population(session))
    chosen: dict[ReminderDue, tuple[ReminderPolicy, Step | None]] = {}
    # A handful of products, segments and offsets: each policy and step is looked up once.
    policy_for: dict[tuple[str, str], ReminderPolicy] = {}
    step_at: dict[tuple[int, int], Step | None] = {}
    for action in due:
        loan = loans.get(action.loan_id)
        if loan is not None:
            segment = (products[loan.product_id].code, borrowers[loan.borrower_id].kind)
            policy = policy_for.get(segment)
            if policy is None:
                policy = policy_for[segment] = choose_policy(known, *segment)
            where = (id(policy), action.offset_days)
            if where not in step_at:
                step_at[where] = policy.step(action.offset_days)
            chosen[action] = (policy, step_at[where])
    propensity = _propensities(session, due, chosen, day)
    maker = _RowMaker(day, history, utc_now())
    rows: list[dict[str, Any]] = []
    escalated = 0
    for action in due:
        loan = loans.get(action.loan_id)
        if loan is None:
            skip("unknown_loan")
            continue
        borrower = borrowers[loan.borrower_id]
        policy, step = chosen[action]
        stop = _stop_condition(policy, action, unpaid)
        if step is None:
            skip("no_step")
            continue
        if stop is not None:
            skip(stop)
            continue
        chance = propensity.get(action.loan_id) if step.uses_propensity else None
        channels = step.channels_for(chance, policy)
        if not channels:
            skip("high_propensity")
            continue
        own = arms.get(borrower.id, {})
        # The bandit draws only for a borrower with a history: seed a generator only for them.
        rng = (
            random.Random(hash((seed, action.loan_id, action.installment, action.offset_days)))
            if timing.has_history(own)
            else _NO_DRAWS
        )
        facts = ReminderFacts(
            name=borrower.name,
            loan_id=loan.id,
            installment=action.installment,
            amount=Money(action.amount_minor, loan.currency),
            due_date=action.due_date,
            offset_days=action.offset_days,
        )
        extra = channels[len(step.channels) :]
        escalated += len(extra)
        for channel, hour, key in _choices(policy, step, extra, borrower, action, own, prior, rng):
            row = maker.row(policy, step, borrower, facts, channel, hour, key)
            row["propensity"] = None if chance is None else float(chance)
            rows.append(row)
    written = _insert(session, rows)
    refusals: dict[str, int] = {}
    for row in rows:
        if row["state"] in ("held", "refused"):
            refusals[row["rule"]] = refusals.get(row["rule"], 0) + 1
            log.info(
                "contact refused: borrower %s loan %s %s by %s, %s until %s",
                row["borrower_id"],
                row["loan_id"],
                row["channel"],
                row["rule"],
                row["state"],
                row["not_before"].isoformat() if row["state"] == "held" else "never",
            )
    return Scheduled(written, len(rows) - written, skipped, refusals, escalated)


def _propensities(
    session: Session,
    due: Sequence[ReminderDue],
    chosen: dict[ReminderDue, tuple[ReminderPolicy, Step | None]],
    day: dt.date,
) -> dict[int, Decimal]:
    """The propensity to pay of each loan whose reminder step today depends on it.

    Days past due as the loan's projection has them at the close of ``day``; at least the
    reminder's own offset, which an installment overdue that many days implies.
    """
    # Imported here: collections' queue imports this module for the borrower's contact context.
    from tenor.collect.propensity import loan_propensities  # noqa: PLC0415

    overdue: dict[int, int] = {}
    for action in due:
        step = chosen.get(action, (None, None))[1]
        if step is not None and step.uses_propensity:
            overdue[action.loan_id] = max(overdue.get(action.loan_id, 0), action.offset_days)
    if not overdue:
        return {}
    for condition in among(session, LoanStateRow.loan_id, overdue):
        for loan_id, days in session.execute(
            select(LoanStateRow.loan_id, LoanStateRow.days_past_due).where(condition)
        ):
            overdue[loan_id] = max(overdue[loan_id], days or 0)
    return {
        loan_id: answer.chance
        for loan_id, answer in loan_propensities(session, overdue, day).items()
    }


def _choices(
    policy: ReminderPolicy,
    step: Step,
    extra: Sequence[ReminderChannel],
    borrower: BorrowerRecord,
    action: ReminderDue,
    own: dict[timing.Arm, timing.Counts],
    prior: dict[timing.Arm, timing.Counts],
    rng: random.Random,
) -> list[tuple[str, int, str]]:
    """(channel, hour, dedupe key) of each reminder a step sends, with the ``extra`` channels
    it adds for this loan; ``own`` is the borrower's arms."""
    base = f"reminder:{action.loan_id}:{action.installment}:{action.offset_days}"
    default_hour = timing.slot_of(policy.default_hour, policy.hours)
    dead_email = borrower.email_invalid_since is not None
    usable = [
        c for c in step.channels if c not in borrower.opt_outs and not (c == "email" and dead_email)
    ] or list(step.channels)
    chosen: list[tuple[str, int, str]] = []
    each: Sequence[ReminderChannel] = (*step.channels, *extra)
    if step.choose_channel:
        candidates = [(channel, hour) for channel in usable for hour in policy.hours]
        default = (
            policy.default_channel if policy.default_channel in usable else usable[0],
            default_hour,
        )
        channel, hour = timing.choose(candidates, own, prior, default, rng)
        chosen.append((channel, hour, f"{base}:{'|'.join(step.channels)}"))
        each = extra
    for channel in each:
        candidates = [(channel, hour) for hour in policy.hours]
        _, hour = timing.choose(candidates, own, prior, (channel, default_hour), rng)
        chosen.append((channel, hour, f"{base}:{channel}"))
    return chosen


class _RowMaker:
    """Builds the outbox rows of one run, keeping each borrower's contact context from one row
    to the next."""

    def __init__(self, day: dt.date, history: dict[int, list[PastContact]], now: dt.datetime):
        self.day = day
        self.history = history
        self.now = now
        self._contexts: dict[int, BorrowerContext] = {}

    def context(self, borrower: BorrowerRecord) -> BorrowerContext:
        """The borrower's contact context."""
        context = self._contexts.get(borrower.id)
        if context is None:
            context = self._contexts[borrower.id] = borrower_context(borrower)
        return context

    def decision(
        self,
        channel: Channel,
        loan_id: int,
        borrower_id: int,
        context: BorrowerContext,
        profile_name: str,
        at: dt.datetime,
    ) -> Decision:
        """What the contact rules say of a reminder about ``loan_id`` on ``channel`` at ``at``."""
        past = self.history.get(borrower_id, [])
        if past:
            contact = Contact(channel, debt=str(loan_id))
            return check(contact, past, context, profile(profile_name), at)
        return first_contact(channel, context, profile_name, at)

    def row(
        self,
        policy: ReminderPolicy,
        step: Step,
        borrower: BorrowerRecord,
        facts: ReminderFacts,
        channel: str,
        hour: int,
        key: str,
    ) -> dict[str, Any]:
        """The outbox row of one reminder (without its propensity)."""
        context = self.context(borrower)
        at = send_instant(self.day, context.time_zone or "Asia/Shanghai", hour)
        rules = profile(policy.contact_profile)
        decision = self.decision(
            CONTACT_CHANNEL[channel],
            facts.loan_id,
            borrower.id,
            context,
            policy.contact_profile,
            at,
        )
        opt_out = isinstance(decision, Allowed) and "opt_out_notice" in decision.conditions
        address = recipient(borrower, channel)
        state, rule, not_before = "pending", None, at
        if channel == "voice":
            state = "task"
        if isinstance(decision, Refused):
            rule = decision.rule
            if decision.next_allowed_at is None:
                state = "refused"
            else:
                state, not_before = "held", decision.next_allowed_at.astimezone(dt.UTC)
        if address is None:
            dead_email = channel == "email" and borrower.email_invalid_since is not None
            state, rule = "refused", "email_invalid" if dead_email else "no_address"
        if channel in ("sms", "email") and rules.opt_out_notice_channels:
            # A rulebook that wants opt-out notices on texts and emails gets them on every one,
            # even when the message is held for now.
            opt_out = True
        message = render(step.template, channel, borrower.locale, facts, opt_out=opt_out)
        return outbox_row(
            dedupe_key=key,
            kind="reminder",
            borrower_id=borrower.id,
            facts=facts,
            channel=channel,
            recipient=address,
            locale=borrower.locale,
            message=message,
            policy=policy.name,
            contact_profile=policy.contact_profile,
            hour=hour,
            state=state,
            not_before=not_before,
            rule=rule,
            now=self.now,
        )


#: The outbox's columns a reminder row fills, in the order the bulk insert copies them.
_COLUMNS: Final = (
    "dedupe_key",
    "kind",
    "loan_id",
    "borrower_id",
    "installment",
    "due_date",
    "offset_days",
    "channel",
    "recipient",
    "locale",
    "subject",
    "body",
    "policy",
    "contact_profile",
    "hour",
    "propensity",
    "state",
    "not_before",
    "attempts",
    "rule",
    "created_at",
    "updated_at",
)
_NOTIFICATIONS = cast(Table, Notification.__table__)
#: SQLite: one prepared statement, run once per row.
_INSERT_NEW: Final = (
    sqlite_insert(_NOTIFICATIONS)
    .values({column: bindparam(column, type_=_NOTIFICATIONS.c[column].type) for column in _COLUMNS})
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
)
_STAGED: Final = "reminder_rows"
_CREATE_STAGED: Final = text(
    f"CREATE TEMPORARY TABLE {_STAGED} ON COMMIT DROP AS "
    f"SELECT 0 AS ordinal, {', '.join(_COLUMNS)} FROM notifications WITH NO DATA"
)
#: PostgreSQL: every staged row in one statement, in the order given, and how many were new.
_INSERT_STAGED: Final = text(
    f"WITH written AS (INSERT INTO notifications ({', '.join(_COLUMNS)}) "
    f"SELECT {', '.join(_COLUMNS)} FROM {_STAGED} ORDER BY ordinal "
    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING 1) SELECT count(*) FROM written"
)


def _insert(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert rows whose dedupe key is new, in their order; the number inserted.

    PostgreSQL: COPY into a temporary table, then one INSERT ... SELECT that skips the keys
    already there. SQLite: one prepared statement run for every row.
    """
    if not rows:
        return 0
    if _dialect(session) != "postgresql":
        # SQLite counts, over every run of the statement, the rows it inserted.
        return cast(CursorResult[Any], session.execute(_INSERT_NEW, rows)).rowcount
    session.execute(_CREATE_STAGED)
    # A driver's error comes out as SQLAlchemy's, as from an INSERT (a DataError for a long
    # text).
    copy_rows(
        session.connection(),
        _STAGED,
        ("ordinal", *_COLUMNS),
        ((ordinal, *[row[column] for column in _COLUMNS]) for ordinal, row in enumerate(rows)),
    )
    written = int(session.execute(_INSERT_STAGED).scalar_one())
    # Dropped now, not at commit: the same transaction may schedule more reminders.
    session.execute(text(f"DROP TABLE {_STAGED}"))
    return written


def _stop_condition(
    policy: ReminderPolicy, action: ReminderDue, unpaid: dict[tuple[int, int], int]
) -> str | None:
    if "paid" in policy.stop_when and unpaid.get((action.loan_id, action.installment), 0) <= 0:
        return "paid"
    if "promise_to_pay" in policy.stop_when and action.promise_to_pay:
        return "promise_to_pay"
    if "dispute" in policy.stop_when and action.dispute:
        return "dispute"
    return None


def _unpaid(session: Session, due: Sequence[ReminderDue]) -> dict[tuple[int, int], int]:
    """What is left to pay of each installment a reminder is about."""
    wanted = sorted({(a.loan_id, a.installment) for a in due})
    columns = (InstallmentRow.loan_id, InstallmentRow.number, InstallmentRow.unpaid_minor)
    key = tuple_(InstallmentRow.loan_id, InstallmentRow.number)
    statements: list[Select[int, int, int]] = []
    if _dialect(session) == "postgresql":
        # The (loan, installment) pairs as two arrays, unnested side by side into a table; as
        # a semi-join the planner looks each one up by the primary key.
        pairs = (
            func.unnest(
                bindparam(None, [loan for loan, _ in wanted], type_=ARRAY(BigInteger)),
                bindparam(None, [number for _, number in wanted], type_=ARRAY(Integer)),
            )
            .table_valued("loan_id", "number")
            .render_derived(name="wanted")
        )
        statements.append(select(*columns).where(key.in_(select(pairs.c.loan_id, pairs.c.number))))
    else:
        statements.extend(select(*columns).where(key.in_(chunk)) for chunk in chunks(wanted))
    unpaid: dict[tuple[int, int], int] = {}
    for statement in statements:
        for loan_id, number, left in session.execute(statement):
            unpaid[(loan_id, number)] = left
    return unpaid


def installment_paid(session: Session, loan_id: int | None, number: int | None) -> bool:
    """Whether the installment a reminder is about has been paid since."""
    if loan_id is None or number is None:
        return False
    left = session.scalar(
        select(InstallmentRow.unpaid_minor).where(
            and_(InstallmentRow.loan_id == loan_id, InstallmentRow.number == number)
        )
    )
    return left is not None and left <= 0


def _by_id(
    session: Session,
    columns: tuple[QueryableAttribute[int], *tuple[_Column, ...]],
    record: Callable[..., _Record],
    ids: Iterable[int],
) -> dict[int, _Record]:
    """``columns`` (the id first) of the rows with ``ids``, as ``record``s by id."""
    found: dict[int, _Record] = {}
    for condition in among(session, columns[0], ids):
        for row in session.execute(select(*columns).where(condition)):
            found[row[0]] = record(*row)
    return found


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
