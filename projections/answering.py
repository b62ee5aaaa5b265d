"""A question's answer as commissioners and stewards get it: every figure controlled.

    prepare(con, place)  # parameter tables and staging views over an existing `facts` table
    table = answer(con, "demand", ["locality"], grid_period("2024"), place)
    table.to_json()      # every combination, every count perturbed: nothing leaves exact

The question's own SQL (`projections.questions`) runs inside one statement that lists every
allowed combination (`projections.domains`), adds the totals and perturbs each count from the
ptable (`projections.perturbed`, `projections.ptable`); only shown figures come back.
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from projections.asked import EVERYTHING, QuestionError
from projections.disclosure import Cell, ControlledTable, Row, percentile, rate
from projections.domains import domains_for
from projections.periods import Period
from projections.perturbed import flag_of, perturbed_sql, shown_of
from projections.ptable import Ptable, ptable_for
from projections.questions import SQL, question, question_sql
from schemas.place import Place


def prepare(con: duckdb.DuckDBPyConnection, place: Place) -> None:
    """Load the place's parameters into small tables and (re)create the staging views."""
    con.execute("create or replace table place_services (service varchar, need varchar)")
    pairs = [(s.code, need) for s in place.services for need in s.needs]
    if pairs:
        con.executemany("insert into place_services values (?, ?)", pairs)
    con.execute(
        "create or replace table outcome_rules (outcome varchar, events varchar[],"
        " needs varchar[], sectors varchar[], min_value double, within_days integer,"
        " reported_by varchar[], target_percent double, period_months integer)"
    )
    rules = [
        (
            o.code,
            [kind.removeprefix("hub.") for kind in o.cohort.events],
            list(o.cohort.needs),
            list(o.cohort.sectors),
            o.attainment.min_value,
            o.attainment.within_days,
            list(o.attainment.reported_by),
            o.target_percent,
            o.period_months,
        )
        for o in place.outcomes
    ]
    if rules:
        con.executemany("insert into outcome_rules values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rules)
    con.execute(
        "create or replace table commitments"
        " (partner varchar, outcome varchar, target_percent double)"
    )
    plan = place.partnership
    commitments = [(c.partner, c.outcome, c.target) for c in plan.commitments] if plan else []
    if commitments:
        con.executemany("insert into commitments values (?, ?, ?)", commitments)
    _load_domains(con, place)
    _load_ptable(con, place)
    # Fetch the script's (empty) result: DuckDB refuses the next query while one is pending.
    con.execute((SQL / "staging.sql").read_text(encoding="utf-8")).fetchall()
    _load_shown_pathways(con, place)


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: str, rows: list[Any]) -> None:
    con.execute(f"create or replace table {name} ({columns})")
    if rows:
        marks = ", ".join("?" for _ in columns.split(","))
        con.executemany(f"insert into {name} values ({marks})", rows)


def _load_domains(con: duckdb.DuckDBPyConnection, place: Place) -> None:
    """The place's values of each column, for tables that list every combination."""
    _table(con, "domain_localities", "locality varchar", [(x.code,) for x in place.localities])
    _table(con, "domain_needs", "need varchar", [(x.code,) for x in place.needs])
    agencies = [(a.slug, a.sector) for a in place.agencies]
    _table(con, "domain_agencies", "agency varchar, sector varchar", agencies)
    services = [(s.agency, s.code) for s in place.services]
    _table(con, "domain_services", "agency varchar, service varchar", services)


def _load_ptable(con: duckdb.DuckDBPyConnection, place: Place) -> None:
    load_ptable(con, ptable_for(place.disclosure))


def load_ptable(con: duckdb.DuckDBPyConnection, table: Ptable) -> None:
    """The ptable as the DuckDB tables `ptable (value, cell_key, noise)` and `ptable_top`, in
    one statement each (row by row would take longer than any answer)."""
    values, keys, noises = (list(column) for column in zip(*table.rows, strict=True))
    con.execute(
        "create or replace table ptable as select unnest($values::integer[]) as value,"
        " unnest($keys::integer[]) as cell_key, unnest($noises::integer[]) as noise",
        {"values": values, "keys": keys, "noises": noises},
    )
    con.execute(
        "create or replace table ptable_top as select $top::integer as top", {"top": table.top}
    )


