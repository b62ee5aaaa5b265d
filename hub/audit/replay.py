"""Replay: the hub's state as it stood at a past moment, rebuilt from the stored events alone.

Two bases (the `--basis` of `hub audit replay`):
- **record**: what the hub knew then: only the events stored by then (`--position N`: at or
  before store position N; `--as-of TIME`: recorded by the hub at or before TIME).
- **event**: what is now known to have been so then: every event stored up to now that
  happened at or before TIME, late arrivals included.

    cut = Cut.at_position(1200)                      # or Cut.as_of(when, "event")
    replay_journey(app, person, cut)                 # the Journey, or None
    con = replay_projections(app, keys, unit_keys, place, cut)  # DuckDB facts + staging, as then
    answer(con, "demand", ["locality"], None, place) # the question, as it was answered then

A partnership's events are kept by their own time on both bases: stewards record decisions as
they are made. Objections apply from when they are kept, as everywhere (DOMAIN.md), so a
replay of a moment before an objection still shows what was known then.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import duckdb
import orjson
from eventsourcing.persistence import StoredEvent
from pydantic import TypeAdapter, ValidationError

from hub.domain.journey import Journey
from hub.domain.partnership import Partnership
from hub.keys.port import RecordKeys
from hub.projection.updater import Projector, SetAside
from hub.store.application import Hub
from projections.answering import answer, prepare
from projections.periods import span_period
from projections.questions import raw_answer
from projections.unit_keys import UnitKeys
from schemas.base import Rfc3339Time
from schemas.errors import HubError
from schemas.place import Place

Basis = Literal["record", "event"]


class ReplayError(HubError):
    """A replay asked for in a way that means nothing; the message says how to ask."""

    status = 422
    field = "query"


@dataclass(frozen=True)
class Cut:
    """Which stored events a replay keeps; see the module docstring."""

    basis: Basis
    position: int | None = None
    time: datetime | None = None

    @classmethod
    def at_position(cls, position: int) -> "Cut":
        if position < 0:
            raise ReplayError(f"--position {position}: a store position is 0 or more")
        return cls("record", position=position)

    @classmethod
    def as_of(cls, time: datetime, basis: Basis = "record") -> "Cut":
        if time.tzinfo is None:
            raise ReplayError(f"--as-of {time.isoformat()}: give the time with its offset")
        return cls(basis, time=time)

    @classmethod
    def asked(cls, as_of: str | None, position: int | None, basis: str = "record") -> "Cut":
        """The cut a request names: a time as text (RFC 3339 with seconds and an offset) on
        either basis, or a store position (record basis); one of them."""
        if (as_of is None) == (position is None):
            raise ReplayError("give a time (as of) or a store position, one of them")
        if basis not in ("record", "event"):
            raise ReplayError(f"basis {basis!r}: choose record or event")
        if position is not None:
            if basis != "record":
                raise ReplayError(
                    "a position is a record-basis cut; give a time for the event basis"
                )
            return cls.at_position(position)
        try:
            when = TypeAdapter(Rfc3339Time).validate_python(as_of)
        except ValidationError:
            raise ReplayError(
                f"as of {as_of!r}: write an RFC 3339 time with seconds and an offset "
                "(e.g. 2025-03-31T23:59:59Z)"
            ) from None
        return cls.as_of(when, "event" if basis == "event" else "record")

    def keeps(self, position: int, event: Any) -> bool:
        """Whether the stored event at `position` (decoded: `event`) belongs to the replay."""
        if self.position is not None:
            return position <= self.position
        assert self.time is not None
        if self.basis == "record" and hasattr(event, "recorded_at"):
            return bool(event.recorded_at <= self.time)
        # A journey's start is recorded with its first agency event; that decides for it.
        return bool(event.timestamp <= self.time)

    def describe(self) -> str:
        if self.position is not None:
            return f"as stored up to position {self.position}"
        assert self.time is not None
        when = self.time.isoformat()
        if self.basis == "record":
            return f"as the hub had recorded it by {when}"
        return f"as now known to have been at {when} (late arrivals included)"


def _stored(app: Hub, originator: UUID) -> list[tuple[int, StoredEvent]]:
    """An aggregate's stored events with their positions, by version."""
    return app.queries.events_with_positions(originator)


