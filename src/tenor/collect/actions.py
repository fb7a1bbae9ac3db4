"""Collections' writes: strategies, collectors, agencies, contact outcomes, promises, disputes,
placements and recalls, legal cases, write-offs and recoveries.

API routes and CLI commands call these; each runs in one transaction and either does all it
says or raises a domain error and changes nothing. Configuration changes (a strategy version,
a collector, an agency) and every legal step are leaves of the transparency log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.actions import loans as loan_actions
from tenor.actions.loans import charge
from tenor.audit.log import record_change
from tenor.collect.contacts import check_contact
from tenor.collect.daily import end_placement, report_in_collections
from tenor.collect.strategy import StrategyDocument, parse_strategy, strategy_in_force
from tenor.collect.tables import (
    Agency,
    CaseAction,
    CollectionCase,
    CollectionStrategyRow,
    Collector,
    ContactOutcome,
    Dispute,
    LegalCase,
    LegalCost,
    LegalDocument,
    LegalEvent,
    Placement,
    Promise,
)
from tenor.core.account import ChargeKind, WrittenOff
from tenor.core.collection import (
    CommissionBand,
    InvalidTransitionError,
    Judgment,
    LegalStage,
    LegalState,
    OutcomeCode,
    Preservation,
    PromiseStatus,
    legal_transition,
    placement_refusal,
    preservation_transition,
)
from tenor.core.contact import Channel, Refused
from tenor.core.errors import DomainError, InvalidArgumentError
from tenor.core.money import Money
from tenor.store.database import Database
from tenor.store.journal import Appended, NotFoundError, append_in, business_date
from tenor.store.models import Borrower, LoanStateRow, utc_now

#: How far ahead a promise to pay may be dated.
MAX_PROMISE_DAYS: Final = 60

#: Where legal documents are stored, content-addressed; TENOR_DOCUMENTS overrides.
DEFAULT_DOCUMENTS: Final = "tenor-documents"

#: The finest commission rate: a millionth (a placement keeps its rate as text).
RATE_PLACES: Final = Decimal("0.000001")

#: Channels an outcome may be recorded for.
OUTCOME_CHANNELS: Final = ("call", "visit", "sms", "email", "push")


class ContactRefusedError(DomainError):
    """The contact rules forbid the contact an outcome reports."""

    code = "contact_refused"


class CaseClosedError(DomainError):
    """The collection case is closed: nothing more is recorded on it."""

    code = "case_closed"


def documents_dir() -> Path:
    """The directory legal documents are stored in."""
    return Path(os.environ.get("TENOR_DOCUMENTS", DEFAULT_DOCUMENTS))


# --- configuration ----------------------------------------------------------------------------


def save_strategy(db: Database, document: Any, *, actor: str) -> CollectionStrategyRow:
    """Validate a strategy document and save it as the next version of its name, in force."""
    parsed = parse_strategy(document)
    with db.transaction() as session:
        latest = session.scalar(
            select(CollectionStrategyRow.version)
            .where(CollectionStrategyRow.name == parsed.name)
            .order_by(CollectionStrategyRow.version.desc())
            .limit(1)
        )
        row = CollectionStrategyRow(
            name=parsed.name,
            version=(latest or 0) + 1,
            document=parsed.model_dump(mode="json"),
            created_by=actor,
        )
        session.add(row)
        session.flush()
        record_change(
            session,
            "strategy",
            f"collection-strategies/{row.name}/v{row.version}",
            {"by": actor, **row.document},
        )
        session.expunge(row)
    return row


def current_strategy(db: Database) -> tuple[StrategyDocument, int]:
    """The strategy in force and its version."""
    with db.reading() as session:
        return strategy_in_force(session)


@dataclass(frozen=True, slots=True)
class CollectorSpec:
    """What defines a collector."""

    name: str
    team: str
    languages: Sequence[str]
    products: Sequence[str] = ()
    stages: Sequence[str] = ()
    capacity: int = 200
    time_zone: str = "Asia/Shanghai"
    work_start: int = 9
    work_end: int = 18
    field: bool = False


def add_collector(db: Database, spec: CollectorSpec, *, actor: str) -> Collector:
    """Register a collector."""
    if not spec.name.strip():
        raise InvalidArgumentError("a collector needs a name")
    if spec.capacity < 1:
        raise InvalidArgumentError("a collector's capacity must be at least 1 case")
    if not 0 <= spec.work_start < spec.work_end <= 24:
        raise InvalidArgumentError("working hours must satisfy 0 <= start < end <= 24")
    if not spec.languages:
        raise InvalidArgumentError("a collector speaks at least one language (zh-CN, en)")
    try:
        ZoneInfo(spec.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgumentError(f"unknown time zone {spec.time_zone!r}") from None
    with db.transaction() as session:
        row = Collector(
            name=spec.name.strip(),
            team=spec.team,
            languages=list(spec.languages),
            products=list(spec.products),
            stages=list(spec.stages),
            capacity=spec.capacity,
            time_zone=spec.time_zone,
            work_start=spec.work_start,
            work_end=spec.work_end,
            field=spec.field,
            active=True,
        )
        session.add(row)
        session.flush()
        record_change(
            session,
            "collector",
            f"collectors/{row.id}",
            {"by": actor, "team": row.team, "capacity": row.capacity, "field": row.field},
        )
        session.expunge(row)
    return row


def add_agency(
    db: Database,
    *,
    name: str,
    commission: Sequence[CommissionBand],
    recall_days: int,
    capacity: int,
    actor: str,
) -> Agency:
    """Register a collection agency with its commission bands (by days past due at placement)."""
    if not name.strip():
        raise InvalidArgumentError("an agency needs a name")
    if not commission:
        raise InvalidArgumentError("an agency needs at least one commission band")
    if recall_days < 1 or capacity < 1:
        raise InvalidArgumentError("recall days and capacity must be at least 1")
    starts = [band.min_dpd for band in commission]
    if len(set(starts)) != len(starts) or min(starts) < 1:
        # Two bands from one day would leave a placement's rate undecided (the close refuses).
        raise InvalidArgumentError("commission bands start on distinct days, from 1 day past due")
    if any(band.rate != band.rate.quantize(RATE_PLACES) for band in commission):
        raise InvalidArgumentError("a commission rate has at most 6 decimal places")
    with db.transaction() as session:
        if session.scalar(select(Agency.id).where(Agency.name == name.strip())) is not None:
            raise InvalidArgumentError(f"an agency called {name.strip()!r} exists already")
        row = Agency(
            name=name.strip(),
            commission=[
                {
                    "min_dpd": band.min_dpd,
                    "rate": f"{band.rate.quantize(RATE_PLACES).normalize():f}",
                }
                for band in sorted(commission, key=lambda b: b.min_dpd)
            ],
            recall_days=recall_days,
            capacity=capacity,
            active=True,
        )
        session.add(row)
        session.flush()
        record_change(
            session,
            "agency",
            f"agencies/{row.id}",
            {"by": actor, "name": row.name, "commission": row.commission, "recall": recall_days},
        )
        session.expunge(row)
    return row


# --- outcomes, promises, disputes -------------------------------------------------------------


def _open_case(session: Session, case_id: int) -> CollectionCase:
    case = session.get(CollectionCase, case_id)
    if case is None:
        raise NotFoundError(f"collection case {case_id} does not exist")
    if case.status != "open":
        raise CaseClosedError(f"collection case {case_id} is {case.close_reason or 'closed'}")
    return case


@dataclass(frozen=True, slots=True)
class OutcomeRequest:
    """A contact's outcome as a collector or an agency reports it."""

    code: OutcomeCode
    channel: str = "call"
    at: dt.datetime | None = None
    amount: Decimal | None = None
    promise_date: dt.date | None = None
    note: str | None = None
    collector_id: int | None = None
    agency_id: int | None = None


