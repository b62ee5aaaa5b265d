"""Controlling a whole table: unrounded totals over the asked dims, secondary suppression on
every line (no line holds exactly one suppressed cell), then rates from the unrounded counts.

Error messages name rows by their dimension values and never include a count.
"""

from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

from projections.controlled_table import ControlledTable, Rate, Row
from projections.disclosure_rules import (
    SUPPRESSED,
    Cell,
    DisclosureError,
    as_count,
    is_small,
    rate,
    round_to_base,
)
from schemas.place import Disclosure

Key = tuple[object, ...]
Names = tuple[str, ...]


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
        detail[key] = [as_count(row[m], f"row {i}, {m}") for m in measures]
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
    hidden = {key for key, n in value.items() if is_small(n, rules)}
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
        key: SUPPRESSED if key in hidden else Cell(round_to_base(n, base), False)
        for key, n in value.items()
    }
