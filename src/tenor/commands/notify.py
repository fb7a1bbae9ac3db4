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


def _history(path: Path, default_debt: str | None) -> list[PastContact]:
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
                debt=entry.debt if entry.debt is not None else default_debt,
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
    past = [] if history is None else _history(history, None)
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


def register(app: typer.Typer) -> None:
    """Add ``tenor contact`` and ``tenor notify`` to ``app``."""
    contact = typer.Typer(
        name="contact", help="Contact rules by jurisdiction.", no_args_is_help=True
    )
    contact.command("check")(contact_check_command)
    app.add_typer(contact)
