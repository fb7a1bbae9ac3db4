"""The log's writer, sequencer and reader: leaves, stored subtrees, tree heads and proofs.

**Leaves.** A journal event's leaf is the RFC 8785 canonical JSON of its journal row (every
column but the surrogate ``id``; the instant in UTC), so anyone can recompute it from the event
(:func:`event_leaf`). A change to configuration or access (a product version, an API key) is a
leaf of its own (:func:`record_change`). Leaves hash as RFC 6962 says (:mod:`merkle`).

**Same transaction, ordered by one sequencer.** The leaf is written in the event's own
transaction: on PostgreSQL the journal row and its leaf go in one statement (a data-modifying
CTE), so the log costs the posting path no round trip; on SQLite a second insert in the same
process. The writer does *not* give the leaf its place in the tree: it is queued with
``leaf_index`` NULL, and :func:`integrate`, the sequencer, places every queued leaf in one
transaction under a lock on the ``audit_log_head`` row, in queue order, and stores the new
complete subtrees. This is Trillian's design (leaves queued by the writer, integrated by a
sequencer) rather than a lock on the log head in every posting transaction, for two reasons:

- a tree position taken at write time is only safe if no other writer can commit before it
  with a later position, which means holding one lock across every posting transaction's
  commit, serialising all payments on every loan; the queue serialises nothing;
- a position given after commit is the order the leaves are read back in, by construction:
  the tree is defined by ``leaf_index``, and only the sequencer, one at a time, assigns it.

Leaves are integrated whenever a tree head is signed (the daily close, ``tenor audit sign``)
and before ``tenor audit verify``; proofs are served against signed tree heads, so a queued
leaf is never needed by one.

**Proofs at any size.** ``audit_nodes`` keeps the hash of every complete subtree, so an
inclusion or consistency proof is two indexed reads of O(log n) rows, never a recomputation.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final, cast

import rfc8785
from psycopg.types.json import Json
from sqlalchemy import (
    JSON,
    Connection,
    Table,
    bindparam,
    insert,
    literal,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tenor.audit.keys import Signer, tree_head_message
from tenor.audit.merkle import (
    EMPTY_ROOT,
    Node,
    assemble,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    nodes_of,
    pieces,
    range_hash,
)
from tenor.audit.tables import AuditLeaf, AuditLogHead, AuditNode, SignedTreeHead
from tenor.core.errors import DomainError
from tenor.store.bulk import copy_rows
from tenor.store.database import is_postgres
from tenor.store.models import JournalEntry, utc_now

LEAF_VERSION: Final = 1
EVENT_LEAF: Final = "event"
CHANGE_LEAF: Final = "change"

_LEAVES = cast(Table, AuditLeaf.__table__)
_NODES = cast(Table, AuditNode.__table__)
_HEAD = cast(Table, AuditLogHead.__table__)
_JOURNAL = cast(Table, JournalEntry.__table__)
_HEAD_ID: Final = 1
#: How many leaves the sequencer places per batch of statements.
_BATCH: Final = 5_000


class LogError(DomainError):
    """The log cannot answer: a tree size it has not reached, a proof it cannot give."""

    code = "invalid_argument"


class NotInLogError(DomainError):
    """An event the log does not hold (or not yet in any signed tree head)."""

    code = "not_found"


#: Integers JSON carries exactly (RFC 8785 refuses larger ones).
_SAFE_INTEGER: Final = 2**53 - 1


def _plain(value: Any) -> bool:
    """Whether ``value`` holds only what the standard library encodes as RFC 8785 does.

    Strings, integers in the safe range, booleans, null, lists, and objects with ASCII keys
    (UTF-16 and code point order agree on them): no floats, whose shortest form differs.
    """
    # Loops, and no call for a string or null inside: this runs for every event the close writes.
    if value is None or isinstance(value, (str, bool)):
        return True
    if isinstance(value, int):
        return -_SAFE_INTEGER <= value <= _SAFE_INTEGER
    if isinstance(value, dict):
        for key, item in value.items():
            if not (isinstance(key, str) and key.isascii()):
                return False
            if item is not None and type(item) is not str and not _plain(item):
                return False
        return True
    if isinstance(value, (list, tuple)):
        for item in value:
            if item is not None and type(item) is not str and not _plain(item):
                return False
        return True
    return False


def canonical(document: Any) -> bytes:
    """The RFC 8785 (JCS) canonical JSON of ``document``.

    Journal leaves are plain documents, for which :func:`json.dumps` with sorted keys and no
    whitespace is byte for byte RFC 8785 (a property test holds it to ``rfc8785``) at a
    fraction of the pure-Python encoder's cost on the posting path; anything else goes through
    ``rfc8785``.
    """
    if _plain(document):
        try:
            return json.dumps(
                document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate: rfc8785 says what is wrong with it
    return rfc8785.dumps(document)


def instant(value: dt.datetime) -> str:
    """An instant as RFC 3339 UTC with microseconds; a naive value (SQLite) is UTC already."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_document(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The leaf document of a journal row (or of the values it is inserted with)."""
    value_date = row["value_date"]
    return {
        "v": LEAF_VERSION,
        "type": "loan-event",
        "event_id": row["event_id"],
        "loan_id": row["loan_id"],
        "sequence": row["sequence"],
        "kind": row["kind"],
        "value_date": value_date.isoformat() if isinstance(value_date, dt.date) else value_date,
        "payload": row["payload"],
        "idempotency_key": row["idempotency_key"],
        "request_hash": row["request_hash"],
        "actor": row["actor"],
        "recorded_at": instant(row["recorded_at"]),
    }


