"""The Partnership aggregate: partners, shared outcomes, commitments, target revisions, reviews.

Every command takes `timestamp`, the aware time the thing happened: eventsourcing makes it the
event's own timestamp instead of reading the clock, and `Partnership.Event.create_timestamp`
refuses, so nothing here can read the clock and a replay stores the same bytes.

    at = datetime(2024, 4, 1, 9, tzinfo=UTC)
    p = Partnership("northbridge", "Northbridge Together", "northbridge", timestamp=at)
    p.join("police-north", timestamp=at)
"""

import re
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from hub.domain.partnership_checks import PartnershipError, check_data, read_state
from hub.domain.partnership_records import Review, Revision
from schemas.base import CODE_PATTERN
from schemas.outcomes import OutcomeDefinition
from schemas.partnership import (
    CommitmentMadeData,
    OutcomeDefinedData,
    PartnerJoinedData,
    PartnerLeftData,
    PartnershipFormedData,
    ReviewHeldData,
    TargetRevisedData,
)
from schemas.place import Commitment

# The aggregate and its nested events stay here: the store names each event by its topic,
# `hub.domain.partnership:Partnership.Formed`. The error and the records are re-exported.
__all__ = ["PARTNERSHIP_NAMESPACE", "Partnership", "PartnershipError", "Review", "Revision"]

# Never change: every stored partnership's id is derived from it and its slug.
PARTNERSHIP_NAMESPACE = UUID("566cf39a-60c8-4de3-a17b-cfb0376686a5")


