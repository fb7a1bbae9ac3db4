"""Receipts: an event, its canonical leaf, its audit path and a signed tree head, in one file.

A borrower (or an auditor) keeps the receipt of a payment and can check it at any time with
nothing but the log's public key (:func:`check_receipt`, ``tenor audit verify-receipt``): the
event is the leaf, the leaf is in the tree, the tree head is the log's. Checking that later
tree heads extend that one is what consistency proofs are for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from tenor.audit.keys import fingerprint, signature_holds
from tenor.audit.log import (
    NotInLogError,
    canonical,
    event_leaf,
    event_leaf_of,
    inclusion_proof,
    latest_tree_head_covering,
    tree_head_document,
)
from tenor.audit.merkle import leaf_hash, verify_inclusion
from tenor.core.errors import DomainError
from tenor.store.models import JournalEntry

RECEIPT_FORMAT: Final = "tenor-audit-receipt/1"

_JOURNAL = cast(Table, JournalEntry.__table__)


class ReceiptNotReadyError(DomainError):
    """The event is logged but no signed tree head covers it yet."""

    code = "receipt_not_ready"


class LogMismatchError(DomainError):
    """The journal row no longer matches its leaf: the log refuses to vouch for it."""

    code = "log_mismatch"


class ReceiptError(DomainError):
    """A receipt that does not check out, and why."""

    code = "invalid_receipt"


def build_receipt(session: Session, event_id: str) -> dict[str, Any]:
    """The receipt of journal event ``event_id`` against the newest tree head that covers it."""
    connection = session.connection()
    row = connection.execute(select(_JOURNAL).where(_JOURNAL.c.event_id == event_id)).mappings()
    found = row.one_or_none()
    if found is None:
        raise NotInLogError(f"event {event_id} does not exist")
    leaf = event_leaf_of(connection, event_id)
    text = event_leaf(found)
    if leaf_hash(text) != leaf.leaf_hash:
        raise LogMismatchError(
            f"event {event_id} no longer matches what the log holds for it; run "
            "`tenor audit verify`"
        )
    head = None if leaf.leaf_index is None else latest_tree_head_covering(session, leaf.leaf_index)
    if head is None or leaf.leaf_index is None:
        raise ReceiptNotReadyError(
            f"event {event_id} is not yet under a signed tree head; the next daily close (or "
            "`tenor audit sign`) signs one"
        )
    proof = inclusion_proof(connection, leaf.leaf_index, head.tree_size)
    return {
        "format": RECEIPT_FORMAT,
        "event": json.loads(text),
        "leaf": text.decode(),
        "leaf_index": leaf.leaf_index,
        "leaf_hash": leaf.leaf_hash.hex(),
        "inclusion_proof": [digest.hex() for digest in proof],
        "tree_head": tree_head_document(head),
    }


@dataclass(frozen=True, slots=True)
class CheckedReceipt:
    """A receipt that checked out: what it proves."""

    event: dict[str, Any]
    leaf_index: int
    tree_size: int
    signed_at: str
    key_fingerprint: str

    def summary(self) -> dict[str, str]:
        """One line in each language a borrower may read."""
        event = self.event
        amount = (event.get("payload") or {}).get("amount") or {}
        what_en = f"{event.get('kind')}"
        what_zh = {"repayment-received": "还款"}.get(str(event.get("kind")), str(event.get("kind")))
        if amount:
            what_en += f" of {amount.get('amount')} {amount.get('currency')}"
            what_zh += f" {amount.get('amount')} {amount.get('currency')}"
        return {
            "en": (
                f"Verified: {what_en} on loan {event.get('loan_id')} (value date "
                f"{event.get('value_date')}) is entry {self.leaf_index} of Tenor's log, in the "
                f"tree of {self.tree_size} entries signed {self.signed_at} by key "
                f"{self.key_fingerprint[:16]}."
            ),
            # Full-width punctuation is how Chinese is written.
            "zh-CN": (
                f"已验证：贷款 {event.get('loan_id')} 的{what_zh}"  # noqa: RUF001
                f"（起息日 {event.get('value_date')}）"  # noqa: RUF001
                f"是 Tenor 审计日志的第 {self.leaf_index} 条记录，"  # noqa: RUF001
                f"包含在 {self.signed_at} 由密钥 {self.key_fingerprint[:16]} 签名的 "
                f"{self.tree_size} 条记录的树中。"
            ),
        }


def _field(document: dict[str, Any], name: str, kind: type) -> Any:
    value = document.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ReceiptError(f"the receipt's {name} is missing or not a {kind.__name__}")
    return value


def _hex(value: Any, name: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except (TypeError, ValueError):
        raise ReceiptError(f"the receipt's {name} is not hexadecimal") from None


def check_receipt(receipt: Any, public_key: Ed25519PublicKey) -> CheckedReceipt:
    """Check a receipt offline; raises :class:`ReceiptError` naming the first thing wrong."""
    if not isinstance(receipt, dict) or receipt.get("format") != RECEIPT_FORMAT:
        raise ReceiptError(f"not a Tenor receipt (its format is not {RECEIPT_FORMAT})")
    event = _field(receipt, "event", dict)
    leaf = _field(receipt, "leaf", str).encode()
    index = _field(receipt, "leaf_index", int)
    digest = _hex(_field(receipt, "leaf_hash", str), "leaf_hash")
    proof_hex = _field(receipt, "inclusion_proof", list)
    proof = [_hex(item, "inclusion_proof") for item in proof_hex]
    head = _field(receipt, "tree_head", dict)
    size = _field(head, "tree_size", int)
    timestamp = _field(head, "timestamp", int)
    root = _hex(_field(head, "root_hash", str), "tree_head.root_hash")
    signature = _hex(_field(head, "signature", str), "tree_head.signature")
    key_id = _field(head, "key_fingerprint", str)
    if canonical(event) != leaf:
        raise ReceiptError("the event is not the leaf: it was changed after the receipt was made")
    if leaf_hash(leaf) != digest:
        raise ReceiptError("the leaf does not hash to the receipt's leaf_hash")
    if key_id != fingerprint(public_key):
        raise ReceiptError(
            f"the tree head was signed by key {key_id[:16]}, not by the key given "
            f"({fingerprint(public_key)[:16]})"
        )
    if not signature_holds(public_key, size, timestamp, root, signature):
        raise ReceiptError("the tree head's signature does not hold")
    if not verify_inclusion(index, size, digest, proof, root):
        raise ReceiptError(
            f"the inclusion proof does not place leaf {index} in the signed tree of {size}"
        )
    return CheckedReceipt(event, index, size, str(head.get("signed_at", timestamp)), key_id)
