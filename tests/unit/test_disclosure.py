"""Disclosure control: no small number, no exact count, nothing suppressed recoverable."""

import json
import re
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from itertools import combinations, product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.disclosure import (
    SUPPRESSED,
    Cell,
    ControlledTable,
    DisclosureError,
    Rate,
    Row,
    control_table,
    count,
    percentile,
    rate,
)
from schemas.place import Disclosure, Place

RULES = Disclosure()
ACCEPTED_PCT = Rate("accepted_pct", "accepted", "referrals")
MEASURES = ["referrals", "accepted"]

# --- counts ---------------------------------------------------------------------------------


def test_zero_is_shown_as_zero() -> None:
    assert count(0, RULES) == Cell(0, suppressed=False)


@pytest.mark.parametrize("n", range(1, 8))
def test_a_count_from_one_to_seven_is_suppressed(n: int) -> None:
    assert count(n, RULES) == SUPPRESSED


@pytest.mark.parametrize(
    ("n", "shown"), [(8, 10), (10, 10), (12, 10), (13, 15), (17, 15), (18, 20), (161, 160)]
)
def test_other_counts_are_rounded_to_the_nearest_five(n: int, shown: int) -> None:
    assert count(n, RULES) == Cell(shown, suppressed=False)


def test_halves_round_up_when_the_base_is_even() -> None:
    tens = Disclosure(rounding_base=10)
    assert [count(n, tens).value for n in (14, 15, 25)] == [10, 20, 30]


def test_a_non_zero_count_that_would_round_to_zero_is_suppressed_not_shown_as_zero() -> None:
    coarse = Disclosure(threshold=3, rounding_base=10)
    assert count(4, coarse) == SUPPRESSED
    assert count(5, coarse) == Cell(10, suppressed=False)


def test_the_place_settings_are_the_rules(place: Place) -> None:
    assert count(7, place.disclosure) == SUPPRESSED
    assert count(8, place.disclosure).value == 10


@pytest.mark.parametrize("bad", [-1, True, 2.0, "9"])
def test_a_count_that_is_not_a_whole_number_of_at_least_zero_is_refused(bad: object) -> None:
    with pytest.raises(DisclosureError, match="whole number"):
        count(bad, RULES)  # type: ignore[arg-type]


# --- cells and JSON -------------------------------------------------------------------------


def test_a_suppressed_cell_serialises_exactly_as_null_and_true() -> None:
    assert json.dumps(count(3, RULES).to_json()) == '{"value": null, "suppressed": true}'
    assert json.dumps(count(13, RULES).to_json()) == '{"value": 15, "suppressed": false}'


def test_a_cell_cannot_be_suppressed_and_hold_a_value() -> None:
    with pytest.raises(DisclosureError):
        Cell(3, suppressed=True)
    with pytest.raises(DisclosureError):
        Cell(None, suppressed=False)
    assert not hasattr(SUPPRESSED, "__dict__")  # slots: nowhere to hide a value


# --- rates and percentiles ------------------------------------------------------------------


def test_a_rate_is_a_whole_percent_of_the_unrounded_counts_halves_up() -> None:
    assert rate(18, 40, RULES) == Cell(45, suppressed=False)
    assert rate(9, 72, RULES) == Cell(13, suppressed=False)  # 12.5%
    assert rate(0, 40, RULES).value == 0
    assert rate(40, 40, RULES).value == 100


@pytest.mark.parametrize(
    ("numerator", "denominator", "why"),
    [(5, 40, "numerator"), (0, 7, "denominator"), (35, 40, "complement"), (1, 8, "numerator")],
)
def test_a_rate_is_suppressed_when_numerator_denominator_or_complement_is_small(
    numerator: int, denominator: int, why: str
) -> None:
    assert rate(numerator, denominator, RULES) == SUPPRESSED, why


def test_a_zero_denominator_gives_no_rate_shown_as_suppressed() -> None:
    assert rate(0, 0, RULES) == SUPPRESSED


def test_a_rate_with_its_numerator_above_its_denominator_is_refused() -> None:
    with pytest.raises(DisclosureError, match="numerator"):
        rate(41, 40, RULES)


