"""The whole embedded hub: the same extract twice changes nothing; a correction changes exactly
what it says; every answer a commissioner gets is disclosure-controlled."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.csv_connector import CsvConnector
from connectors.mapping import load_mapping
from connectors.pseudonym import load_pseudonymiser
from hub.bootstrap import Runtime, open_hub, open_projections
from hub.demo.agencies import AgenciesFolder
from hub.demo.run import quiet, run_demo
from hub.projection.answers import DEMO_VIEWS
from hub.settings import Settings
from projections.questions import QUESTIONS, raw_answer
from schemas.place import Place, load_place


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory) -> AgenciesFolder:
    """The demo's agencies' own folder, apart from the hub's."""
    return AgenciesFolder(tmp_path_factory.mktemp("demo-agencies"))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, held: AgenciesFolder) -> Path:
    folder = tmp_path_factory.mktemp("hub-data")
    with open_hub(Settings(data_dir=folder)) as hub:
        run_demo(hub, held.root, people=800, seed=5, stage=quiet)
    return folder


@pytest.fixture
def hub(data_dir: Path) -> Iterator[Runtime]:
    with open_hub(Settings(data_dir=data_dir)) as runtime:
        yield runtime


def _answers(hub: Runtime, data_dir: Path) -> dict[str, Any]:
    place = load_place(data_dir / "place" / "place.toml")
    with open_projections(hub, place) as projections:
        projections.catch_up()
        return {
            f"{slug}/{','.join(by)}": projections.answer(slug, by, None).to_json()
            for slug, by, _ in DEMO_VIEWS
        }


def test_every_question_answers_with_controlled_cells_only(hub: Runtime, data_dir: Path) -> None:
    answers = _answers(hub, data_dir)
    assert {key.split("/")[0] for key in answers} == set(QUESTIONS)
    cells = [
        value
        for table in answers.values()
        for row in table["rows"] + table["totals"]
        for value in row.values()
        if isinstance(value, dict)
    ]
    assert cells
    for cell in cells:
        if cell["suppressed"]:
            assert cell == {"value": None, "suppressed": True}
        else:
            assert cell["value"] is not None


def test_sending_the_same_extracts_again_leaves_every_answer_unchanged(
    hub: Runtime, data_dir: Path, held: AgenciesFolder
) -> None:
    before = orjson.dumps(_answers(hub, data_dir))
    key = held.place_key.read_bytes()
    run = run_demo(hub, held.root, people=800, seed=5, stage=quiet)
    assert held.place_key.read_bytes() == key  # the agencies' place key kept
    assert sum(a.accepted for a in run.agencies) == 0
    assert sum(a.duplicate for a in run.agencies) > 1000
    assert orjson.dumps(_answers(hub, data_dir)) == before


def test_a_corrected_record_moves_its_referral_to_the_corrected_need(
    hub: Runtime, data_dir: Path, held: AgenciesFolder
) -> None:
    place = load_place(data_dir / "place" / "place.toml")
    events = _agency_events(held, place, "police-north")
    versions: dict[str, int] = {}
    for event in events:
        versions[event["recordref"]] = max(
            versions.get(event["recordref"], 0), event["recordversion"]
        )
    original = next(
        e
        for e in events
        if e["type"] == "hub.referral.made.v1"
        and e["data"]["need"] != "housing"
        and versions[e["recordref"]] == e["recordversion"]
    )
    need, version = original["data"]["need"], original["recordversion"]
    corrected = dict(
        original, recordversion=version + 1, data=dict(original["data"], need="housing")
    )
    corrected["id"] = f"{original['recordref']}-v{version + 1}"

    before = _referrals_by_need(hub, place)
    (outcome,) = hub.ingest.submit("police-north", [corrected])
    assert outcome.status == "accepted"
    hub.worker.run_until_caught_up()
    after = _referrals_by_need(hub, place)
    assert after[need] == before[need] - 1
    assert after["housing"] == before["housing"] + 1
    assert sum(after.values()) == sum(before.values())


def _agency_events(held: AgenciesFolder, place: Place, slug: str) -> list[dict[str, Any]]:
    """The agency-stage events of one agency's extract, as its connector sends them."""
    mapping = load_mapping(held.mapping(slug), place)
    connector = CsvConnector(mapping, place, load_pseudonymiser(held.place_key))
    return [e for batch in connector.read(held.extract(slug)) for e in batch.events]


def _referrals_by_need(hub: Runtime, place: Place) -> dict[str, int]:
    with open_projections(hub, place) as projections:
        projections.catch_up()
        rows = raw_answer(projections.con, "demand", ["need"], None, place)
    totals: dict[str, int] = {}
    for row in rows:
        totals[str(row["need"])] = totals.get(str(row["need"]), 0) + int(row["count_referrals"])
    return totals


def test_the_demo_forms_the_place_partnership_through_its_own_commands(
    hub: Runtime, data_dir: Path
) -> None:
    place = load_place(data_dir / "place" / "place.toml")
    assert place.partnership is not None
    partnership = hub.app.get(place.slug)
    assert partnership.current_partners() == list(place.partnership.partners)
    assert len(partnership.commitments_of()) == len(place.partnership.commitments)
