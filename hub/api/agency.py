"""The agency's routes: publish CloudEvents (structured, batch or binary mode), see its counts,
erase one of its records."""

import re
from typing import Annotated, Any, Literal
from urllib.parse import unquote

import orjson
from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from hub.api.deps import AgencyKey, Service
from hub.api.errors import ServerFaultError, server_side
from hub.api.service import HubService
from hub.erasure.erase import UnknownRecordError
from schemas.base import PSEUDONYM_PATTERN, format_rfc3339
from schemas.cloudevents import CloudEvent, attribute_from_text
from schemas.errors import HubError
from schemas.events import EVENT_ID_PATTERN, AnyAgencyEvent
from schemas.submission import Outcome, validated
from schemas.validation import describe

router = APIRouter(prefix="/v1", tags=["agency"])

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
EVENT_ID = re.compile(EVENT_ID_PATTERN)


class TooLargeError(HubError):
    """A request over the body or batch limit (413)."""

    status = 413
    field = "body"


class BodyError(HubError):
    """A body that is not the JSON its content type promises (400)."""

    status = 400
    field = "body"


class BinaryAttributeError(HubError):
    """A binary-mode attribute (a `ce-*` header) that is not of its type (422)."""

    status = 422
    field = "attributes"


class UnsupportedError(HubError):
    """A content type the hub does not take (415)."""

    status = 415
    field = "content-type"


class EventOutcome(BaseModel):
    index: int
    """The event's place in the request, from 0."""
    id: str | None
    """The event's id, where it is a well-formed hub event id (a refused one is never echoed)."""
    status: Literal["accepted", "duplicate", "rejected"]
    field: str | None = None
    reason: str | None = None


