"""A real uvicorn driven by httpx, on the embedded default and on Kafka + PostgreSQL: agencies'
extracts posted over HTTP (twice: nothing doubles), the worker applies them, and commissioners
get the same answers on both paths."""

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from connectors.csv_connector import CsvConnector
from connectors.http_sender import HttpPublisher, publish_over_http
from connectors.mapping import load_mapping
from connectors.pseudonym import load_pseudonymiser, new_key_file
from connectors.synth import synthesise
from hub.access.keys import KeyStore
from hub.bootstrap import open_hub
from hub.settings import Settings
from projections.questions import QUESTIONS
from schemas.place import load_place
from tests.integration.served import serving


def run_over_http(settings: Settings, agencies: Path, key_file: Path) -> dict[str, Any]:
    """The agencies' extracts (in `agencies`, with `key_file`: never in the hub's data
    folder, which gets the place file alone) posted to a served hub, twice."""
    data = settings.data_dir
    (data / "place").mkdir(parents=True)
    shutil.copyfile(agencies / "place.toml", data / "place" / "place.toml")
    keys = KeyStore(data / "access.sqlite")
    commissioner = keys.create("commissioner").token
    place = load_place(data / "place" / "place.toml")
    agency_keys = {a.slug: keys.create("agency", a.slug).token for a in place.agencies}
    keys.close()
    pseudonymiser = load_pseudonymiser(key_file)
    counts: dict[str, int] = {"accepted": 0, "duplicate": 0, "rejected": 0}
    with serving(settings) as url:
        for _ in range(2):  # the second time, every event is a duplicate
            for agency in place.agencies:
                mapping = load_mapping(agencies / "mappings" / f"{agency.slug}.toml", place)
                connector = CsvConnector(mapping, place, pseudonymiser)
                with HttpPublisher(url, agency_keys[agency.slug]) as sender:
                    run = publish_over_http(
                        sender, connector, agencies / "extracts" / f"{agency.slug}.csv"
                    )
                for status in counts:
                    counts[status] += getattr(run, status)
        with open_hub(settings) as hub:  # the server's worker applies what was accepted
            deadline = time.monotonic() + 120
            while hub.worker.lag() > 0:
                assert time.monotonic() < deadline, "the served worker did not catch up"
                time.sleep(0.2)
            stored = hub.app.recorder.max_notification_id() or 0
        answers = {}
        for slug in QUESTIONS:
            response = httpx.get(
                f"{url}/v1/questions/{slug}",
                headers={"Authorization": f"Bearer {commissioner}"},
                timeout=120,
            )
            assert response.status_code == 200, response.text
            answers[slug] = {k: v for k, v in response.json().items() if k != "position"}
    return {"counts": counts, "stored": stored, "answers": answers}


def test_the_api_gives_the_same_on_the_embedded_default_and_on_kafka_and_postgresql(
    settings_for: Callable[..., Settings], tmp_path: Path
) -> None:
    agencies = tmp_path / "demo-agencies"
    synthesise(agencies, people=400, seed=17)
    key_file = agencies / "place-key.toml"
    new_key_file(key_file)
    embedded = run_over_http(settings_for("embedded", "sqlite"), agencies, key_file)
    production = run_over_http(settings_for("kafka", "postgres"), agencies, key_file)
    accepted = embedded["counts"]["accepted"]
    assert accepted > 1000
    assert embedded["counts"]["duplicate"] == accepted  # sent twice, stored once
    assert embedded["stored"] >= accepted  # journeys: one Started per person besides
    assert production["counts"] == embedded["counts"]
    assert production["stored"] == embedded["stored"]
    assert production["answers"] == embedded["answers"]
