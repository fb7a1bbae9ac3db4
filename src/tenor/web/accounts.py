"""Who may use the console: staff users, sessions, and borrowers' one-time sign-in codes.

These are the web capability's only writes (its own tables, and a borrower's contact
preferences through :mod:`tenor.actions.borrowers`). Time is an argument (``now``) so that
expiry and lock-outs are tested without sleeping.

Costs and limits:

- Passwords: argon2id at the library's defaults (64 MiB, three passes): a person chose the
  password and an attacker can guess it, unlike an API key's 256 random bits. Five wrong
  passwords in a row lock the user for :data:`LOCKOUT`.
- One-time codes: six digits, argon2id at the API keys' cost, good for :data:`CODE_LIFETIME`
  and :data:`CODE_ATTEMPTS` tries; a borrower is sent at most :data:`CODES_PER_WINDOW` codes per
  :data:`CODE_WINDOW`.
- Sessions: 256-bit tokens, kept as SHA-256 digests; staff sessions last
  :data:`STAFF_SESSION`, a borrower's :data:`BORROWER_SESSION`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from tenor.actions.apikeys import ROLES, verify_api_key
from tenor.collect.tables import Collector
from tenor.core.errors import InvalidArgumentError
from tenor.store.models import ApiKey, Borrower
from tenor.web.tables import SignInCode, StaffUser, WebSession

STAFF_ROLES: Final = tuple(role for role in ROLES if role != "borrower")
LOCKOUT: Final = dt.timedelta(minutes=15)
MAX_PASSWORD_FAILURES: Final = 5
STAFF_SESSION: Final = dt.timedelta(hours=8)
BORROWER_SESSION: Final = dt.timedelta(minutes=30)
CODE_LIFETIME: Final = dt.timedelta(minutes=10)
CODE_ATTEMPTS: Final = 5
CODE_WINDOW: Final = dt.timedelta(minutes=15)
CODES_PER_WINDOW: Final = 3
MIN_PASSWORD_LENGTH: Final = 12

# At most 60 characters: the journal and relief name a user ``web:<username>`` in 64.
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,59}")
_PHONE = re.compile(r"\+?[0-9]{6,20}")

password_hasher = PasswordHasher()
code_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
#: Verified against when a username is unknown, so that a wrong username costs what a wrong
#: password costs and the answer's timing does not tell which usernames exist; made on first use.
_DUMMY_HASH: str | None = None


class SignInError(InvalidArgumentError):
    """A sign-in that did not succeed; the message is safe to show (it names no account)."""

    code = "sign_in_failed"


@dataclass(frozen=True, slots=True)
class Opened:
    """A new session: the cookie's token (never stored) and the session's row."""

    token: str
    session: WebSession


def aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` with its time zone: SQLite gives back the UTC instants Tenor stored as naive."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def digest(token: str) -> str:
    """The SHA-256 of a session token, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- staff users ----------------------------------------------------------------------------


def create_staff_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    agency_id: int | None = None,
    collector_id: int | None = None,
) -> StaffUser:
    """A new staff user with an argon2id hash of ``password``; a collector may be linked to
    their collector (``collector_id``), whose queue the workbench then shows them."""
    if not _USERNAME.fullmatch(username):
        raise InvalidArgumentError(
            "a username is 2 to 60 lower-case letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit, not {username!r}"
        )
    if role not in STAFF_ROLES:
        raise InvalidArgumentError(f"role must be one of {', '.join(STAFF_ROLES)}, not {role!r}")
    if (role == "agency") != (agency_id is not None):
        raise InvalidArgumentError("an agency user, and only an agency user, names its agency")
    if collector_id is not None:
        if role != "collector":
            raise InvalidArgumentError("only a user of the collector role is linked to a collector")
        if session.get(Collector, collector_id) is None:
            raise InvalidArgumentError(f"collector {collector_id} does not exist")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidArgumentError(
            f"a password has at least {MIN_PASSWORD_LENGTH} characters, not {len(password)}"
        )
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise InvalidArgumentError(f"the username {username!r} is taken")
    user = StaffUser(
        username=username,
        display_name=display_name,
        password_hash=password_hasher.hash(password),
        role=role,
        agency_id=agency_id,
        collector_id=collector_id,
        failed_attempts=0,
    )
    session.add(user)
    session.flush()
    return user


