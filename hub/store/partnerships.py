"""The partnerships application: load, command, save, on the store eventsourcing's settings choose.

`PERSISTENCE_MODULE` (default in memory; `eventsourcing.sqlite` with `SQLITE_DBNAME`, or
`eventsourcing.postgres` with `POSTGRES_*`) comes from the environment or the `env` argument:

    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": "hub-data/hub.db"}
    app = Partnerships(env=env)
    app.form_from_plan(load_place(Path("place.toml")), at=datetime(2024, 4, 1, 9, tzinfo=UTC))
"""

from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from hub.domain.partnership import Partnership, PartnershipError
from schemas.errors import HubError
from schemas.outcomes import OutcomeDefinition
from schemas.place import Commitment, Place


class PartnershipNotFound(HubError):  # noqa: N818 (a HubError named for what the user sees)
    """No partnership with this slug has been formed."""

    status = 404
    field = "partnership"


class Partnerships(Application[UUID]):
    """The partnerships of the hub; every method takes the aware time the thing happened."""

    def form(self, slug: str, name: str, place: str, at: datetime) -> UUID:
        """Form a partnership; its id is the same for the same slug on every hub."""
        if Partnership.create_id(slug) in self.repository:
            raise PartnershipError(f"partnership {slug!r} is already formed; use it as it is")
        partnership = Partnership(slug, name, place, timestamp=_utc(at))
        self.save(partnership)
        return partnership.id

    def join(self, slug: str, partner: str, at: datetime) -> None:
        partnership = self.get(slug)
        partnership.join(partner, timestamp=_utc(at))
        self.save(partnership)

    def leave(self, slug: str, partner: str, reason: str, at: datetime) -> None:
        partnership = self.get(slug)
        partnership.leave(partner, reason, timestamp=_utc(at))
        self.save(partnership)

    def define_outcome(self, slug: str, outcome: OutcomeDefinition, at: datetime) -> None:
        partnership = self.get(slug)
        _define(partnership, outcome, at)
        self.save(partnership)

    def commit(self, slug: str, commitment: Commitment, at: datetime) -> None:
        partnership = self.get(slug)
        _commit(partnership, commitment, at)
        self.save(partnership)

    def revise_target(
        self,
        slug: str,
        outcome: str,
        target_percent: float,
        reason: str,
        at: datetime,
        partner: str | None = None,
    ) -> None:
        """Revise an outcome's target, or (with `partner`) that partner's own target for it."""
        partnership = self.get(slug)
        partnership.revise_target(outcome, target_percent, reason, partner, timestamp=_utc(at))
        self.save(partnership)

    def hold_review(
        self, slug: str, outcome: str, decision: str, rationale: str, at: datetime
    ) -> None:
        partnership = self.get(slug)
        partnership.hold_review(outcome, decision, rationale, timestamp=_utc(at))
        self.save(partnership)

    def get(self, slug: str) -> Partnership:
        """The partnership as its stored events make it."""
        try:
            return self.repository.get(Partnership.create_id(slug))
        except AggregateNotFoundError:
            raise PartnershipNotFound(
                f"no partnership {slug!r} has been formed; form it first (form or form_from_plan)"
            ) from None

    def form_from_plan(self, place: Place, at: datetime) -> UUID:
        """Form the place file's partnership (slug: the place's) through the aggregate's own
        commands, in one save; if it is already formed, do nothing and return its id."""
        plan = place.partnership
        if plan is None:
            raise PartnershipError(
                f"the place {place.slug!r} has no [partnership] in its place file; add one"
            )
        partnership_id = Partnership.create_id(place.slug)
        if partnership_id in self.repository:
            return partnership_id
        definitions = {outcome.code: outcome for outcome in place.outcomes}
        partnership = Partnership(place.slug, plan.name, place.slug, timestamp=_utc(at))
        for partner in plan.partners:
            partnership.join(partner, timestamp=_utc(at))
        for code in plan.outcomes:
            _define(partnership, definitions[code], at)
        for commitment in plan.commitments:
            _commit(partnership, commitment, at)
        self.save(partnership)
        return partnership.id


def _define(partnership: Partnership, outcome: OutcomeDefinition, at: datetime) -> None:
    partnership.define_outcome(
        outcome.code,
        outcome.name,
        outcome.cohort.model_dump(mode="json"),
        outcome.attainment.model_dump(mode="json"),
        float(outcome.target_percent),
        outcome.period_months,
        timestamp=_utc(at),
    )


def _commit(partnership: Partnership, commitment: Commitment, at: datetime) -> None:
    c = commitment
    partnership.commit(
        c.partner, c.outcome, c.contribution, c.measure, float(c.target), timestamp=_utc(at)
    )


def _utc(at: datetime) -> datetime:
    """One instant, one spelling: aware times are stored in UTC (naive ones reach the guard)."""
    return at.astimezone(UTC) if at.utcoffset() is not None else at
