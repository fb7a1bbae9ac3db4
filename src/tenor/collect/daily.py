"""The daily close's collections pass: promises decided, cases opened, advanced and closed,
placements recalled, work assigned.

:func:`run_collections` runs in the transaction that finishes a business date D, after every
partition of the book is closed, so that it reads each loan as of the next open date D+1 and
either all of it is written with the day's end or none of it is (a killed close reruns it).
It costs what the delinquent part of the book costs: it reads loans past due and open cases,
nothing else.

For D, with ``opening`` = D+1:

1. Promises to pay still pending are judged on the payments value-dated from the day each was
   made through D (:func:`tenor.core.collection.judge_promise`).
2. An open case whose loan is no longer past due closes: ``cured`` (still active), ``paid``
   (settled) or ``written_off``; its agency placement is recalled.
3. A loan past due without an open case gets one, in the first segment of the strategy in force
   that its facts match, on the arm a stable hash of its id gives.
4. Every open case is refreshed (days past due, balance, segment: a new segment starts its path
   again), then paused (a dispute, hardship or an open relief, a pending promise, a placement,
   a deceased or bankrupt borrower) or moved one step along its path.
5. Placements whose period ended, or whose case became excluded, are recalled.
6. Cases not placed with an agency are assigned to collectors (:mod:`tenor.collect.assign`).

Each decision is also a row of ``close_actions`` (collection_open, collection_step,
promise_kept, promise_broken), the close's list of what the rest of Tenor acts on.

A hundred thousand loans can fall past due on one day, so steps 2 to 5 work on the whole
set: each kind of row they need is read in one statement (on SQLite, one per
:data:`tenor.store.bulk.CHUNK` ids), the decisions are made case by case in Python, and what
they write goes back in bulk, with COPY on PostgreSQL: the new cases once, with what the pass
did to them; the other cases' changes, one update per set of changed columns; the actions,
messages, placements and close_actions.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Final, cast

from sqlalchemy import (
    Table,
    Text,
    and_,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from tenor.batch.tables import CloseAction
from tenor.bureau.records import assign_to_collections
from tenor.bureau.tables import BureauAccount
from tenor.collect import assign
from tenor.collect.contacts import (
    HISTORY_DAYS,
    message_facts,
    message_row,
    shared_history,
)
from tenor.collect.payments import payments_between
from tenor.collect.strategy import StrategyDocument, strategy_in_force
from tenor.collect.tables import (
    Agency,
    CaseAction,
    CollectionCase,
    Dispute,
    LegalCase,
    Placement,
    Promise,
)
from tenor.core.collection import (
    ActionKind,
    Arm,
    CaseFacts,
    LegalStage,
    PathPosition,
    PromiseStatus,
    Strategy,
    assign_arm,
    judge_promise,
    next_step,
    pause_reason,
    placement_refusal,
)
from tenor.core.money import Money
from tenor.notify.reminders import borrower_records
from tenor.notify.tables import Notification
from tenor.relief.tables import CreditScore, ReliefOffer
from tenor.relief.workflow import open_relief
from tenor.store.bulk import among, copy_bound, insert_rows
from tenor.store.codec import string_tuple
from tenor.store.models import InstallmentRow, Loan, LoanStateRow, Product

#: Flags after which a case follows no path: nobody is asked to pay through collections (an
#: upheld dispute waits for the ledger's correction, which cures or closes the case).
STOPPED: Final = frozenset({"deceased", "bankruptcy", "dispute_upheld"})

#: How long a hardship outcome pauses a case when no relief is opened for it.
HARDSHIP_PAUSE_DAYS: Final = 14

_CASES = cast(Table, CollectionCase.__table__)
_ACTIONS = cast(Table, CaseAction.__table__)
_PLACEMENTS = cast(Table, Placement.__table__)
_LEGAL = cast(Table, LegalCase.__table__)
_NOTIFICATIONS = cast(Table, Notification.__table__)
_CLOSE_ACTIONS = cast(Table, CloseAction.__table__)


@dataclass(slots=True)
class CollectionDay:
    """What the collections pass of one business date did."""

    opened: int = 0
    closed: Counter[str] = field(default_factory=Counter)
    steps: Counter[str] = field(default_factory=Counter)
    paused: Counter[str] = field(default_factory=Counter)
    promises: Counter[str] = field(default_factory=Counter)
    placed: int = 0
    recalled: int = 0
    assigned: int = 0

    def document(self) -> dict[str, Any]:
        """The pass as JSON, for the close's totals."""
        return {
            "opened": self.opened,
            "closed": dict(self.closed),
            "steps": dict(self.steps),
            "paused": dict(self.paused),
            "promises": dict(self.promises),
            "placed": self.placed,
            "recalled": self.recalled,
            "assigned": self.assigned,
        }


@dataclass(frozen=True, slots=True)
class Delinquent:
    """A loan past due as of the opening date, with what the strategy reads of it."""

    loan_id: int
    borrower_id: int
    currency: str
    arrears_minor: int
    product: str
    facts: CaseFacts

    @property
    def balance_minor(self) -> int:
        """What the loan still owes."""
        return self.facts.balance_minor


