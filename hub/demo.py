"""The demo: a synthetic place through every stage of the hub.

synthesise → each agency's connector → ingest → log → worker → store (→ projections),
reporting progress through plain callables so any front end (Rich, logs, tests) can show it.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.csv_connector import CsvConnector
from connectors.mapping import load_mapping
from connectors.pseudonym import Pseudonymiser, load_pseudonymiser, new_key_file
from connectors.synth import SynthSummary, synthesise
from hub.bootstrap import Runtime
from hub.ingest import Outcome
from hub.log import LogError
from schemas.place import Place, load_place

log = logging.getLogger(__name__)
DEMO_START = "2024-01"
Stage = Callable[[str, int], Callable[[int], None]]
"""Start a stage with a description and a total; returns the function that advances it."""


@dataclass
class AgencyRun:
    """One agency's extract through its connector and the hub's ingest."""

    agency: str
    sector: str
    rows: int = 0
    refused: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)


@dataclass
class DemoRun:
    place: Place
    synth: SynthSummary
    agencies: list[AgencyRun]
    applied: int


def run_demo(hub: Runtime, people: int, seed: int, stage: Stage, apply: bool = True) -> DemoRun:
    """Synthesise a place into the data folder and run it through the hub (with `apply`
    false, only as far as the log: a `hub worker` applies it)."""
    data_dir = hub.settings.data_dir
    place_dir = data_dir / "place"
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
    key_file = data_dir / "place-key.toml"
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
        lambda events: _submit(hub, slug, events), connector, extract, sector, advance
    )


Submit = Callable[[list[dict[str, Any]]], Sequence[Outcome]]
"""Sends one batch of an agency's events to the hub; the outcome of each, in order."""


def publish_with(
    submit: Submit,
    connector: CsvConnector,
    extract: Path,
    sector: str = "",
    advance: Callable[[int], None] | None = None,
) -> AgencyRun:
    """An extract through its agency's connector, each batch sent by `submit` (in process or
    over HTTP), counted as it goes."""
    slug = connector.mapping.agency
    run = AgencyRun(slug, sector)
    for batch in connector.read(extract):
        run.rows += batch.rows
        run.refused += len(batch.rejections)
        run.reasons += [str(r) for r in batch.rejections]
        for outcome in submit(batch.events):
            if outcome.status == "rejected":
                run.reasons.append(f"{slug}: event {outcome.id}: {outcome.field}: {outcome.reason}")
            setattr(run, outcome.status, getattr(run, outcome.status) + 1)
        if advance is not None:
            advance(batch.rows)
    return run


def _submit(
    hub: Runtime, slug: str, events: list[dict[str, Any]], patience_s: float = 120.0
) -> list[Outcome]:
    """Submit one batch, trying again while the log is unreachable (a broker restarting).

    Safe to repeat: a batch whose append failed was not remembered as seen, and an entry that
    did reach the log before the failure is applied once by the worker however often it is sent.
    """
    deadline = time.monotonic() + patience_s
    wait = 0.5
    while True:
        try:
            return hub.ingest.submit(slug, events)
        except LogError as error:
            if time.monotonic() + wait > deadline:
                raise LogError(f"{error}; gave up after {patience_s:.0f} s of retries") from None
            log.warning(
                "the log refused a batch of %s (%s); trying again in %.1f s", slug, error, wait
            )
            time.sleep(wait)
            wait = min(wait * 2, 5.0)


def quiet(description: str, total: int) -> Callable[[int], None]:
    """A Stage that shows nothing (for tests and benchmarks)."""
    return lambda done: None