def check_password(session: Session, username: str, password: str, now: dt.datetime) -> StaffUser:
    """The user ``username`` if ``password`` is theirs; SignInError otherwise.

    Counts failures and locks the user after :data:`MAX_PASSWORD_FAILURES` in a row; the
    caller commits the count even when this raises.
    """
    refused = SignInError("the username or the password is wrong")
    user = session.scalars(
        select(StaffUser).where(StaffUser.username == username.strip().lower())
    ).one_or_none()
    if user is None or user.disabled_at is not None:
        global _DUMMY_HASH  # noqa: PLW0603 - one hash per process, made when first needed
        if _DUMMY_HASH is None:
            _DUMMY_HASH = password_hasher.hash(secrets.token_urlsafe(16))
        _verify(password_hasher, _DUMMY_HASH, password)
        raise refused
    if user.locked_until is not None and aware(user.locked_until) > now:
        raise SignInError("too many wrong passwords: this user is locked for a while")
    if not _verify(password_hasher, user.password_hash, password):
        user.failed_attempts += 1
        if user.failed_attempts >= MAX_PASSWORD_FAILURES:
            user.locked_until = now + LOCKOUT
            user.failed_attempts = 0
        session.flush()
        raise refused
    user.failed_attempts = 0
    user.locked_until = None
    if password_hasher.check_needs_rehash(user.password_hash):
        user.password_hash = password_hasher.hash(password)
    session.flush()
    return user


def _verify(hasher: PasswordHasher, hashed: str, secret: str) -> bool:
    try:
        return hasher.verify(hashed, secret)
    except (VerificationError, InvalidHashError):
        return False


# --- sessions -------------------------------------------------------------------------------


def _open(
    session: Session,
    *,
    role: str,
    name: str,
    now: dt.datetime,
    lifetime: dt.timedelta,
    staff_user_id: int | None = None,
    api_key_id: int | None = None,
    borrower_id: int | None = None,
    agency_id: int | None = None,
) -> Opened:
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_digest=digest(token),
        csrf_token=secrets.token_urlsafe(32),
        role=role,
        staff_user_id=staff_user_id,
        api_key_id=api_key_id,
        borrower_id=borrower_id,
        agency_id=agency_id,
        name=name,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    return Opened(token, row)


def open_staff_session(session: Session, user: StaffUser, now: dt.datetime) -> Opened:
    """A session for a staff user who gave the right password."""
    return _open(
        session,
        role=user.role,
        name=user.display_name or user.username,
        now=now,
        lifetime=STAFF_SESSION,
        staff_user_id=user.id,
        agency_id=user.agency_id,
    )


def open_key_session(
    session: Session, key: str, now: dt.datetime, *, staff_only: bool = True
) -> Opened:
    """A session for the holder of an API key; a borrower's key only where not ``staff_only``."""
    row: ApiKey | None = verify_api_key(session, key.strip())
    if row is None:
        raise SignInError("the API key is unknown, malformed or revoked")
    borrower = row.role == "borrower"
    if borrower and staff_only:
        raise SignInError("a borrower signs in on the borrower page")
    return _open(
        session,
        role=row.role,
        name=row.name or f"{row.role} key {row.prefix}",
        now=now,
        lifetime=BORROWER_SESSION if borrower else STAFF_SESSION,
        api_key_id=row.id,
        borrower_id=row.borrower_id,
        agency_id=row.agency_id,
    )


def find_session(session: Session, token: str, now: dt.datetime) -> WebSession | None:
    """The live session whose cookie holds ``token``, or None (unknown, ended or expired).

    A session signed in with an API key ends when the key is revoked; one of a staff user,
    when the user is disabled.
    """
    row = session.scalars(
        select(WebSession).where(WebSession.token_digest == digest(token))
    ).one_or_none()
    if row is None or row.ended_at is not None or aware(row.expires_at) <= now:
        return None
    if row.api_key_id is not None:
        key = session.get(ApiKey, row.api_key_id)
        if key is None or key.revoked_at is not None:
            return None
    if row.staff_user_id is not None:
        user = session.get(StaffUser, row.staff_user_id)
        if user is None or user.disabled_at is not None:
            return None
    return row


