"""The answers are a function of the events, not of the order they reached the store.

Two agencies publishing at once reach the log in whatever order the gateway commits their
batches, so one person's events at the same moment from two agencies can be stored either way
round. Two hubs of one place (one hub key) take the same events in opposite orders, and every
question's full output is the same. (Where two events tie on time, the questions break the tie
by the hub-stage event id; breaking it by store position, as they once did, made the pathway of
`journeys` and the locality of `many_agencies` and `repeat_demand` depend on the order.)
"""

import shutil
from pathlib import Path
from typing import Any

from hub.bootstrap import open_hub
from hub.settings import Settings
from schemas.place import load_place
from tests.conftest import FIXTURES
from tests.integration.conftest import answers

PEOPLE = [f"{n:064x}" for n in range(1, 13)]
AGENCIES = ["police-north", "homes-trust"]


def contact(agency: str, person: str, n: int, locality: str) -> dict[str, Any]:
    record = f"{n:063x}{AGENCIES.index(agency)}"
    return {
        "specversion": "1.0",
        "id": f"{record}-v1",
        "source": f"urn:agency:{agency}",
        "type": "hub.contact.recorded.v1",
        "time": "2024-03-05T14:30:00Z",  # the same moment at both agencies
        "subject": person,
        "locality": locality,
        "keyversion": 1,
        "recordref": record,
        "recordversion": 1,
        "data": {"channel": "phone", "purpose": "welfare-check", "need": "housing"},
    }


def stored_in_order(tmp_path: Path, name: str, order: list[str]) -> dict[str, Any]:
    settings = Settings(data_dir=tmp_path / name, keys_dir=tmp_path / "place-keys")
    settings.folder.place_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "place.toml", settings.folder.place)
    place = load_place(settings.folder.place)
    localities = [locality.code for locality in place.localities]
    with open_hub(settings) as hub:
        for agency in order:  # each agency's batch, applied before the next arrives
            locality = localities[AGENCIES.index(agency) % len(localities)]
            events = [contact(agency, p, n, locality) for n, p in enumerate(PEOPLE)]
            assert {o.status for o in hub.ingest.submit(agency, events)} == {"accepted"}
            hub.worker.run_until_caught_up()
        return answers(hub.app, place)


def test_every_answer_is_the_same_whichever_agencys_events_were_stored_first(
    tmp_path: Path,
) -> None:
    one = stored_in_order(tmp_path, "first", AGENCIES)
    other = stored_in_order(tmp_path, "second", AGENCIES[::-1])
    assert any(rows for rows in one.values())
    for slug, rows in one.items():
        assert other[slug] == rows, slug
