"""Disclosure control: no small number shows, no count moves further than published, the same
cell shows the same figure in every table, and a table's rows say nothing about its counts.

The gate's SQL (`projections.perturbed`) runs here over a small `units` table (month, locality,
need, record key) with the place's ptable, and is checked against a plain Python computation
of the cell key method: a cell's key is the sum of its units' keys mod 256, its figure the
ptable's noise for (value, key) added to the count, then rounded to the base.
"""

from collections.abc import Iterator, Sequence
from itertools import combinations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.answering import load_ptable
from projections.disclosure import SUPPRESSED, Cell, DisclosureError, percentile, rate
from projections.disclosure_rules import round_to_base
from projections.perturbed import Domain, flag_of, perturbed_sql, shown_of
from projections.ptable import ptable_for
from schemas.place import Disclosure, Place

RULES = Disclosure()
COLUMNS = ("month", "locality", "need")
MONTHS = ("2025-01", "2025-02", "2025-03")
LOCALITIES = ("ashfield", "brookside", "carlton")
NEEDS = ("housing", "debt")
QUESTION = (
    "select {{ dims }} count(*) as count_n, sum(k) as key_n from units"
    " where month between $period_from and $period_to group by all"
)
DOMAINS = {
    "month": Domain(("month",), "select month from domain_months"),
    "locality": Domain(("locality",), "select locality from domain_localities"),
    "need": Domain(("need",), "select need from domain_needs"),
}
Unit = tuple[str, str, str, int]  # month, locality, need, record key


def connect(units: Sequence[Unit], rules: Disclosure = RULES) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create table units (month varchar, locality varchar, need varchar, k integer)")
    if units:
        con.executemany("insert into units values (?, ?, ?, ?)", list(units))
    for name, values in (("months", MONTHS), ("localities", LOCALITIES), ("needs", NEEDS)):
        column = {"months": "month", "localities": "locality", "needs": "need"}[name]
        con.execute(f"create table domain_{name} ({column} varchar)")
        con.executemany(f"insert into domain_{name} values (?)", [(v,) for v in values])
    load_ptable(con, ptable_for(rules))
    return con


def shown(
    con: duckdb.DuckDBPyConnection, by: Sequence[str], rules: Disclosure = RULES
) -> dict[tuple[tuple[str, str], ...], int]:
    """Every cell of the table cut by `by` (with totals over each subset): dims -> figure."""
    columns = [c for c in COLUMNS if c in by]
    sql = QUESTION.replace("{{ dims }}", "".join(f"{c}, " for c in columns))
    domains = list({DOMAINS[c].select: DOMAINS[c] for c in columns}.values())
    statement = perturbed_sql(
        sql, columns, columns, ["count_n"], [], [], domains, rules.rounding_base
    )
    params = {"period_from": "0000-01", "period_to": "9999-12"}
    result = con.execute(statement, params | {"ptable_top": ptable_for(rules).top})
    names = [d[0] for d in result.description or ()]
    cells = {}
    for values in result.fetchall():
        row = dict(zip(names, values, strict=True))
        dims = tuple((c, row[c]) for c in columns if not row[flag_of(c)])
        assert dims not in cells, "each cell once"
        cells[dims] = int(row[shown_of("count_n")])
    return cells


def expected(
    units: Sequence[Unit], dims: tuple[tuple[str, str], ...], rules: Disclosure = RULES
) -> tuple[int, int]:
    """The exact count of a cell and the figure the cell key method gives it, in Python."""
    position = {c: i for i, c in enumerate(COLUMNS)}
    members = [u for u in units if all(u[position[c]] == v for c, v in dims)]
    n, key = len(members), sum(u[3] for u in members) % 256
    table = ptable_for(rules)
    noise = {(v, k): d for v, k, d in table.rows}[(min(n, table.top), key)]
    return n, round_to_base(n + noise, rules.rounding_base)


def units_of(counts: dict[tuple[str, str, str], int], seed: int = 0) -> list[Unit]:
    """Units for these cell counts, each with its own record key."""
    units: list[Unit] = []
    for (month, locality, need), n in counts.items():
        for i in range(n):
            units.append((month, locality, need, (seed * 7919 + len(units) * 104729 + i) % 256))
    return units


