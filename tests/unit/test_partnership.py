"""The Partnership aggregate and its application: commands, guards, the plan, replay."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from hub.domain.partnership import Partnership
from hub.domain.partnership_checks import PartnershipError
from hub.domain.partnership_records import Review, Revision
from hub.store.partnerships import PartnershipNotFound, Partnerships
from schemas.errors import HubError
from schemas.outcomes import AttainmentRule, CohortRule, OutcomeDefinition
from schemas.place import Commitment, Place

T0 = datetime(2024, 4, 1, 9, 0, tzinfo=UTC)
POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
HOUSING = OutcomeDefinition(
    code="stable-housing",
    name="Living in stable housing",
    cohort=CohortRule(events=["hub.referral.made"], needs=["housing"]),
    attainment=AttainmentRule(min_value=7, within_days=365),
    target_percent=60,
)
COHORT = HOUSING.cohort.model_dump(mode="json")
ATTAINMENT = HOUSING.attainment.model_dump(mode="json")


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


def northbridge() -> Partnership:
    """A partnership with two partners, one outcome and one commitment."""
    p = Partnership("northbridge", "Northbridge Together", "northbridge", timestamp=at(0))
    p.join("police-north", timestamp=at(1))
    p.join("homes-trust", timestamp=at(1))
    p.define_outcome(
        "stable-housing", "Living in stable housing", COHORT, ATTAINMENT, 60, 12, timestamp=at(2)
    )
    p.commit(
        "homes-trust",
        "stable-housing",
        "Tenancy support",
        "Started in 10 days",
        80,
        timestamp=at(3),
    )
    return p


def run_script(app: Partnerships) -> None:
    """The same commands, with the same times, for the repeatability tests."""
    app.form("northbridge", "Northbridge Together", "northbridge", at(0))
    for partner in ("police-north", "homes-trust", "peer-circle"):
        app.join("northbridge", partner, at(1))
    app.define_outcome("northbridge", HOUSING, at(2))
    app.commit(
        "northbridge",
        Commitment(
            partner="homes-trust",
            outcome="stable-housing",
            contribution="Tenancy support",
            measure="Started in 10 days",
            target=80,
        ),
        at(3),
    )
    app.revise_target("northbridge", "stable-housing", 55, "Baseline was lower", at(30))
    app.revise_target("northbridge", "stable-housing", 70, "New staff", at(31), "homes-trust")
    app.hold_review("northbridge", "stable-housing", "on-track", "Referrals up", at(90))
    app.leave("northbridge", "peer-circle", "Group closed", at(120))


def stored(app: Partnerships) -> list[tuple[str, UUID, int, bytes]]:
    """Every stored event as the notification log holds it: topic, id, version, state bytes."""
    items = app.recorder.select_notifications(start=1, limit=1000)
    return [(n.topic, n.originator_id, n.originator_version, n.state) for n in items]


# Forming


def test_the_same_slug_always_gives_the_same_partnership_id() -> None:
    first = Partnership("northbridge", "Northbridge Together", "northbridge", timestamp=at(0))
    again = Partnership("northbridge", "Another name", "northbridge", timestamp=at(5))
    assert first.id == again.id == Partnership.create_id("northbridge")
    assert first.id != Partnership.create_id("southbridge")


def test_the_stored_event_topics_name_the_aggregate_module() -> None:
    # The store keeps each event's class topic; stores already written must still read.
    topics = [get_topic(type(e)) for e in northbridge().collect_events()]
    assert sorted(set(topics)) == [
        "hub.domain.partnership:Partnership.CommitmentMade",
        "hub.domain.partnership:Partnership.Formed",
        "hub.domain.partnership:Partnership.OutcomeDefined",
        "hub.domain.partnership:Partnership.PartnerJoined",
    ]


def test_a_formed_partnership_records_its_name_place_and_time() -> None:
    p = Partnership("northbridge", "Northbridge Together", "northbridge", timestamp=at(0))
    assert (p.slug, p.name, p.place) == ("northbridge", "Northbridge Together", "northbridge")
    assert p.created_on == at(0)
    assert p.current_partners() == []
    assert p.pending_events[0].timestamp == at(0)
    assert type(p.pending_events[0]).__name__ == "Formed"


def test_a_partnership_slug_must_be_a_code() -> None:
    with pytest.raises(PartnershipError, match="'North Bridge' is not a slug"):
        Partnership("North Bridge", "Northbridge Together", "northbridge", timestamp=at(0))


# Joining and leaving


def test_partners_join_in_order_and_each_event_carries_its_own_time() -> None:
    p = northbridge()
    assert p.current_partners() == ["police-north", "homes-trust"]
    assert [e.timestamp for e in p.pending_events] == [at(0), at(1), at(1), at(2), at(3)]
    assert [type(e).__name__ for e in p.pending_events] == [
        "Formed",
        "PartnerJoined",
        "PartnerJoined",
        "OutcomeDefined",
        "CommitmentMade",
    ]


def test_a_current_partner_cannot_join_again() -> None:
    p = northbridge()
    with pytest.raises(PartnershipError, match="police-north is already a partner of Northbridge"):
        p.join("police-north", timestamp=at(4))


def test_a_partner_leaves_with_a_reason_and_its_commitments_end_with_it() -> None:
    p = northbridge()
    p.leave("homes-trust", "Service decommissioned", timestamp=at(10))
    assert p.current_partners() == ["police-north"]
    assert p.commitments_of() == []
    departure = p.departures[0]
    assert departure["reason"] == "Service decommissioned"
    assert (departure["joined_at"], departure["left_at"]) == (at(1), at(10))
    assert list(departure["commitments"]) == ["stable-housing"]


def test_a_partner_that_left_can_join_again() -> None:
    p = northbridge()
    p.leave("police-north", "Restructure", timestamp=at(10))
    p.join("police-north", timestamp=at(20))
    assert p.current_partners() == ["homes-trust", "police-north"]


def test_only_a_current_partner_can_leave() -> None:
    p = northbridge()
    with pytest.raises(PartnershipError, match="peer-circle is not a partner of Northbridge"):
        p.leave("peer-circle", "Never joined", timestamp=at(4))


def test_a_partner_leaving_needs_a_reason() -> None:
    with pytest.raises(PartnershipError, match="homes-trust leaving is not valid: reason: "):
        northbridge().leave("homes-trust", "", timestamp=at(4))


# Defining outcomes


def test_an_outcome_is_defined_with_its_rules_target_and_period() -> None:
    assert northbridge().outcome_definitions() == [HOUSING]


def test_an_outcome_is_defined_only_once() -> None:
    p = northbridge()
    with pytest.raises(
        PartnershipError,
        match="stable-housing is already defined in Northbridge Together; revise its target",
    ):
        p.define_outcome("stable-housing", "Again", COHORT, ATTAINMENT, 50, 12, timestamp=at(4))


def test_an_outcome_with_broken_rules_is_refused_naming_each_field() -> None:
    with pytest.raises(PartnershipError) as refused:
        northbridge().define_outcome(
            "safe-at-home", "Safe at home", {"events": []}, ATTAINMENT, 150, 12, timestamp=at(4)
        )
    message = str(refused.value)
    assert message.startswith("defining outcome 'safe-at-home' is not valid: ")
    assert "cohort.events: " in message
    assert "target_percent: " in message


# Committing


def test_a_partner_commits_to_an_outcome_with_its_own_measure_and_target() -> None:
    assert northbridge().commitments_of("homes-trust") == [
        Commitment(
            partner="homes-trust",
            outcome="stable-housing",
            contribution="Tenancy support",
            measure="Started in 10 days",
            target=80,
        )
    ]


def test_only_a_current_partner_can_commit() -> None:
    p = northbridge()
    with pytest.raises(
        PartnershipError,
        match=r"^peer-circle is not a partner of Northbridge Together; add it first$",
    ):
        p.commit("peer-circle", "stable-housing", "Peer support", "Sessions", 50, timestamp=at(4))


def test_a_commitment_needs_a_defined_outcome() -> None:
    p = northbridge()
    with pytest.raises(
        PartnershipError,
        match=r"^safe-at-home is not a shared outcome of Northbridge Together; define it first$",
    ):
        p.commit("police-north", "safe-at-home", "Welfare checks", "Checks", 90, timestamp=at(4))


def test_a_partner_commits_once_to_an_outcome() -> None:
    p = northbridge()
    with pytest.raises(
        PartnershipError, match="homes-trust has already committed to stable-housing"
    ):
        p.commit("homes-trust", "stable-housing", "More", "More", 90, timestamp=at(4))


def test_a_commitment_target_above_100_percent_is_refused() -> None:
    with pytest.raises(
        PartnershipError, match="police-north to stable-housing is not valid: target"
    ):
        northbridge().commit(
            "police-north", "stable-housing", "Checks", "Checks", 101, timestamp=at(4)
        )


# Revising targets


def test_an_outcome_target_is_revised_with_a_reason() -> None:
    p = northbridge()
    p.revise_target("stable-housing", 55, "Baseline was lower", timestamp=at(30))
    assert p.outcome("stable-housing").target_percent == 55
    assert p.revisions("stable-housing") == [Revision(55, "Baseline was lower", at(30))]
    assert p.commitments_of()[0].target == 80


def test_a_partner_commitment_target_is_revised_on_its_own() -> None:
    p = northbridge()
    p.revise_target("stable-housing", 70, "New staff", "homes-trust", timestamp=at(30))
    assert p.commitments_of("homes-trust")[0].target == 70
    assert p.revisions("stable-housing", "homes-trust") == [Revision(70, "New staff", at(30))]
    assert p.outcome("stable-housing").target_percent == 60


def test_revising_a_target_needs_a_defined_outcome_and_a_commitment() -> None:
    p = northbridge()
    with pytest.raises(PartnershipError, match="safe-at-home is not a shared outcome"):
        p.revise_target("safe-at-home", 50, "Why not", timestamp=at(30))
    with pytest.raises(
        PartnershipError, match="police-north has made no commitment to stable-housing"
    ):
        p.revise_target("stable-housing", 50, "Why not", "police-north", timestamp=at(30))
    with pytest.raises(PartnershipError, match="peer-circle is not a partner"):
        p.revise_target("stable-housing", 50, "Why not", "peer-circle", timestamp=at(30))


# Reviewing


def test_reviews_are_held_per_outcome_in_order_with_a_decision_and_rationale() -> None:
    p = northbridge()
    p.hold_review("stable-housing", "on-track", "Referrals up", timestamp=at(90))
    p.hold_review("stable-housing", "revise-target", "Too ambitious", timestamp=at(180))
    assert p.reviews() == [
        Review("stable-housing", "on-track", "Referrals up", at(90)),
        Review("stable-housing", "revise-target", "Too ambitious", at(180)),
    ]
    assert p.reviews("other") == []


def test_a_review_needs_a_known_decision_and_a_defined_outcome() -> None:
    p = northbridge()
    with pytest.raises(
        PartnershipError, match="the review of stable-housing is not valid: decision"
    ):
        p.hold_review("stable-housing", "abandon", "No", timestamp=at(90))
    with pytest.raises(PartnershipError, match="safe-at-home is not a shared outcome"):
        p.hold_review("safe-at-home", "on-track", "Fine", timestamp=at(90))


# Time


def test_a_command_without_an_aware_time_is_refused() -> None:
    p = northbridge()
    with pytest.raises(PartnershipError, match="must be an aware datetime"):
        p.join("peer-circle", timestamp=datetime(2024, 4, 1, 9))
    with pytest.raises(TypeError, match="timestamp"):
        p.join("peer-circle")  # type: ignore[call-arg]


def test_the_domain_never_reads_the_clock() -> None:
    p = northbridge()
    with pytest.raises(PartnershipError, match="needs the time it happened"):
        p.trigger_event(Partnership.PartnerJoined, partner="peer-circle")
    assert p.version == 5


def test_every_partnership_error_is_a_hub_error() -> None:
    assert issubclass(PartnershipError, HubError)
    assert issubclass(PartnershipNotFound, HubError)


# The application


def test_the_application_forms_and_changes_a_partnership() -> None:
    app = Partnerships(env=POPO)
    run_script(app)
    p = app.get("northbridge")
    assert p.current_partners() == ["police-north", "homes-trust"]
    assert p.outcome("stable-housing").target_percent == 55
    assert p.commitments_of()[0].target == 70
    assert p.reviews()[0].decision == "on-track"
    assert p.version == 10


def test_a_missing_partnership_is_reported_by_its_slug() -> None:
    with pytest.raises(PartnershipNotFound, match="no partnership 'nowhere' has been formed"):
        Partnerships(env=POPO).get("nowhere")


def test_a_partnership_is_formed_only_once() -> None:
    app = Partnerships(env=POPO)
    app.form("northbridge", "Northbridge Together", "northbridge", at(0))
    with pytest.raises(PartnershipError, match="'northbridge' is already formed"):
        app.form("northbridge", "Northbridge Together", "northbridge", at(1))


def test_the_application_stores_times_in_utc_whatever_their_offset() -> None:
    london_summer = timezone(timedelta(hours=1))
    app = Partnerships(env=POPO)
    app.form("northbridge", "Northbridge Together", "northbridge", T0.astimezone(london_summer))
    assert app.get("northbridge").created_on.utcoffset() == timedelta(0)
    assert b'"2024-04-01T09:00:00+00:00"' in stored(app)[0][3]


def test_form_from_plan_gives_the_plans_partners_outcomes_and_commitments(place: Place) -> None:
    app = Partnerships(env=POPO)
    partnership_id = app.form_from_plan(place, at(0))
    p = app.get("testbridge")
    assert p.id == partnership_id == Partnership.create_id("testbridge")
    assert p.name == "Testbridge Together"
    assert p.current_partners() == ["police-north", "homes-trust"]
    assert p.outcome_definitions() == place.outcomes
    assert place.partnership is not None
    assert p.commitments_of() == place.partnership.commitments


def test_form_from_plan_a_second_time_changes_nothing(place: Place) -> None:
    app = Partnerships(env=POPO)
    first = app.form_from_plan(place, at(0))
    version = app.get("testbridge").version
    assert app.form_from_plan(place, at(1)) == first
    assert app.get("testbridge").version == version
    assert len(stored(app)) == version


def test_form_from_plan_needs_a_partnership_in_the_place_file(place: Place) -> None:
    without = place.model_copy(update={"partnership": None})
    with pytest.raises(PartnershipError, match="has no \\[partnership\\]"):
        Partnerships(env=POPO).form_from_plan(without, at(0))


# Replay and repeatability


def test_a_partnership_reloaded_from_the_store_equals_the_one_built() -> None:
    built = northbridge()
    built.revise_target("stable-housing", 55, "Baseline was lower", timestamp=at(30))
    built.hold_review("stable-housing", "on-track", "Referrals up", timestamp=at(90))
    built.leave("police-north", "Restructure", timestamp=at(100))
    app = Partnerships(env=POPO)
    app.save(built)
    reloaded = app.get("northbridge")
    assert reloaded == built
    assert reloaded.version == built.version == 8
    assert reloaded.modified_on == at(100)


def test_the_same_commands_at_the_same_times_store_identical_bytes() -> None:
    one, two = Partnerships(env=POPO), Partnerships(env=POPO)
    run_script(one)
    run_script(two)
    assert len(stored(one)) == 10
    assert stored(one) == stored(two)


def test_the_same_commands_store_identical_bytes_on_sqlite_as_in_memory(tmp_path: Path) -> None:
    apps = [
        Partnerships(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})
        for path in (tmp_path / "one.db", tmp_path / "two.db")
    ]
    in_memory = Partnerships(env=POPO)
    for app in [*apps, in_memory]:
        run_script(app)
    assert stored(apps[0]) == stored(apps[1]) == stored(in_memory)
    reopened = Partnerships(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "one.db"),
        }
    )
    assert reopened.get("northbridge") == in_memory.get("northbridge")
