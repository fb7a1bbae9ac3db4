"""Opening the database for a command: one line and exit status 2 for anything wrong with it.

SQLAlchemy, Alembic and the store are imported inside the functions, so that commands that
need no database (``tenor schedule``, ``tenor --help``) start without them.
"""

# Imports inside the functions are the design (see above).
# ruff: noqa: PLC0415

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tenor.store.database import Database


def safe_url(url: str) -> str:
    """``url`` with any password hidden, fit to print."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable TENOR_DATABASE_URL)"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Any database failure as one line: which database, and the driver's first line."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from tenor.cli import fail

    try:
        yield
    except (ArgumentError, SQLAlchemyError, ModuleNotFoundError) as error:
        # The driver's own message, never SQLAlchemy's, which quotes the statement's
        # parameters (national IDs, phone numbers).
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        fail(f"cannot open the database {safe_url(url)}: {reason[0] if reason else error!r}")


def open_database() -> Database:
    """The database ``TENOR_DATABASE_URL`` names, at the current schema; else one line, exit 2.

    A SQLite file that does not exist is refused rather than created empty.
    """
    from tenor.cli import fail
    from tenor.store.database import Database, database_url
    from tenor.store.migrate import current_revision, head_revision

    url = database_url()
    path = sqlite_file(url)
    if path is not None and not path.exists():
        fail(
            f"no database at {path}; build the demo book with `tenor demo`, or create an "
            "empty database with `tenor db upgrade`"
        )
    with database_errors(url):
        db = Database(url)
        current = current_revision(db)
    head = head_revision(url)
    if current != head:
        db.dispose()
        state = "has no schema" if current is None else f"is at schema {current}, not {head}"
        fail(f"the database {safe_url(url)} {state}; run `tenor db upgrade` first")
    return db
