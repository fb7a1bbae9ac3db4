"""Real local servers for delivery tests: an HTTP server that plays the SMS provider (Twilio's
Messages API shape), FCM and a push gateway, with outages, slow answers and status callbacks;
and an SMTP server (aiosmtpd) with STARTTLS and login."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tenor.notify.channels import twilio_signature, webhook_signature

ACCOUNT = "AC0123456789"
TOKEN = "provider-secret"
PUSH_SECRET = "gateway-secret"


@dataclass
class Provider:
    """What the fake provider saw: deliveries by idempotency key, every request, callbacks."""

    mode: str = "up"  # up | down | slow
    delay: float = 0.0
    deliveries: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    callback_status: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def delivered(self, path_part: str = "") -> dict[str, dict[str, Any]]:
        """Deliveries whose path contains ``path_part``."""
        with self.lock:
            return {k: v for k, v in self.deliveries.items() if path_part in v["path"]}


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def _answer(self, status: int, document: dict[str, Any]) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            key = self.headers.get("Idempotency-Key", "")
            with provider.lock:
                provider.requests.append(key)
            if provider.mode == "down":
                self._answer(503, {"message": "service unavailable"})
                return
            if provider.mode == "slow":
                time.sleep(provider.delay)
            if self.path.endswith("/Messages.json"):
                self._sms(raw, key)
            elif ":send" in self.path:
                if self.headers.get("Authorization") != "Bearer fcm-token":
                    self._answer(401, {"error": "unauthenticated"})
                    return
                self._store(key, json.loads(raw), "projects/p/messages/")
            else:
                stamp = self.headers.get("X-Tenor-Timestamp", "")
                wanted = webhook_signature(PUSH_SECRET, stamp, raw)
                if self.headers.get("X-Tenor-Signature") != wanted:
                    self._answer(401, {"error": "bad signature"})
                    return
                self._store(key, json.loads(raw), "push-")

        def _store(self, key: str, document: dict[str, Any], prefix: str) -> None:
            with provider.lock:
                known = provider.deliveries.get(key)
                if known is None:
                    known = {"path": self.path, "document": document}
                    known["id"] = f"{prefix}{len(provider.deliveries) + 1}"
                    provider.deliveries[key] = known
            self._answer(200, {"name": known["id"], "id": known["id"]})

        def _sms(self, raw: bytes, key: str) -> None:
            wanted = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
            if self.headers.get("Authorization") != wanted:
                self._answer(401, {"code": 20003, "message": "Authenticate"})
                return
            form = dict(parse_qsl(raw.decode()))
            if not form.get("To", "").startswith("1"):
                self._answer(400, {"code": 21211, "message": "Invalid 'To' Phone Number"})
                return
            with provider.lock:
                known = provider.deliveries.get(key)
                fresh = known is None
                if known is None:
                    known = {"path": self.path, "document": form}
                    known["id"] = f"SM{len(provider.deliveries) + 1:032d}"
                    provider.deliveries[key] = known
            self._answer(201, {"sid": known["id"], "status": "queued", "to": form["To"]})
            if fresh and form.get("StatusCallback"):
                status = "undelivered" if form["To"].endswith("0000") else "delivered"
                threading.Thread(
                    target=_callback, args=(provider, form["StatusCallback"], known["id"], status)
                ).start()

    return Handler


def _callback(provider: Provider, url: str, sid: str, status: str) -> None:
    """Tell Tenor how the message fared, signed as Twilio signs its callbacks."""
    fields = {"MessageSid": sid, "MessageStatus": status, "AccountSid": ACCOUNT}
    if status == "undelivered":
        fields["ErrorCode"] = "30003"
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, url, fields)}
    for _ in range(50):
        try:
            response = httpx.post(url, data=fields, headers=headers, timeout=5)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        with provider.lock:
            provider.callback_status[sid] = f"{status}:{response.status_code}"
        return


@contextmanager
def provider_server() -> Iterator[Provider]:
    """The fake SMS, FCM and push provider on a free loopback port."""
    provider = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    # Slow answers still sleeping when a test ends must not hold it up.
    server.daemon_threads = True
    server.block_on_close = False
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# --- SMTP -------------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """Messages the SMTP server accepted, and who logged in."""

    messages: list[Message] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    #: Each message's envelope sender (MAIL FROM), where its bounce will go.
    return_paths: list[str] = field(default_factory=list)

    async def handle_DATA(self, _server: object, _session: Session, envelope: Envelope) -> str:
        """Keep the message."""
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy.default))
        self.return_paths.append(envelope.mail_from or "")
        return "250 OK"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 made by openssl."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def smtp_server(directory: Path) -> Iterator[tuple[Mailbox, int, ssl.SSLContext]]:
    """An SMTP server on loopback that requires STARTTLS and login (user ``tenor``)."""
    cert, key = self_signed(directory)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    mailbox = Mailbox()

    def authenticate(
        _server: object, _session: object, _envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"tenor",
            b"mail-secret",
        )
        if ok:
            mailbox.logins.append(mechanism)
        return AuthResult(success=ok)

    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticate,
    )
    controller.start()
    try:
        yield mailbox, port, client_tls
    finally:
        controller.stop()