@dataclass(frozen=True, slots=True)
class RecordedOutcome:
    """What recording an outcome wrote."""

    outcome_id: int
    case_id: int
    code: str
    promise_id: int | None
    dispute_id: int | None


def record_outcome(
    db: Database, case_id: int, request: OutcomeRequest, *, actor: str
) -> RecordedOutcome:
    """Record a contact's outcome on a case, with what it implies: a promise to pay, a dispute
    (the case pauses), hardship (the case pauses; relief can be offered), a deceased or bankrupt
    borrower (collection stops, the agency placement is recalled).

    A call or a visit the contact rules forbid at that instant is refused, and nothing is
    recorded; the error says which rule and when the contact is next allowed.
    """
    if request.channel not in OUTCOME_CHANNELS:
        raise InvalidArgumentError(f"channel must be one of {', '.join(OUTCOME_CHANNELS)}")
    at = request.at or utc_now()
    if at.tzinfo is None:
        raise InvalidArgumentError("the contact's time needs a UTC offset or time zone")
    is_promise = request.code is OutcomeCode.PROMISE_TO_PAY
    if is_promise and (request.amount is None or request.promise_date is None):
        raise InvalidArgumentError("a promise to pay needs --amount and --date")
    if not is_promise and (request.amount is not None or request.promise_date is not None):
        raise InvalidArgumentError("only a promise to pay carries an amount and a date")
    with db.transaction() as session:
        case = _open_case(session, case_id)
        if request.agency_id is not None and case.agency_id != request.agency_id:
            raise NotFoundError(f"collection case {case_id} does not exist")
        collector_id = request.collector_id
        if collector_id is not None and session.get(Collector, collector_id) is None:
            raise NotFoundError(f"collector {request.collector_id} does not exist")
        today = business_date(session)
        borrower = session.get(Borrower, case.borrower_id)
        assert borrower is not None
        if request.channel in ("call", "visit"):
            document, _ = strategy_in_force(session)
            decision = check_contact(
                session,
                borrower,
                case.loan_id,
                Channel(request.channel),
                at,
                document.contact_profile,
            )
            if isinstance(decision, Refused):
                when = (
                    f"; next allowed at {decision.next_allowed_at.isoformat()}"
                    if decision.next_allowed_at is not None
                    else ""
                )
                raise ContactRefusedError(
                    f"the {request.channel} is not allowed: {decision.rule}: "
                    f"{decision.reason}{when}"
                )
        task = session.scalars(
            select(CaseAction)
            .where(
                CaseAction.case_id == case.id,
                CaseAction.state == "task",
                CaseAction.kind == request.channel,
            )
            .order_by(CaseAction.id)
            .limit(1)
        ).one_or_none()
        outcome = ContactOutcome(
            case_id=case.id,
            loan_id=case.loan_id,
            borrower_id=case.borrower_id,
            at=at,
            business_date=today,
            channel=request.channel,
            code=request.code.value,
            collector_id=request.collector_id,
            agency_id=request.agency_id,
            note=request.note,
            action_id=None if task is None else task.id,
            actor=actor,
        )
        session.add(outcome)
        session.flush()
        if task is not None:
            task.state = "done"
            task.done_at = at
            task.detail = {**task.detail, "outcome": request.code.value}
        promise_id = dispute_id = None
        if is_promise:
            promise_id = _promise(session, case, outcome, request, today)
        elif request.code is OutcomeCode.DISPUTE:
            dispute = Dispute(
                case_id=case.id, loan_id=case.loan_id, opened_on=today, reason=request.note
            )
            session.add(dispute)
            session.flush()
            dispute_id = dispute.id
            case.paused = "dispute"
        elif request.code is OutcomeCode.HARDSHIP:
            case.flags = [*case.flags, f"hardship:{today.isoformat()}"]
            case.paused = "hardship"
        elif request.code.stops_collection:
            case.flags = sorted({*case.flags, request.code.value})
            case.paused = request.code.value
        if (
            request.code in (OutcomeCode.DISPUTE, OutcomeCode.HARDSHIP)
            or request.code.stops_collection
        ):
            end_placement(session, case, today, request.code.value)
        return RecordedOutcome(outcome.id, case.id, request.code.value, promise_id, dispute_id)


