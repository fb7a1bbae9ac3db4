"""The seam through which a borrower's one-time sign-in code leaves Tenor: the notification
outbox.

:class:`OutboxDelivery` renders the text message in the borrower's language and writes it to
``notifications`` (kind ``sign-in-code``, channel ``sms``) in the same transaction as the code,
so that a code is either stored and queued or neither. The outbox's dispatcher (``tenor notify
dispatch``) sends it through the SMS channel like every other message; the contact rules do not
hold it, since the borrower asked for it this minute (``tenor.notify.tables.REQUESTED_KINDS``).
The code is in the message and nowhere else: the one log line names the borrower, the channel
and the masked number, and the outbox's readers (the API, the loan page) never show a body.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from tenor.api.logs import get_logger
from tenor.notify.policy import DEFAULT_POLICY
from tenor.notify.tables import SIGN_IN_CODE, Notification
from tenor.store.models import Borrower
from tenor.store.reads import mask
from tenor.web.accounts import IssuedCode
from tenor.web.i18n import DEFAULT_LOCALE, LOCALES, translate

CODE_MESSAGE = "Your sign-in code for Tenor is %(code)s. It expires in 10 minutes."


class CodeDelivery(Protocol):
    """Sends a sign-in code to a borrower's phone."""

    def deliver(self, session: Session, borrower: Borrower, phone: str, issued: IssuedCode) -> None:
        """Queue the code for ``phone``, inside the caller's transaction."""


class OutboxDelivery:
    """Queues the text message in the notification outbox and logs a masked line."""

    def deliver(self, session: Session, borrower: Borrower, phone: str, issued: IssuedCode) -> None:
        """An SMS notification to ``phone`` in the borrower's language, due at once."""
        locale = borrower.locale if borrower.locale in LOCALES else DEFAULT_LOCALE
        session.add(
            Notification(
                # One message per code, however often this transaction's work is retried.
                dedupe_key=f"{SIGN_IN_CODE}:{issued.id}",
                kind=SIGN_IN_CODE,
                borrower_id=borrower.id,
                channel="sms",
                recipient=phone,
                locale=locale,
                body=translate(locale, CODE_MESSAGE, code=issued.code),
                # Not a reminder: no policy; the column wants a profile, the rules skip it.
                contact_profile=DEFAULT_POLICY.contact_profile,
                state="pending",
                not_before=issued.issued_at,
                attempts=0,
                created_at=issued.issued_at,
                updated_at=issued.issued_at,
            )
        )
        session.flush()
        get_logger().info(
            "sign-in code queued", borrower_id=borrower.id, channel="sms", to=mask(phone)
        )
