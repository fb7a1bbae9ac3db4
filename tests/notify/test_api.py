"""The notifications API: the outbox for staff, and the SMS provider's signed status callbacks
arriving over real HTTP from the provider's server to Tenor's."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from tenor.actions import apikeys
from tenor.actions.apikeys import create_api_key
from tenor.api.app import create_app
from tenor.notify.channels import twilio_signature
from tenor.notify.outbox import dispatch_once
from tenor.notify.tables import Notification
from tenor.store.database import Database
from tests.notify.servers import TOKEN, free_port, provider_server
from tests.notify.test_dispatch import MORNING, enqueue, sms


@pytest.fixture(autouse=True)
def cheap_key_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2's smallest cost for test keys (as tests/api does)."""
    monkeypatch.setattr(
        apikeys, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def served(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Tenor's API served by uvicorn on loopback; the status callback URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1/notify/sms/status"
    monkeypatch.setenv("TENOR_SMS_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("TENOR_SMS_STATUS_CALLBACK", url)
    server = uvicorn.Server(
        uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(10)


def wait_for(db: Database, wanted: dict[str, str]) -> dict[str, str]:
    """Poll until the notifications with these recipients reach these states."""
    deadline = time.monotonic() + 20
    while True:
        with db.reading() as session:
            seen = dict(session.execute(select(Notification.recipient, Notification.state)).all())
        if all(seen.get(k) == v for k, v in wanted.items()) or time.monotonic() > deadline:
            return {k: v for k, v in seen.items() if k in wanted}
        time.sleep(0.1)


def test_status_callbacks_mark_delivered_and_failed(db: Database, served: str) -> None:
    loan_id = enqueue(db, 1, recipient="13800138000")
    enqueue(db, 1, recipient="13800000000", loan_id=loan_id)  # the provider cannot deliver it
    with provider_server() as provider:
        report = dispatch_once(db, {"sms": sms(provider, callback=served)}, now=MORNING)
        assert report.outcomes == {"sent": 2}
        states = wait_for(db, {"13800138000": "delivered", "13800000000": "failed"})
        assert states == {"13800138000": "delivered", "13800000000": "failed"}
        assert sorted(provider.callback_status.values()) == ["delivered:204", "undelivered:204"]
    with db.reading() as session:
        failed = session.scalars(select(Notification).where(Notification.state == "failed")).one()
        assert failed.last_error == "the provider reported undelivered (error 30003)"
        assert failed.rewarded is False


def test_a_callback_without_a_good_signature_changes_nothing(db: Database, served: str) -> None:
    enqueue(db, 1)
    with provider_server() as provider:
        dispatch_once(db, {"sms": sms(provider)}, now=MORNING)
        (sid,) = [d["id"] for d in provider.delivered().values()]
    fields = {"MessageSid": sid, "MessageStatus": "delivered"}
    forged = httpx.post(served, data=fields, headers={"X-Twilio-Signature": "AAAA"})
    assert forged.status_code == 403
    assert forged.json()["code"] == "forbidden"
    unsigned = httpx.post(served, data=fields)
    assert unsigned.status_code == 403
    unknown = {"MessageSid": "SM404", "MessageStatus": "delivered"}
    signature = twilio_signature(TOKEN, served, unknown)
    missing = httpx.post(served, data=unknown, headers={"X-Twilio-Signature": signature})
    assert missing.status_code == 404
    with db.reading() as session:
        assert session.scalars(select(Notification.state)).one() == "sent"


def test_staff_list_the_outbox_and_borrowers_may_not(db: Database) -> None:
    loan_id = enqueue(db, 3)
    with db.transaction() as session:
        _, admin = create_api_key(session, "admin")
        _, borrower = create_api_key(session, "borrower", borrower_id=1)
    with TestClient(create_app(db)) as client:
        page = client.get(
            "/v1/notifications",
            params={"loan_id": loan_id, "state": "pending", "limit": 2},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert page.status_code == 200, page.text
        document = page.json()
        assert (document["total"], len(document["items"])) == (3, 2)
        assert document["items"][0]["channel"] == "sms"
        assert "recipient" not in document["items"][0]
        bad = client.get(
            "/v1/notifications",
            params={"state": "lost"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert bad.status_code == 422
        forbidden = client.get("/v1/notifications", headers={"Authorization": f"Bearer {borrower}"})
        assert forbidden.status_code == 403
