"""How a question is asked, read once for the CLI, the API and the auditor's commands: its cuts
(`by`, comma-separated) and its period (`from`, `to`: whole months, both or neither).

    parse_cuts("locality, need")          # ["locality", "need"]
    parse_period("2024-01", "2024-12")    # ("2024-01", "2024-12"); None, None -> None
    check_period(None)                    # EVERYTHING: the whole record

Each refusal is a QuestionError naming its field (`by`, `from` or `to`) and how to ask.
"""

import re

from schemas.errors import HubError

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
EVERYTHING = ("0000-01", "9999-12")


class QuestionError(HubError):
    """A question asked in a way the hub does not answer; the message says how to ask it."""

    status = 422
    field = "query"


def parse_cuts(text: str | None) -> list[str]:
    """The cuts of `by`: comma-separated names, spaces around them and empty ones dropped; a
    cut given twice is refused (the question would be asked differently than written)."""
    cuts = [cut.strip() for cut in (text or "").split(",") if cut.strip()]
    if len(set(cuts)) != len(cuts):
        raise QuestionError("a cut is given twice in by: give each cut once", field="by")
    return cuts


def parse_period(start: str | None, end: str | None) -> tuple[str, str] | None:
    """The period from `from` and `to` (whole months `YYYY-MM`, inclusive); neither is None,
    the whole record."""
    if not start and not end:
        return None
    if not (start and end):
        raise QuestionError(
            "give both from and to (whole months, YYYY-MM), or neither",
            field="to" if start else "from",
        )
    return check_period((start, end))


def check_period(period: tuple[str, str] | None) -> tuple[str, str]:
    """Whole months `YYYY-MM`, from and to inclusive; None means the whole record."""
    if period is None:
        return EVERYTHING
    if len(period) != 2:
        raise QuestionError(
            "period: give two months, from and to, such as 2024-01 and 2024-12", field="from"
        )
    start, end = period
    for name, month in (("from", start), ("to", end)):
        if not isinstance(month, str) or MONTH.fullmatch(month) is None:
            raise QuestionError(
                f"period {name}: {month!r} is not a whole month; write it as YYYY-MM", field=name
            )
    if start > end:
        raise QuestionError(f"period: from {start} is after to {end}; swap them", field="from")
    return start, end
