"""The seven questions: what each may be cut by, and its answer under disclosure control.

    prepare(con, place)  # parameter tables and staging views over an existing `facts` table
    table = answer(con, "demand", ["locality"], grid_period("2024"), place)
    table.to_json()  # every figure controlled: nothing leaves as an exact count

Each question is one file `sql/<slug>.sql` whose final CTE groups by `{{ dims }}`: that marker is
replaced by columns taken from the question's whitelist here, never by caller text, and the
period reaches the SQL only as bound parameters.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from projections.asked import QuestionError as QuestionError
from projections.asked import check_period
from projections.disclosure import Cell, ControlledTable, Rate, Row, control_table, percentile
from projections.periods import Period
from schemas.place import Place

SQL = Path(__file__).parent / "sql"
DIMS_MARKER = "{{ dims }}"


@dataclass(frozen=True)
class Percentile:
    """A median or percentile column, shown only when its group (a count column) is big enough."""

    name: str
    group_size: str


@dataclass(frozen=True)
class Question:
    """One question: its cuts (cut name -> the columns it groups by) and its measures."""

    slug: str
    description: str
    cuts: Mapping[str, tuple[str, ...]]
    counts: tuple[str, ...]
    always: tuple[str, ...] = ()
    summable: tuple[str, ...] = ()
    rates: tuple[Rate, ...] = ()
    percentiles: tuple[Percentile, ...] = ()
    targets: tuple[str, ...] = ()
    lineage: tuple[str, str] | None = None
    """For a question whose figures count stored events: the SQL's CTE holding one row per
    counted event (with its `position`), and the expression naming the count it adds to."""

    def columns(self, by: Sequence[str]) -> tuple[str, ...]:
        """The columns to group by for these cuts, in the question's own order."""
        unknown = [cut for cut in by if cut not in self.cuts]
        if unknown:
            allowed = ", ".join(self.cuts) or "none"
            raise QuestionError(
                f"{self.slug!r} cannot be cut by {', '.join(map(repr, unknown))}; "
                f"the allowed cuts are: {allowed}",
                field="by",
            )
        chosen = [col for cut, cols in self.cuts.items() if cut in by for col in cols]
        return tuple(dict.fromkeys([*self.always, *chosen]))


def _cut(*names: str) -> dict[str, tuple[str, ...]]:
    return {name: (name,) for name in names}


QUESTIONS: dict[str, Question] = {
    q.slug: q
    for q in (
        Question(
            "demand",
            "Referrals made and contacts recorded per month.",
            _cut("locality", "agency", "sector", "need"),
            ("count_referrals", "count_contacts"),
            always=("month",),
            summable=("locality", "agency", "sector", "need"),
            lineage=(
                "in_period",
                "case when is_referral then 'count_referrals' else 'count_contacts' end",
            ),
        ),
        Question(
            "repeat_demand",
            "People back for the same need within 90 days, and the failure demand among them.",
            _cut("locality", "need", "month"),
            ("count_people", "count_repeat", "count_failure"),
            summable=("locality", "need"),
            rates=(
                Rate("repeat_pct", "count_repeat", "count_people"),
                Rate("failure_pct", "count_failure", "count_repeat"),
            ),
        ),
        Question(
            "many_agencies",
            "People known to 3 or more agencies in the 12 months to each month's end.",
            _cut("locality", "month"),
            ("count_people", "count_many_agencies"),
            summable=("locality",),
            rates=(Rate("many_agencies_pct", "count_many_agencies", "count_people"),),
        ),
        Question(
            "waits",
            "Days from referral to service start (median, 90th percentile) and referrals waiting.",
            _cut("agency", "service", "month"),
            ("count_started", "count_waiting"),
            percentiles=(
                Percentile("median_wait_days", "count_started"),
                Percentile("p90_wait_days", "count_started"),
            ),
        ),
        Question(
            "bounces",
            "Referrals declined or redirected per agency pair, and people passed on 3+ times.",
            {"agency_pair": ("from_agency", "to_agency"), "month": ("month",)},
            ("count_declined", "count_redirected", "count_people_ping_pong"),
            summable=("from_agency", "to_agency"),
            rates=(Rate("redirected_pct", "count_redirected", "count_declined"),),
        ),
        Question(
            "attainment",
            "Per shared outcome or partner commitment: the cohort, how many attained, the target.",
            _cut("outcome", "partner", "period"),
            ("count_cohort", "count_attained"),
            always=("outcome",),
            rates=(Rate("attained_pct", "count_attained", "count_cohort"),),
            targets=("target_percent",),
        ),
        Question(
            "journeys",
            "Common pathways (first three agencies), time to first service, disengagement.",
            _cut("locality", "need", "year"),
            ("count_people", "count_served", "count_services_ended", "count_disengaged"),
            always=("pathway",),
            rates=(Rate("disengaged_pct", "count_disengaged", "count_services_ended"),),
            percentiles=(Percentile("median_first_service_days", "count_served"),),
        ),
    )
}


