"""Ingest's duplicate set on SQLite: the Seen contract (`tests.unit.seen_contract`)."""

from pathlib import Path

from hub.ingest.seen import Seen, SqliteSeen
from tests.unit.seen_contract import SeenContract


class TestSqliteSeenContract(SeenContract):
    def make_seen(self, tmp_path: Path) -> Seen:
        return SqliteSeen(tmp_path / "seen.sqlite")
