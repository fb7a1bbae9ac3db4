"""``tenor restructure``: relief for borrowers in trouble, from the shell.

- ``options --loan ID [--date D] [--json]``: every option, eligible or not, with the reasons
  (zh-CN and en) or the proposed schedule and its comparison with the current one;
- ``apply --loan ID --option deferral --installments 2 --approver KEY``: request, offer,
  acceptance and, when the policy asks for it, a second person's approval, in one step;
- ``request``, ``offers``, ``accept``, ``approve``, ``list``: the same workflow step by step;
- ``score`` records a credit score; ``policy`` shows or sets a product's relief policy.

Who acts: ``--as KEY`` (or ``TENOR_API_KEY``) names the staff member by their API key, as the
API does (``key:<prefix>``); without one, the operating-system user (``cli:<user>``). An
approver is always named by their API key, which must be a risk officer's or an admin's, and
is never the maker.

SQLAlchemy and the store are imported inside the commands, so that ``tenor --help`` starts
fast (and ``tenor.cli``, which imports this module while it is being defined).
"""

# Imports inside the commands are the design (see above).
# ruff: noqa: PLC0415

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tenor.commands.opening import open_database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tenor.core.restructure import Relief

LOAN = typer.Option("--loan", help="The loan's id.", metavar="ID")
JSON = typer.Option("--json", help="Print JSON for machines.")
ACTOR = typer.Option(
    "--as",
    help="Your API key (default: TENOR_API_KEY, else your user name).",
    metavar="KEY",
)


def actor_of(session: Session, key: str | None, *, approver: bool = False) -> str:
    """The journal's name for whoever acts: their key's ``key:<prefix>``, else the OS user.

    A maker's key defaults to ``TENOR_API_KEY``; an approver's must be given.
    """
    from tenor.actions.apikeys import verify_api_key
    from tenor.cli import fail

    if key is None and not approver:
        key = os.environ.get("TENOR_API_KEY")
    if key is None:
        if approver:
            fail("--approver needs an API key")
        return f"cli:{getpass.getuser()}"
    row = verify_api_key(session, key)
    if row is None:
        fail("the API key is unknown, malformed or revoked")
    if approver and row.role not in ("admin", "risk"):
        fail(f"an approver must hold a risk officer's or an admin's key, not a {row.role}'s")
    return f"key:{row.prefix}"


