"""Every agency event type validates as the contract says, and refuses without echoing."""

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from schemas.events import (
    AGENCY_EVENT_TYPES,
    AgencyBatchAdapter,
    AgencyEventAdapter,
    ReferralMade,
    agency_slug,
    agency_urn,
    event_kind,
)
from schemas.validation import describe

PERSON = "ab" * 32
RECORD = "cd" * 32


def _event(type_name: str, data: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"{RECORD}-v1",
        "source": "urn:agency:police-north",
        "type": type_name,
        "time": "2024-03-05T14:30:00Z",
        "subject": PERSON,
        "locality": "ashfield",
        "keyversion": 1,
        "recordref": RECORD,
        "recordversion": 1,
        "data": data,
    } | envelope


LINK = {"source": "urn:agency:homes-trust", "recordref": "ef" * 32}
EXAMPLES = {
    "hub.referral.made.v1": {
        "to_agency": "urn:agency:homes-trust",
        "need": "housing",
        "urgency": "routine",
    },
    "hub.referral.accepted.v1": {"referral": LINK},
    "hub.referral.declined.v1": {"referral": LINK, "reason": "no-capacity"},
    "hub.contact.recorded.v1": {"channel": "phone", "purpose": "welfare-check", "need": "housing"},
    "hub.assessment.completed.v1": {"domain": "housing", "level": "high"},
    "hub.service.started.v1": {"service": "tenancy-support", "referral": LINK},
    "hub.service.ended.v1": {"service": "tenancy-support", "reason": "completed"},
    "hub.appointment.missed.v1": {"service": "tenancy-support"},
    "hub.outcome.recorded.v1": {
        "outcome": "stable-housing",
        "value": 7.5,
        "instrument": "outcome-star",
        "reported_by": "person",
    },
    "hub.supportunit.linked.v1": {"unit": "12" * 32, "role": "household"},
    "hub.objection.recorded.v1": {"scope": "national-opt-out"},
}


def test_there_is_an_example_for_every_event_type() -> None:
    assert set(EXAMPLES) == set(AGENCY_EVENT_TYPES)


@pytest.mark.parametrize("type_name", sorted(EXAMPLES))
def test_each_event_type_accepts_its_example_and_keeps_its_type(type_name: str) -> None:
    event = AgencyEventAdapter.validate_json(orjson.dumps(_event(type_name, EXAMPLES[type_name])))
    assert isinstance(event, AGENCY_EVENT_TYPES[type_name])
    again = AgencyEventAdapter.validate_json(AgencyEventAdapter.dump_json(event))
    assert again == event


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": "Jane Smith"}, "subject"),
        ({"source": "https://police.example"}, "source"),
        ({"time": "2023-11-01T09:15"}, "time"),
        ({"time": 1709649000}, "time"),
        ({"recordversion": "2"}, "recordversion"),
        ({"keyversion": 0}, "keyversion"),
        ({"locality": "Ashfield Ward"}, "locality"),
        ({"nhsnumber": "9434765919"}, "nhsnumber"),
        ({"type": "hub.referral.made.v9"}, "type"),
    ],
)
def test_a_bad_envelope_is_refused_naming_the_field_never_the_value(
    change: dict[str, Any], field: str
) -> None:
    event = _event("hub.referral.made.v1", EXAMPLES["hub.referral.made.v1"], **change)
    with pytest.raises(ValidationError) as caught:
        AgencyEventAdapter.validate_json(orjson.dumps(event))
    described = describe(caught.value)
    assert field in [f for f, _ in described]
    for value in change.values():
        assert str(value) not in repr(described)


def test_a_redirected_decline_needs_its_redirect_agency_and_only_then() -> None:
    bad = [
        _event("hub.referral.declined.v1", {"referral": LINK, "reason": "redirected"}),
        _event(
            "hub.referral.declined.v1",
            {"referral": LINK, "reason": "no-capacity", "redirect_agency": "urn:agency:peer-group"},
        ),
    ]
    with pytest.raises(ValidationError) as caught:
        AgencyBatchAdapter.validate_json(orjson.dumps(bad))
    assert [loc for loc, _ in describe(caught.value)] == ["0.data", "1.data"]


def test_a_coded_field_refuses_free_text() -> None:
    data = dict(EXAMPLES["hub.referral.made.v1"], need="Mrs Jones, 12 High St")
    with pytest.raises(ValidationError) as caught:
        ReferralMade.model_validate(_event("hub.referral.made.v1", data))
    assert describe(caught.value)[0][0] == "data.need"
    assert "Jones" not in str(caught.value)


def test_an_agency_urn_and_slug_are_one_pair_and_a_type_has_one_kind() -> None:
    assert agency_urn("police-north") == "urn:agency:police-north"
    assert agency_slug(agency_urn("police-north")) == agency_slug("police-north") == "police-north"
    assert event_kind("hub.referral.made.v1") == event_kind("hub.referral.made") == "referral.made"
    assert event_kind("hub.supportunit.linked.v12") == "supportunit.linked"
    assert {event_kind(t) for t in AGENCY_EVENT_TYPES} == {
        t.removeprefix("hub.").rsplit(".v", 1)[0] for t in AGENCY_EVENT_TYPES
    }
