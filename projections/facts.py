"""The flat `facts` table the questions read: one row per stored agency event, every version.

    con = duckdb.connect()
    create_facts(con)
    insert_facts(con, rows)  # dicts keyed by FACT_COLUMNS; a missing data field is NULL

The loader fills it from the event store (or a test from the synthetic truth). Agency references
(`agency`, `to_agency`, `redirect_agency`, `referral_agency`) are slugs; `local_month` is the
`YYYY-MM` of `time` in the place's zone, worked out once at load so no query needs a zone.
"""

from collections.abc import Iterable, Mapping

import duckdb

from schemas.errors import HubError

FACT_TYPES: dict[str, str] = {
    "position": "BIGINT",
    "event_id": "VARCHAR",
    "agency": "VARCHAR",
    "sector": "VARCHAR",
    "type": "VARCHAR",
    "time": "TIMESTAMPTZ",
    "local_month": "VARCHAR",
    "person": "VARCHAR",
    "locality": "VARCHAR",
    "recordref": "VARCHAR",
    "recordversion": "INTEGER",
    "need": "VARCHAR",
    "to_agency": "VARCHAR",
    "service": "VARCHAR",
    "urgency": "VARCHAR",
    "referral_agency": "VARCHAR",
    "referral_recordref": "VARCHAR",
    "reason": "VARCHAR",
    "redirect_agency": "VARCHAR",
    "channel": "VARCHAR",
    "purpose": "VARCHAR",
    "domain": "VARCHAR",
    "level": "VARCHAR",
    "outcome": "VARCHAR",
    "value": "DOUBLE",
    "instrument": "VARCHAR",
    "reported_by": "VARCHAR",
    "unit": "VARCHAR",
    "role": "VARCHAR",
    "scope": "VARCHAR",
}
FACT_COLUMNS: tuple[str, ...] = tuple(FACT_TYPES)
# Envelope columns every row must carry; the data fields may be absent (NULL).
REQUIRED: tuple[str, ...] = FACT_COLUMNS[:11]

FACTS_DDL = (
    "create table if not exists facts (\n"
    + ",\n".join(
        f"    {name} {sql_type}{' not null' if name in REQUIRED and name != 'sector' else ''}"
        for name, sql_type in FACT_TYPES.items()
    )
    + "\n)"
)

BATCH = 50_000


class FactsError(HubError):
    """A facts row the table cannot take; the message says which row and field."""


def create_facts(con: duckdb.DuckDBPyConnection) -> None:
    """Create the (empty) facts table if it is not there yet."""
    con.execute(FACTS_DDL)


def insert_facts(con: duckdb.DuckDBPyConnection, rows: Iterable[Mapping[str, object]]) -> int:
    """Append rows in column batches (one statement per batch, not per row); returns how many."""
    columns: dict[str, list[object]] = {name: [] for name in FACT_COLUMNS}
    done = 0
    for i, row in enumerate(rows):
        unknown = set(row) - set(FACT_TYPES)
        if unknown:
            raise FactsError(f"facts row {i}: unknown fields {sorted(unknown)}")
        for name in REQUIRED:
            if name != "sector" and row.get(name) is None:
                raise FactsError(f"facts row {i}: {name} is required")
        for name, values in columns.items():
            values.append(row.get(name))
        if len(columns["position"]) >= BATCH:
            done += _flush(con, columns)
    return done + _flush(con, columns)


def _flush(con: duckdb.DuckDBPyConnection, columns: dict[str, list[object]]) -> int:
    n = len(columns["position"])
    if n:
        # Many unnests in one select zip the lists together, row by row.
        select = ", ".join(
            f"unnest(${name}::{sql_type}[]) as {name}" for name, sql_type in FACT_TYPES.items()
        )
        con.execute(f"insert into facts by name select {select}", columns)
        for values in columns.values():
            values.clear()
    return n