#: What :class:`OpenCase` holds besides columns.
_NOT_COLUMNS: Final = frozenset({"stored", "opened"})

#: The columns of a case the pass may change; a case is written back with those it changed.
CASE_CHANGES: Final = (
    "status",
    "closed_on",
    "close_reason",
    "strategy",
    "strategy_version",
    "segment",
    "arm",
    "steps_taken",
    "path_since",
    "days_past_due",
    "balance_minor",
    "max_days_past_due",
    "paused",
    "collector_id",
    "agency_id",
    "contact_cost_minor",
    "updated_on",
)


@dataclass(slots=True)
class OpenCase:
    """Where an open case stands: read once by the pass, changed in memory, written back."""

    id: int
    loan_id: int
    borrower_id: int
    currency: str
    flags: Sequence[str]
    status: str
    closed_on: dt.date | None
    close_reason: str | None
    strategy: str
    strategy_version: int
    segment: str
    arm: str
    steps_taken: int
    path_since: dt.date
    days_past_due: int
    balance_minor: int
    max_days_past_due: int
    paused: str | None
    collector_id: int | None
    agency_id: int | None
    contact_cost_minor: int
    updated_on: dt.date
    #: The changeable columns as stored, to write back only what changed.
    stored: tuple[Any, ...] = ()
    #: A case the pass opens: its other columns, written with the case at the end of the pass.
    opened: dict[str, Any] | None = None

    def keep(self) -> None:
        """Take the case's present values as the stored ones."""
        self.stored = tuple(getattr(self, name) for name in CASE_CHANGES)

    def row(self) -> dict[str, Any]:
        """A new case's row."""
        assert self.opened is not None
        return {**{name: getattr(self, name) for name in _CASE_COLUMNS}, **self.opened}

    def changes(self) -> dict[str, Any]:
        """The changeable columns whose value differs from the stored one."""
        return {
            name: getattr(self, name)
            for name, before in zip(CASE_CHANGES, self.stored, strict=True)
            if getattr(self, name) != before
        }


#: The columns :class:`OpenCase` holds, in its fields' order.
_CASE_COLUMNS: Final = tuple(f.name for f in fields(OpenCase) if f.name not in _NOT_COLUMNS)


@dataclass(slots=True)
class OpenPlacement:
    """A placement not recalled before the pass, or made by it (``id`` None until written)."""

    id: int | None
    case_id: int
    agency_id: int
    recall_on: dt.date
    recalled_on: dt.date | None = None
    recall_reason: str | None = None
    #: The other columns of a placement the pass makes.
    values: dict[str, Any] = field(default_factory=dict)


#: A loan's whole outstanding balance, in minor units.
_BALANCE: Final = (
    LoanStateRow.outstanding_principal_minor
    + LoanStateRow.outstanding_interest_minor
    + LoanStateRow.outstanding_fees_minor
    + LoanStateRow.outstanding_penalties_minor
).label("balance_minor")


def run_collections(session: Session, day: dt.date) -> CollectionDay:
    """The collections pass of business date ``day``, in ``session``'s transaction."""
    opening = day + dt.timedelta(days=1)
    document, version = strategy_in_force(session)
    strategy = document.strategy(version)
    result = CollectionDay()
    _judge_promises(session, document, strategy, day, result)
    # What the promises changed is read back below with the statements that bypass the ORM.
    session.flush()
    delinquent = _delinquent(session, opening)
    cases = _read_open_cases(session)
    placements = _read_open_placements(session)
    closing = [case for case in cases if case.loan_id not in delinquent]
    _close_cases(session, closing, placements, opening, result)
    staying = {case.loan_id: case for case in cases if case.loan_id in delinquent}
    for case in _open_new_cases(
        session,
        strategy,
        [loan for loan_id, loan in delinquent.items() if loan_id not in staying],
        opening,
    ):
        staying[case.loan_id] = case
        result.opened += 1
    actions = _advance(
        session, document, strategy, staying, delinquent, placements, opening, result
    )
    _recall(staying, placements, opening, result)
    # The cases first: actions and placements refer to them.
    _write_cases(session, [*closing, *staying.values()])
    _insert_rows(session, _ACTIONS, actions)
    _write_placements(session, placements)
    # Objects the ORM holds of what was just written (the cases the promises read, their
    # follow-up calls) are stale: whoever reads them next reloads them.
    for held in list(session.identity_map.values()):
        if isinstance(held, (CollectionCase, CaseAction, Placement)):
            session.expire(held)
    result.assigned = assign.rebalance(session, opening)
    return result


# --- promises ---------------------------------------------------------------------------------


