"""The audit log's Merkle tree hashes as RFC 9162 §2.1 defines it."""

from __future__ import annotations

import hashlib

from backend.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
)


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert root_of([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    # A leaf never hashes like the inner node over the same 64 bytes.
    assert leaf_hash(b"a" * 32 + b"b" * 32) != node_hash(b"a" * 32, b"b" * 32)


def test_the_frontier_root_is_the_recursive_root_at_every_size() -> None:
    entries = [f"entry {i}".encode() for i in range(70)]
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for n, entry in enumerate(entries, 1):
        frontier.append(leaf_hash(entry))
        assert frontier.size == n
        assert frontier.root() == root_of(entries[:n]), n
        again = Frontier.from_hex(n, frontier.to_hex())
        assert again.root() == frontier.root()
    # RFC 9162's split: 3 leaves are H(H(l0, l1), l2).
    l0, l1, l2 = (leaf_hash(e) for e in entries[:3])
    assert root_of(entries[:3]) == node_hash(node_hash(l0, l1), l2)


def test_a_changed_entry_changes_the_root() -> None:
    entries = [f"entry {i}".encode() for i in range(9)]
    changed = list(entries)
    changed[4] = b"entry four"
    assert root_of(entries) != root_of(changed)


def test_consistency_proofs_verify_for_every_pair_of_sizes_and_fail_when_altered() -> None:
    entries = [f"entry {i}".encode() for i in range(20)]
    leaves = [leaf_hash(e) for e in entries]
    for second in range(1, len(entries) + 1):
        second_root = root_of(entries[:second])
        for first in range(1, second + 1):
            first_root = root_of(entries[:first])
            proof = consistency_proof(leaves[:second], first)
            assert verify_consistency(first, second, first_root, second_root, proof), (first, second)
            if first < second:
                # A rewritten old entry, a wrong size, or a tampered proof: all fail.
                changed = root_of([b"forged", *entries[1:first]])
                assert not verify_consistency(first, second, changed, second_root, proof)
                assert not verify_consistency(
                    first, second, first_root, root_of(entries[: second - 1]), proof
                )
                if proof:
                    bad = [bytes(32), *proof[1:]]
                    assert not verify_consistency(first, second, first_root, second_root, bad)
