"""``tenor serve`` and ``tenor apikey``: running the API and issuing its keys.

Both open the database ``TENOR_DATABASE_URL`` names (default: ``tenor.db`` here) and refuse,
in one line and with status 2, one that is missing or not migrated to the current schema.

FastAPI, uvicorn, argon2 and the store are imported inside the commands, so that every other
``tenor`` command starts without them; ``tenor.cli`` too, because it imports this module while
it is being defined.
"""

# Imports inside the commands are the design (see above).
# ruff: noqa: PLC0415

from __future__ import annotations

from typing import Annotated

import typer

from tenor.commands.opening import open_database, safe_url

_PORTS = range(1, 65536)


def _serve_workers(host: str, port: int, workers: int) -> None:
    """uvicorn's supervisor over ``workers`` processes, each building its own app.

    The listening socket is made here with its protocol named: uvicorn's own leaves it 0,
    so accepted connections never get TCP_NODELAY and every keep-alive request waits ~40 ms
    on a delayed ACK (uvicorn issue 3149).
    """
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        "tenor.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.set_inheritable(True)
    Multiprocess(config, sockets=[listener]).run()


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    apikey = typer.Typer(
        name="apikey",
        help="Issue and revoke the API keys of `tenor serve`.",
        no_args_is_help=True,
    )
    app.add_typer(apikey)

    @apikey.command("create")
    def apikey_create(
        role: Annotated[
            str,
            typer.Option(
                help="admin, risk, collector, agency, auditor or borrower.", metavar="ROLE"
            ),
        ],
        borrower: Annotated[
            str | None,
            typer.Option(help="The borrower a borrower's key belongs to.", metavar="ID"),
        ] = None,
        agency: Annotated[
            str | None,
            typer.Option(help="The collection agency an agency's key belongs to.", metavar="ID"),
        ] = None,
        name: Annotated[
            str | None, typer.Option(help="A label for people, such as who holds it.")
        ] = None,
    ) -> None:
        """Create an API key and print it, once, alone on the last line.

        Only a hash of the key is kept: a lost key cannot be shown again, only revoked.
        """
        from tenor.actions.apikeys import create_api_key
        from tenor.api.roles import Role
        from tenor.cli import domain_errors, parse_choice, parse_count

        with domain_errors():
            chosen = parse_choice("--role", role, Role)
            borrower_id = None if borrower is None else parse_count("--borrower", borrower)
            agency_id = None if agency is None else parse_count("--agency", agency)
            db = open_database()
            try:
                with db.transaction() as session:
                    row, key = create_api_key(
                        session,
                        chosen.value,
                        borrower_id=borrower_id,
                        agency_id=agency_id,
                        name=name,
                    )
                    prefix = row.prefix
            finally:
                db.dispose()
        typer.echo(f"Created an API key with role {chosen.value}, prefix {prefix}.")
        typer.echo("Send it as 'Authorization: Bearer <key>'. It is shown only this once:")
        typer.echo(key)

    @apikey.command("revoke")
    def apikey_revoke(
        key: Annotated[str, typer.Argument(help="The key, or its prefix.", metavar="KEY")],
    ) -> None:
        """Revoke an API key; a running API stops accepting it within 30 seconds."""
        from tenor.actions.apikeys import revoke_api_key
        from tenor.cli import domain_errors

        with domain_errors():
            db = open_database()
            try:
                with db.transaction() as session:
                    prefix = revoke_api_key(session, key).prefix
            finally:
                db.dispose()
        typer.echo(f"Revoked the API key with prefix {prefix}.")

    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on.", metavar="HOST")] = (
            "127.0.0.1"
        ),
        port: Annotated[str, typer.Option(help="Port to listen on.", metavar="PORT")] = "8000",
        workers: Annotated[
            str,
            typer.Option(
                help="Worker processes; more than one uses more cores (each has its own pool "
                "of database connections and its own metrics).",
                metavar="N",
            ),
        ] = "1",
    ) -> None:
        """Run the REST API (OpenAPI at /openapi.json, docs at /docs, metrics at /metrics).

        Logs one JSON line per request on standard output. Create a key first with
        `tenor apikey create --role admin`.
        """
        import socket

        import uvicorn

        from tenor.api.app import create_app
        from tenor.api.logs import configure_logging
        from tenor.cli import domain_errors, fail, parse_count

        with domain_errors():
            number = parse_count("--port", port)
            processes = parse_count("--workers", workers)
        if number not in _PORTS:
            fail(f"--port must be between 1 and 65535, got {port}")
        if not 1 <= processes <= 64:
            fail(f"--workers must be between 1 and 64, got {workers}")
        db = open_database()
        try:
            # uvicorn reports a port it cannot bind in its own log and exits 1; say it here,
            # in one line, before anything starts.
            with socket.create_server((host, number)):
                pass
        except OSError as error:
            db.dispose()
            fail(f"cannot listen on {host}:{number}: {error.strerror or error}")
        configure_logging()
        typer.echo(
            f"Tenor API on http://{host}:{number} (docs at /docs) over {safe_url(db.url)}",
            err=True,
        )
        try:
            # Tenor logs each request itself (JSON, redacted): uvicorn's access log would
            # repeat it in another format.
            if processes == 1:
                uvicorn.run(create_app(db), host=host, port=number, access_log=False)
            else:
                db.dispose()
                _serve_workers(host, number, processes)
        finally:
            db.dispose()
