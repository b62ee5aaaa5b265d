"""Benchmark: the seven questions through the hub's path against hand-written DuckDB SQL.

    python bench/questions.py                          # 10,000,000+ events, 3 repeats
    python bench/questions.py --events 1000000 --repeat 1 --keep   # a quick look

Builds a DuckDB file under bench-data/ holding a flat `facts` table of at least `--events` rows:
a synthetic place of 20,000 people (kept between runs) loaded from its truth, then copied inside
DuckDB, each copy a separate population (people, records and links suffixed with the copy
number). For each question, one representative cut over the whole period is timed (median of
`--repeat` runs) two ways:

- hub: `projections.questions.answer` after `prepare` (staging views, the question's SQL file,
  disclosure control);
- baseline: one hand-written query over `facts` computing the same unrounded figures by the
  definitions in the question's header comment (latest version and objections applied inline),
  with no views, no registry, no disclosure control.

Each baseline is first checked against `raw_answer` on the un-replicated place.

Perturbation's own cost is timed beside it, in the same run: the controlled cells (every
combination, the totals, each count looked up in the ptable by value and cell key) against the
same statement without the ptable (exact counts, rounded; the unit keys then go unused and
DuckDB leaves their sums out). Target: perturbation adds at most 20% (ratio <= 1.2).

Prints per question: perturbed and exact seconds with their ratio; the whole answer (with the
Python that shapes it) against the baseline; agreement; then the peak memory.
"""

import argparse
import json
import math
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.synth import synthesise
from projections.answering import _perturbed_rows, answer, prepare
from projections.facts import create_facts, insert_facts
from projections.questions import raw_answer
from projections.unit_keys import UnitKeys
from schemas.place import Place, load_place
from tests.unit.truth_answers import facts_from_truth

PEOPLE = 20_000
TARGET = 1.3
PERTURBATION = 1.2  # perturbation adds at most 20%
US_90_DAYS = 90 * 86_400 * 1_000_000

# The question, its cut, and the output columns the baseline returns (dims first).
CASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("demand", ("sector",)),
    ("repeat_demand", ("need",)),
    ("many_agencies", ("month",)),
    ("waits", ("agency",)),
    ("bounces", ("agency_pair",)),
    ("attainment", ("outcome",)),
    ("journeys", ()),
)

# Latest version of each record, then nothing of a person who has objected: written inline
# at the head of every baseline, as an analyst would.
CURRENT = """
latest as (
    select * from facts
    qualify row_number() over (
        partition by agency, recordref order by recordversion desc, position desc
    ) = 1
),
cur as (
    select * from latest
    where person not in (select person from latest where type = 'objection.recorded')
)"""


def _literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]::varchar[]"
    return repr(float(value))


def _services(place: Place) -> str:
    pairs = [f"({_literal(s.code)}, {_literal(n)})" for s in place.services for n in s.needs]
    return (
        f"place_needs (service, need) as (values {', '.join(pairs)})"
        if pairs
        else "place_needs (service, need) as (select null::varchar, null::varchar where false)"
    )


