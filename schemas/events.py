"""Every agency event type of DOMAIN.md (v1) as a CloudEvent with a typed `data`.

An agency event names nobody: `subject` is the person's pseudonym, `recordref` the agency
record's pseudonym, and every coded field is a code from the place file.
"""

import re
import typing
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from schemas.base import Code, Contract, Pseudonym, Rfc3339Time, Version
from schemas.cloudevents import CloudEventCore

AGENCY_URN_PATTERN = r"^urn:agency:[a-z0-9][a-z0-9-]{0,62}$"
AgencyUrn = Annotated[str, Field(pattern=AGENCY_URN_PATTERN, strict=True)]
EVENT_ID_PATTERN = r"^[0-9a-f]{64}-v[1-9][0-9]{0,9}$"
EventId = Annotated[str, Field(pattern=EVENT_ID_PATTERN, strict=True)]
Score = Annotated[float, Field(allow_inf_nan=False)]

Urgency = Literal["routine", "urgent", "emergency"]
DeclineReason = Literal["not-eligible", "wrong-service", "no-capacity", "redirected"]
Channel = Literal["phone", "visit", "walk-in", "online", "outreach"]
Level = Literal["low", "medium", "high", "critical"]
EndReason = Literal["completed", "disengaged", "moved", "transferred", "died"]
Reporter = Literal["practitioner", "person"]
UnitRole = Literal["household", "grandparent", "close-friend", "peer-supporter", "carer"]
ObjectionScope = Literal["national-opt-out", "local"]


AGENCY_URN_PREFIX = "urn:agency:"
_TYPE_VERSION = re.compile(r"\.v[1-9][0-9]*$")


def agency_urn(slug: str) -> str:
    """The `source` of an agency: `agency_urn("police-north") == "urn:agency:police-north"`."""
    return f"{AGENCY_URN_PREFIX}{slug}"


def agency_slug(urn: str) -> str:
    """The agency a `source` names: `agency_slug("urn:agency:police-north") == "police-north"`
    (a slug is returned as it is)."""
    return urn.removeprefix(AGENCY_URN_PREFIX)


def event_kind(type_name: str) -> str:
    """An event type without the `hub.` prefix and its version:
    `event_kind("hub.referral.made.v1") == event_kind("hub.referral.made") == "referral.made"`."""
    return _TYPE_VERSION.sub("", type_name.removeprefix("hub."))


def event_id(recordref: str, recordversion: int) -> str:
    """An event's id, derived from its record's pseudonym and version (stable on re-send)."""
    return f"{recordref}-v{recordversion}"


class RecordLink(Contract):
    """Another agency record, by its agency and pseudonymised reference (stable across versions)."""

    source: AgencyUrn
    recordref: Pseudonym


class ReferralMadeData(Contract):
    to_agency: AgencyUrn
    need: Code
    urgency: Urgency
    service: Code | None = None


class ReferralAcceptedData(Contract):
    referral: RecordLink


class ReferralDeclinedData(Contract):
    referral: RecordLink
    reason: DeclineReason
    redirect_agency: AgencyUrn | None = None

    @model_validator(mode="after")
    def check_redirect(self) -> "ReferralDeclinedData":
        if (self.reason == "redirected") != (self.redirect_agency is not None):
            raise ValueError(
                "redirect_agency is given when, and only when, the reason is redirected"
            )
        return self


class ContactRecordedData(Contract):
    channel: Channel
    purpose: Code
    need: Code


class AssessmentCompletedData(Contract):
    domain: Code
    level: Level


class ServiceStartedData(Contract):
    service: Code
    referral: RecordLink | None = None


class ServiceEndedData(Contract):
    service: Code
    reason: EndReason
    referral: RecordLink | None = None


class AppointmentMissedData(Contract):
    service: Code


class OutcomeRecordedData(Contract):
    outcome: Code
    value: Score
    instrument: Code
    reported_by: Reporter


class SupportUnitLinkedData(Contract):
    unit: Pseudonym
    role: UnitRole


class ObjectionRecordedData(Contract):
    scope: ObjectionScope


class AgencyEvent(CloudEventCore):
    """The envelope every agency event shares: who (pseudonym), where, which record and version."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    id: EventId
    source: AgencyUrn
    time: Rfc3339Time
    subject: Pseudonym
    datacontenttype: Literal["application/json"] = "application/json"
    locality: Code
    keyversion: Version
    recordref: Pseudonym
    recordversion: Version


class ReferralMade(AgencyEvent):
    type: Literal["hub.referral.made.v1"]
    data: ReferralMadeData


class ReferralAccepted(AgencyEvent):
    type: Literal["hub.referral.accepted.v1"]
    data: ReferralAcceptedData


class ReferralDeclined(AgencyEvent):
    type: Literal["hub.referral.declined.v1"]
    data: ReferralDeclinedData


class ContactRecorded(AgencyEvent):
    type: Literal["hub.contact.recorded.v1"]
    data: ContactRecordedData


class AssessmentCompleted(AgencyEvent):
    type: Literal["hub.assessment.completed.v1"]
    data: AssessmentCompletedData


class ServiceStarted(AgencyEvent):
    type: Literal["hub.service.started.v1"]
    data: ServiceStartedData


class ServiceEnded(AgencyEvent):
    type: Literal["hub.service.ended.v1"]
    data: ServiceEndedData


class AppointmentMissed(AgencyEvent):
    type: Literal["hub.appointment.missed.v1"]
    data: AppointmentMissedData


class OutcomeRecorded(AgencyEvent):
    type: Literal["hub.outcome.recorded.v1"]
    data: OutcomeRecordedData


class SupportUnitLinked(AgencyEvent):
    type: Literal["hub.supportunit.linked.v1"]
    data: SupportUnitLinkedData


class ObjectionRecorded(AgencyEvent):
    type: Literal["hub.objection.recorded.v1"]
    data: ObjectionRecordedData


AGENCY_EVENT_CLASSES: tuple[type[AgencyEvent], ...] = (
    ReferralMade,
    ReferralAccepted,
    ReferralDeclined,
    ContactRecorded,
    AssessmentCompleted,
    ServiceStarted,
    ServiceEnded,
    AppointmentMissed,
    OutcomeRecorded,
    SupportUnitLinked,
    ObjectionRecorded,
)


def type_name(model: type[BaseModel]) -> str:
    """The versioned type a model stands for (`hub.referral.made.v1`), from its `type` literal."""
    return str(typing.get_args(model.model_fields["type"].annotation)[0])


AGENCY_EVENT_TYPES: dict[str, type[AgencyEvent]] = {
    type_name(cls): cls for cls in AGENCY_EVENT_CLASSES
}
"""Each versioned type name (`hub.referral.made.v1`) with its model."""

AnyAgencyEvent = Annotated[
    ReferralMade
    | ReferralAccepted
    | ReferralDeclined
    | ContactRecorded
    | AssessmentCompleted
    | ServiceStarted
    | ServiceEnded
    | AppointmentMissed
    | OutcomeRecorded
    | SupportUnitLinked
    | ObjectionRecorded,
    Field(discriminator="type"),
]
_HIDDEN = ConfigDict(hide_input_in_errors=True)
AgencyEventAdapter: TypeAdapter[AnyAgencyEvent] = TypeAdapter(AnyAgencyEvent, config=_HIDDEN)
AgencyBatchAdapter: TypeAdapter[list[AnyAgencyEvent]] = TypeAdapter(
    list[AnyAgencyEvent], config=_HIDDEN
)
"""Validate a batch of agency events (a JSON array) in one call."""