def _aggregate(app: Hub, originator: UUID, cut: Cut) -> Any:
    events: list[tuple[int, Any]] = [
        (p, app.mapper.to_domain_event(s)) for p, s in _stored(app, originator)
    ]
    kept = [cut.keeps(p, event) for p, event in events]
    if cut.position is None and len(events) > 1 and isinstance(events[0][1], Journey.Event):
        kept[0] = any(kept[1:])  # a journey starts when its first kept agency event is kept
    if not kept or not kept[0]:
        return None
    state = None
    for (_, event), keep in zip(events, kept, strict=True):
        if keep:  # on the event basis a later version may belong though an earlier does not
            state = event.mutate(state)
    return state


def replay_journey(app: Hub, person: str, cut: Cut) -> Journey | None:
    """The journey of `person` (hub pseudonym) as of the cut; None if it had not begun."""
    journey = _aggregate(app, Journey.create_id(person), cut)
    assert journey is None or isinstance(journey, Journey)
    return journey


def replay_partnership(app: Hub, slug: str, cut: Cut) -> Partnership | None:
    """The partnership as of the cut; None if it had not been formed."""
    partnership = _aggregate(app, Partnership.create_id(slug), cut)
    assert partnership is None or isinstance(partnership, Partnership)
    return partnership


class CutProjector(Projector):
    """The projection updater, keeping only the stored events the cut keeps."""

    def __init__(
        self,
        app: Hub,
        con: duckdb.DuckDBPyConnection,
        place: Place,
        cut: Cut,
        keys: RecordKeys,
        unit_keys: UnitKeys,
    ) -> None:
        super().__init__(app, con, place, keys=keys, unit_keys=unit_keys)
        self.cut = cut

    def _rows(self, notifications: Any) -> tuple[list[dict[str, object]], list[SetAside]]:
        return super()._rows(self._kept(notifications))

    def _kept(self, notifications: Iterable[Any]) -> Iterator[Any]:
        for notification in notifications:
            if self.cut.position is not None:
                if notification.id <= self.cut.position:
                    yield notification
            elif self.cut.keeps(notification.id, self.app.mapper.to_domain_event(notification)):
                yield notification


def replay_projections(
    app: Hub, keys: RecordKeys, unit_keys: UnitKeys, place: Place, cut: Cut
) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory projection (facts and staging) of what the cut keeps; ask it with
    `projections.questions.answer` (controlled) or `raw_answer` (auditors' exact figures)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    CutProjector(app, con, place, cut, keys, unit_keys).catch_up()
    prepare(con, place)
    return con


def state_of(aggregate: Any) -> dict[str, Any]:
    """An aggregate's state for people to read: its attributes, as JSON can carry them."""
    state = {k.lstrip("_"): v for k, v in vars(aggregate).items()}
    return orjson.loads(orjson.dumps(state, default=str))  # type: ignore[no-any-return]


def replay_document(
    app: Hub,
    keys: RecordKeys,
    unit_keys: UnitKeys,
    cut: Cut,
    *,
    journey: str | None = None,
    partnership: str | None = None,
    question: str | None = None,
    place: Callable[[], Place] | None = None,
    by: Sequence[str] = (),
    period: tuple[str, str] | None = None,
    exact: bool = False,
) -> dict[str, Any]:
    """One replay as `hub audit replay` and `GET /v1/audit/replay` answer it: a journey, the
    partnership or a question (controlled, or `exact` for auditors) as of the cut."""
    if sum(x is not None for x in (journey, partnership, question)) != 1:
        raise ReplayError("replay one thing: a journey, the partnership or a question")
    document: dict[str, Any] = {"replay": cut.describe()}
    if journey is not None:
        found = replay_journey(app, journey, cut)
        document["journey"] = None if found is None else state_of(found)
    elif partnership is not None:
        formed = replay_partnership(app, partnership, cut)
        document["partnership"] = None if formed is None else state_of(formed)
    else:
        assert question is not None
        if place is None:
            raise ReplayError("a question's replay needs the place file")
        the_place = place()
        con = replay_projections(app, keys, unit_keys, the_place, cut)
        try:
            if exact:
                document["rows"] = raw_answer(con, question, list(by), period, the_place)
            else:
                # Controlled figures only ever for a period of the grid, as commissioners ask.
                grid = None if period is None else span_period(*period)
                document |= answer(con, question, list(by), grid, the_place).to_json()
        finally:
            con.close()
    return document
