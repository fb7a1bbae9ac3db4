"""``tenor collect``: collections from the shell, and ``tenor report collections|strategies``.

- ``queue --collector ID``: a collector's tasks in working order, with the contact rules' answer;
- ``outcome CASE --code promise_to_pay --amount 500 --date 2026-04-10``: a contact's outcome;
- ``case CASE``, ``cases``: a case with its history; open cases;
- ``check CASE --channel call``: may the borrower be called (visited, texted) now?
- ``resolve-dispute``, ``place``, ``recall``, ``write-off``, ``recover``: a case's other turns;
- ``strategy show|set|versions``, ``collector add|list``, ``agency add|list|statement``;
- ``legal open|show|advance|preserve|cost|attach``: legal recovery.

Who acts: ``--as KEY`` or ``TENOR_API_KEY``, else the operating-system user (as for
``tenor restructure``). Imports of the store happen inside the commands so ``tenor --help``
starts fast.
"""

# Imports inside the commands are the design (see above).
# ruff: noqa: PLC0415

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tenor.commands.opening import open_database
from tenor.commands.reports import report

if TYPE_CHECKING:
    from tenor.store.database import Database

JSON = typer.Option("--json", help="Print JSON for machines.")
ACTOR = typer.Option(
    "--as", help="Your API key (default: TENOR_API_KEY, else your user name).", metavar="KEY"
)

collect = typer.Typer(
    name="collect",
    help="Collections: queues, contact outcomes and promises, agencies, legal recovery.",
    no_args_is_help=True,
)
strategy_app = typer.Typer(
    name="strategy", help="The collection strategy in force and its versions.", no_args_is_help=True
)
collector_app = typer.Typer(
    name="collector", help="Collectors: teams, skills, capacity.", no_args_is_help=True
)
agency_app = typer.Typer(
    name="agency", help="Collection agencies, placements and statements.", no_args_is_help=True
)
legal_app = typer.Typer(
    name="legal",
    help="Legal recovery cases: stages, preservation, costs, documents.",
    no_args_is_help=True,
)
collect.add_typer(strategy_app)
collect.add_typer(collector_app)
collect.add_typer(agency_app)
collect.add_typer(legal_app)


@contextmanager
def _opened() -> Iterator[Database]:
    """The configured database, disposed of however the command ends (an error included)."""
    db = open_database()
    try:
        yield db
    finally:
        db.dispose()


def _print(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _decimal(option: str, raw: str) -> Decimal:
    from tenor.cli import fail

    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        fail(f"{option} must be a decimal amount such as 500 or 120.50, got {raw!r}")
    if not value.is_finite():
        fail(f"{option} must be a decimal amount, got {raw!r}")
    return value


def _instant(option: str, raw: str | None) -> dt.datetime:
    from tenor.cli import fail

    if raw is None:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        fail(
            f"{option} must be an ISO date-time with its offset, such as 2026-03-02T10:30:00+08:00"
        )
    if moment.tzinfo is None:
        fail(f"{option} needs a UTC offset, such as 2026-03-02T10:30:00+08:00")
    return moment


def _date(option: str, raw: str | None) -> dt.date | None:
    from tenor.cli import domain_errors, parse_date

    if raw is None:
        return None
    with domain_errors():
        return parse_date(option, raw)


def _actor(key: str | None) -> str:
    from tenor.commands.relief import actor_of

    with _opened() as db, db.reading() as session:
        who = actor_of(session, key)
    return who


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, title=title, title_justify="left")
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    Console(highlight=False).print(table)


# --- queue and cases --------------------------------------------------------------------------


