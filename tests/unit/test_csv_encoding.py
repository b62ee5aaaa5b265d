"""The CSV connector on an extract not saved in the mapping's encoding (a spreadsheet's
Windows-1252): refused naming the encoding tried, the byte, and the mapping line to add; never
the text."""

from pathlib import Path

import pytest

from connectors.csv_connector import CsvConnector
from connectors.extract import ExtractError
from connectors.mapping import Mapping
from connectors.pseudonym import Pseudonymiser
from schemas.place import Place
from tests.unit.test_csv_connector import GOOD_NHS, HEADER, _read


def test_a_windows_1252_file_is_refused_naming_the_encodings_and_the_line_to_add(
    tmp_path: Path, police_mapping: Mapping, place: Place, pseudonymiser: Pseudonymiser
) -> None:
    # Saved from a spreadsheet as Windows-1252: 'ë' is the byte 0xEB, '£' 0xA3; not UTF-8.
    row = (
        f"R1,1,{GOOD_NHS},Zoë Brontë,02/01/1980,05/03/2024 10:00,Beat 1 Ashfiëld,CONTACT,,DA,,999,,,"
        "owes £5"
    )
    path = tmp_path / "police.csv"
    path.write_bytes(HEADER.encode() + b"\r\n" + row.encode("cp1252") + b"\r\n")
    _, rejections, _ = _read(CsvConnector(police_mapping, place, pseudonymiser), path)
    assert [(r.line, r.column) for r in rejections] == [(2, "Beat")]
    reason = rejections[0].reason
    assert "utf-8-sig" in reason  # the encoding tried
    assert "Windows-1252" in reason  # the one the bytes look like
    assert 'encoding = "cp1252"' in reason  # and the mapping line that says so
    assert "byte 13" in reason  # where in the cell, never what
    assert not any(text in reason for text in ("Ashfi", "ë", "\\x", "\\u", "\udceb"))

    # With the line added the row is read (the locality's spelling mapped too).
    localities = {**police_mapping.codes["locality"], "Beat 1 Ashfiëld": "ashfield"}
    fixed = police_mapping.model_copy(
        update={"encoding": "cp1252", "codes": {**police_mapping.codes, "locality": localities}}
    )
    events, rejections, _ = _read(CsvConnector(fixed, place, pseudonymiser), path)
    assert (len(events), rejections) == (1, [])


def test_bytes_that_are_not_windows_1252_either_get_no_cp1252_hint(
    tmp_path: Path, police_mapping: Mapping, place: Place, pseudonymiser: Pseudonymiser
) -> None:
    row = f"R1,1,{GOOD_NHS},x,02/01/1980,05/03/2024 10:00,Beat 1 Ashfield,CONTACT,,D\x81A,,999,,,"
    path = tmp_path / "police.csv"
    path.write_bytes(HEADER.encode() + b"\n" + row.encode("latin-1") + b"\n")
    _, rejections, _ = _read(CsvConnector(police_mapping, place, pseudonymiser), path)
    assert [(r.line, r.column) for r in rejections] == [(2, "Concern")]
    reason = rejections[0].reason
    assert "utf-8-sig" in reason
    assert "byte 2" in reason
    assert "`encoding`" in reason
    assert "cp1252" not in reason


def test_a_windows_1252_header_missing_a_mapped_column_says_how_to_read_it(
    tmp_path: Path, police_mapping: Mapping, place: Place, pseudonymiser: Pseudonymiser
) -> None:
    localities = {**police_mapping.codes["locality"]}
    columns = police_mapping.columns.model_copy(update={"locality": "Quartier désigné"})
    mapping = police_mapping.model_copy(
        update={"columns": columns, "codes": {"locality": localities}}
    )
    path = tmp_path / "police.csv"
    path.write_bytes(HEADER.replace("Beat", "Quartier désigné").encode("cp1252") + b"\r\n")
    with pytest.raises(ExtractError) as refused:
        _read(CsvConnector(mapping, place, pseudonymiser), path)
    message = str(refused.value)
    assert "'Quartier désigné'" in message  # the mapping's name for the column
    assert "utf-8-sig" in message
    assert "byte 11 of column 7 of the header" in message
    assert 'encoding = "cp1252"' in message
