"""Collections test fixtures: the API over `db`, and where legal documents are stored."""

from __future__ import annotations

from pathlib import Path

import pytest

# The API tests' fixtures: an app over `db` (SQLite and PostgreSQL), cheap key hashes.
from tests.api.conftest import api, cheap_key_hashes  # noqa: F401


@pytest.fixture(autouse=True)
def documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Legal documents go to the test's own directory, never the working directory."""
    directory = tmp_path / "documents"
    monkeypatch.setenv("TENOR_DOCUMENTS", str(directory))
    return directory
