"""Turn pydantic's validation errors into (field, reason) pairs that never repeat the value."""

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from schemas.base import RFC3339_PATTERN, TIME_HINT


def describe_error(error: ErrorDetails, hide_unknown: bool = False) -> tuple[str, str]:
    """One error as `(field, reason)`: the field a dotted path, the reason without the input.

    Discriminator tags (`hub.referral.made.v1`) in the location are left out of the path. With
    `hide_unknown` (whatever answers a caller), an unknown key is named by its parent (`data`),
    never by itself: its name may be the value (`{"9434765919": "x"}`).
    """
    parts = [str(p) for p in error["loc"] if not (isinstance(p, str) and p.startswith("hub."))]
    reason = error["msg"].removeprefix("Value error, ")
    if hide_unknown and error["type"] == "extra_forbidden":
        parts = parts[:-1]
        reason = "has an unknown attribute (its name is not repeated): leave it out"
    if (
        error["type"] == "string_pattern_mismatch"
        and error.get("ctx", {}).get("pattern") == RFC3339_PATTERN
    ):
        reason = TIME_HINT
    if error["type"] in {"union_tag_invalid", "union_tag_not_found"}:
        # The discriminator: pydantic's own message repeats the refused type name.
        parts.append("type")
        expected = error.get("ctx", {}).get("expected_tags", "")
        if error["type"] == "union_tag_not_found":
            reason = "is missing: every event needs its type"
        else:
            reason = f"is not a known event type (expected one of {expected})"
    return ".".join(parts) or "(event)", reason


def describe(exc: ValidationError, hide_unknown: bool = False) -> list[tuple[str, str]]:
    """Every error of a ValidationError as `(field, reason)` pairs (`hide_unknown`: as above)."""
    errors = exc.errors(include_input=False, include_url=False)
    return [describe_error(e, hide_unknown) for e in errors]