@pytest.fixture
def con_and_units() -> Iterator[tuple[duckdb.DuckDBPyConnection, list[Unit]]]:
    counts = {
        (m, loc, need): (i * 7 + j * 3 + k * 11) % 23
        for i, m in enumerate(MONTHS)
        for j, loc in enumerate(LOCALITIES)
        for k, need in enumerate(NEEDS)
    }
    units = units_of(counts)
    con = connect(units)
    yield con, units
    con.close()


# --- one figure -----------------------------------------------------------------------------


def test_halves_round_up_to_the_base() -> None:
    assert [round_to_base(n, 5) for n in (12, 13, 0, 8)] == [10, 15, 0, 10]
    assert round_to_base(5, 10) == 10


def test_the_place_settings_are_the_rules(place: Place) -> None:
    rules = place.disclosure
    assert (rules.threshold, rules.rounding_base, rules.min_group_for_percentiles) == (7, 5, 8)
    assert rules.max_noise >= rules.threshold


def test_a_suppressed_cell_serialises_exactly_as_null_and_true() -> None:
    assert SUPPRESSED.to_json() == {"value": None, "suppressed": True}


def test_a_cell_cannot_be_suppressed_and_hold_a_value() -> None:
    with pytest.raises(DisclosureError):
        Cell(3, suppressed=True)
    with pytest.raises(DisclosureError):
        Cell(None, suppressed=False)


def test_a_rate_is_a_whole_percent_of_the_shown_counts_halves_up() -> None:
    assert rate(18, 40) == Cell(45, False)
    assert rate(1, 8) == Cell(13, False)  # 12.5 -> 13
    assert rate(0, 10) == Cell(0, False)


def test_a_zero_or_unshown_denominator_gives_no_rate_shown_as_suppressed() -> None:
    assert rate(0, 0) == SUPPRESSED
    assert rate(None, 10) == SUPPRESSED


def test_a_numerator_shown_above_its_denominator_gives_a_hundred_percent() -> None:
    # Each count carries its own noise: the shown numerator may pass the shown denominator.
    assert rate(45, 40) == Cell(100, False)


@pytest.mark.parametrize("bad", [-1, True, 2.0, "9"])
def test_a_count_that_is_not_a_whole_number_of_at_least_zero_is_refused(bad: object) -> None:
    with pytest.raises(DisclosureError, match="whole number"):
        rate(bad, 10)  # type: ignore[arg-type]
    with pytest.raises(DisclosureError, match="whole number"):
        percentile(3.0, bad, RULES)  # type: ignore[arg-type]


def test_percentiles_need_a_group_of_eight_and_are_whole_days() -> None:
    assert percentile(12.5, 7, RULES) == SUPPRESSED
    assert percentile(None, 0, RULES) == SUPPRESSED
    assert percentile(12.5, 8, RULES) == Cell(13, suppressed=False)
    assert percentile(12.49, 8, RULES) == Cell(12, suppressed=False)
    with pytest.raises(DisclosureError):
        percentile(None, 8, RULES)


def test_a_question_with_percentiles_and_totals_is_refused() -> None:
    with pytest.raises(DisclosureError, match="medians do not add up"):
        perturbed_sql("q", ["month"], ["month"], ["count_n"], ["median"], [], [], 5)


# --- a table --------------------------------------------------------------------------------


def test_every_cell_and_total_is_the_cell_key_method_worked_in_python(
    con_and_units: tuple[duckdb.DuckDBPyConnection, list[Unit]],
) -> None:
    con, units = con_and_units
    cells = shown(con, ["month", "locality"])
    # Every combination (3 months x 3 localities), the totals over locality (3), over month
    # (3) and over both (1): listed whatever they count.
    assert len(cells) == 9 + 3 + 3 + 1
    for dims, figure in cells.items():
        assert figure == expected(units, dims)[1], dims


@pytest.mark.slow  # a few seconds: every count 1..threshold through every table
def test_a_count_from_one_to_the_threshold_never_shows_as_such() -> None:
    for n in range(1, RULES.threshold + 1):
        for seed in range(12):
            units = units_of({("2025-01", "ashfield", "housing"): n}, seed)
            with connect(units) as con:
                figure = shown(con, [])[()]
            assert not 1 <= figure <= RULES.threshold, (n, seed)
            assert abs(figure - n) <= RULES.max_noise + RULES.rounding_base // 2


