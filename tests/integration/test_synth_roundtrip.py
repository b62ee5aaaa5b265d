"""A synthetic place read back through every agency's connector reproduces its ground truth."""

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from connectors.csv_connector import CsvConnector
from connectors.extract import Rejection
from connectors.mapping import load_mapping
from connectors.pseudonym import Pseudonymiser
from connectors.synth import synthesise
from schemas.events import agency_urn, event_id
from schemas.place import Place, load_place


@pytest.fixture(scope="module")
def place_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("place")
    synthesise(folder, people=1_500, seed=7)
    return folder


@pytest.fixture(scope="module")
def read_back(
    place_dir: Path,
) -> tuple[Place, Pseudonymiser, list[dict[str, Any]], list[Rejection]]:
    place = load_place(place_dir / "place.toml")
    pseudonymiser = Pseudonymiser(b"k" * 32, version=1)
    events: list[dict[str, Any]] = []
    rejections: list[Rejection] = []
    for agency in place.agencies:
        mapping = load_mapping(place_dir / "mappings" / f"{agency.slug}.toml", place)
        connector = CsvConnector(mapping, place, pseudonymiser)
        for batch in connector.read(place_dir / "extracts" / f"{agency.slug}.csv"):
            events += batch.events
            rejections += batch.rejections
    return place, pseudonymiser, events, rejections


def _truth(place_dir: Path) -> list[dict[str, Any]]:
    with (place_dir / "truth" / "events.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _expected(row: dict[str, Any], p: Pseudonymiser) -> dict[str, Any]:
    """The event a correct connector makes of one ground-truth row (an independent mapping)."""
    agency = row["agency"]
    data: dict[str, Any] = {}
    for name, value in row["data"].items():
        if name in {"to_agency", "redirect_agency"}:
            data[name] = agency_urn(value)
        elif name == "referral":
            source = value["source"]
            data[name] = {
                "source": agency_urn(source),
                "recordref": p.record(source, value["record_ref"]),
            }
        elif name == "unit":
            data[name] = p.unit(agency, value)
        else:
            data[name] = value
    recordref = p.record(agency, row["record_ref"])
    return {
        "id": event_id(recordref, row["record_version"]),
        "source": agency_urn(agency),
        "type": row["type"],
        "time": row["time"],
        "subject": p.person(row["nhs_number"]),
        "locality": row["locality"],
        "recordref": recordref,
        "recordversion": row["record_version"],
        "data": data,
    }


def test_the_extracts_read_back_reproduce_the_ground_truth(
    place_dir: Path, read_back: tuple[Place, Pseudonymiser, list[dict[str, Any]], list[Rejection]]
) -> None:
    _, pseudonymiser, events, _ = read_back
    truth = [row for row in _truth(place_dir) if row["refused"] is None]
    expected = sorted((_expected(row, pseudonymiser) for row in truth), key=lambda e: e["id"])
    produced = sorted(({key: e[key] for key in expected[0]} for e in events), key=lambda e: e["id"])
    assert len(produced) == len(expected)
    mismatches = [(want, got) for want, got in zip(expected, produced, strict=True) if want != got]
    assert mismatches[:3] == []


def test_only_the_rows_with_a_mistyped_nhs_number_are_refused(
    place_dir: Path, read_back: tuple[Place, Pseudonymiser, list[dict[str, Any]], list[Rejection]]
) -> None:
    _, _, _, rejections = read_back
    truth = _truth(place_dir)
    refused = Counter(
        f"{row['agency']}.csv" for row in truth if row["refused"] == "nhs-check-digit"
    )
    assert sum(refused.values()) > 0
    assert Counter(r.file for r in rejections) == refused
    assert all("check digit" in r.reason for r in rejections)


def test_every_sector_and_every_event_type_reaches_the_hub(
    read_back: tuple[Place, Pseudonymiser, list[dict[str, Any]], list[Rejection]],
) -> None:
    place, _, events, _ = read_back
    from schemas.events import AGENCY_EVENT_TYPES
    from schemas.place import SECTORS

    assert {e["type"] for e in events} == set(AGENCY_EVENT_TYPES)
    sources = {e["source"] for e in events}
    assert {a.sector for a in place.agencies if agency_urn(a.slug) in sources} == set(SECTORS)


def test_no_name_or_nhs_number_from_the_extracts_reaches_an_event(
    place_dir: Path, read_back: tuple[Place, Pseudonymiser, list[dict[str, Any]], list[Rejection]]
) -> None:
    _, _, events, rejections = read_back
    sent = json.dumps(events, ensure_ascii=False) + repr(rejections)
    with (place_dir / "truth" / "people.csv").open(encoding="utf-8", newline="") as people:
        rows = list(csv.DictReader(people))
    secrets = {r.get("nhs_number", "") for r in rows} | {r.get("name", "") for r in rows}
    secrets.discard("")
    assert len(secrets) > 1_000
    leaked = [s for s in secrets if s in sent]
    assert leaked == []