class PublishResult(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    events: list[EventOutcome]


class Submissions(BaseModel):
    agency: str
    accepted: int
    duplicate: int
    rejected: int


class Erased(BaseModel):
    agency: str
    recordref: str
    """The record's pseudonym, as the agency sent it."""
    events: int
    """How many stored events the erasure covered (every version of the record)."""
    erased_at: str
    """When the record was erased (RFC 3339); an erasure asked again answers the first."""


REQUEST_BODY = {
    "required": True,
    "content": {
        STRUCTURED: {"schema": {"type": "object"}},
        BATCH: {"schema": {"type": "array", "items": {"type": "object"}}},
        "application/json": {
            "schema": {"type": "object"},
            "description": "binary mode: the event's data, its attributes in ce-* headers",
        },
    },
}


@router.post(
    "/events",
    response_model=PublishResult,
    openapi_extra={"requestBody": REQUEST_BODY},
    responses={413: {"description": "over the body or batch limit"}, 415: {}},
    summary="Publish events as the agency of the key",
)
async def publish(request: Request, who: AgencyKey, service: Service) -> PublishResult:
    """Structured mode (`application/cloudevents+json`, one event), batches
    (`application/cloudevents-batch+json`, an array) or binary mode (`ce-*` headers, the data
    as `application/json`). Every event is answered: accepted, duplicate, or rejected with its
    field and reason; an event whose `source` is another agency is rejected as forbidden."""
    settings = service.runtime.settings
    body = await request.body()  # held to `api_max_body` by the gate (hub.api.limits)
    events = _events(request, body)
    if len(events) > settings.api_max_batch:
        raise TooLargeError(
            f"a batch of {len(events):,} events is over the limit of {settings.api_max_batch:,}: "
            "send it in smaller batches"
        )
    assert who.agency is not None  # agency keys always name their agency
    # Checking and answering a batch is CPU work: off the event loop, so other requests go on.
    return await run_in_threadpool(_publish, service, who.agency, events)


def _publish(service: HubService, agency: str, events: list[Any]) -> PublishResult:
    checked = validated(events)  # the one validation of each event: ingest keeps the models
    malformed = _malformed(events, checked)
    wellformed = [c for i, c in enumerate(checked) if i not in malformed]
    with server_side():  # the log or the key stores failing is the hub's fault
        outcomes = iter(service.publish(agency, wellformed))
    shown = []
    for index, event in enumerate(events):
        if index in malformed:
            field, reason = malformed[index]
            shown.append(
                EventOutcome(
                    index=index,
                    id=None,
                    status="rejected",
                    field=field,
                    reason=f"malformed CloudEvent: {reason}",
                )
            )
            continue
        o = next(outcomes)
        given = event.get("id")
        shown.append(
            EventOutcome(
                index=index,
                id=given if isinstance(given, str) and EVENT_ID.fullmatch(given) else None,
                status=o.status,
                field=o.field,
                reason=o.reason,
            )
        )
    counts = {
        s: sum(1 for o in shown if o.status == s) for s in ("accepted", "duplicate", "rejected")
    }
    return PublishResult(**counts, events=shown)


@router.get("/agency/submissions", response_model=Submissions, summary="The agency's counts")
def submissions(who: AgencyKey, service: Service) -> Submissions:
    """How many of the agency's events the hub has accepted, found duplicate, and rejected."""
    assert who.agency is not None
    return Submissions(agency=who.agency, **service.keys.submissions(who.agency))


@router.post(
    "/agency/records/{recordref}/erasure",
    response_model=Erased,
    responses={404: {"description": "the agency has no such record"}},
    summary="Erase one of the agency's records",
)
async def erasure(
    recordref: Annotated[str, Path(pattern=PSEUDONYM_PATTERN)],
    who: AgencyKey,
    service: Service,
) -> Erased | JSONResponse:
    """A legal erasure of one record (its pseudonym, as the agency sent it in `recordref`): its
    personal payload becomes unreadable everywhere the hub holds it, and it is left out of every
    answer from now on. The stored events stay as they were (ciphertext), so the audit ledger
    still verifies. Asked again, it answers the erasure already made."""
    assert who.agency is not None
    try:
        done = await run_in_threadpool(service.erase, who.agency, recordref)
    except UnknownRecordError:
        return JSONResponse(
            {
                "field": "recordref",
                "reason": "the agency has no such record: give the record's pseudonym as the "
                "agency sent it (the recordref of its events)",
            },
            status_code=404,
        )
    except HubError as error:  # a store failed (the record keys, the projections): not the caller
        raise ServerFaultError(type(error).__name__) from error
    return Erased(
        agency=done.agency,
        recordref=recordref,
        events=done.events,
        erased_at=format_rfc3339(done.erased_at),
    )


def _malformed(
    events: list[Any], checked: list[AnyAgencyEvent | Outcome]
) -> dict[int, tuple[str, str]]:
    """The events that are not CloudEvents 1.0 at all, by index, with the first problem. Only
    an event that failed the agency schema is checked again: every agency event is a CloudEvent."""
    found: dict[int, tuple[str, str]] = {}
    for index, event in enumerate(events):
        if not isinstance(checked[index], Outcome):
            continue
        if not isinstance(event, dict):
            found[index] = ("(event)", "an event must be a JSON object")
            continue
        try:
            CloudEvent.model_validate(event)
        except ValidationError as error:
            found[index] = describe(error, hide_unknown=True)[0]
    return found


def _attribute(name: str, text: str) -> str | int:
    """A binary-mode attribute's value: an integer attribute strictly ASCII digits, bounded."""
    try:
        return attribute_from_text(name, text)
    except ValueError as error:
        raise BinaryAttributeError(str(error), field=name) from None


def _events(request: Request, body: bytes) -> list[Any]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    binary = "ce-specversion" in request.headers
    if media not in {STRUCTURED, BATCH} and not (binary and media in {"application/json", ""}):
        raise UnsupportedError(
            f"the content type is not taken: send {STRUCTURED}, {BATCH}, or "
            "binary mode (ce-* headers with application/json data)"
        )
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        raise BodyError("the body is not JSON") from None
    if binary and media not in {STRUCTURED, BATCH}:
        event: dict[str, Any] = {}
        for name, value in request.headers.items():
            if name.startswith("ce-"):
                if name[3:] in event:  # the hub never picks one of two values
                    raise BinaryAttributeError("a ce-* header is given twice: give each once")
                event[name[3:]] = _attribute(name[3:], unquote(value))
        if media:
            event["datacontenttype"] = media
        if parsed is not None:
            event["data"] = parsed
        return [event]
    if media == BATCH:
        if not isinstance(parsed, list):
            raise BodyError(f"a {BATCH} body must be a JSON array of events")
        return parsed
    if not isinstance(parsed, dict):
        raise BodyError(f"a {STRUCTURED} body must be one JSON object (an event)")
    return [parsed]
