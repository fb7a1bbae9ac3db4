"""``/v1/notifications`` (the outbox, for staff) and the SMS provider's status callback.

``POST /v1/notify/sms/status`` takes Twilio's delivery receipts (form fields ``MessageSid``,
``MessageStatus``, ``ErrorCode``). The provider holds no API key: the request is trusted when
its ``X-Twilio-Signature`` is the HMAC-SHA1 of the callback URL and fields under
``TENOR_SMS_AUTH_TOKEN``; anything else answers 403 ``forbidden`` and changes nothing. The URL
signed is ``TENOR_SMS_STATUS_CALLBACK`` when set (what the provider was told), else the
request's own URL.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Annotated, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from tenor.api.auth import database, require
from tenor.api.problems import ForbiddenError, problem_responses
from tenor.api.roles import Permission, Principal
from tenor.api.schemas import MAX_ID
from tenor.core.errors import InvalidArgumentError
from tenor.notify.channels import verify_twilio_signature
from tenor.notify.outbox import record_receipt
from tenor.notify.tables import Notification
from tenor.store.database import Database
from tenor.store.journal import NotFoundError

router = APIRouter(tags=["notifications"], responses=problem_responses(401, 403, 422))

Db = Annotated[Database, Depends(database)]

State = Literal[
    "pending", "held", "sending", "sent", "delivered", "failed", "dead", "refused", "cancelled",
    "task",
]  # fmt: skip


class NotificationOut(BaseModel):
    """A notification: what it is about, on which channel, and where its delivery stands."""

    id: int
    kind: str
    loan_id: int | None
    borrower_id: int
    installment: int | None
    due_date: dt.date | None
    offset_days: int | None
    channel: str
    locale: str
    policy: str | None
    contact_profile: str
    propensity: float | None = Field(
        description="The loan's propensity to pay the overdue step weighed (null: none)."
    )
    state: str
    rule: str | None
    not_before: dt.datetime
    attempts: int
    last_error: str | None
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None


class NotificationPage(BaseModel):
    """One page of notifications, newest first, and how many match in all."""

    items: list[NotificationOut]
    total: int
    offset: int
    limit: int


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


@router.get(
    "/v1/notifications",
    response_model=NotificationPage,
    summary="List notifications",
)
def list_notifications(
    db: Db,
    _who: Annotated[Principal, Depends(require(Permission.READ_NOTIFICATIONS))],
    loan_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    state: Annotated[State | None, Query()] = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> NotificationPage:
    """The outbox, filtered by loan and state: held ones say which rule holds them and until
    when (``not_before``); dead ones can be requeued with ``tenor notify dead-letters``."""
    where = []
    if loan_id is not None:
        where.append(Notification.loan_id == loan_id)
    if state is not None:
        where.append(Notification.state == state)
    with db.reading() as session:
        total = session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
        rows = session.scalars(
            select(Notification)
            .where(*where)
            .order_by(Notification.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
        items = []
        for row in rows:
            item = NotificationOut.model_validate(row, from_attributes=True)
            item.not_before = _utc(item.not_before) or item.not_before
            item.sent_at, item.delivered_at = _utc(item.sent_at), _utc(item.delivered_at)
            items.append(item)
    return NotificationPage(items=items, total=total, offset=offset, limit=limit)


@router.post(
    "/v1/notify/sms/status",
    status_code=204,
    summary="SMS delivery receipt (provider callback)",
    responses=problem_responses(403, 404),
    # The body is read raw (its exact fields are signed); the document still says its shape.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["MessageSid", "MessageStatus"],
                        "properties": {
                            "MessageSid": {"type": "string"},
                            "MessageStatus": {"type": "string"},
                            "ErrorCode": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
async def sms_status(request: Request, db: Db) -> Response:
    """A delivery receipt from the SMS provider, verified by its signature."""
    token = os.environ.get("TENOR_SMS_AUTH_TOKEN", "")
    raw = (await request.body()).decode("utf-8", errors="replace")
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    url = os.environ.get("TENOR_SMS_STATUS_CALLBACK") or str(request.url)
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not verify_twilio_signature(token, url, fields, signature):
        raise ForbiddenError("the X-Twilio-Signature does not sign this request")
    sid, status = fields.get("MessageSid"), fields.get("MessageStatus")
    if not sid or not status:
        raise InvalidArgumentError("a status callback needs MessageSid and MessageStatus")
    if record_receipt(db, sid, status, fields.get("ErrorCode") or None) is None:
        raise NotFoundError(f"no notification was sent as {sid}")
    return Response(status_code=204)
