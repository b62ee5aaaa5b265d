"""The period grid: the only periods a commissioner's or steward's question may ask.

DOMAIN.md, "Disclosure control": every figure a key can ask for is one release, and an attacker
holds them all. Free `from`/`to` spans made each overlapping period a new, separately protected
sum, and a handful of them pinned a suppressed month. The grid allows four kinds of period,
each named by a label:

    2025-03      a month
    2025-Q1      a calendar quarter (January to March)
    FY2024-25    a financial year (April 2024 to March 2025)
    2025         a calendar year

or none at all (the whole record).

    >>> grid_period("2025-Q1")
    Period(label='2025-Q1', start='2025-01', end='2025-03')
    >>> grid_period("FY2024-25").end
    '2025-03'
    >>> span_period("2025-04", "2026-03").label
    'FY2025-26'
    >>> asked_period(None, "2025-01", "2025-03").label
    '2025-Q1'

Auditors ask any span of whole months (`projections.asked.check_period`): they see exact
figures, which never leave for a commissioner. Refusals name their field and never repeat the
value asked: the API answers them to the caller as they are.
"""

import re
from dataclasses import dataclass

from projections.asked import MONTH, QuestionError

KINDS = ("month", "quarter", "financial_year", "year")
# Each kind of the grid: how its label is written, an example, and what it covers.
FORMATS: dict[str, tuple[str, str, str]] = {
    "month": ("YYYY-MM", "2025-03", "a calendar month"),
    "quarter": (
        "YYYY-Qn",
        "2025-Q1",
        "a calendar quarter: Q1 is January to March, Q4 October to December",
    ),
    "financial_year": ("FYyyyy-yy", "FY2024-25", "a financial year, April to March"),
    "year": ("YYYY", "2025", "a calendar year, January to December"),
}
HOW = (
    "ask a month (YYYY-MM), a quarter (YYYY-Qn), a financial year (FYyyyy-yy, April to March) "
    "or a calendar year (YYYY) of the grid, or leave it out for the whole record"
)
QUARTER = re.compile(r"(\d{4})-Q([1-4])")
FINANCIAL = re.compile(r"FY(\d{4})-(\d{2})")
YEAR = re.compile(r"\d{4}")
LAST_YEAR = 9998  # a financial year starting in 9999 would end in a five-digit year


@dataclass(frozen=True, slots=True)
class Period:
    """One period of the grid: its label and its first and last months (inclusive)."""

    label: str
    start: str
    end: str

    @property
    def months(self) -> tuple[str, str]:
        return self.start, self.end

    @property
    def kind(self) -> str:
        """month, quarter, financial_year or year, read from the label."""
        if MONTH.fullmatch(self.label):
            return "month"
        if QUARTER.fullmatch(self.label):
            return "quarter"
        return "financial_year" if self.label.startswith("FY") else "year"

    def to_json(self) -> dict[str, str]:
        """The period as answers carry it: `{"label", "kind", "start", "end"}`."""
        return {"label": self.label, "kind": self.kind, "start": self.start, "end": self.end}


def _month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _index(month: str) -> int:
    year, number = month.split("-")
    return int(year) * 12 + int(number) - 1


def month_period(month: str) -> Period:
    return Period(month, month, month)


def quarter_period(year: int, quarter: int) -> Period:
    first = year * 12 + 3 * (quarter - 1)
    return Period(f"{year:04d}-Q{quarter}", _month(first), _month(first + 2))


def financial_year(year: int) -> Period:
    """The financial year from April of `year` to March of the next."""
    return Period(f"FY{year:04d}-{(year + 1) % 100:02d}", f"{year:04d}-04", f"{year + 1:04d}-03")


def calendar_year(year: int) -> Period:
    return Period(f"{year:04d}", f"{year:04d}-01", f"{year:04d}-12")


def grid_period(label: str) -> Period:
    """The grid period a label names, or a QuestionError (field `period`) saying how to ask."""
    text = label.strip() if isinstance(label, str) else ""
    if MONTH.fullmatch(text):
        return month_period(text)
    if found := QUARTER.fullmatch(text):
        return quarter_period(int(found[1]), int(found[2]))
    if (found := FINANCIAL.fullmatch(text)) and int(found[1]) <= LAST_YEAR:
        if (int(found[1]) + 1) % 100 == int(found[2]):
            return financial_year(int(found[1]))
        raise QuestionError(
            f"period is not a label of the grid: a financial year names the year it starts "
            f"and the next (FYyyyy-yy); {HOW}",
            field="period",
        )
    if YEAR.fullmatch(text):
        return calendar_year(int(text))
    raise QuestionError(f"period is not a label of the grid: {HOW}", field="period")


def span_period(start: str, end: str) -> Period:
    """The grid period whose first and last months are `start` and `end` (the old `from` and
    `to`), or a QuestionError: any other span is refused, as the grid's label would ask it."""
    for name, month in (("from", start), ("to", end)):
        if not isinstance(month, str) or MONTH.fullmatch(month) is None:
            raise QuestionError(
                f"{name} is not a whole month (YYYY-MM); better, give period: {HOW}", field=name
            )
    first, last = _index(start), _index(end)
    year, offset = divmod(first, 12)
    if first == last:
        return month_period(start)
    if last - first == 2 and offset % 3 == 0:
        return quarter_period(year, offset // 3 + 1)
    if last - first == 11 and offset == 3 and year <= LAST_YEAR:
        return financial_year(year)
    if last - first == 11 and offset == 0:
        return calendar_year(year)
    raise QuestionError(
        "from and to are not the first and last months of one period of the grid, and no "
        "other span is answered (overlapping spans would give away what control hides); "
        f"give period instead: {HOW}",
        field="from",
    )


def asked_period(label: str | None, start: str | None, end: str | None) -> Period | None:
    """The grid period a commissioner's or steward's question asks: a label (`period`), or
    `from` and `to` naming exactly one grid period, or neither (None: the whole record)."""
    label, start, end = (v if v else None for v in (label, start, end))
    if label is not None and (start or end):
        raise QuestionError(
            f"give period alone, or from and to naming one period of the grid, never both; {HOW}",
            field="period",
        )
    if label is not None:
        return grid_period(label)
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise QuestionError(
            f"give both from and to, naming one period of the grid; better, give period: {HOW}",
            field="to" if start else "from",
        )
    return span_period(start, end)


def grid_within(first: str, last: str) -> list[Period]:
    """Every grid period that overlaps the months `first`..`last`: months, quarters, financial
    years, then calendar years, each in order (the choices a period picker offers)."""
    low, high = _index(first), _index(last)
    months = [month_period(_month(i)) for i in range(low, high + 1)]
    quarters = [quarter_period(i // 12, i % 12 // 3 + 1) for i in range(low - low % 3, high + 1, 3)]
    years_fy = [financial_year(y) for y in range((low - 3) // 12, (high - 3) // 12 + 1)]
    years = [calendar_year(y) for y in range(low // 12, high // 12 + 1)]
    return [*months, *quarters, *years_fy, *years]