def _promise(
    session: Session,
    case: CollectionCase,
    outcome: ContactOutcome,
    request: OutcomeRequest,
    today: dt.date,
) -> int:
    assert request.amount is not None
    assert request.promise_date is not None
    amount = Money.of(request.amount, case.currency)
    if not amount.is_positive:
        raise InvalidArgumentError("a promise to pay must be for a positive amount")
    if amount.minor > case.balance_minor:
        raise InvalidArgumentError(
            f"the promise ({amount.format()}) is more than the loan owes "
            f"({Money(case.balance_minor, case.currency).format()})"
        )
    if request.promise_date < today:
        raise InvalidArgumentError(
            f"a promise to pay cannot be dated before the business date {today.isoformat()}"
        )
    if (request.promise_date - today).days > MAX_PROMISE_DAYS:
        raise InvalidArgumentError(f"a promise to pay is at most {MAX_PROMISE_DAYS} days ahead")
    for earlier in session.scalars(
        select(Promise).where(
            Promise.case_id == case.id, Promise.status == PromiseStatus.PENDING.value
        )
    ):
        # A new promise replaces the one still pending: the borrower agreed a new date.
        earlier.status = "replaced"
        earlier.decided_on = today
    promise = Promise(
        case_id=case.id,
        loan_id=case.loan_id,
        currency=case.currency,
        amount_minor=amount.minor,
        made_on=today,
        due_date=request.promise_date,
        channel=request.channel,
        status=PromiseStatus.PENDING.value,
        paid_minor=0,
        outcome_id=outcome.id,
    )
    session.add(promise)
    session.flush()
    case.flags = [flag for flag in case.flags if flag != "broken_promise"]
    case.paused = "promise_to_pay"
    return promise.id