def baselines(place: Place) -> dict[str, str]:
    """One hand-written query per question, for the cut in CASES."""
    rules = ", ".join(
        "("
        + ", ".join(
            [
                _literal(o.code),
                _literal([k.removeprefix("hub.") for k in o.cohort.events]),
                _literal(list(o.cohort.needs)),
                _literal(list(o.cohort.sectors)),
                _literal(o.attainment.min_value),
                str(int(o.attainment.within_days)),
                _literal(list(o.attainment.reported_by)),
                _literal(o.target_percent),
            ]
        )
        + ")"
        for o in place.outcomes
    )
    referral_need = """
refs as (
    select agency, recordref, need from cur where type = 'referral.made'
)"""
    return {
        "demand": f"""
with {CURRENT}
select
    local_month as month,
    sector,
    count(*) filter (where type = 'referral.made') as count_referrals,
    count(*) filter (where type = 'contact.recorded') as count_contacts
from cur
where type in ('referral.made', 'contact.recorded')
group by local_month, sector
""",
        "repeat_demand": f"""
with {CURRENT}, {referral_need}, {_services(place)},
stream as (
    -- demand events, and failures (declines by the declined referral's need; services ended
    -- other than completed, by their referral's need else the place's needs for the service)
    select person, need, locality, local_month as month, time, position, true as is_demand
    from cur
    where type in ('referral.made', 'contact.recorded') and need is not null
    union all
    select d.person, refs.need, null, null, d.time, d.position, false
    from cur as d
    join refs on refs.agency = d.referral_agency and refs.recordref = d.referral_recordref
    where d.type = 'referral.declined' and refs.need is not null
    union all
    select e.person, coalesce(refs.need, place_needs.need), null, null, e.time, e.position, false
    from cur as e
    left join refs on refs.agency = e.referral_agency and refs.recordref = e.referral_recordref
    left join place_needs on refs.need is null and place_needs.service = e.service
    where e.type = 'service.ended' and coalesce(e.reason, '') <> 'completed'
        and coalesce(refs.need, place_needs.need) is not null
),
flagged as (
    select
        *,
        count(*) filter (where is_demand) over w > 0 as is_repeat,
        count(*) filter (where not is_demand) over w > 0 as follows_failure
    from stream
    window w as (
        partition by person, need order by epoch_us(time)
        range between {US_90_DAYS} preceding and 1 preceding
    )
),
units as (
    select
        bool_or(is_repeat) as is_repeat,
        bool_or(is_repeat and follows_failure) as is_failure,
        need
    from flagged
    where is_demand
    group by person, need, month
)
select
    need,
    count(*) as count_people,
    count(*) filter (where is_repeat) as count_repeat,
    count(*) filter (where is_failure) as count_failure
from units
group by need
""",
        "many_agencies": f"""
with {CURRENT},
indexed as (
    select distinct
        person,
        agency,
        cast(left(local_month, 4) as integer) * 12 + cast(right(local_month, 2) as integer) - 1
        as month_index
    from cur
),
last_month as (select max(month_index) as last_index from indexed),
windows as (
    -- each person-agency-month counts in its own month and the 11 after it
    select month_index + k as window_index, person, count(distinct agency) as count_agencies
    from indexed, range(12) as t (k), last_month
    where month_index + k <= last_index
    group by window_index, person
)
select
    printf('%04d-%02d', window_index // 12, window_index % 12 + 1) as month,
    count(*) as count_people,
    count(*) filter (where count_agencies >= 3) as count_many_agencies
from windows
group by window_index
""",
        "waits": f"""
with {CURRENT},
refs as (
    select agency, recordref, to_agency, time, local_month from cur where type = 'referral.made'
),
starts as (
    select s.agency, s.local_month, s.referral_agency, s.referral_recordref,
        (epoch(s.time) - epoch(refs.time)) / 86400.0 as wait_days
    from cur as s
    join refs on refs.agency = s.referral_agency and refs.recordref = s.referral_recordref
    where s.type = 'service.started'
),
first_start as (
    select referral_agency, referral_recordref, min(local_month) as month
    from starts group by all
),
first_response as (
    select referral_agency, referral_recordref, type = 'referral.declined' as is_declined,
        local_month
    from cur
    where type in ('referral.accepted', 'referral.declined')
    qualify row_number() over (
        partition by referral_agency, referral_recordref order by time, position
    ) = 1
),
month_of as (
    select max(cast(left(local_month, 4) as integer) * 12
        + cast(right(local_month, 2) as integer) - 1) as last_index
    from cur
),
waiting as (
    -- months waiting: from the month made to the month before the first start, the month
    -- before a declining first response, and the last month of the record, whichever first
    select refs.to_agency as agency, least(
        last_index,
        coalesce(cast(left(first_start.month, 4) as integer) * 12
            + cast(right(first_start.month, 2) as integer) - 2, last_index),
        case when first_response.is_declined
            then cast(left(first_response.local_month, 4) as integer) * 12
                + cast(right(first_response.local_month, 2) as integer) - 2
            else last_index end
    ) - (cast(left(refs.local_month, 4) as integer) * 12
        + cast(right(refs.local_month, 2) as integer) - 1) + 1 as months
    from refs
    cross join month_of
    left join first_start on first_start.referral_agency = refs.agency
        and first_start.referral_recordref = refs.recordref
    left join first_response on first_response.referral_agency = refs.agency
        and first_response.referral_recordref = refs.recordref
),
units as (
    select agency, wait_days, 1 as started, 0 as waiting from starts
    union all
    select agency, null, 0, months from waiting where months > 0
)
select
    agency,
    sum(started)::bigint as count_started,
    quantile_cont(wait_days, 0.5) as median_wait_days,
    quantile_cont(wait_days, 0.9) as p90_wait_days,
    sum(waiting)::bigint as count_waiting
from units
group by agency
""",
        "bounces": f"""
with {CURRENT}, {referral_need},
stream as (
    select d.person, d.time, d.position, d.referral_agency as from_agency,
        d.agency as to_agency, d.reason, d.local_month, refs.need, false as is_start
    from cur as d
    left join refs on refs.agency = d.referral_agency and refs.recordref = d.referral_recordref
    where d.type = 'referral.declined'
    union all
    select person, time, position, null, null, null, null, null, true
    from cur where type = 'service.started'
),
segmented as (
    -- starts strictly before, and at or before, each decline: a decline's chain is the
    -- declines for the same need since the person's latest start at or before it
    select *,
        count(*) filter (where is_start) over (
            partition by person order by epoch_us(time)
            range between unbounded preceding and 1 preceding
        ) as starts_before,
        count(*) filter (where is_start) over (
            partition by person order by epoch_us(time)
            range between unbounded preceding and current row
        ) as starts_by
    from stream
),
chains as (
    select *,
        case when need is null or starts_before < starts_by then 0
            else row_number() over (
                partition by person, need, starts_before order by time, position
            ) end as count_passes
    from segmented
    where not is_start
),
marked as (
    select *,
        count_passes >= 3 and row_number() over (
            partition by person, local_month, count_passes >= 3 order by time, position
        ) = 1 as is_ping_pong_person
    from chains
)
select
    from_agency,
    to_agency,
    count(*) as count_declined,
    count(*) filter (where reason = 'redirected') as count_redirected,
    count(*) filter (where is_ping_pong_person) as count_people_ping_pong
from marked
group by from_agency, to_agency
""",
        "attainment": f"""
with {CURRENT}, {_services(place)},
rules (outcome, events, needs, sectors, min_value, within_days, reported_by, target_percent)
    as (values {rules}),
refs as (select agency, recordref, need from cur where type = 'referral.made'),
candidates as (
    select person, sector, type, time, position, need
    from cur where type in ('referral.made', 'contact.recorded', 'assessment.completed')
    union all
    select s.person, s.sector, s.type, s.time, s.position, coalesce(refs.need, place_needs.need)
    from cur as s
    left join refs on refs.agency = s.referral_agency and refs.recordref = s.referral_recordref
    left join place_needs on refs.need is null and place_needs.service = s.service
    where s.type = 'service.started'
),
members as (
    select rules.outcome, candidates.person, min(candidates.time) as joined_at
    from rules
    join candidates
        on list_contains(rules.events, candidates.type)
        and (len(rules.needs) = 0 or list_contains(rules.needs, candidates.need))
        and (len(rules.sectors) = 0 or list_contains(rules.sectors, candidates.sector))
    group by rules.outcome, candidates.person
),
attained as (
    select distinct members.outcome, members.person
    from members
    join rules on rules.outcome = members.outcome
    join cur as r on r.type = 'outcome.recorded' and r.person = members.person
        and r.outcome = members.outcome
    where r.value >= rules.min_value
        and list_contains(rules.reported_by, r.reported_by)
        and r.time >= members.joined_at
        and epoch(r.time) - epoch(members.joined_at) <= rules.within_days * 86400
)
select
    members.outcome,
    count(*) as count_cohort,
    count(attained.person) as count_attained,
    max(rules.target_percent) as target_percent
from members
join rules on rules.outcome = members.outcome
left join attained on attained.outcome = members.outcome and attained.person = members.person
group by members.outcome
""",
        "journeys": f"""
with {CURRENT},
met as (
    select person, agency, min((time, position)) as first_met from cur group by person, agency
),
pathways as (
    select person, string_agg(agency, ' > ' order by first_met) as pathway
    from (select *, row_number() over (partition by person order by first_met) as k from met)
    where k <= 3
    group by person
),
people as (
    select
        person,
        (epoch(min(time) filter (where type = 'service.started')) - epoch(min(time)))
        / 86400.0 as first_service_days,
        count(*) filter (where type = 'service.ended') as ended,
        count(*) filter (where type = 'service.ended' and reason = 'disengaged') as disengaged
    from cur
    group by person
)
select
    pathway,
    count(*) as count_people,
    count(first_service_days) as count_served,
    quantile_cont(first_service_days, 0.5) as median_first_service_days,
    sum(ended)::bigint as count_services_ended,
    sum(disengaged)::bigint as count_disengaged
from people
join pathways using (person)
group by pathway
""",
    }