def event_leaf(row: Mapping[Any, Any]) -> bytes:
    """The canonical leaf of a journal row."""
    return canonical(event_document(row))


# --- writing ----------------------------------------------------------------------------------

_JOURNAL_COLUMNS: Final = [column for column in _JOURNAL.c if column.name != "id"]
_INSERT_EVENT: Final = (
    insert(_JOURNAL)
    .values({column.name: bindparam(column.name, type_=column.type) for column in _JOURNAL_COLUMNS})
    .returning(_JOURNAL.c.id)
)
_QUEUE_EVENT: Final = insert(_LEAVES).values(
    kind=EVENT_LEAF,
    journal_id=bindparam("journal_id"),
    event_id=bindparam("event_id"),
    loan_id=bindparam("loan_id"),
    sequence=bindparam("sequence"),
    leaf_hash=bindparam("leaf_hash", type_=_LEAVES.c.leaf_hash.type),
)
_INSERTED: Final = (
    insert(_JOURNAL)
    .values({column.name: bindparam(column.name, type_=column.type) for column in _JOURNAL_COLUMNS})
    .returning(_JOURNAL.c.id, _JOURNAL.c.event_id, _JOURNAL.c.loan_id, _JOURNAL.c.sequence)
    .cte("inserted_event")
)
#: PostgreSQL: the journal row and its queued leaf in one statement.
_INSERT_EVENT_AND_LEAF: Final = (
    insert(_LEAVES)
    .from_select(
        ["kind", "journal_id", "event_id", "loan_id", "sequence", "leaf_hash"],
        select(
            literal(EVENT_LEAF, _LEAVES.c.kind.type),
            _INSERTED.c.id,
            _INSERTED.c.event_id,
            _INSERTED.c.loan_id,
            _INSERTED.c.sequence,
            bindparam("leaf_hash", type_=_LEAVES.c.leaf_hash.type),
        ),
    )
    .returning(_LEAVES.c.journal_id)
)


#: The statement :func:`insert_event` runs on PostgreSQL, for writers on a connection of their
#: own (the payment path); :func:`event_statement_values` gives its parameters.
INSERT_EVENT_AND_LEAF: Final = _INSERT_EVENT_AND_LEAF


def event_statement_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of :data:`INSERT_EVENT_AND_LEAF` for a journal row (every column but
    ``id``): the row and its leaf's hash."""
    return {**values, "leaf_hash": leaf_hash(event_leaf(values))}


def insert_event(connection: Connection, values: Mapping[str, Any]) -> int:
    """Insert a journal row (``values``: every column but ``id``) and queue its leaf.

    The one call :mod:`tenor.store.journal` makes into the log; returns the row's id.
    """
    digest = leaf_hash(event_leaf(values))
    if is_postgres(connection.engine):
        journal_id: int = connection.execute(
            _INSERT_EVENT_AND_LEAF, {**values, "leaf_hash": digest}
        ).scalar_one()
        return journal_id
    journal_id = connection.execute(_INSERT_EVENT, dict(values)).scalar_one()
    connection.execute(
        _QUEUE_EVENT,
        {
            "journal_id": journal_id,
            "event_id": values["event_id"],
            "loan_id": values["loan_id"],
            "sequence": values["sequence"],
            "leaf_hash": digest,
        },
    )
    return journal_id


