"""Disclosure control of one figure: a count, a rate or a percentile, as DOMAIN.md's
"Disclosure control" rules it; a suppressed cell holds no value at all.

    >>> rules = Disclosure()
    >>> count(3, rules).to_json()
    {'value': None, 'suppressed': True}
    >>> count(13, rules).to_json()
    {'value': 15, 'suppressed': False}
"""

import math
from dataclasses import dataclass

from schemas.errors import HubError
from schemas.place import Disclosure


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


def round_to_base(n: int, base: int) -> int:
    """The nearest multiple of `base`, halves up (base 5: 12 -> 10, 13 -> 15)."""
    return (2 * n + base) // (2 * base) * base


def is_small(n: int, rules: Disclosure) -> bool:
    # A non-zero count that would round into 0..threshold (only possible when the base is large
    # next to the threshold) is suppressed too: a shown 0 always means a true zero.
    return n > 0 and (
        n <= rules.threshold or round_to_base(n, rules.rounding_base) <= rules.threshold
    )


def as_count(n: object, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise DisclosureError(f"{what}: a count must be a whole number of at least 0")
    return n


def count(n: int, rules: Disclosure) -> Cell:
    """A count or total: 0 shown as 0, 1..threshold suppressed, others rounded to the base."""
    n = as_count(n, "count")
    return SUPPRESSED if is_small(n, rules) else Cell(round_to_base(n, rules.rounding_base), False)


def rate(numerator: int, denominator: int, rules: Disclosure) -> Cell:
    """A whole percent from unrounded counts, suppressed when either count or the complement is
    1..threshold; a zero denominator gives no rate, shown as suppressed.

    >>> rate(18, 40, Disclosure()).value, rate(35, 40, Disclosure()).suppressed
    (45, True)
    """
    numerator = as_count(numerator, "rate numerator")
    denominator = as_count(denominator, "rate denominator")
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
    group_size = as_count(group_size, "percentile group size")
    if group_size < rules.min_group_for_percentiles:
        return SUPPRESSED
    if value_days is None or not math.isfinite(value_days):
        raise DisclosureError("percentile: a group large enough to show needs a finite value")
    return Cell(math.floor(value_days + 0.5), False)
