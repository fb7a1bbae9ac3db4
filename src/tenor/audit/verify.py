"""``tenor audit verify``: recompute the tree from the journal and check every signed tree head.

What it finds, and how it names it:

- **edited**: a journal row whose canonical leaf no longer hashes to the leaf the log holds
  for it (loan, sequence, event id, leaf index); a change leaf whose text no longer hashes to
  its stored hash;
- **deleted**: a leaf whose journal event is gone;
- **inserted**: a journal event that no leaf holds (every event gets its leaf in its own
  transaction, so an event without one was written around the journal writer);
- **reordered**: an event whose loan or sequence is not the one it was logged with, or a loan
  whose events stand in the log in another order than their sequence;
- **tree-head**: a signed tree head whose root differs from the root recomputed from the
  journal at its size, whose signature does not hold, or that covers more leaves than the
  log has. Even when journal and log were rewritten together, so that no event stands out,
  the first failing head says where: after the last head that still holds;
- **subtree**: a stored subtree hash (what proofs are served from) that differs from the
  recomputed tree.

The recomputed tree is the log's leaves in their order, each hashed afresh from its journal row,
with deleted events left out and inserted ones appended: the tree the journal claims to be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from tenor.audit.keys import fingerprint, signature_holds
from tenor.audit.log import CHANGE_LEAF, event_leaf, integrate, signed_at, tree_size
from tenor.audit.merkle import MemoryTree, leaf_hash
from tenor.audit.tables import AuditLeaf, AuditNode, SignedTreeHead
from tenor.store.models import JournalEntry

_LEAVES = cast(Table, AuditLeaf.__table__)
_NODES = cast(Table, AuditNode.__table__)
_JOURNAL = cast(Table, JournalEntry.__table__)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that does not hold, named as precisely as the log allows."""

    kind: str
    message: str
    loan_id: int | None = None
    sequence: int | None = None
    event_id: str | None = None
    leaf_index: int | None = None
    tree_head_id: int | None = None


