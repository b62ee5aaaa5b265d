"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0, section 2.1): hashes, roots,
inclusion and consistency proofs, and their verification.

A leaf is `SHA-256(0x00 || data)`, a node `SHA-256(0x01 || left || right)`; the root of n leaves
splits them at the largest power of two below n. Proofs are lists of 32-byte hashes.

    leaves = [leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")]
    root = root_of(leaves)
    verify_inclusion(1, 3, leaves[1], inclusion_proof(1, leaves), root)        # or ProofError
    verify_consistency(2, 3, root_of(leaves[:2]), root, consistency_proof(2, leaves), root)

Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step; a consistency proof
is defined for 0 < size1 <= size2 (equal sizes need an empty proof and equal roots).
"""

import hashlib
from collections.abc import Callable, Sequence

from schemas.errors import HubError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(HubError):
    """A proof that does not prove what it claims; the message says which check failed."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


Subtree = Callable[[int, int], bytes]
"""MTH(D[start:end]) of a tree, by start and end leaf: how a stored tree answers."""


def subtree_of(node: Callable[[int, int], bytes]) -> Subtree:
    """MTH(D[start:end]) from complete subtrees: `node(level, index)` is the hash of the
    2**level leaves from index * 2**level (level 0: the leaf hashes). Every range RFC 9162's
    recursion asks for is a complete aligned subtree or splits into them."""

    def mth(start: int, end: int) -> bytes:
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return node(n.bit_length() - 1, start // n)
        k = _split(n)
        return node_hash(mth(start, start + k), mth(start + k, end))

    return mth


def path(index: int, size: int, mth: Subtree) -> list[bytes]:
    """PATH(index, D[size]) of a tree given by `mth`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    return _path(index, 0, size, mth)


def _path(index: int, start: int, end: int, mth: Subtree) -> list[bytes]:
    if end - start == 1:
        return []
    k = _split(end - start)
    if index < start + k:
        return [*_path(index, start, start + k, mth), mth(start + k, end)]
    return [*_path(index, start + k, end, mth), mth(start, start + k)]


def proof(size1: int, size2: int, mth: Subtree) -> list[bytes]:
    """PROOF(size1, D[size2]) of a tree given by `mth`."""
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}")
    return _proof(size1, 0, size2, True, mth)


def _proof(m: int, start: int, end: int, whole: bool, mth: Subtree) -> list[bytes]:
    if start + m == end:
        return [] if whole else [mth(start, end)]
    k = _split(end - start)
    if m <= k:
        return [*_proof(m, start, start + k, whole, mth), mth(start + k, end)]
    return [*_proof(m - k, start + k, end, False, mth), mth(start, start + k)]


def _of_list(leaves: Sequence[bytes]) -> Subtree:
    return lambda start, end: root_of(leaves[start:end])


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = _split(n)
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the audit path of leaf `index` in the tree of `leaves`."""
    return path(index, len(leaves), _of_list(leaves))


def consistency_proof(size1: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]): that the tree of the first `size1` leaves is a prefix of `leaves`."""
    return proof(size1, len(leaves), _of_list(leaves))


def _check_hashes(**hashes: bytes) -> None:
    for name, value in hashes.items():
        if len(value) != HASH_SIZE:
            raise ProofError(f"{name} is {len(value)} bytes, not a {HASH_SIZE}-byte SHA-256 hash")


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 2.1.3.2: raise ProofError unless `proof` shows leaf `index` in the tree."""
    _check_hashes(leaf=leaf, root=root, **{f"proof[{i}]": p for i, p in enumerate(proof)})
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    if r != root:
        raise ProofError("the proof leads to another root")


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 2.1.4.2: raise ProofError unless `proof` shows the tree of `size1` leaves with
    `root1` is a prefix of the tree of `size2` leaves with `root2`."""
    if size1 <= 0 or size2 < size1:
        raise ProofError(f"no consistency from size {size1} to size {size2}")
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if root1 != root2:
            raise ProofError("equal sizes with different roots")
        return
    _check_hashes(root1=root1, root2=root2, **{f"proof[{i}]": p for i, p in enumerate(proof)})
    if not proof:
        raise ProofError("an empty proof proves nothing between different sizes")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # an exact power of two: the old root is a node of the new
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the trees are deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the trees are deep")
    if fr != root1:
        raise ProofError("the proof leads to another first root")
    if sr != root2:
        raise ProofError("the proof leads to another second root")