def question(slug: str) -> Question:
    """The question with this slug, or a QuestionError naming the known ones."""
    try:
        return QUESTIONS[slug]
    except KeyError:
        raise QuestionError(
            f"{slug!r} is not a question; ask one of: {', '.join(QUESTIONS)}"
        ) from None


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
    # Fetch the script's (empty) result: DuckDB refuses the next query while one is pending.
    con.execute((SQL / "staging.sql").read_text(encoding="utf-8")).fetchall()


def raw_answer(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    by: Sequence[str],
    period: tuple[str, str] | None,
    place: Place,
) -> list[dict[str, object]]:
    """NEVER FOR COMMISSIONERS OR STEWARDS: the exact, unrounded rows, for auditors and tests.

    Call `prepare(con, place)` first (after loading facts). Rows are sorted by their dims.
    """
    q = question(slug)
    columns = q.columns(by)
    start, end = check_period(period)
    sql = (SQL / f"{slug}.sql").read_text(encoding="utf-8")
    sql = sql.replace(DIMS_MARKER, "".join(f"{col}, " for col in columns))
    params: dict[str, object] = {"period_from": start, "period_to": end}
    if "$by_partner" in sql:
        params["by_partner"] = "partner" in columns
    result = con.execute(sql, params)
    names = [column[0] for column in result.description or ()]
    rows = [dict(zip(names, values, strict=True)) for values in result.fetchall()]
    rows.sort(key=lambda row: tuple((row[c] is None, str(row[c])) for c in columns))
    return rows


FINAL_SELECT = "select * from final"


def lineage(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    cell: Mapping[str, str],
    period: tuple[str, str] | None,
) -> list[tuple[int, str]]:
    """NEVER FOR COMMISSIONERS OR STEWARDS: the stored events (position, the count each adds
    to) behind one cell of a question cut by the cell's columns; per count, their number is the
    cell's exact figure. Call `prepare(con, place)` first."""
    q = question(slug)
    if q.lineage is None:
        traceable = ", ".join(s for s, other in QUESTIONS.items() if other.lineage)
        raise QuestionError(f"{slug!r} counts no stored events one by one; trace {traceable}")
    by = [cut for cut in q.cuts if any(col in cell for col in q.cuts[cut])]
    columns = q.columns(by)
    unknown = [name for name in cell if name not in columns]
    missing = [name for name in columns if name not in cell]
    if unknown or missing:
        raise QuestionError(
            f"a {slug!r} cell names {', '.join(q.always) or 'its cuts'} and any of "
            f"{', '.join(c for cols in q.cuts.values() for c in cols)}; "
            + (f"unknown: {', '.join(unknown)}" if unknown else f"missing: {', '.join(missing)}"),
            field="cell",
        )
    start, end = check_period(period)
    cte, measure = q.lineage
    sql = (SQL / f"{slug}.sql").read_text(encoding="utf-8")
    sql = sql.replace(DIMS_MARKER, "".join(f"{col}, " for col in columns))
    if sql.rstrip().count(FINAL_SELECT) != 1 or not sql.rstrip().endswith(FINAL_SELECT):
        raise QuestionError(f"{slug}.sql must end with {FINAL_SELECT!r} to be traced")
    where = " and ".join(f"{col} is not distinct from $cell_{i}" for i, col in enumerate(columns))
    sql = sql.rstrip().removesuffix(FINAL_SELECT) + (
        f"select position, {measure} as measure from {cte} where {where} order by position"
    )
    params: dict[str, object] = {"period_from": start, "period_to": end}
    params |= {f"cell_{i}": cell[col] for i, col in enumerate(columns)}
    return [(int(p), str(m)) for p, m in con.execute(sql, params).fetchall()]


def answer(
    con: duckdb.DuckDBPyConnection,
    slug: str,
    by: Sequence[str],
    period: Period | None,
    place: Place,
) -> ControlledTable:
    """The question's answer with every figure disclosure-controlled (the only public answer),
    for one period of the grid (`projections.periods`) or the whole record."""
    q = question(slug)
    columns = q.columns(by)
    rows = raw_answer(con, slug, by, None if period is None else period.months, place)
    rules = place.disclosure
    table = control_table(
        rows,
        columns,
        q.counts,
        rules,
        totals_over=[c for c in columns if c in q.summable],
        rates=q.rates,
    )
    detail = []
    for row, raw in zip(table.rows, rows, strict=True):
        cells: dict[str, Cell] = dict(row.cells)
        for p in q.percentiles:
            value, size = raw[p.name], raw[p.group_size]
            days = float(value) if isinstance(value, int | float) else None
            cells[p.name] = percentile(days, size if isinstance(size, int) else -1, rules)
        for name in q.targets:
            # A target is the partnership's own published figure, not a count of people.
            target = raw[name]
            if not isinstance(target, int | float):
                raise QuestionError(f"{slug}: row {dict(row.dims)} has no {name}")
            cells[name] = Cell(math.floor(float(target) + 0.5), False)
        detail.append(Row(row.dims, cells))
    return ControlledTable(table.dims, table.totals_over, tuple(detail), table.totals)
