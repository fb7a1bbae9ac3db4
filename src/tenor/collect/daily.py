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
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import and_, func, insert, select
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
    Segment,
    Strategy,
    assign_arm,
    judge_promise,
    next_step,
    pause_reason,
    placement_refusal,
)
from tenor.core.money import Money
from tenor.notify.tables import Notification
from tenor.relief.tables import CreditScore, ReliefOffer
from tenor.relief.workflow import open_relief
from tenor.store.models import Borrower, InstallmentRow, Loan, LoanStateRow, Product

#: Flags after which a case follows no path: nobody is asked to pay through collections (an
#: upheld dispute waits for the ledger's correction, which cures or closes the case).
STOPPED: Final = frozenset({"deceased", "bankruptcy", "dispute_upheld"})

#: How long a hardship outcome pauses a case when no relief is opened for it.
HARDSHIP_PAUSE_DAYS: Final = 14


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

    loan: Loan
    state: LoanStateRow
    product: str
    oldest_due: dt.date
    facts: CaseFacts

    @property
    def balance_minor(self) -> int:
        """What the loan still owes."""
        return self.facts.balance_minor


def balance_of(state: LoanStateRow) -> int:
    """A loan's whole outstanding balance, in minor units."""
    return (
        state.outstanding_principal_minor
        + state.outstanding_interest_minor
        + state.outstanding_fees_minor
        + state.outstanding_penalties_minor
    )


def run_collections(session: Session, day: dt.date) -> CollectionDay:
    """The collections pass of business date ``day``, in ``session``'s transaction."""
    opening = day + dt.timedelta(days=1)
    document, version = strategy_in_force(session)
    strategy = document.strategy(version)
    result = CollectionDay()
    _judge_promises(session, document, strategy, day, result)
    delinquent = _delinquent(session, opening)
    cases = {
        case.loan_id: case
        for case in session.scalars(
            select(CollectionCase)
            .where(CollectionCase.status == "open")
            .order_by(CollectionCase.id)
        )
    }
    for loan_id, case in list(cases.items()):
        if loan_id not in delinquent:
            _close_case(session, case, opening, result)
            del cases[loan_id]
    for loan_id, loan in delinquent.items():
        if loan_id not in cases:
            opened = _open_case(session, strategy, loan, opening)
            if opened is not None:
                cases[loan_id] = opened
                result.opened += 1
    session.flush()
    _advance(session, document, strategy, cases, delinquent, opening, result)
    _recall(session, cases, opening, result)
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
        select(LoanStateRow, Loan, Product.code)
        .join(Loan, Loan.id == LoanStateRow.loan_id)
        .join(Product, Product.id == Loan.product_id)
        .where(LoanStateRow.status == "active", LoanStateRow.days_past_due >= 1)
        # Cases open in loan order, so every run numbers them the same.
        .order_by(LoanStateRow.loan_id)
    ).all()
    if not rows:
        return {}
    ids = [state.loan_id for state, _, _ in rows]
    oldest: dict[int, dt.date] = {}
    paid_ever: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for loan_id, due in session.execute(
            select(InstallmentRow.loan_id, func.min(InstallmentRow.due_date))
            .where(
                InstallmentRow.loan_id.in_(chunk),
                InstallmentRow.unpaid_minor > 0,
                InstallmentRow.due_date < opening,
            )
            .group_by(InstallmentRow.loan_id)
        ):
            oldest[loan_id] = due
        paid_ever.update(
            session.scalars(
                select(InstallmentRow.loan_id).where(
                    InstallmentRow.loan_id.in_(chunk), InstallmentRow.settled_on.is_not(None)
                )
            )
        )
    scores = _scores(session, {loan.borrower_id for _, loan, _ in rows}, opening)
    hardship = _hardship(session, ids, opening)
    found: dict[int, Delinquent] = {}
    for state, loan, product in rows:
        facts = CaseFacts(
            loan_id=loan.id,
            days_past_due=state.days_past_due,
            balance_minor=balance_of(state),
            product=product,
            score=scores.get(loan.borrower_id),
            # A first-payment default: the loan is past due and has never settled an
            # installment (its first one is the one missed).
            first_payment_default=loan.id not in paid_ever and state.repaid_minor == 0,
            hardship=loan.id in hardship,
        )
        found[loan.id] = Delinquent(loan, state, product, oldest.get(loan.id, opening), facts)
    return found


