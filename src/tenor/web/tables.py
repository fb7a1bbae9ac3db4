"""The web console's tables: staff users, browser sessions and borrowers' one-time codes.

Secrets are never stored in clear: passwords are argon2id hashes, session tokens SHA-256
digests (a token is 256 random bits, so a fast hash is enough), one-time codes argon2id hashes.
The text message that carries a code goes through the notification outbox
(:mod:`tenor.web.delivery`); migration ``web2`` dropped the console's stand-in outbox, and
``web3`` links a collector's user to their collector.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tenor.store.models import Base, BigId, utc_now


class StaffUser(Base):
    """A person who signs in to the console with a username and a password."""

    __tablename__ = "web_staff_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(BigInteger)
    #: A collector's own collector (:class:`tenor.collect.tables.Collector`): whose queue the
    #: workbench shows them (migration ``web3``).
    collector_id: Mapped[int | None] = mapped_column(BigInteger)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A signed-in browser: who it is (staff user, API key or borrower) and its CSRF token.

    ``token_digest`` is the SHA-256 of the cookie's value; ``csrf_token`` is the synchronizer
    token every form of the session carries.
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("web_staff_users.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    borrower_id: Mapped[int | None] = mapped_column(ForeignKey("borrowers.id"))
    agency_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class SignInCode(Base):
    """A one-time code sent to a borrower: hashed, expiring, and good for a few tries."""

    __tablename__ = "web_sign_in_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
