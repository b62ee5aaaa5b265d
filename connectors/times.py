"""Agency time cells to RFC 3339: local times of the place, in the formats agencies use.

    parse = LocalTimes(["%d/%m/%Y %H:%M", "%d/%m/%Y"], ZoneInfo("Europe/London"))
    parse("01/07/2024 09:00")  # '2024-07-01T09:00:00+01:00'

A million rows hold few distinct dates and few distinct clock times, but many distinct
date-and-time pairs; so the date part and the clock part are each parsed (slowly, by strptime)
once, and only combined per row.
"""

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from connectors.mapping import CellError
from schemas.base import format_rfc3339

_CLOCK_ONLY = re.compile(r"^(%[HIMSfpz]|[:.])+$")
_MEMO_LIMIT = 200_000
_ISO_CLOCKS = {"%H:%M": "09:30", "%H:%M:%S": "09:30:00"}  # format: a sample of its exact length


class LocalTimes:
    """Parse time cells with the mapping's formats, tried in order; CellError says why not."""

    def __init__(self, formats: list[str], zone: ZoneInfo) -> None:
        self.formats = formats
        self.zone = zone
        self._plans = [_split(fmt) for fmt in formats]
        self._days: dict[tuple[int, str], date | None] = {}
        self._clocks: dict[tuple[int, str], time | None] = {}
        self._memo: dict[str, str] = {}

    def __call__(self, raw: str) -> str:
        found = self._memo.get(raw)
        if found is None:
            found = format_rfc3339(self._parse(raw.strip()))
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[raw] = found
        return found

    def _parse(self, text: str) -> datetime:
        for number, (day_format, clock_format) in enumerate(self._plans):
            moment = self._try(number, day_format, clock_format, text)
            if moment is not None:
                if not 1900 <= moment.year <= 2100:
                    raise CellError("is not a plausible date (years 1900 to 2100)", field="time")
                return moment if moment.tzinfo else moment.replace(tzinfo=self.zone)
        formats = ", ".join(self.formats)
        raise CellError(
            f"is not a time in any of the mapping's time_formats ({formats})", field="time"
        )

    def _try(self, number: int, day_format: str, clock_format: str, text: str) -> datetime | None:
        if day_format == "iso":
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                return None
        day_text, clock_text = text.rpartition(" ")[::2] if clock_format else (text, "")
        key = (number, day_text.rstrip())
        if key not in self._days:
            parsed = _strptime(key[1], day_format)
            self._days[key] = None if parsed is None else parsed.date()
        day = self._days[key]
        if day is None or not clock_format:
            return None if day is None else datetime.combine(day, time())
        key = (number, clock_text)
        if key not in self._clocks:
            self._clocks[key] = _clock(clock_text, clock_format)
        clock = self._clocks[key]
        return None if clock is None else datetime.combine(day, clock)


def _strptime(text: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(text, fmt)
    except ValueError:
        return None


def _clock(text: str, fmt: str) -> time | None:
    """A clock time; the common 24-hour forms are read by the C parser, the rest by strptime."""
    if fmt in _ISO_CLOCKS and len(text) == len(_ISO_CLOCKS[fmt]) and text[2] == ":":
        try:
            return time.fromisoformat(text)
        except ValueError:
            return None
    parsed = _strptime(text, fmt)
    return None if parsed is None else parsed.timetz()


def _split(fmt: str) -> tuple[str, str]:
    """A format as (date part, clock part); the clock part is empty for a date-only format."""
    head, _, tail = fmt.rpartition(" ")
    if fmt != "iso" and head and _CLOCK_ONLY.match(tail):
        return head.rstrip(), tail
    return fmt, ""