def resolve_dispute(
    db: Database, case_id: int, *, resolution: str, upheld: bool, actor: str
) -> Dispute:
    """Resolve a case's open dispute. Upheld (the borrower was right): the case stops and waits
    for a correction of the ledger; rejected: collection resumes at the next close."""
    if not resolution.strip():
        raise InvalidArgumentError("say how the dispute was resolved")
    with db.transaction() as session:
        case = _open_case(session, case_id)
        dispute = session.scalars(
            select(Dispute).where(Dispute.case_id == case.id, Dispute.resolved_on.is_(None))
        ).one_or_none()
        if dispute is None:
            raise InvalidArgumentError(f"collection case {case_id} has no open dispute")
        dispute.resolved_on = business_date(session)
        dispute.resolution = ("upheld: " if upheld else "rejected: ") + resolution.strip()
        dispute.resolved_by = actor
        if upheld:
            case.flags = sorted({*case.flags, "dispute_upheld"})
        session.flush()
        session.expunge(dispute)
    return dispute


# --- agencies ---------------------------------------------------------------------------------


def recall(db: Database, case_id: int, *, actor: str) -> Placement:
    """Recall a case from its agency on request."""
    with db.transaction() as session:
        case = _open_case(session, case_id)
        placement = session.scalars(
            select(Placement).where(Placement.case_id == case.id, Placement.recalled_on.is_(None))
        ).one_or_none()
        if placement is None:
            raise InvalidArgumentError(f"collection case {case_id} is not placed with an agency")
        end_placement(session, case, business_date(session), "on_request")
        case.path_since = business_date(session)
        record_change(
            session, "placement", f"placements/{placement.id}", {"by": actor, "recalled": True}
        )
        session.flush()
        session.expunge(placement)
    return placement


