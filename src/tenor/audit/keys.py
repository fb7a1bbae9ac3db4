"""The log's Ed25519 key, and what it signs: RFC 6962's TreeHeadSignature.

The private key is a PEM file (PKCS #8, unencrypted, mode 0600) at ``TENOR_AUDIT_KEY``, by
default ``tenor-audit-key.pem`` in the working directory, beside the embedded database. Keep it
off the database's machine in production and mount it where the close runs; only the public
key (``tenor audit public-key``) is handed out. A key is known by its fingerprint, the SHA-256
of its DER SubjectPublicKeyInfo (what RFC 6962 calls the log ID); nothing here ever prints or
logs the private key.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tenor.core.errors import DomainError

KEY_ENV: Final = "TENOR_AUDIT_KEY"
DEFAULT_KEY_PATH: Final = "tenor-audit-key.pem"

#: RFC 6962, 3.5: ``Version`` v1 and ``SignatureType`` tree_hash.
_V1: Final = 0
_TREE_HASH: Final = 1


class AuditKeyError(DomainError):
    """A signing or public key that is missing, unreadable or not Ed25519."""

    code = "audit_key"


def key_path() -> Path:
    """Where the log's private key is: ``TENOR_AUDIT_KEY`` or ``tenor-audit-key.pem``."""
    return Path(os.environ.get(KEY_ENV) or DEFAULT_KEY_PATH)


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the key's DER SubjectPublicKeyInfo, in hex."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def public_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as PEM text, to publish."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def tree_head_message(tree_size: int, timestamp_ms: int, root_hash: bytes) -> bytes:
    """The bytes a tree head's signature covers: RFC 6962's ``TreeHeadSignature`` struct.

    version (v1), signature type (tree_hash), timestamp (ms since the epoch, uint64),
    tree size (uint64), SHA-256 root hash.
    """
    return struct.pack(">BBQQ", _V1, _TREE_HASH, timestamp_ms, tree_size) + root_hash


class Signer:
    """The log's private key; its repr shows the fingerprint and nothing else."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.fingerprint = fingerprint(self.public_key)

    def __repr__(self) -> str:
        return f"Signer(fingerprint={self.fingerprint[:16]}...)"

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature of ``message``."""
        return self._key.sign(message)


def generate_key(path: Path) -> Signer:
    """A new key, written to ``path`` (mode 0600); an existing file is never overwritten."""
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AuditKeyError(f"{path} already exists; it is not overwritten") from None
    except OSError as error:
        raise AuditKeyError(f"cannot write the key to {path}: {error.strerror}") from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return Signer(private_key)


def load_signer(path: Path | None = None) -> Signer:
    """The private key at ``path`` (default: :func:`key_path`)."""
    path = path or key_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AuditKeyError(
            f"no audit signing key at {path}; create one with `tenor audit keygen` or set {KEY_ENV}"
        ) from None
    except OSError as error:
        raise AuditKeyError(f"cannot read the audit key {path}: {error.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        # The library's message could quote the file; say only what is wrong.
        raise AuditKeyError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"{path} is not an Ed25519 key")
    return Signer(key)


def load_public_key(data: bytes, source: str = "the public key") -> Ed25519PublicKey:
    """An Ed25519 public key from PEM text (a private key's file gives its public half)."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise AuditKeyError(f"{source} is not a PEM public key") from None
        key = private.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise AuditKeyError(f"{source} is not an Ed25519 key")
    return key


def signature_holds(
    public_key: Ed25519PublicKey, tree_size: int, timestamp_ms: int, root: bytes, sig: bytes
) -> bool:
    """Whether ``sig`` is the key's signature of this tree head."""
    try:
        public_key.verify(sig, tree_head_message(tree_size, timestamp_ms, root))
    except InvalidSignature:
        return False
    return True
