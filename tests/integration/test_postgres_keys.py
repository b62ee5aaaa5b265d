"""The record-key contract (`tests.unit.keys_contract`) on a real PostgreSQL server, each test
in a schema of its own, on a connection of the store's own and on one giving rows as dicts (as
the event store's connections do); and what only the server shows: a sweep that deleted keys
rewrites the table, so their bytes are not left in dead row versions."""

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from hub.bootstrap import postgres_connect
from hub.keys.port import TABLE, Record, RecordKeys
from hub.keys.postgres import OwnConnection, PostgresRecordKeys
from tests.unit.keys_contract import RecordKeysContract, record

OLD_DDL = (
    "CREATE TABLE {} (source text NOT NULL, recordref text NOT NULL, key bytea, "
    "created_at timestamptz NOT NULL, erased_at timestamptz, events bigint, "
    "PRIMARY KEY (source, recordref))"
)
"""The table as made before keys could be pending (no `pending_at`)."""


def schema_of(tmp_path: Path) -> str:
    """One schema per test folder; the same folder reopens the same schema."""
    return "keys_" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:16]


class TestPostgresRecordKeysContract(RecordKeysContract):
    env: dict[str, str]
    opened: list[OwnConnection]

    @pytest.fixture(autouse=True)
    def _server(self, postgres_env: dict[str, str], tmp_path: Path) -> Iterator[None]:
        self.env, self.opened = postgres_env, []
        with postgres_connect(postgres_env) as con:
            con.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema_of(tmp_path))))
        yield
        for connection in self.opened:
            connection.close()
        with postgres_connect(postgres_env) as con:
            con.execute(
                sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema_of(tmp_path)))
            )

    def make_keys(self, tmp_path: Path) -> RecordKeys:
        connection = OwnConnection(lambda: postgres_connect(self.env))
        self.opened.append(connection)
        return PostgresRecordKeys(connection, schema_of(tmp_path))

    def make_old_store(
        self, tmp_path: Path, keys: dict[Record, bytes], erased: dict[Record, datetime]
    ) -> None:
        table = sql.Identifier(schema_of(tmp_path), TABLE)
        made = datetime(2024, 1, 1, tzinfo=UTC)
        with postgres_connect(self.env) as con:
            con.execute(sql.SQL(OLD_DDL).format(table))
            for (source, ref), key in keys.items():
                con.execute(
                    sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, NULL, NULL)").format(table),
                    [source, ref, key, made],
                )
            for (source, ref), at in erased.items():
                con.execute(
                    sql.SQL("INSERT INTO {} VALUES (%s, %s, NULL, %s, %s, 1)").format(table),
                    [source, ref, made, at],
                )

    def test_a_sweep_that_deleted_keys_rewrites_the_table(self, tmp_path: Path) -> None:
        keys = self.make_keys(tmp_path)
        keys.get_or_create([record(1), record(2)])
        keys.confirm([record(2)])

        def filenode() -> Any:
            name = sql.Identifier(schema_of(tmp_path), TABLE)
            with postgres_connect(self.env) as con:
                query = sql.SQL("SELECT pg_relation_filenode({})").format(
                    sql.Literal(name.as_string(con))
                )
                row = con.execute(query).fetchone()
            assert row is not None
            return row[0]

        before = filenode()
        assert keys.sweep(datetime.now(UTC) - timedelta(minutes=1)) == 0
        assert filenode() == before  # nothing deleted: nothing rewritten
        assert keys.sweep(datetime.now(UTC) + timedelta(minutes=1)) == 1
        assert filenode() != before  # VACUUM FULL wrote the table anew
        keys.close()


class TestPostgresRecordKeysOnDictRowsContract(TestPostgresRecordKeysContract):
    def make_keys(self, tmp_path: Path) -> RecordKeys:
        def connect() -> Any:
            env = self.env
            return psycopg.connect(
                dbname=env["POSTGRES_DBNAME"],
                host=env["POSTGRES_HOST"],
                port=env.get("POSTGRES_PORT", "5432"),
                user=env.get("POSTGRES_USER"),
                password=env.get("POSTGRES_PASSWORD"),
                autocommit=True,
                row_factory=dict_row,
            )

        connection = OwnConnection(connect)
        self.opened.append(connection)
        return PostgresRecordKeys(connection, schema_of(tmp_path))