def synthetic_place(workdir: Path) -> Path:
    """The 20,000-person synthetic place, synthesised once and kept under workdir."""
    folder = workdir / f"questions-place-{PEOPLE}"
    marker = folder / "bench.json"
    if not marker.exists():
        print(f"synthesising {PEOPLE:,} people into {folder} ...", flush=True)
        summary = synthesise(folder, people=PEOPLE, seed=1)
        marker.write_text(json.dumps({"people": PEOPLE, "rows": summary.total_rows}))
    return folder


def load_base(con: duckdb.DuckDBPyConnection, folder: Path, place: Place) -> int:
    con.execute("set threads = 2")
    create_facts(con)
    return insert_facts(con, facts_from_truth(folder, place), UnitKeys(secrets.token_bytes(32)))


def replicate(con: duckdb.DuckDBPyConnection, base: int, events: int) -> int:
    """Copies 1..k-1 of the loaded place in one insert, each a separate population."""
    copies = max(1, math.ceil(events / base))
    if copies > 1:
        span = con.execute("select max(position) from facts").fetchone()[0]  # type: ignore[index]
        print(f"replicating {base:,} rows x {copies} copies ...", flush=True)
        suffixed = ("person", "recordref", "referral_recordref", "event_id", "unit")
        columns = con.execute("select * from facts limit 0").description or ()
        select = ", ".join(
            f"{name} || '~' || copy as {name}"
            if name in suffixed
            else f"position + copy * {span} as position"
            if name == "position"
            else name
            for name, *_ in (c for c in columns)
        )
        con.execute(
            f"insert into facts by name select {select}"
            f" from facts, range(1, {copies}) as copies (copy)"
        )
    con.execute("checkpoint")
    return con.execute("select count(*) from facts").fetchone()[0]  # type: ignore[index]