def _judge_promises(
    session: Session,
    document: StrategyDocument,
    strategy: Strategy,
    day: dt.date,
    result: CollectionDay,
) -> None:
    rules = document.promise_rules()
    pending = list(
        session.scalars(
            select(Promise).where(
                Promise.status == PromiseStatus.PENDING.value, Promise.made_on <= day
            )
        )
    )
    if not pending:
        return
    paid = payments_between(
        session,
        {promise.loan_id: promise.made_on for promise in pending},
        day,
    )
    actions = []
    for promise in pending:
        total = sum(
            p.amount.minor for p in paid.get(promise.loan_id, []) if p.value_date >= promise.made_on
        )
        status = judge_promise(
            Money(promise.amount_minor, promise.currency),
            promise.due_date,
            Money(total, promise.currency),
            day,
            rules,
        )
        promise.paid_minor = total
        if status is PromiseStatus.PENDING:
            continue
        promise.status = status.value
        promise.decided_on = day
        result.promises[status.value] += 1
        actions.append(
            {
                "business_date": day,
                "loan_id": promise.loan_id,
                "kind": f"promise_{status.value}",
                "installment": promise.id,
                "offset_days": (day - promise.due_date).days,
                "due_date": promise.due_date,
                "amount_minor": promise.amount_minor,
            }
        )
        if status is PromiseStatus.BROKEN:
            case = session.get(CollectionCase, promise.case_id)
            if case is not None and "broken_promise" not in case.flags:
                case.flags = [*case.flags, "broken_promise"]
            if case is not None:
                _follow_up(session, strategy, case, day + dt.timedelta(days=1))
    _close_actions(session, actions)


#: The step number of a call the close adds outside the path (after a broken promise).
FOLLOW_UP_STEP: Final = -1


def _follow_up(session: Session, strategy: Strategy, case: CollectionCase, day: dt.date) -> None:
    """A call task on a case whose promise broke, so that the case is in its collector's queue
    (at the top: a broken promise) on ``day``, not only when the path's next call falls due."""
    if case.status != "open" or case.agency_id is not None or set(case.flags) & STOPPED:
        return
    waiting = session.scalar(
        select(CaseAction.id).where(
            CaseAction.case_id == case.id,
            CaseAction.state == "task",
            CaseAction.kind == ActionKind.CALL.value,
        )
    )
    if waiting is not None:
        return
    cost = strategy.cost(ActionKind.CALL)
    session.add(
        CaseAction(
            case_id=case.id,
            business_date=day,
            segment=case.segment,
            arm=case.arm,
            step=FOLLOW_UP_STEP,
            kind=ActionKind.CALL.value,
            state="task",
            detail={"reason": "broken_promise"},
            cost_minor=cost,
            collector_id=case.collector_id,
        )
    )
    case.contact_cost_minor += cost


# --- the delinquent book ----------------------------------------------------------------------


def _delinquent(session: Session, opening: dt.date) -> dict[int, Delinquent]:
    rows = session.execute(
        select(
            LoanStateRow.loan_id,
            LoanStateRow.days_past_due,
            _BALANCE,
            LoanStateRow.repaid_minor,
            LoanStateRow.arrears_minor,
            Loan.borrower_id,
            Loan.currency,
            Product.code,
        )
        .join(Loan, Loan.id == LoanStateRow.loan_id)
        .join(Product, Product.id == Loan.product_id)
        .where(LoanStateRow.status == "active", LoanStateRow.days_past_due >= 1)
        # Cases open in loan order, so every run numbers them the same.
        .order_by(LoanStateRow.loan_id)
    ).all()
    if not rows:
        return {}
    ids = [row.loan_id for row in rows]
    # Only a loan that never repaid can be a first-payment default: only those are looked up
    # for an installment settled all the same (by a waiver).
    never_repaid = [row.loan_id for row in rows if row.repaid_minor == 0]
    settled_ever: set[int] = set()
    for condition in among(session, InstallmentRow.loan_id, never_repaid):
        settled_ever.update(
            session.scalars(
                select(InstallmentRow.loan_id)
                .where(condition, InstallmentRow.settled_on.is_not(None))
                .distinct()
            )
        )
    scores = _scores(session, {row.borrower_id for row in rows}, opening)
    hardship = _hardship(session, ids, opening)
    found: dict[int, Delinquent] = {}
    for row in rows:
        facts = CaseFacts(
            loan_id=row.loan_id,
            days_past_due=row.days_past_due,
            balance_minor=row.balance_minor,
            product=row.code,
            score=scores.get(row.borrower_id),
            # A first-payment default: the loan is past due and has never settled an
            # installment (its first one is the one missed).
            first_payment_default=row.repaid_minor == 0 and row.loan_id not in settled_ever,
            hardship=row.loan_id in hardship,
        )
        found[row.loan_id] = Delinquent(
            loan_id=row.loan_id,
            borrower_id=row.borrower_id,
            currency=row.currency,
            arrears_minor=row.arrears_minor,
            product=row.code,
            facts=facts,
        )
    return found