def place(db: Database, case_id: int, agency_id: int, *, actor: str) -> Placement:
    """Place a case with an agency by hand (the strategy places cases at its agency step)."""
    with db.transaction() as session:
        case = _open_case(session, case_id)
        if case.agency_id is not None:
            raise InvalidArgumentError(f"collection case {case_id} is placed already")
        refusal = placement_refusal(
            [flag.split(":", 1)[0] for flag in case.flags] + ([case.paused] if case.paused else [])
        )
        if refusal is not None:
            raise InvalidArgumentError(f"collection case {case_id} cannot be placed: {refusal}")
        agency = session.get(Agency, agency_id)
        if agency is None or not agency.active:
            raise NotFoundError(f"agency {agency_id} does not exist")
        today = business_date(session)
        placement = Placement(
            case_id=case.id,
            loan_id=case.loan_id,
            agency_id=agency.id,
            placed_on=today,
            recall_on=today + dt.timedelta(days=agency.recall_days),
            rate=str(agency.rate_on(case.days_past_due)),
            days_past_due=case.days_past_due,
            balance_minor=case.balance_minor,
        )
        session.add(placement)
        case.agency_id = agency.id
        case.collector_id = None
        report_in_collections(session, case.loan_id, today)
        session.flush()
        record_change(
            session,
            "placement",
            f"placements/{placement.id}",
            {"by": actor, "case": case.id, "agency": agency.id, "rate": placement.rate},
        )
        session.expunge(placement)
    return placement


# --- legal recovery ---------------------------------------------------------------------------


def _legal(session: Session, legal_id: int) -> LegalCase:
    legal = session.get(LegalCase, legal_id)
    if legal is None:
        raise NotFoundError(f"legal case {legal_id} does not exist")
    return legal


def _state(legal: LegalCase) -> LegalState:
    judgment = None
    if legal.judgment_amount_minor is not None:
        judgment = Judgment(
            amount=Money(legal.judgment_amount_minor, legal.currency),
            costs=Money(legal.judgment_costs_minor or 0, legal.currency),
            interest=Money(legal.judgment_interest_minor or 0, legal.currency),
            costs_to_borrower=bool(legal.costs_to_borrower),
        )
    return LegalState(LegalStage(legal.stage), Preservation(legal.preservation), judgment)


def _legal_event(
    session: Session,
    legal: LegalCase,
    *,
    on: dt.date,
    kind: str,
    before: str | None,
    after: str | None,
    note: str | None,
    actor: str,
) -> None:
    session.add(
        LegalEvent(
            legal_case_id=legal.id,
            on=on,
            kind=kind,
            from_state=before,
            to_state=after,
            note=note,
            actor=actor,
        )
    )
    record_change(
        session,
        "legal",
        f"legal-cases/{legal.id}/{kind}",
        {"by": actor, "on": on.isoformat(), "from": before, "to": after, "note": note},
    )


def open_legal(db: Database, loan_id: int, *, court: str | None, actor: str) -> LegalCase:
    """Refer a loan to legal recovery by hand (the strategy refers cases at its legal step)."""
    with db.transaction() as session:
        case = session.scalars(
            select(CollectionCase).where(
                CollectionCase.loan_id == loan_id, CollectionCase.status == "open"
            )
        ).one_or_none()
        if case is None:
            raise InvalidArgumentError(f"loan {loan_id} has no open collection case")
        existing = session.scalar(
            select(LegalCase.id).where(
                LegalCase.loan_id == loan_id, LegalCase.stage != LegalStage.CLOSED.value
            )
        )
        if existing is not None:
            raise InvalidArgumentError(f"loan {loan_id} has legal case {existing} open already")
        today = business_date(session)
        legal = LegalCase(
            loan_id=loan_id,
            borrower_id=case.borrower_id,
            case_id=case.id,
            currency=case.currency,
            stage=LegalStage.REFERRED.value,
            preservation=Preservation.NONE.value,
            court=court,
            opened_on=today,
        )
        session.add(legal)
        session.flush()
        _legal_event(
            session,
            legal,
            on=today,
            kind="stage",
            before=None,
            after="referred",
            note=None,
            actor=actor,
        )
        session.expunge(legal)
    return legal


