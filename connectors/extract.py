"""What reading an extract gives: batches of events with the rows refused among them, or an
error when the extract cannot be read at all."""

from dataclasses import dataclass, field
from typing import Any

from schemas.errors import ContractError


class ExtractError(ContractError):
    """An extract that cannot be read at all (missing file or columns, not CSV)."""


@dataclass(frozen=True)
class Rejection:
    """One refused row: where it is and why, never what it held."""

    file: str
    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}"
        return (
            f"{where}, column {self.column!r}: {self.reason}"
            if self.column
            else f"{where}: {self.reason}"
        )


@dataclass
class Batch:
    """Events made from a run of rows, and the rows among them that were refused."""

    events: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    rows: int = 0
