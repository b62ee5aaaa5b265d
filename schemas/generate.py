"""Write the contract's JSON Schema files into `schemas/json/`.

python -m schemas.generate            # rewrite the files
python -m schemas.generate --check    # exit 1 if the checked-in files have drifted
"""

import sys
from pathlib import Path

import orjson
from pydantic import BaseModel

from schemas.cloudevents import CloudEvent
from schemas.events import AGENCY_EVENT_CLASSES, type_name
from schemas.partnership import PARTNERSHIP_EVENT_CLASSES
from schemas.place import Place

JSON_DIR = Path(__file__).parent / "json"


def schemas() -> dict[str, bytes]:
    """Every schema file's name and exact bytes."""
    models: dict[str, type[BaseModel]] = {"cloudevent": CloudEvent, "place": Place}
    for event_model in (*AGENCY_EVENT_CLASSES, *PARTNERSHIP_EVENT_CLASSES):
        models[type_name(event_model)] = event_model
    files = {}
    for name, model in models.items():
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": name}
        schema |= model.model_json_schema(mode="validation")
        options = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
        files[f"{name}.json"] = orjson.dumps(schema, option=options)
    return files


def drifted(directory: Path = JSON_DIR) -> list[str]:
    """Names of the files that differ from, are missing from, or are extra in `directory`."""
    wanted = schemas()
    present = {p.name for p in directory.glob("*.json")}
    differ = [
        n
        for n, b in wanted.items()
        if not (directory / n).is_file() or (directory / n).read_bytes() != b
    ]
    return sorted(differ + sorted(present - wanted.keys()))


def main(argv: list[str]) -> int:
    if "--check" in argv:
        names = drifted()
        for name in names:
            print(f"schemas/json/{name} is out of date: run python -m schemas.generate")
        return 1 if names else 0
    JSON_DIR.mkdir(exist_ok=True)
    for stale in JSON_DIR.glob("*.json"):
        stale.unlink()
    for name, content in schemas().items():
        (JSON_DIR / name).write_bytes(content)
    print(f"wrote {len(schemas())} schema files to {JSON_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