def _key(row: dict[str, object], dims: list[str]) -> tuple[str, ...]:
    return tuple(str(row[d]) for d in dims)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)  # type: ignore[arg-type]
    return a == b


def agreement(
    con: duckdb.DuckDBPyConnection, slug: str, by: tuple[str, ...], place: Place, sql: str
) -> str:
    """'yes', or what differs between raw_answer and the baseline on this database."""
    hub = raw_answer(con, slug, list(by), None, place)
    result = con.execute(sql)
    names = [c[0] for c in result.description or ()]
    mine = [dict(zip(names, values, strict=True)) for values in result.fetchall()]
    dims = [n for n in names if not n.startswith(("count_", "median_", "p90_", "target_"))]
    hub_rows = {_key(r, dims): r for r in hub}
    my_rows = {_key(r, dims): r for r in mine}
    problems = []
    if set(hub_rows) != set(my_rows):
        problems.append(
            f"groups differ: hub only {sorted(set(hub_rows) - set(my_rows))[:3]},"
            f" baseline only {sorted(set(my_rows) - set(hub_rows))[:3]}"
        )
    for key in sorted(set(hub_rows) & set(my_rows)):
        for name in names:
            if not _same(hub_rows[key][name], my_rows[key][name]):
                problems.append(
                    f"{dict(zip(dims, key, strict=True))} {name}:"
                    f" hub {hub_rows[key][name]} baseline {my_rows[key][name]}"
                )
    if not problems:
        return f"yes ({len(hub)} rows)"
    return f"NO: {len(problems)} differences, e.g. " + "; ".join(problems[:3])


