"""The seven questions: SQL answers equal an independent Python computation over the synthetic
truth, every controlled figure obeys the disclosure rules, corrections and objections count."""

import math
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from connectors.synth import synthesise
from projections.answering import answer, prepare
from projections.disclosure import ControlledTable, rate
from projections.facts import create_facts, insert_facts
from projections.periods import grid_period
from projections.questions import QUESTIONS, QuestionError, raw_answer
from schemas.place import Place, load_place
from tests.unit.truth_answers import Fact, Truth, facts_from_truth
from tests.unit_keys import TEST_UNIT_KEYS

EVERYTHING = ("0000-01", "9999-12")
PERIOD = ("2024-04", "2025-03")
GRID = grid_period("FY2024-25")  # the same months, as commissioners ask them
# Per question: the finest cuts, and coarser ones.
CUTS: dict[str, list[list[str]]] = {
    "demand": [["locality", "agency", "sector", "need"], ["need"], []],
    "repeat_demand": [["locality", "need", "month"], ["month"], []],
    "many_agencies": [["locality", "month"], ["month"], []],
    "waits": [["agency", "service", "month"], ["agency"], []],
    "bounces": [["agency_pair", "month"], ["month"], []],
    "attainment": [["outcome", "partner", "period"], ["period"], ["partner"], []],
    "journeys": [["locality", "need", "year"], ["year"], []],
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Place, list[Fact]]:
    out = tmp_path_factory.mktemp("place")
    synthesise(out, people=2000, seed=3)
    place = load_place(out / "place.toml")
    return place, facts_from_truth(out, place)


def connect(rows: list[Fact], place: Place) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    create_facts(con)
    insert_facts(con, rows, TEST_UNIT_KEYS)
    prepare(con, place)
    return con


@pytest.fixture(scope="module")
def con(synthetic: tuple[Place, list[Fact]]) -> Iterator[duckdb.DuckDBPyConnection]:
    place, rows = synthetic
    connection = connect(rows, place)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def truth(synthetic: tuple[Place, list[Fact]]) -> Truth:
    place, rows = synthetic
    return Truth(rows, place)


def keyed(rows: list[dict[str, Any]], cols: tuple[str, ...]) -> dict[Any, dict[str, Any]]:
    return {tuple(r[c] for c in cols): {k: v for k, v in r.items() if k not in cols} for r in rows}


def same(sql: dict[Any, dict[str, Any]], python: dict[Any, dict[str, Any]]) -> None:
    assert sql.keys() == python.keys()
    for key, measures in python.items():
        for name, expected in measures.items():
            got = sql[key][name]
            if isinstance(expected, float) or isinstance(got, float):
                assert got is not None, (key, name)
                assert expected is not None, (key, name)
                assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-6), (key, name)
            else:
                assert got == expected, (key, name)


def sql_and_python(
    con: duckdb.DuckDBPyConnection, truth: Truth, slug: str, by: list[str], period: Any
) -> tuple[dict[Any, Any], dict[Any, Any]]:
    cols = QUESTIONS[slug].columns(by)
    rows = raw_answer(con, slug, by, period, truth.place)
    python = getattr(truth, slug)(cols, period or EVERYTHING)
    return keyed(rows, cols), python


@pytest.mark.parametrize("slug", list(CUTS))
def test_each_question_matches_an_independent_computation_at_fine_and_coarse_cuts(
    con: duckdb.DuckDBPyConnection, truth: Truth, slug: str
) -> None:
    for by in CUTS[slug]:
        for period in (None, PERIOD):
            sql, python = sql_and_python(con, truth, slug, by, period)
            assert python, f"{slug} by {by} has no rows to compare"
            same(sql, python)


def test_the_synthetic_place_exercises_every_measure(
    con: duckdb.DuckDBPyConnection, truth: Truth
) -> None:
    for slug, q in QUESTIONS.items():
        rows = raw_answer(con, slug, [], None, truth.place)
        for name in q.counts:
            assert sum(r[name] for r in rows) > 0, f"{slug}.{name} is 0 over the whole place"


