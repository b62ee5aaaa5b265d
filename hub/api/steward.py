"""The partnership steward's routes: what the partners agree, and attainment against it.

Everything a steward writes (names, reasons, contributions, rationales, codes) is held to the
raw-identifier guard the agencies' events are: an NHS number, an email address, a phone number
or a date in any of it is a 422 naming the field, the value never echoed nor stored.
"""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.api.commissioner import Asked, answer_response
from hub.api.deps import Service, StewardKey
from hub.api.service import HubService
from hub.ingest.guard import identifier_kind
from schemas.base import Code, Rfc3339Time, Text, format_rfc3339
from schemas.errors import HubError
from schemas.outcomes import OutcomeDefinition
from schemas.place import Commitment

router = APIRouter(prefix="/v1/partnerships", tags=["steward"])


class RawIdentifierError(HubError):
    """A steward's text that holds a person's identifier (422; the value never said)."""

    status = 422
    field = "body"


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    at: Rfc3339Time | None = None
    """When it was agreed (RFC 3339); now if absent."""

    def when(self) -> datetime:
        return self.at or datetime.now(UTC)

    @model_validator(mode="after")
    def _no_raw_identifiers(self) -> "Command":
        """Refuse the command if any text in it, at any depth, holds a raw identifier."""
        stack: list[tuple[str, object]] = [("body", self)]
        while stack:
            path, value = stack.pop()
            if isinstance(value, BaseModel):
                stack += [(f"{path}.{k}", v) for k, v in reversed(value.__dict__.items())]
            elif isinstance(value, list | tuple):
                stack += [(f"{path}.{i}", v) for i, v in reversed(list(enumerate(value)))]
            elif isinstance(value, str) and (kind := identifier_kind(value)) is not None:
                raise RawIdentifierError(
                    f"looks like {kind}; a person's identifiers never enter the partnership's"
                    " record",
                    field=path,
                )
        return self


class Form(Command):
    slug: Code
    name: Text
    place: Code


class Join(Command):
    partner: Code


class Leave(Command):
    reason: Text


class Define(Command):
    outcome: OutcomeDefinition


class Commit(Command):
    commitment: Commitment


class Revise(Command):
    outcome: Code
    target_percent: Annotated[float, Field(ge=0, le=100)]
    reason: Text
    partner: Code | None = None


class Review(Command):
    outcome: Code
    decision: Text
    rationale: Text


class Done(BaseModel):
    partnership: str
    version: int


@router.post("", status_code=201, summary="Form a partnership")
def form(body: Form, who: StewardKey, service: Service) -> Done:
    service.runtime.app.form(body.slug, body.name, body.place, body.when())
    return _done(service, body.slug)


@router.post("/{slug}/partners", status_code=201, summary="Add a partner")
def join(slug: str, body: Join, who: StewardKey, service: Service) -> Done:
    service.runtime.app.join(slug, body.partner, body.when())
    return _done(service, slug)


@router.post(
    "/{slug}/partners/{partner}/leave",
    status_code=201,
    summary="Remove a partner",
)
def leave(slug: str, partner: str, body: Leave, who: StewardKey, service: Service) -> Done:
    service.runtime.app.leave(slug, partner, body.reason, body.when())
    return _done(service, slug)


@router.post("/{slug}/outcomes", status_code=201, summary="Define a shared outcome")
def define(slug: str, body: Define, who: StewardKey, service: Service) -> Done:
    service.runtime.app.define_outcome(slug, body.outcome, body.when())
    return _done(service, slug)


@router.post(
    "/{slug}/commitments",
    status_code=201,
    summary="Record a partner's commitment",
)
def commit(slug: str, body: Commit, who: StewardKey, service: Service) -> Done:
    service.runtime.app.commit(slug, body.commitment, body.when())
    return _done(service, slug)


@router.post("/{slug}/targets", status_code=201, summary="Revise a target")
def revise(slug: str, body: Revise, who: StewardKey, service: Service) -> Done:
    service.runtime.app.revise_target(
        slug, body.outcome, body.target_percent, body.reason, body.when(), partner=body.partner
    )
    return _done(service, slug)


@router.post(
    "/{slug}/reviews",
    status_code=201,
    summary="Record a review and its decision",
)
def review(slug: str, body: Review, who: StewardKey, service: Service) -> Done:
    service.runtime.app.hold_review(slug, body.outcome, body.decision, body.rationale, body.when())
    return _done(service, slug)


@router.get("/{slug}", summary="The partnership as agreed so far")
def partnership(slug: str, who: StewardKey, service: Service) -> dict[str, Any]:
    p = service.partnership(slug)
    return {
        "slug": p.slug,
        "name": p.name,
        "version": p.version,
        "partners": p.current_partners(),
        "outcomes": [o.model_dump(mode="json") for o in p.outcome_definitions()],
        "commitments": [c.model_dump(mode="json") for c in p.commitments_of()],
        "revisions": [
            {"outcome": o.code, **_plain(r._asdict())}
            for o in p.outcome_definitions()
            for r in p.revisions(o.code)
        ],
        "reviews": [_plain(r._asdict()) for r in p.reviews()],
    }


@router.get(
    "/{slug}/attainment",
    summary="Attainment against the shared targets, disclosure-controlled",
    responses={200: {"content": {"text/csv": {}}}},
)
async def attainment(
    slug: str,
    who: StewardKey,
    service: Service,
    request: Request,
    asked: Asked,
) -> Response:
    """The `attainment` question under the same disclosure control as commissioners get."""
    await run_in_threadpool(service.partnership, slug)  # 404 for a partnership not formed
    return await answer_response(service, who, request, "attainment", asked)


def _done(service: HubService, slug: str) -> Done:
    return Done(partnership=slug, version=service.partnership(slug).version)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: format_rfc3339(v) if isinstance(v, datetime) else v for k, v in values.items()}
