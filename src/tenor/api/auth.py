"""Authentication by API key (``Authorization: Bearer tnr_...``) and the permission check.

A key is found by its prefix and checked against its argon2 hash
(:func:`tenor.actions.apikeys.verify_api_key`). A successful check is cached in the process for
:data:`CACHE_SECONDS`, keyed by the SHA-256 of the key (the plaintext is never held), so that
argon2, slow by design, runs once per key and process every half minute rather than on every
request. The price: a revoked key keeps working here for up to that long.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tenor.actions.apikeys import verify_api_key
from tenor.api.problems import ForbiddenError, UnauthorizedError
from tenor.api.roles import Permission, Principal, Role
from tenor.store.database import Database

CACHE_SECONDS: Final = 30.0
_CACHE_SIZE: Final = 10_000


class Authenticator:
    """Verifies keys against the database, remembering recent successes."""

    def __init__(self, db: Database, *, ttl: float = CACHE_SECONDS) -> None:
        self.db = db
        self.ttl = ttl
        self._cache: dict[bytes, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def cached(self, key: str) -> Principal | None:
        """The principal of a key verified less than ``ttl`` seconds ago."""
        digest = hashlib.sha256(key.encode()).digest()
        with self._lock:
            found = self._cache.get(digest)
            if found is None:
                return None
            principal, expires = found
            if expires < time.monotonic():
                del self._cache[digest]
                return None
            return principal

    def verify(self, key: str) -> Principal:
        """The principal of ``key``, checked against the database; raises UnauthorizedError."""
        with self.db.reading() as session:
            row = verify_api_key(session, key)
            if row is None:
                raise UnauthorizedError("the API key is unknown, malformed or revoked")
            principal = Principal(
                key_id=row.id,
                prefix=row.prefix,
                role=Role(row.role),
                borrower_id=row.borrower_id,
                agency_id=row.agency_id,
            )
        digest = hashlib.sha256(key.encode()).digest()
        with self._lock:
            if len(self._cache) >= _CACHE_SIZE:
                # Crude but bounded: a flood of distinct valid keys only costs re-verification.
                self._cache.clear()
            self._cache[digest] = (principal, time.monotonic() + self.ttl)
        return principal

    def forget(self) -> None:
        """Drop every cached verification (after revoking keys in this process)."""
        with self._lock:
            self._cache.clear()


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `tenor apikey create`, sent as `Authorization: Bearer <key>`.",
)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller; 401 ``unauthorized`` without a valid key."""
    if credentials is None:
        raise UnauthorizedError("send an API key as Authorization: Bearer <key>")
    authenticator: Authenticator = request.app.state.authenticator
    key = credentials.credentials
    principal = authenticator.cached(key)
    if principal is None:
        # argon2 and the database are blocking: off the event loop.
        principal = await run_in_threadpool(authenticator.verify, key)
    info = request.scope.get("tenor")
    if info is not None:
        info.actor = f"{principal.role.value}:{principal.prefix}"
    return principal


def require(
    permission: Permission,
) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency giving the caller when their role holds ``permission``; 403 otherwise."""

    async def check(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if not principal.may(permission):
            raise ForbiddenError(
                f"a {principal.role.value} key may not do this (needs {permission.value})"
            )
        return principal

    return check


async def database(request: Request) -> Database:
    """The app's database (async only so that FastAPI does not hop to a thread for it)."""
    db: Database = request.app.state.db
    return db
