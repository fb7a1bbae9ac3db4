"""Channels: one small interface, :class:`Sender`, in front of each way of reaching people.

- :class:`SmtpEmail`: email over SMTP with optional STARTTLS and login (``smtplib``).
- :class:`TwilioSms`: SMS through Twilio's Messages API shape (``POST
  {base}/2010-04-01/Accounts/{sid}/Messages.json``, form fields ``To``, ``From``, ``Body``,
  ``StatusCallback``; HTTP basic auth), any base URL, so a gateway that speaks that shape, or a
  local test server, can stand in. Status callbacks are verified by :func:`twilio_signature`.
- :class:`FcmPush`: app push in FCM HTTP v1's message shape (``POST
  {base}/v1/projects/{project}/messages:send``, ``{"message": {"topic": ..., "notification":
  ...}}``), each borrower's devices subscribed to the topic ``borrower-<id>``.
- :class:`WebhookPush`: push as a JSON POST to the lender's own app gateway, signed with
  HMAC-SHA256 (``X-Tenor-Signature: sha256=<hex>`` over ``<timestamp>.<body>``).

apprise was considered: it sends to every one of these, but returns only success or failure,
with no provider message id for delivery receipts, no idempotency key and a fixed Twilio
host; the outbox needs all three, and the channels are small over httpx and smtplib.

Every HTTP request carries the notification's key as ``Idempotency-Key``: a dispatcher killed
after the provider accepted a message but before it recorded that sends it again on restart,
and a provider that honours the key (our gateway, FCM's message dedup) keeps it once.
A :class:`DeliveryError` says whether trying again can help (``transient``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Final, Protocol

import httpx

#: Seconds an HTTP provider or the mail server has to answer before the attempt fails.
TIMEOUT: Final = 10.0


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message as a channel sends it."""

    key: str
    recipient: str
    subject: str | None
    body: str
    locale: str
    #: The outbox row's id, for channels that put it in the message (a VERP return path).
    notification: int | None = None


class DeliveryError(Exception):
    """A message was not accepted; ``transient`` when trying later may succeed."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Sender(Protocol):
    """A channel: sends one message, returns the provider's id for it (or None)."""

    def send(self, message: OutgoingMessage) -> str | None:
        """Send ``message``; raise DeliveryError when it is not accepted."""
        ...


def _http_error(response: httpx.Response, what: str) -> DeliveryError:
    # 429 and 5xx are the provider's trouble and pass; other 4xx are ours and will not.
    transient = response.status_code == 429 or response.status_code >= 500
    return DeliveryError(
        f"{what} answered {response.status_code}: {response.text[:200]}", transient=transient
    )


def _post(client: httpx.Client, url: str, what: str, **kwargs: object) -> httpx.Response:
    try:
        response = client.post(url, **kwargs)  # type: ignore[arg-type]
    except httpx.TimeoutException as error:
        raise DeliveryError(f"{what} did not answer in time: {error}", transient=True) from error
    except httpx.TransportError as error:
        raise DeliveryError(f"{what} is unreachable: {error}", transient=True) from error
    if response.status_code >= 300:
        raise _http_error(response, what)
    return response


def verp_address(bounce_address: str, notification: int) -> str:
    """``bounces+<notification>@domain``: a return path that names the message it returns."""
    local, _, domain = bounce_address.rpartition("@")
    return f"{local}+{notification}@{domain}"


@dataclass
class SmtpEmail:
    """Email over SMTP; STARTTLS and login when configured.

    With ``bounce_address`` (``bounces@bounce.example``) each message's envelope sender is
    ``bounces+<notification id>@bounce.example`` (VERP), so that a bounce which quotes nothing
    of the message still names it (:mod:`tenor.notify.bounces`).
    """

    host: str
    port: int = 587
    sender: str = "reminders@tenor.invalid"
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    timeout: float = TIMEOUT
    tls_context: ssl.SSLContext | None = None
    bounce_address: str | None = None

    def send(self, message: OutgoingMessage) -> str | None:
        """Send one email; its Message-ID is the provider id."""
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject or ""
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = make_msgid(idstring=message.key.replace(":", "."))
        email["X-Tenor-Notification"] = message.key
        email.set_content(message.body)
        # After set_content, which replaces every Content-* header.
        email["Content-Language"] = message.locale
        return_path = (
            verp_address(self.bounce_address, message.notification)
            if self.bounce_address and message.notification is not None
            else None
        )
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.tls_context or ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email, from_addr=return_path)
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(
                f"the mail server refused {error.recipients}", transient=False
            ) from error
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(
                f"the mail server answered {error.smtp_code}", transient=error.smtp_code < 500
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"the mail server failed: {error}", transient=True) from error
        return str(email["Message-ID"])