def _scores(session: Session, borrower_ids: set[int], day: dt.date) -> dict[int, int]:
    ids = sorted(borrower_ids)
    latest: dict[int, tuple[dt.date, int, int]] = {}
    for start in range(0, len(ids), 500):
        for row in session.execute(
            select(
                CreditScore.borrower_id, CreditScore.as_of, CreditScore.id, CreditScore.score
            ).where(CreditScore.borrower_id.in_(ids[start : start + 500]), CreditScore.as_of <= day)
        ):
            key = (row.as_of, row.id, row.score)
            if row.borrower_id not in latest or key > latest[row.borrower_id]:
                latest[row.borrower_id] = key
    return {borrower: value[2] for borrower, value in latest.items()}


def _hardship(session: Session, loan_ids: Sequence[int], day: dt.date) -> set[int]:
    """Loans an open relief offer or plan in force pauses (only loans with an offer are read)."""
    with_offers: set[int] = set()
    for start in range(0, len(loan_ids), 500):
        with_offers.update(
            session.scalars(
                select(ReliefOffer.loan_id)
                .where(ReliefOffer.loan_id.in_(loan_ids[start : start + 500]))
                .distinct()
            )
        )
    return {loan_id for loan_id in with_offers if open_relief(session, loan_id, day) is not None}


# --- cases ------------------------------------------------------------------------------------


def _open_case(
    session: Session, strategy: Strategy, loan: Delinquent, opening: dt.date
) -> CollectionCase | None:
    segment = strategy.segment_for(loan.facts)
    if segment is None:
        return None
    case = CollectionCase(
        loan_id=loan.loan.id,
        borrower_id=loan.loan.borrower_id,
        currency=loan.loan.currency,
        status="open",
        opened_on=opening,
        strategy=strategy.name,
        strategy_version=strategy.version,
        segment=segment.name,
        arm=assign_arm(strategy.name, segment, loan.loan.id).value,
        opened_segment=segment.name,
        opened_arm=assign_arm(strategy.name, segment, loan.loan.id).value,
        steps_taken=0,
        path_since=opening,
        days_past_due=loan.facts.days_past_due,
        balance_minor=loan.balance_minor,
        opened_balance_minor=loan.balance_minor,
        opened_days_past_due=loan.facts.days_past_due,
        max_days_past_due=loan.facts.days_past_due,
        flags=["first_payment_default"] if loan.facts.first_payment_default else [],
        contact_cost_minor=0,
        updated_on=opening,
    )
    session.add(case)
    _close_actions(
        session,
        [
            {
                "business_date": opening - dt.timedelta(days=1),
                "loan_id": loan.loan.id,
                "kind": "collection_open",
                "installment": 0,
                "offset_days": loan.facts.days_past_due,
                "due_date": opening,
                "amount_minor": loan.balance_minor,
            }
        ],
    )
    return case


def _close_case(
    session: Session, case: CollectionCase, opening: dt.date, result: CollectionDay
) -> None:
    state = session.get(LoanStateRow, case.loan_id)
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
        case.balance_minor = balance_of(state)
        case.days_past_due = state.days_past_due
    for task in session.scalars(
        select(CaseAction).where(CaseAction.case_id == case.id, CaseAction.state == "task")
    ):
        task.state = "cancelled"
    end_placement(session, case, opening, reason)
    if reason != "written_off":
        # Back to current: the bureau no longer reports the account as in collections.
        assign_to_collections(session, case.loan_id, None)
    result.closed[reason] += 1


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
    session: Session,
    strategy: Strategy,
    case: CollectionCase,
    loan: Delinquent,
    opening: dt.date,
    pending: set[int],
    disputed: set[int],
) -> str | None:
    stopped = sorted(STOPPED & set(case.flags))
    if stopped:
        return stopped[0]
    hardship = loan.facts.hardship or _recent_hardship(case, opening)
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


def _recent_hardship(case: CollectionCase, opening: dt.date) -> bool:
    for flag in case.flags:
        if flag.startswith("hardship:"):
            since = dt.date.fromisoformat(flag.split(":", 1)[1])
            if (opening - since).days < HARDSHIP_PAUSE_DAYS:
                return True
    return False


