"""The CSV connector on a deliberately messy extract: every row handled or refused by name."""

from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from connectors.csv_connector import CsvConnector
from connectors.extract import ExtractError, Rejection
from connectors.mapping import CellError, Mapping, MappingError, load_mapping
from connectors.pseudonym import Pseudonymiser
from connectors.times import LocalTimes
from schemas.events import AgencyEventAdapter
from schemas.place import Place
from tests.conftest import FIXTURES

HEADER = (
    "Occurrence Ref,Version,NHS No,Name,Date of Birth,Date/Time,Beat,Activity,"
    "Referred To,Concern,Priority,Channel,Service,Linked Ref,Notes"
)
GOOD_NHS = "943 476 5919"
NAMES = ["Zoë Ní Bhriain", "王秀英", "محمد الأحمد", "Ґалина Шевчук", "Siobhán O'Neill"]
# (line, row): the line the row starts on in the file, counting the header as line 1.
ROWS: list[bytes] = [
    f'R1,1,{GOOD_NHS},{NAMES[0]},02/01/1980,05/03/2024 14:30,Beat 1 Ashfield,REF-OUT,Homes Trust,HSG,P3,,,,"kept, not sent"'.encode(),
    b"",
    f'R2,1,943-476-5919,{NAMES[1]},02/01/1980,06/03/2024,Beat 2 Brookside,CONTACT,,DA,,999,,,"Said: ""call back""\r\nlater"'.encode(),
    f"R3,1,943 476 5918,{NAMES[2]},02/01/1980,05/03/2024 10:00,Beat 1 Ashfield,CONTACT,,DA,,999,,,".encode(),
    f"R4,1,{GOOD_NHS},{NAMES[3]},02/01/1980,31/02/2024 10:00,Beat 1 Ashfield,CONTACT,,DA,,999,,,".encode(),
    f"R5,1,{GOOD_NHS},{NAMES[3]},02/01/1980,05/03/2024 10:00,Beat 1 Ashfield,ARREST,,DA,,999,,,".encode(),
    f"R6,1,{GOOD_NHS},{NAMES[3]},02/01/1980,05/03/2024 10:00,Beat 1 Ashfield,CONTACT,,XYZ,,999,,,".encode(),
    f"R7,1,{GOOD_NHS},{NAMES[3]},02/01/1980".encode(),
    f"R1,2,{GOOD_NHS},{NAMES[0]},02/01/1980,05/03/2024 14:30,Beat 1 Ashfield,REF-OUT,Homes Trust,DA,P2,,,,".encode(),
    f"R8,1,{GOOD_NHS},{NAMES[4]},02/01/1980,05/03/2024 10:00,".encode()
    + b"Beat 1 Ashfi\xe9ld"
    + b",CONTACT,,DA,,999,,,",
    f"R9,1,{GOOD_NHS},{NAMES[4]},02/01/1980,07/03/2024 11:00,Beat 1 Ashfield,SVC-START,Homes Trust,,,,tenancy-support,HT-77,".encode(),
    f"R10,1,{GOOD_NHS},{NAMES[2]},02/01/1980,01/07/2024 09:00,Beat 2 Brookside,CONTACT,,HSG,,Foot,,,".encode(),
    f",1,{GOOD_NHS},{NAMES[2]},02/01/1980,01/07/2024 09:00,Beat 2 Brookside,CONTACT,,HSG,,Foot,,,".encode(),
    f"R11,1,{GOOD_NHS},{NAMES[2]},02/01/1980,01/07/2024 09:00,Beat 2 Brookside,REF-OUT,Homes Trust,HSG,P9,,,,".encode(),
]


def _messy_extract(folder: Path) -> Path:
    """A BOM, CRLF line ends, a quoted field with a newline, a blank line, many scripts."""
    path = folder / "police.csv"
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join([HEADER.encode(), *ROWS]) + b"\r\n")
    return path


def _read(
    connector: CsvConnector, path: Path
) -> tuple[list[dict[str, object]], list[Rejection], int]:
    events, rejections, rows = [], [], 0
    for batch in connector.read(path):
        events += batch.events
        rejections += batch.rejections
        rows += batch.rows
    return events, rejections, rows


