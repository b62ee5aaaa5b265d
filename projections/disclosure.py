"""Disclosure control: the one gate every commissioner and steward figure passes through.

DOMAIN.md, "Disclosure control": counts 1..threshold are suppressed and the rest rounded to the
place's base; totals are rounded from unrounded sums; secondary suppression protects every line
whose total is shown; rates and percentiles have their own rules. A suppressed cell holds no
value at all, so nothing downstream (JSON, repr, logs) can leak it.

    >>> from schemas.place import Disclosure
    >>> rules = Disclosure()
    >>> count(3, rules).to_json()
    {'value': None, 'suppressed': True}
    >>> count(13, rules).to_json()
    {'value': 15, 'suppressed': False}

Error messages name rows by their dimension values and never include a count.
"""

from projections.controlled_table import ControlledTable, Rate, Row
from projections.disclosure_rules import (
    SUPPRESSED,
    Cell,
    DisclosureError,
    count,
    percentile,
    rate,
)
from projections.table_control import control_table

# The gate's parts: one figure's rules (disclosure_rules), the table that leaves the hub
# (controlled_table) and the control of a whole table (table_control).
__all__ = [
    "SUPPRESSED",
    "Cell",
    "ControlledTable",
    "DisclosureError",
    "Rate",
    "Row",
    "control_table",
    "count",
    "percentile",
    "rate",
]
