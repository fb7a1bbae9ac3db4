"""Email bounces: a reminder the mail system returned counts against the email channel.

An email is ``sent`` once the mail server accepted it; whether it reached the borrower is told
later, if at all, by a bounce mailed to the return path: a delivery status notification
(RFC 3464, ``multipart/report``) or one of the non-standard reports MTAs still send (qmail,
Exim, ...). :func:`parse_bounce` reads one: flufl.bounce, Mailman's bounce detectors, says which
addresses failed for good (permanent) and which are only delayed (temporary); the standard
``email`` package finds the Message-ID of the message it returns (its ``message/rfc822`` or
``text/rfc822-headers`` part, a copy quoted in the text, ``In-Reply-To``/``References``) and,
when Tenor sends with a VERP return path (:func:`tenor.notify.channels.verp_address`), the
notification id in the address the bounce was delivered to, which matches a bounce that quotes
nothing of the message.

:func:`record_bounce` applies one to the outbox. A permanent bounce of the address a sent
notification went to marks it ``failed`` (rule ``bounced``, the diagnostic in ``last_error``)
and counts once against its (channel, hour) arm of the timing bandit; a delayed one only notes
the delay. Reading the same bounce again changes nothing. :func:`read_maildir` reads the bounce
mailbox, in the Maildir format Postfix and Dovecot deliver to, each new message once.
"""

from __future__ import annotations

import datetime as dt
import logging
import mailbox
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any, Final

from flufl.bounce import all_failures
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tenor.core.errors import InvalidArgumentError
from tenor.notify.outbox import count_failure
from tenor.notify.tables import Notification
from tenor.store.database import Database
from tenor.store.models import Borrower, utc_now

log = logging.getLogger("tenor.notify.bounces")

# flufl.bounce logs a traceback for every message a detector chokes on; with no logging
# configured (the CLI) Python would print it. We report such a message ourselves, in one line.
logging.getLogger("flufl.bounce").addHandler(logging.NullHandler())

#: Headers that carry the address a message was delivered to (Postfix, Exim, Tenor's listener).
DELIVERY_HEADERS: Final = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")

#: A message id as it is written: ``<left@right>``.
_MESSAGE_ID: Final = re.compile(r"<[^<>\s]+@[^<>\s]+>")

#: ``Message-ID: <...>`` in a copy of the returned message quoted as text.
_QUOTED_MESSAGE_ID: Final = re.compile(r"^[ \t]*Message-ID:[ \t]*(<[^<>\s]+>)", re.I | re.M)

#: A line of the report that quotes the remote server: an SMTP reply code or an enhanced status.
_REPLY: Final = re.compile(r"\b(?:[45]\d\d[ -]|[45]\.\d{1,3}\.\d{1,3}\b)")

#: Where non-standard reports start quoting the returned message (qmail's ``--- Below this
#: line ...``, Exim's ``------ This is a copy ...``).
_COPY_FOLLOWS: Final = re.compile(r"^\s*-{2,}")


class UnreadableMessageError(Exception):
    """A message that no bounce detector can read (a corrupt or truncated file)."""


class MaildirError(Exception):
    """The bounce mailbox cannot be read at all."""


