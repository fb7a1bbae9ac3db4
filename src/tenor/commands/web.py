"""``tenor web user create``: a staff user who signs in to the console with a password.

The password is read from a prompt (typed twice, not echoed) or, for scripts, from standard
input with ``--password-stdin``; never from an option, which would leave it in the shell's
history and the process list. Only its argon2id hash is kept.
"""

# The store and argon2 are imported inside the command, as in tenor.commands.service.
# ruff: noqa: PLC0415

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tenor.commands.opening import open_database


def register(app: typer.Typer) -> None:
    """Add ``tenor web`` to ``app``."""
    web = typer.Typer(
        name="web", help="The web console at /web of `tenor serve`.", no_args_is_help=True
    )
    user = typer.Typer(name="user", help="Staff users of the console.", no_args_is_help=True)
    web.add_typer(user)
    app.add_typer(web)

    @user.command("create")
    def user_create(
        username: Annotated[str, typer.Option(help="Lower-case letters, digits, . _ -.")],
        role: Annotated[
            str, typer.Option(help="admin, risk, collector, agency or auditor.", metavar="ROLE")
        ],
        name: Annotated[
            str | None, typer.Option(help="The name the console shows.", metavar="TEXT")
        ] = None,
        agency: Annotated[
            str | None, typer.Option(help="An agency user's agency id.", metavar="ID")
        ] = None,
        collector: Annotated[
            str | None,
            typer.Option(
                help="A collector user's collector id (their workbench queue).", metavar="ID"
            ),
        ] = None,
        password_stdin: Annotated[
            bool, typer.Option("--password-stdin", help="Read the password from stdin.")
        ] = False,
    ) -> None:
        """Create a staff user; the password is asked for (or read with --password-stdin)."""
        from tenor.cli import domain_errors, fail, parse_count
        from tenor.web.accounts import create_staff_user

        with domain_errors():
            agency_id = None if agency is None else parse_count("--agency", agency)
            collector_id = None if collector is None else parse_count("--collector", collector)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        if not password:
            fail("the password is empty")
        with domain_errors():
            db = open_database()
            try:
                with db.transaction() as session:
                    row = create_staff_user(
                        session,
                        username=username,
                        password=password,
                        role=role,
                        display_name=name,
                        agency_id=agency_id,
                        collector_id=collector_id,
                    )
                    user_id, user_role = row.id, row.role
            finally:
                db.dispose()
        typer.echo(f"Created staff user {username} (id {user_id}, role {user_role}).")
        typer.echo("Sign in at /web/sign-in of `tenor serve`.")