@dataclass
class Report:
    """What verifying found: counts, and every finding (none: the log holds)."""

    tree_size: int = 0
    events: int = 0
    changes: int = 0
    tree_heads: int = 0
    signatures_checked: bool = False
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether nothing was found."""
        return not self.findings

    def document(self) -> dict[str, Any]:
        """The report as JSON (``tenor audit verify --json``)."""
        return {
            "ok": self.ok,
            "tree_size": self.tree_size,
            "events": self.events,
            "changes": self.changes,
            "tree_heads": self.tree_heads,
            "signatures_checked": self.signatures_checked,
            "findings": [
                {key: value for key, value in asdict(finding).items() if value is not None}
                for finding in self.findings
            ],
        }


def _event_name(loan_id: Any, sequence: Any, event_id: Any) -> str:
    return f"loan {loan_id} sequence {sequence} (event {event_id})"


def verify_log(session: Session, public_key: Ed25519PublicKey | None = None) -> Report:
    """Place queued leaves, then check the whole log against the journal and the tree heads.

    With ``public_key`` each tree head's signature is checked too.
    """
    connection = session.connection()
    integrate(connection)
    report = Report(tree_size=tree_size(connection), signatures_checked=public_key is not None)
    findings = report.findings
    journal = {
        row["event_id"]: row
        for row in connection.execute(select(_JOURNAL).order_by(_JOURNAL.c.id)).mappings()
    }
    # Read after the journal: an event committed since `integrate` has its leaf here, queued,
    # and is not an insertion. (Placed leaves cannot change meanwhile: this transaction holds
    # the sequencer's lock.)
    queued = set(
        connection.execute(
            select(_LEAVES.c.event_id).where(
                _LEAVES.c.leaf_index.is_(None), _LEAVES.c.event_id.is_not(None)
            )
        ).scalars()
    )
    leaves = connection.execute(
        select(_LEAVES).where(_LEAVES.c.leaf_index.is_not(None)).order_by(_LEAVES.c.leaf_index)
    ).mappings()
    stored: list[bytes] = []
    recomputed: list[bytes] = []
    last_sequence: dict[int, tuple[int, str]] = {}
    for leaf in leaves:
        index = int(leaf["leaf_index"])
        if index != len(stored):
            findings.append(
                Finding(
                    "deleted",
                    f"leaves {len(stored)} to {index - 1} are missing from the log",
                    leaf_index=len(stored),
                )
            )
        digest = bytes(leaf["leaf_hash"])
        stored.append(digest)
        if leaf["kind"] == CHANGE_LEAF:
            report.changes += 1
            fresh = leaf_hash((leaf["entry"] or "").encode())
            if fresh != digest:
                findings.append(
                    Finding(
                        "edited",
                        f"change leaf {index} ({leaf['subject']}) no longer matches its hash",
                        leaf_index=index,
                    )
                )
            recomputed.append(fresh)
            continue
        report.events += 1
        loan_id, sequence, event_id = leaf["loan_id"], leaf["sequence"], leaf["event_id"]
        row = journal.pop(event_id, None)
        if row is None:
            findings.append(
                Finding(
                    "deleted",
                    f"{_event_name(loan_id, sequence, event_id)} is in the log at leaf "
                    f"{index} but gone from the journal",
                    loan_id,
                    sequence,
                    event_id,
                    index,
                )
            )
            continue
        fresh = leaf_hash(event_leaf(row))
        recomputed.append(fresh)
        if (row["loan_id"], row["sequence"]) != (loan_id, sequence):
            findings.append(
                Finding(
                    "reordered",
                    f"{_event_name(loan_id, sequence, event_id)} was logged at leaf {index}; "
                    f"the journal now has it as loan {row['loan_id']} sequence "
                    f"{row['sequence']}",
                    loan_id,
                    sequence,
                    event_id,
                    index,
                )
            )
        elif fresh != digest:
            findings.append(
                Finding(
                    "edited",
                    f"{_event_name(loan_id, sequence, event_id)} was changed after it was "
                    f"logged at leaf {index}",
                    loan_id,
                    sequence,
                    event_id,
                    index,
                )
            )
        before = last_sequence.get(loan_id)
        if before is not None and before[0] >= sequence:
            findings.append(
                Finding(
                    "reordered",
                    f"{_event_name(loan_id, sequence, event_id)} stands at leaf {index}, after "
                    f"sequence {before[0]} (event {before[1]}) of the same loan",
                    loan_id,
                    sequence,
                    event_id,
                    index,
                )
            )
        last_sequence[loan_id] = (sequence, event_id)
    for row in journal.values():
        if row["event_id"] in queued:
            continue
        findings.append(
            Finding(
                "inserted",
                f"{_event_name(row['loan_id'], row['sequence'], row['event_id'])} is in the "
                "journal but was never logged",
                row["loan_id"],
                row["sequence"],
                row["event_id"],
            )
        )
        recomputed.append(leaf_hash(event_leaf(row)))
    if len(stored) != report.tree_size:
        findings.append(
            Finding(
                "deleted",
                f"the log head says {report.tree_size} leaves; {len(stored)} are there",
            )
        )
    _check_subtrees(session, stored, findings)
    report.tree_heads = _check_tree_heads(session, recomputed, public_key, findings)
    return report


def _check_subtrees(session: Session, stored: Sequence[bytes], findings: list[Finding]) -> None:
    tree = MemoryTree(stored)
    kept = {
        (int(level), int(position)): bytes(digest)
        for level, position, digest in session.connection().execute(
            select(_NODES.c.level, _NODES.c.position, _NODES.c.hash)
        )
    }
    wanted = {
        (level, position)
        for level in range(1, len(stored).bit_length())
        for position in range(len(stored) >> level)
    }
    expected = tree.hashes(wanted)
    for node in sorted(wanted | kept.keys()):
        if kept.get(node) != expected.get(node):
            level, position = node
            first = position << level
            findings.append(
                Finding(
                    "subtree",
                    f"the stored hash of leaves {first} to {first + (1 << level) - 1} "
                    "differs from the log's leaves; proofs over them are wrong",
                    leaf_index=first,
                )
            )
            return


def _check_tree_heads(
    session: Session,
    recomputed: Sequence[bytes],
    public_key: Ed25519PublicKey | None,
    findings: list[Finding],
) -> int:
    tree = MemoryTree(recomputed)
    heads = session.scalars(select(SignedTreeHead).order_by(SignedTreeHead.id)).all()
    holds_up_to = 0
    for head in heads:
        name = f"tree head {head.id} (size {head.tree_size}, signed {signed_at(head)})"
        root = bytes(head.root_hash)
        problem = None
        if public_key is not None and (
            head.key_fingerprint != fingerprint(public_key)
            or not signature_holds(
                public_key, head.tree_size, head.timestamp_ms, root, bytes(head.signature)
            )
        ):
            problem = "its signature does not hold under the log's public key"
        elif head.tree_size > len(recomputed):
            problem = f"it covers {head.tree_size} leaves; the journal gives {len(recomputed)}"
        elif tree.root(head.tree_size) != root:
            problem = (
                "its root differs from the tree recomputed from the journal: something among "
                f"leaves {holds_up_to} to {head.tree_size - 1} changed"
            )
        if problem is None:
            holds_up_to = max(holds_up_to, head.tree_size)
        else:
            findings.append(Finding("tree-head", f"{name} fails: {problem}", tree_head_id=head.id))
    return len(heads)