def check_bounce_address(address: str) -> str:
    """``address`` if it can be a VERP return path's base (``bounces@bounce.example``)."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain or "+" in local or any(c.isspace() for c in address):
        raise InvalidArgumentError(
            f"the bounce address must look like bounces@bounce.example (no '+'), got {address!r}"
        )
    return address.strip()


@dataclass(frozen=True, slots=True)
class Bounce:
    """What one bounce says: which addresses failed, how, and which message it returns."""

    #: Addresses that failed for good, lower case.
    permanent: frozenset[str]
    #: Addresses whose delivery is only delayed, lower case.
    temporary: frozenset[str]
    #: Message-IDs of the returned message, the surest first.
    message_ids: tuple[str, ...] = ()
    #: Notification ids named by the VERP address the bounce was delivered to.
    notifications: tuple[int, ...] = ()
    #: The remote server's words for each address (RFC 3464 ``Status`` and
    #: ``Diagnostic-Code``).
    diagnostics: dict[str, str] = field(default_factory=dict)
    #: The first line of the report that quotes a reply code, for reports without fields.
    summary: str = ""

    def diagnostic(self, address: str) -> str:
        """Why delivery to ``address`` failed, as the report says it."""
        return self.diagnostics.get(address) or self.summary or "the report gives no reason"


def _addresses(raw: Iterable[bytes]) -> frozenset[str]:
    return frozenset(address.decode("ascii").strip().lower() for address in raw if address)


def _one_line(text: object, limit: int = 500) -> str:
    return " ".join(str(text).split())[:limit]


def parse_bounce(raw: bytes, *, bounce_address: str | None = None) -> Bounce | None:
    """The bounce ``raw`` reports, or None when it is no bounce (an auto-reply, a letter).

    ``bounce_address`` is the base of the VERP return path (``bounces@bounce.example``), if
    Tenor sends with one. Raises :class:`UnreadableMessageError` for a message that cannot be
    read as mail.
    """
    message = message_from_bytes(raw, policy=email_policy.default)
    try:
        temporary, permanent = all_failures(message)
    except Exception as error:
        # The heuristic detectors raise whatever a malformed message makes them meet
        # (IndexError on an empty From:, AttributeError on raw bytes in a header, ...).
        raise UnreadableMessageError(f"no bounce detector can read it: {error!r}") from error
    if not temporary and not permanent:
        return None
    failed = _addresses(permanent)
    return Bounce(
        permanent=failed,
        temporary=_addresses(temporary) - failed,
        message_ids=returned_message_ids(message),
        notifications=() if bounce_address is None else verp_notifications(message, bounce_address),
        diagnostics=_status_fields(message),
        summary=_summary(message),
    )


def _parts(message: Message, content_type: str) -> Iterator[Message]:
    return (part for part in message.walk() if part.get_content_type() == content_type)


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def returned_message_ids(message: Message) -> tuple[str, ...]:
    """Message-IDs of the message a bounce returns, in the order of how sure each one is."""
    found: list[str] = []
    for part in _parts(message, "message/rfc822"):
        for inner in part.get_payload() or []:
            if isinstance(inner, Message):
                found += _MESSAGE_ID.findall(str(inner.get("Message-ID", "")))
    for part in _parts(message, "text/rfc822-headers"):
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            headers = BytesHeaderParser(policy=email_policy.default).parsebytes(payload)
            found += _MESSAGE_ID.findall(str(headers.get("Message-ID", "")))
    for part in _parts(message, "text/plain"):
        found += _QUOTED_MESSAGE_ID.findall(_decoded(part))
    for name in ("In-Reply-To", "References"):
        found += _MESSAGE_ID.findall(str(message.get(name, "")))
    return tuple(dict.fromkeys(found))


def verp_notifications(message: Message, bounce_address: str) -> tuple[int, ...]:
    """Notification ids in the VERP addresses (``bounces+<id>@domain``) ``message`` went to."""
    local, _, domain = check_bounce_address(bounce_address).rpartition("@")
    pattern = re.compile(rf"{re.escape(local)}\+(\d{{1,18}})@{re.escape(domain)}", re.I)
    values = [str(value) for name in DELIVERY_HEADERS for value in message.get_all(name, [])]
    found = [
        int(matched.group(1))
        for _, address in getaddresses(values)
        if (matched := pattern.fullmatch(address.strip()))
    ]
    return tuple(dict.fromkeys(found))


def _status_fields(message: Message) -> dict[str, str]:
    """Each failed or delayed recipient's ``Status`` and ``Diagnostic-Code`` (RFC 3464)."""
    found: dict[str, str] = {}
    for part in _parts(message, "message/delivery-status"):
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks:
            if not isinstance(block, Message) or not block.get("Action"):
                continue
            words = _one_line(f"{block.get('Status', '')} {block.get('Diagnostic-Code', '')}")
            for name in ("Original-Recipient", "Final-Recipient"):
                kind, _, address = str(block.get(name, "")).partition(";")
                if kind.strip().lower() == "rfc822" and address.strip() and words:
                    found.setdefault(address.strip().strip("<>").lower(), words)
    return found