@pytest.fixture
def messy(
    tmp_path: Path, police_mapping: Mapping, place: Place, pseudonymiser: Pseudonymiser
) -> tuple[list[dict[str, object]], list[Rejection], int]:
    return _read(
        CsvConnector(police_mapping, place, pseudonymiser, batch_size=4), _messy_extract(tmp_path)
    )


def test_every_bad_row_is_refused_with_its_line_column_and_reason(
    messy: tuple[list[dict[str, object]], list[Rejection], int],
) -> None:
    _, rejections, rows = messy
    assert rows == 13  # the blank line is not a row
    found = [(r.line, r.column) for r in rejections]
    assert found == [
        (6, "NHS No"),
        (7, "Date/Time"),
        (8, "Activity"),
        (9, "Concern"),
        (10, None),
        (12, "Beat"),
        (15, "Occurrence Ref"),
        (16, "Priority"),
    ]
    reasons = {r.line: r.reason for r in rejections}
    assert "check digit" in reasons[6]
    assert "time_formats" in reasons[7]
    assert "has 5 fields; the header has 15" in reasons[10]
    assert "encoding" in reasons[12]
    assert all(r.file == "police.csv" for r in rejections)


def test_good_rows_become_valid_events_with_local_times_in_rfc3339(
    messy: tuple[list[dict[str, object]], list[Rejection], int], pseudonymiser: Pseudonymiser
) -> None:
    events, _, _ = messy
    assert [e["time"] for e in events] == [
        "2024-03-05T14:30:00Z",
        "2024-03-06T00:00:00Z",
        "2024-03-05T14:30:00Z",
        "2024-03-07T11:00:00Z",
        "2024-07-01T09:00:00+01:00",
    ]
    for event in events:
        AgencyEventAdapter.validate_python(event)
    person = pseudonymiser.person("9434765919")
    assert {e["subject"] for e in events} == {person}
    first, contact, corrected, started, _ = events
    assert first["data"] == {
        "to_agency": "urn:agency:homes-trust",
        "need": "housing",
        "urgency": "routine",
    }
    assert contact["data"] == {
        "channel": "phone",
        "need": "domestic-abuse",
        "purpose": "welfare-check",
    }
    assert (
        corrected["recordref"] == first["recordref"] == pseudonymiser.record("police-north", "R1")
    )
    assert (first["recordversion"], corrected["recordversion"]) == (1, 2)
    assert first["id"] != corrected["id"]
    assert started["data"]["referral"] == {
        "source": "urn:agency:homes-trust",
        "recordref": pseudonymiser.record("homes-trust", "HT-77"),
    }


def test_nothing_the_mapping_does_not_name_leaves_the_agency(
    messy: tuple[list[dict[str, object]], list[Rejection], int],
) -> None:
    events, rejections, _ = messy
    sent = orjson.dumps(events).decode() + repr(rejections)
    for secret in [
        *NAMES,
        "9434765919",
        GOOD_NHS,
        "943-476-5919",
        "02/01/1980",
        "kept",
        "call back",
        "R1",
        "HT-77",
    ]:
        assert secret not in sent


def test_the_same_extract_gives_the_same_ids_again(
    tmp_path: Path, police_mapping: Mapping, place: Place, pseudonymiser: Pseudonymiser
) -> None:
    path = _messy_extract(tmp_path)
    first = _read(CsvConnector(police_mapping, place, pseudonymiser), path)[0]
    second = _read(CsvConnector(police_mapping, place, pseudonymiser, batch_size=1), path)[0]
    assert [e["id"] for e in first] == [e["id"] for e in second]


def test_an_extract_missing_a_mapped_column_is_refused_naming_it(
    tmp_path: Path, police_mapping: Mapping, place: Place, pseudonymiser: Pseudonymiser
) -> None:
    path = tmp_path / "short.csv"
    path.write_text(HEADER.replace("NHS No,", "NHS Number,") + "\n")
    with pytest.raises(ExtractError, match="'NHS No'"):
        list(CsvConnector(police_mapping, place, pseudonymiser).read(path))


