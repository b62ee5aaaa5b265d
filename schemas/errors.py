"""The root of every error the hub raises: each one says which record or field, and why.

Each kind carries its HTTP `status` and the `field` it is about by default; the API answers
`{"field": error.field, "reason": str(error)}` with `error.status`, so a raise names a more
precise field where it has one: `QuestionError("...", field="from")`.
"""

from typing import ClassVar


class HubError(Exception):
    """An error the user can act on; its message says what went wrong and what to do."""

    status: ClassVar[int] = 400
    field: str | None = "request"

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        if field is not None:
            self.field = field


class ContractError(HubError):
    """Input that does not meet the contract (schema, place file, mapping)."""

    status = 422
    field = "body"


class PlaceError(ContractError):
    """The place file is unreadable or inconsistent."""
