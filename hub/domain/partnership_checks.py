"""The Partnership aggregate's refusals and its reading of data through the partnership event
contracts (schemas/partnership.py): every command's fields and time are checked here first."""

from datetime import datetime
from typing import Any, TypeVar

from schemas.base import Contract
from schemas.errors import HubError
from schemas.validation import describe_error

C = TypeVar("C", bound=Contract)


class PartnershipError(HubError):
    """A partnership command refused: the message names the partner or outcome, and why."""

    status = 409
    field = "partnership"


def read_state(model: type[C], state: dict[str, Any]) -> C:
    """A contract model of the aggregate's state, from the fields the model names."""
    return model.model_validate({field: state[field] for field in model.model_fields})


def check_data(model: type[C], what: str, timestamp: datetime, **data: Any) -> C:
    """The data as the partnership event contract reads it, or an error naming each field."""
    if not isinstance(timestamp, datetime) or timestamp.utcoffset() is None:
        raise PartnershipError(
            f"the time of {what} must be an aware datetime with its offset, "
            "such as 2024-04-01T09:00:00+00:00"
        )
    try:
        return model.model_validate(data)
    except ValueError as exc:  # pydantic's ValidationError, caught without importing pydantic
        errors = getattr(exc, "errors", None)
        details = errors(include_input=False, include_url=False) if callable(errors) else []
        reasons = "; ".join(f"{field}: {why}" for field, why in map(describe_error, details))
        raise PartnershipError(f"{what} is not valid: {reasons or exc}") from None
