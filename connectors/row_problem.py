"""A row refused while it is read: the column at fault (None for the whole row) and why, never
the value; the CSV connector turns it into the row's Rejection."""


class RowProblemError(Exception):
    def __init__(self, column: str | None, reason: str) -> None:
        self.column, self.reason = column, reason


def check_text(value: str, column: str) -> None:
    """Refuse text that did not decode in the mapping's encoding (kept as lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RowProblemError(
            column, "is not valid text in the mapping's encoding; set `encoding`"
        ) from None
