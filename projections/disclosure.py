"""Disclosure control: the one gate every commissioner and steward figure passes through.

DOMAIN.md, "Disclosure control": counts 1..threshold are suppressed and the rest rounded to the
place's base; totals are rounded from unrounded sums; secondary suppression protects every line
whose total is shown; rates and percentiles have their own rules. A suppressed cell holds no
value at all, so nothing downstream (JSON, repr, logs) can leak it.

    >>> rules = Disclosure()
    >>> count(3, rules).to_json()
    {'value': None, 'suppressed': True}
    >>> count(13, rules).to_json()
    {'value': 15, 'suppressed': False}

Error messages name rows by their dimension values and never include a count.
"""

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from schemas.errors import HubError
from schemas.place import Disclosure

Key = tuple[object, ...]
Names = tuple[str, ...]


class DisclosureError(HubError):
    """A figure or table that cannot be controlled as asked (bad shape or impossible counts)."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One figure as it may leave the hub: shown with a value, or suppressed with none at all."""

    value: int | None
    suppressed: bool

    def __post_init__(self) -> None:
        if self.suppressed != (self.value is None):
            raise DisclosureError("a cell is either suppressed with no value or shown with one")

    def to_json(self) -> dict[str, int | bool | None]:
        return {"value": self.value, "suppressed": self.suppressed}


SUPPRESSED = Cell(None, suppressed=True)


def _round(n: int, base: int) -> int:
    """The nearest multiple of `base`, halves up (base 5: 12 -> 10, 13 -> 15)."""
    return (2 * n + base) // (2 * base) * base


def _is_small(n: int, rules: Disclosure) -> bool:
    # A non-zero count that would round into 0..threshold (only possible when the base is large
    # next to the threshold) is suppressed too: a shown 0 always means a true zero.
    return n > 0 and (n <= rules.threshold or _round(n, rules.rounding_base) <= rules.threshold)


