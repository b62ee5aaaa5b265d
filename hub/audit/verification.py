"""What a verification of the store reports (the first problem found, or none) and the Merkle
root of a frontier, which both of verify's passes fold."""

from dataclasses import dataclass
from typing import Literal, Protocol

from hub.store.merkle import EMPTY_ROOT, node_hash

Kind = Literal["altered", "reordered", "deleted", "inserted", "ledger", "checkpoint"]
PROGRESS_EVERY = 10_000


class Signed(Protocol):
    """A checkpoint as verified from its note: the tree size and root it vouches for."""

    @property
    def size(self) -> int: ...

    @property
    def root(self) -> bytes: ...


@dataclass(frozen=True)
class Problem:
    """The first thing found wrong: what, where (leaf index, store position) and which event."""

    kind: Kind
    message: str
    leaf: int | None = None
    position: int | None = None
    event: str | None = None


@dataclass(frozen=True)
class Verification:
    """What `verify` checked and the first problem found (None: the store verifies)."""

    leaves: int
    events: int
    checkpoints: int
    root: bytes
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def frontier_root(frontier: list[bytes]) -> bytes:
    """The root of the tree whose complete subtrees' hashes are `frontier`, largest first."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = node_hash(left, root)
    return root
