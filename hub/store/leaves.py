"""The ledger's leaves and nodes: the canonical bytes of a stored event (docs/ledger.md), and
the complete subtrees a batch of new leaves adds to the tree (`extend`).

    hub_ledger(size, level, hash, notification_id)

A row is the hash of the `2**level` leaves ending at leaf `size - 1`; level-0 rows are the
leaves and carry their event's notification id.
"""

import functools
import struct
from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from hub.store.merkle import leaf_hash, node_hash

TABLE = "hub_ledger"


Row = tuple[int, int, bytes, int | None]  # size, level, hash, notification id (leaves only)


_HEAD = struct.Struct(">16sQI").pack


_LENGTH = struct.Struct(">I").pack


def leaf_data(originator_id: UUID | str, version: int, topic: str, state: bytes) -> bytes:
    """The canonical bytes of a stored event: the originator id's 16 bytes, the version as an
    unsigned 64-bit big-endian integer, then the topic (UTF-8) and the state, each after its
    length as an unsigned 32-bit big-endian integer."""
    if isinstance(originator_id, UUID):
        uuid = originator_id.bytes
    elif len(originator_id) == 32:  # as SQLite stores it: 32 hex digits
        uuid = bytes.fromhex(originator_id)
    else:
        uuid = UUID(str(originator_id)).bytes
    name = _topic_bytes(topic)
    return b"".join((_HEAD(uuid, version, len(name)), name, _LENGTH(len(state)), state))


@functools.lru_cache(maxsize=256)
def _topic_bytes(topic: str) -> bytes:
    return topic.encode("utf-8")


def event_leaf(event: StoredEvent) -> bytes:
    """The leaf hash of a stored event."""
    return leaf_hash(
        leaf_data(event.originator_id, event.originator_version, event.topic, event.state)
    )


def frontier_keys(size: int) -> list[tuple[int, int]]:
    """The (size, level) keys of the complete subtrees a tree of `size` leaves splits into,
    largest first: one per set bit of `size`."""
    return [
        ((size >> level) << level, level)
        for level in reversed(range(size.bit_length()))
        if size >> level & 1
    ]


def extend(size: int, frontier: dict[int, bytes], leaves: Sequence[tuple[int, bytes]]) -> list[Row]:
    """The rows that append `leaves` (notification id, leaf hash) to a tree of `size` leaves
    whose complete subtrees are `frontier` (level -> hash; updated in place)."""
    rows: list[Row] = []
    for notification_id, hashed in leaves:
        size += 1
        rows.append((size, 0, hashed, notification_id))
        level, current = 0, hashed
        while (size >> level) & 1 == 0:  # the new leaf completed a subtree one level up
            current = node_hash(frontier.pop(level), current)
            level += 1
            rows.append((size, level, current, None))
        frontier[level] = current
    return rows


def node_key(level: int, index: int) -> tuple[int, int]:
    """The (size, level) key of the `index`th complete subtree of `2**level` leaves."""
    return (index + 1) << level, level