def _as_count(n: object, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise DisclosureError(f"{what}: a count must be a whole number of at least 0")
    return n


def count(n: int, rules: Disclosure) -> Cell:
    """A count or total: 0 shown as 0, 1..threshold suppressed, others rounded to the base."""
    n = _as_count(n, "count")
    return SUPPRESSED if _is_small(n, rules) else Cell(_round(n, rules.rounding_base), False)


def rate(numerator: int, denominator: int, rules: Disclosure) -> Cell:
    """A whole percent from unrounded counts, suppressed when either count or the complement is
    1..threshold; a zero denominator gives no rate, shown as suppressed.

    >>> rate(18, 40, Disclosure()).value, rate(35, 40, Disclosure()).suppressed
    (45, True)
    """
    numerator = _as_count(numerator, "rate numerator")
    denominator = _as_count(denominator, "rate denominator")
    if numerator > denominator:
        raise DisclosureError("rate: the numerator cannot be larger than the denominator")
    if denominator == 0:
        return SUPPRESSED
    if any(1 <= n <= rules.threshold for n in (numerator, denominator, denominator - numerator)):
        return SUPPRESSED
    return Cell((200 * numerator + denominator) // (2 * denominator), False)


def percentile(value_days: float | None, group_size: int, rules: Disclosure) -> Cell:
    """A median or percentile in whole days (halves up), shown only for groups of at least
    `min_group_for_percentiles`; smaller groups, empty ones included, are suppressed."""
    group_size = _as_count(group_size, "percentile group size")
    if group_size < rules.min_group_for_percentiles:
        return SUPPRESSED
    if value_days is None or not math.isfinite(value_days):
        raise DisclosureError("percentile: a group large enough to show needs a finite value")
    return Cell(math.floor(value_days + 0.5), False)


@dataclass(frozen=True)
class Rate:
    """A whole-percent column: 100 × numerator / denominator, two count measures of one row."""

    name: str
    numerator: str
    denominator: str


@dataclass(frozen=True)
class Row:
    """One controlled row: its dimension values (a total leaves out the dims it sums over)."""

    dims: Mapping[str, object]
    cells: Mapping[str, Cell]

    def to_json(self) -> dict[str, object]:
        return {**self.dims, **{name: cell.to_json() for name, cell in self.cells.items()}}


@dataclass(frozen=True)
class ControlledTable:
    """Detail rows in input order, then totals (margins), fewest summed-over dims first."""

    dims: tuple[str, ...]
    totals_over: tuple[str, ...]
    rows: tuple[Row, ...]
    totals: tuple[Row, ...]

    def row(self, **dims: object) -> Row:
        """The row with exactly these dimension values: `table.row(month="2024-01")` is that
        month's total over the other dims in `totals_over`."""
        for row in (*self.rows, *self.totals):
            if dict(row.dims) == dims:
                return row
        raise DisclosureError(f"the table has no row for {dims}")

    @property
    def measures(self) -> list[str]:
        """The measure columns, in order (none for an empty table)."""
        first = (self.rows or self.totals or (None,))[0]
        return [] if first is None else list(first.cells)

    def to_csv(self) -> str:
        """The table as CSV: dims then measures; "all" for a summed-over dim, "suppressed" for
        a suppressed cell."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([*self.dims, *self.measures])
        for row in (*self.rows, *self.totals):
            cells = [row.cells[m] for m in self.measures]
            writer.writerow(
                [row.dims.get(d, "all") for d in self.dims]
                + ["suppressed" if c.suppressed else c.value for c in cells]
            )
        return out.getvalue()

    def to_json(self) -> dict[str, object]:
        return {
            "dims": list(self.dims),
            "totals_over": list(self.totals_over),
            "rows": [row.to_json() for row in self.rows],
            "totals": [row.to_json() for row in self.totals],
        }


class _All:
    """Marks a dimension summed over in a total's key."""

    def __repr__(self) -> str:
        return "ALL"


_ALL = _All()


def control_table(
    rows: Iterable[Mapping[str, object]],
    dims: Sequence[str],
    measures: Sequence[str],
    rules: Disclosure,
    *,
    totals_over: Sequence[str] = (),
    rates: Sequence[Rate] = (),
) -> ControlledTable:
    """Control a long-format table (one row per combination of `dims`, count `measures`), with
    totals shown over each subset of `totals_over`, and secondary suppression on every line.

    A line is a total and the cells it sums along one dim; no line may hold exactly one
    suppressed cell (the total counts), so nothing suppressed follows by subtraction. Each
    measure is protected on its own; a rate is suppressed whenever either count is.

    >>> rows = [
    ...     {"locality": "ashfield", "referrals": 40, "accepted": 3},
    ...     {"locality": "brookside", "referrals": 30, "accepted": 20},
    ...     {"locality": "carlton", "referrals": 20, "accepted": 12},
    ... ]
    >>> table = control_table(
    ...     rows, ["locality"], ["referrals", "accepted"], Disclosure(),
    ...     totals_over=["locality"], rates=[Rate("accepted_pct", "accepted", "referrals")],
    ... )
    >>> table.row(locality="carlton").to_json()["accepted_pct"]
    {'value': None, 'suppressed': True}
    >>> table.row().cells["accepted"], table.row().cells["accepted_pct"]
    (Cell(value=35, suppressed=False), Cell(value=39, suppressed=False))
    """
    dims, measures, totals_over = tuple(dims), tuple(measures), tuple(totals_over)
    _check_names(dims, measures, totals_over, rates)
    cells = _aggregate(rows, dims, measures, [dims.index(d) for d in totals_over])
    lines = _lines(cells, [dims.index(d) for d in totals_over])
    controlled = [_control(cells, lines, j, rules) for j in range(len(measures))]
    detail: list[Row] = []
    totals: list[Row] = []
    for key, counts in cells.items():
        shown = {m: controlled[j][key] for j, m in enumerate(measures)}
        named = {d: v for d, v in zip(dims, key, strict=True) if v is not _ALL}
        for r in rates:
            num, den = counts[measures.index(r.numerator)], counts[measures.index(r.denominator)]
            if num > den:
                raise DisclosureError(
                    f"row {named}: rate {r.name!r} has {r.numerator!r} above {r.denominator!r}"
                )
            hidden = shown[r.numerator].suppressed or shown[r.denominator].suppressed
            shown[r.name] = SUPPRESSED if hidden else rate(num, den, rules)
        (totals if any(v is _ALL for v in key) else detail).append(Row(named, shown))
    return ControlledTable(dims, totals_over, tuple(detail), tuple(totals))


def _check_names(dims: Names, measures: Names, totals_over: Names, rates: Sequence[Rate]) -> None:
    names = [*dims, *measures, *(r.name for r in rates)]
    if len(set(names)) != len(names):
        raise DisclosureError(f"dims, measures and rates must have distinct names: {names}")
    for d in totals_over:
        if d not in dims:
            raise DisclosureError(f"totals_over: {d!r} is not one of the dims {list(dims)}")
    for r in rates:
        for m in (r.numerator, r.denominator):
            if m not in measures:
                raise DisclosureError(f"rate {r.name!r}: {m!r} is not one of the measures")


def _aggregate(
    rows: Iterable[Mapping[str, object]], dims: Names, measures: Names, axes: list[int]
) -> dict[Key, list[int]]:
    """Unrounded counts of every detail cell and every total (keys with _ALL where summed)."""
    detail: dict[Key, list[int]] = {}
    for i, row in enumerate(rows):
        missing = [name for name in (*dims, *measures) if name not in row]
        if missing:
            raise DisclosureError(f"row {i}: has no {', '.join(missing)}")
        key = tuple(row[d] for d in dims)
        if key in detail:
            where = dict(zip(dims, key, strict=True))
            raise DisclosureError(f"row {i}: a second row for {where}; one row per combination")
        detail[key] = [_as_count(row[m], f"row {i}, {m}") for m in measures]
    cells = dict(detail)
    for size in range(1, len(axes) + 1):
        for summed in combinations(axes, size):
            for key, counts in detail.items():
                total = tuple(_ALL if p in summed else v for p, v in enumerate(key))
                acc = cells.setdefault(total, [0] * len(measures))
                for j, n in enumerate(counts):
                    acc[j] += n
    return cells


def _lines(cells: Mapping[Key, list[int]], axes: list[int]) -> list[tuple[Key, list[Key]]]:
    """Every (total, members) pair: the cells a total sums along one dim."""
    members: dict[tuple[Key, int], list[Key]] = {}
    for key in cells:
        for p in axes:
            if key[p] is not _ALL:
                members.setdefault(((*key[:p], _ALL, *key[p + 1 :]), p), []).append(key)
    return [(total, keys) for (total, _), keys in members.items()]


def _control(
    cells: Mapping[Key, list[int]], lines: list[tuple[Key, list[Key]]], j: int, rules: Disclosure
) -> dict[Key, Cell]:
    """Primary then secondary suppression of measure j, repeated until no line has a lone one.

    A line with one suppressed cell gets a second: a non-zero member first, then a zero member,
    then its total. Among those, a cell that also completes another lone line wins (one
    suppression instead of two), then the smallest, then the earliest.
    """
    value = {key: counts[j] for key, counts in cells.items()}
    order = {key: i for i, key in enumerate(cells)}
    hidden = {key for key, n in value.items() if _is_small(n, rules)}
    lines_of: dict[Key, list[int]] = {}
    for i, (total, keys) in enumerate(lines):
        for key in (total, *keys):
            lines_of.setdefault(key, []).append(i)
    in_line = [sum(key in hidden for key in (total, *keys)) for total, keys in lines]

    def cost(key: Key, total: Key) -> tuple[int, int, int, int]:
        tier = 2 if key == total else 0 if value[key] else 1
        completes = sum(in_line[i] == 1 for i in lines_of[key])
        return (tier, -completes, value[key], order[key])

    while (lone := next((i for i, n in enumerate(in_line) if n == 1), None)) is not None:
        total, keys = lines[lone]
        pick = min((k for k in (total, *keys) if k not in hidden), key=lambda k: cost(k, total))
        hidden.add(pick)
        for i in lines_of[pick]:
            in_line[i] += 1
    base = rules.rounding_base
    return {
        key: SUPPRESSED if key in hidden else Cell(_round(n, base), False)
        for key, n in value.items()
    }