def _summary(message: Message) -> str:
    """The first line of the report's text that quotes the remote server's reply."""
    if message.is_multipart():
        payload = message.get_payload()
        parts = [part for part in payload if isinstance(part, Message)]
    else:
        parts = [message]
    for part in parts:
        if part.get_content_type() != "text/plain":
            continue
        for line in _decoded(part).splitlines():
            if _COPY_FOLLOWS.match(line):
                break
            if _REPLY.search(line):
                return _one_line(line, 300)
    return ""


# --- the outbox -------------------------------------------------------------------------------

#: Permanent bounces of one address after which reminders stop using it. One is not enough:
#: the heuristic detectors read free text, and a mailbox can be full for good one day only.
BOUNCES_FOR_DEAD_ADDRESS: Final = 2

#: What :func:`record_bounce` made of a bounce.
BOUNCED: Final = "bounced"
DELAYED: Final = "delayed"
UNMATCHED: Final = "unmatched"


def record_bounce(db: Database, bounce: Bounce, now: dt.datetime | None = None) -> str:
    """Apply ``bounce`` to the notification it returns: ``bounced``, ``delayed``, ``unmatched``.

    A notification matches when the bounce names it (Message-ID or VERP) and reports the
    address it went to; a bounce of another address (a forward of the borrower's) is left to a
    person. A permanent bounce fails a ``sent`` (or ``delivered``) notification and counts once
    against its (channel, hour) arm; a delay is noted in ``last_error``. Reading the same bounce
    twice changes nothing.
    """
    moment = now or utc_now()
    if not bounce.message_ids and not bounce.notifications:
        return UNMATCHED
    with db.transaction() as session:
        rows = session.scalars(
            select(Notification)
            .where(
                Notification.channel == "email",
                or_(
                    Notification.provider_id.in_(bounce.message_ids),
                    Notification.id.in_(bounce.notifications),
                ),
            )
            .order_by(Notification.id)
            # Two readers of one bounce must not both count it against the arm.
            .with_for_update()
        ).all()
        for row in rows:
            address = row.recipient.strip().lower()
            if address in bounce.permanent:
                if row.state in ("sent", "delivered"):
                    row.state, row.rule, row.updated_at = "failed", "bounced", moment
                    row.last_error = f"bounced: {bounce.diagnostic(address)}"[:2000]
                    count_failure(session, row)
                    log.warning("notification %s bounced: %s", row.id, row.last_error)
                    _mark_dead_address(session, row, moment)
                return BOUNCED
            if address in bounce.temporary:
                note = f"delayed: {bounce.diagnostic(address)}"[:2000]
                if row.state in ("sent", "delivered") and row.last_error != note:
                    row.last_error, row.updated_at = note, moment
                return DELAYED
    return UNMATCHED


def _mark_dead_address(session: Session, row: Notification, now: dt.datetime) -> None:
    """Flag the borrower's email once its address on record has bounced for good repeatedly."""
    borrower = session.get(Borrower, row.borrower_id, with_for_update=True)
    address = row.recipient.strip().lower()
    if borrower is None or borrower.email_invalid_since is not None:
        return
    if (borrower.email or "").strip().lower() != address:
        return
    bounced = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.borrower_id == borrower.id,
            Notification.channel == "email",
            Notification.rule == "bounced",
            func.lower(Notification.recipient) == address,
        )
    )
    if (bounced or 0) >= BOUNCES_FOR_DEAD_ADDRESS:
        borrower.email_invalid_since = now
        log.warning("borrower %s: email bounced %s times; no more email", borrower.id, bounced)


# --- the bounce mailbox -----------------------------------------------------------------------


