"""The Merkle tree against the public RFC 9162 vectors, and its own proofs for every size."""

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.store.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from tests.conftest import SHARED

VECTORS = SHARED / "conformance" / "rfc9162"


def _vectors(kind: str) -> list[Any]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    return [pytest.param(json.loads(f.read_text()), id=str(f.relative_to(VECTORS))) for f in files]


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_the_vectors_are_present() -> None:
    assert len(_vectors("inclusion")) + len(_vectors("consistency")) >= 150


@pytest.mark.parametrize("case", _vectors("inclusion"))
def test_inclusion_vectors(case: dict[str, Any]) -> None:
    def verify() -> None:
        verify_inclusion(
            case["leafIdx"],
            case["treeSize"],
            _b64(case["leafHash"]),
            [_b64(p) for p in case["proof"] or []],
            _b64(case["root"]),
        )

    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify()
    else:
        verify()


@pytest.mark.parametrize("case", _vectors("consistency"))
def test_consistency_vectors(case: dict[str, Any]) -> None:
    def verify() -> None:
        verify_consistency(
            case["size1"],
            case["size2"],
            _b64(case["root1"]),
            _b64(case["root2"]),
            [_b64(p) for p in case["proof"] or []],
        )

    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify()
    else:
        verify()


def test_known_roots() -> None:
    assert root_of([]) == EMPTY_ROOT
    assert root_of([leaf_hash(b"")]).hex().startswith("6e340b9c")  # RFC 6962's empty-leaf vector


@given(st.integers(1, 70), st.data())
def test_every_proof_the_tree_makes_verifies_and_a_changed_leaf_does_not(
    size: int, data: st.DataObject
) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    root = root_of(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(index, leaves)
    verify_inclusion(index, size, leaves[index], proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf_hash(b"forged"), proof, root)
    size1 = data.draw(st.integers(1, size))
    verify_consistency(size1, size, root_of(leaves[:size1]), root, consistency_proof(size1, leaves))
    if size1 < size:
        altered = [*leaves[: size1 - 1], leaf_hash(b"rewritten"), *leaves[size1:]]
        with pytest.raises(ProofError):
            verify_consistency(
                size1, size, root_of(altered[:size1]), root, consistency_proof(size1, leaves)
            )