class Partnership(Aggregate):
    """The partners of a place, the outcomes they share, and each partner's own commitments."""

    class Event(Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            # The domain has no clock: a command without its time is a programming error.
            raise PartnershipError("a partnership event needs the time it happened; pass it")

    @staticmethod
    def create_id(slug: str) -> UUID:
        """The same partnership slug always gives the same id."""
        return uuid5(PARTNERSHIP_NAMESPACE, slug)

    @event("Formed")
    def __init__(self, slug: str, name: str, place: str, *, timestamp: datetime) -> None:
        if not re.fullmatch(CODE_PATTERN, str(slug)):
            raise PartnershipError(f"{slug!r} is not a slug: use a-z, 0-9 and hyphens")
        check_data(PartnershipFormedData, f"forming {slug}", timestamp, name=name, place=place)
        self.slug = slug
        self.name = name
        self.place = place
        self.partners: dict[str, datetime] = {}  # current partner -> when it joined
        self.departures: list[dict[str, Any]] = []
        self.outcomes: dict[str, dict[str, Any]] = {}
        self.commitments: dict[str, dict[str, dict[str, Any]]] = {}  # partner -> outcome -> it
        self.reviews_held: list[dict[str, Any]] = []

    @event("PartnerJoined")
    def join(self, partner: str, *, timestamp: datetime) -> None:
        check_data(PartnerJoinedData, f"{partner} joining", timestamp, partner=partner)
        self.check_not_partner(partner)
        self.partners[partner] = timestamp

    @event("PartnerLeft")
    def leave(self, partner: str, reason: str, *, timestamp: datetime) -> None:
        check_data(PartnerLeftData, f"{partner} leaving", timestamp, partner=partner, reason=reason)
        self.check_partner(partner)
        # Its commitments end with its membership; they stay on the record of its departure.
        self.departures.append(
            {
                "partner": partner,
                "reason": reason,
                "joined_at": self.partners.pop(partner),
                "left_at": timestamp,
                "commitments": self.commitments.pop(partner, {}),
            }
        )

    @event("OutcomeDefined")
    def define_outcome(
        self,
        outcome: str,
        name: str,
        cohort: dict[str, Any],
        attainment: dict[str, Any],
        target_percent: float,
        period_months: int,
        *,
        timestamp: datetime,
    ) -> None:
        data = check_data(
            OutcomeDefinedData,
            f"defining outcome {outcome!r}",
            timestamp,
            outcome=outcome,
            name=name,
            cohort=cohort,
            attainment=attainment,
            target_percent=target_percent,
            period_months=period_months,
        )
        self.check_not_defined(outcome)
        # State is the contract's own reading of the data: one shape on every replay.
        definition = {"code": outcome, **data.model_dump(mode="json", exclude={"outcome"})}
        self.outcomes[outcome] = {**definition, "defined_at": timestamp, "revisions": []}

    @event("CommitmentMade")
    def commit(
        self,
        partner: str,
        outcome: str,
        contribution: str,
        measure: str,
        target: float,
        *,
        timestamp: datetime,
    ) -> None:
        data = check_data(
            CommitmentMadeData,
            f"the commitment of {partner} to {outcome}",
            timestamp,
            partner=partner,
            outcome=outcome,
            contribution=contribution,
            measure=measure,
            target=target,
        )
        self.check_partner(partner)
        self.check_defined(outcome)
        self.check_not_committed(partner, outcome)
        made = {**data.model_dump(mode="json"), "made_at": timestamp, "revisions": []}
        self.commitments.setdefault(partner, {})[outcome] = made

    @event("TargetRevised")
    def revise_target(
        self,
        outcome: str,
        target_percent: float,
        reason: str,
        partner: str | None = None,
        *,
        timestamp: datetime,
    ) -> None:
        data = check_data(
            TargetRevisedData,
            f"revising the target of {outcome}" + (f" for {partner}" if partner else ""),
            timestamp,
            outcome=outcome,
            target_percent=target_percent,
            partner=partner,
            reason=reason,
        )
        self.check_defined(outcome)
        if partner is None:
            revised = self.outcomes[outcome]
            revised["target_percent"] = data.target_percent
        else:
            self.check_partner(partner)
            self.check_committed(partner, outcome)
            revised = self.commitments[partner][outcome]
            revised["target"] = data.target_percent
        revised["revisions"].append(
            {"target_percent": data.target_percent, "reason": reason, "revised_at": timestamp}
        )

    @event("ReviewHeld")
    def hold_review(
        self, outcome: str, decision: str, rationale: str, *, timestamp: datetime
    ) -> None:
        check_data(
            ReviewHeldData,
            f"the review of {outcome}",
            timestamp,
            outcome=outcome,
            decision=decision,
            rationale=rationale,
        )
        self.check_defined(outcome)
        self.reviews_held.append(
            {"outcome": outcome, "decision": decision, "rationale": rationale, "held_at": timestamp}
        )

    # Guards: called first by the commands above; what passed once passes again on replay.

    def check_partner(self, partner: str) -> None:
        if partner not in self.partners:
            raise PartnershipError(f"{partner} is not a partner of {self.name}; add it first")

    def check_not_partner(self, partner: str) -> None:
        if partner in self.partners:
            raise PartnershipError(f"{partner} is already a partner of {self.name}")

    def check_defined(self, outcome: str) -> None:
        if outcome not in self.outcomes:
            raise PartnershipError(
                f"{outcome} is not a shared outcome of {self.name}; define it first"
            )

    def check_not_defined(self, outcome: str) -> None:
        if outcome in self.outcomes:
            raise PartnershipError(
                f"{outcome} is already defined in {self.name}; revise its target instead"
            )

    def check_committed(self, partner: str, outcome: str) -> None:
        if outcome not in self.commitments.get(partner, {}):
            raise PartnershipError(
                f"{partner} has made no commitment to {outcome} in {self.name}; make one first"
            )

    def check_not_committed(self, partner: str, outcome: str) -> None:
        if outcome in self.commitments.get(partner, {}):
            raise PartnershipError(
                f"{partner} has already committed to {outcome} in {self.name}; "
                "revise its target instead"
            )

    # Reads: what a steward or the attainment question needs, as contract models.

    def current_partners(self) -> list[str]:
        """The current partners, in the order they joined."""
        return list(self.partners)

    def outcome(self, code: str) -> OutcomeDefinition:
        """One shared outcome with its current target."""
        self.check_defined(code)
        return read_state(OutcomeDefinition, self.outcomes[code])

    def outcome_definitions(self) -> list[OutcomeDefinition]:
        """Every shared outcome with its current target, in the order defined."""
        return [self.outcome(code) for code in self.outcomes]

    def commitments_of(self, partner: str | None = None) -> list[Commitment]:
        """The current partners' commitments (or one partner's), with their current targets."""
        return [
            read_state(Commitment, made)
            for who, commitments in self.commitments.items()
            if partner is None or who == partner
            for made in commitments.values()
        ]

    def revisions(self, outcome: str, partner: str | None = None) -> list[Revision]:
        """The revisions of an outcome's target (or of one partner's commitment), in order."""
        self.check_defined(outcome)
        if partner is None:
            state = self.outcomes[outcome]
        else:
            state = self.commitments.get(partner, {}).get(outcome, {"revisions": []})
        return [Revision(**r) for r in state["revisions"]]

    def reviews(self, outcome: str | None = None) -> list[Review]:
        """The reviews held (of every outcome, or of one), in the order held."""
        return [
            Review(**r) for r in self.reviews_held if outcome is None or r["outcome"] == outcome
        ]