def _load_shown_pathways(con: duckdb.DuckDBPyConnection, place: Place) -> None:
    """The pathways whose whole-record count shows above zero (`projections.domains`)."""
    con.execute("create or replace table domain_pathways (pathway varchar)")
    shown = _perturbed_rows(con, "journeys", [], None, place, listed=False)
    pathways = [(row["pathway"],) for row in shown if row[shown_of("count_people")]]
    if pathways:
        con.executemany("insert into domain_pathways values (?)", pathways)


def answer(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    by: Sequence[str],
    period: Period | None,
    place: Place,
) -> ControlledTable:
    """The question's answer with every figure disclosure-controlled (the only public answer),
    for one period of the grid (`projections.periods`) or the whole record: every allowed
    combination listed, every count perturbed by the cell key method and rounded, totals over
    the summable cuts as cells of their own, rates from the shown counts, percentiles only for
    groups of at least `min_group_for_percentiles`. Call `prepare(con, place)` first."""
    q = question(slug)
    columns = q.columns(by)
    rules = place.disclosure
    sums = [c for c in columns if c in q.summable]
    detail: list[Row] = []
    totals: list[Row] = []
    shown: dict[int, Cell] = {}  # one Cell per figure: a big table repeats a few values
    for raw in _perturbed_rows(con, slug, by, period, place, listed=True):
        summed = [c for c in sums if raw[flag_of(c)]]
        dims = {c: raw[c] for c in columns if c not in summed}
        cells: dict[str, Cell] = {}
        for c in q.counts:
            value = int(raw[shown_of(c)])
            cells[c] = shown.get(value) or shown.setdefault(value, Cell(value, False))
        for r in q.rates:
            cells[r.name] = rate(cells[r.numerator].value, cells[r.denominator].value)
        for p in q.percentiles:
            value, size = raw[p.name], int(raw[p.group_size])
            days = float(value) if isinstance(value, int | float) else None
            cells[p.name] = percentile(days, size, rules)
        for name in q.targets:
            cells[name] = Cell(_target(place, dims), False)
        (totals if summed else detail).append(Row(dims, cells))
    # Rows come in order: detail rows, then totals, fewest summed-over columns first.
    return ControlledTable(tuple(columns), tuple(sums), tuple(detail), tuple(totals))


def _perturbed_rows(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    by: Sequence[str],
    period: Period | None,
    place: Place,
    *,
    listed: bool,
    perturb: bool = True,
) -> list[dict[str, Any]]:
    """The shown (perturbed, rounded) counts of every cell, in DuckDB (`projections.perturbed`);
    `listed`: every combination the place allows, else only those that count anything.
    `perturb` False (exact counts) is the benchmark's baseline, never an answer."""
    q = question(slug)
    columns = q.columns(by)
    months = EVERYTHING if period is None else period.months
    sql, params = question_sql(q, columns, months)
    extras = [p.name for p in q.percentiles]
    sizes = sorted({p.group_size for p in q.percentiles})
    domains = domains_for(slug, columns, period is None) if listed else None
    statement = perturbed_sql(
        sql,
        columns,
        q.summable,
        q.counts,
        extras,
        sizes,
        domains,
        place.disclosure.rounding_base,
        perturb=perturb,
    )
    if "$ptable_top" in statement:
        params["ptable_top"] = con.execute("select top from ptable_top").fetchall()[0][0]
    if "$grid_months" in statement:
        params["grid_months"] = _months_of(months)
    result = con.execute(statement, params)
    names = [column[0] for column in result.description or ()]
    return [dict(zip(names, values, strict=True)) for values in result.fetchall()]


def _months_of(months: tuple[str, str]) -> list[str]:
    first, last = (int(m[:4]) * 12 + int(m[5:]) - 1 for m in months)
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(first, last + 1)]


def _target(place: Place, dims: Mapping[str, object]) -> int:
    """A row's target: the partner's commitment, or the outcome's own (a published figure)."""
    plan = place.partnership
    for c in plan.commitments if plan and dims.get("partner") is not None else ():
        if (c.outcome, c.partner) == (dims.get("outcome"), dims.get("partner")):
            return math.floor(float(c.target) + 0.5)
    for o in place.outcomes:
        if o.code == dims.get("outcome"):
            return math.floor(float(o.target_percent) + 0.5)
    raise QuestionError(f"attainment: no target for outcome {dims.get('outcome')!r}")