def test_a_cut_the_question_does_not_allow_is_refused_naming_it_and_the_allowed_ones(
    con: duckdb.DuckDBPyConnection, truth: Truth
) -> None:
    with pytest.raises(QuestionError, match=r"'waits' cannot be cut by 'locality'.*agency"):
        answer(con, "waits", ["locality"], None, truth.place)
    with pytest.raises(QuestionError, match="1 or 1=1"):
        raw_answer(con, "demand", ["need", "1 or 1=1"], None, truth.place)
    with pytest.raises(QuestionError, match="not a question"):
        answer(con, "everything", [], None, truth.place)


@pytest.mark.parametrize("period", [("2024-1", "2024-12"), ("2024-01-05", "2024-12"),
                                    ("2024-13", "2025-01"), ("2025-01", "2024-12")])  # fmt: skip
def test_a_period_that_is_not_whole_months_in_order_is_refused(
    con: duckdb.DuckDBPyConnection, truth: Truth, period: tuple[str, str]
) -> None:
    with pytest.raises(QuestionError, match="period"):
        raw_answer(con, "demand", [], period, truth.place)


def exact_cells(
    raw: list[dict[str, Any]], table: ControlledTable, counts: tuple[str, ...]
) -> dict[tuple[Any, ...], dict[str, int]]:
    """The exact count of every row and total of a table, summed from the exact detail rows
    (a total's dims leave out the dims it sums over)."""
    shapes = {tuple(row.dims) for row in (*table.rows, *table.totals)}
    cells: dict[tuple[Any, ...], dict[str, int]] = {}
    for shape in shapes:
        for r in raw:
            key = tuple(sorted((d, r[d]) for d in shape))
            sums = cells.setdefault(key, dict.fromkeys(counts, 0))
            for c in counts:
                sums[c] += int(r[c])
    return cells


def check_controlled(
    table: ControlledTable, raw: list[dict[str, Any]], slug: str, place: Place
) -> None:
    """Every shown count: a multiple of the base, never 1..threshold, within max_noise (plus
    rounding) of the exact one; rates from shown counts; percentiles for groups of 8 or more."""
    q = QUESTIONS[slug]
    rules = place.disclosure
    bound = rules.max_noise + rules.rounding_base // 2
    exact = exact_cells(raw, table, q.counts)
    detail = {tuple(sorted((c, r[c]) for c in table.dims)): r for r in raw}
    for row in (*table.rows, *table.totals):
        figures = exact.get(tuple(sorted(row.dims.items())), dict.fromkeys(q.counts, 0))
        for name, cell in row.cells.items():
            if cell.suppressed:
                assert cell.to_json() == {"value": None, "suppressed": True}
            if name in q.counts:
                assert cell.value is not None
                assert cell.value % rules.rounding_base == 0
                assert not 1 <= cell.value <= rules.threshold
                assert abs(cell.value - figures[name]) <= bound, (row.dims, name)
        for r in q.rates:
            num, den = row.cells[r.numerator].value, row.cells[r.denominator].value
            assert row.cells[r.name] == rate(num, den)
        for p in q.percentiles:
            size = detail.get(tuple(sorted(row.dims.items())), {}).get(p.group_size, 0)
            assert (not row.cells[p.name].suppressed) == (size >= rules.min_group_for_percentiles)


@pytest.mark.parametrize("slug", list(CUTS))
def test_every_controlled_answer_obeys_the_disclosure_rules(
    con: duckdb.DuckDBPyConnection, truth: Truth, slug: str
) -> None:
    for by in CUTS[slug]:
        table = answer(con, slug, by, GRID, truth.place)
        check_controlled(table, raw_answer(con, slug, by, PERIOD, truth.place), slug, truth.place)
        assert any(c.value for r in table.rows for c in r.cells.values())