def test_an_empty_extract_is_refused(
    tmp_path: Path, police_mapping: Mapping, place: Place, pseudonymiser: Pseudonymiser
) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ExtractError, match="empty"):
        list(CsvConnector(police_mapping, place, pseudonymiser).read(path))


def test_a_mapping_that_does_not_fit_the_place_lists_every_problem(
    tmp_path: Path, place: Place
) -> None:
    text = (FIXTURES / "police-north.toml").read_text()
    text = text.replace('"HSG" = "housing"', '"HSG" = "homes"').replace(
        '"SVC-START" = "hub.service.started.v1"', '"SVC-START" = "hub.service.begun.v1"'
    )
    path = tmp_path / "mapping.toml"
    path.write_text(text)
    with pytest.raises(MappingError) as caught:
        load_mapping(path, place)
    assert "codes.need.'HSG': 'homes' is not a need code" in str(caught.value)
    assert "'hub.service.begun.v1' is not a hub event type" in str(caught.value)


@pytest.mark.parametrize(
    ("formats", "cell", "expected"),
    [
        (["%d/%m/%Y %H:%M", "%d/%m/%Y"], "01/07/2024 09:05", "2024-07-01T09:05:00+01:00"),
        (["%d/%m/%Y %H:%M", "%d/%m/%Y"], " 01/12/2024 ", "2024-12-01T00:00:00Z"),
        (["%d-%b-%Y"], "05-Mar-2024", "2024-03-05T00:00:00Z"),
        (["%d %b %Y %H:%M:%S"], "05 Mar 2024 10:11:12", "2024-03-05T10:11:12Z"),
        (["%Y-%m-%d %H:%M:%S%z"], "2024-03-05 10:11:12+0200", "2024-03-05T10:11:12+02:00"),
        (["iso"], "2024-08-05T10:11:12", "2024-08-05T10:11:12+01:00"),
        (["iso"], "2024-08-05T10:11:12Z", "2024-08-05T10:11:12Z"),
    ],
)
def test_agency_time_formats_become_rfc3339_in_the_place_zone(
    formats: list[str], cell: str, expected: str
) -> None:
    assert LocalTimes(formats, ZoneInfo("Europe/London"))(cell) == expected


@pytest.mark.parametrize("cell", ["31/02/2024 10:00", "2024-03-05", "05/03/1850", "", "soon"])
def test_a_time_in_none_of_the_formats_is_refused_by_name(cell: str) -> None:
    with pytest.raises(CellError, match=r"time_formats|plausible"):
        LocalTimes(["%d/%m/%Y %H:%M", "%d/%m/%Y"], ZoneInfo("Europe/London"))(cell)


@pytest.mark.parametrize(
    "blank", [b",,,,,,,,,,,,,,", b",,,,", b" , ,\t,  ,,,,,,,,,,, ", b'"","",,,,,,,,,,,,,'], ids=repr
)
def test_a_line_of_only_empty_cells_is_skipped_as_blank(
    tmp_path: Path,
    police_mapping: Mapping,
    place: Place,
    pseudonymiser: Pseudonymiser,
    blank: bytes,
) -> None:
    # A spreadsheet saved as CSV leaves rows of empty cells where it had formatting; they are
    # blank lines, as an empty line is: neither a row refused nor an event.
    path = tmp_path / "police.csv"
    path.write_bytes(b"\r\n".join([HEADER.encode(), ROWS[0], blank, b"", blank, ROWS[8]]) + b"\r\n")
    events, rejections, rows = _read(CsvConnector(police_mapping, place, pseudonymiser), path)
    assert rejections == []
    assert (len(events), rows) == (2, 2)


def test_a_refused_row_after_empty_cell_lines_keeps_its_line_number(
    tmp_path: Path, police_mapping: Mapping, place: Place, pseudonymiser: Pseudonymiser
) -> None:
    path = tmp_path / "police.csv"
    path.write_bytes(b"\n".join([HEADER.encode(), b",,,,,,,,,,,,,,", b"", ROWS[3]]) + b"\n")
    _, rejections, rows = _read(CsvConnector(police_mapping, place, pseudonymiser), path)
    assert [(r.line, r.column) for r in rejections] == [(4, "NHS No")]
    assert rows == 1
