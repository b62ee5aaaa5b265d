"""Partnership events (v1): what the partners agree, recorded by the partnership's stewards.

They name agencies and outcomes, never a person.
"""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from schemas.base import Code, Contract, Rfc3339Time, Text
from schemas.cloudevents import CloudEventCore
from schemas.outcomes import AttainmentRule, CohortRule, Percent

PartnershipUrn = Annotated[str, Field(pattern=r"^urn:partnership:[a-z0-9][a-z0-9-]{0,62}$")]
Decision = Literal["on-track", "revise-target", "escalate", "stop", "continue"]


class PartnershipFormedData(Contract):
    name: Text
    place: Code


class PartnerJoinedData(Contract):
    partner: Code


class PartnerLeftData(Contract):
    partner: Code
    reason: Text


class OutcomeDefinedData(Contract):
    outcome: Code
    name: Text
    cohort: CohortRule
    attainment: AttainmentRule
    target_percent: Percent
    period_months: Annotated[int, Field(ge=1, le=60)]


class CommitmentMadeData(Contract):
    partner: Code
    outcome: Code
    contribution: Text
    measure: Text
    target: Percent


class TargetRevisedData(Contract):
    outcome: Code
    target_percent: Percent
    partner: Code | None = None
    reason: Text


class ReviewHeldData(Contract):
    outcome: Code
    decision: Decision
    rationale: Text


class PartnershipEvent(CloudEventCore):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    source: PartnershipUrn
    time: Rfc3339Time
    datacontenttype: Literal["application/json"] = "application/json"


class PartnershipFormed(PartnershipEvent):
    type: Literal["hub.partnership.formed.v1"]
    data: PartnershipFormedData


class PartnerJoined(PartnershipEvent):
    type: Literal["hub.partnership.partner-joined.v1"]
    data: PartnerJoinedData


class PartnerLeft(PartnershipEvent):
    type: Literal["hub.partnership.partner-left.v1"]
    data: PartnerLeftData


class OutcomeDefined(PartnershipEvent):
    type: Literal["hub.partnership.outcome-defined.v1"]
    data: OutcomeDefinedData


class CommitmentMade(PartnershipEvent):
    type: Literal["hub.partnership.commitment-made.v1"]
    data: CommitmentMadeData


class TargetRevised(PartnershipEvent):
    type: Literal["hub.partnership.target-revised.v1"]
    data: TargetRevisedData


class ReviewHeld(PartnershipEvent):
    type: Literal["hub.partnership.review-held.v1"]
    data: ReviewHeldData


PARTNERSHIP_EVENT_CLASSES: tuple[type[PartnershipEvent], ...] = (
    PartnershipFormed,
    PartnerJoined,
    PartnerLeft,
    OutcomeDefined,
    CommitmentMade,
    TargetRevised,
    ReviewHeld,
)
AnyPartnershipEvent = Annotated[
    PartnershipFormed
    | PartnerJoined
    | PartnerLeft
    | OutcomeDefined
    | CommitmentMade
    | TargetRevised
    | ReviewHeld,
    Field(discriminator="type"),
]
PartnershipEventAdapter: TypeAdapter[AnyPartnershipEvent] = TypeAdapter(
    AnyPartnershipEvent, config=ConfigDict(hide_input_in_errors=True)
)