def _scores(session: Session, borrower_ids: set[int], day: dt.date) -> dict[int, int]:
    ids = sorted(borrower_ids)
    latest: dict[int, tuple[dt.date, int, int]] = {}
    for condition in among(session, CreditScore.borrower_id, ids):
        for row in session.execute(
            select(
                CreditScore.borrower_id, CreditScore.as_of, CreditScore.id, CreditScore.score
            ).where(condition, CreditScore.as_of <= day)
        ):
            key = (row.as_of, row.id, row.score)
            if row.borrower_id not in latest or key > latest[row.borrower_id]:
                latest[row.borrower_id] = key
    return {borrower: value[2] for borrower, value in latest.items()}


def _hardship(session: Session, loan_ids: Sequence[int], day: dt.date) -> set[int]:
    """Loans an open relief offer or plan in force pauses (only loans with an offer are read)."""
    with_offers: set[int] = set()
    for condition in among(session, ReliefOffer.loan_id, loan_ids):
        with_offers.update(session.scalars(select(ReliefOffer.loan_id).where(condition).distinct()))
    return {loan_id for loan_id in with_offers if open_relief(session, loan_id, day) is not None}


# --- cases ------------------------------------------------------------------------------------


def _read_open_cases(session: Session) -> list[OpenCase]:
    """Every open case, in id order."""
    # The flags as text: most cases share a handful of flag lists, each parsed once.
    columns = [
        _CASES.c.flags.cast(Text).label("flags") if name == "flags" else _CASES.c[name]
        for name in _CASE_COLUMNS
    ]
    cases = []
    for row in session.execute(
        select(*columns).where(_CASES.c.status == "open").order_by(_CASES.c.id)
    ):
        case = OpenCase(**row._mapping)
        case.flags = string_tuple(row.flags)
        case.keep()
        cases.append(case)
    return cases


def _read_open_placements(session: Session) -> list[OpenPlacement]:
    """Every placement not recalled."""
    return [
        OpenPlacement(row.id, row.case_id, row.agency_id, row.recall_on)
        for row in session.execute(
            select(
                _PLACEMENTS.c.id,
                _PLACEMENTS.c.case_id,
                _PLACEMENTS.c.agency_id,
                _PLACEMENTS.c.recall_on,
            )
            .where(_PLACEMENTS.c.recalled_on.is_(None))
            .order_by(_PLACEMENTS.c.id)
        )
    ]


def _open_new_cases(
    session: Session, strategy: Strategy, loans: Sequence[Delinquent], opening: dt.date
) -> list[OpenCase]:
    """A case for each loan in a segment of ``strategy``, numbered in the order of ``loans``
    (the rows are written with what the pass does to them, by :func:`_write_cases`)."""
    entering = [
        (loan, segment)
        for loan in loans
        if (segment := strategy.segment_for(loan.facts)) is not None
    ]
    if not entering:
        return []
    _close_actions(
        session,
        [
            {
                "business_date": opening - dt.timedelta(days=1),
                "loan_id": loan.loan_id,
                "kind": "collection_open",
                "installment": 0,
                "offset_days": loan.facts.days_past_due,
                "due_date": opening,
                "amount_minor": loan.balance_minor,
            }
            for loan, _ in entering
        ],
    )
    cases = []
    for case_id, (loan, segment) in zip(
        _new_ids(session, _CASES, len(entering)), entering, strict=True
    ):
        arm = assign_arm(strategy.name, segment, loan.loan_id).value
        cases.append(
            OpenCase(
                id=case_id,
                loan_id=loan.loan_id,
                borrower_id=loan.borrower_id,
                currency=loan.currency,
                flags=["first_payment_default"] if loan.facts.first_payment_default else [],
                status="open",
                closed_on=None,
                close_reason=None,
                strategy=strategy.name,
                strategy_version=strategy.version,
                segment=segment.name,
                arm=arm,
                steps_taken=0,
                path_since=opening,
                days_past_due=loan.facts.days_past_due,
                balance_minor=loan.balance_minor,
                max_days_past_due=loan.facts.days_past_due,
                paused=None,
                collector_id=None,
                agency_id=None,
                contact_cost_minor=0,
                updated_on=opening,
                opened={
                    "opened_on": opening,
                    "opened_segment": segment.name,
                    "opened_arm": arm,
                    "opened_balance_minor": loan.balance_minor,
                    "opened_days_past_due": loan.facts.days_past_due,
                },
            )
        )
    return cases


