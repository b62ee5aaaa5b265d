"""The contract every adapter of ingest's duplicate set (`hub.ingest.seen.Seen`) keeps: one
suite runs on each.

An adapter's test module subclasses `SeenContract` as `Test...` and supplies `make_seen`:

    class TestSqliteSeenContract(SeenContract):
        def make_seen(self, tmp_path: Path) -> Seen:
            return SqliteSeen(tmp_path / "seen.sqlite")
"""

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.ingest.seen import Seen

POLICE, GP = "urn:agency:police-north", "urn:agency:nhs-gp"
MANY = 70_000  # more than one statement's bound values: SQLite's 32,766, PostgreSQL's 65,535


def ids(count: int, first: int = 0, source: str = POLICE) -> list[tuple[str, str]]:
    """`count` (source, hub event id) pairs, ids shaped like the hub's (64 hex and a version)."""
    return [(source, f"{n:064x}-v1") for n in range(first, first + count)]


class SeenContract(ABC):
    """Tests any `Seen` must pass; `make_seen` gives one over storage kept in `tmp_path`."""

    @abstractmethod
    def make_seen(self, tmp_path: Path) -> Seen:
        """A Seen over `tmp_path`'s storage: empty at first, the same set for every call."""

    @pytest.fixture
    def opened(self, tmp_path: Path) -> Iterator[list[Seen]]:
        """Every Seen a test opens, closed after it."""
        opened: list[Seen] = []
        yield opened
        for seen in opened:
            seen.close()

    @pytest.fixture
    def seen(self, tmp_path: Path, opened: list[Seen]) -> Seen:
        return self.open(tmp_path, opened)

    def open(self, tmp_path: Path, opened: list[Seen]) -> Seen:
        seen = self.make_seen(tmp_path)
        opened.append(seen)
        return seen

    def test_nothing_is_known_of_an_empty_set_or_before_anything_is_remembered(
        self, seen: Seen
    ) -> None:
        assert seen.known([]) == set()
        assert seen.known(iter(())) == set()
        assert seen.known(ids(5)) == set()
        seen.remember([])
        assert seen.known(ids(5)) == set()

    def test_remembered_keys_are_known_and_no_others(self, seen: Seen) -> None:
        seen.remember(ids(3))
        asked = ids(6) + ids(3, source=GP)  # the same ids from another agency are not known
        assert seen.known(asked) == set(ids(3))
        assert seen.known(key for key in asked) == set(ids(3))  # any iterable, read once

    def test_remembering_twice_or_a_key_twice_in_one_batch_is_harmless(self, seen: Seen) -> None:
        seen.remember(ids(4))
        seen.remember(ids(6))
        seen.remember([*ids(2, first=10), *ids(2, first=10)])
        assert seen.known(ids(12)) == set(ids(6) + ids(2, first=10))

    def test_two_instances_on_one_store_see_what_the_other_remembered(
        self, tmp_path: Path, opened: list[Seen]
    ) -> None:
        one, two = self.open(tmp_path, opened), self.open(tmp_path, opened)
        one.remember(ids(3))
        two.remember(ids(3, first=3))
        assert one.known(ids(8)) == set(ids(6))
        assert two.known(ids(8)) == set(ids(6))

    def test_more_keys_than_one_statement_binds_are_remembered_and_known(self, seen: Seen) -> None:
        seen.remember(ids(MANY))
        found = seen.known(ids(MANY + 10))
        assert len(found) == MANY
        assert found == set(ids(MANY))

    def test_processes_remembering_the_same_keys_at_once_in_other_orders_all_succeed(
        self, tmp_path: Path, opened: list[Seen]
    ) -> None:
        # Round after round, every writer remembers the same new keys, half of them backwards:
        # writers that took their row locks in the order given would deadlock.
        rounds, writers = [ids(400, first=400 * n) for n in range(12)], 4
        each = [self.open(tmp_path, opened) for _ in range(writers)]
        start, failed = threading.Barrier(writers), []

        def remember(seen: Seen, backwards: bool) -> None:
            for keys in rounds:
                start.wait()
                try:
                    seen.remember(keys[::-1] if backwards else keys)
                except Exception as error:  # shown below, not lost in the thread
                    failed.append(error)

        threads = [
            threading.Thread(target=remember, args=(s, n % 2 == 1)) for n, s in enumerate(each)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failed, [repr(error) for error in failed]
        assert each[0].known(key for keys in rounds for key in keys) == {
            key for keys in rounds for key in keys
        }
