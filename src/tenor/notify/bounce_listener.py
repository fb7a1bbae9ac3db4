"""An SMTP listener for the bounce domain's MX: bounces go into the bounce mailbox (Maildir).

For a lender without a mail server of its own for bounces: point the bounce domain's MX at
``tenor notify bounce-listener`` and it accepts mail for that domain alone (anything else is
refused as relaying), writes each message into the Maildir with ``Return-Path`` and one
``Delivered-To`` per recipient, as Postfix's local delivery does, and only then answers 250:
a message acknowledged is on disk (``mailbox.Maildir.add`` writes to ``tmp``, syncs, and moves
it to ``new``). ``tenor notify bounces`` reads it from there like any other Maildir.
aiosmtpd is the server (aio-libs' successor to the standard library's ``smtpd``).
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
from pathlib import Path
from typing import Final

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tenor.notify.bounces import open_maildir

log = logging.getLogger("tenor.notify.bounces")

#: Largest message accepted: a bounce that returns a whole reminder is a few kilobytes.
MAX_MESSAGE: Final = 10 * 1024 * 1024


class MaildirDelivery:
    """aiosmtpd handler: accept mail for ``domain``, deliver it into the Maildir."""

    def __init__(self, box: mailbox.Maildir, domain: str) -> None:
        self.box = box
        self.domain = domain.strip().lower()

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self,
        _server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        _options: list[str],
    ) -> str:
        """Take recipients of the bounce domain; refuse relaying anywhere else."""
        if address.rpartition("@")[2].lower() != self.domain:
            return "550 5.7.1 relaying denied: this server only takes mail for " + self.domain
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, _server: SMTP, _session: Session, envelope: Envelope
    ) -> str:
        """Write the message into the Maildir; acknowledge it once it is there."""
        content = envelope.original_content or envelope.content
        if not isinstance(content, bytes):
            return "554 5.6.0 message content is not bytes"
        # aiosmtpd gives the null sender of a bounce as "<>", any other without brackets.
        sender = (envelope.mail_from or "").strip().removeprefix("<").removesuffix(">")
        trace = f"Return-Path: <{sender}>\r\n" + "".join(
            f"Delivered-To: {recipient}\r\n" for recipient in envelope.rcpt_tos
        )
        try:
            # A blocking write of a small file; off the event loop all the same.
            key = await asyncio.to_thread(self.box.add, trace.encode() + content)
        except OSError as error:
            log.error("bounce listener: cannot write into the bounce mailbox: %s", error)
            return "451 4.3.0 the mailbox cannot be written now; try again later"
        return f"250 2.0.0 delivered as {key}"


def start_listener(maildir: Path, domain: str, host: str, port: int) -> Controller:
    """Start the listener in a thread; ``stop()`` the controller it returns to end it."""
    handler = MaildirDelivery(open_maildir(maildir), domain)
    controller = Controller(
        handler, hostname=host, port=port, data_size_limit=MAX_MESSAGE, ident="Tenor bounces"
    )
    controller.start()
    return controller