def timed(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired(runs: Sequence[Callable[[], object]], repeat: int) -> list[float]:
    """Median seconds of each run, after one warm-up of each, the runs taking turns so that a
    noisy neighbour or a cold cache weighs on all of them alike."""
    for run in runs:
        run()
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for run, spent in zip(runs, times, strict=True):
            start = time.perf_counter()
            run()
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=10_000_000, help="facts rows, at least (default 10,000,000)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the DuckDB file afterwards")
    parser.add_argument(
        "--workdir", type=Path, default=ROOT / "bench-data", help="kept synthetic place"
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    folder = synthetic_place(args.workdir)
    place = load_place(folder / "place.toml")
    queries = baselines(place)

    print("checking each baseline against raw_answer on the un-replicated place ...", flush=True)
    small = duckdb.connect()
    base = load_base(small, folder, place)
    prepare(small, place)
    agrees = {slug: agreement(small, slug, by, place, queries[slug]) for slug, by in CASES}
    small.close()
    for slug, by in CASES:
        print(f"  {slug} by {', '.join(by) or '(no cut)'}: {agrees[slug]}", flush=True)

    scratch = Path(tempfile.mkdtemp(prefix="bench-questions-", dir=args.workdir))
    try:
        path = scratch / "facts.duckdb"
        print(f"building {path} ...", flush=True)
        started = time.perf_counter()
        con = duckdb.connect(str(path))
        load_base(con, folder, place)
        rows = replicate(con, base, args.events)
        print(f"facts: {rows:,} rows ({time.perf_counter() - started:.1f} s)", flush=True)
        started = time.perf_counter()
        prepare(con, place)
        # Paid once per load by the projection updater, not per question; shown, not hidden.
        print(f"prepare (staging, current_events table): {time.perf_counter() - started:.1f} s")

        print(
            f"\n{'question':<14} {'cut':<12} {'perturbed s':>11} {'exact s':>8} {'ratio':>6}"
            f" {'<= 1.2':<6} {'answer s':>9} {'baseline s':>11} {'ratio':>6}  agrees",
            flush=True,
        )
        for slug, by in CASES:
            sql = queries[slug]

            def cells(perturb: bool, s: str = slug, b: tuple[str, ...] = by) -> object:
                return _perturbed_rows(con, s, list(b), None, place, listed=True, perturb=perturb)

            noisy, exact = paired([partial(cells, True), partial(cells, False)], args.repeat)
            hub = timed(lambda s=slug, b=by: answer(con, s, list(b), None, place), args.repeat)
            mine = timed(lambda q=sql: con.execute(q).fetchall(), args.repeat)
            cost, ratio = noisy / exact, hub / mine
            print(
                f"{slug:<14} {', '.join(by) or '-':<12} {noisy:>11.3f} {exact:>8.3f} {cost:>6.2f}"
                f" {'yes' if cost <= PERTURBATION else 'NO':<6} {hub:>9.3f} {mine:>11.3f}"
                f" {ratio:>6.2f}  {agrees[slug]}",
                flush=True,
            )
        con.close()
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"\npeak resident memory: {peak / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
