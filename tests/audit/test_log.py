"""The log in the database, on SQLite and PostgreSQL: leaves, stored subtrees, verification."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, func, select, text
from sqlalchemy.exc import IntegrityError

from tenor.actions.apikeys import create_api_key, revoke_api_key
from tenor.actions.products import create_product
from tenor.audit import log
from tenor.audit.keys import Signer
from tenor.audit.log import (
    LogError,
    consistency_proof,
    event_leaf,
    inclusion_proof,
    insert_event,
    insert_events,
    integrate,
    record_change,
    root_at,
)
from tenor.audit.merkle import MemoryTree, leaf_hash, levels
from tenor.audit.tables import AuditLeaf, AuditNode
from tenor.audit.verify import Report, verify_log
from tenor.store.database import Database
from tenor.store.migrate import upgrade
from tenor.store.models import Base, JournalEntry
from tests.audit.conftest import another_loan, post, sign, small_book
from tests.builders import consumer_product, seed_loan


def verify(db: Database, signer: Signer | None = None) -> Report:
    with db.transaction() as session:
        return verify_log(session, signer.public_key if signer else None)


def stored_leaves(db: Database) -> list[bytes]:
    with db.reading() as session:
        return [
            bytes(digest)
            for digest in session.scalars(
                select(AuditLeaf.leaf_hash)
                .where(AuditLeaf.leaf_index.is_not(None))
                .order_by(AuditLeaf.leaf_index)
            )
        ]


def sql(db: Database, statement: str, **parameters: Any) -> None:
    """Tamper: raw SQL, around every function of Tenor's."""
    with db.engine.begin() as connection:
        connection.execute(text(statement), parameters)


def test_every_event_is_a_leaf_of_its_journal_row_and_proofs_are_rfc6962(
    db: Database, signer: Signer
) -> None:
    small_book(db)
    size = sign(db, signer)
    with db.reading() as session:
        rows = session.connection().execute(select(JournalEntry.__table__)).mappings().all()
        logged = {
            leaf.event_id: bytes(leaf.leaf_hash) for leaf in session.scalars(select(AuditLeaf))
        }
    assert size == len(rows) == 5
    assert {row["event_id"]: leaf_hash(event_leaf(row)) for row in rows} == logged
    tree = MemoryTree(stored_leaves(db))
    with db.reading() as session:
        connection = session.connection()
        for second in range(size + 1):
            assert root_at(connection, second) == tree.root(second)
            for first in range(second + 1):
                assert consistency_proof(connection, first, second) == tree.consistency_proof(
                    first, second
                )
            for index in range(second):
                assert inclusion_proof(connection, index, second) == tree.inclusion_proof(
                    index, second
                )


def test_placing_leaves_in_batches_stores_every_complete_subtree(db: Database) -> None:
    placed = 0
    for batch in (1, 1, 2, 3, 7, 1, 16, 5):
        with db.transaction() as session:
            for number in range(placed, placed + batch):
                record_change(session, "test", f"tests/{number}", {"number": number})
            placed = integrate(session.connection())
    hashes = stored_leaves(db)
    assert placed == len(hashes) == 36
    with db.reading() as session:
        kept = {
            (node.level, node.position): bytes(node.hash)
            for node in session.scalars(select(AuditNode))
        }
        connection = session.connection()
        roots = [root_at(connection, size) for size in range(placed + 1)]
    expected = {
        (level, position): digest
        for level, row in enumerate(levels(hashes))
        for position, digest in enumerate(row)
        if level
    }
    assert kept == expected
    assert roots == [MemoryTree(hashes).root(size) for size in range(placed + 1)]


def test_an_intact_log_verifies_with_its_signatures(db: Database, signer: Signer) -> None:
    first, _, _ = small_book(db)
    sign(db, signer)
    post(db, first, "30", 20)
    sign(db, signer)
    report = verify(db, signer)
    assert report.findings == []
    assert (report.tree_size, report.events, report.tree_heads) == (6, 6, 2)
    assert report.signatures_checked


def _payment(amount: str) -> str:
    return json.dumps(
        {
            "amount": {"amount": amount, "currency": "CNY"},
            "channel": None,
            "external_reference": None,
        }
    )


