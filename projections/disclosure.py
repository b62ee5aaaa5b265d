"""Disclosure control: the one gate every commissioner and steward figure passes through.

DOMAIN.md, "Disclosure control": every count is perturbed by the cell key method (each
counted unit's permanent record key, the cell's key the sum of its units' keys mod 256, the
noise from a ptable by cell value and cell key: `projections.unit_keys`, `projections.ptable`,
`projections.perturbed`), so the same cell shows the same figure in every table, route and
replay; true counts 1..threshold never show; every combination is listed; the period is one of
a fixed grid (`projections.periods`). Rates come from shown counts; percentiles show only for
groups of at least `min_group_for_percentiles`.

    >>> rate(18, 40).to_json()
    {'value': 45, 'suppressed': False}

Error messages name rows by their dimension values and never include a count.
"""

from projections.controlled_table import ControlledTable, Rate, Row
from projections.disclosure_rules import (
    SUPPRESSED,
    Cell,
    DisclosureError,
    percentile,
    rate,
    round_to_base,
)

# The gate's parts: one figure's rules (disclosure_rules), the table that leaves the hub
# (controlled_table), the perturbed cells worked out in DuckDB (perturbed).
__all__ = [
    "SUPPRESSED",
    "Cell",
    "ControlledTable",
    "DisclosureError",
    "Rate",
    "Row",
    "percentile",
    "rate",
    "round_to_base",
]