def session_actor(session: Session, row: WebSession) -> str:
    """How the journal and relief name whoever holds this session, the same in every session
    of theirs: ``web:<username>`` for a staff user, the API's ``key:<prefix>`` for a key (so
    that maker-checker sees one person through the API and the console), ``borrower:<id>``
    for a borrower signed in with a code."""
    if row.staff_user_id is not None:
        user = session.get(StaffUser, row.staff_user_id)
        if user is not None:
            return f"web:{user.username}"
    if row.api_key_id is not None:
        key = session.get(ApiKey, row.api_key_id)
        if key is not None:
            return f"key:{key.prefix}"
    if row.borrower_id is not None:
        return f"borrower:{row.borrower_id}"
    return f"web-session:{row.id}"


def session_collector(session: Session, row: WebSession) -> int | None:
    """The collector a session's staff user is linked to, if any (read at each request, so
    that a link changed in the database applies at once)."""
    if row.staff_user_id is None:
        return None
    user = session.get(StaffUser, row.staff_user_id)
    return None if user is None else user.collector_id


def end_session(session: Session, token: str, now: dt.datetime) -> None:
    """Sign a browser out: its session ends now (ending an unknown session changes nothing)."""
    row = session.scalars(
        select(WebSession).where(WebSession.token_digest == digest(token))
    ).one_or_none()
    if row is not None and row.ended_at is None:
        row.ended_at = now
        session.flush()


# --- borrowers' one-time codes --------------------------------------------------------------


def normalise_phone(raw: str) -> str:
    """A phone number as Tenor stores it: digits, with a leading + kept; InvalidArgumentError."""
    text = re.sub(r"[\s()-]", "", raw)
    if not _PHONE.fullmatch(text):
        raise InvalidArgumentError("enter a mobile number of 6 to 20 digits")
    return text


def borrowers_with_phone(session: Session, phone: str) -> list[Borrower]:
    """Borrowers who gave ``phone`` as one of their numbers.

    Phones are a JSON list: the text match narrows the rows in SQL on either database, the
    exact comparison in Python decides.
    """
    candidates = session.scalars(
        select(Borrower)
        .where(cast(Borrower.phones, String).contains(phone, autoescape=True))
        .order_by(Borrower.id)
    )
    return [borrower for borrower in candidates if phone in borrower.phones]


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A code just issued: its row's id, the code itself (stored only hashed) and when."""

    id: int
    code: str
    issued_at: dt.datetime


def issue_code(session: Session, borrower: Borrower, now: dt.datetime) -> IssuedCode | None:
    """A new six-digit code for ``borrower`` (stored hashed), or None past the sending limit."""
    recent = session.scalar(
        select(func.count())
        .select_from(SignInCode)
        .where(SignInCode.borrower_id == borrower.id, SignInCode.created_at > now - CODE_WINDOW)
    )
    if int(recent or 0) >= CODES_PER_WINDOW:
        return None
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = SignInCode(
        borrower_id=borrower.id,
        code_hash=code_hasher.hash(code),
        created_at=now,
        expires_at=now + CODE_LIFETIME,
        attempts=0,
    )
    session.add(row)
    session.flush()
    return IssuedCode(row.id, code, now)


def redeem_code(session: Session, phone: str, code: str, now: dt.datetime) -> Opened:
    """A borrower's session for the right code sent to ``phone``; SignInError otherwise.

    Only each borrower's newest live code counts; a wrong code uses up one of its tries,
    the right one the code itself. The caller commits even when this raises.
    """
    refused = SignInError("the code is wrong or has expired; ask for a new one")
    if not re.fullmatch(r"[0-9]{6}", code.strip()):
        raise refused
    for borrower in borrowers_with_phone(session, phone):
        row = session.scalars(
            select(SignInCode)
            .where(
                SignInCode.borrower_id == borrower.id,
                SignInCode.used_at.is_(None),
                SignInCode.expires_at > now,
                SignInCode.attempts < CODE_ATTEMPTS,
            )
            .order_by(SignInCode.id.desc())
            .limit(1)
        ).one_or_none()
        if row is None:
            continue
        if _verify(code_hasher, row.code_hash, code.strip()):
            row.used_at = now
            session.flush()
            return _open(
                session,
                role="borrower",
                name=borrower.name,
                now=now,
                lifetime=BORROWER_SESSION,
                borrower_id=borrower.id,
            )
        row.attempts += 1
        session.flush()
    raise refused