def test_percentiles_need_a_group_of_eight_and_are_whole_days() -> None:
    assert percentile(12.5, 7, RULES) == SUPPRESSED
    assert percentile(None, 0, RULES) == SUPPRESSED
    assert percentile(12.5, 8, RULES) == Cell(13, suppressed=False)
    assert percentile(12.49, 8, RULES) == Cell(12, suppressed=False)
    with pytest.raises(DisclosureError):
        percentile(None, 8, RULES)


# --- tables worked by hand ------------------------------------------------------------------


def _grid(counts: dict[tuple[str, str], int]) -> list[dict[str, object]]:
    return [{"month": m, "locality": loc, "referrals": n} for (m, loc), n in counts.items()]


def _shown(cell: Cell) -> int | str:
    return "*" if cell.suppressed else cell.value  # type: ignore[return-value]


def test_months_by_localities_with_totals_both_ways_worked_by_hand() -> None:
    # Primary: 3 (Jan brookside) and 6 (Mar carlton). Each sits alone in its row and column, so
    # the second suppression goes where it completes two lines at once: 22 (Jan carlton) fixes
    # row Jan and column carlton; 14 (Mar brookside) fixes row Mar and column brookside.
    #            ashfield brookside carlton | total
    #   2024-01     40        3        22   |   65
    #   2024-02     12        9        30   |   51
    #   2024-03     25       14         6   |   45
    #   total       77       26        58   |  161
    raw = [[40, 3, 22], [12, 9, 30], [25, 14, 6]]
    months, places = ["2024-01", "2024-02", "2024-03"], ["ashfield", "brookside", "carlton"]
    rows = _grid({(m, p): raw[i][j] for i, m in enumerate(months) for j, p in enumerate(places)})
    table = control_table(
        rows, ["month", "locality"], ["referrals"], RULES, totals_over=["locality", "month"]
    )

    def show(**dims: str) -> int | str:
        return _shown(table.row(**dims).cells["referrals"])

    grid = [[show(month=m, locality=p) for p in places] + [show(month=m)] for m in months]
    grid.append([show(locality=p) for p in places] + [show()])
    assert grid == [
        [40, "*", "*", 65],
        [10, 10, 30, 50],
        [25, "*", "*", 45],
        [75, 25, 60, 160],
    ]
    assert [list(r.dims) for r in table.totals[:3]] == [["month"]] * 3  # over locality first


def test_a_rate_is_suppressed_when_its_count_is_secondarily_suppressed() -> None:
    rows = [
        {"locality": "ashfield", "referrals": 40, "accepted": 3},
        {"locality": "brookside", "referrals": 30, "accepted": 20},
        {"locality": "carlton", "referrals": 20, "accepted": 12},
    ]
    table = control_table(
        rows, ["locality"], MEASURES, RULES, totals_over=["locality"], rates=[ACCEPTED_PCT]
    )
    assert rate(12, 20, RULES).value == 60  # shown alone, but its numerator is hidden here
    carlton = table.row(locality="carlton").cells
    assert carlton["accepted"] == SUPPRESSED
    assert carlton["accepted_pct"] == SUPPRESSED
    assert table.row(locality="brookside").cells["accepted_pct"].value == 67
    assert table.row().cells["accepted_pct"].value == 39  # 35 of 90, from unrounded totals


def test_when_only_zeros_remain_a_zero_is_suppressed_rather_than_the_total() -> None:
    # Jan: 3 and 30; Feb: 10 and 0. Hiding 3 hides 30 (row Jan) and 10 (column a); then row Feb
    # and column b each hold one hidden cell and a zero: the zero goes, every total stays.
    rows = _grid({("jan", "a"): 3, ("jan", "b"): 30, ("feb", "a"): 10, ("feb", "b"): 0})
    dims = ["month", "locality"]
    table = control_table(rows, dims, ["referrals"], RULES, totals_over=dims)
    assert table.row(month="feb", locality="b").cells["referrals"] == SUPPRESSED
    assert all(not row.cells["referrals"].suppressed for row in table.totals)


