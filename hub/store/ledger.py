"""The audit ledger: every stored event a leaf of an append-only RFC 9162 Merkle tree, written
in the same transaction as the event.

Leaves are numbered densely from 0 in notification order (notification ids may have gaps). A
leaf hashes the stored event's canonical bytes (`leaf_data`; docs/ledger.md says how to
recompute them from the database alone). Beside the leaves the table keeps every complete
subtree's hash, so a root or a proof for any size takes a few dozen rows, not the whole log:

    hub_ledger(size, level, hash, notification_id)

A row is the hash of the `2**level` leaves ending at leaf `size - 1` (the tree size at which
that subtree became complete); level-0 rows are the leaves and carry their event's
notification id. The recorders (`hub.store.recorders`) are eventsourcing's own SQLite and
PostgreSQL process recorders with the ledger rows added to the transaction that inserts the
events; the store's queries (`hub.store.queries`) read them.

    ledger = Ledger(app.queries)
    ledger.size(); ledger.root(ledger.size()); ledger.inclusion(5, ledger.size())
"""

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from hub.store.leaves import node_key
from hub.store.merkle import path, proof, root_of, subtree_of
from hub.store.queries import LedgerError, StoreQueries, Streams

__all__ = ["Ledger", "LedgerError"]


class Ledger:
    """Reads the ledger (and the events it covers) of one store through its queries (the
    backend's SQL is in `hub.store.sqlite_queries` and `hub.store.postgres_queries`)."""

    def __init__(self, queries: StoreQueries) -> None:
        if not queries.keeps_ledger:
            raise LedgerError("this store keeps no audit ledger (an in-memory store?)")
        self.queries = queries

    def size(self) -> int:
        """How many leaves the ledger has (the current tree size)."""
        return self.queries.ledger_size()

    def nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of the (size, level) keys asked for (absent ones left out): one
        primary-key lookup each, in one statement per 200 keys."""
        found: dict[tuple[int, int], bytes] = {}
        unique = list(dict.fromkeys(keys))
        for first in range(0, len(unique), 200):
            found.update(self.queries.ledger_nodes(unique[first : first + 200]))
        return found

    def _answer(self, *builds: Callable[[Callable[[int, int], bytes]], Any]) -> list[Any]:
        """Run each of `builds` over the stored tree: once to learn which complete subtrees
        they need, then with all of them fetched in one query."""
        wanted: list[tuple[int, int]] = []

        def note(level: int, index: int) -> bytes:
            wanted.append(node_key(level, index))
            return b""

        for build in builds:
            build(subtree_of(note))
        stored = self.nodes(wanted)
        missing = [key for key in wanted if key not in stored]
        if missing:
            raise LedgerError(f"the ledger has no node {missing[0]} (size, level)")
        return [
            build(subtree_of(lambda level, index: stored[node_key(level, index)]))
            for build in builds
        ]

    def _check_size(self, size: int) -> None:
        current = self.size()
        if not 0 <= size <= current:
            raise LedgerError(f"the ledger has {current} leaves, not {size}")

    def root(self, size: int) -> bytes:
        """The tree head of the first `size` leaves."""
        self._check_size(size)
        if size == 0:
            return root_of([])
        [result] = self._answer(lambda mth: mth(0, size))
        return bytes(result)

    def proof_of(
        self, index: int, size: int | None = None
    ) -> tuple[int, bytes, bytes, list[bytes]]:
        """Leaf `index`'s inclusion in the tree of `size` leaves (default: now), in one query
        for the nodes: the size, the leaf hash, the root and the proof."""
        if size is None:
            size = self.size()
        else:
            self._check_size(size)
        if not 0 <= index < size:
            raise LedgerError(f"leaf {index} is not in a tree of {size} leaves")
        leaf, root, proof = self._answer(
            lambda mth: mth(index, index + 1),
            lambda mth: mth(0, size),
            lambda mth: path(index, size, mth),
        )
        return size, leaf, root, proof

    def leaf(self, index: int) -> tuple[int, bytes]:
        """Leaf `index`'s notification id and hash."""
        found = self.queries.ledger_leaf(index)
        if found is None:
            raise LedgerError(f"the ledger has no leaf {index} (it has {self.size()})")
        return found

    def leaf_of(self, notification_id: int) -> int:
        """The leaf index of the stored event at `notification_id`."""
        index = self.queries.leaf_at(notification_id)
        if index is None:
            raise LedgerError(f"no leaf covers the stored event at position {notification_id}")
        return index

    def leaf_with_hash(self, hashed: bytes) -> int | None:
        """The index of the first leaf whose hash is `hashed`, if any."""
        return self.queries.leaf_with_hash(hashed)

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """The inclusion proof of leaf `index` in the tree of `size` leaves."""
        self._check_size(size)
        [result] = self._answer(lambda mth: path(index, size, mth))
        return list(result)

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        """The consistency proof from the tree of `size1` leaves to that of `size2`."""
        self._check_size(size2)
        [result] = self._answer(lambda mth: proof(size1, size2, mth))
        return list(result)

    def snapshot(self) -> AbstractContextManager[Streams]:
        """Two streams read in one consistent snapshot: the stored events in notification
        order (notification id, originator id, version, topic, state) and the ledger's rows in
        the order they were made (size, level, hash, notification id)."""
        return self.queries.snapshot()