def advance_legal(
    db: Database,
    legal_id: int,
    to: LegalStage,
    *,
    on: dt.date | None = None,
    judgment: Judgment | None = None,
    court: str | None = None,
    reference: str | None = None,
    note: str | None = None,
    actor: str,
) -> LegalCase:
    """Move a legal case to its next stage (the state machine refuses an invalid move). A
    judgment that charges costs to the borrower charges every cost recorded so far."""
    with db.transaction() as session:
        legal = _legal(session, legal_id)
        day = on or business_date(session)
        if day < legal.opened_on:
            raise InvalidArgumentError("a legal step cannot be dated before the case was opened")
        if judgment is not None and judgment.amount.currency != legal.currency:
            raise InvalidArgumentError(f"the judgment must be in {legal.currency}")
        state = legal_transition(_state(legal), to, judgment=judgment)
        before = legal.stage
        legal.stage = state.stage.value
        if court is not None:
            legal.court = court
        if reference is not None:
            legal.reference = reference
        if judgment is not None:
            legal.judgment_amount_minor = judgment.amount.minor
            legal.judgment_costs_minor = judgment.costs.minor
            legal.judgment_interest_minor = judgment.interest.minor
            legal.costs_to_borrower = judgment.costs_to_borrower
        if to is LegalStage.CLOSED:
            legal.closed_on = day
        _legal_event(
            session,
            legal,
            on=day,
            kind="stage",
            before=before,
            after=legal.stage,
            note=note,
            actor=actor,
        )
        if judgment is not None and judgment.costs_to_borrower:
            for cost in session.scalars(
                select(LegalCost).where(
                    LegalCost.legal_case_id == legal.id, LegalCost.charge_event_id.is_(None)
                )
            ):
                _charge_cost(session, legal, cost, day, actor)
        session.flush()
        session.expunge(legal)
    return legal


def preserve(
    db: Database,
    legal_id: int,
    to: Preservation,
    *,
    on: dt.date | None = None,
    note: str | None = None,
    actor: str,
) -> LegalCase:
    """Move a legal case's asset preservation: requested, granted or refused, released."""
    with db.transaction() as session:
        legal = _legal(session, legal_id)
        day = on or business_date(session)
        state = preservation_transition(_state(legal), to)
        before = legal.preservation
        legal.preservation = state.preservation.value
        _legal_event(
            session,
            legal,
            on=day,
            kind="preservation",
            before=before,
            after=legal.preservation,
            note=note,
            actor=actor,
        )
        session.flush()
        session.expunge(legal)
    return legal


def _charge_cost(
    session: Session, legal: LegalCase, cost: LegalCost, day: dt.date, actor: str
) -> None:
    state = session.get(LoanStateRow, legal.loan_id)
    if state is None or state.status != "active":
        # A written-off (or settled) loan takes no new charges: the costs stay on the legal
        # case, awarded by the judgment and recovered with it.
        return
    amount = Money(cost.amount_minor, cost.currency)
    appended = append_in(
        session,
        legal.loan_id,
        charge(kind=ChargeKind.FEE, amount=amount, value_date=day),
        idempotency_key=f"legal-cost-{cost.id}",
        actor=actor,
    )
    cost.charge_event_id = appended.event_id


