"""``tenor audit``: the transparency log from the shell.

``keygen`` and ``public-key`` manage the log's Ed25519 key (``TENOR_AUDIT_KEY``, default
``tenor-audit-key.pem``); ``sign`` signs a tree head now (the daily close signs one at its
end); ``tree-heads`` lists them; ``verify`` recomputes the tree from the journal and checks
every tree head (exit 1 when anything was edited, deleted, inserted or reordered); ``receipt``
exports the receipt of an event; ``verify-receipt`` checks one offline, without a database.

The store and cryptography are imported inside the commands (see :mod:`tenor.commands.book`).
"""

# Imports inside the commands are the design (see above).
# ruff: noqa: PLC0415

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from tenor.commands.opening import database_errors, open_database

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from tenor.store.database import Database

#: Exit status of ``verify`` and ``verify-receipt`` when the log or receipt does not hold.
DOES_NOT_HOLD: Final = 1

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--key",
        help="The log's private key file (default: $TENOR_AUDIT_KEY or tenor-audit-key.pem).",
        metavar="PATH",
    ),
]


@contextmanager
def _book() -> Iterator[Database]:
    """The database, closed when the command is done (tests run commands in process)."""
    db = open_database()
    try:
        with database_errors(db.url):
            yield db
    finally:
        db.dispose()


