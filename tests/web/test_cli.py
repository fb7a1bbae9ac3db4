"""``tenor web user create`` on a real database (in process, through Typer's runner)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tenor.cli import app
from tenor.collect import actions
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


def test_user_create_links_a_collector_and_refuses_a_wrong_link(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENOR_DATABASE_URL", db.url)
    collector = actions.add_collector(
        db, actions.CollectorSpec(name="王芳", team="early", languages=("zh-CN",)), actor="t"
    )
    runner = CliRunner()
    command = ["web", "user", "create", "--password-stdin"]
    password = "correct horse battery\n"
    linked = runner.invoke(
        app,
        [*command, "--username", "wang", "--role", "collector", "--collector", str(collector.id)],
        input=password,
    )
    assert linked.exit_code == 0, linked.output
    not_a_collector = runner.invoke(
        app,
        [*command, "--username", "rita", "--role", "risk", "--collector", str(collector.id)],
        input=password,
    )
    assert not_a_collector.exit_code == 2
    assert (
        not_a_collector.stderr.strip()
        == "error: only a user of the collector role is linked to a collector"
    )
    unknown = runner.invoke(
        app,
        [*command, "--username", "carl", "--role", "collector", "--collector", "999"],
        input=password,
    )
    assert unknown.exit_code == 2
    assert unknown.stderr.strip() == "error: collector 999 does not exist"
    malformed = runner.invoke(
        app,
        [*command, "--username", "carl", "--role", "collector", "--collector", "one"],
        input=password,
    )
    assert malformed.exit_code == 2
    with db.reading() as session:
        users = session.execute(select(StaffUser.username, StaffUser.collector_id)).all()
    assert [tuple(row) for row in users] == [("wang", collector.id)]
