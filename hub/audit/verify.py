"""Verifying the store against its ledger and checkpoints: every leaf recomputed from the stored
events, every stored subtree hash recomputed from the leaves, every checkpoint's root
recomputed at its size; the first difference is named.

    result = verify(Ledger(app.queries), checkpoints)
    if result.problem: print(result.problem.message)   # "leaf 17 (position 18, ...) altered"

A changed event's leaf differs (altered; reordered when its hash is another leaf's); a deleted
event leaves a leaf without its event; an inserted event is an event without a leaf; a ledger
rewritten to match a rewritten store differs from a checkpoint signed before (kept outside the
hub, `hub audit verify --checkpoint FILE`).
"""

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import orjson

from hub.store.leaves import extend, leaf_data
from hub.store.ledger import Ledger
from hub.store.merkle import EMPTY_ROOT, leaf_hash, node_hash

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


def describe_event(row: Sequence[Any]) -> str:
    """An event named for people: its aggregate and version, and the agency event it records
    (source and id) where the state says."""
    name = f"{row[1]} v{row[2]}"
    try:
        state = orjson.loads(row[4])
    except orjson.JSONDecodeError:
        return name
    if isinstance(state, dict) and "source" in state and "event_id" in state:
        name += f" ({state['source']} {state['event_id']})"
    return name


