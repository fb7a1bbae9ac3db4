"""``tenor contact check`` and ``tenor notify``: contact rules, reminders and their delivery.

``tenor contact check`` asks :func:`tenor.core.contact.check` from the shell and needs no
database; its JSON is a contract other tools depend on::

    tenor contact check --profile us-regf --channel call --at 2026-03-02T20:30:00 \\
        --timezone America/New_York [--debt L1] [--third-party] [--history history.json] --json

prints ``{"allowed": true}`` or ``{"allowed": false, "rule": ..., "reason": ...,
"next_allowed_at": ...}`` and exits 0 either way; bad input exits 2 with one line.

The database, SQLAlchemy and the channels are imported inside the commands, as in
:mod:`tenor.commands.book`, so that ``tenor --help`` starts fast.
"""

# Imports inside the commands are the design (see above).
# ruff: noqa: PLC0415

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from tenor.core.contact import PastContact


def _fail(message: str) -> NoReturn:
    from tenor.cli import fail

    fail(message)


def _print_json(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


# ---------------------------------------------------------------------------------------------
# tenor contact check


def _instant(raw: str, time_zone: str | None) -> dt.datetime:
    """``--at``: an ISO 8601 instant; a wall-clock time is read in ``--timezone``."""
    from zoneinfo import ZoneInfo

    try:
        at = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        _fail(f"--at must be an ISO 8601 date-time such as 2026-03-02T20:30:00, got {raw!r}")
    if at.tzinfo is not None:
        return at
    if time_zone is None:
        _fail(f"--at {raw} has no UTC offset; give one (…-05:00) or --timezone")
    zone = ZoneInfo(time_zone)
    local = at.replace(tzinfo=zone)
    if local.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != at:
        _fail(f"--at {raw} does not exist in {time_zone} (the clocks skip it for daylight saving)")
    return local


def _history(path: Path) -> list[PastContact]:
    from pydantic import BaseModel, ConfigDict, ValidationError

    from tenor.core.contact import DEBTOR, Channel, PastContact

    class Entry(BaseModel):
        model_config = ConfigDict(extra="forbid")

        at: dt.datetime
        channel: Channel
        debt: str | None = None
        connected: bool = False
        conversation: bool = False
        contact: str = DEBTOR

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        _fail(f"--history cannot read {path}: {error.strerror}")
    except (ValueError, UnicodeDecodeError) as error:
        _fail(f"--history {path} is not JSON: {error}")
    if not isinstance(raw, list):
        _fail(f"--history {path} must hold a JSON list of past contacts")
    contacts = []
    for number, item in enumerate(raw, start=1):
        try:
            entry = Entry.model_validate(item)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "entry"
            _fail(f"--history entry {number}: {where}: {first['msg']}")
        if entry.at.tzinfo is None:
            _fail(f"--history entry {number}: at needs a UTC offset, got {item.get('at')!r}")
        contacts.append(
            PastContact(
                at=entry.at,
                channel=entry.channel,
                debt=entry.debt,
                connected=entry.connected,
                conversation=entry.conversation,
                person=entry.contact,
            )
        )
    return contacts


def contact_check_command(
    profile: Annotated[
        str, typer.Option(help="Rulebook: us-regf, cn-nifa-2024 or cn-cba-2026.", metavar="NAME")
    ],
    channel: Annotated[
        str, typer.Option(help="call, sms, email, push or visit.", metavar="CHANNEL")
    ],
    at: Annotated[
        str,
        typer.Option(
            help="When: ISO 8601; without an offset it is read in --timezone.", metavar="TIME"
        ),
    ],
    timezone: Annotated[
        str | None,
        typer.Option(
            help="The borrower's IANA time zone; without one the stricter reading applies.",
            metavar="ZONE",
        ),
    ] = None,
    debt: Annotated[
        str | None, typer.Option(help="The debt the contact is about.", metavar="REF")
    ] = None,
    third_party: Annotated[
        bool, typer.Option("--third-party", help="The contact reaches someone else.")
    ] = False,
    history: Annotated[
        Path | None,
        typer.Option(help="JSON list of past contacts (at, channel, debt, ...).", metavar="FILE"),
    ] = None,
    opt_out: Annotated[
        list[str] | None,
        typer.Option(help="A channel the borrower opted out of (repeatable).", metavar="CHANNEL"),
    ] = None,
    night_consent: Annotated[
        bool,
        typer.Option("--night-consent", help="The borrower consented to contact at night."),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Say whether a contact may happen, and if not, which rule refuses it and until when.

    Exit status 0 whether the contact is allowed or not; 2 for bad input.
    """
    from zoneinfo import available_timezones

    from tenor.core.contact import BorrowerContext, Channel, Contact, Refused, check
    from tenor.core.contact import profile as find_profile
    from tenor.core.errors import DomainError

    def channel_of(option: str, raw: str) -> Channel:
        try:
            return Channel(raw.strip().lower())
        except ValueError:
            names = ", ".join(c.value for c in Channel)
            _fail(f"{option} must be one of {names}, got {raw!r}")

    try:
        rules = find_profile(profile)
    except DomainError as error:
        _fail(f"--profile: {error.message}")
    wanted = channel_of("--channel", channel)
    if timezone is not None and timezone not in available_timezones():
        _fail(f"--timezone must be an IANA time zone such as America/New_York, got {timezone!r}")
    instant = _instant(at, timezone)
    past = [] if history is None else _history(history)
    borrower = BorrowerContext(
        time_zone=timezone,
        opt_outs=frozenset(channel_of("--opt-out", raw) for raw in opt_out or ()),
        night_consent=night_consent,
    )
    contact = Contact(wanted, debt=debt, person="third-party" if third_party else "debtor")
    decision = check(contact, past, borrower, rules, instant)
    if isinstance(decision, Refused):
        document: dict[str, Any] = {
            "allowed": False,
            "rule": decision.rule,
            "reason": decision.reason,
            "next_allowed_at": (
                None if decision.next_allowed_at is None else decision.next_allowed_at.isoformat()
            ),
        }
    else:
        document = {"allowed": True}
    if json_output:
        typer.echo(json.dumps(document, ensure_ascii=False))
    elif document["allowed"]:
        typer.echo("allowed")
    else:
        after = document["next_allowed_at"] or "never, unless the facts change"
        typer.echo(f"refused by {document['rule']}: {document['reason']}; next allowed: {after}")


# ---------------------------------------------------------------------------------------------
# tenor notify


def _offset(raw: str) -> int:
    """``D-1``, ``D0``, ``D+3`` (or -1, 0, 3): days from the due date."""
    text = raw.strip().upper().removeprefix("D")
    try:
        return int(text or "x")
    except ValueError:
        _fail(f"--offset must be written D-3, D0 or D+7, got {raw!r}")


def _positive(option: str, raw: str, maximum: int) -> int:
    if not raw.strip().isdigit() or not 1 <= int(raw) <= maximum:
        _fail(f"{option} must be a whole number from 1 to {maximum}, got {raw!r}")
    return int(raw)


def preview_command(
    loan: Annotated[str, typer.Option(help="The loan's id.", metavar="ID")],
    offset: Annotated[
        str, typer.Option(help="Days from the due date: D-3, D-1, D0, D+1 ...", metavar="D")
    ],
    channel: Annotated[str, typer.Option(help="sms, push, email or voice.", metavar="CHANNEL")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Print the reminder a loan's borrower would get at an offset on a channel.

    It is about the loan's next unpaid installment, in the borrower's language, from the
    policy of the loan's product; nothing is written.
    """
    from sqlalchemy import select

    from tenor.commands.opening import open_database
    from tenor.core.contact import profile
    from tenor.core.money import Money
    from tenor.notify.policy import choose_policy, stored_policies
    from tenor.notify.render import ReminderFacts, render
    from tenor.store.models import Borrower, InstallmentRow, Loan, Product

    loan_id = _positive("--loan", loan, 2**63 - 1)
    days = _offset(offset)
    if channel not in ("sms", "push", "email", "voice"):
        _fail(f"--channel must be one of sms, push, email, voice, got {channel!r}")
    db = open_database()
    with db.reading() as session:
        row = session.get(Loan, loan_id)
        if row is None:
            _fail(f"--loan: loan {loan_id} does not exist")
        borrower = session.get(Borrower, row.borrower_id)
        product = session.get(Product, row.product_id)
        assert borrower is not None
        assert product is not None
        installment = session.scalars(
            select(InstallmentRow)
            .where(InstallmentRow.loan_id == loan_id, InstallmentRow.unpaid_minor > 0)
            .order_by(InstallmentRow.number)
        ).first()
        if installment is None:
            _fail(f"--loan: loan {loan_id} has no unpaid installment to remind of")
        policy = choose_policy(stored_policies(session), product.code, borrower.kind)
        step = policy.step(days)
        if step is None:
            offsets = ", ".join(f"D{s.offset:+d}".replace("+0", "0") for s in policy.steps)
            _fail(f"--offset: policy {policy.name} has no reminder at D{days:+d} ({offsets})")
        facts = ReminderFacts(
            name=borrower.name,
            loan_id=loan_id,
            installment=installment.number,
            amount=Money(installment.unpaid_minor, row.currency),
            due_date=installment.due_date,
            offset_days=days,
        )
        rules = profile(policy.contact_profile)
        opt_out = channel in ("sms", "email") and bool(rules.opt_out_notice_channels)
        message = render(step.template, channel, borrower.locale, facts, opt_out=opt_out)
    db.dispose()
    document = {
        "loan": loan_id,
        "installment": installment.number,
        "offset": days,
        "channel": channel,
        "locale": borrower.locale,
        "policy": policy.name,
        "template": step.template,
        "subject": message.subject,
        "body": message.body,
    }
    if json_output:
        _print_json(document)
        return
    if message.subject:
        typer.echo(f"Subject: {message.subject}\n")
    typer.echo(message.body)


def schedule_command(
    date: Annotated[
        str | None,
        typer.Option(help="Business date, YYYY-MM-DD (default: the book's).", metavar="DATE"),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Write the outbox rows of the day's reminders, from the installments due around it.

    The daily close does this at each business date; run again, it adds nothing.
    """
    from tenor.cli import domain_errors, parse_date
    from tenor.commands.opening import open_database
    from tenor.notify.reminders import due_reminders, schedule_reminders
    from tenor.store.journal import business_date

    with domain_errors():
        day = None if date is None else parse_date("--date", date)
    db = open_database()
    with db.transaction() as session:
        day = day or business_date(session)
        actions = due_reminders(session, day)
        result = schedule_reminders(session, actions, day)
    db.dispose()
    document = {
        "date": day.isoformat(),
        "actions": len(actions),
        "written": result.written,
        "already_written": result.duplicates,
        "skipped": result.skipped,
        "held_or_refused": result.refusals,
        "escalated_for_low_propensity": result.escalated,
    }
    if json_output:
        _print_json(document)
    else:
        typer.echo(
            f"{day}: {len(actions)} reminder actions, {result.written} notifications written, "
            f"{result.duplicates} already there, skipped {result.skipped or 'none'}, "
            f"held or refused by rule {result.refusals or 'none'}, "
            f"{result.escalated} added for a low propensity to pay"
        )


def dispatch_command(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then stop.")] = False,
    workers: Annotated[
        str, typer.Option(help="Dispatch workers (threads), 1 to 32.", metavar="N")
    ] = "1",
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Send the outbox's due notifications through the configured channels.

    Channels come from TENOR_SMTP_HOST (email), TENOR_SMS_BASE_URL (SMS) and
    TENOR_PUSH_WEBHOOK_URL or TENOR_FCM_BASE_URL (push); a channel without settings leaves
    its notifications waiting. Without --once it runs until interrupted.
    """
    from tenor.commands.opening import open_database
    from tenor.notify.channels import channels_from_environment
    from tenor.notify.outbox import run_workers

    count = _positive("--workers", workers, 32)
    channels = channels_from_environment()
    db = open_database()
    try:
        report = run_workers(db, channels, workers=count, once=once)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
    finally:
        db.dispose()
    outcomes = dict(sorted(report.outcomes.items()))
    if json_output:
        _print_json({"channels": sorted(channels), "outcomes": outcomes})
    else:
        configured = ", ".join(sorted(channels)) or "none configured"
        typer.echo(f"channels: {configured}; handled {report.total}: {outcomes or 'nothing due'}")


def dead_letters_list_command(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """List dead notifications: every attempt failed."""
    from sqlalchemy import select

    from tenor.commands.opening import open_database
    from tenor.notify.tables import Notification

    db = open_database()
    with db.reading() as session:
        rows = session.scalars(
            select(Notification).where(Notification.state == "dead").order_by(Notification.id)
        ).all()
        items = [
            {
                "id": row.id,
                "loan_id": row.loan_id,
                "channel": row.channel,
                "attempts": row.attempts,
                "last_error": row.last_error,
            }
            for row in rows
        ]
    db.dispose()
    if json_output:
        _print_json(items)
        return
    for item in items:
        typer.echo(
            f"{item['id']}  loan {item['loan_id']}  {item['channel']}  "
            f"{item['attempts']} attempts  {item['last_error']}"
        )
    typer.echo(f"{len(items)} dead notifications")


def dead_letters_requeue_command(
    ids: Annotated[list[str] | None, typer.Argument(help="Ids to requeue.", metavar="ID")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Requeue every dead one.")] = False,
) -> None:
    """Put dead notifications back in the queue, with their attempts reset."""
    from tenor.commands.opening import open_database
    from tenor.notify.outbox import requeue

    if not ids and not everything:
        _fail("give the ids to requeue, or --all")
    if ids and everything:
        _fail("give ids or --all, not both")
    wanted = None if everything else [_positive("ID", raw, 2**63 - 1) for raw in ids or ()]
    db = open_database()
    count = requeue(db, wanted)
    db.dispose()
    typer.echo(f"requeued {count} notifications")


def bounces_command(
    maildir: Annotated[
        Path, typer.Option(help="The bounce mailbox, a Maildir (new, cur, tmp).", metavar="PATH")
    ],
    bounce_address: Annotated[
        str | None,
        typer.Option(
            envvar="TENOR_SMTP_BOUNCE_ADDRESS",
            help="The VERP return path's base (bounces@bounce.example), as the dispatcher sends.",
            metavar="ADDRESS",
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Read the bounce mailbox: bounced reminders fail and count against the email channel.

    Each new message is read once and moved to cur: applied bounces seen; bounces that match no
    reminder, and messages no detector can read, flagged for a person; nothing is deleted.
    """
    from rich.console import Console
    from rich.table import Table

    from tenor.cli import domain_errors
    from tenor.commands.opening import open_database
    from tenor.notify.bounces import MaildirError, check_bounce_address, open_maildir, read_maildir

    with domain_errors():
        address = None if bounce_address is None else check_bounce_address(bounce_address)
    try:
        open_maildir(maildir)
    except MaildirError as error:
        _fail(f"--maildir {error}")
    db = open_database()
    try:
        report = read_maildir(db, maildir, bounce_address=address)
    except MaildirError as error:
        _fail(f"--maildir {error}")
    finally:
        db.dispose()
    document = report.as_dict()
    if json_output:
        _print_json(document)
        return
    table = Table(
        "Read", "Matched", "Bounced", "Delayed", "Unmatched", "Not a bounce", "Unreadable"
    )
    table.add_row(*(f"{document[key]:,}" for key in document))
    console = Console(highlight=False)
    console.print(f"Bounce mailbox {maildir}:")
    console.print(table)
    if report.unmatched or report.unreadable:
        console.print("Unmatched and unreadable messages are flagged in cur/ for a person.")


def bounce_listener_command(
    maildir: Annotated[
        Path, typer.Option(help="The bounce mailbox to deliver into (a Maildir).", metavar="PATH")
    ],
    domain: Annotated[
        str, typer.Option(help="The bounce domain; mail for any other is refused.", metavar="NAME")
    ],
    host: Annotated[str, typer.Option(help="Address to listen on.", metavar="HOST")] = "127.0.0.1",
    port: Annotated[str, typer.Option(help="TCP port (25 for an MX).", metavar="PORT")] = "2525",
) -> None:
    """Accept the bounce domain's mail over SMTP into the bounce mailbox, until interrupted."""
    import threading

    from tenor.notify.bounce_listener import start_listener
    from tenor.notify.bounces import MaildirError

    number = _positive("--port", port, 65535)
    if "@" in domain or "." not in domain.strip(".") or any(c.isspace() for c in domain):
        _fail(f"--domain must be a domain name such as bounce.example, got {domain!r}")
    try:
        controller = start_listener(maildir, domain, host, number)
    except MaildirError as error:
        _fail(f"--maildir {error}")
    except (OSError, RuntimeError) as error:
        _fail(f"cannot listen on {host}:{number}: {error}")
    typer.echo(f"taking mail for {domain} on {host}:{number} into {maildir}; Ctrl-C stops")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


def register(app: typer.Typer) -> None:
    """Add ``tenor contact`` and ``tenor notify`` to ``app``."""
    contact = typer.Typer(
        name="contact", help="Contact rules by jurisdiction.", no_args_is_help=True
    )
    contact.command("check")(contact_check_command)
    app.add_typer(contact)
    notify = typer.Typer(name="notify", help="Reminders and their delivery.", no_args_is_help=True)
    notify.command("preview")(preview_command)
    notify.command("schedule")(schedule_command)
    notify.command("dispatch")(dispatch_command)
    notify.command("bounces")(bounces_command)
    notify.command("bounce-listener")(bounce_listener_command)
    dead = typer.Typer(
        name="dead-letters", help="Notifications whose every attempt failed.", no_args_is_help=True
    )
    dead.command("list")(dead_letters_list_command)
    dead.command("requeue")(dead_letters_requeue_command)
    notify.add_typer(dead)
    app.add_typer(notify)
