"""API keys: hashed at rest, checked on every call, cached briefly, revocable."""

from __future__ import annotations

from typing import Any

import pytest

from tenor.actions import apikeys
from tenor.actions.apikeys import create_api_key, revoke_api_key, verify_api_key
from tenor.api import auth
from tenor.core.errors import DomainError
from tenor.store.models import ApiKey
from tests.api.conftest import Api


def _status(api: Api, authorization: str | None) -> tuple[int, str | None]:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = api.client.get("/v1/loans", headers=headers)
    code = response.json()["code"] if response.status_code >= 400 else None
    return response.status_code, code


def test_calls_without_a_valid_key_are_unauthorized(api: Api) -> None:
    key = api.key("admin")
    prefix = key.split("_")[1]
    forged = f"tnr_{prefix}_{'A' * 43}"
    for authorization in (
        None,
        "",
        "Bearer",
        f"Basic {key}",
        "Bearer not-a-key",
        f"Bearer tnr_{'0' * 16}_{'A' * 43}",  # well formed, unknown prefix
        f"Bearer {forged}",  # a real prefix, the wrong secret
        f"Bearer {key}x",
    ):
        assert _status(api, authorization) == (401, "unauthorized"), authorization
    response = api.client.get("/v1/loans")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="tenor"'
    assert _status(api, f"Bearer {key}") == (200, None)
    assert _status(api, f"bearer {key}") == (200, None)


def test_only_a_hash_of_the_key_is_stored(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the production hashing cost, not the tests' cheap one
    with api.db.transaction() as session:
        row, key = create_api_key(session, "auditor", name="internal audit")
    assert key.startswith(f"tnr_{row.prefix}_")
    assert len(key) == len("tnr_") + 16 + len("_") + 43
    with api.db.reading() as session:
        stored = session.get(ApiKey, row.id)
        assert stored is not None
        assert key not in stored.key_hash
        assert stored.key_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert verify_api_key(session, key) is not None


def test_a_verified_key_is_cached_and_a_revoked_one_refused(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = api.key("collector")
    calls: list[str] = []

    def counting(session: Any, plaintext: str) -> ApiKey | None:
        calls.append(plaintext)
        return verify_api_key(session, plaintext)

    monkeypatch.setattr(auth, "verify_api_key", counting)
    for _ in range(3):
        assert _status(api, f"Bearer {key}") == (200, None)
    assert len(calls) == 1
    with api.db.transaction() as session:
        revoke_api_key(session, key)
    # Cached: still accepted until the cache entry expires (30 s) or is dropped.
    assert _status(api, f"Bearer {key}") == (200, None)
    api.app.state.authenticator.forget()
    assert _status(api, f"Bearer {key}") == (401, "unauthorized")
    assert len(calls) == 2


def test_cache_entries_expire(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    key = api.key("risk")
    authenticator = api.app.state.authenticator
    monkeypatch.setattr(authenticator, "ttl", -1.0)
    calls: list[str] = []

    def counting(session: Any, plaintext: str) -> ApiKey | None:
        calls.append(plaintext)
        return verify_api_key(session, plaintext)

    monkeypatch.setattr(auth, "verify_api_key", counting)
    for _ in range(2):
        assert _status(api, f"Bearer {key}") == (200, None)
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"role": "root"}, "invalid_argument"),
        ({"role": "borrower"}, "invalid_argument"),
        ({"role": "borrower", "borrower_id": 424242}, "not_found"),
        ({"role": "agency"}, "invalid_argument"),
        ({"role": "admin", "borrower_id": 1}, "invalid_argument"),
        ({"role": "collector", "agency_id": 1}, "invalid_argument"),
        ({"role": "admin", "name": "n" * 201}, "invalid_argument"),
    ],
)
def test_a_key_is_refused_for_a_role_it_cannot_have(
    api: Api, arguments: dict[str, Any], code: str
) -> None:
    with pytest.raises(DomainError) as raised, api.db.transaction() as session:
        create_api_key(session, **arguments)
    assert raised.value.code == code
    with api.db.reading() as session:
        assert session.query(ApiKey).count() == 0


def test_revoking_an_unknown_key_is_not_found(api: Api) -> None:
    with pytest.raises(DomainError) as raised, api.db.transaction() as session:
        revoke_api_key(session, "0123456789abcdef")
    assert raised.value.code == "not_found"


def test_key_parsing() -> None:
    assert apikeys.parse_key(f"tnr_{'a1' * 8}_{'x' * 43}") == "a1" * 8
    for bad in ("", "tnr__x", f"tnr_{'A' * 16}_{'x' * 43}", f"tnr_{'a' * 16}_{'x' * 42}"):
        assert apikeys.parse_key(bad) is None
