"""Ingest's duplicate set on a real PostgreSQL server: the Seen contract
(`tests.unit.seen_contract`), each test in a schema of its own, each Seen on a connection of
its own as each gateway process would have."""

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import sql

from hub.bootstrap import postgres_connect
from hub.ingest.seen import Seen
from hub.ingest.seen_postgres import PostgresSeen
from hub.keys.postgres import OwnConnection
from tests.unit.seen_contract import SeenContract


def schema_of(tmp_path: Path) -> str:
    """One schema per test folder; the same folder reopens the same schema."""
    return "seen_" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:16]


class TestPostgresSeenContract(SeenContract):
    env: dict[str, str]
    connections: list[OwnConnection]

    @pytest.fixture(autouse=True)
    def _server(self, postgres_env: dict[str, str], tmp_path: Path) -> Iterator[None]:
        self.env, self.connections = postgres_env, []
        schema = sql.Identifier(schema_of(tmp_path))
        with postgres_connect(postgres_env) as con:
            con.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
        yield
        for connection in self.connections:
            connection.close()
        with postgres_connect(postgres_env) as con:
            con.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(schema))

    def make_seen(self, tmp_path: Path) -> Seen:
        connection = OwnConnection(lambda: postgres_connect(self.env))
        self.connections.append(connection)
        return PostgresSeen(connection, schema_of(tmp_path))
