"""Relief's API tests use the API's fixtures: an app over the `db` fixture, cheap key hashes."""

from __future__ import annotations

from tests.api.conftest import api, cheap_key_hashes

__all__ = ["api", "cheap_key_hashes"]
