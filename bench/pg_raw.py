"""Raw PostgreSQL baselines for `bench/ingest_kafka.py`: binary `COPY`, and eventsourcing's own
bare save, each into a fresh schema.

    raw_copy(pg, "bench_x_raw", n, size)      # rows/s
    bare_eventsourcing(pg, "bench_x_bare", n)  # events/s
"""

import os
import time
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg import sql

from bench.kafka_env import create_schema
from hub.bootstrap import postgres_connect

PAYLOAD = {"need": "housing", "urgency": "routine", "to_agency": "urn:agency:homes", "x": "y" * 400}
COPY_BATCH = 10_000


def raw_copy(pg: dict[str, str], schema: str, n: int, size: int) -> float:
    """Rows of (id, payload bytea) by binary COPY, 10,000 a transaction."""
    create_schema(pg, schema)
    table = sql.Identifier(schema, "events")
    payload = os.urandom(size)
    with postgres_connect(pg) as con:
        con.execute(sql.SQL("CREATE TABLE {} (id bigint primary key, payload bytea)").format(table))
        copy_sql = sql.SQL("COPY {} (id, payload) FROM STDIN (FORMAT BINARY)").format(table)
        start = time.perf_counter()
        with con.cursor() as cursor:
            for first in range(0, n, COPY_BATCH):
                with con.transaction(), cursor.copy(copy_sql) as copy:
                    copy.set_types(["int8", "bytea"])
                    for i in range(first, min(n, first + COPY_BATCH)):
                        copy.write_row((i, payload))
        return n / (time.perf_counter() - start)


class Bare(Aggregate):
    @event("Noted")
    def note(self, payload: dict[str, str]) -> None:
        pass


def bare_eventsourcing(pg: dict[str, str], schema: str, n: int) -> float:
    """eventsourcing's own save on PostgreSQL, 100 new aggregates a transaction, 10 events
    each."""
    create_schema(pg, schema)
    env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", **pg, "POSTGRES_SCHEMA": schema}
    app: Application[UUID] = Application(env=env)
    try:
        start = time.perf_counter()
        saved = 0
        while saved < n:
            aggregates = []
            for _ in range(100):
                aggregate = Bare()
                for _ in range(9):
                    aggregate.note(PAYLOAD)
                aggregates.append(aggregate)
            app.save(*aggregates)
            saved += 1000
        return saved / (time.perf_counter() - start)
    finally:
        app.close()
