"""The auditor's routes: read-only: the stored events with their positions, and the access log."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from hub.api.deps import AuditorKey, Service
from hub.api.service import StoredRow

router = APIRouter(prefix="/v1/audit", tags=["auditor"])

After = Annotated[int, Query(ge=0, le=2**62, description="Only entries after this position.")]
Limit = Annotated[int, Query(ge=1, le=10_000)]


class StoredPage(BaseModel):
    events: list[StoredRow]
    next_after: int
    """Pass as `after` to read on."""


class AccessEntry(BaseModel):
    seq: int
    at: str
    key_id: str
    role: str
    route: str
    question: str | None
    cuts: str | None
    position: int | None


class AccessPage(BaseModel):
    entries: list[AccessEntry]
    next_after: int


@router.get("/events", response_model=StoredPage, summary="The stored events, in order")
async def events(
    who: AuditorKey, service: Service, request: Request, after: After = 0, limit: Limit = 1000
) -> StoredPage:
    """The event store's events after a position (notification id), as stored."""
    rows = await run_in_threadpool(service.stored, after, limit)
    page = StoredPage(
        events=rows,
        next_after=rows[-1].position if rows else after,
    )
    service.keys.record(who, request.url.path, None, None, page.next_after)
    return page


@router.get("/access", response_model=AccessPage, summary="Who read what, and when")
def access(
    who: AuditorKey, service: Service, request: Request, after: After = 0, limit: Limit = 1000
) -> AccessPage:
    """The access log: every read of figures or events (never the figures themselves)."""
    found = service.keys.accesses(after, limit)
    service.keys.record(who, request.url.path)
    return AccessPage(
        entries=[AccessEntry(seq=seq, **vars(a)) for seq, a in found],
        next_after=found[-1][0] if found else after,
    )