def test_a_correction_moves_demand_from_the_old_need_to_the_new_one(
    synthetic: tuple[Place, list[Fact]], con: duckdb.DuckDBPyConnection
) -> None:
    place, rows = synthetic
    corrected = {(r["agency"], r["recordref"]) for r in rows if r["recordversion"] > 1}
    objectors = {r["person"] for r in rows if r["type"] == "objection.recorded"}
    first = next(
        r for r in rows
        if r["type"] == "referral.made" and (r["agency"], r["recordref"]) not in corrected
        and r["person"] not in objectors
    )  # fmt: skip
    new_need = next(n.code for n in place.needs if n.code != first["need"])
    v2 = {**first, "recordversion": 2, "need": new_need,
          "position": max(r["position"] for r in rows) + 1, "event_id": "correction-1"}  # fmt: skip
    after = connect([*rows, v2], place)
    by = ["need"]
    before_rows = keyed(raw_answer(con, "demand", by, None, place), ("month", "need"))
    after_rows = keyed(raw_answer(after, "demand", by, None, place), ("month", "need"))
    after.close()
    month = first["local_month"]
    for key, measures in after_rows.items():
        old = before_rows.get(key, {"count_referrals": 0, "count_contacts": 0})
        moved = {(month, first["need"]): -1, (month, new_need): 1}.get(key, 0)
        assert measures["count_referrals"] == old["count_referrals"] + moved, key
        assert measures["count_contacts"] == old["count_contacts"], key
    assert set(before_rows) - set(after_rows) <= {(month, first["need"])}


def test_an_objection_removes_that_persons_events_from_every_answer(
    synthetic: tuple[Place, list[Fact]], con: duckdb.DuckDBPyConnection
) -> None:
    place, rows = synthetic
    objectors = {r["person"] for r in rows if r["type"] == "objection.recorded"}
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["person"]] = counts.get(r["person"], 0) + 1
    person = max((p for p in counts if p not in objectors), key=lambda p: counts[p])
    last = max(rows, key=lambda r: r["time"])
    objection = {
        "position": max(r["position"] for r in rows) + 1, "event_id": "objection-1",
        "agency": "nhs-gp", "sector": "nhs", "type": "objection.recorded", "time": last["time"],
        "local_month": last["local_month"], "person": person, "locality": last["locality"],
        "recordref": "OBJECTION-1", "recordversion": 1, "scope": "local",
    }  # fmt: skip
    after = connect([*rows, objection], place)
    without = Truth([r for r in rows if r["person"] != person], place)
    answers = {
        slug: keyed(raw_answer(after, slug, cuts[0], None, place), QUESTIONS[slug].columns(cuts[0]))
        for slug, cuts in CUTS.items()
    }
    demand_after = raw_answer(after, "demand", [], None, place)
    after.close()
    for slug, cuts in CUTS.items():
        same(answers[slug], getattr(without, slug)(QUESTIONS[slug].columns(cuts[0]), EVERYTHING))
    assert demand_after != raw_answer(con, "demand", [], None, place), (
        "the objector had demand events, so demand must fall"
    )


@pytest.mark.slow  # a report over every cell: ~30 s
def test_the_noise_per_cell_on_the_default_place_is_reported(
    con: duckdb.DuckDBPyConnection, truth: Truth, capsys: pytest.CaptureFixture[str]
) -> None:
    """Utility: how far each shown count is from the exact one, over every cell of every
    question at each of its cuts (the whole record, totals included), on the default rules."""
    rules = truth.place.disclosure
    report = []
    for slug, cut_lists in CUTS.items():
        errors: list[int] = []
        counted: list[int] = []  # cells whose exact count is not 0
        for by in cut_lists:
            table = answer(con, slug, by, None, truth.place)
            exact = exact_cells(
                raw_answer(con, slug, by, None, truth.place), table, QUESTIONS[slug].counts
            )
            for row in (*table.rows, *table.totals):
                figures = exact.get(tuple(sorted(row.dims.items())), {})
                for name in QUESTIONS[slug].counts:
                    value = row.cells[name].value
                    assert value is not None
                    errors.append(abs(value - figures.get(name, 0)))
                    if figures.get(name, 0):
                        counted.append(errors[-1])
        mean = sum(errors) / len(errors)
        report.append(
            f"{slug:<14} cells {len(errors):>7,}  mean |noise| {mean:5.2f}  largest {max(errors)}"
        )
        assert max(errors) <= rules.max_noise + rules.rounding_base // 2
        assert mean < rules.max_noise
    with capsys.disabled():
        print("\nnoise per cell (shown - exact, after rounding to", rules.rounding_base, "):")
        print("\n".join(report))
