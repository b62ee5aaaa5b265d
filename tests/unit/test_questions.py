"""The seven questions: SQL answers equal an independent Python computation over the synthetic
truth, every controlled figure obeys the disclosure rules, corrections and objections count."""

import math
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from connectors.synth import synthesise
from projections.disclosure import ControlledTable
from projections.facts import create_facts, insert_facts
from projections.questions import QUESTIONS, QuestionError, answer, prepare, raw_answer
from schemas.place import Place, load_place
from tests.unit.truth_answers import Fact, Truth, facts_from_truth

EVERYTHING = ("0000-01", "9999-12")
PERIOD = ("2024-04", "2025-03")
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
    insert_facts(con, rows)
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
        answer(con, "demand", [], period, truth.place)


def check_controlled(
    table: ControlledTable, raw: list[dict[str, Any]], slug: str, place: Place
) -> None:
    q = QUESTIONS[slug]
    rules_min = place.disclosure.min_group_for_percentiles
    for row in (*table.rows, *table.totals):
        for name, cell in row.cells.items():
            as_json = cell.to_json()
            if cell.suppressed:
                assert as_json == {"value": None, "suppressed": True}
            elif name.startswith("count_"):
                assert cell.value is not None
                assert cell.value % 5 == 0
                assert not 1 <= cell.value <= 7
            elif name.endswith("_pct"):
                assert cell.value is not None
                assert 0 <= cell.value <= 100
    for row, exact in zip(table.rows, raw, strict=True):
        for p in q.percentiles:
            shown = not row.cells[p.name].suppressed
            assert shown == (exact[p.group_size] >= rules_min)
        for r in q.rates:
            num, den = exact[r.numerator], exact[r.denominator]
            if not row.cells[r.name].suppressed:
                assert not any(1 <= x <= 7 for x in (num, den, den - num))


@pytest.mark.parametrize("slug", list(CUTS))
def test_every_controlled_answer_obeys_the_disclosure_rules(
    con: duckdb.DuckDBPyConnection, truth: Truth, slug: str
) -> None:
    for by in CUTS[slug]:
        table = answer(con, slug, by, PERIOD, truth.place)
        check_controlled(table, raw_answer(con, slug, by, PERIOD, truth.place), slug, truth.place)
        assert any(not c.suppressed for r in table.rows for c in r.cells.values())


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