def test_an_edited_event_is_named(db: Database, signer: Signer) -> None:
    first, _, paid = small_book(db)
    sign(db, signer)
    sql(db, "UPDATE journal SET payload = :p WHERE event_id = :e", p=_payment("20.00"), e=paid[1])
    report = verify(db, signer)
    kinds = [(finding.kind, finding.loan_id, finding.sequence) for finding in report.findings]
    assert kinds == [("edited", first, 3), ("tree-head", None, None)]
    assert paid[1] in report.findings[0].message
    assert "tree head 1 (size 5" in report.findings[1].message


def test_a_deleted_event_is_named(db: Database, signer: Signer) -> None:
    first, _, paid = small_book(db)
    sign(db, signer)
    sql(db, "DELETE FROM journal WHERE event_id = :e", e=paid[0])
    report = verify(db, signer)
    kinds = [(finding.kind, finding.loan_id, finding.sequence) for finding in report.findings]
    assert kinds == [("deleted", first, 2), ("tree-head", None, None)]


def test_an_inserted_event_is_named(db: Database, signer: Signer) -> None:
    first, _, _ = small_book(db)
    sign(db, signer)
    sql(
        db,
        "INSERT INTO journal (event_id, loan_id, sequence, kind, value_date, payload, actor, "
        "recorded_at) VALUES (:e, :loan, 5, 'repayment-received', '2026-02-20', :p, 'system', "
        "'2026-02-20 09:00:00.000000')",
        e="00000000-0000-4000-8000-000000000001",
        loan=first,
        p=_payment("500.00"),
    )
    report = verify(db, signer)
    kinds = [(finding.kind, finding.loan_id, finding.sequence) for finding in report.findings]
    # The tree heads signed before it still hold: the insertion is after them.
    assert kinds == [("inserted", first, 5)]
    assert "00000000-0000-4000-8000-000000000001" in report.findings[0].message


def test_reordered_events_are_named(db: Database, signer: Signer) -> None:
    first, _, _ = small_book(db)
    sign(db, signer)
    for old, new in ((2, -1), (3, 2), (-1, 3)):
        sql(
            db,
            "UPDATE journal SET sequence = :new WHERE loan_id = :loan AND sequence = :old",
            new=new,
            old=old,
            loan=first,
        )
    report = verify(db, signer)
    kinds = [(finding.kind, finding.loan_id, finding.sequence) for finding in report.findings]
    assert kinds == [("reordered", first, 2), ("reordered", first, 3), ("tree-head", None, None)]


def test_rewriting_the_journal_and_its_leaf_together_fails_the_signed_tree_head(
    db: Database, signer: Signer
) -> None:
    _, second, _ = small_book(db)
    post(db, second, "10", 11)
    sign(db, signer)
    with db.reading() as session:
        row = (
            session.connection()
            .execute(
                select(JournalEntry.__table__).where(
                    JournalEntry.loan_id == second, JournalEntry.sequence == 2
                )
            )
            .mappings()
            .one()
        )
    forged = {**row, "payload": json.loads(_payment("1000.00"))}
    sql(db, "UPDATE journal SET payload = :p WHERE id = :i", p=_payment("1000.00"), i=row["id"])
    sql(
        db,
        "UPDATE audit_leaves SET leaf_hash = :h WHERE event_id = :e",
        h=leaf_hash(event_leaf(forged)),
        e=row["event_id"],
    )
    report = verify(db, signer)
    assert "edited" not in [finding.kind for finding in report.findings]
    assert report.findings[-1].kind == "tree-head"
    assert "something among leaves 0 to 5 changed" in report.findings[-1].message


def test_a_forged_tree_head_signature_is_found(db: Database, signer: Signer) -> None:
    small_book(db)
    sign(db, signer)
    sql(db, "UPDATE audit_tree_heads SET tree_size = 4")
    assert [finding.kind for finding in verify(db, signer).findings] == ["tree-head"]
    assert (
        verify(db, signer)
        .findings[0]
        .message.endswith("its signature does not hold under the log's public key")
    )


