"""The leaves of changes to products and API keys, and the backfill of an older book.

A product version and an API key (created, revoked) each become a change leaf, written by
the action that makes them (:mod:`tenor.actions.products`, :mod:`tenor.actions.apikeys`). An API
key's leaf holds its role and scope, never its hash.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, cast

from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.orm import Session

from tenor.audit.log import EVENT_LEAF, event_leaf, integrate, queue_changes, record_change
from tenor.audit.merkle import leaf_hash
from tenor.audit.tables import AuditLeaf
from tenor.store.models import ApiKey, JournalEntry, Product

_BATCH: Final = 5_000


def product_subject(product: Product) -> str:
    """``products/<code>/v<version>``."""
    return f"products/{product.code}/v{product.version}"


def product_document(product: Product) -> dict[str, Any]:
    """What a product version says."""
    return {
        "id": product.id,
        "code": product.code,
        "version": product.version,
        "name": product.name,
        "currency": product.currency,
        "config": product.config,
    }


def api_key_document(key: ApiKey, action: str) -> dict[str, Any]:
    """An API key's role and scope, and what happened to it (``created``, ``revoked``)."""
    return {
        "action": action,
        "id": key.id,
        "prefix": key.prefix,
        "role": key.role,
        "borrower_id": key.borrower_id,
        "agency_id": key.agency_id,
        "name": key.name,
    }


def log_product(session: Session, product: Product) -> None:
    """Log a new product version."""
    record_change(session, "product", product_subject(product), product_document(product))


def log_api_key(session: Session, key: ApiKey, action: str) -> None:
    """Log an API key created or revoked."""
    record_change(session, "api-key", f"api-keys/{key.prefix}", api_key_document(key, action))


def backfill(connection: Connection) -> int:
    """Give a book that predates the log its leaves, then place them; the tree size.

    Products and API keys first (by id), then every journal event in journal order. Only the
    migration that creates the log calls this: afterwards a journal row without a leaf is an
    insertion for ``tenor audit verify`` to report, not something to adopt.
    """
    products = cast(Table, Product.__table__)
    api_keys = cast(Table, ApiKey.__table__)
    changes: list[tuple[str, str, Any, dt.datetime]] = []
    for row in connection.execute(select(products).order_by(products.c.id)).mappings().all():
        product = Product(**row)
        changes.append(
            ("product", product_subject(product), product_document(product), product.created_at)
        )
    for row in connection.execute(select(api_keys).order_by(api_keys.c.id)).mappings().all():
        key = ApiKey(**row)
        subject = f"api-keys/{key.prefix}"
        changes.append(("api-key", subject, api_key_document(key, "created"), key.created_at))
        if key.revoked_at is not None:
            changes.append(("api-key", subject, api_key_document(key, "revoked"), key.revoked_at))
    queue_changes(connection, changes)
    journal = cast(Table, JournalEntry.__table__)
    leaves = cast(Table, AuditLeaf.__table__)
    last = 0
    while batch := (
        connection.execute(
            select(journal).where(journal.c.id > last).order_by(journal.c.id).limit(_BATCH)
        )
        .mappings()
        .all()
    ):
        connection.execute(
            insert(leaves),
            [
                {
                    "kind": EVENT_LEAF,
                    "journal_id": row["id"],
                    "event_id": row["event_id"],
                    "loan_id": row["loan_id"],
                    "sequence": row["sequence"],
                    "leaf_hash": leaf_hash(event_leaf(row)),
                }
                for row in batch
            ],
        )
        last = batch[-1]["id"]
    return integrate(connection)