def test_a_suppressed_cell_alone_in_its_line_takes_the_total_with_it() -> None:
    rows = _grid({("jan", "a"): 3, ("jan", "c"): 30, ("feb", "a"): 20, ("feb", "b"): 25})
    dims = ["month", "locality"]
    table = control_table(rows, dims, ["referrals"], RULES, totals_over=dims)
    assert table.row(month="jan", locality="c").cells["referrals"] == SUPPRESSED
    assert table.row(locality="c").cells["referrals"] == SUPPRESSED


def test_a_suppressed_value_is_nowhere_in_the_result() -> None:
    rows = [{"locality": n, "referrals": v} for n, v in [("a", 3), ("b", 1000), ("c", 2000)]]
    table = control_table(rows, ["locality"], ["referrals"], RULES, totals_over=["locality"])
    assert [_shown(r.cells["referrals"]) for r in (*table.rows, *table.totals)] == [
        "*",
        "*",
        2000,
        3005,
    ]
    assert not {3, 1000} & set(_numbers_in(table))
    for text in (repr(table), json.dumps(table.to_json())):
        assert not re.search(r"\b(3|1000)\b", text)


@pytest.mark.parametrize(
    ("rows", "kwargs", "message"),
    [
        ([{"locality": "a"}], {}, "row 0: has no referrals"),
        ([{"locality": "a", "referrals": 9}] * 2, {}, "second row for {'locality': 'a'}"),
        ([{"locality": "a", "referrals": -9}], {}, "row 0, referrals"),
        ([], {"totals_over": ["month"]}, "'month' is not one of the dims"),
        ([], {"rates": [Rate("pct", "x", "referrals")]}, "'x' is not one of the measures"),
        ([], {"rates": [Rate("locality", "referrals", "referrals")]}, "distinct names"),
    ],
)
def test_a_table_that_cannot_be_controlled_is_refused_saying_where(
    rows: list[dict[str, object]], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(DisclosureError) as caught:
        control_table(rows, ["locality"], ["referrals"], RULES, **kwargs)  # type: ignore[arg-type]
    assert message in str(caught.value)
    assert "9" not in str(caught.value)  # counts never appear in messages


def test_a_rate_above_its_denominator_in_a_table_is_refused_naming_the_row() -> None:
    rows = [{"locality": "a", "referrals": 10, "accepted": 11}]
    with pytest.raises(DisclosureError, match=r"row \{'locality': 'a'\}: rate 'accepted_pct'"):
        control_table(rows, ["locality"], MEASURES, RULES, rates=[ACCEPTED_PCT])


# --- properties -----------------------------------------------------------------------------

rule_sets = st.one_of(
    st.just(RULES),
    st.builds(Disclosure, threshold=st.integers(1, 10), rounding_base=st.integers(1, 10)),
)
counts = st.one_of(st.just(0), st.integers(1, 9), st.integers(10, 80))
Table = tuple[list[dict[str, object]], list[str], list[str]]


@st.composite
def tables(draw: st.DrawFn) -> Table:
    """Sparse long-format tables of 1 to 3 dims, referrals and accepted, random margins."""
    dims = draw(st.sampled_from([["month"], ["month", "locality"], ["month", "locality", "ag"]]))
    levels = [[f"{d}-{i}" for i in range(draw(st.integers(1, 3)))] for d in dims]
    rows: list[dict[str, object]] = []
    for combo in product(*levels):
        if draw(st.integers(0, 4)) == 0:
            continue  # a combination with no row, as a GROUP BY leaves out
        referrals = draw(counts)
        accepted = draw(st.integers(0, referrals))
        rows.append(
            {**dict(zip(dims, combo, strict=True)), "referrals": referrals, "accepted": accepted}
        )
    return rows, dims, draw(st.lists(st.sampled_from(dims), unique=True))


def _control(table: Table, rules: Disclosure) -> ControlledTable:
    rows, dims, over = table
    return control_table(rows, dims, MEASURES, rules, totals_over=over, rates=[ACCEPTED_PCT])


def _true(rows: list[dict[str, object]], row: Row, measure: str) -> int:
    matching = [r for r in rows if all(r[d] == v for d, v in row.dims.items())]
    return sum(int(r[measure]) for r in matching)  # type: ignore[call-overload]


def _lines(table: ControlledTable) -> Iterator[list[Row]]:
    """Each total with the rows it sums along one dim (the total last)."""
    every = [*table.rows, *table.totals]
    for total in table.totals:
        for d in (d for d in table.dims if d not in total.dims):
            keys = {*total.dims, d}
            members = [
                r
                for r in every
                if set(r.dims) == keys and all(r.dims[k] == v for k, v in total.dims.items())
            ]
            yield [*members, total]


def _subsets(names: list[str]) -> list[tuple[str, ...]]:
    """Every non-empty subset: a table has a total for each set of dims it sums over."""
    return [c for size in range(1, len(names) + 1) for c in combinations(names, size)]


def _numbers_in(value: object) -> Iterator[object]:
    if is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _numbers_in(getattr(value, f.name))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers_in(k)
            yield from _numbers_in(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _numbers_in(v)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield value


@given(tables(), rule_sets)
def test_no_count_or_total_shows_a_small_number_and_all_are_rounded(
    table: Table, rules: Disclosure
) -> None:
    result = _control(table, rules)
    for row in (*result.rows, *result.totals):
        for measure in MEASURES:
            value = row.cells[measure].value
            assert value is None or value == 0 or value > rules.threshold
            assert value is None or value % rules.rounding_base == 0


@given(tables(), rule_sets)
def test_shown_counts_and_totals_are_the_rounding_of_the_unrounded_sums(
    table: Table, rules: Disclosure
) -> None:
    rows, dims, over = table
    result = _control(table, rules)
    assert len(result.rows) == len(rows)
    for row in (*result.rows, *result.totals):
        for measure in MEASURES:
            cell = row.cells[measure]
            assert cell.suppressed or cell == count(_true(rows, row, measure), rules)
    shapes = {frozenset(row.dims) for row in result.totals}
    assert shapes == (
        {frozenset(set(dims) - set(summed)) for summed in _subsets(over)} if rows else set()
    )


@given(tables(), rule_sets)
def test_no_line_with_a_total_holds_exactly_one_suppressed_cell(
    table: Table, rules: Disclosure
) -> None:
    for line in _lines(_control(table, rules)):
        for measure in MEASURES:
            *members, total = (row.cells[measure].suppressed for row in line)
            if not total:
                assert sum(members) != 1  # the brief's rule: 0 or at least 2 under a shown total
            assert sum(members) + total != 1  # a suppressed total is protected the same way


@given(tables(), rule_sets)
def test_no_rate_is_shown_from_small_counts_or_beside_a_suppressed_count(
    table: Table, rules: Disclosure
) -> None:
    rows = table[0]
    for row in (*(result := _control(table, rules)).rows, *result.totals):
        if row.cells["accepted_pct"].suppressed:
            continue
        assert not row.cells["accepted"].suppressed
        assert not row.cells["referrals"].suppressed
        num, den = _true(rows, row, "accepted"), _true(rows, row, "referrals")
        assert all(n == 0 or n > rules.threshold for n in (num, den, den - num))
        assert row.cells["accepted_pct"] == rate(num, den, rules)


@given(tables(), rule_sets)
def test_every_suppressed_cell_serialises_to_exactly_null_and_true(
    table: Table, rules: Disclosure
) -> None:
    result = _control(table, rules)
    document = json.loads(json.dumps(result.to_json()))
    cells = [v for row in document["rows"] + document["totals"] for v in row.values()]
    cells = [c for c in cells if isinstance(c, dict)]
    assert len(cells) == 3 * (len(result.rows) + len(result.totals))
    for cell in cells:
        if cell["suppressed"]:
            assert cell == {"value": None, "suppressed": True}
        else:
            assert set(cell) == {"value", "suppressed"}
            assert isinstance(cell["value"], int)
    assert _control(table, rules) == result  # the same input always gives the same answer
