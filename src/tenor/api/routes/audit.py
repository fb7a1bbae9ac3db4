"""``/v1/audit``: signed tree heads and proofs; receipts of a borrower's repayments.

Tree heads and consistency proofs hold nothing but sizes, hashes and signatures: every role
may read them (``audit:read``), so that a borrower can check that a later tree head extends
the one in their receipt. An inclusion proof names an event, so it is scoped like the loan's
other reads (a borrower's key: only their own loans' events; anything else is 404). Hashes
and signatures are hex; timestamps milliseconds since the epoch, as RFC 6962 signs them.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from tenor.api.auth import database, require
from tenor.api.problems import problem_responses
from tenor.api.queries import check_loan_in_scope
from tenor.api.roles import Permission, Principal
from tenor.api.schemas import MAX_ID
from tenor.audit.log import (
    NotInLogError,
    consistency_proof,
    event_leaf_of,
    inclusion_proof,
    root_at,
    tree_head_document,
    tree_heads,
    tree_size,
)
from tenor.audit.receipts import ReceiptNotReadyError, build_receipt
from tenor.store.database import Database
from tenor.store.models import JournalEntry

router = APIRouter(tags=["audit"], responses=problem_responses(401, 403, 422))

Db = Annotated[Database, Depends(database)]
AuditReader = Annotated[Principal, Depends(require(Permission.READ_AUDIT))]
LoanReader = Annotated[Principal, Depends(require(Permission.READ_LOANS))]

_UUID: Final = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
EventId = Annotated[str, Field(pattern=_UUID, description="A journal event's id (a UUID).")]
Size = Annotated[int, Query(ge=0, le=MAX_ID)]
Hash = Annotated[str, Field(description="SHA-256, hex.", pattern=r"^[0-9a-f]{64}$")]


class TreeHeadOut(BaseModel):
    """A signed tree head: RFC 6962's TreeHeadSignature over size, timestamp and root."""

    id: int
    tree_size: int
    root_hash: Hash
    timestamp: int = Field(description="Milliseconds since the epoch, as signed.")
    signed_at: str = Field(description="The timestamp as an RFC 3339 instant (UTC).")
    key_fingerprint: Hash
    signature: str = Field(description="Ed25519 signature, hex.")


class TreeHeadPage(BaseModel):
    """Signed tree heads, newest first, and how many leaves the log has placed."""

    tree_size: int
    tree_heads: list[TreeHeadOut]


class InclusionProofOut(BaseModel):
    """An event's audit path in the tree of ``tree_size`` leaves (RFC 6962, 2.1.1)."""

    event_id: str
    leaf_index: int
    leaf_hash: Hash
    tree_size: int
    root_hash: Hash
    inclusion_proof: list[Hash]


class ConsistencyProofOut(BaseModel):
    """The proof that the tree of ``second`` leaves extends that of ``first`` (2.1.2)."""

    first: int
    second: int
    first_root_hash: Hash
    second_root_hash: Hash
    consistency_proof: list[Hash]


class ReceiptOut(BaseModel):
    """An event, its canonical leaf (RFC 8785), its audit path and a signed tree head."""

    format: str
    event: dict[str, Any]
    leaf: str
    leaf_index: int
    leaf_hash: Hash
    inclusion_proof: list[Hash]
    tree_head: TreeHeadOut


@router.get("/v1/audit/tree-heads", response_model=TreeHeadPage, summary="List signed tree heads")
def get_tree_heads(
    db: Db,
    _who: AuditReader,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Every signed tree head, newest first: publish them, and check new ones against old."""
    with db.reading() as session:
        heads = tree_heads(session, limit=limit, offset=offset)
        return {
            "tree_size": tree_size(session.connection()),
            "tree_heads": [tree_head_document(head) for head in heads],
        }


@router.get(
    "/v1/audit/proofs/inclusion",
    response_model=InclusionProofOut,
    responses=problem_responses(404, 409),
    summary="Prove an event is in the log",
)
def get_inclusion_proof(
    db: Db,
    who: LoanReader,
    event: Annotated[EventId, Query()],
    tree_size: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="Default: the newest signed tree head's size."),
    ] = None,
) -> dict[str, Any]:
    """The audit path of ``event`` in the tree of ``tree_size`` leaves.

    409 ``receipt_not_ready`` when no signed tree head includes the event yet.
    """
    with db.reading() as session:
        connection = session.connection()
        leaf = event_leaf_of(connection, event)
        check_loan_in_scope(session, who, leaf.loan_id)
        if leaf.leaf_index is None:
            raise ReceiptNotReadyError(f"event {event} is not yet placed in the tree")
        size = tree_size
        if size is None:
            newest = tree_heads(session, limit=1)
            if not newest or newest[0].tree_size <= leaf.leaf_index:
                raise ReceiptNotReadyError(f"no signed tree head includes event {event} yet")
            size = newest[0].tree_size
        proof = inclusion_proof(connection, leaf.leaf_index, size)
        return {
            "event_id": event,
            "leaf_index": leaf.leaf_index,
            "leaf_hash": leaf.leaf_hash.hex(),
            "tree_size": size,
            "root_hash": root_at(connection, size).hex(),
            "inclusion_proof": [digest.hex() for digest in proof],
        }


@router.get(
    "/v1/audit/proofs/consistency",
    response_model=ConsistencyProofOut,
    summary="Prove a tree extends an earlier one",
)
def get_consistency_proof(db: Db, _who: AuditReader, first: Size, second: Size) -> dict[str, Any]:
    """The proof that the tree of ``second`` leaves extends the tree of ``first``."""
    with db.reading() as session:
        connection = session.connection()
        proof = consistency_proof(connection, first, second)
        return {
            "first": first,
            "second": second,
            "first_root_hash": root_at(connection, first).hex(),
            "second_root_hash": root_at(connection, second).hex(),
            "consistency_proof": [digest.hex() for digest in proof],
        }


@router.get(
    "/v1/loans/{loan_id}/repayments/{event_id}/receipt",
    response_model=ReceiptOut,
    responses=problem_responses(404, 409),
    summary="Get the receipt of a repayment",
)
def get_receipt(
    loan_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    event_id: Annotated[str, Path(pattern=_UUID)],
    db: Db,
    who: LoanReader,
) -> dict[str, Any]:
    """The repayment, its leaf, its audit path and the newest signed tree head that holds it.

    Check it offline with ``tenor audit verify-receipt RECEIPT.json --public-key KEY``. 409
    ``receipt_not_ready`` until a signed tree head includes the repayment (the daily close
    signs one).
    """
    with db.reading() as session:
        check_loan_in_scope(session, who, loan_id)
        found = session.execute(
            select(JournalEntry.loan_id, JournalEntry.kind).where(JournalEntry.event_id == event_id)
        ).one_or_none()
        if found is None or tuple(found) != (loan_id, "repayment-received"):
            raise NotInLogError(f"loan {loan_id} has no repayment {event_id}")
        return build_receipt(session, event_id)
