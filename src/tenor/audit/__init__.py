"""The transparency log: every journal event and configuration change as a leaf of a Merkle tree
(RFC 6962), with signed tree heads, proofs and receipts."""
