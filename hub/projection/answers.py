"""Commissioners' answers on the embedded default: the DuckDB file kept up to date, then asked.

This process owns `projections.duckdb` while it runs (DuckDB allows no second writer); it
first loads whatever the store holds beyond the position it reached, then answers. Every figure
leaves through `projections.questions.answer`, that is through disclosure control.

    with open_projections(hub, place) as projections:
        projections.catch_up()
        table = projections.answer("demand", by=["sector"], period=grid_period("2025-Q1"))

An erasure (`hub.erasure`) removes the file (`drop_projections`): the next `Projections` loads
the facts again from the first stored event, leaving the erased record out.
"""

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

import duckdb

from hub.keys.port import RecordKeys
from hub.projection.updater import Projector
from hub.store.application import Hub
from projections.answering import answer, prepare
from projections.disclosure import ControlledTable
from projections.periods import (
    Period,
    calendar_year,
    financial_year,
    month_period,
    quarter_period,
)
from projections.unit_keys import UnitKeys
from schemas.errors import HubError
from schemas.place import Place

# What `hub demo` shows of each question: its cuts, and the grid period of the latest month it
# shows ("month", "quarter", "financial_year", "year"; None: the whole record).
DEMO_VIEWS: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("demand", ("sector",), "month"),
    ("repeat_demand", ("need",), "financial_year"),
    ("many_agencies", ("month",), "quarter"),
    ("waits", ("agency",), "financial_year"),
    ("bounces", ("agency_pair",), "financial_year"),
    ("attainment", ("outcome",), None),
    ("journeys", (), None),
)


class Projections:
    """The projection file of one data folder, caught up and answering."""

    def __init__(
        self, app: Hub, keys: RecordKeys, unit_keys: UnitKeys, path: Path, place: Place
    ) -> None:
        self.path = path
        self.place = place
        # The hub shows its own progress; DuckDB's bar would write over logs and tables.
        self.con = duckdb.connect(str(self.path))
        self.con.execute("SET enable_progress_bar = false")
        self.projector = Projector(app, self.con, place, keys=keys, unit_keys=unit_keys)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Load what the store holds beyond the last position; rebuild the staging tables only
        when that added facts or the place changed: at 10M facts a rebuild takes ~45 s."""
        added = self.projector.catch_up(progress)
        place = hashlib.sha256(self.place.model_dump_json().encode()).hexdigest()
        self.con.execute("create table if not exists staging_state (place varchar)")
        if added or self.con.execute("select place from staging_state").fetchall() != [(place,)]:
            prepare(self.con, self.place)
            self.con.execute("delete from staging_state")
            self.con.execute("insert into staging_state values (?)", [place])
        return added

    def months(self) -> tuple[str, str] | None:
        """The first and last months of the facts loaded, or None before any."""
        first, last = self.con.execute(
            "select min(local_month), max(local_month) from facts"
        ).fetchone() or (None, None)
        return (str(first), str(last)) if first else None

    def answer(self, slug: str, by: Sequence[str], period: Period | None) -> ControlledTable:
        return answer(self.con, slug, list(by), period, self.place)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Projections":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def check_projections_free(path: Path) -> None:
    """Raise HubError if another process has the projection file open (DuckDB allows one)."""
    if not path.exists():
        return
    try:
        duckdb.connect(str(path)).close()
    except duckdb.IOException:
        raise HubError(
            f"{path} is open in another process (`hub serve`?): erase through its API "
            "(POST /v1/agency/records/RECORDREF/erasure), or stop it and try again"
        ) from None


def drop_projections(path: Path) -> None:
    """Delete the projection file and its write-ahead log, so nothing loaded into them remains
    (a DELETE would leave the old bytes in free blocks); the next `Projections` loads them
    again from the store. Raises HubError, deleting nothing, while another process has them."""
    check_projections_free(path)
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)


def period_of(kind: str | None, month: str) -> Period | None:
    """The grid period of this kind that holds `month` (a DEMO_VIEWS kind; None: none)."""
    if kind is None:
        return None
    year, number = map(int, month.split("-"))
    if kind == "month":
        return month_period(month)
    if kind == "quarter":
        return quarter_period(year, (number - 1) // 3 + 1)
    if kind == "financial_year":
        return financial_year(year if number >= 4 else year - 1)
    return calendar_year(year)
