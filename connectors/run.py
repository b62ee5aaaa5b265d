"""Run an agency's extract through its connector into a file of CloudEvents (JSON lines)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from connectors.csv_connector import CsvConnector
from connectors.extract import Rejection
from connectors.mapping import load_mapping
from connectors.pseudonym import Pseudonymiser
from schemas.place import Place


@dataclass
class ConnectReport:
    """What one extract gave: rows read, events made, rows refused (with where and why)."""

    agency: str
    rows: int = 0
    events: int = 0
    rejections: list[Rejection] = field(default_factory=list)


def connect_extract(
    extract: Path,
    mapping_path: Path,
    place: Place,
    pseudonymiser: Pseudonymiser,
    out: Path,
    progress: Callable[[int], None] | None = None,
) -> ConnectReport:
    """Read `extract` with its mapping and write its events to `out`, one JSON object a line.

    The file is written whole or not at all (a temporary file renamed at the end), so a crash
    never leaves half an output that looks complete.
    """
    mapping = load_mapping(mapping_path, place)
    connector = CsvConnector(mapping, place, pseudonymiser)
    report = ConnectReport(agency=mapping.agency)
    partial = out.with_name(out.name + ".partial")
    out.parent.mkdir(parents=True, exist_ok=True)
    with partial.open("wb") as sink:
        for batch in connector.read(extract):
            sink.write(b"".join(orjson.dumps(e) + b"\n" for e in batch.events))
            report.rows += batch.rows
            report.events += len(batch.events)
            report.rejections.extend(batch.rejections)
            if progress is not None:
                progress(batch.rows)
    partial.replace(out)
    return report