def test_concurrent_appends_on_different_loans_give_the_tree_they_read_back(
    db: Database, signer: Signer
) -> None:
    first = seed_loan(db)
    loan_ids = [first, *(another_loan(db, first) for _ in range(3))]
    errors: list[BaseException] = []
    done = threading.Event()

    def pay(loan_id: int) -> None:
        try:
            for day in range(1, 9):
                post(db, loan_id, "10", day)
        except BaseException as error:
            errors.append(error)

    def keep_signing() -> None:
        try:
            while not done.is_set():
                sign(db, signer)
        except BaseException as error:
            errors.append(error)

    payers = [threading.Thread(target=pay, args=(loan_id,)) for loan_id in loan_ids]
    sequencer = threading.Thread(target=keep_signing)
    sequencer.start()
    for thread in payers:
        thread.start()
    for thread in payers:
        thread.join()
    done.set()
    sequencer.join()
    assert errors == []
    size = sign(db, signer)
    report = verify(db, signer)
    assert report.findings == []
    assert size == report.events == 4 + 4 * 8
    assert report.tree_heads >= 2


def test_products_and_api_keys_are_logged_as_changes(db: Database, signer: Signer) -> None:
    with db.transaction() as session:
        product = create_product(
            session, code="consumer", name="Consumer", config=consumer_product()
        )
        key, _ = create_api_key(session, "auditor", name="external auditor")
        revoke_api_key(session, key.prefix)
    sign(db, signer)
    with db.reading() as session:
        leaves = session.scalars(select(AuditLeaf).order_by(AuditLeaf.leaf_index)).all()
    assert [leaf.subject for leaf in leaves] == [
        f"products/consumer/v{product.version}",
        f"api-keys/{key.prefix}",
        f"api-keys/{key.prefix}",
    ]
    documents = [json.loads(leaf.entry or "") for leaf in leaves]
    assert [document["document"].get("action") for document in documents] == [
        None,
        "created",
        "revoked",
    ]
    assert "key_hash" not in documents[1]["document"]
    assert verify(db, signer).findings == []
    sql(db, "UPDATE audit_leaves SET entry = replace(entry, 'auditor', 'admin')")
    findings = verify(db, signer).findings
    assert [finding.kind for finding in findings] == ["edited", "edited", "tree-head"]
    assert f"api-keys/{key.prefix}" in findings[0].message


def test_migrating_an_older_book_logs_its_events_in_journal_order(
    db: Database, signer: Signer
) -> None:
    small_book(db)
    with db.transaction() as session:
        create_api_key(session, "admin")
    # The book as it was before the log: no audit tables, the log's migration branch not applied.
    with db.engine.begin() as connection:
        for table in ("audit_tree_heads", "audit_log_head", "audit_nodes", "audit_leaves"):
            connection.execute(text(f"DROP TABLE {table}"))
        connection.execute(text("DELETE FROM alembic_version WHERE version_num = 'audit1'"))
    upgrade(db)
    with db.reading() as session:
        event_order = session.scalars(
            select(AuditLeaf.journal_id)
            .where(AuditLeaf.kind == "event")
            .order_by(AuditLeaf.leaf_index)
        ).all()
        journal_order = session.scalars(select(JournalEntry.id).order_by(JournalEntry.id)).all()
        changes = session.scalar(
            select(func.count()).select_from(AuditLeaf).where(AuditLeaf.kind == "change")
        )
    assert event_order == journal_order
    assert changes == 2  # the product and the API key
    sign(db, signer)
    report = verify(db, signer)
    assert report.findings == []
    assert report.tree_size == 7


def test_the_migration_creates_exactly_the_audit_tables(db: Database) -> None:
    ours = MetaData()
    for table in Base.metadata.sorted_tables:
        if table.name.startswith("audit_"):
            table.to_metadata(ours)
    assert len(ours.tables) == 4
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [
            difference
            for difference in compare_metadata(context, ours)
            # compare_metadata sees the other capabilities' tables as not in `ours`.
            if not (difference[0] == "remove_table" and not difference[1].name.startswith("audit_"))
            and not (
                difference[0] == "remove_index"
                and not difference[1].table.name.startswith("audit_")
            )
        ]
    assert differences == []


