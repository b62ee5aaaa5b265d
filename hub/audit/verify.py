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
from typing import Any

from hub.audit.careful_pass import CarefulPass
from hub.audit.verification import PROGRESS_EVERY, Signed, Verification, frontier_root
from hub.store.leaves import leaf_data
from hub.store.ledger import Ledger
from hub.store.merkle import EMPTY_ROOT, leaf_hash


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
        return CarefulPass(ledger, events, rows, pending, None).run()


def _walk_fast(
    events: Iterator[tuple[Any, ...]],
    rows: Iterator[tuple[Any, ...]],
    checkpoints: list[Signed],
    progress: Callable[[int], None] | None,
) -> Verification | None:
    """The whole check when nothing is wrong, in one tight loop; None at the first difference
    (of leaf, position, subtree hash or checkpoint root), for `CarefulPass` to name it."""
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
            if due.root != frontier_root(frontier):
                return None
            checked, due = checked + 1, next(pending, None)
        if progress is not None and size % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if next(rows, None) is not None or due is not None:
        return None
    return Verification(size, size, checked, frontier_root(frontier), None)
