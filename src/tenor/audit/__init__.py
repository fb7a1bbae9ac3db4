"""The transparency log: every journal event and configuration change as a leaf of an RFC 6962
Merkle tree, with signed tree heads, proofs and receipts anyone can check.

- :mod:`tenor.audit.merkle`: the tree and its proofs, pure functions;
- :mod:`tenor.audit.log`: leaves written with each event, the sequencer, stored subtrees,
  proofs, :func:`~tenor.audit.log.sign_tree_head` (the daily close's call) and
  :func:`~tenor.audit.log.record_change` (for other capabilities' configuration changes);
- :mod:`tenor.audit.keys`: the Ed25519 key (``TENOR_AUDIT_KEY``) and what it signs;
- :mod:`tenor.audit.receipts`: receipts, built from the store and checked offline;
- :mod:`tenor.audit.verify`: the whole log recomputed from the journal;
- :mod:`tenor.audit.changes`: products and API keys as change leaves; the backfill.
"""
