"""JWT signing keys: Ed25519, generated on first start under the data dir, rotated by adding a file.

The newest key signs; every key present verifies, so tokens survive a rotation until they expire.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


@dataclass(frozen=True)
class KeyRing:
    signing_kid: str
    signing_key: Ed25519PrivateKey
    public_keys: dict[str, Ed25519PublicKey]


def _new_key(directory: Path) -> Path:
    kid = secrets.token_hex(8)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = directory / f"{kid}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return path


def load_keyring(directory: Path) -> KeyRing:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = sorted(directory.glob("*.pem"), key=lambda p: (p.stat().st_mtime, p.name))
    if not files:
        files = [_new_key(directory)]
    keys: dict[str, Ed25519PrivateKey] = {}
    for path in files:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        keys[path.stem] = key
    kid = files[-1].stem
    return KeyRing(kid, keys[kid], {k: v.public_key() for k, v in keys.items()})


def rotate(directory: Path) -> str:
    """Add a new signing key; older keys keep verifying until removed."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return _new_key(directory).stem