def _close_cases(
    session: Session,
    closing: Sequence[OpenCase],
    placements: list[OpenPlacement],
    opening: dt.date,
    result: CollectionDay,
) -> None:
    """Close the cases of loans no longer past due: their tasks are cancelled, their placements
    recalled and (unless written off) the bureau is told the loan left collections."""
    if not closing:
        return
    states = {}
    for condition in among(session, LoanStateRow.loan_id, {case.loan_id for case in closing}):
        for row in session.execute(
            select(
                LoanStateRow.loan_id,
                LoanStateRow.status,
                LoanStateRow.days_past_due,
                _BALANCE,
            ).where(condition)
        ):
            states[row.loan_id] = row
    placed: dict[int, list[OpenPlacement]] = defaultdict(list)
    for placement in placements:
        placed[placement.case_id].append(placement)
    back_to_current = []
    for case in closing:
        state = states.get(case.loan_id)
        if state is None or state.status == "written-off":
            reason = "written_off"
        elif state.status == "active":
            reason = "cured"
        else:
            reason = "paid"
        case.status = "closed"
        case.closed_on = opening
        case.close_reason = reason
        case.paused = None
        case.updated_on = opening
        if state is not None:
            case.balance_minor = state.balance_minor
            case.days_past_due = state.days_past_due
        for placement in placed.get(case.id, []):
            placement.recalled_on = opening
            placement.recall_reason = reason
            case.agency_id = None
        if reason != "written_off":
            back_to_current.append(case.loan_id)
        result.closed[reason] += 1
    for condition in among(session, _ACTIONS.c.case_id, [case.id for case in closing]):
        session.execute(
            update(_ACTIONS).where(condition, _ACTIONS.c.state == "task").values(state="cancelled")
        )
    # Back to current: the bureau no longer reports the accounts as in collections.
    _report_collections(session, back_to_current, None)


def end_placement(session: Session, case: CollectionCase, day: dt.date, reason: str) -> bool:
    """Recall the case's open placement on ``day`` for ``reason``; False when it has none."""
    placement = session.scalars(
        select(Placement).where(Placement.case_id == case.id, Placement.recalled_on.is_(None))
    ).one_or_none()
    if placement is None:
        return False
    placement.recalled_on = day
    placement.recall_reason = reason
    case.agency_id = None
    return True


def _pause(
    strategy: Strategy,
    case: OpenCase,
    loan: Delinquent,
    opening: dt.date,
    pending: set[int],
    disputed: set[int],
) -> str | None:
    stopped = sorted(STOPPED & set(case.flags))
    if stopped:
        return stopped[0]
    hardship = loan.facts.hardship or _recent_hardship(case.flags, opening)
    reason = pause_reason(
        strategy,
        promise_pending=case.id in pending,
        dispute_open=case.id in disputed,
        hardship=hardship,
    )
    if reason is not None:
        return reason.value
    if case.agency_id is not None:
        return "agency"
    return None


def _recent_hardship(flags: Sequence[str], opening: dt.date) -> bool:
    for flag in flags:
        if flag.startswith("hardship:"):
            since = dt.date.fromisoformat(flag.split(":", 1)[1])
            if (opening - since).days < HARDSHIP_PAUSE_DAYS:
                return True
    return False


@dataclass(slots=True)
class _Step:
    """A step a case takes today: its action row, and its message when it sends one."""

    case: OpenCase
    loan: Delinquent
    kind: ActionKind
    template: str | None
    action: dict[str, Any]
    message: dict[str, Any] | None = None


def _advance(
    session: Session,
    document: StrategyDocument,
    strategy: Strategy,
    cases: dict[int, OpenCase],
    delinquent: dict[int, Delinquent],
    placements: list[OpenPlacement],
    opening: dt.date,
    result: CollectionDay,
) -> list[dict[str, Any]]:
    """Refresh each case and take its step (or pause it); the steps' action rows, in the
    order taken."""
    ids = {case.id for case in cases.values()}
    pending = ids & set(
        session.scalars(
            select(Promise.case_id).where(Promise.status == PromiseStatus.PENDING.value)
        )
    )
    disputed = ids & set(
        session.scalars(select(Dispute.case_id).where(Dispute.resolved_on.is_(None)))
    )
    steps: list[_Step] = []
    for loan_id in sorted(cases):
        case, loan = cases[loan_id], delinquent[loan_id]
        case.days_past_due = loan.facts.days_past_due
        case.max_days_past_due = max(case.max_days_past_due, loan.facts.days_past_due)
        case.balance_minor = loan.balance_minor
        case.updated_on = opening
        segment = strategy.segment_for(loan.facts)
        if segment is None:
            continue
        if segment.name != case.segment or case.strategy != strategy.name:
            case.segment = segment.name
            case.arm = assign_arm(strategy.name, segment, loan_id).value
            case.steps_taken = 0
            case.path_since = opening
        case.strategy = strategy.name
        case.strategy_version = strategy.version
        paused = _pause(strategy, case, loan, opening, pending, disputed)
        if paused is not None:
            case.paused = paused
            result.paused[paused] += 1
            continue
        if case.paused is not None:
            # Coming back from a pause: the next step waits its days from today.
            case.paused = None
            case.path_since = opening
        taken = next_step(
            segment.path(Arm(case.arm)), PathPosition(case.steps_taken, case.path_since), opening
        )
        if taken is None:
            continue
        index, step = taken
        action: dict[str, Any] = {
            "case_id": case.id,
            "business_date": opening,
            "segment": segment.name,
            "arm": case.arm,
            "step": index,
            "kind": step.action.value,
            "state": "done",
            "detail": {},
            "cost_minor": strategy.cost(step.action),
            "notification_id": None,
            "collector_id": None,
            "done_at": None,
        }
        steps.append(_Step(case, loan, step.action, step.template, action))
    _send_messages(session, document, [s for s in steps if s.kind.is_message], opening)
    _make_tasks(session, [s for s in steps if s.kind.is_task], opening)
    _place(session, [s for s in steps if s.kind is ActionKind.AGENCY], placements, opening)
    _refer_to_legal(session, [s for s in steps if s.kind is ActionKind.LEGAL], opening)
    for taken_step in steps:
        action = taken_step.action
        if taken_step.kind is ActionKind.WRITE_OFF:
            action["state"] = "recommended"
            action["detail"] = {"balance_minor": taken_step.loan.balance_minor}
        case = taken_step.case
        case.steps_taken = action["step"] + 1
        case.path_since = opening
        case.contact_cost_minor += action["cost_minor"]
        result.steps[f"{action['kind']}:{action['state']}"] += 1
        if taken_step.kind is ActionKind.AGENCY and action["state"] == "done":
            result.placed += 1
    _close_actions(
        session,
        [
            {
                "business_date": opening - dt.timedelta(days=1),
                "loan_id": taken_step.loan.loan_id,
                "kind": f"collection_{taken_step.kind.value}",
                "installment": taken_step.action["step"],
                "offset_days": taken_step.loan.facts.days_past_due,
                "due_date": opening,
                "amount_minor": taken_step.loan.balance_minor,
            }
            for taken_step in steps
        ],
    )
    return [taken_step.action for taken_step in steps]


