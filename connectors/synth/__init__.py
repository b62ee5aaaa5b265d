"""A synthetic place: agencies' CSV extracts, their mappings, and the ground truth behind them.

    summary = synthesise(Path("synth-out"), people=20_000, seed=1)

writes `place.toml`, `mappings/<agency>.toml`, `extracts/<agency>.csv`, `truth/people.csv` and
`truth/events.jsonl` (one JSON line per extract row, in the order written). The same arguments
always give byte-identical files; memory stays bounded because households are simulated and
written one at a time.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.synth import catalogue
from connectors.synth.dice import Dice
from connectors.synth.layout import write_mappings, write_place
from connectors.synth.people import MAX_PEOPLE, Person, households
from connectors.synth.simulate import Simulator
from connectors.synth.write import Extracts
from schemas.errors import ContractError

__all__ = ["SynthError", "SynthSummary", "synthesise"]


class SynthError(ContractError):
    """Arguments the generator cannot use; the message says which and why."""


PROGRESS_EVERY = 1_000
# Person complexity is lognormal (times a household factor): most people have no or few
# events, a long tail is known to many agencies. Mean episodes per year = complexity.
COMPLEXITY_MU, COMPLEXITY_SIGMA = -2.0, 1.2


@dataclass(frozen=True)
class SynthSummary:
    """What synthesise wrote: where, for how many people, and how many rows per agency."""

    out_dir: Path
    people: int
    rows: dict[str, int]
    total_rows: int
    refused_rows: int


def synthesise(
    out_dir: Path,
    people: int = 20_000,
    seed: int = 1,
    months: int = 24,
    start: str = "2024-01",
    progress: Callable[[int], None] | None = None,
) -> SynthSummary:
    """Write a seeded synthetic place with `people` people over `months` months from `start`."""
    if not 1 <= people <= MAX_PEOPLE:
        raise SynthError(f"people must be between 1 and {MAX_PEOPLE}", field="people")
    if not 1 <= months <= 120:
        raise SynthError("months must be between 1 and 120", field="months")
    match = re.fullmatch(r"(\d{4})-(\d{2})", start)
    if match is None or not 1 <= int(match[2]) <= 12:
        raise SynthError("start must be a month as YYYY-MM, such as 2024-01", field="start")
    year, month = int(match[1]), int(match[2])
    first = datetime(year, month, 1)
    end_year, end_month = divmod(month - 1 + months, 12)
    horizon_days = (datetime(year + end_year, end_month + 1, 1) - first).days

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_place(out_dir / "place.toml")
    write_mappings(out_dir / "mappings")
    rng = Dice(seed)
    simulator = Simulator(rng, horizon_days, months)
    done = reported = 0
    previous: list[Person] = []
    zone = ZoneInfo(catalogue.TIMEZONE)
    with Extracts(out_dir, rng, first, zone) as extracts:
        for members in households(
            rng, people, horizon_days, first.date(), COMPLEXITY_MU, COMPLEXITY_SIGMA
        ):
            for person in members:
                extracts.person(person)
            extracts.household(simulator.household(members, previous))
            previous = members
            done += len(members)
            if progress is not None and done - reported >= PROGRESS_EVERY:
                progress(done - reported)
                reported = done
        if progress is not None and done > reported:
            progress(done - reported)
        rows = dict(extracts.rows)
        refused = extracts.refused
    return SynthSummary(out_dir, people, rows, sum(rows.values()), refused)
