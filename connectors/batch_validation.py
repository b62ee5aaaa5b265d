"""A batch checked against the agency event contract in one call: the events that fail are
dropped and reported against the extract's line and the mapping's column."""

from pydantic import ValidationError

from connectors.extract import Batch, Rejection
from connectors.mapping import Mapping
from schemas.events import AgencyBatchAdapter
from schemas.validation import describe_error


def validated(name: str, batch: Batch, lines: list[int], mapping: Mapping) -> Batch:
    """Check the batch against the contract in one call; drop and report the rows that fail."""
    try:
        AgencyBatchAdapter.validate_python(batch.events)
    except ValidationError as exc:
        bad: dict[int, Rejection] = {}
        for error in exc.errors(include_input=False, include_url=False):
            position = error["loc"][0]
            if not isinstance(position, int) or position in bad:
                continue
            path, reason = describe_error(error)
            path = path.partition(".")[2]
            column = column_for(mapping, batch.events[position]["type"], path)
            bad[position] = Rejection(name, lines[position], column, f"{path}: {reason}")
        batch.events = [e for i, e in enumerate(batch.events) if i not in bad]
        batch.rejections.extend(bad.values())
        batch.rejections.sort(key=lambda r: r.line)
    return batch


def column_for(mapping: Mapping, type_name: str, path: str) -> str | None:
    """The extract's column behind a contract path (`data.tenure`, `time`), where there is one."""
    if path.startswith("data."):
        return mapping.fields.get(type_name, {}).get(path[5:])
    envelope = {"time": "time", "subject": "identifier", "locality": "locality"}
    attribute = envelope.get(path)
    return getattr(mapping.columns, attribute) if attribute else None