@collect.command("queue")
def queue_command(
    collector: Annotated[
        int, typer.Option("--collector", help="The collector's id.", metavar="ID")
    ],
    at: Annotated[
        str | None,
        typer.Option("--at", help="Instant to order for (default: now), ISO with offset."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="Show at most this many tasks.", min=1)
    ] = 50,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """A collector's queue in working order.

    Open calls and visits: those the contact rules allow now first, then broken promises, then
    expected value (balance x propensity to pay - contact cost).
    """
    from tenor.cli import domain_errors
    from tenor.collect.queue import collector_queue, on_shift
    from tenor.collect.tables import Collector
    from tenor.store.journal import business_date

    moment = _instant("--at", at)
    with _opened() as db, domain_errors(), db.reading() as session:
        entries = collector_queue(session, collector, moment, business_date(session))
        row = session.get(Collector, collector)
        working = row is not None and on_shift(row, moment)
    shown = entries[:limit]
    if as_json:
        _print(
            {
                "collector_id": collector,
                "at": moment.isoformat(),
                "on_shift": working,
                "total": len(entries),
                "tasks": [e.document() for e in shown],
            }
        )
        return
    _table(
        f"Queue of collector {collector} at {moment.isoformat(timespec='minutes')}: "
        f"{len(entries)} tasks{'' if working else ' (outside their working hours)'}",
        [
            "#",
            "Case",
            "Task",
            "Loan",
            "Borrower",
            "DPD",
            "Balance",
            "P(pay)",
            "Expected value",
            "Now?",
        ],
        [
            [
                e.rank,
                e.case_id,
                e.action,
                e.loan_id,
                e.borrower_name,
                e.days_past_due,
                e.balance.format(),
                f"{e.propensity:.2f}",
                e.expected_value.format(),
                "yes"
                if e.contactable_now
                else f"no: {e.refused_rule}"
                + (
                    ""
                    if e.next_allowed_at is None
                    else f" until {e.next_allowed_at.isoformat(timespec='minutes')}"
                ),
            ]
            for e in shown
        ],
    )


@collect.command("outcome")
def outcome_command(
    case: Annotated[int, typer.Argument(help="The collection case's id.")],
    code: Annotated[
        str,
        typer.Option(
            "--code",
            help="right_party_contact, wrong_party, no_answer, refused, promise_to_pay, "
            "dispute, hardship, deceased or bankruptcy.",
        ),
    ],
    amount: Annotated[str | None, typer.Option("--amount", help="A promise's amount.")] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="A promise's date, YYYY-MM-DD.")
    ] = None,
    channel: Annotated[
        str, typer.Option("--channel", help="call, visit, sms, email or push.")
    ] = "call",
    at: Annotated[
        str | None, typer.Option("--at", help="When the contact happened (default: now).")
    ] = None,
    collector: Annotated[
        int | None, typer.Option("--collector", help="The collector's id.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note for the case.")] = None,
    actor: Annotated[str | None, ACTOR] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Record a contact's outcome, such as a promise to pay.

    A promise needs --amount and --date; a dispute pauses the case; deceased and bankruptcy stop
    it. A call or visit the contact rules forbid at that instant is refused.
    """
    from tenor.cli import domain_errors, parse_choice
    from tenor.collect.actions import OutcomeRequest, record_outcome
    from tenor.core.collection import OutcomeCode

    with domain_errors():
        outcome = parse_choice("--code", code, OutcomeCode)
    request = OutcomeRequest(
        code=outcome,
        channel=channel,
        at=_instant("--at", at),
        amount=None if amount is None else _decimal("--amount", amount),
        promise_date=_date("--date", date),
        note=note,
        collector_id=collector,
    )
    who = _actor(actor)
    with _opened() as db, domain_errors():
        recorded = record_outcome(db, case, request, actor=who)
    document = {
        "outcome_id": recorded.outcome_id,
        "case_id": recorded.case_id,
        "code": recorded.code,
        "promise_id": recorded.promise_id,
        "dispute_id": recorded.dispute_id,
    }
    if as_json:
        _print(document)
        return
    extra = f", promise {recorded.promise_id}" if recorded.promise_id else ""
    extra += f", dispute {recorded.dispute_id}" if recorded.dispute_id else ""
    typer.echo(f"case {case}: {recorded.code} recorded (outcome {recorded.outcome_id}{extra})")


@collect.command("case")
def case_command(
    case: Annotated[int, typer.Argument(help="The collection case's id.")],
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """A case: where it stands, and every action, contact, promise, dispute and placement."""
    from tenor.cli import domain_errors
    from tenor.collect.queue import case_document

    with _opened() as db, domain_errors(), db.reading() as session:
        document = case_document(session, case)
    if as_json:
        _print(document)
        return
    paused = f", paused: {document['paused']}" if document["paused"] else ""
    typer.echo(
        f"case {document['id']} loan {document['loan_id']}: {document['status']}"
        f"{' (' + document['close_reason'] + ')' if document['close_reason'] else ''}, "
        f"{document['days_past_due']} days past due, {document['balance']} {document['currency']}, "
        f"segment {document['segment']} ({document['arm']}){paused}"
    )
    _table(
        "Actions",
        ["Date", "Step", "Action", "State"],
        [[a["business_date"], a["step"], a["kind"], a["state"]] for a in document["actions"]],
    )
    if document["outcomes"]:
        _table(
            "Contacts",
            ["At", "Channel", "Outcome", "Note"],
            [[o["at"], o["channel"], o["code"], o["note"]] for o in document["outcomes"]],
        )
    if document["promises"]:
        _table(
            "Promises to pay",
            ["Id", "Amount", "Date", "Status", "Paid"],
            [
                [p["id"], p["amount"], p["due_date"], p["status"], p["paid"]]
                for p in document["promises"]
            ],
        )


@collect.command("cases")
def cases_command(
    status: Annotated[str, typer.Option("--status", help="open or closed.")] = "open",
    collector: Annotated[
        int | None, typer.Option("--collector", help="Only this collector's cases.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many.")] = 50,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Collection cases, most days past due first."""
    from sqlalchemy import func, select

    from tenor.cli import fail
    from tenor.collect.queue import case_summary
    from tenor.collect.tables import CollectionCase

    if status not in ("open", "closed"):
        fail(f"--status must be open or closed, got {status!r}")
    with _opened() as db:
        conditions = [CollectionCase.status == status]
        if collector is not None:
            conditions.append(CollectionCase.collector_id == collector)
        with db.reading() as session:
            total = session.scalar(
                select(func.count()).select_from(CollectionCase).where(*conditions)
            )
            rows = [
                case_summary(case)
                for case in session.scalars(
                    select(CollectionCase)
                    .where(*conditions)
                    .order_by(CollectionCase.days_past_due.desc(), CollectionCase.id)
                    .limit(limit)
                )
            ]
    if as_json:
        _print({"total": total, "cases": rows})
        return
    _table(
        f"{total} {status} cases",
        ["Case", "Loan", "DPD", "Balance", "Segment", "Arm", "Paused", "Collector", "Agency"],
        [
            [
                c["id"],
                c["loan_id"],
                c["days_past_due"],
                c["balance"],
                c["segment"],
                c["arm"],
                c["paused"],
                c["collector_id"],
                c["agency_id"],
            ]
            for c in rows
        ],
    )


