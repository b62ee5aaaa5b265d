"""The raw-identifier guard: free-text and coded fields must not carry a person's identifier.

    identifier_kind("call 07700 900123")  # 'a phone number'
    identifier_kind("housing")            # None

Pseudonym fields (64 hex characters) are not looked at: a hex string holds digit runs by chance,
and what it holds is not an identifier.
"""

import re
from datetime import date

from connectors.pseudonym import is_valid_nhs_number

_NHS = re.compile(r"(?<!\d)(\d{3}[ -]?\d{3}[ -]?\d{4})(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\d+])(?:\+44[ -]?|0)(?:\d[ -]?){9,10}(?!\d)")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_UK_DATE = re.compile(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?!\d)")
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_NAMED_DATE = re.compile(rf"(?<!\d)(\d{{1,2}})[- ]?({_MONTHS})[a-z]*[- ]?(\d{{4}})(?!\d)", re.I)


def identifier_kind(text: str) -> str | None:
    """What kind of raw identifier `text` seems to hold, or None; never says the value."""
    if any(is_valid_nhs_number(m.group(1)) for m in _NHS.finditer(text)):
        return "an NHS number"
    if _EMAIL.search(text):
        return "an email address"
    if _PHONE.search(text):
        return "a phone number"
    for match in _ISO_DATE.finditer(text):
        if _real_date(int(match[1]), int(match[2]), int(match[3])):
            return "a date (of birth?)"
    for match in _UK_DATE.finditer(text):
        if _real_date(int(match[3]), int(match[2]), int(match[1])):
            return "a date (of birth?)"
    if _NAMED_DATE.search(text):
        return "a date (of birth?)"
    return None


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 2100