@dataclass
class TwilioSms:
    """SMS through Twilio's Messages API shape at ``base_url``."""

    base_url: str
    account_sid: str
    auth_token: str
    sender: str
    status_callback: str | None = None
    timeout: float = TIMEOUT

    def send(self, message: OutgoingMessage) -> str | None:
        """Send one text; the provider's message SID is the provider id."""
        form = {"To": message.recipient, "From": self.sender, "Body": message.body}
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        url = f"{self.base_url.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        with httpx.Client(timeout=self.timeout) as client:
            response = _post(
                client,
                url,
                "the SMS provider",
                data=form,
                auth=(self.account_sid, self.auth_token),
                headers={"Idempotency-Key": message.key},
            )
        try:
            sid = response.json()["sid"]
        except (ValueError, KeyError, TypeError) as error:
            raise DeliveryError(
                "the SMS provider answered without a sid", transient=True
            ) from error
        return str(sid)


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's request signature: HMAC-SHA1 of the URL and the sorted POST fields, base64."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_twilio_signature(
    auth_token: str, url: str, params: Mapping[str, str], signature: str
) -> bool:
    """Whether ``signature`` is Twilio's signature of this callback."""
    return hmac.compare_digest(twilio_signature(auth_token, url, params), signature)


@dataclass
class FcmPush:
    """App push in FCM HTTP v1's shape, to the topic of the borrower's devices."""

    base_url: str
    project: str
    access_token: str
    timeout: float = TIMEOUT

    def send(self, message: OutgoingMessage) -> str | None:
        """Send one push; FCM's message name is the provider id."""
        document = {
            "message": {
                "topic": message.recipient,
                "notification": {"title": message.subject or "", "body": message.body},
                "data": {"notification": message.key, "locale": message.locale},
            }
        }
        url = f"{self.base_url.rstrip('/')}/v1/projects/{self.project}/messages:send"
        with httpx.Client(timeout=self.timeout) as client:
            response = _post(
                client,
                url,
                "the push service",
                json=document,
                headers={
                    "Authorization": f"Bearer {self.access_token}",
                    "Idempotency-Key": message.key,
                },
            )
        try:
            return str(response.json()["name"])
        except (ValueError, KeyError, TypeError):
            return None


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``<timestamp>.<body>`` with the shared secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


@dataclass
class WebhookPush:
    """App push as a signed JSON POST to the lender's own gateway."""

    url: str
    secret: str
    timeout: float = TIMEOUT

    def send(self, message: OutgoingMessage) -> str | None:
        """POST the push; the gateway's ``id`` (if it answers one) is the provider id."""
        body = json.dumps(
            {
                "id": message.key,
                "to": message.recipient,
                "title": message.subject or "",
                "body": message.body,
                "locale": message.locale,
            },
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(time.time()))
        with httpx.Client(timeout=self.timeout) as client:
            response = _post(
                client,
                self.url,
                "the push gateway",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Tenor-Timestamp": timestamp,
                    "X-Tenor-Signature": webhook_signature(self.secret, timestamp, body),
                    "Idempotency-Key": message.key,
                },
            )
        try:
            return str(response.json().get("id") or "") or None
        except ValueError:
            return None


def channels_from_environment(env: Mapping[str, str] | None = None) -> dict[str, Sender]:
    """The channels configured by ``TENOR_SMTP_*``, ``TENOR_SMS_*`` and ``TENOR_PUSH_*``.

    ``TENOR_SMTP_BOUNCE_ADDRESS`` turns on VERP return paths (see :class:`SmtpEmail`).

    A channel without its settings is absent: its notifications wait, they do not fail.
    """
    env = os.environ if env is None else env
    channels: dict[str, Sender] = {}
    if env.get("TENOR_SMTP_HOST"):
        channels["email"] = SmtpEmail(
            host=env["TENOR_SMTP_HOST"],
            port=int(env.get("TENOR_SMTP_PORT", "587")),
            sender=env.get("TENOR_SMTP_FROM", "reminders@tenor.invalid"),
            starttls=env.get("TENOR_SMTP_STARTTLS", "true").lower() not in ("0", "false", "no"),
            username=env.get("TENOR_SMTP_USERNAME") or None,
            password=env.get("TENOR_SMTP_PASSWORD") or None,
            bounce_address=env.get("TENOR_SMTP_BOUNCE_ADDRESS") or None,
        )
    if env.get("TENOR_SMS_BASE_URL"):
        channels["sms"] = TwilioSms(
            base_url=env["TENOR_SMS_BASE_URL"],
            account_sid=env.get("TENOR_SMS_ACCOUNT_SID", ""),
            auth_token=env.get("TENOR_SMS_AUTH_TOKEN", ""),
            sender=env.get("TENOR_SMS_FROM", ""),
            status_callback=env.get("TENOR_SMS_STATUS_CALLBACK") or None,
        )
    if env.get("TENOR_PUSH_WEBHOOK_URL"):
        channels["push"] = WebhookPush(
            url=env["TENOR_PUSH_WEBHOOK_URL"], secret=env.get("TENOR_PUSH_WEBHOOK_SECRET", "")
        )
    elif env.get("TENOR_FCM_BASE_URL"):
        channels["push"] = FcmPush(
            base_url=env["TENOR_FCM_BASE_URL"],
            project=env.get("TENOR_FCM_PROJECT", ""),
            access_token=env.get("TENOR_FCM_ACCESS_TOKEN", ""),
        )
    return channels
