"""The CSV connector: an agency's extract and its mapping in, validated hub events out.

    connector = CsvConnector(mapping, place, pseudonymiser)
    for batch in connector.read(Path("extracts/police-north.csv")):
        publish(batch.events)            # CloudEvents as JSON-ready dicts, already validated
        report(batch.rejections)         # file, line, column and reason; never the value

Names, dates of birth and every other column the mapping does not name are never read into an
event. A bad row is reported and the rows after it go on.
"""

import csv
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any

from connectors.batch_validation import validated
from connectors.extract import Batch, ExtractError, Rejection
from connectors.fields import FieldPlan, field_plans
from connectors.mapping import RECORD_FIELDS, CellError, Mapping
from connectors.pseudonym import IdentifierError, Pseudonymiser, normalise_nhs_number
from connectors.row_problem import RowProblemError, check_text, undecodable_header
from connectors.times import LocalTimes
from schemas.events import agency_slug, agency_urn
from schemas.place import Place

_PEOPLE_CACHE_LIMIT = 1_000_000


class CsvConnector:
    """Reads one agency's CSV extracts with its mapping; see the module docstring."""

    def __init__(
        self, mapping: Mapping, place: Place, pseudonymiser: Pseudonymiser, batch_size: int = 2000
    ) -> None:
        self.mapping, self.place, self.pseudonymiser = mapping, place, pseudonymiser
        self.batch_size = batch_size
        self.source = agency_urn(mapping.agency)
        self._times = LocalTimes(mapping.time_formats, place.zone())
        self._key_version = pseudonymiser.version
        self._record = pseudonymiser.records_of(mapping.agency)
        self._people: dict[str, str] = {}
        locality_codes = mapping.codes.get("locality", {})
        self._localities = {code: code for code in place.locality_codes} | {
            raw: code for raw, code in locality_codes.items() if code in place.locality_codes
        }
        self._text_checks: list[tuple[int, str]] = []

    def read(self, path: Path) -> Iterator[Batch]:
        """Yield batches of events and rejections from one extract, in file order."""
        encoding = self.mapping.encoding
        try:
            handle = path.open(encoding=encoding, errors="surrogateescape", newline="")
        except OSError as exc:
            raise ExtractError(f"{path}: cannot open the extract ({exc.strerror})") from None
        with handle:
            reader = csv.reader(handle, delimiter=self.mapping.delimiter)
            try:
                header = next(reader, None)
            except csv.Error as exc:
                raise ExtractError(f"{path}: not a CSV file the mapping can read ({exc})") from None
            if header is None:
                raise ExtractError(f"{path}: the extract is empty; it needs a header row")
            header = [name.strip().lstrip("\ufeff") for name in header]
            index = self._check_header(path, header)
            yield from self._rows(path.name, reader, index, len(header))

    def _check_header(self, path: Path, header: list[str]) -> dict[str, int]:
        seen: dict[str, int] = {}
        for position, name in enumerate(header):
            if name in seen:
                raise ExtractError(f"{path}: the header names column {name!r} twice")
            seen[name] = position
        missing = sorted(self.mapping.used_columns() - seen.keys())
        if missing:
            raise ExtractError(
                f"{path}: the mapping names columns the extract does not have: "
                + ", ".join(repr(m) for m in missing)
                + f" (the extract has: {', '.join(repr(h) for h in header)})"
                + undecodable_header(header, self.mapping.encoding)
            )
        columns = self.mapping.columns
        self._text_checks = [
            (seen[c], c)
            for c in (
                columns.record_ref,
                columns.identifier,
                columns.time,
                columns.locality,
                columns.event_type,
            )
        ]
        self._envelope_cells = itemgetter(*(position for position, _ in self._text_checks))
        self._plans = {
            value: (type_name, [(p, p.head, p.tail) for p in self._field_plans(type_name, seen)])
            for value, type_name in self.mapping.event_types.items()
        }
        return seen

    def _field_plans(self, type_name: str, index: dict[str, int]) -> list[FieldPlan]:
        return field_plans(type_name, self.mapping, self.place, self.pseudonymiser, index)

    def _rows(self, name: str, reader: Any, index: dict[str, int], width: int) -> Iterator[Batch]:
        columns = self.mapping.columns
        c_ref, c_id = index[columns.record_ref], index[columns.identifier]
        c_time, c_loc = index[columns.time], index[columns.locality]
        c_type = index[columns.event_type]
        c_version = index[columns.record_version] if columns.record_version else -1
        batch, lines = Batch(), []
        last_line = 1
        while True:
            start = last_line + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                last_line = reader.line_num
                batch.rows += 1
                batch.rejections.append(
                    Rejection(name, start, None, f"not readable as CSV ({exc})")
                )
                continue
            last_line = reader.line_num
            if not row or (not row[0].strip() and not "".join(row).strip()):
                continue  # a blank line, or one of empty cells (`,,,,`) as spreadsheets leave
            batch.rows += 1
            try:
                if len(row) != width:
                    raise RowProblemError(None, f"has {len(row)} fields; the header has {width}")
                event = self._event(row, c_ref, c_id, c_time, c_loc, c_type, c_version)
            except RowProblemError as problem:
                batch.rejections.append(Rejection(name, start, problem.column, problem.reason))
                continue
            batch.events.append(event)
            lines.append(start)
            if len(batch.events) >= self.batch_size:
                yield validated(name, batch, lines, self.mapping)
                batch, lines = Batch(), []
        if batch.rows:
            yield validated(name, batch, lines, self.mapping)

    def _event(
        self,
        row: list[str],
        c_ref: int,
        c_id: int,
        c_time: int,
        c_loc: int,
        c_type: int,
        c_ver: int,
    ) -> dict[str, Any]:
        columns = self.mapping.columns
        if not "".join(self._envelope_cells(row)).isascii():
            for position, column in self._text_checks:
                check_text(row[position], column, self.mapping.encoding)
        planned = self._plans.get(row[c_type].strip())
        if planned is None:
            raise RowProblemError(columns.event_type, "is not one of the mapping's [event_types]")
        type_name, plans = planned
        reference = row[c_ref].strip()
        if not reference:
            raise RowProblemError(
                columns.record_ref, "is empty; every row needs its record reference"
            )
        version = 1
        if c_ver >= 0:
            text = row[c_ver].strip()
            if not text.isdigit() or text[0] == "0":
                raise RowProblemError(columns.record_version, "must be a whole number from 1")
            version = int(text)
        raw_id = row[c_id]
        subject = self._people.get(raw_id)
        if subject is None:
            subject = self._person(raw_id, columns.identifier)
        locality = self._localities.get(row[c_loc].strip())
        if locality is None:
            raise RowProblemError(
                columns.locality, "is not a locality of the place; map it in [codes.locality]"
            )
        try:
            time = self._times(row[c_time])
        except CellError as exc:
            raise RowProblemError(columns.time, str(exc)) from None
        recordref = self._record(reference)
        return {
            "specversion": "1.0",
            "id": f"{recordref}-v{version}",
            "source": self.source,
            "type": type_name,
            "time": time,
            "subject": subject,
            "datacontenttype": "application/json",
            "locality": locality,
            "keyversion": self._key_version,
            "recordref": recordref,
            "recordversion": version,
            "data": self._data(row, plans) if plans else {},
        }

    def _data(self, row: list[str], plans: list[tuple[FieldPlan, str, str]]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for plan, head, tail in plans:
            value = plan.constant if plan.column is None else row[plan.index].strip()
            if not value:
                continue
            if not value.isascii() and plan.column is not None:
                check_text(value, plan.column, self.mapping.encoding)
            try:
                converted = plan.convert(value)
            except CellError as exc:
                raise RowProblemError(plan.column, str(exc)) from None
            if not tail:
                data[head] = converted
                continue
            link = data.setdefault(head, {})
            if plan.path in RECORD_FIELDS:
                source = link.get("source")
                if source is None:
                    reason = f"needs {head}.source to say whose record it is"
                    raise RowProblemError(plan.column, reason)
                converted = self.pseudonymiser.record(agency_slug(source), value)
            link[tail] = converted
        return data

    def _person(self, raw: str, column: str) -> str:
        """The pseudonym for a raw identifier cell, remembered for the person's next row."""
        if self.mapping.identifier_kind == "local":
            if not raw.strip():
                raise RowProblemError(column, "is empty; every row needs the person's identifier")
            found = self.pseudonymiser.local_person(self.mapping.agency, raw.strip())
        else:
            try:
                found = self.pseudonymiser.person(normalise_nhs_number(raw))
            except IdentifierError as exc:
                reason = f"{exc}; the row is refused, not pseudonymised"
                raise RowProblemError(column, reason) from None
        if len(self._people) >= _PEOPLE_CACHE_LIMIT:
            self._people.clear()
        self._people[raw] = found
        return found
