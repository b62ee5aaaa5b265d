"""The demo: a synthetic place through every stage of the hub.

synthesise (into the agencies' own folder) → each agency's connector → ingest → log → worker →
store (→ projections), reporting progress through plain callables so any front end (Rich, logs,
tests) can show it.
"""

import logging
import shutil
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
from hub.demo.agencies import AgenciesFolder, check_apart, hand_back
from hub.demo.kafka import publish_through_gateway
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
    held: AgenciesFolder
    """Where the agencies' material is: their extracts, mappings, place key and the truth."""


def run_demo(
    hub: Runtime,
    agencies: Path,
    people: int,
    seed: int,
    stage: Stage,
    apply: bool = True,
    through_gateway: bool = False,
) -> DemoRun:
    """Synthesise a place into the `agencies` folder, copy its place file into the data
    folder, and publish every agency's extract into the hub (with `apply` false, only as far
    as the log: a `hub worker` applies it; with `through_gateway`, on Kafka, each agency
    enrolled and publishing as itself to its inbound topic, a gateway checking its events in:
    `hub.demo.kafka`). The extracts, mappings, truth and place key stay
    with the agencies: the hub never holds them. Every file made is its owner's alone, as
    every file of the data folder is (`private_files`)."""
    with private_files():
        held = AgenciesFolder(agencies)
        return _run_demo(hub, held, people, seed, stage, apply, through_gateway)


def _run_demo(
    hub: Runtime,
    agencies: AgenciesFolder,
    people: int,
    seed: int,
    stage: Stage,
    apply: bool,
    through_gateway: bool,
) -> DemoRun:
    folder = hub.settings.folder
    check_apart(agencies, folder)
    hand_back(folder, agencies)
    summary = synthesise(
        agencies.root,
        people=people,
        seed=seed,
        start=DEMO_START,
        progress=stage("synthesising the place", people),
    )
    folder.place_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(agencies.place, folder.place)  # the one file of the place the hub holds
    place = load_place(folder.place)
    if place.partnership is not None:
        # The partners agreed their outcomes and commitments as the period began.
        year, month = map(int, DEMO_START.split("-"))
        hub.app.form_from_plan(place, at=datetime(year, month, 1, tzinfo=place.zone()))
    if not agencies.place_key.exists():
        new_key_file(agencies.place_key)
    if through_gateway:
        advance = stage("connectors, inbound topics and the gateway", summary.total_rows)
        runs = publish_through_gateway(hub, place, agencies, advance)
    else:
        pseudonymiser = load_pseudonymiser(agencies.place_key)
        advance = stage("connectors and ingest", summary.total_rows)
        runs = [
            publish_extract(hub, place, agencies, a.slug, a.sector, pseudonymiser, advance)
            for a in place.agencies
        ]
    applied = 0
    if apply:
        applied = hub.worker.run_until_caught_up(stage("worker: log to store", hub.worker.lag()))
        if hub.app.recorder.max_notification_id():
            hub.audit.checkpoint()  # the ledger as the demo leaves it, signed
    return DemoRun(place, summary, runs, applied, agencies)


def publish_extract(
    hub: Runtime,
    place: Place,
    agencies: AgenciesFolder,
    slug: str,
    sector: str,
    pseudonymiser: Pseudonymiser,
    advance: Callable[[int], None],
) -> AgencyRun:
    """One agency of a synthetic place: its extract and mapping from the agencies' folder,
    published."""
    mapping = load_mapping(agencies.mapping(slug), place)
    connector = CsvConnector(mapping, place, pseudonymiser)
    return publish(hub, connector, agencies.extract(slug), sector, advance)


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