def _advance(
    session: Session,
    document: StrategyDocument,
    strategy: Strategy,
    cases: dict[int, CollectionCase],
    delinquent: dict[int, Delinquent],
    opening: dt.date,
    result: CollectionDay,
) -> None:
    case_ids = [case.id for case in cases.values()]
    pending = (
        set(
            session.scalars(
                select(Promise.case_id).where(
                    Promise.case_id.in_(case_ids), Promise.status == PromiseStatus.PENDING.value
                )
            )
        )
        if case_ids
        else set()
    )
    disputed = (
        set(
            session.scalars(
                select(Dispute.case_id).where(
                    Dispute.case_id.in_(case_ids), Dispute.resolved_on.is_(None)
                )
            )
        )
        if case_ids
        else set()
    )
    borrowers = (
        {
            b.id: b
            for b in session.scalars(
                select(Borrower).where(Borrower.id.in_({c.borrower_id for c in cases.values()}))
            )
        }
        if cases
        else {}
    )
    since = dt.datetime.combine(opening, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=HISTORY_DAYS)
    history = shared_history(session, borrowers, since)
    messages: list[dict[str, Any]] = []
    actions: list[tuple[CaseAction, dict[str, Any] | None]] = []
    close_rows: list[dict[str, Any]] = []
    for loan_id, case in sorted(cases.items()):
        loan = delinquent[loan_id]
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
        paused = _pause(session, strategy, case, loan, opening, pending, disputed)
        if paused is not None:
            if case.paused != paused:
                case.paused = paused
            result.paused[paused] += 1
            continue
        if case.paused is not None:
            # Coming back from a pause: the next step waits its days from today.
            case.paused = None
            case.path_since = opening
        path = segment.path(Arm(case.arm))
        taken = next_step(path, PathPosition(case.steps_taken, case.path_since), opening)
        if taken is None:
            continue
        index, step = taken
        action, message = _take_step(
            session,
            document,
            strategy,
            segment,
            case,
            loan,
            index,
            step.action,
            step.template,
            borrowers[case.borrower_id],
            history,
            opening,
        )
        case.steps_taken = index + 1
        case.path_since = opening
        case.contact_cost_minor += action.cost_minor
        actions.append((action, message))
        result.steps[f"{step.action.value}:{action.state}"] += 1
        if action.kind == ActionKind.AGENCY.value and action.state == "done":
            result.placed += 1
        close_rows.append(
            {
                "business_date": opening - dt.timedelta(days=1),
                "loan_id": loan_id,
                "kind": f"collection_{step.action.value}",
                "installment": index,
                "offset_days": loan.facts.days_past_due,
                "due_date": opening,
                "amount_minor": loan.balance_minor,
            }
        )
    if actions:
        messages = [message for _, message in actions if message is not None]
        ids = _insert_messages(session, messages)
        for action, message in actions:
            if message is not None:
                action.notification_id = ids.get(message["dedupe_key"])
                action.detail = {**action.detail, "notification_state": message["state"]}
            session.add(action)
    _close_actions(session, close_rows)


def _take_step(
    session: Session,
    document: StrategyDocument,
    strategy: Strategy,
    segment: Segment,
    case: CollectionCase,
    loan: Delinquent,
    index: int,
    kind: ActionKind,
    template: str | None,
    borrower: Borrower,
    history: dict[int, list[Any]],
    opening: dt.date,
) -> tuple[CaseAction, dict[str, Any] | None]:
    action = CaseAction(
        case_id=case.id,
        business_date=opening,
        segment=segment.name,
        arm=case.arm,
        step=index,
        kind=kind.value,
        state="done",
        detail={},
        cost_minor=strategy.cost(kind),
        collector_id=None,
    )
    message: dict[str, Any] | None = None
    if kind.is_message:
        facts = message_facts(
            borrower,
            loan.loan.id,
            Money(loan.state.arrears_minor, loan.loan.currency),
            loan.oldest_due,
            loan.facts.days_past_due,
        )
        default = "demand_letter" if kind is ActionKind.LETTER else "collection_notice"
        message = message_row(
            borrower,
            case_id=case.id,
            step=index,
            action=kind.value,
            template=template or default,
            facts=facts,
            day=opening,
            contact_profile=document.contact_profile,
            history=history.get(borrower.id, []),
        )
        action.state = "sent" if message["state"] == "pending" else message["state"]
        action.detail = {"channel": message["channel"], "rule": message["rule"]}
        if message["state"] == "refused":
            action.cost_minor = 0
    elif kind.is_task:
        action.state = "task"
        action.collector_id = case.collector_id
        # The path's next call replaces a call not made: a case is in a queue once.
        for earlier in session.scalars(
            select(CaseAction).where(
                CaseAction.case_id == case.id,
                CaseAction.state == "task",
                CaseAction.kind == kind.value,
            )
        ):
            earlier.state = "cancelled"
            earlier.detail = {**earlier.detail, "superseded_on": opening.isoformat()}
    elif kind is ActionKind.AGENCY:
        _place(session, case, loan, action, opening)
    elif kind is ActionKind.LEGAL:
        _refer_to_legal(session, case, loan, action, opening)
    elif kind is ActionKind.WRITE_OFF:
        action.state = "recommended"
        action.detail = {"balance_minor": loan.balance_minor}
    return action, message


