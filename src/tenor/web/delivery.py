"""The seam through which a borrower's one-time sign-in code leaves Tenor.

The notification capability (channels, gateways, the outbox and its dispatcher) does not
exist yet. Until it does, :class:`OutboxDelivery` renders the message in the borrower's
language, stores it in ``web_code_outbox`` (marked unsent) in the same transaction as the
code, and logs one line with the number masked and no code. Tests read the message from
that table. When notify lands, a delivery that hands the message to its outbox replaces
this one (``create_web_app(delivery=...)``); nothing else changes.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from tenor.api.logs import get_logger
from tenor.store.models import Borrower
from tenor.store.reads import mask
from tenor.web.i18n import LOCALES, translate
from tenor.web.tables import CodeMessage

CODE_MESSAGE = "Your sign-in code for Tenor is %(code)s. It expires in 10 minutes."


class CodeDelivery(Protocol):
    """Sends a sign-in code to a borrower's phone."""

    def deliver(self, session: Session, borrower: Borrower, phone: str, code: str) -> None:
        """Queue the code for ``phone``, inside the caller's transaction."""


class OutboxDelivery:
    """Writes the text message to the console's stand-in outbox and logs a masked line."""

    def deliver(self, session: Session, borrower: Borrower, phone: str, code: str) -> None:
        """Store the message in ``web_code_outbox``, in the borrower's language."""
        locale = borrower.locale if borrower.locale in LOCALES else "zh-CN"
        session.add(
            CodeMessage(
                borrower_id=borrower.id,
                channel="sms",
                destination=phone,
                body=translate(locale, CODE_MESSAGE, code=code),
            )
        )
        session.flush()
        get_logger().info(
            "sign-in code queued", borrower_id=borrower.id, channel="sms", to=mask(phone)
        )
