"""API keys: issuing, verifying and revoking the keys the REST API authenticates.

A key reads ``tnr_<prefix>_<secret>``: ``prefix`` is 16 hex digits kept in clear to find the
row, ``secret`` 43 URL-safe characters (256 random bits). Only an argon2id hash of the whole
key is stored; the plaintext is returned once, by :func:`create_api_key`, and never again.

The argon2 cost is OWASP's minimum for argon2id (19 MiB, two passes, one lane) rather than the
library's default (64 MiB, three passes, four lanes). A slow hash protects passwords that a
person chose and an attacker can guess; a 256-bit random secret cannot be guessed whatever the
cost, so the hash is there so that a copy of the table does not hand out working keys, and a
cold verification (the API caches successful ones) stays near 20 ms.
"""

from __future__ import annotations

import re
import secrets
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.audit.changes import log_api_key
from tenor.core.errors import InvalidArgumentError
from tenor.store.journal import NotFoundError
from tenor.store.models import ApiKey, Borrower, utc_now

#: The roles a key can carry; ``tenor.api.roles`` says what each may do.
ROLES: Final = ("admin", "risk", "collector", "agency", "auditor", "borrower")

#: Every key starts with this, so that a leaked key is recognisable (secret scanners, logs).
KEY_TAG: Final = "tnr"

_KEY = re.compile(rf"{KEY_TAG}_(?P<prefix>[0-9a-f]{{16}})_(?P<secret>[A-Za-z0-9_-]{{43}})")

_HASHER: Final = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def parse_key(key: str) -> str | None:
    """The prefix of a well-formed key, or None when ``key`` cannot be one of ours."""
    found = _KEY.fullmatch(key)
    return found["prefix"] if found else None


def create_api_key(
    session: Session,
    role: str,
    borrower_id: int | None = None,
    agency_id: int | None = None,
    name: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key for ``role``: its row and its plaintext, which is not kept anywhere.

    A borrower's key names the borrower it belongs to, an agency's key its agency; no other
    role takes either.
    """
    if role not in ROLES:
        raise InvalidArgumentError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "borrower":
        if borrower_id is None:
            raise InvalidArgumentError("a borrower's key needs the borrower's id")
        if session.get(Borrower, borrower_id) is None:
            raise NotFoundError(f"borrower {borrower_id} does not exist")
    elif borrower_id is not None:
        raise InvalidArgumentError(f"only a borrower's key names a borrower, not a {role}'s")
    if role == "agency":
        if agency_id is None:
            raise InvalidArgumentError("an agency's key needs the agency's id")
    elif agency_id is not None:
        raise InvalidArgumentError(f"only an agency's key names an agency, not a {role}'s")
    if name is not None and len(name) > 200:
        raise InvalidArgumentError("a key's name has at most 200 characters")
    prefix = secrets.token_hex(8)
    plaintext = f"{KEY_TAG}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        prefix=prefix,
        key_hash=_HASHER.hash(plaintext),
        role=role,
        borrower_id=borrower_id,
        agency_id=agency_id,
        name=name,
    )
    session.add(row)
    session.flush()
    log_api_key(session, row, "created")
    return row, plaintext


def verify_api_key(session: Session, key: str) -> ApiKey | None:
    """The live (unrevoked) key row that ``key`` is the plaintext of, or None."""
    prefix = parse_key(key)
    if prefix is None:
        return None
    row = session.scalars(
        select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
    ).one_or_none()
    if row is None:
        return None
    try:
        _HASHER.verify(row.key_hash, key)
    except (VerificationError, InvalidHashError):
        return None
    return row


def revoke_api_key(session: Session, key_or_prefix: str) -> ApiKey:
    """Revoke a key, named by its plaintext or its prefix; revoking twice changes nothing.

    The API may go on accepting the key for as long as it caches a verification (seconds).
    """
    prefix = parse_key(key_or_prefix) or key_or_prefix
    row = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one_or_none()
    if row is None:
        raise NotFoundError(f"no API key has the prefix {prefix!r}")
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        session.flush()
        log_api_key(session, row, "revoked")
    return row
