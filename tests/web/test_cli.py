"""``tenor web user create`` on a real database (in process, through Typer's runner)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tenor.cli import app
from tenor.store.database import Database
from tenor.web.accounts import check_password
from tenor.web.tables import StaffUser
from tests.web.conftest import Clock


def test_user_create_keeps_a_hash_that_signs_in_and_refuses_a_short_password(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENOR_DATABASE_URL", db.url)
    runner = CliRunner()
    command = ["web", "user", "create", "--role", "risk", "--password-stdin"]
    created = runner.invoke(app, [*command, "--username", "ana"], input="correct horse battery\n")
    assert created.exit_code == 0, created.output
    assert "Created staff user ana" in created.stdout
    short = runner.invoke(app, [*command, "--username", "bob"], input="hunter2\n")
    assert short.exit_code == 2
    assert short.stderr.strip() == "error: a password has at least 12 characters, not 7"
    taken = runner.invoke(app, [*command, "--username", "ana"], input="another long password\n")
    assert taken.exit_code == 2
    assert "taken" in taken.stderr
    with db.transaction() as session:
        assert session.scalars(select(StaffUser.username)).all() == ["ana"]
        user = check_password(session, "ana", "correct horse battery", Clock()())
        assert user.role == "risk"