def _oldest_due(session: Session, loan_ids: Sequence[int], opening: dt.date) -> dict[int, dt.date]:
    """The due date of each loan's oldest installment unpaid and due before ``opening``: what
    a collection message says the arrears date from. Read for the loans messaged today only."""
    oldest: dict[int, dt.date] = {}
    for condition in among(session, InstallmentRow.loan_id, loan_ids):
        for loan_id, due in session.execute(
            select(InstallmentRow.loan_id, func.min(InstallmentRow.due_date))
            .where(condition, InstallmentRow.unpaid_minor > 0, InstallmentRow.due_date < opening)
            .group_by(InstallmentRow.loan_id)
        ):
            oldest[loan_id] = due
    return oldest


def _send_messages(
    session: Session, document: StrategyDocument, steps: Sequence[_Step], opening: dt.date
) -> None:
    """The outbox rows of the message steps, checked against the contact rules with each
    borrower's history as it stood before the pass."""
    if not steps:
        return
    wanted = sorted({s.case.borrower_id for s in steps})
    borrowers = borrower_records(session, wanted)
    since = dt.datetime.combine(opening, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=HISTORY_DAYS)
    history = shared_history(session, wanted, since)
    oldest = _oldest_due(session, [s.loan.loan_id for s in steps], opening)
    for s in steps:
        borrower = borrowers[s.case.borrower_id]
        facts = message_facts(
            borrower,
            s.loan.loan_id,
            Money(s.loan.arrears_minor, s.loan.currency),
            oldest.get(s.loan.loan_id, opening),
            s.loan.facts.days_past_due,
        )
        default = "demand_letter" if s.kind is ActionKind.LETTER else "collection_notice"
        message = message_row(
            borrower,
            case_id=s.case.id,
            step=s.action["step"],
            action=s.kind.value,
            template=s.template or default,
            facts=facts,
            day=opening,
            contact_profile=document.contact_profile,
            history=history.get(borrower.id, []),
        )
        s.message = message
        s.action["state"] = "sent" if message["state"] == "pending" else message["state"]
        if message["state"] == "refused":
            s.action["cost_minor"] = 0
    ids = _insert_messages(session, [s.message for s in steps if s.message is not None])
    for s in steps:
        assert s.message is not None
        s.action["notification_id"] = ids.get(s.message["dedupe_key"])
        s.action["detail"] = {
            "channel": s.message["channel"],
            "rule": s.message["rule"],
            "notification_state": s.message["state"],
        }


def _make_tasks(session: Session, steps: Sequence[_Step], opening: dt.date) -> None:
    """Call and visit tasks for their case's collector; the path's next call replaces a call
    not made (and a visit a visit): a case is in a queue once."""
    if not steps:
        return
    wanted = {(s.case.id, s.kind.value) for s in steps}
    superseded = []
    for condition in among(session, _ACTIONS.c.case_id, {s.case.id for s in steps}):
        for row in session.execute(
            select(_ACTIONS.c.id, _ACTIONS.c.case_id, _ACTIONS.c.kind, _ACTIONS.c.detail)
            .where(condition, _ACTIONS.c.state == "task")
            .order_by(_ACTIONS.c.id)
        ):
            if (row.case_id, row.kind) in wanted:
                superseded.append(
                    {
                        "id": row.id,
                        "state": "cancelled",
                        "detail": {**row.detail, "superseded_on": opening.isoformat()},
                    }
                )
    _update_rows(session, _ACTIONS, superseded)
    for s in steps:
        s.action["state"] = "task"
        s.action["collector_id"] = s.case.collector_id