@dataclass
class BounceReport:
    """What one reading of the bounce mailbox found."""

    read: int = 0
    bounced: int = 0
    delayed: int = 0
    unmatched: int = 0
    not_a_bounce: int = 0
    unreadable: int = 0

    @property
    def matched(self) -> int:
        """Bounces applied to a notification."""
        return self.bounced + self.delayed

    def as_dict(self) -> dict[str, Any]:
        """The counts, ``matched`` among them."""
        return {
            "read": self.read,
            "matched": self.matched,
            "bounced": self.bounced,
            "delayed": self.delayed,
            "unmatched": self.unmatched,
            "not_a_bounce": self.not_a_bounce,
            "unreadable": self.unreadable,
        }


#: Maildir flags a message is filed with: seen once applied; flagged for a person when it is a
#: bounce Tenor could not match or a message it could not read; unseen, unflagged otherwise.
_FLAGS: Final = {BOUNCED: "S", DELAYED: "S", UNMATCHED: "F", "unreadable": "F", "other": ""}


def open_maildir(path: Path) -> mailbox.Maildir:
    """The Maildir at ``path``; :class:`MaildirError` if there is none or it cannot be read."""
    if not path.exists():
        raise MaildirError(f"{path} does not exist")
    missing = [name for name in ("new", "cur", "tmp") if not (path / name).is_dir()]
    if missing:
        raise MaildirError(f"{path} is not a Maildir: it has no {', '.join(missing)} folder")
    for name in ("new", "cur"):
        if not os.access(path / name, os.R_OK | os.W_OK | os.X_OK):
            raise MaildirError(f"{path / name} cannot be read and written")
    return mailbox.Maildir(path, factory=None, create=False)


def _file(box: mailbox.Maildir, root: Path, name: str, flags: str) -> None:
    """Move a message from ``new`` to ``cur`` with ``flags``, as a mail reader does.

    A rename within the Maildir: atomic, so a run killed here leaves the message in one place.
    """
    base, _, info = name.partition(box.colon)
    kept = info.removeprefix("2,") if info.startswith("2,") else ""
    target = f"{base}{box.colon}2,{''.join(sorted(set(kept + flags)))}"
    try:
        os.rename(root / "new" / name, root / "cur" / target)
    except FileNotFoundError:
        # Another reader filed it first; it has been applied, and applying is idempotent.
        log.info("bounce %s was filed by another reader", base)


def read_maildir(
    db: Database,
    path: Path,
    *,
    bounce_address: str | None = None,
    now: dt.datetime | None = None,
) -> BounceReport:
    """Read each new message of the bounce mailbox at ``path`` once, apply the bounces.

    Each message is applied (one transaction), then moved from ``new`` to ``cur``: seen (flag
    S) when it was applied; flagged (F) and unseen, for a person, when it is a bounce that
    matches no notification or a message no detector can read; unseen when it is no bounce.
    Nothing is deleted. A run killed between the two steps reads that message again next time,
    which changes nothing. A message that cannot be opened stays in ``new`` for the next run.
    """
    box = open_maildir(path)
    try:
        names = sorted(entry for entry in os.listdir(path / "new") if not entry.startswith("."))
    except OSError as error:
        raise MaildirError(f"{path / 'new'} cannot be listed: {error.strerror}") from error
    report = BounceReport()
    for name in names:
        report.read += 1
        try:
            raw = box.get_bytes(name.partition(box.colon)[0])
        except (OSError, KeyError) as error:
            report.unreadable += 1
            log.warning("bounce mailbox: %s cannot be opened: %s", name, error)
            continue
        try:
            bounce = parse_bounce(raw, bounce_address=bounce_address)
        except UnreadableMessageError as error:
            report.unreadable += 1
            log.warning("bounce mailbox: %s is unreadable: %s", name, error)
            _file(box, path, name, _FLAGS["unreadable"])
            continue
        if bounce is None:
            report.not_a_bounce += 1
            _file(box, path, name, _FLAGS["other"])
            continue
        outcome = record_bounce(db, bounce, now)
        if outcome == BOUNCED:
            report.bounced += 1
        elif outcome == DELAYED:
            report.delayed += 1
        else:
            report.unmatched += 1
            log.info("bounce mailbox: %s matches no notification; kept for a person", name)
        _file(box, path, name, _FLAGS[outcome])
    return report
