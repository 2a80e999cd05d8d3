"""The audit log as a Merkle tree, hashed as RFC 9162 §2.1 (Certificate Transparency) hashes it.

A leaf is ``SHA-256(0x00 || entry)`` and an inner node ``SHA-256(0x01 || left || right)``; the tree
over n entries splits at the largest power of two below n. The tree is kept as its frontier: the
roots of the perfect subtrees that n's binary digits name, largest first, which is all that
appending and the root need (log n hashes)."""

from __future__ import annotations

import hashlib

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Frontier:
    def __init__(self, size: int = 0, hashes: list[bytes] | None = None) -> None:
        hashes = list(hashes or [])
        if len(hashes) != bin(size).count("1"):
            raise ValueError("a frontier has one hash per binary digit 1 of its size")
        self.size = size
        self.hashes = hashes

    def append(self, leaf: bytes) -> None:
        h, size = leaf, self.size
        while size & 1:  # each trailing 1 is a perfect subtree of the new leaf's size: merge
            h = node_hash(self.hashes.pop(), h)
            size >>= 1
        self.hashes.append(h)
        self.size += 1

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            root = node_hash(h, root)
        return root

    def to_hex(self) -> list[str]:
        return [h.hex() for h in self.hashes]

    @classmethod
    def from_hex(cls, size: int, hashes: list[str]) -> Frontier:
        return cls(size, [bytes.fromhex(h) for h in hashes])


def root_of(entries: list[bytes]) -> bytes:
    """The tree's root computed straight from RFC 9162's recursive definition (for tests)."""
    if not entries:
        return EMPTY_ROOT
    if len(entries) == 1:
        return leaf_hash(entries[0])
    k = 1
    while k * 2 < len(entries):
        k *= 2
    return node_hash(root_of(entries[:k]), root_of(entries[k:]))