def verify(
    ledger: Ledger,
    checkpoints: Sequence[tuple[str, Signed]] = (),
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """Check the whole store against its ledger and `checkpoints` (label, checkpoint), in one
    pass over one consistent snapshot; see the module docstring."""
    pending = sorted(checkpoints, key=lambda labelled: labelled[1].size)
    with ledger.snapshot() as (events, rows):
        verified = _walk_fast(events, rows, [c for _, c in pending], progress)
    if verified is not None:
        return verified
    # Something differs: walk again, slowly, to name the first thing found wrong.
    with ledger.snapshot() as (events, rows):
        return _Walk(ledger, events, rows, pending, None).run()


def _walk_fast(
    events: Iterator[tuple[Any, ...]],
    rows: Iterator[tuple[Any, ...]],
    checkpoints: list[Signed],
    progress: Callable[[int], None] | None,
) -> Verification | None:
    """The whole check when nothing is wrong, in one tight loop; None at the first difference
    (of leaf, position, subtree hash or checkpoint root), for `_Walk` to name it."""
    sha256 = hashlib.sha256
    frontier: list[bytes] = []  # complete subtrees' hashes, largest first
    size = 0
    pending = iter(checkpoints)
    due = next(pending, None)
    checked = 0
    while due is not None and due.size == 0:
        if due.root != EMPTY_ROOT:
            return None
        checked, due = checked + 1, next(pending, None)
    for position, originator, version, topic, state in events:
        row = next(rows, None)
        size += 1
        hashed = leaf_hash(leaf_data(originator, version, topic, bytes(state)))
        if row is None or row[0] != size or row[1] != 0 or row[3] != position:
            return None
        if bytes(row[2]) != hashed:
            return None
        level, count = 0, size
        while not count & 1:
            hashed = sha256(b"\x01" + frontier.pop() + hashed).digest()
            level, count = level + 1, count >> 1
            row = next(rows, None)
            if row is None or row[0] != size or row[1] != level or bytes(row[2]) != hashed:
                return None
        frontier.append(hashed)
        while due is not None and due.size == size:
            if due.root != _root(frontier):
                return None
            checked, due = checked + 1, next(pending, None)
        if progress is not None and size % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if next(rows, None) is not None or due is not None:
        return None
    return Verification(size, size, checked, _root(frontier), None)


def _root(frontier: list[bytes]) -> bytes:
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = node_hash(left, root)
    return root


class _Walk:
    def __init__(
        self,
        ledger: Ledger,
        events: Iterator[tuple[Any, ...]],
        rows: Iterator[tuple[Any, ...]],
        checkpoints: list[tuple[str, Signed]],
        progress: Callable[[int], None] | None,
    ) -> None:
        self.ledger, self.events, self.rows = ledger, events, rows
        self.checkpoints, self.progress = checkpoints, progress
        self.frontier: dict[int, bytes] = {}
        self.size = 0
        self.seen_events = 0
        self.checked = 0

    def result(self, problem: Problem | None) -> Verification:
        return Verification(self.size, self.seen_events, self.checked, self.root(), problem)

    def root(self) -> bytes:
        return _root([self.frontier[level] for level in sorted(self.frontier, reverse=True)])

    def run(self) -> Verification:
        row = next(self.rows, None)
        done_since = 0
        problem = self._checkpoints_at(0)  # a checkpoint of the empty tree
        if problem is not None:
            return self.result(problem)
        while True:
            event = next(self.events, None)
            if event is not None:
                self.seen_events += 1
            problem = self._leaf_problem(event, row)
            if problem is not None or (event is None and row is None):
                return self.result(problem or self._unreached())
            assert event is not None
            assert row is not None
            # The ledger's rows for this leaf as they should be: the leaf, then any subtrees it
            # completes (the same step the recorder took when it wrote them).
            made = extend(self.size, self.frontier, [(int(row[3]), bytes(row[2]))])
            self.size += 1
            for size, level, hashed, _ in made[1:]:
                row = next(self.rows, None)
                if row is None or (int(row[0]), int(row[1])) != (size, level):
                    return self.result(self._ledger_gap(level))
                if bytes(row[2]) != hashed:
                    return self.result(
                        Problem(
                            "ledger",
                            f"the ledger's subtree hash at size {size}, level {level} does "
                            "not match the leaves under it: the ledger itself was altered",
                        )
                    )
            row = next(self.rows, None)
            problem = self._checkpoints_at(self.size)
            if problem is not None:
                return self.result(problem)
            done_since += 1
            if self.progress is not None and done_since == PROGRESS_EVERY:
                self.progress(done_since)
                done_since = 0

    def _ledger_gap(self, level: int) -> Problem:
        return Problem(
            "ledger",
            f"the ledger lacks its subtree hash at size {self.size}, level {level}: "
            "the ledger itself was altered",
        )

    def _leaf_problem(
        self, event: tuple[Any, ...] | None, row: tuple[Any, ...] | None
    ) -> Problem | None:
        index = self.size
        if row is not None and (int(row[0]), int(row[1])) != (index + 1, 0):
            return Problem(
                "ledger",
                f"the ledger has no leaf {index} where one should be "
                f"(found size {row[0]}, level {row[1]}): the ledger itself was altered",
                leaf=index,
            )
        if event is None:
            if row is None:
                return None
            position = int(row[3])
            return Problem(
                "deleted",
                f"leaf {index}: the stored event at position {position} was deleted",
                leaf=index,
                position=position,
            )
        position = int(event[0])
        name = describe_event(event)  # only reached when something differs
        if row is None:
            return Problem(
                "inserted",
                f"the stored event at position {position}, {name}, is in no leaf "
                f"(the ledger ends at leaf {index - 1}): it was inserted",
                leaf=index,
                position=position,
                event=name,
            )
        covered = int(row[3])
        if covered < position:
            return Problem(
                "deleted",
                f"leaf {index}: the stored event at position {covered} was deleted",
                leaf=index,
                position=covered,
            )
        if covered > position:
            return Problem(
                "inserted",
                f"the stored event at position {position}, {name}, is in no leaf "
                f"(leaf {index} covers position {covered}): it was inserted",
                leaf=index,
                position=position,
                event=name,
            )
        computed = leaf_hash(leaf_data(event[1], int(event[2]), str(event[3]), bytes(event[4])))
        if computed == bytes(row[2]):
            return None
        other = self.ledger.leaf_with_hash(computed)
        if other is not None:
            return Problem(
                "reordered",
                f"leaf {index}: the stored event at position {position}, {name}, is the one "
                f"leaf {other} covers: stored events were reordered",
                leaf=index,
                position=position,
                event=name,
            )
        return Problem(
            "altered",
            f"leaf {index}: the stored event at position {position}, {name}, was altered",
            leaf=index,
            position=position,
            event=name,
        )

    def _checkpoints_at(self, size: int) -> Problem | None:
        while self.checkpoints and self.checkpoints[0][1].size <= size:
            label, checkpoint = self.checkpoints.pop(0)
            self.checked += 1
            if checkpoint.size == size and checkpoint.root != self.root():
                return Problem(
                    "checkpoint",
                    f"{label}: the tree of the first {size} leaves has another root than the "
                    "checkpoint signed for it: the history up to it was rewritten",
                )
        return None

    def _unreached(self) -> Problem | None:
        for label, checkpoint in self.checkpoints:
            if checkpoint.size == 0:
                self.checked += 1
                continue
            return Problem(
                "checkpoint",
                f"{label}: signed for {checkpoint.size} leaves but the store has only "
                f"{self.size}: stored events were deleted after it was signed",
            )
        return None
