"""The demo: a synthetic place through every stage of the hub.

synthesise → each agency's connector → ingest → log → worker → store (→ projections),
reporting progress through plain callables so any front end (Rich, logs, tests) can show it.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from connectors.csv_connector import CsvConnector
from connectors.mapping import load_mapping
from connectors.pseudonym import Pseudonymiser, load_pseudonymiser, new_key_file
from connectors.publish import AgencyRun, publish_with
from connectors.synth import SynthSummary, synthesise
from hub.bootstrap import Runtime
from hub.ingest.retry import submit_with_retry
from hub.settings import private_files
from schemas.place import Place, load_place

log = logging.getLogger(__name__)
DEMO_START = "2024-01"
Stage = Callable[[str, int], Callable[[int], None]]
"""Start a stage with a description and a total; returns the function that advances it."""


@dataclass
class DemoRun:
    place: Place
    synth: SynthSummary
    agencies: list[AgencyRun]
    applied: int


def run_demo(hub: Runtime, people: int, seed: int, stage: Stage, apply: bool = True) -> DemoRun:
    """Synthesise a place into the data folder and run it through the hub (with `apply`
    false, only as far as the log: a `hub worker` applies it). The place and its key are the
    owner's alone, as every file of the data folder is (`private_files`)."""
    with private_files():
        return _run_demo(hub, people, seed, stage, apply)


def _run_demo(hub: Runtime, people: int, seed: int, stage: Stage, apply: bool) -> DemoRun:
    folder = hub.settings.folder
    place_dir = folder.place_dir
    summary = synthesise(
        place_dir,
        people=people,
        seed=seed,
        start=DEMO_START,
        progress=stage("synthesising the place", people),
    )
    place = load_place(place_dir / "place.toml")
    if place.partnership is not None:
        # The partners agreed their outcomes and commitments as the period began.
        year, month = map(int, DEMO_START.split("-"))
        hub.app.form_from_plan(place, at=datetime(year, month, 1, tzinfo=place.zone()))
    key_file = folder.place_key
    if not key_file.exists():
        new_key_file(key_file)
    pseudonymiser = load_pseudonymiser(key_file)
    advance = stage("connectors and ingest", summary.total_rows)
    runs = [
        publish_extract(hub, place, place_dir, agency.slug, agency.sector, pseudonymiser, advance)
        for agency in place.agencies
    ]
    applied = 0
    if apply:
        applied = hub.worker.run_until_caught_up(stage("worker: log to store", hub.worker.lag()))
        if hub.app.recorder.max_notification_id():
            hub.audit.checkpoint()  # the ledger as the demo leaves it, signed
    return DemoRun(place, summary, runs, applied)


def publish_extract(
    hub: Runtime,
    place: Place,
    place_dir: Path,
    slug: str,
    sector: str,
    pseudonymiser: Pseudonymiser,
    advance: Callable[[int], None],
) -> AgencyRun:
    """One agency of a synthetic place: its extract and mapping from `place_dir`, published."""
    mapping = load_mapping(place_dir / "mappings" / f"{slug}.toml", place)
    connector = CsvConnector(mapping, place, pseudonymiser)
    return publish(hub, connector, place_dir / "extracts" / f"{slug}.csv", sector, advance)


def publish(
    hub: Runtime,
    connector: CsvConnector,
    extract: Path,
    sector: str = "",
    advance: Callable[[int], None] | None = None,
) -> AgencyRun:
    """An extract through its agency's connector into the hub's ingest, counted as it goes."""
    slug = connector.mapping.agency
    return publish_with(
        lambda events: submit_with_retry(hub.ingest, slug, events),
        connector,
        extract,
        sector,
        advance,
    )


def quiet(description: str, total: int) -> Callable[[int], None]:
    """A Stage that shows nothing (for tests and benchmarks)."""
    return lambda done: None
