"""``tenor report``: one command group that every capability adds its reports to."""

from __future__ import annotations

import typer

#: The group; capabilities add commands in their ``register`` and the CLI adds it once.
report = typer.Typer(
    name="report",
    help=(
        "Reports over the book: portfolio and rolls (daily close), expected credit loss (risk),"
        " collections and champion/challenger strategies."
    ),
    no_args_is_help=True,
)
