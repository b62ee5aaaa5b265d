"""A row refused while it is read: the column at fault (None for the whole row) and why, never
the value; the CSV connector turns it into the row's Rejection."""

import codecs

# Encoders that write a byte-order mark first; the cell's own bytes are the plain codec's.
_WITHOUT_BOM = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}


class RowProblemError(Exception):
    def __init__(self, column: str | None, reason: str) -> None:
        self.column, self.reason = column, reason


def check_text(value: str, column: str, encoding: str) -> None:
    """Refuse text that did not decode in the mapping's encoding (kept as lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RowProblemError(column, undecodable(value, exc.start, encoding)) from None


def undecodable(value: str, start: int, encoding: str, where: str = "the cell") -> str:
    """Why a cell is not text in `encoding`: the encoding tried, the byte (never the text) that
    does not decode, and the mapping line to add when the bytes read as Windows-1252."""
    reason = f"is not valid text in the mapping's encoding ({encoding})"
    try:
        name = codecs.lookup(encoding).name
        plain = _WITHOUT_BOM.get(name, name)
        raw = value.encode(plain, errors="surrogateescape")
        offset = len(value[:start].encode(plain, errors="surrogateescape"))
    except (LookupError, UnicodeError):
        return f"{reason}; set `encoding` in the mapping to the one the extract was saved in"
    reason += f": byte {offset + 1} of {where} does not decode"
    if name != "cp1252":
        try:
            raw.decode("cp1252")
        except UnicodeDecodeError:
            pass
        else:
            return (
                f"{reason}; the bytes read cleanly as Windows-1252, as spreadsheets save: "
                'add `encoding = "cp1252"` to the mapping (at the top, above [columns])'
            )
    return f"{reason}; set `encoding` in the mapping to the one the extract was saved in"


def undecodable_header(header: list[str], encoding: str) -> str:
    """Why the header is not text in `encoding` (as `undecodable`), or "" when it is."""
    for position, name in enumerate(header):
        try:
            name.encode("utf-8")
        except UnicodeEncodeError as exc:
            where = f"column {position + 1} of the header"
            return "; the header " + undecodable(name, exc.start, encoding, where)
    return ""