# --- many events at once (the daily close) ------------------------------------------------------


def close_rows(loan_ids: list[int], first_sequence: int) -> list[dict[str, Any]]:
    """Journal rows as the close writes them: loans interleaved, a payload with text to escape."""
    recorded = dt.datetime(2026, 3, 1, 16, 0, 0, 123456, tzinfo=dt.UTC)
    return [
        {
            "event_id": str(uuid.uuid4()),
            "loan_id": loan_id,
            "sequence": first_sequence + step,
            "kind": "bucket-changed",
            "value_date": dt.date(2026, 3, 1),
            "payload": {
                "from_bucket": None,
                "to_bucket": f"M{step}\t\\ “逾期”",
                "days_past_due": step,
            },
            "idempotency_key": None,
            "request_hash": None,
            "actor": "close",
            "recorded_at": recorded,
        }
        for step in range(3)
        for loan_id in loan_ids
    ]


def test_many_events_get_ids_and_leaves_in_their_order(db: Database, signer: Signer) -> None:
    first, second, _ = small_book(db)
    rows = close_rows([second, first], first_sequence=100)
    with db.transaction() as session:
        insert_events(session.connection(), rows)
    with db.reading() as session:
        stored = (
            session.connection()
            .execute(select(JournalEntry.__table__).order_by(JournalEntry.id))
            .mappings()
            .all()
        )[-len(rows) :]
        queued = session.execute(
            select(AuditLeaf.journal_id, AuditLeaf.event_id, AuditLeaf.leaf_hash).order_by(
                AuditLeaf.id
            )
        ).all()[-len(rows) :]
    assert [row["event_id"] for row in stored] == [row["event_id"] for row in rows]
    # SQLite reads the instant back without its zone; it was stored in UTC.
    assert [
        {
            **row,
            "recorded_at": row["recorded_at"].replace(tzinfo=row["recorded_at"].tzinfo or dt.UTC),
        }
        for row in stored
    ] == [{**row, "id": kept["id"]} for row, kept in zip(rows, stored, strict=True)]
    assert [(journal_id, event_id) for journal_id, event_id, _ in queued] == [
        (row["id"], row["event_id"]) for row in stored
    ]
    assert [bytes(digest) for _, _, digest in queued] == [
        leaf_hash(event_leaf(row)) for row in rows
    ]
    sign(db, signer)
    assert verify(db, signer).findings == []


def test_many_events_are_stored_as_one_event_is(db: Database) -> None:
    """The payload's stored text too: COPY writes the JSON the single-row path binds."""
    first, second, _ = small_book(db)
    one, many = close_rows([first], 100)[0], close_rows([second], 100)
    with db.transaction() as session:
        insert_event(session.connection(), one)
        insert_events(session.connection(), many)
    with db.reading() as session:
        texts: dict[int, str] = dict(
            session.execute(
                text(
                    "SELECT loan_id, CAST(payload AS TEXT) FROM journal "
                    "WHERE sequence = 100 ORDER BY id"
                )
            ).all()
        )
    assert texts[first] == texts[second]


def test_a_duplicate_event_writes_nothing(db: Database) -> None:
    first, _, paid = small_book(db)
    rows = close_rows([first], 100)
    rows[1]["event_id"] = paid[0]
    with pytest.raises(IntegrityError), db.transaction() as session:
        insert_events(session.connection(), rows)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(JournalEntry)) == 5
        assert session.scalar(select(func.count()).select_from(AuditLeaf)) == 5


def test_ids_out_of_the_rows_order_log_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _, _ = small_book(db)
    if db.engine.name == "postgresql":
        monkeypatch.setattr(log, "_DRAW_IDS", text(f"{log._DRAW_IDS.text} ORDER BY 1 DESC"))
    else:
        inserted = log._insert_journal_rows
        monkeypatch.setattr(
            log, "_insert_journal_rows", lambda *args: list(reversed(inserted(*args)))
        )
    with pytest.raises(LogError, match="out of their order"), db.transaction() as session:
        insert_events(session.connection(), close_rows([first], 100))
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(JournalEntry)) == 5