#: SQLite: one prepared statement per journal row; the ids are read back by event id.
_INSERT_JOURNAL_ROW: Final = insert(_JOURNAL).values(
    {column.name: bindparam(column.name, type_=column.type) for column in _JOURNAL_COLUMNS}
)
_QUEUE_EVENTS: Final = insert(_LEAVES).values(
    kind=bindparam("kind"),
    journal_id=bindparam("journal_id"),
    event_id=bindparam("event_id"),
    loan_id=bindparam("loan_id"),
    sequence=bindparam("sequence"),
    leaf_hash=bindparam("leaf_hash", type_=_LEAVES.c.leaf_hash.type),
)
_JOURNAL_IDS: Final = select(_JOURNAL.c.event_id, _JOURNAL.c.id).where(
    _JOURNAL.c.event_id.in_(bindparam("event_ids", expanding=True))
)
#: PostgreSQL: ``n`` new journal ids, drawn from the column's own sequence.
_DRAW_IDS: Final = text(
    "SELECT nextval(pg_get_serial_sequence('journal', 'id')) FROM generate_series(1, :n)"
)
#: Journal columns holding JSON documents: COPY takes them as psycopg dumps bound JSON.
_JSON: Final = frozenset(c.name for c in _JOURNAL_COLUMNS if isinstance(c.type, JSON))
_LEAF_COLUMNS: Final = ("kind", "journal_id", "event_id", "loan_id", "sequence", "leaf_hash")
#: Event ids read back per statement on SQLite (its limit on bound values is far above).
_READ_BACK: Final = 10_000


