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


def root_of_leaves(leaves: list[bytes]) -> bytes:
    """MTH over leaf hashes (already ``leaf_hash``ed)."""
    frontier = Frontier()
    for h in leaves:
        frontier.append(h)
    return frontier.root()


def _mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def consistency_proof(leaves: list[bytes], first: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1: the proof that the tree over ``leaves`` (leaf hashes) extends the tree
    over its first ``first`` leaves."""
    if not 0 < first <= len(leaves):
        raise ValueError("first must be 1..size")

    def subproof(m: int, d: list[bytes], complete: bool) -> list[bytes]:
        n = len(d)
        if m == n:
            return [] if complete else [_mth(d)]
        k = _split(n)
        if m <= k:
            return [*subproof(m, d[:k], complete), _mth(d[k:])]
        return [*subproof(m - k, d[k:], False), _mth(d[:k])]

    return subproof(first, leaves, True)


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show the tree of size ``second`` with ``second_root``
    extends the one of size ``first`` with ``first_root``?"""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: its root is the first node of the path
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
