"""Web console fixtures: the app over the `db` fixture, a browser-like client that carries
cookies and CSRF tokens, staff users, and the API tests' book (two borrowers' loans)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from starlette.routing import Mount

from tenor.actions import apikeys
from tenor.api.app import create_app
from tenor.notify.tables import SIGN_IN_CODE, Notification
from tenor.store.database import Database
from tenor.web import accounts
from tenor.web.accounts import create_staff_user
from tests.api.conftest import Book, seed_book

PASSWORD = "correct horse battery staple"
#: A test about pages alone (no storage behaviour): SQLite is enough.
sqlite_only = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its smallest cost for keys, passwords and codes: the same code, less time."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(apikeys, "_HASHER", cheap)
    monkeypatch.setattr(accounts, "password_hasher", cheap)
    monkeypatch.setattr(accounts, "code_hasher", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("not a password"))


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += dt.timedelta(**delta)


def web_app(app: FastAPI) -> FastAPI:
    """The console mounted in the API app."""
    for route in app.routes:
        if isinstance(route, Mount) and route.path == "/web":
            mounted = route.app
            assert isinstance(mounted, FastAPI)
            return mounted
    raise AssertionError("the API app does not mount /web")


@dataclass
class Browser:
    """A TestClient that, like a browser, sends back cookies and each form's CSRF token."""

    client: TestClient
    token: str | None = None
    last: Response | None = field(default=None)

    def get(self, path: str, **kwargs: Any) -> Response:
        """GET a page and remember its forms' CSRF token."""
        response = self.client.get(path, **kwargs)
        found = _CSRF.search(response.text)
        if found:
            self.token = found.group(1)
        self.last = response
        return response

    def post(self, path: str, data: dict[str, Any], *, token: bool = True) -> Response:
        """POST a form with the token of the last page (or none, with ``token=False``)."""
        form = {**data, "csrf_token": self.token} if token else dict(data)
        response = self.client.post(path, data=form)
        found = _CSRF.search(response.text)
        if found:
            self.token = found.group(1)
        self.last = response
        return response


@dataclass
class Web:
    """The app over a test database, its clock, and browsers."""

    db: Database
    app: FastAPI
    clock: Clock
    clients: list[TestClient] = field(default_factory=list)

    def browser(self, *, base_url: str = "http://testserver") -> Browser:
        """A new browser with no cookies."""
        client = TestClient(self.app, base_url=base_url, follow_redirects=False)
        client.__enter__()
        self.clients.append(client)
        return Browser(client)

    def staff_user(self, role: str, username: str | None = None, **extra: Any) -> str:
        """A staff user with ``role`` and :data:`PASSWORD`; returns the username."""
        name = username or f"{role}-user"
        with self.db.transaction() as session:
            create_staff_user(session, username=name, password=PASSWORD, role=role, **extra)
        return name

    def signed_in(self, role: str = "admin", **extra: Any) -> Browser:
        """A browser signed in as a new staff user with ``role``."""
        username = self.staff_user(role, **extra)
        browser = self.browser()
        browser.get("/web/sign-in")
        response = browser.post("/web/sign-in", {"username": username, "password": PASSWORD})
        assert response.status_code == 303, response.text
        return browser

    def last_code(self, borrower_id: int) -> str:
        """The code in the newest sign-in message in the outbox for ``borrower_id``."""
        with self.db.reading() as session:
            body = session.scalars(
                select(Notification.body)
                .where(Notification.borrower_id == borrower_id, Notification.kind == SIGN_IN_CODE)
                .order_by(Notification.id.desc())
                .limit(1)
            ).one()
        found = re.search(r"\b(\d{6})\b", body)
        assert found, body
        return found.group(1)

    def borrower_signed_in(self, borrower_id: int, phone: str) -> Browser:
        """A browser signed in as a borrower through a one-time code."""
        browser = self.browser()
        browser.get("/web/me/sign-in")
        assert browser.post("/web/me/code", {"phone": phone}).status_code == 200
        response = browser.post(
            "/web/me/sign-in", {"phone": phone, "code": self.last_code(borrower_id)}
        )
        assert response.status_code == 303, response.text
        return browser


@pytest.fixture
def web(db: Database) -> Iterator[Web]:
    """The app (API and console) over the `db` fixture's database, with a hand-moved clock."""
    app = create_app(db)
    clock = Clock()
    web_app(app).state.clock = clock
    harness = Web(db, app, clock)
    yield harness
    for client in harness.clients:
        client.__exit__(None, None, None)


@pytest.fixture
def book(web: Web) -> Book:
    """The API tests' book: borrower A (张伟, 13800138000) and B (李娜, 13900139000)."""
    return seed_book(web.db)
