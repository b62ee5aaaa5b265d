"""Lineage, for auditors alone: the stored events behind one exact figure of a question.

    lineage(con, "demand", {"month": "2025-03", "locality": "ashfield"}, None)
    # [(position, "count_referrals"), ...]: per count, their number is the exact figure

NEVER FOR COMMISSIONERS OR STEWARDS: it names the events a cell counts, one by one.
"""

from collections.abc import Mapping

import duckdb

from projections.asked import QuestionError, check_period
from projections.questions import DIMS_MARKER, QUESTIONS, SQL, question

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
