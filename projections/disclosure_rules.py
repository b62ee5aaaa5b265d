"""Disclosure control of one figure, as DOMAIN.md's "Disclosure control" rules it: a count is
shown as the cell key method perturbed it (`projections.perturbed`, in DuckDB), rounded to the
place's base; a rate comes from shown counts; a percentile shows only for a big enough group.
A suppressed cell (a rate with no denominator, a percentile of a small group) holds no value
at all, so nothing downstream (JSON, repr, logs) can leak it.

    >>> rate(18, 40).to_json()
    {'value': 45, 'suppressed': False}
    >>> rate(0, 0).to_json()
    {'value': None, 'suppressed': True}

Why no secondary suppression: no count is suppressed any more. A count 1..threshold shows as 0
or above the threshold (the ptable never yields 1..threshold), every combination is listed,
and the same cell shows the same figure wherever it is asked, so a difference of shown figures
carries the noise of each, which does not cancel; a lone suppressed cell is no longer there
to be recovered by subtraction. What stays suppressed is not additive (a percentile) or has
no value (a rate of nothing), so nothing follows from it by subtraction either.

What the percentile gate does say: it is on the exact group size, so a median beside a shown
count says the group holds at least `min_group_for_percentiles` units, and a suppressed one
beside a count shown above the threshold that it holds fewer (a small count, never which).
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


def as_count(n: object, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise DisclosureError(f"{what}: a count must be a whole number of at least 0")
    return n


def rate(numerator: int | None, denominator: int | None) -> Cell:
    """A whole percent (halves up) from two shown counts; none (suppressed) when the shown
    denominator is 0 or either count is not shown. Perturbed independently, the numerator
    may show above the denominator: the rate is then 100.

    >>> rate(35, 40).value, rate(45, 40).value
    (88, 100)
    """
    if numerator is None or denominator is None:
        return SUPPRESSED
    numerator = as_count(numerator, "rate numerator")
    denominator = as_count(denominator, "rate denominator")
    if denominator == 0:
        return SUPPRESSED
    shown = min(numerator, denominator)
    return Cell((200 * shown + denominator) // (2 * denominator), False)


def percentile(value_days: float | None, group_size: int, rules: Disclosure) -> Cell:
    """A median or percentile in whole days (halves up), shown only for groups of at least
    `min_group_for_percentiles` units (their exact number); smaller groups, empty ones
    included, are suppressed."""
    group_size = as_count(group_size, "percentile group size")
    if group_size < rules.min_group_for_percentiles:
        return SUPPRESSED
    if value_days is None or not math.isfinite(value_days):
        raise DisclosureError("percentile: a group large enough to show needs a finite value")
    return Cell(math.floor(value_days + 0.5), False)