def _place(
    session: Session, steps: Sequence[_Step], placements: list[OpenPlacement], day: dt.date
) -> None:
    """Place each case with the agency that has the most room and a rate for its days past
    due; a case the agencies may not take, or that none has room for, is skipped."""
    if not steps:
        return
    load = Counter(p.agency_id for p in placements if p.recalled_on is None)
    panel = list(session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.id)))
    placed = []
    for s in steps:
        case, loan, action = s.case, s.loan, s.action
        refusal = placement_refusal(case.flags)
        if refusal is not None:
            action["state"] = "skipped"
            action["detail"] = {"reason": refusal}
            continue
        agencies = [
            agency
            for agency in panel
            if load[agency.id] < agency.capacity
            # An agency whose commission starts later than the case's days past due has no rate
            # for it.
            and min(int(band["min_dpd"]) for band in agency.commission) <= loan.facts.days_past_due
        ]
        if not agencies:
            action["state"] = "skipped"
            action["detail"] = {"reason": "no_agency_capacity"}
            continue
        # The agency with the most room takes the case: placements spread over the panel.
        agency = max(agencies, key=lambda a: (a.capacity - load[a.id], -a.id))
        rate = agency.rate_on(loan.facts.days_past_due)
        load[agency.id] += 1
        placements.append(
            OpenPlacement(
                None,
                case.id,
                agency.id,
                day + dt.timedelta(days=agency.recall_days),
                values={
                    "loan_id": case.loan_id,
                    "placed_on": day,
                    "rate": str(rate),
                    "days_past_due": loan.facts.days_past_due,
                    "balance_minor": loan.balance_minor,
                },
            )
        )
        case.agency_id = agency.id
        case.collector_id = None
        action["detail"] = {"agency_id": agency.id, "rate": str(rate)}
        placed.append(case.loan_id)
    # From the first placement on, credit bureaus see the account assigned to collections
    # (Metro 2 status 93).
    _report_collections(session, placed, day)


def _refer_to_legal(session: Session, steps: Sequence[_Step], day: dt.date) -> None:
    """A legal case for each loan that has none open; the action names the legal case."""
    if not steps:
        return
    existing: dict[int, int] = {}
    for condition in among(session, _LEGAL.c.loan_id, {s.case.loan_id for s in steps}):
        for legal_id, loan_id in session.execute(
            select(_LEGAL.c.id, _LEGAL.c.loan_id)
            .where(condition, _LEGAL.c.stage != LegalStage.CLOSED.value)
            .order_by(_LEGAL.c.id)
        ):
            existing.setdefault(loan_id, legal_id)
    referred = []
    for s in steps:
        found = existing.get(s.case.loan_id)
        if found is not None:
            s.action["state"] = "skipped"
            s.action["detail"] = {"reason": "legal_case_open", "legal_case_id": found}
        else:
            referred.append(s)
    if not referred:
        return
    ids = session.scalars(
        insert(_LEGAL).returning(_LEGAL.c.id, sort_by_parameter_order=True),
        [
            {
                "loan_id": s.case.loan_id,
                "borrower_id": s.case.borrower_id,
                "case_id": s.case.id,
                "currency": s.case.currency,
                "stage": LegalStage.REFERRED.value,
                "preservation": "none",
                "opened_on": day,
            }
            for s in referred
        ],
    ).all()
    for s, legal_id in zip(referred, ids, strict=True):
        s.action["detail"] = {"legal_case_id": legal_id}


def _recall(
    cases: dict[int, OpenCase],
    placements: list[OpenPlacement],
    opening: dt.date,
    result: CollectionDay,
) -> None:
    by_case = {case.id: case for case in cases.values()}
    for placement in placements:
        case = by_case.get(placement.case_id)
        if placement.recalled_on is not None or case is None:
            continue
        excluded = placement_refusal(
            [flag.split(":", 1)[0] for flag in case.flags]
            + ([case.paused] if case.paused in ("dispute", "hardship") else [])
        )
        if excluded is not None:
            reason = excluded
        elif placement.recall_on <= opening:
            reason = "period_end"
        else:
            continue
        placement.recalled_on = opening
        placement.recall_reason = reason
        case.agency_id = None
        case.path_since = opening
        result.recalled += 1


def report_in_collections(session: Session, loan_id: int, day: dt.date) -> None:
    """Tell credit bureaus the account is assigned to collections (Metro 2 status 93), from
    the first placement on."""
    account = session.get(BureauAccount, loan_id)
    if account is None or account.collections_on is None:
        assign_to_collections(session, loan_id, day)


def _report_collections(session: Session, loan_ids: Sequence[int], day: dt.date | None) -> None:
    """The bureau accounts of ``loan_ids`` in collections from ``day`` (an account already in
    collections keeps its date), or out of collections when ``day`` is None; an account is
    created with its defaults on first use, as :func:`tenor.bureau.records.account` does."""
    accounts: dict[int, BureauAccount] = {}
    for condition in among(session, BureauAccount.loan_id, loan_ids):
        accounts.update(
            (account.loan_id, account)
            for account in session.scalars(select(BureauAccount).where(condition))
        )
    for loan_id in loan_ids:
        account = accounts.get(loan_id)
        if account is None:
            account = accounts[loan_id] = BureauAccount(loan_id=loan_id)
            session.add(account)
        if day is None or account.collections_on is None:
            account.collections_on = day


