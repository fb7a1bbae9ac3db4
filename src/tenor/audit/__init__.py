"""The transparency log: every journal event and configuration change as a leaf of an RFC 6962 Merkle tree."""
