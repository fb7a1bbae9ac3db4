"""RFC 6962 trees and proofs against the reference implementation's published vectors.

The vectors are those of transparency-dev/merkle (``testonly/constants.go`` and
``proof/verify_test.go``), the Go library behind Trillian and Certificate Transparency: eight
leaf inputs, the hash of every complete subtree over them, the root of each tree of 1 to 8
leaves, and audit paths and consistency proofs between some of those trees.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenor.audit.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

H = bytes.fromhex

LEAVES = [
    H(""),
    H("00"),
    H("10"),
    H("2021"),
    H("3031"),
    H("40414243"),
    H("5051525354555657"),
    H("606162636465666768696a6b6c6d6e6f"),
]

NODES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]

#: The root of the tree of the first n leaves, for n = 0 .. 8.
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

#: (leaf index, tree size, audit path); the Go table counts leaves from 1, these from 0.
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

#: (first size, second size, consistency proof).
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

LEAF_HASHES = [leaf_hash(leaf) for leaf in LEAVES]
TREE = MemoryTree(LEAF_HASHES)


def test_leaf_and_node_hashes_are_the_reference_ones() -> None:
    assert [digest.hex() for digest in LEAF_HASHES] == NODES[0]
    for level in range(1, 4):
        below = [H(digest) for digest in NODES[level - 1]]
        built = [node_hash(below[i], below[i + 1]).hex() for i in range(0, len(below), 2)]
        assert built == NODES[level]


def test_the_root_of_every_tree_of_up_to_eight_leaves() -> None:
    assert [root_of(LEAF_HASHES[:size]).hex() for size in range(9)] == ROOTS
    assert root_of([]) == EMPTY_ROOT


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_audit_paths_are_the_reference_ones_and_verify(
    index: int, size: int, path: list[str]
) -> None:
    proof = TREE.inclusion_proof(index, size)
    assert [digest.hex() for digest in proof] == path
    root = H(ROOTS[size])
    assert verify_inclusion(index, size, LEAF_HASHES[index], proof, root)
    # The reference's corruptions: each must be refused.
    assert not verify_inclusion(index + 1, size, LEAF_HASHES[index], proof, root)
    assert not verify_inclusion(index, size * 2, LEAF_HASHES[index], proof, root)
    assert not verify_inclusion(index, size, b"WrongLeaf", proof, root)
    assert not verify_inclusion(index, size, LEAF_HASHES[index], proof, EMPTY_ROOT)
    assert not verify_inclusion(index, size, LEAF_HASHES[index], [*proof, root], root)
    assert not verify_inclusion(index, size, LEAF_HASHES[index], [root, *proof], root)
    if index:
        assert not verify_inclusion(index - 1, size, LEAF_HASHES[index], proof, root)
    for i in range(len(proof)):
        flipped = [*proof]
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        assert not verify_inclusion(index, size, LEAF_HASHES[index], flipped, root)
    if proof:
        assert not verify_inclusion(index, size, LEAF_HASHES[index], proof[:-1], root)


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_consistency_proofs_are_the_reference_ones_and_verify(
    first: int, second: int, path: list[str]
) -> None:
    proof = TREE.consistency_proof(first, second)
    assert [digest.hex() for digest in proof] == path
    root1, root2 = H(ROOTS[first]), H(ROOTS[second])
    assert verify_consistency(first, second, root1, root2, proof)
    if not proof:
        return
    assert not verify_consistency(first - 1, second, root1, root2, proof)
    assert not verify_consistency(first + 1, second, root1, root2, proof)
    assert not verify_consistency(first, second * 2, root1, root2, proof)
    assert not verify_consistency(first, second, root2, root1, proof)
    assert not verify_consistency(first, second, root1, root2, [])
    assert not verify_consistency(first, second, root1, root2, [*proof, root1])
    assert not verify_consistency(first, second, root1, root2, [proof[0], *proof])
    assert not verify_consistency(first, second, root1, root2, proof[:-1])
    for i in range(len(proof)):
        flipped = [*proof]
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        assert not verify_consistency(first, second, root1, root2, flipped)


def test_the_trivial_consistency_cases_of_the_reference() -> None:
    some, other = b"don't care 1", b"don't care 2"
    assert verify_consistency(0, 0, some, some, [])
    assert verify_consistency(0, 1, some, other, [])
    assert not verify_consistency(1, 1, some, other, [])
    assert not verify_consistency(1, 0, some, other, [])
    assert not verify_consistency(1, 2, some, other, [])
    assert not verify_consistency(1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])


def test_no_leaf_is_in_an_empty_or_smaller_tree() -> None:
    for index, size in ((0, 0), (1, 0), (2, 1)):
        assert not verify_inclusion(index, size, LEAF_HASHES[0], [], EMPTY_ROOT)


@given(st.integers(1, 70).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_every_audit_path_verifies(case: tuple[int, int]) -> None:
    size, index = case
    tree = MemoryTree([leaf_hash(bytes([i])) for i in range(size)])
    proof = tree.inclusion_proof(index, size)
    assert verify_inclusion(index, size, leaf_hash(bytes([index])), proof, tree.root())


@given(st.integers(1, 70).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
def test_every_consistency_proof_verifies(case: tuple[int, int]) -> None:
    second, first = case
    tree = MemoryTree([leaf_hash(bytes([i])) for i in range(second)])
    proof = tree.consistency_proof(first, second)
    assert verify_consistency(first, second, tree.root(first), tree.root(second), proof)
