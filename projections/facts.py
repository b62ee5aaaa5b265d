"""The flat `facts` table the questions read: one row per stored agency event, every version.

    con = duckdb.connect()
    create_facts(con)
    insert_facts(con, rows, UnitKeys(key))

Rows are dicts keyed by FACT_COLUMNS but the unit keys (a missing data field is NULL);
`record_key` and `person_key` are worked out from the disclosure key as each row goes in.

The loader fills it from the event store (or a test from the synthetic truth). Agency references
(`agency`, `to_agency`, `redirect_agency`, `referral_agency`) are slugs; `local_month` is the
`YYYY-MM` of `time` in the place's zone, worked out once at load so no query needs a zone.
"""

from collections.abc import Iterable, Mapping

import duckdb

from projections.unit_keys import UnitKeys
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
    # The cell key method's unit keys (projections.unit_keys), worked out at load.
    "record_key": "SMALLINT",
    "person_key": "SMALLINT",
}
FACT_COLUMNS: tuple[str, ...] = tuple(FACT_TYPES)
# Envelope columns every row must carry; the data fields may be absent (NULL).
REQUIRED: tuple[str, ...] = FACT_COLUMNS[:11]
# Worked out by insert_facts, never given: the last columns.
KEYS: tuple[str, ...] = ("record_key", "person_key")

FACTS_DDL = (
    "create table if not exists facts (\n"
    + ",\n".join(
        f"    {name} {sql_type}"
        + (" not null" if name in (*REQUIRED, *KEYS) and name != "sector" else "")
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


def insert_facts(
    con: duckdb.DuckDBPyConnection, rows: Iterable[Mapping[str, object]], keys: UnitKeys
) -> int:
    """Append rows in column batches (one statement per batch, not per row), each with its unit
    keys from `keys`; returns how many."""
    columns: dict[str, list[object]] = {name: [] for name in FACT_COLUMNS}
    done = 0
    for i, row in enumerate(rows):
        unknown = set(row) - set(FACT_TYPES) | (set(row) & set(KEYS))
        if unknown:
            raise FactsError(f"facts row {i}: unknown fields {sorted(unknown)}")
        for name in REQUIRED:
            if name != "sector" and row.get(name) is None:
                raise FactsError(f"facts row {i}: {name} is required")
        for name in FACT_COLUMNS[: -len(KEYS)]:
            columns[name].append(row.get(name))
        columns["record_key"].append(keys.record(str(row["agency"]), str(row["recordref"])))
        columns["person_key"].append(keys.person(str(row["person"])))
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