def _print(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _show_option(item: dict[str, Any]) -> None:
    mark = "eligible" if item["eligible"] else "not eligible"
    typer.echo(f"{item['type']}: {mark}")
    for reason in item["reasons"]:
        typer.echo(f"  - {reason['zh']} / {reason['en']}")
    comparison = item["comparison"]
    if comparison:
        now, then = comparison["current"], comparison["proposed"]
        typer.echo(
            f"  installment {now['installment']} -> {then['installment']} "
            f"{comparison['currency']}, term {now['term']} -> {then['term']}, "
            f"last due {now['last_due_date']} -> {then['last_due_date']}, "
            f"interest {now['total_interest']} -> {then['total_interest']}, "
            f"total {now['total_cost']} -> {then['total_cost']}"
        )


def _show_offer(offer: dict[str, Any]) -> None:
    approval = ", needs approval" if offer["needs_approval"] else ""
    typer.echo(
        f"offer {offer['id']} ({offer['type']}, loan {offer['loan_id']}): {offer['status']}"
        f"{approval}; expires {offer['expires_on']}"
    )
    _show_option({"type": offer["type"], "eligible": True, "reasons": [], **offer})


def _relief(
    *,
    currency: str,
    defaults: Relief,
    installments: str | None,
    interest: str | None,
    term: str | None,
    installment_amount: str | None,
    rate_percent: str | None,
    discount_percent: str | None,
    deadline: str | None,
    milestone_dates: str | None,
) -> Relief:
    """The option with the parameters given, the policy's defaults for the others."""
    import dataclasses

    from tenor.cli import parse_amount, parse_choice, parse_count, parse_date, parse_percent
    from tenor.core.restructure import DeferredInterest

    changes: dict[str, Any] = {}
    if installments is not None:
        changes["installments"] = parse_count("--installments", installments)
    if interest is not None:
        changes["interest"] = parse_choice("--interest", interest, DeferredInterest)
    if term is not None:
        changes["term"] = parse_count("--term", term)
    if installment_amount is not None:
        changes["installment_amount"] = parse_amount(
            "--installment-amount", installment_amount, currency
        )
    if rate_percent is not None:
        changes["annual_rate"] = parse_percent("--rate-percent", rate_percent)
    if discount_percent is not None:
        changes["discount"] = parse_percent("--discount-percent", discount_percent)
    if deadline is not None:
        changes["deadline"] = parse_date("--deadline", deadline)
    if milestone_dates is not None:
        changes["milestone_dates"] = tuple(
            parse_date("--milestone-dates", day) for day in milestone_dates.split(",")
        )
    return dataclasses.replace(defaults, **changes)


def options_command(
    loan: Annotated[str, LOAN],
    date: Annotated[
        str | None,
        typer.Option(help="Compute on this date (default: the business date).", metavar="DATE"),
    ] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Every relief option for a loan, eligible or not, with the reasons or the schedule."""
    from tenor.cli import domain_errors, parse_count, parse_date
    from tenor.relief.workflow import evaluate, options_document

    with domain_errors():
        loan_id = parse_count("--loan", loan)
        day = None if date is None else parse_date("--date", date)
        db = open_database()
        try:
            with db.reading() as session:
                document = options_document(evaluate(session, loan_id, day))
        finally:
            db.dispose()
    if as_json:
        _print(document)
        return
    for item in document["options"]:
        _show_option(item)


def apply_command(
    loan: Annotated[str, LOAN],
    option: Annotated[
        str,
        typer.Option(
            help="deferral, term-extension, re-amortisation, arrears-plan, lower-rate, "
            "settlement or milestone-reschedule.",
            metavar="OPTION",
        ),
    ],
    approver: Annotated[
        str | None,
        typer.Option(help="The second person's API key (risk or admin).", metavar="KEY"),
    ] = None,
    installments: Annotated[
        str | None,
        typer.Option(help="Installments deferred, added, in the plan or at the lower rate."),
    ] = None,
    interest: Annotated[
        str | None,
        typer.Option(help="A deferral's interest: capitalise, accrue-to-end or waive."),
    ] = None,
    term: Annotated[str | None, typer.Option(help="A re-amortisation's new term.")] = None,
    installment_amount: Annotated[
        str | None, typer.Option(help="A re-amortisation's target installment.")
    ] = None,
    rate_percent: Annotated[
        str | None, typer.Option(help="The lower annual rate, in percent.")
    ] = None,
    discount_percent: Annotated[
        str | None, typer.Option(help="A settlement's discount of the overdue charges, %.")
    ] = None,
    deadline: Annotated[str | None, typer.Option(help="A settlement's deadline.")] = None,
    milestone_dates: Annotated[
        str | None,
        typer.Option(help="The progress report's dates of the milestones ahead, a,b,..."),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why the borrower needs relief.")] = None,
    actor: Annotated[str | None, ACTOR] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Restructure a loan in one step: request, offer, acceptance and approval."""
    from tenor.actions.relief import restructure
    from tenor.cli import domain_errors, fail, parse_choice, parse_count
    from tenor.core.restructure import Option
    from tenor.relief.workflow import evaluate, offer_document

    with domain_errors():
        loan_id = parse_count("--loan", loan)
        chosen = parse_choice("--option", option, Option)
        db = open_database()
        try:
            with db.reading() as session:
                maker = actor_of(session, actor)
                checker = None if approver is None else actor_of(session, approver, approver=True)
                evaluation = evaluate(session, loan_id)
                defaults = evaluation.document.relief(chosen, evaluation.state, evaluation.day)
            if checker is not None and checker == maker:
                fail("the approver must be a second person, not the maker")
            relief = _relief(
                currency=evaluation.book.loan.currency,
                defaults=defaults,
                installments=installments,
                interest=interest,
                term=term,
                installment_amount=installment_amount,
                rate_percent=rate_percent,
                discount_percent=discount_percent,
                deadline=deadline,
                milestone_dates=milestone_dates,
            )
            offer = restructure(db, loan_id, relief, maker=maker, approver=checker, reason=reason)
            document = offer_document(offer)
        finally:
            db.dispose()
    if as_json:
        _print(document)
        return
    typer.echo(f"Restructured loan {loan_id}: event {document['event_id']}")
    _show_offer(document)


def request_command(
    loan: Annotated[str, LOAN],
    reason: Annotated[str | None, typer.Option(help="Why the borrower needs relief.")] = None,
    evidence: Annotated[
        str | None, typer.Option(help="A reference to the evidence of hardship.")
    ] = None,
    income: Annotated[str | None, typer.Option(help="Monthly income, if known.")] = None,
    debts: Annotated[str | None, typer.Option(help="Other monthly debt payments.")] = None,
    actor: Annotated[str | None, ACTOR] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Record a request for relief and offer every option the loan qualifies for."""
    from tenor.actions.relief import make_offers, request_relief
    from tenor.cli import domain_errors, parse_amount, parse_count
    from tenor.relief.workflow import request_document
    from tenor.store.journal import load_loan

    with domain_errors():
        loan_id = parse_count("--loan", loan)
        db = open_database()
        try:
            with db.transaction() as session:
                who = actor_of(session, actor)
                currency = load_loan(session, loan_id).loan.currency
                request = request_relief(
                    session,
                    loan_id=loan_id,
                    channel="staff",
                    actor=who,
                    reason=reason,
                    hardship_evidence=evidence,
                    monthly_income=None
                    if income is None
                    else parse_amount("--income", income, currency, allow_zero=True),
                    monthly_debt=None
                    if debts is None
                    else parse_amount("--debts", debts, currency, allow_zero=True),
                )
                make_offers(session, request_id=request.id, actor=who)
                document = request_document(session, request)
        finally:
            db.dispose()
    _show_request(document, as_json)


def _show_request(document: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _print(document)
        return
    typer.echo(
        f"request {document['id']} on loan {document['loan_id']}: {document['status']}, "
        f"{len(document['offers'])} offers"
    )
    for offer in document["offers"]:
        _show_offer(offer)


def offers_command(
    request: Annotated[str, typer.Option("--request", help="The request's id.", metavar="ID")],
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Show a request and its offers."""
    from tenor.cli import domain_errors, parse_count
    from tenor.relief.tables import ReliefRequest
    from tenor.relief.workflow import request_document
    from tenor.store.journal import NotFoundError

    with domain_errors():
        request_id = parse_count("--request", request)
        db = open_database()
        try:
            with db.reading() as session:
                row = session.get(ReliefRequest, request_id)
                if row is None:
                    raise NotFoundError(f"relief request {request_id} does not exist")
                document = request_document(session, row)
        finally:
            db.dispose()
    _show_request(document, as_json)


def accept_command(
    offer: Annotated[str, typer.Option("--offer", help="The offer's id.", metavar="ID")],
    actor: Annotated[str | None, ACTOR] = None,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Accept an offer for the borrower; it applies at once unless it needs approval."""
    from tenor.actions.relief import accept_offer
    from tenor.cli import domain_errors, parse_count
    from tenor.relief.workflow import offer_document

    with domain_errors():
        offer_id = parse_count("--offer", offer)
        db = open_database()
        try:
            with db.reading() as session:
                who = actor_of(session, actor)
            document = offer_document(accept_offer(db, offer_id, actor=who))
        finally:
            db.dispose()
    if as_json:
        _print(document)
    else:
        _show_offer(document)


def approve_command(
    offer: Annotated[str, typer.Option("--offer", help="The offer's id.", metavar="ID")],
    approver: Annotated[str, typer.Option(help="Your API key (risk or admin).", metavar="KEY")],
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Approve an accepted offer as the second person; it is then applied."""
    from tenor.actions.relief import approve_offer
    from tenor.cli import domain_errors, parse_count
    from tenor.relief.workflow import offer_document

    with domain_errors():
        offer_id = parse_count("--offer", offer)
        db = open_database()
        try:
            with db.reading() as session:
                who = actor_of(session, approver, approver=True)
            document = offer_document(approve_offer(db, offer_id, approver=who))
        finally:
            db.dispose()
    if as_json:
        _print(document)
    else:
        _show_offer(document)


def list_command(
    loan: Annotated[str, LOAN],
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """A loan's relief: requests, offers, the watch flag, and what pauses collections."""
    from tenor.cli import domain_errors, parse_count
    from tenor.relief.workflow import loan_relief_document

    with domain_errors():
        loan_id = parse_count("--loan", loan)
        db = open_database()
        try:
            with db.reading() as session:
                document = loan_relief_document(session, loan_id)
        finally:
            db.dispose()
    if as_json:
        _print(document)
        return
    watch = "under watch (关注, stage 2)" if document["under_watch"] else "not under watch"
    typer.echo(f"loan {loan_id} on {document['business_date']}: {watch}")
    found = document["open"]
    if found:
        typer.echo(f"collections pause: {found['kind']} {found['offer_id']} ({found['type']})")
    for request in document["requests"]:
        _show_request(request, as_json=False)


def score_command(
    borrower: Annotated[str, typer.Option(help="The borrower's id.", metavar="ID")],
    score: Annotated[str, typer.Option(help="The score, 0 to 1000.", metavar="N")],
    source: Annotated[str, typer.Option(help="A bureau, or a risk model's name.")],
    as_of: Annotated[str, typer.Option("--as-of", help="The score's date.", metavar="DATE")],
    actor: Annotated[str | None, ACTOR] = None,
) -> None:
    """Record a borrower's credit score, which eligibility reads."""
    from tenor.actions.relief import record_credit_score
    from tenor.cli import domain_errors, parse_count, parse_date

    with domain_errors():
        borrower_id = parse_count("--borrower", borrower)
        value = parse_count("--score", score)
        day = parse_date("--as-of", as_of)
        db = open_database()
        try:
            with db.transaction() as session:
                who = actor_of(session, actor)
                record_credit_score(
                    session,
                    borrower_id=borrower_id,
                    score=value,
                    source=source,
                    as_of=day,
                    actor=who,
                )
        finally:
            db.dispose()
    typer.echo(f"Recorded score {value} ({source}, {day}) for borrower {borrower_id}.")


def policy_command(
    product: Annotated[str, typer.Option(help="The product's id.", metavar="ID")],
    set_file: Annotated[
        Path | None,
        typer.Option("--set", help="A JSON policy document to store as the next version."),
    ] = None,
    actor: Annotated[str | None, ACTOR] = None,
) -> None:
    """Show a product's relief policy in force, or set a new version from a JSON file."""
    from tenor.actions.relief import set_relief_policy
    from tenor.cli import domain_errors, fail, parse_count
    from tenor.relief.workflow import current_policy
    from tenor.store.journal import NotFoundError
    from tenor.store.models import Product

    with domain_errors():
        product_id = parse_count("--product", product)
        document: Any = None
        if set_file is not None:
            try:
                document = json.loads(set_file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                fail(f"cannot read the policy {set_file}: {error}")
            if not isinstance(document, dict):
                fail(f"the policy {set_file} must be a JSON object")
        db = open_database()
        try:
            with db.transaction() as session:
                row = session.get(Product, product_id)
                if row is None:
                    raise NotFoundError(f"product {product_id} does not exist")
                if document is not None:
                    who = actor_of(session, actor)
                    set_relief_policy(session, product_id=product_id, document=document, actor=who)
                version, policy = current_policy(session, product_id, row.currency)
        finally:
            db.dispose()
    _print({"product_id": product_id, "version": version, "document": policy.document()})


def register(app: typer.Typer) -> None:
    """Add ``tenor restructure`` to ``app``."""
    restructure = typer.Typer(
        name="restructure",
        help="Relief for borrowers in trouble: options, offers, approvals, restructurings.",
        no_args_is_help=True,
    )
    restructure.command("options")(options_command)
    restructure.command("apply")(apply_command)
    restructure.command("request")(request_command)
    restructure.command("offers")(offers_command)
    restructure.command("accept")(accept_command)
    restructure.command("approve")(approve_command)
    restructure.command("list")(list_command)
    restructure.command("score")(score_command)
    restructure.command("policy")(policy_command)
    app.add_typer(restructure)
