"""What the Partnership aggregate reads back: a target's revisions and an outcome's reviews, as
plain records (its state keeps them as dicts, so a stored snapshot never names these classes)."""

from datetime import datetime
from typing import NamedTuple


class Revision(NamedTuple):
    """One revision of a target, with its reason."""

    target_percent: float
    reason: str
    revised_at: datetime


class Review(NamedTuple):
    """One review of a shared outcome: the decision taken and why."""

    outcome: str
    decision: str
    rationale: str
    held_at: datetime
