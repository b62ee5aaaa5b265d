"""Verify's careful pass, walked only once the fast pass found a difference: the ledger rebuilt
step by step beside the stored events, to name the first thing found wrong and where."""

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson

from hub.audit.verification import PROGRESS_EVERY, Problem, Signed, Verification, frontier_root
from hub.store.leaves import extend, leaf_data
from hub.store.ledger import Ledger
from hub.store.merkle import leaf_hash


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


class CarefulPass:
    """One walk of a snapshot's events and ledger rows, stopping at the first problem."""

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
        return frontier_root(
            [self.frontier[level] for level in sorted(self.frontier, reverse=True)]
        )

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
