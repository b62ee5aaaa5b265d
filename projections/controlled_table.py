"""A controlled table as it leaves the hub: rows of controlled cells, then totals, as JSON or
CSV; and the rate columns a table is asked for."""

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

from projections.disclosure_rules import Cell, DisclosureError


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
