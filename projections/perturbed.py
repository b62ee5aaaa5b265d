"""The perturbed cells of one question's table, worked out inside DuckDB: every combination the
place allows, totals as cells of their own, each count moved by the ptable.

A question's SQL (`sql/<slug>.sql`) gives one row per combination of the asked columns that
counts anything, with each count `count_x` beside `key_x`: the sum of its units' record keys
(`projections.unit_keys`). Around it this module builds one statement that

1. lists **every combination** of the asked columns' values the place allows (the `domain_*`
   tables `prepare` loads), zeros and small counts alike, so a row's presence says nothing,
   and nothing else (a unit of a value outside them still counts in the totals);
2. adds the **totals** over every subset of the summable columns, each from its own units (a
   total's count and key are the sums of its members': the units partition them);
3. looks each count up in the **ptable** by its value (capped at the ptable's top row) and its
   cell key (`key_x % 256`), adds the noise, and rounds the result to the place's base.

Only the shown counts leave DuckDB, with the exact group sizes that percentiles are gated on.
The same cell (the same units) has the same value and key in every table, so it shows the
same figure in every table, route, export and replay.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from projections.disclosure_rules import DisclosureError
from projections.unit_keys import KEY_RANGE


@dataclass(frozen=True)
class Domain:
    """The values a group of columns may take together: a select over the place's tables
    giving those columns (e.g. agency with its sector), projected onto the asked ones."""

    columns: tuple[str, ...]
    select: str


def key_of(count: str) -> str:
    """The key column beside a count column: `count_referrals` -> `key_referrals`."""
    return "key_" + count.removeprefix("count_")


def shown_of(count: str) -> str:
    return "shown_" + count.removeprefix("count_")


def flag_of(column: str) -> str:
    """The column that says a total sums over `column`."""
    return "all_" + column


def perturbed_sql(
    question_sql: str,
    columns: Sequence[str],
    summable: Sequence[str],
    counts: Sequence[str],
    extras: Sequence[str],
    sizes: Sequence[str],
    domains: Sequence[Domain] | None,
    rounding_base: int,
    *,
    perturb: bool = True,
) -> str:
    """One statement over `question_sql` (grouped by `columns`): every allowed combination and
    every total (only those that count anything when `domains` is None), with `shown_x` for
    each count, the `extras` (percentiles) and the exact
    `count_x` only for the counts named in `sizes` (the groups percentiles are gated on).
    Parameters: `ptable_top` (the ptable's last row) besides the question's own. `perturb`
    False leaves out the ptable (exact counts, rounded): only for the benchmark's baseline."""
    if extras and any(c in summable for c in columns):
        raise DisclosureError("a question with percentiles has no totals: medians do not add up")
    sums = [c for c in columns if c in summable]
    kept_sets = [
        tuple(c for c in columns if c not in summed)
        for size in range(len(sums) + 1)
        for summed in combinations(sums, size)
    ]
    flags = [flag_of(c) for c in sums]
    measures = [*counts, *(key_of(c) for c in counts if perturb)]
    if sums:
        grouped = ", ".join(f"({', '.join(kept)})" for kept in kept_sets)
        cells = (
            f"select {', '.join([*columns, *(f'grouping({c}) as {flag_of(c)}' for c in sums)])}, "
            + ", ".join(f"sum({m})::bigint as {m}" for m in measures)
            + (", " + ", ".join(f"any_value({e}) as {e}" for e in extras) if extras else "")
            + f" from detail group by grouping sets ({grouped})"
        )
    else:
        cells = "select * from detail"
    if domains is None:  # only the cells that count anything
        grids = [f"(select {', '.join([*columns, *flags]) or '1 as nothing'} from cells)"]
    else:
        grids = [_grid(kept, columns, sums, domains) for kept in kept_sets]
    on = (
        " and ".join(
            [*(f"grid.{c} is not distinct from cells.{c}" for c in columns)]
            + [f"grid.{f} = cells.{f}" for f in flags]
        )
        or "true"
    )
    base = max(1, rounding_base)
    shown = []
    joins = []
    for i, count in enumerate(counts):
        value = f"coalesce(cells.{count}, 0)"
        if not perturb:
            shown.append(f"(2 * {value} + {base}) // {2 * base} * {base} as {shown_of(count)}")
            continue
        joins.append(
            f"left join ptable as p{i} on p{i}.value = least({value}, $ptable_top)"
            f" and p{i}.cell_key = coalesce(cells.{key_of(count)}, 0) % {KEY_RANGE}"
        )
        noisy = f"({value} + coalesce(p{i}.noise, 0))"
        shown.append(f"(2 * {noisy} + {base}) // {2 * base} * {base} as {shown_of(count)}")
    select = [
        *(f"grid.{c}" for c in columns),
        *(f"grid.{f}" for f in flags),
        *shown,
        *(f"coalesce(cells.{c}, 0) as {c}" for c in sizes),
        *(f"cells.{e} as {e}" for e in extras),
    ]
    return (
        f"with detail as ({question_sql}),\n"
        f"cells as ({cells}),\n"
        f"grid as ({' union all by name '.join(grids)})\n"
        f"select {', '.join(select)}\n"
        f"from grid left join cells on {on}\n" + "\n".join(joins) + _order_by(columns, flags)
    )


def _grid(
    kept: tuple[str, ...], columns: Sequence[str], sums: Sequence[str], domains: Sequence[Domain]
) -> str:
    """The allowed combinations of one grouping set: the columns it keeps from each domain,
    crossed; NULL with its flag set for each column summed over."""
    parts = []
    for i, domain in enumerate(domains):
        chosen = [c for c in domain.columns if c in kept]
        if chosen:
            parts.append(f"(select distinct {', '.join(chosen)} from ({domain.select})) as d{i}")
    values = [
        *(c if c in kept else f"null as {c}" for c in columns),
        *(f"{0 if c in kept else 1} as {flag_of(c)}" for c in sums),
    ]
    source = " cross join ".join(parts) if parts else "(select 1)"
    return f"(select {', '.join(values) or '1 as nothing'} from {source})"


def _order_by(columns: Sequence[str], flags: Sequence[str]) -> str:
    """Detail rows first, then totals by how many columns they sum over; each by its values."""
    terms = [" + ".join(f"grid.{f}" for f in flags)] if flags else []
    terms += [f"grid.{c}::varchar nulls last" for c in columns]
    return f"\norder by {', '.join(terms)}" if terms else ""
