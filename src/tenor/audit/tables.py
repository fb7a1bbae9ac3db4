"""The transparency log's tables: leaves, stored subtree hashes, the log head, signed tree heads.

- ``audit_leaves``: one row per leaf. A writer inserts it in the event's own transaction with
  ``leaf_index`` NULL (queued); the sequencer (:func:`tenor.audit.log.integrate`) gives it the
  next index. A journal event's leaf names the event (``event_id``, ``loan_id``, ``sequence``,
  ``journal_id``) and keeps only its hash: the leaf itself is recomputed from the journal row.
  A change's leaf keeps its canonical JSON in ``entry``, as there is no other record of it.
- ``audit_nodes``: the hash of every complete subtree of two or more leaves, by ``(level,
  position)`` (see :data:`tenor.audit.merkle.Node`); level 0 is ``audit_leaves.leaf_hash``.
- ``audit_log_head``: one row, the number of leaves sequenced; the sequencer's lock.
- ``audit_tree_heads``: every signed tree head, as RFC 6962's TreeHeadSignature signs it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from tenor.store.models import Base, BigId, utc_now


class AuditLeaf(Base):
    """One leaf of the log, queued (``leaf_index`` NULL) until the sequencer places it."""

    __tablename__ = "audit_leaves"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    journal_id: Mapped[int | None] = mapped_column(BigInteger)
    event_id: Mapped[str | None] = mapped_column(String(36))
    loan_id: Mapped[int | None] = mapped_column(BigInteger)
    sequence: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str | None] = mapped_column(String(200))
    entry: Mapped[str | None] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    __table_args__ = (
        Index("ix_audit_leaves_event_id", "event_id", unique=True),
        # The sequencer's queue: only the rows still waiting for an index.
        Index(
            "ix_audit_leaves_queued",
            "id",
            postgresql_where=text("leaf_index IS NULL"),
            sqlite_where=text("leaf_index IS NULL"),
        ),
    )


class AuditNode(Base):
    """The hash of the complete subtree of ``2**level`` leaves at ``position``."""

    __tablename__ = "audit_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditLogHead(Base):
    """How many leaves the sequencer has placed (one row, ``id`` 1)."""

    __tablename__ = "audit_log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger)


class SignedTreeHead(Base):
    """A tree head signed with the log's Ed25519 key."""

    __tablename__ = "audit_tree_heads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