@collect.command("check")
def check_command(
    case: Annotated[int, typer.Argument(help="The collection case's id.")],
    channel: Annotated[
        str, typer.Option("--channel", help="call, visit, sms, email or push.")
    ] = "call",
    at: Annotated[
        str | None, typer.Option("--at", help="When (default: now), ISO with offset.")
    ] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """What the contact rules say about contacting the case's borrower now."""
    from tenor.cli import domain_errors, fail
    from tenor.collect.contacts import check_contact
    from tenor.collect.strategy import strategy_in_force
    from tenor.collect.tables import CollectionCase
    from tenor.core.contact import Channel, Refused
    from tenor.store.models import Borrower

    moment = _instant("--at", at)
    if channel not in [c.value for c in Channel]:
        fail(f"--channel must be one of {', '.join(c.value for c in Channel)}")
    with _opened() as db, domain_errors(), db.reading() as session:
        row = session.get(CollectionCase, case)
        if row is None:
            fail(f"collection case {case} does not exist")
        borrower = session.get(Borrower, row.borrower_id)
        assert borrower is not None
        document, _ = strategy_in_force(session)
        decision = check_contact(
            session, borrower, row.loan_id, Channel(channel), moment, document.contact_profile
        )
    if isinstance(decision, Refused):
        answer: dict[str, Any] = {
            "allowed": False,
            "rule": decision.rule,
            "reason": decision.reason,
            "next_allowed_at": None
            if decision.next_allowed_at is None
            else decision.next_allowed_at.isoformat(),
        }
    else:
        answer = {"allowed": True, "conditions": sorted(decision.conditions)}
    if as_json:
        _print(answer)
        return
    if answer["allowed"]:
        typer.echo(f"allowed: {channel} to case {case}'s borrower at {moment.isoformat()}")
    else:
        typer.echo(
            f"not allowed: {answer['rule']}: {answer['reason']}; "
            f"next allowed at {answer['next_allowed_at'] or 'never'}"
        )


@collect.command("resolve-dispute")
def resolve_dispute_command(
    case: Annotated[int, typer.Argument(help="The collection case's id.")],
    resolution: Annotated[str, typer.Option("--resolution", help="How it was resolved.")],
    upheld: Annotated[
        bool, typer.Option("--upheld", help="The borrower was right: collection stays stopped.")
    ] = False,
    actor: Annotated[str | None, ACTOR] = None,
) -> None:
    """Resolve a case's open dispute; rejected, the case follows its strategy again."""
    from tenor.cli import domain_errors
    from tenor.collect.actions import resolve_dispute

    who = _actor(actor)
    with _opened() as db, domain_errors():
        dispute = resolve_dispute(db, case, resolution=resolution, upheld=upheld, actor=who)
    typer.echo(f"dispute {dispute.id} on case {case}: {dispute.resolution}")


@collect.command("place")
def place_command(
    case: Annotated[int, typer.Argument(help="The collection case's id.")],
    agency: Annotated[int, typer.Option("--agency", help="The agency's id.")],
    actor: Annotated[str | None, ACTOR] = None,
) -> None:
    """Place a case with an agency (excluded cases are refused: dispute, hardship, ...)."""
    from tenor.cli import domain_errors
    from tenor.collect.actions import place

    who = _actor(actor)
    with _opened() as db, domain_errors():
        placement = place(db, case, agency, actor=who)
    typer.echo(
        f"case {case} placed with agency {agency} at {placement.rate} until {placement.recall_on}"
    )


@collect.command("recall")
def recall_command(
    case: Annotated[int, typer.Argument(help="The collection case's id.")],
    actor: Annotated[str | None, ACTOR] = None,
) -> None:
    """Recall a case from its agency."""
    from tenor.cli import domain_errors
    from tenor.collect.actions import recall

    who = _actor(actor)
    with _opened() as db, domain_errors():
        placement = recall(db, case, actor=who)
    typer.echo(f"case {case} recalled from agency {placement.agency_id}")


@collect.command("write-off")
def write_off_command(
    case: Annotated[int, typer.Argument(help="The collection case's id.")],
    actor: Annotated[str | None, ACTOR] = None,
) -> None:
    """Write off the case's loan through the journal; the case closes."""
    from tenor.cli import domain_errors
    from tenor.collect.actions import write_off

    who = _actor(actor)
    with _opened() as db, domain_errors():
        event = write_off(db, case, actor=who)
    typer.echo(f"case {case}: loan written off (event {event})")


@collect.command("recover")
def recover_command(
    loan: Annotated[int, typer.Option("--loan", help="The written-off loan's id.")],
    amount: Annotated[str, typer.Option("--amount", help="The amount recovered.")],
    key: Annotated[
        str | None,
        typer.Option("--idempotency-key", help="Record it once however often it is sent."),
    ] = None,
    actor: Annotated[str | None, ACTOR] = None,
) -> None:
    """Record money recovered after a write-off, through the journal."""
    from tenor.cli import domain_errors
    from tenor.collect.actions import recover

    value = _decimal("--amount", amount)
    who = _actor(actor)
    with _opened() as db, domain_errors():
        event = recover(db, loan, value, idempotency_key=key, actor=who).event_id
    typer.echo(f"loan {loan}: {value} recovered (event {event})")


# --- strategy, collectors, agencies -----------------------------------------------------------


@strategy_app.command("show")
def strategy_show(as_json: Annotated[bool, JSON] = False) -> None:
    """The strategy in force (version 0: the default one, never saved)."""
    from tenor.collect.strategy import strategy_in_force

    with _opened() as db, db.reading() as session:
        document, version = strategy_in_force(session)
    body = {"version": version, **document.model_dump(mode="json")}
    if as_json:
        _print(body)
        return
    typer.echo(f"strategy {document.name} v{version} (contact rules {document.contact_profile})")
    for segment in document.segments:
        bound = f"{segment.min_dpd}-{segment.max_dpd or ''}"
        path = ", ".join(f"{s.action.value}+{s.wait_days}d" for s in segment.champion)
        typer.echo(f"  {segment.name} (days past due {bound}): {path}")
        if segment.challenger:
            other = ", ".join(f"{s.action.value}+{s.wait_days}d" for s in segment.challenger)
            typer.echo(f"    challenger {segment.challenger_percent}%: {other}")


@strategy_app.command("set")
def strategy_set(
    file: Annotated[Path, typer.Argument(help="A strategy document, YAML or JSON.")],
    actor: Annotated[str | None, ACTOR] = None,
) -> None:
    """Save a strategy document as a new version, in force from the next close."""
    import yaml
    from pydantic import ValidationError

    from tenor.cli import domain_errors, fail
    from tenor.collect.actions import save_strategy

    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        fail(f"cannot read {file}: {str(error).splitlines()[0]}")
    who = _actor(actor)
    with _opened() as db:
        try:
            with domain_errors():
                row = save_strategy(db, document, actor=who)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            fail(f"{file}: {where}: {first['msg']}")
    typer.echo(f"strategy {row.name} v{row.version} saved and in force")


@strategy_app.command("versions")
def strategy_versions_command(as_json: Annotated[bool, JSON] = False) -> None:
    """Every saved version of every strategy, newest first."""
    from tenor.collect.strategy import strategy_versions

    with _opened() as db, db.reading() as session:
        rows = [
            {
                "name": r.name,
                "version": r.version,
                "by": r.created_by,
                "at": r.created_at.isoformat(),
            }
            for r in strategy_versions(session)
        ]
    if as_json:
        _print(rows)
        return
    _table(
        "Strategy versions",
        ["Name", "Version", "By", "At"],
        [[r["name"], r["version"], r["by"], r["at"]] for r in rows],
    )


def _list(raw: str | None) -> list[str]:
    return [] if not raw else [part.strip() for part in raw.split(",") if part.strip()]


@collector_app.command("add")
def collector_add(
    name: Annotated[str, typer.Option("--name", help="The collector's name.")],
    team: Annotated[str, typer.Option("--team", help="Their team.")],
    languages: Annotated[
        str, typer.Option("--languages", help="Comma-separated: zh-CN,en.")
    ] = "zh-CN",
    products: Annotated[
        str | None, typer.Option("--products", help="Product codes (default: all).")
    ] = None,
    stages: Annotated[
        str | None, typer.Option("--stages", help="Strategy segments (default: all).")
    ] = None,
    capacity: Annotated[int, typer.Option("--capacity", help="Most open cases at once.")] = 200,
    time_zone: Annotated[
        str, typer.Option("--time-zone", help="Their time zone.")
    ] = "Asia/Shanghai",
    hours: Annotated[str, typer.Option("--hours", help="Working hours, such as 9-18.")] = "9-18",
    field: Annotated[bool, typer.Option("--field", help="A field collector (visits).")] = False,
    actor: Annotated[str | None, ACTOR] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Register a collector."""
    from tenor.cli import domain_errors, fail
    from tenor.collect.actions import CollectorSpec, add_collector

    try:
        start, end = (int(part) for part in hours.split("-"))
    except ValueError:
        fail(f"--hours must look like 9-18, got {hours!r}")
    spec = CollectorSpec(
        name=name,
        team=team,
        languages=_list(languages),
        products=_list(products),
        stages=_list(stages),
        capacity=capacity,
        time_zone=time_zone,
        work_start=start,
        work_end=end,
        field=field,
    )
    who = _actor(actor)
    with _opened() as db, domain_errors():
        row = add_collector(db, spec, actor=who)
    if as_json:
        _print({"id": row.id, "name": row.name, "team": row.team})
        return
    typer.echo(f"collector {row.id}: {row.name} ({row.team})")


@collector_app.command("list")
def collector_list(as_json: Annotated[bool, JSON] = False) -> None:
    """Collectors with their skills, capacity and open cases."""
    from sqlalchemy import func, select

    from tenor.collect.tables import CollectionCase, Collector

    with _opened() as db, db.reading() as session:
        load = dict(
            session.execute(
                select(CollectionCase.collector_id, func.count())
                .where(CollectionCase.status == "open")
                .group_by(CollectionCase.collector_id)
            ).all()
        )
        rows: list[dict[str, Any]] = [
            {
                "id": c.id,
                "name": c.name,
                "team": c.team,
                "languages": c.languages,
                "products": c.products,
                "stages": c.stages,
                "capacity": c.capacity,
                "field": c.field,
                "open_cases": load.get(c.id, 0),
            }
            for c in session.scalars(select(Collector).order_by(Collector.id))
        ]
    if as_json:
        _print(rows)
        return
    _table(
        "Collectors",
        ["Id", "Name", "Team", "Languages", "Stages", "Open / capacity", "Field"],
        [
            [
                r["id"],
                r["name"],
                r["team"],
                ",".join(r["languages"]),
                ",".join(r["stages"]) or "all",
                f"{r['open_cases']} / {r['capacity']}",
                "yes" if r["field"] else "",
            ]
            for r in rows
        ],
    )


@agency_app.command("add")
def agency_add(
    name: Annotated[str, typer.Option("--name", help="The agency's name.")],
    commission: Annotated[
        str, typer.Option("--commission", help="Bands as min_dpd:rate, such as 91:0.18,181:0.30.")
    ],
    recall_days: Annotated[
        int, typer.Option("--recall-days", help="Recall a case after this many days.")
    ] = 90,
    capacity: Annotated[int, typer.Option("--capacity", help="Most cases placed at once.")] = 500,
    actor: Annotated[str | None, ACTOR] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Register a collection agency and its commission bands."""
    from tenor.cli import domain_errors, fail
    from tenor.collect.actions import add_agency
    from tenor.core.collection import CommissionBand

    bands = []
    for part in _list(commission):
        try:
            low, rate = part.split(":")
            bands.append((int(low), _decimal("--commission", rate)))
        except ValueError:
            fail(f"--commission bands look like 91:0.18, got {part!r}")
    who = _actor(actor)
    with _opened() as db, domain_errors():
        row = add_agency(
            db,
            name=name,
            commission=[CommissionBand(low, rate) for low, rate in bands],
            recall_days=recall_days,
            capacity=capacity,
            actor=who,
        )
    if as_json:
        _print({"id": row.id, "name": row.name, "commission": row.commission})
        return
    typer.echo(f"agency {row.id}: {row.name}")


@agency_app.command("list")
def agency_list(as_json: Annotated[bool, JSON] = False) -> None:
    """Agencies with their bands, recall period and cases placed now."""
    from sqlalchemy import func, select

    from tenor.collect.tables import Agency, Placement

    with _opened() as db, db.reading() as session:
        placed = dict(
            session.execute(
                select(Placement.agency_id, func.count())
                .where(Placement.recalled_on.is_(None))
                .group_by(Placement.agency_id)
            ).all()
        )
        rows: list[dict[str, Any]] = [
            {
                "id": a.id,
                "name": a.name,
                "commission": a.commission,
                "recall_days": a.recall_days,
                "capacity": a.capacity,
                "placed": placed.get(a.id, 0),
            }
            for a in session.scalars(select(Agency).order_by(Agency.id))
        ]
    if as_json:
        _print(rows)
        return
    _table(
        "Agencies",
        ["Id", "Name", "Commission", "Recall", "Placed / capacity"],
        [
            [
                r["id"],
                r["name"],
                ", ".join(f"{b['min_dpd']}+: {b['rate']}" for b in r["commission"]),
                f"{r['recall_days']} days",
                f"{r['placed']} / {r['capacity']}",
            ]
            for r in rows
        ],
    )


@agency_app.command("statement")
def agency_statement_command(
    agency: Annotated[int, typer.Argument(help="The agency's id.")],
    since: Annotated[
        str | None, typer.Option("--since", help="First value date, YYYY-MM-DD.")
    ] = None,
    through: Annotated[
        str | None, typer.Option("--through", help="Last value date (default: the business date).")
    ] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """What the agency collected on its placed cases and the commission due, to the cent."""
    from tenor.cli import domain_errors
    from tenor.collect.reports import agency_statement, statement_document
    from tenor.store.journal import business_date

    first = _date("--since", since)
    last = _date("--through", through)
    with _opened() as db, domain_errors(), db.reading() as session:
        statement = agency_statement(session, agency, first, last or business_date(session))
    document = statement_document(statement, agency)
    if as_json:
        _print(document)
        return
    _table(
        f"Agency {agency}: collected {document['collected']}, commission {document['commission']}, "
        f"net {document['net']} {document['currency']}",
        ["Payment", "Loan", "Collected", "Rate", "Commission", "Net"],
        [
            [
                line["payment"],
                line["loan_id"],
                line["collected"],
                line["rate"],
                line["commission"],
                line["net"],
            ]
            for line in document["lines"]
        ],
    )


# --- legal ------------------------------------------------------------------------------------


def _show_legal(legal_id: int, as_json: bool) -> None:
    from tenor.cli import domain_errors
    from tenor.collect.queue import legal_document

    with _opened() as db, domain_errors(), db.reading() as session:
        document = legal_document(session, legal_id)
    if as_json:
        _print(document)
        return
    typer.echo(
        f"legal case {document['id']} (loan {document['loan_id']}): {document['stage']}, "
        f"preservation {document['preservation']}, court {document['court'] or '-'}"
    )
    _table(
        "Steps",
        ["On", "What", "From", "To", "Note", "By"],
        [
            [e["on"], e["kind"], e["from"], e["to"], e["note"], e["actor"]]
            for e in document["events"]
        ],
    )


@legal_app.command("open")
def legal_open(
    loan: Annotated[int, typer.Option("--loan", help="The loan's id.")],
    court: Annotated[str | None, typer.Option("--court", help="The court.")] = None,
    actor: Annotated[str | None, ACTOR] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Refer a loan in collections to legal recovery."""
    from tenor.cli import domain_errors
    from tenor.collect.actions import open_legal

    who = _actor(actor)
    with _opened() as db, domain_errors():
        legal = open_legal(db, loan, court=court, actor=who)
    _show_legal(legal.id, as_json)


@legal_app.command("show")
def legal_show(
    legal: Annotated[int, typer.Argument(help="The legal case's id.")],
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """A legal case with its dated steps, documents and costs."""
    _show_legal(legal, as_json)


@legal_app.command("advance")
def legal_advance(
    legal: Annotated[int, typer.Argument(help="The legal case's id.")],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="demand_letter, filed, hearing, judgment, enforcement, settlement or closed.",
        ),
    ],
    on: Annotated[
        str | None, typer.Option("--on", help="The step's date (default: the business date).")
    ] = None,
    amount: Annotated[
        str | None, typer.Option("--judgment-amount", help="A judgment's debt.")
    ] = None,
    costs: Annotated[
        str | None, typer.Option("--judgment-costs", help="A judgment's costs.")
    ] = None,
    interest: Annotated[
        str | None, typer.Option("--judgment-interest", help="A judgment's interest.")
    ] = None,
    costs_to_borrower: Annotated[
        bool,
        typer.Option("--costs-to-borrower", help="The judgment charges costs to the borrower."),
    ] = False,
    court: Annotated[str | None, typer.Option("--court", help="The court.")] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="The court's case number.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note.")] = None,
    actor: Annotated[str | None, ACTOR] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Move a legal case to its next stage; the state machine refuses an invalid move."""
    from sqlalchemy import select

    from tenor.cli import domain_errors, fail, parse_choice
    from tenor.collect.actions import advance_legal
    from tenor.collect.tables import LegalCase
    from tenor.core.collection import Judgment, LegalStage
    from tenor.core.money import Money

    with domain_errors():
        stage = parse_choice("--to", to, LegalStage)
    judgment = None
    if stage is LegalStage.JUDGMENT:
        if amount is None:
            fail("a judgment needs --judgment-amount (and --judgment-costs, --judgment-interest)")
        with _opened() as db, db.reading() as session:
            currency = session.scalar(select(LegalCase.currency).where(LegalCase.id == legal))
        if currency is None:
            fail(f"legal case {legal} does not exist")
        with domain_errors():
            judgment = Judgment(
                amount=Money.of(_decimal("--judgment-amount", amount), currency),
                costs=Money.of(_decimal("--judgment-costs", costs or "0"), currency),
                interest=Money.of(_decimal("--judgment-interest", interest or "0"), currency),
                costs_to_borrower=costs_to_borrower,
            )
    day = _date("--on", on)
    who = _actor(actor)
    with _opened() as db, domain_errors():
        advance_legal(
            db,
            legal,
            stage,
            on=day,
            judgment=judgment,
            court=court,
            reference=reference,
            note=note,
            actor=who,
        )
    _show_legal(legal, as_json)


@legal_app.command("preserve")
def legal_preserve(
    legal: Annotated[int, typer.Argument(help="The legal case's id.")],
    to: Annotated[str, typer.Option("--to", help="requested, granted, refused or released.")],
    on: Annotated[
        str | None, typer.Option("--on", help="The date (default: the business date).")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note (assets, ruling).")] = None,
    actor: Annotated[str | None, ACTOR] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Move a legal case's asset preservation."""
    from tenor.cli import domain_errors, parse_choice
    from tenor.collect.actions import preserve
    from tenor.core.collection import Preservation

    with domain_errors():
        target = parse_choice("--to", to, Preservation)
    day = _date("--on", on)
    who = _actor(actor)
    with _opened() as db, domain_errors():
        preserve(db, legal, target, on=day, note=note, actor=who)
    _show_legal(legal, as_json)


@legal_app.command("cost")
def legal_cost(
    legal: Annotated[int, typer.Argument(help="The legal case's id.")],
    kind: Annotated[str, typer.Option("--kind", help="court, lawyer, enforcement or other.")],
    amount: Annotated[str, typer.Option("--amount", help="The cost.")],
    on: Annotated[str | None, typer.Option("--on", help="When it was incurred.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note.")] = None,
    actor: Annotated[str | None, ACTOR] = None,
) -> None:
    """Record a court or lawyer cost (charged to the borrower when the judgment allows)."""
    from tenor.cli import domain_errors
    from tenor.collect.actions import add_cost

    value = _decimal("--amount", amount)
    day = _date("--on", on)
    who = _actor(actor)
    with _opened() as db, domain_errors():
        cost = add_cost(db, legal, kind=kind, amount=value, on=day, note=note, actor=who)
    charged = (
        f", charged to the borrower (event {cost.charge_event_id})" if cost.charge_event_id else ""
    )
    typer.echo(f"legal case {legal}: {kind} cost {value} recorded{charged}")


@legal_app.command("attach")
def legal_attach(
    legal: Annotated[int, typer.Argument(help="The legal case's id.")],
    file: Annotated[Path, typer.Argument(help="The document to store.")],
    kind: Annotated[
        str, typer.Option("--kind", help="What it is: complaint, ruling, receipt...")
    ] = "document",
    actor: Annotated[str | None, ACTOR] = None,
) -> None:
    """Store a document for a legal case under its SHA-256.

    Files go to TENOR_DOCUMENTS (default ./tenor-documents), named by their hash.
    """
    from tenor.cli import domain_errors
    from tenor.collect.actions import attach_document

    who = _actor(actor)
    with _opened() as db, domain_errors():
        document = attach_document(db, legal, file, kind=kind, actor=who)
    typer.echo(f"legal case {legal}: {document.name} stored, sha256 {document.sha256}")


# --- reports ----------------------------------------------------------------------------------


@report.command("collections")
def collections_report_command(as_json: Annotated[bool, JSON] = False) -> None:
    """Collections performance: roll, cure, promise-keep and recovery rates.

    By stage reached, agency and strategy arm, and each collector's productivity.
    """
    from tenor.collect.reports import collections_report
    from tenor.store.journal import business_date

    with _opened() as db, db.reading() as session:
        document = collections_report(session, business_date(session))
    if as_json:
        _print(document)
        return
    cases = document["cases"]
    typer.echo(
        f"Collections on {document['business_date']}: {cases['opened']} cases, "
        f"{cases['open']} open; "
        f"closed {cases['closed']}; paused {cases['paused']}"
    )
    _table(
        "By stage reached",
        [
            "Stage",
            "Entered",
            "Rolled on",
            "Roll rate",
            "Cured",
            "Cure rate",
            "Recovered",
            "Recovery rate",
        ],
        [
            [
                name,
                r["entered"],
                r["rolled_forward"],
                r["roll_rate"],
                r["cured"],
                r["cure_rate"],
                r["recovered"],
                r["recovery_rate"],
            ]
            for name, r in document["by_stage"].items()
        ],
    )
    p = document["promises"]
    typer.echo(
        f"Promises to pay: {p['made']} made, {p['kept']} kept, {p['broken']} broken, "
        f"{p['pending']} pending; keep rate {p['keep_rate']}"
    )
    _table(
        "By strategy arm (segment entered)",
        ["Segment", "Arm", "Cases", "Cure rate", "Roll rate", "Recovered", "Contact cost"],
        [
            [
                r["segment"],
                r["arm"],
                r["cases"],
                r["cure_rate"],
                r["roll_rate"],
                r["recovered"],
                r["contact_cost"],
            ]
            for r in document["by_arm"]
        ],
    )
    _table(
        "Agencies",
        ["Agency", "Placements", "Open", "Placed", "Collected", "Commission", "Net", "Recovery"],
        [
            [
                a["name"],
                a["placements"],
                a["open"],
                a["placed_balance"],
                a["collected"],
                a["commission"],
                a["net"],
                a["recovery_rate"],
            ]
            for a in document["agencies"]
        ],
    )
    _table(
        "Collectors",
        [
            "Collector",
            "Team",
            "Open cases",
            "Contacts",
            "Right-party rate",
            "Promises",
            "Kept",
            "Collected on worked cases",
        ],
        [
            [
                c["name"],
                c["team"],
                c["open_cases"],
                c["contacts"],
                c["right_party_rate"],
                c["promises"],
                c["promises_kept"],
                c["collected_on_worked_cases"],
            ]
            for c in document["collectors"]
        ],
    )


@report.command("strategies")
def strategies_report_command(as_json: Annotated[bool, JSON] = False) -> None:
    """Champion against challenger per segment, with 95% confidence intervals.

    Cure rate, roll rate, recovered and contact cost per case.
    """
    from tenor.collect.reports import strategies_report
    from tenor.store.journal import business_date

    with _opened() as db, db.reading() as session:
        document = strategies_report(session, business_date(session))
    if as_json:
        _print(document)
        return

    def shown(interval: dict[str, float] | None) -> str:
        if interval is None:
            return "-"
        return f"{interval['estimate']} [{interval['low']}, {interval['high']}]"

    rows = []
    for segment in document["segments"]:
        for arm, figures in segment["arms"].items():
            rows.append(
                [
                    segment["segment"],
                    arm,
                    figures["cases"],
                    shown(figures["cure_rate"]),
                    shown(figures["roll_rate"]),
                    shown(figures["recovered_per_case"]),
                    shown(figures["contact_cost_per_case"]),
                ]
            )
        if "cure_rate_difference" in segment:
            rows.append(
                [
                    segment["segment"],
                    "challenger - champion",
                    "",
                    shown(segment["cure_rate_difference"]),
                    "",
                    "",
                    "",
                ]
            )
    _table(
        f"Champion and challenger on {document['business_date']} "
        f"({document['currency']}; 95% intervals)",
        [
            "Segment",
            "Arm",
            "Cases",
            "Cure rate",
            "Roll rate",
            "Recovered per case",
            "Contact cost per case",
        ],
        rows,
    )


def register(app: typer.Typer) -> None:
    """Add ``tenor collect`` to the CLI (the reports join ``tenor report``)."""
    app.add_typer(collect)
