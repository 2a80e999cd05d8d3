"""The server's integrity key: an Ed25519 private key kept outside the database.

It signs the audit log's tree heads (an outside party checks them with the public key alone) and,
through a key derived from it, authenticates the cheap fingerprints of stored evidence objects, so
whoever can write the database but does not hold this key can neither forge a head nor make altered
bytes pass as already verified."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "Ed25519"


def key_id_of(public_raw: bytes) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def public_key_from_b64(value: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(value, validate=True))


def verify_signature(public: Ed25519PublicKey, signature_b64: str, message: bytes) -> bool:
    try:
        public.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class IntegrityKey:
    private: Ed25519PrivateKey
    _mac_key: bytes

    @classmethod
    def from_private(cls, private: Ed25519PrivateKey) -> IntegrityKey:
        raw = private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        # A separate key for MACs, so the signing key itself is used for one purpose only.
        return cls(private, hashlib.sha256(b"fieldwatch fingerprint mac\x00" + raw).digest())

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def public_raw(self) -> bytes:
        return self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode()

    @property
    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_raw)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode()

    def verify(self, signature_b64: str, message: bytes) -> bool:
        return verify_signature(self.public, signature_b64, message)

    def mac(self, message: str) -> str:
        return hmac.new(self._mac_key, message.encode(), hashlib.sha256).hexdigest()

    def mac_ok(self, message: str, tag: str | None) -> bool:
        return tag is not None and hmac.compare_digest(self.mac(message), tag)


def load_or_create(path: Path) -> IntegrityKey:
    """The key in ``path`` (PEM, PKCS#8); created there, readable by the owner only, when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use that one
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return IntegrityKey.from_private(key)