# --- writes -----------------------------------------------------------------------------------


def _write_cases(session: Session, cases: Sequence[OpenCase]) -> None:
    """Write the cases the pass opened, in id order, and what it changed of the others: one
    update per set of changed columns."""
    _insert_rows(
        session,
        _CASES,
        [case.row() for case in sorted(cases, key=lambda c: c.id) if case.opened is not None],
    )
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for case in cases:
        if case.opened is not None:
            continue
        changes = case.changes()
        if changes:
            by_columns[tuple(changes)].append({"id": case.id, **changes})
    for rows in by_columns.values():
        _update_rows(session, _CASES, rows)


def _write_placements(session: Session, placements: Sequence[OpenPlacement]) -> None:
    """Recall the placements the pass recalled, then add those it made (in the order made)."""
    _update_rows(
        session,
        _PLACEMENTS,
        [
            {"id": p.id, "recalled_on": p.recalled_on, "recall_reason": p.recall_reason}
            for p in placements
            if p.id is not None and p.recalled_on is not None
        ],
    )
    _insert_rows(
        session,
        _PLACEMENTS,
        [
            {
                "case_id": p.case_id,
                "agency_id": p.agency_id,
                "recall_on": p.recall_on,
                "recalled_on": p.recalled_on,
                "recall_reason": p.recall_reason,
                **p.values,
            }
            for p in placements
            if p.id is None
        ],
    )


def _new_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` ids for new rows of ``table``, in increasing order: those inserting the rows
    one after another would give them (PostgreSQL: the next values of the id's sequence;
    SQLite: the ids after the largest)."""
    if session.get_bind().dialect.name == "postgresql":
        return sorted(
            session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :count)"
                ),
                {"table": table.name, "count": count},
            )
        )
    last = session.scalar(select(func.max(table.c.id))) or 0
    return list(range(last + 1, last + 1 + count))


def _insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (each with the same columns: every column whose default is not NULL) in
    their order, so that ids follow it: COPY on PostgreSQL, one executemany elsewhere."""
    if not rows:
        return
    # What the rows refer to is written first.
    session.flush()
    insert_rows(session.connection(), table, rows)


def _update_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Set the columns of ``rows`` (each: ``id`` and the same columns) on the rows of ``table``
    with those ids: on PostgreSQL one UPDATE from a temporary table filled by COPY, elsewhere
    one executemany."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != "id"]
    session.flush()
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({name: bindparam(f"b_{name}") for name in columns}),
            [{f"b_{name}": value for name, value in row.items()} for row in rows],
        )
        return
    changes = f"{table.name}_changes"
    listed = ", ".join(columns)
    connection.execute(
        text(
            f"CREATE TEMPORARY TABLE {changes} ON COMMIT DROP AS "
            f"SELECT id, {listed} FROM {table.name} WITH NO DATA"
        )
    )
    copy_bound(connection, table, ["id", *columns], rows, target=changes)
    assignments = ", ".join(f"{name} = changes.{name}" for name in columns)
    connection.execute(
        text(
            f"UPDATE {table.name} SET {assignments} FROM {changes} AS changes "
            f"WHERE {table.name}.id = changes.id"
        )
    )
    connection.execute(text(f"DROP TABLE {changes}"))


def _insert_messages(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    if not rows:
        return {}
    keys = [row["dedupe_key"] for row in rows]
    existing: set[str] = set()
    for condition in among(session, Notification.dedupe_key, keys):
        existing.update(session.scalars(select(Notification.dedupe_key).where(condition)))
    _insert_rows(
        session, _NOTIFICATIONS, [row for row in rows if row["dedupe_key"] not in existing]
    )
    ids: dict[str, int] = {}
    for condition in among(session, Notification.dedupe_key, keys):
        ids.update(
            dict(
                session.execute(
                    select(Notification.dedupe_key, Notification.id).where(condition)
                ).all()
            )
        )
    return ids


def _close_actions(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    seen: set[tuple[Any, ...]] = set()
    dates = {r["business_date"] for r in rows}
    # Only these kinds can collide: the day's reminder actions on the same loans are not read.
    kinds = {r["kind"] for r in rows}
    for condition in among(session, CloseAction.loan_id, {r["loan_id"] for r in rows}):
        seen.update(
            tuple(row)
            for row in session.execute(
                select(
                    CloseAction.business_date,
                    CloseAction.loan_id,
                    CloseAction.kind,
                    CloseAction.installment,
                ).where(
                    and_(
                        CloseAction.business_date.in_(dates),
                        CloseAction.kind.in_(kinds),
                        condition,
                    )
                )
            )
        )
    _insert_rows(
        session,
        _CLOSE_ACTIONS,
        [
            row
            for row in rows
            if (row["business_date"], row["loan_id"], row["kind"], row["installment"]) not in seen
        ],
    )
