"""The checked-in JSON Schema files are exactly what the models generate."""

import json

from schemas.events import AGENCY_EVENT_TYPES
from schemas.generate import JSON_DIR, drifted, schemas


def test_the_checked_in_json_schemas_have_not_drifted_from_the_models() -> None:
    assert drifted() == [], "run: python -m schemas.generate"


def test_a_changed_schema_file_is_caught(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    for name, content in schemas().items():
        (folder / name).write_bytes(content)
    (folder / "hub.referral.made.v1.json").write_text("{}")
    (folder / "stale.json").write_text("{}")
    assert drifted(folder) == ["hub.referral.made.v1.json", "stale.json"]


def test_every_event_type_has_a_schema_file_naming_its_type() -> None:
    for type_name in AGENCY_EVENT_TYPES:
        schema = json.loads((JSON_DIR / f"{type_name}.json").read_text())
        assert schema["properties"]["type"]["const"] == type_name