def _place(
    session: Session, case: CollectionCase, loan: Delinquent, action: CaseAction, day: dt.date
) -> None:
    refusal = placement_refusal(case.flags)
    if refusal is not None:
        action.state = "skipped"
        action.detail = {"reason": refusal}
        return
    open_counts = dict(
        session.execute(
            select(Placement.agency_id, func.count())
            .where(Placement.recalled_on.is_(None))
            .group_by(Placement.agency_id)
        ).all()
    )
    agencies = [
        agency
        for agency in session.scalars(
            select(Agency).where(Agency.active.is_(True)).order_by(Agency.id)
        )
        if open_counts.get(agency.id, 0) < agency.capacity
        # An agency whose commission starts later than the case's days past due has no rate
        # for it.
        and min(int(band["min_dpd"]) for band in agency.commission) <= loan.facts.days_past_due
    ]
    if not agencies:
        action.state = "skipped"
        action.detail = {"reason": "no_agency_capacity"}
        return
    # The agency with the most room takes the case: placements spread over the panel.
    agency = max(agencies, key=lambda a: (a.capacity - open_counts.get(a.id, 0), -a.id))
    rate = agency.rate_on(loan.facts.days_past_due)
    session.add(
        Placement(
            case_id=case.id,
            loan_id=case.loan_id,
            agency_id=agency.id,
            placed_on=day,
            recall_on=day + dt.timedelta(days=agency.recall_days),
            rate=str(rate),
            days_past_due=loan.facts.days_past_due,
            balance_minor=loan.balance_minor,
        )
    )
    case.agency_id = agency.id
    case.collector_id = None
    action.detail = {"agency_id": agency.id, "rate": str(rate)}
    report_in_collections(session, case.loan_id, day)


def _refer_to_legal(
    session: Session, case: CollectionCase, loan: Delinquent, action: CaseAction, day: dt.date
) -> None:
    existing = session.scalars(
        select(LegalCase).where(
            LegalCase.loan_id == case.loan_id, LegalCase.stage != LegalStage.CLOSED.value
        )
    ).first()
    if existing is not None:
        action.state = "skipped"
        action.detail = {"reason": "legal_case_open", "legal_case_id": existing.id}
        return
    legal = LegalCase(
        loan_id=case.loan_id,
        borrower_id=case.borrower_id,
        case_id=case.id,
        currency=case.currency,
        stage=LegalStage.REFERRED.value,
        preservation="none",
        opened_on=day,
    )
    session.add(legal)
    session.flush()
    action.detail = {"legal_case_id": legal.id}


def _recall(
    session: Session, cases: dict[int, CollectionCase], opening: dt.date, result: CollectionDay
) -> None:
    by_case = {case.id: case for case in cases.values()}
    for placement in session.scalars(select(Placement).where(Placement.recalled_on.is_(None))):
        case = by_case.get(placement.case_id)
        if case is None:
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


# --- writes -----------------------------------------------------------------------------------


def _insert_messages(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    if not rows:
        return {}
    keys = [row["dedupe_key"] for row in rows]
    known = select(Notification.dedupe_key).where(Notification.dedupe_key.in_(keys))
    existing = set(session.scalars(known))
    fresh = [row for row in rows if row["dedupe_key"] not in existing]
    if fresh:
        session.execute(insert(Notification), fresh)
    return dict(
        session.execute(
            select(Notification.dedupe_key, Notification.id).where(
                Notification.dedupe_key.in_(keys)
            )
        ).all()
    )


def _close_actions(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    seen = {
        (row.business_date, row.loan_id, row.kind, row.installment)
        for row in session.execute(
            select(
                CloseAction.business_date,
                CloseAction.loan_id,
                CloseAction.kind,
                CloseAction.installment,
            ).where(
                and_(
                    CloseAction.business_date.in_({r["business_date"] for r in rows}),
                    CloseAction.loan_id.in_({r["loan_id"] for r in rows}),
                )
            )
        )
    }
    fresh = [
        row
        for row in rows
        if (row["business_date"], row["loan_id"], row["kind"], row["installment"]) not in seen
    ]
    if fresh:
        session.execute(insert(CloseAction), fresh)
