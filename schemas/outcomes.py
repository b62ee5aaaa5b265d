"""The outcome framework's rules: who is in an outcome's cohort, and what counts as attaining it."""

from typing import Annotated, Literal

from pydantic import Field

from schemas.base import Code, Contract, Text
from schemas.events import Reporter

EventKind = Literal[
    "hub.referral.made",
    "hub.contact.recorded",
    "hub.assessment.completed",
    "hub.service.started",
]
"""The event kinds that can bring a person into a cohort."""

Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class CohortRule(Contract):
    """A person joins the cohort at their first event of these kinds, for these needs."""

    events: Annotated[list[EventKind], Field(min_length=1)]
    needs: list[Code] = []
    sectors: list[Code] = []


class AttainmentRule(Contract):
    """A cohort member attains the outcome when it is recorded at or above `min_value`
    within `within_days` of joining the cohort."""

    min_value: float
    within_days: Annotated[int, Field(ge=1, le=1096)]
    reported_by: Annotated[list[Reporter], Field(min_length=1)] = ["practitioner", "person"]


class OutcomeDefinition(Contract):
    """One outcome of the framework; `code` is what agencies record in `hub.outcome.recorded`."""

    code: Code
    name: Text
    cohort: CohortRule
    attainment: AttainmentRule
    target_percent: Percent
    period_months: Literal[1, 3, 12] = 12
    """The period each target is judged over, on the period grid: a month (1), a calendar
    quarter (3) or a calendar year (12)."""
