"""Merkle trees exactly as RFC 6962 section 2.1 defines them; proofs verified as RFC 9162 does.

Pure functions, no I/O. A leaf hashes as ``SHA-256(0x00 || leaf)``, an inner node as
``SHA-256(0x01 || left || right)``, and the tree head over ``n`` leaves splits them at ``k``,
the largest power of two smaller than ``n``. Every subtree the RFC's recursion meets is either
*complete* (``2**level`` leaves starting at a multiple of ``2**level``, named by the
:data:`Node` ``(level, position)``) or runs to the right edge of the tree, and the latter is
itself a chain of complete subtrees (:func:`pieces`). So a proof is first a list of leaf ranges
(:func:`inclusion_ranges`, :func:`consistency_ranges`), then the complete subtrees those ranges
are made of (:func:`nodes_of`), then hashes folded together (:func:`assemble`): a store that
keeps the hash of every complete subtree answers any proof with O(log n) lookups, whatever the
tree's size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

#: A complete subtree: ``(level, position)`` covers leaves ``position * 2**level`` up to
#: ``(position + 1) * 2**level``, exclusive. Level 0 is the leaves themselves.
Node = tuple[int, int]

#: A half-open range of leaf indices ``[start, end)``.
Range = tuple[int, int]

LEAF_PREFIX: Final = b"\x00"
NODE_PREFIX: Final = b"\x01"

#: The head of the empty tree: the hash of the empty string (RFC 6962, 2.1).
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    """``SHA-256(0x00 || leaf)``."""
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split(size: int) -> int:
    """The largest power of two smaller than ``size`` (``size`` at least 2)."""
    if size < 2:
        raise ValueError(f"a tree of {size} leaves does not split")
    return 1 << ((size - 1).bit_length() - 1)


def pieces(start: int, end: int) -> list[Node]:
    """The complete subtrees that make up the subtree over ``[start, end)``, left to right.

    ``[start, end)`` must be a subtree of some RFC 6962 tree: ``start`` a multiple of the
    largest power of two not above ``end - start``. Its hash is the right fold of the pieces'
    hashes (:func:`range_hash`).
    """
    found: list[Node] = []
    while end > start:
        size = end - start
        width = size if size & (size - 1) == 0 else split(size)
        level = width.bit_length() - 1
        if start % width:
            raise ValueError(f"leaves [{start}, {end}) are not a subtree")
        found.append((level, start >> level))
        start += width
    return found


def range_hash(start: int, end: int, hashes: Mapping[Node, bytes]) -> bytes:
    """``MTH(D[start:end])`` from the hashes of its :func:`pieces`."""
    parts = pieces(start, end)
    if not parts:
        return EMPTY_ROOT
    folded = hashes[parts[-1]]
    for node in reversed(parts[:-1]):
        folded = node_hash(hashes[node], folded)
    return folded


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes make the audit path ``PATH(index, D[size])``, in proof order.

    RFC 6962, 2.1.1: ``PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])`` for ``m < k``, and
    ``PATH(m - k, D[k:n]) : MTH(D[0:k])`` otherwise; the path of a single leaf is empty.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    outer: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            outer.append((start + k, end))
            end = start + k
        else:
            outer.append((start, start + k))
            start += k
    return outer[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtrees whose hashes make ``PROOF(first, D[second])``, in proof order.

    RFC 6962, 2.1.2: ``SUBPROOF(m, D[m], true)`` is empty, ``SUBPROOF(m, D[m], false)`` is
    ``MTH(D[m])``; for ``m < n``, ``SUBPROOF(m, D[0:k], b) : MTH(D[k:n])`` when ``m <= k``, and
    ``SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])`` otherwise. The proof between a tree and
    itself, or from the empty tree, is empty.
    """
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from {first} leaves to {second}")
    if first in (0, second):
        return []
    outer: list[Range] = []
    start, end, m, whole = 0, second, first, True
    while m != end - start:
        k = split(end - start)
        if m <= k:
            outer.append((start + k, end))
            end = start + k
        else:
            outer.append((start, start + k))
            start += k
            m -= k
            whole = False
    if not whole:
        outer.append((start, end))
    return outer[::-1]


def nodes_of(ranges: Iterable[Range]) -> set[Node]:
    """Every complete subtree whose hash the ``ranges`` need."""
    return {node for start, end in ranges for node in pieces(start, end)}


def assemble(ranges: Sequence[Range], hashes: Mapping[Node, bytes]) -> list[bytes]:
    """The proof: the hash of each range, given the hashes of :func:`nodes_of` them."""
    return [range_hash(start, end, hashes) for start, end in ranges]


def levels(leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """The hash of every complete subtree over ``leaf_hashes``: ``levels[level][position]``."""
    built = [list(leaf_hashes)]
    while len(built[-1]) > 1:
        below = built[-1]
        built.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return built


class MemoryTree:
    """A tree held in memory: for verifying a whole log and for testing a stored one."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self.size = len(leaf_hashes)
        self._levels = levels(leaf_hashes)

    def hashes(self, nodes: Iterable[Node]) -> dict[Node, bytes]:
        """The hashes of complete subtrees ``nodes``."""
        return {(level, position): self._levels[level][position] for level, position in nodes}

    def root(self, size: int | None = None) -> bytes:
        """``MTH(D[0:size])`` (default: the whole tree)."""
        size = self.size if size is None else size
        return range_hash(0, size, self.hashes(pieces(0, size)))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of its first ``size`` leaves."""
        ranges = inclusion_ranges(index, size)
        return assemble(ranges, self.hashes(nodes_of(ranges)))

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """The consistency proof between the trees of the first ``first`` and ``second`` leaves."""
        ranges = consistency_ranges(first, second)
        return assemble(ranges, self.hashes(nodes_of(ranges)))


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """``MTH`` of a whole list of leaf hashes."""
    return MemoryTree(leaf_hashes).root()


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``path`` proves leaf hash ``leaf`` at ``index`` in the tree ``(size, root)``.

    RFC 9162, 2.1.3.2, step by step.
    """
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """Whether ``path`` proves the tree ``(second, second_root)`` extends ``(first, first_root)``.

    RFC 9162, 2.1.4.2, step by step; as there, a tree is consistent with itself (empty proof,
    equal roots) and with the empty tree (empty proof).
    """
    if not 0 <= first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path
    if not path:
        return False
    proof = list(path)
    if first & (first - 1) == 0:
        proof.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
