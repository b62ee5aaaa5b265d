"""What the hub answers for each event an agency submits: accepted, duplicate, or rejected with
the field and the reason (never the value)."""

from dataclasses import dataclass
from typing import Literal

Status = Literal["accepted", "duplicate", "rejected"]


@dataclass(frozen=True)
class Outcome:
    """What became of one submitted event; `id` is the agency's own event id where it had one."""

    status: Status
    id: str | None = None
    field: str | None = None
    reason: str | None = None