def insert_events(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many journal rows (each: every column but ``id``) and queue their leaves.

    The batch form of :func:`insert_event`, for writers of many events at once (the daily
    close). The rows get increasing ids in their order, and their leaves are queued in the
    same order, which is the order the sequencer places them in the tree. On PostgreSQL the
    ids are drawn in one statement and the rows and leaves are COPYed; on SQLite each table
    gets one prepared statement for all its rows.
    """
    if not rows:
        return
    if is_postgres(connection.engine):
        ids = [int(row_id) for row_id in connection.execute(_DRAW_IDS, {"n": len(rows)}).scalars()]
    else:
        ids = _insert_journal_rows(connection, rows)
    if len(ids) != len(rows) or any(a >= b for a, b in pairwise(ids)):
        raise LogError("the journal gave its new rows ids out of their order; nothing was logged")
    leaves = [
        (
            EVENT_LEAF,
            journal_id,
            row["event_id"],
            row["loan_id"],
            row["sequence"],
            leaf_hash(event_leaf(row)),
        )
        for journal_id, row in zip(ids, rows, strict=True)
    ]
    if is_postgres(connection.engine):
        names = [column.name for column in _JOURNAL_COLUMNS]
        copy_rows(
            connection,
            _JOURNAL.name,
            ["id", *names],
            (
                (journal_id, *[Json(row[name]) if name in _JSON else row[name] for name in names])
                for journal_id, row in zip(ids, rows, strict=True)
            ),
        )
        copy_rows(connection, _LEAVES.name, _LEAF_COLUMNS, leaves)
    else:
        connection.execute(
            _QUEUE_EVENTS, [dict(zip(_LEAF_COLUMNS, leaf, strict=True)) for leaf in leaves]
        )


def _insert_journal_rows(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """SQLite: insert the journal rows; their ids in the rows' order."""
    connection.execute(_INSERT_JOURNAL_ROW, [dict(row) for row in rows])
    event_ids = [row["event_id"] for row in rows]
    found: dict[str, int] = {}
    for start in range(0, len(event_ids), _READ_BACK):
        chunk = event_ids[start : start + _READ_BACK]
        found.update(
            (event_id, int(row_id))
            for event_id, row_id in connection.execute(_JOURNAL_IDS, {"event_ids": chunk})
        )
    return [found[event_id] for event_id in event_ids if event_id in found]


def change_entry(kind: str, subject: str, document: Any, at: dt.datetime) -> bytes:
    """The canonical leaf of a change: what kind of thing, which one, and what it now says."""
    return canonical(
        {
            "v": LEAF_VERSION,
            "type": "change",
            "kind": kind,
            "subject": subject,
            "document": document,
            "recorded_at": instant(at),
        }
    )


def record_change(session: Session, kind: str, subject: str, document: Any) -> None:
    """Log a change to configuration or access in the caller's transaction.

    ``kind`` names what changed (``product``, ``api-key``, later ``strategy``, ``policy``,
    ``model``), ``subject`` which one (``products/consumer/v2``), ``document`` what it now
    says (JSON: no secrets, no personal data). Call it from the action that makes the change.
    """
    queue_changes(session.connection(), [(kind, subject, document, utc_now())])


def queue_changes(
    connection: Connection, changes: Sequence[tuple[str, str, Any, dt.datetime]]
) -> None:
    """Queue the leaves of ``(kind, subject, document, instant)`` changes."""
    rows = []
    for kind, subject, document, at in changes:
        entry = change_entry(kind, subject, document, at)
        rows.append(
            {
                "kind": CHANGE_LEAF,
                "subject": subject[:200],
                "entry": entry.decode(),
                "leaf_hash": leaf_hash(entry),
            }
        )
    if rows:
        connection.execute(insert(_LEAVES), rows)


# --- sequencing -----------------------------------------------------------------------------


def _lock_head(connection: Connection) -> int:
    """Take the sequencer's lock and read the tree size (creating the head row if emptied)."""
    dialect_insert = postgresql.insert if is_postgres(connection.engine) else sqlite.insert
    connection.execute(
        dialect_insert(_HEAD)
        .values(id=_HEAD_ID, tree_size=0)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    statement = select(_HEAD.c.tree_size).where(_HEAD.c.id == _HEAD_ID)
    if is_postgres(connection.engine):
        statement = statement.with_for_update()
    return int(connection.execute(statement).scalar_one())


def tree_size(connection: Connection) -> int:
    """How many leaves are placed in the tree (queued ones are not)."""
    size = connection.execute(
        select(_HEAD.c.tree_size).where(_HEAD.c.id == _HEAD_ID)
    ).scalar_one_or_none()
    return int(size or 0)


def stored_hashes(connection: Connection, nodes: Iterable[Node]) -> dict[Node, bytes]:
    """The stored hashes of complete subtrees ``nodes`` (level 0: the leaves)."""
    wanted = set(nodes)
    leaves = sorted(position for level, position in wanted if level == 0)
    inner = sorted(node for node in wanted if node[0] > 0)
    found: dict[Node, bytes] = {}
    if leaves:
        rows = connection.execute(
            select(_LEAVES.c.leaf_index, _LEAVES.c.leaf_hash).where(
                _LEAVES.c.leaf_index.in_(leaves)
            )
        )
        found.update(((0, int(index)), bytes(digest)) for index, digest in rows)
    if inner:
        nodes_found = connection.execute(
            select(_NODES.c.level, _NODES.c.position, _NODES.c.hash).where(
                tuple_(_NODES.c.level, _NODES.c.position).in_(inner)
            )
        )
        found.update(
            ((int(level), int(position)), bytes(digest)) for level, position, digest in nodes_found
        )
    missing = wanted - found.keys()
    if missing:
        level, position = min(missing)
        raise LogError(
            f"the log has no stored hash for the subtree at level {level}, position {position}; "
            "run `tenor audit verify`"
        )
    return found


def integrate(connection: Connection) -> int:
    """Place every queued leaf at the end of the tree, in queue order; the new tree size.

    One sequencer at a time (the head row's lock on PostgreSQL; SQLite's single writer).
    """
    size = _lock_head(connection)
    while True:
        queued = connection.execute(
            select(_LEAVES.c.id, _LEAVES.c.leaf_hash)
            .where(_LEAVES.c.leaf_index.is_(None))
            .order_by(_LEAVES.c.id)
            .limit(_BATCH)
        ).all()
        if not queued:
            return size
        size = _place(connection, size, [(int(row_id), bytes(digest)) for row_id, digest in queued])


def _place(connection: Connection, size: int, queued: Sequence[tuple[int, bytes]]) -> int:
    end = size + len(queued)
    connection.execute(
        update(_LEAVES)
        .where(_LEAVES.c.id == bindparam("b_id"))
        .values(leaf_index=bindparam("b_index")),
        [{"b_id": row_id, "b_index": size + offset} for offset, (row_id, _) in enumerate(queued)],
    )
    # A new node's left child may be an old one: at each level, the last complete subtree
    # when it has no right sibling yet.
    old = {(level, (size >> level) - 1) for level in range(end.bit_length()) if (size >> level) & 1}
    known = stored_hashes(connection, old)
    known.update(((0, size + offset), digest) for offset, (_, digest) in enumerate(queued))
    rows = []
    level = 1
    while end >> level:
        for position in range(size >> level, end >> level):
            digest = node_hash(
                known[(level - 1, 2 * position)], known[(level - 1, 2 * position + 1)]
            )
            known[(level, position)] = digest
            rows.append({"level": level, "position": position, "hash": digest})
        level += 1
    if rows:
        connection.execute(insert(_NODES), rows)
    connection.execute(update(_HEAD).where(_HEAD.c.id == _HEAD_ID).values(tree_size=end))
    return end


# --- reading: roots and proofs ------------------------------------------------------------------


def _check_size(connection: Connection, size: int) -> None:
    current = tree_size(connection)
    if not 0 <= size <= current:
        raise LogError(f"the log has {current} leaves; there is no tree of {size}")


def root_at(connection: Connection, size: int) -> bytes:
    """The root hash of the tree of the first ``size`` leaves."""
    _check_size(connection, size)
    if size == 0:
        return EMPTY_ROOT
    parts = pieces(0, size)
    return range_hash(0, size, stored_hashes(connection, parts))


def inclusion_proof(connection: Connection, index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 6962, 2.1.1)."""
    _check_size(connection, size)
    if not 0 <= index < size:
        raise LogError(f"leaf {index} is not in the tree of {size} leaves")
    ranges = inclusion_ranges(index, size)
    return assemble(ranges, stored_hashes(connection, nodes_of(ranges)))


def consistency_proof(connection: Connection, first: int, second: int) -> list[bytes]:
    """The proof that the tree of ``second`` leaves extends that of ``first`` (RFC 6962, 2.1.2)."""
    _check_size(connection, second)
    if not 0 <= first <= second:
        raise LogError(f"no consistency proof from {first} leaves to {second}")
    ranges = consistency_ranges(first, second)
    return assemble(ranges, stored_hashes(connection, nodes_of(ranges)))


@dataclass(frozen=True, slots=True)
class EventLeaf:
    """Where an event is in the log."""

    leaf_index: int | None
    leaf_hash: bytes
    loan_id: int
    sequence: int


def event_leaf_of(connection: Connection, event_id: str) -> EventLeaf:
    """The leaf of journal event ``event_id``; NotInLogError when there is none."""
    row = connection.execute(
        select(
            _LEAVES.c.leaf_index, _LEAVES.c.leaf_hash, _LEAVES.c.loan_id, _LEAVES.c.sequence
        ).where(_LEAVES.c.event_id == event_id)
    ).one_or_none()
    if row is None:
        raise NotInLogError(f"event {event_id} is not in the log")
    index, digest, loan_id, sequence = row
    return EventLeaf(
        None if index is None else int(index), bytes(digest), int(loan_id), int(sequence)
    )


# --- tree heads ---------------------------------------------------------------------------------


def sign_tree_head(session: Session, signer: Signer, now: dt.datetime) -> SignedTreeHead:
    """Place every queued leaf, then sign and keep the tree head (size, root, ``now``).

    The daily close calls this at its end; ``tenor audit sign`` on demand.
    """
    connection = session.connection()
    size = integrate(connection)
    root = root_at(connection, size)
    timestamp_ms = (now - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)
    head = SignedTreeHead(
        tree_size=size,
        root_hash=root,
        timestamp_ms=timestamp_ms,
        key_fingerprint=signer.fingerprint,
        signature=signer.sign(tree_head_message(size, timestamp_ms, root)),
        signed_at=now,
    )
    session.add(head)
    session.flush()
    return head


def signed_at(head: SignedTreeHead) -> str:
    """When a tree head was signed, as its timestamp says (RFC 3339, UTC, milliseconds)."""
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=head.timestamp_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def tree_head_document(head: SignedTreeHead) -> dict[str, Any]:
    """A signed tree head as JSON: hashes and the signature in hex, the timestamp in ms."""
    return {
        "id": head.id,
        "tree_size": head.tree_size,
        "root_hash": bytes(head.root_hash).hex(),
        "timestamp": head.timestamp_ms,
        "signed_at": signed_at(head),
        "key_fingerprint": head.key_fingerprint,
        "signature": bytes(head.signature).hex(),
    }


def tree_heads(session: Session, *, limit: int = 100, offset: int = 0) -> list[SignedTreeHead]:
    """Signed tree heads, newest first."""
    return list(
        session.scalars(
            select(SignedTreeHead).order_by(SignedTreeHead.id.desc()).offset(offset).limit(limit)
        )
    )


def latest_tree_head_covering(session: Session, leaf_index: int) -> SignedTreeHead | None:
    """The newest signed tree head that includes leaf ``leaf_index``."""
    return session.scalars(
        select(SignedTreeHead)
        .where(SignedTreeHead.tree_size > leaf_index)
        .order_by(SignedTreeHead.id.desc())
        .limit(1)
    ).first()