def add_cost(
    db: Database,
    legal_id: int,
    *,
    kind: str,
    amount: Decimal,
    on: dt.date | None = None,
    note: str | None = None,
    actor: str,
) -> LegalCost:
    """Record a court or lawyer cost; charged to the borrower at once when the case's judgment
    already allows it, otherwise kept until a judgment that does."""
    if kind not in ("court", "lawyer", "enforcement", "other"):
        raise InvalidArgumentError("a legal cost is court, lawyer, enforcement or other")
    with db.transaction() as session:
        legal = _legal(session, legal_id)
        if legal.stage == LegalStage.CLOSED.value:
            raise InvalidTransitionError(f"legal case {legal_id} is closed")
        money = Money.of(amount, legal.currency)
        if not money.is_positive:
            raise InvalidArgumentError("a cost must be a positive amount")
        day = on or business_date(session)
        cost = LegalCost(
            legal_case_id=legal.id,
            kind=kind,
            currency=legal.currency,
            amount_minor=money.minor,
            incurred_on=day,
            note=note,
        )
        session.add(cost)
        session.flush()
        if legal.costs_to_borrower:
            _charge_cost(session, legal, cost, day, actor)
        _legal_event(
            session,
            legal,
            on=day,
            kind="cost",
            before=None,
            after=None,
            note=f"{kind} {money.format()}",
            actor=actor,
        )
        session.flush()
        session.expunge(cost)
    return cost


def attach_document(
    db: Database, legal_id: int, source: Path, *, kind: str, actor: str
) -> LegalDocument:
    """Store a file for a legal case under its SHA-256 and record it."""
    if not source.is_file():
        raise InvalidArgumentError(f"{source} is not a readable file")
    digest = hashlib.sha256()
    with source.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    sha = digest.hexdigest()
    target = documents_dir() / sha[:2] / sha
    with db.transaction() as session:
        legal = _legal(session, legal_id)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            shutil.copyfile(source, partial)
            partial.replace(target)
        document = LegalDocument(
            legal_case_id=legal.id,
            name=source.name,
            kind=kind,
            sha256=sha,
            size=target.stat().st_size,
            path=str(target),
            actor=actor,
        )
        session.add(document)
        session.flush()
        _legal_event(
            session,
            legal,
            on=business_date(session),
            kind="document",
            before=None,
            after=None,
            note=f"{kind}: {source.name} sha256 {sha}",
            actor=actor,
        )
        session.expunge(document)
    return document


# --- write-off and recovery -------------------------------------------------------------------


def write_off(db: Database, case_id: int, *, actor: str) -> str:
    """Write off a case's loan through the ledger's journal; the case closes as written off."""
    with db.transaction() as session:
        case = _open_case(session, case_id)
        today = business_date(session)

        def make(book: Any, state: Any, slot: Any) -> WrittenOff:
            if state.written_off_on is not None or str(state.status) != "active":
                raise InvalidArgumentError(f"loan {case.loan_id} is not active: {state.status}")
            return WrittenOff(event_id=slot.event_id, sequence=slot.sequence, value_date=today)

        appended = append_in(session, case.loan_id, make, actor=actor)
        case.status = "closed"
        case.closed_on = today
        case.close_reason = "written_off"
        for task in session.scalars(
            select(CaseAction).where(
                CaseAction.case_id == case.id, CaseAction.state.in_(("task", "recommended"))
            )
        ):
            task.state = "done" if task.kind == "write_off" else "cancelled"
        end_placement(session, case, today, "written_off")
        return appended.event_id


def recover(
    db: Database, loan_id: int, amount: Decimal, *, idempotency_key: str | None, actor: str
) -> Appended:
    """Record money recovered on a written-off loan, through the journal. The same key with the
    same amount again returns the first recovery (``replayed``); with another amount, it raises
    :class:`~tenor.store.journal.IdempotencyConflictError`."""
    with db.reading() as session:
        state = session.get(LoanStateRow, loan_id)
        if state is None:
            raise NotFoundError(f"loan {loan_id} does not exist")
        day = business_date(session)
    if state.status != "written-off":
        raise InvalidArgumentError(f"loan {loan_id} is not written off")
    money = Money.of(amount, state.currency)
    if not money.is_positive:
        raise InvalidArgumentError("a recovery must be a positive amount")
    return loan_actions.recover(
        db,
        loan_id,
        amount=money,
        value_date=day,
        idempotency_key=idempotency_key,
        request={"operation": "recovery", "amount": money.format(), "currency": money.currency},
        actor=actor,
    )