def _print_json(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _public_key(path: Path) -> Ed25519PublicKey:
    from tenor.audit.keys import load_public_key
    from tenor.cli import fail

    try:
        data = path.read_bytes()
    except OSError as error:
        fail(f"--public-key cannot read {path}: {error.strerror}")
    return load_public_key(data, f"--public-key {path}")


def register(app: typer.Typer) -> None:
    """Add ``tenor audit`` to ``app``."""
    audit = typer.Typer(
        name="audit",
        help="The transparency log: signed tree heads, proofs, receipts, verification.",
        no_args_is_help=True,
    )
    app.add_typer(audit)

    @audit.command("keygen")
    def keygen(key: KeyOption = None) -> None:
        """Create the log's Ed25519 signing key (never overwrites one) and print its fingerprint."""
        from tenor.audit.keys import generate_key, key_path
        from tenor.cli import domain_errors

        path = key or key_path()
        with domain_errors():
            signer = generate_key(path)
        typer.echo(f"wrote {path} (mode 0600); key fingerprint {signer.fingerprint}")
        typer.echo("publish the public key: tenor audit public-key > tenor-audit.pub")

    @audit.command("public-key")
    def public_key(key: KeyOption = None) -> None:
        """Print the log's public key as PEM, to publish beside the tree heads."""
        from tenor.audit.keys import load_signer, public_pem
        from tenor.cli import domain_errors

        with domain_errors():
            signer = load_signer(key)
        typer.echo(public_pem(signer.public_key), nl=False)

    @audit.command("sign")
    def sign(key: KeyOption = None, json_output: JsonOption = False) -> None:
        """Place every queued leaf and sign a tree head now."""
        from tenor.audit.keys import load_signer
        from tenor.audit.log import sign_tree_head, tree_head_document
        from tenor.cli import domain_errors

        with domain_errors():
            signer = load_signer(key)
        with _book() as db, db.transaction() as session:
            head = tree_head_document(sign_tree_head(session, signer, dt.datetime.now(dt.UTC)))
        if json_output:
            _print_json(head)
        else:
            typer.echo(
                f"signed tree head {head['id']}: {head['tree_size']} leaves, root "
                f"{head['root_hash']}, at {head['signed_at']}"
            )

    @audit.command("tree-heads")
    def list_tree_heads(
        limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")] = 20,
        json_output: JsonOption = False,
    ) -> None:
        """List signed tree heads, newest first."""
        from tenor.audit.log import tree_head_document, tree_heads

        with _book() as db, db.reading() as session:
            heads = [tree_head_document(head) for head in tree_heads(session, limit=limit)]
        if json_output:
            _print_json({"tree_heads": heads})
            return
        if not heads:
            typer.echo("no signed tree heads yet; sign one with `tenor audit sign`")
        for head in heads:
            typer.echo(
                f"{head['id']:>6}  {head['signed_at']}  size {head['tree_size']:>10}  "
                f"root {head['root_hash']}"
            )

    @audit.command("verify")
    def verify(
        public_key: Annotated[
            Path | None,
            typer.Option(
                help="The log's public key (PEM) to check signatures with; by default the "
                "public half of the signing key, when it is here.",
                metavar="PEM",
            ),
        ] = None,
        json_output: JsonOption = False,
    ) -> None:
        """Recompute the tree from the journal and check every signed tree head.

        Exit status 0: the log holds; 1: something was edited, deleted, inserted or
        reordered (each finding names the loan, sequence, event and leaf, or the tree head).
        """
        from tenor.audit.keys import key_path, load_signer
        from tenor.audit.verify import verify_log
        from tenor.cli import domain_errors

        with domain_errors():
            if public_key is not None:
                key = _public_key(public_key)
            elif key_path().exists():
                key = load_signer().public_key
            else:
                key = None
        with _book() as db, db.transaction() as session:
            report = verify_log(session, key)
        if json_output:
            _print_json(report.document())
        else:
            for finding in report.findings:
                typer.echo(f"{finding.kind}: {finding.message}")
            checked = "" if report.signatures_checked else " (signatures not checked: no key)"
            verdict = "holds" if report.ok else f"DOES NOT HOLD: {len(report.findings)} findings"
            typer.echo(
                f"log of {report.tree_size} leaves ({report.events} events, {report.changes} "
                f"changes), {report.tree_heads} signed tree heads{checked}: {verdict}"
            )
        if not report.ok:
            raise typer.Exit(DOES_NOT_HOLD)

    @audit.command("receipt")
    def receipt(
        event_id: Annotated[
            str | None,
            typer.Argument(help="The journal event's id.", metavar="[EVENT]"),
        ] = None,
        loan: Annotated[
            int | None,
            typer.Option(help="Instead of EVENT: the loan's latest repayment.", metavar="ID"),
        ] = None,
        out: Annotated[
            Path | None, typer.Option(help="Write it to this file.", metavar="FILE")
        ] = None,
    ) -> None:
        """Export the receipt of an event: the event, its leaf, its proof, a signed tree head."""
        from sqlalchemy import select

        from tenor.audit.receipts import build_receipt
        from tenor.cli import domain_errors, fail
        from tenor.store.models import JournalEntry

        if (event_id is None) == (loan is None):
            fail("give either EVENT or --loan ID")
        with domain_errors(), _book() as db, db.reading() as session:
            if event_id is None:
                event_id = session.scalar(
                    select(JournalEntry.event_id)
                    .where(
                        JournalEntry.loan_id == loan,
                        JournalEntry.kind == "repayment-received",
                    )
                    .order_by(JournalEntry.sequence.desc())
                    .limit(1)
                )
                if event_id is None:
                    fail(f"--loan {loan} has no repayment")
            document = build_receipt(session, event_id.strip())
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        if out is None:
            typer.echo(text, nl=False)
            return
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as error:
            fail(f"--out cannot write {out}: {error.strerror}")
        typer.echo(f"wrote {out}")

    @audit.command("verify-receipt")
    def verify_receipt(
        receipt_file: Annotated[
            Path, typer.Argument(help="The receipt (JSON).", metavar="RECEIPT.json")
        ],
        public_key: Annotated[
            Path, typer.Option(help="The log's published public key (PEM).", metavar="KEY")
        ],
        json_output: JsonOption = False,
    ) -> None:
        """Check a receipt offline, with no database: exit 0 if it holds, 1 if it does not."""
        from tenor.audit.receipts import ReceiptError, check_receipt
        from tenor.cli import domain_errors, fail

        try:
            document = json.loads(receipt_file.read_text(encoding="utf-8"))
        except OSError as error:
            fail(f"cannot read the receipt {receipt_file}: {error.strerror}")
        except (ValueError, UnicodeDecodeError):
            fail(f"the receipt {receipt_file} is not JSON")
        with domain_errors():
            key = _public_key(public_key)
        try:
            checked = check_receipt(document, key)
        except ReceiptError as error:
            if json_output:
                _print_json({"ok": False, "reason": error.message})
            else:
                typer.echo(f"receipt does not hold: {error.message}")
                typer.echo(f"回执无效：{error.message}")  # noqa: RUF001
            raise typer.Exit(DOES_NOT_HOLD) from None
        summary = checked.summary()
        if json_output:
            _print_json({"ok": True, "leaf_index": checked.leaf_index, "summary": summary})
        else:
            typer.echo(summary["en"])
            typer.echo(summary["zh-CN"])