def test_small_counts_and_zeros_can_look_alike_and_small_ones_vary_with_their_keys() -> None:
    figures = set()
    for seed in range(48):
        units = units_of({("2025-01", "ashfield", "housing"): 3}, seed)
        with connect(units) as con:
            figures.add(shown(con, [])[()])
    assert 0 in figures
    assert len(figures) > 1
    with connect([]) as con:
        assert set(shown(con, ["month"]).values()) == {0}  # a true zero always shows 0


def test_the_same_cell_shows_the_same_figure_in_every_table(
    con_and_units: tuple[duckdb.DuckDBPyConnection, list[Unit]],
) -> None:
    con, _ = con_and_units
    tables = {tuple(by): shown(con, by) for n in range(4) for by in combinations(COLUMNS, n)}
    figures: dict[tuple[tuple[str, str], ...], int] = {}
    for cells in tables.values():
        for dims, figure in cells.items():
            assert figures.setdefault(dims, figure) == figure, dims
    again = shown(con, ["need", "month"])
    assert again == tables[("month", "need")]


def test_a_tables_rows_are_the_same_whatever_it_counts() -> None:
    few = units_of({("2025-02", "carlton", "debt"): 2})
    many = units_of({(m, loc, "housing"): 30 for m in MONTHS for loc in LOCALITIES})
    with connect(few) as a, connect(many) as b, connect([]) as c:
        for by in (["month"], ["locality", "need"], list(COLUMNS)):
            assert shown(a, by).keys() == shown(b, by).keys() == shown(c, by).keys()


# --- any table ------------------------------------------------------------------------------

rule_sets = (
    st.tuples(st.integers(1, 9), st.sampled_from([1, 2, 5, 10]), st.integers(1, 4))
    .filter(lambda t: round_to_base(t[0] + 1, t[1]) > t[0])  # what the place refuses otherwise
    .map(lambda t: Disclosure(threshold=t[0], rounding_base=t[1], max_noise=t[0] + t[2]))
)
unit_lists = st.lists(
    st.tuples(
        st.sampled_from(MONTHS),
        st.sampled_from(LOCALITIES),
        st.sampled_from(NEEDS),
        st.integers(0, 255),
    ),
    max_size=120,
)
cut_choices = st.lists(st.sampled_from(COLUMNS), unique=True, max_size=3)


@pytest.mark.slow  # forty drawn places: a few seconds
@settings(max_examples=40, deadline=None)
@given(unit_lists, rule_sets, cut_choices)
def test_no_figure_is_small_or_further_than_max_noise_and_rounding_from_the_truth(
    units: list[Unit], rules: Disclosure, by: list[str]
) -> None:
    with connect(units, rules) as con:
        cells = shown(con, by, rules)
    for dims, figure in cells.items():
        exact, figure_in_python = expected(units, dims, rules)
        assert figure == figure_in_python
        assert figure % rules.rounding_base == 0
        assert not 1 <= figure <= rules.threshold
        assert abs(figure - exact) <= rules.max_noise + rules.rounding_base // 2


@pytest.mark.slow  # twenty-five drawn pairs of places, each replayed: a few seconds
@settings(max_examples=25, deadline=None)
@given(unit_lists, unit_lists, cut_choices)
def test_a_cell_keeps_its_figure_across_tables_an_unrelated_load_and_a_fresh_replay(
    units: list[Unit], later: list[Unit], by: list[str]
) -> None:
    unrelated = [("2025-03", *rest) for _, *rest in later]  # another month's events
    kept = [u for u in units if u[0] != "2025-03"]
    with connect(kept) as before, connect([*kept, *unrelated]) as after, connect(kept) as fresh:
        first, second, replayed = shown(before, by), shown(after, by), shown(fresh, by)
    assert first == replayed
    for dims, figure in first.items():
        if ("month", "2025-03") not in dims and "month" in dict(dims):
            assert second[dims] == figure, dims
