"""The seven questions: what each may be cut by and counts, and their exact answers.

    rows = raw_answer(con, "demand", ["locality"], ("2024-01", "2024-12"), place)  # auditors'

The controlled answer, the only one for commissioners and stewards, is
`projections.answering.answer`; `projections.answering.prepare` loads what both read.

Each question is one file `sql/<slug>.sql` whose final CTE groups by `{{ dims }}`: that marker is
replaced by columns taken from the question's whitelist here, never by caller text, and the
period reaches the SQL only as bound parameters.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from projections.asked import QuestionError as QuestionError
from projections.asked import check_period
from projections.disclosure import Rate
from projections.perturbed import key_of
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
    sql, params = question_sql(q, columns, check_period(period))
    result = con.execute(sql, params)
    names = [column[0] for column in result.description or ()]
    keys = {key_of(count) for count in q.counts}
    rows = [
        {name: value for name, value in zip(names, values, strict=True) if name not in keys}
        for values in result.fetchall()
    ]
    rows.sort(key=lambda row: order(row, columns))
    return rows


def order(row: Mapping[str, object], columns: Sequence[str]) -> tuple[tuple[bool, str], ...]:
    return tuple((row[c] is None, str(row[c])) for c in columns)


def question_sql(
    q: Question, columns: Sequence[str], months: tuple[str, str]
) -> tuple[str, dict[str, object]]:
    """A question's SQL grouped by `columns`, with its parameters for the months given."""
    sql = (SQL / f"{q.slug}.sql").read_text(encoding="utf-8")
    sql = sql.replace(DIMS_MARKER, "".join(f"{col}, " for col in columns))
    params: dict[str, object] = {"period_from": months[0], "period_to": months[1]}
    if "$by_partner" in sql:
        params["by_partner"] = "partner" in columns
    return sql, params
