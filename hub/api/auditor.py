"""The auditor's routes: the stored events with their positions, the access log, and the audit
ledger: the verifier key, signed checkpoints, verification, proofs, replay and lineage (the same
answers as `hub audit ...`)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from hub.api.deps import AuditOf, AuditorKey, Service
from hub.api.service import StoredRow
from hub.audit.auditor import b64, cell_of
from hub.audit.replay import (
    Cut,
    ReplayError,
    replay_document,
)
from hub.audit.verification import Verification
from projections.asked import parse_cuts, parse_period
from projections.periods import span_period

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


Size = Annotated[int | None, Query(ge=0, le=2**62, description="A tree size (default: now).")]


class KeyInfo(BaseModel):
    verifier_key: str
    """The C2SP signed-note verifier key that checks every checkpoint the hub signs."""
    origin: str


@router.get("/key", response_model=KeyInfo, summary="The checkpoints' public key")
def key(who: AuditorKey, audit: AuditOf, service: Service, request: Request) -> KeyInfo:
    service.keys.record(who, request.url.path)
    return KeyInfo(verifier_key=audit.key.verifier_key(), origin=audit.origin)


@router.get("/checkpoints", summary="Every signed checkpoint, as the file auditors copy away")
def checkpoints(who: AuditorKey, audit: AuditOf, service: Service, request: Request) -> Response:
    """The checkpoint file: each C2SP signed note followed by a blank line."""
    service.keys.record(who, request.url.path)
    notes = audit.file.notes() if audit.file.path.exists() else []
    return Response("".join(note + "\n" for note in notes), media_type="text/plain")


@router.post("/checkpoints", summary="Sign a checkpoint now")
async def sign(who: AuditorKey, audit: AuditOf, service: Service, request: Request) -> Response:
    """Sign the ledger's current size and root now (or return the latest if it has not grown)."""
    note = await run_in_threadpool(audit.checkpoint)
    service.keys.record(who, request.url.path)
    return Response(note, media_type="text/plain")


@router.get("/status", summary="The latest signed checkpoint and the last verification")
async def status(
    who: AuditorKey, audit: AuditOf, service: Service, request: Request
) -> dict[str, Any]:
    """What the audit page shows: the latest checkpoint (note, tree size, root), the last
    verification's result (`null` before the first: `GET /v1/audit/verify` runs one), and the
    stored events the projections set aside because they cannot be opened (`setAside`: how
    many, and each one's position, source, event and reason)."""
    latest = await run_in_threadpool(audit.latest)
    aside = await run_in_threadpool(service.set_aside)
    service.keys.record(who, request.url.path)
    checkpoint = None
    if latest is not None:
        note, signed = latest
        checkpoint = {"note": note, "treeSize": signed.size, "root": b64(signed.root)}
    return {
        "origin": audit.origin,
        "checkpoint": checkpoint,
        "lastVerify": audit.last_verification(),
        "setAside": {
            "count": len(aside),
            "events": [
                {
                    "position": a.position,
                    "source": a.source,
                    "event": a.event_id,
                    "reason": a.reason,
                }
                for a in aside
            ],
        },
    }


class Found(BaseModel):
    kind: str
    message: str
    leaf: int | None
    position: int | None
    event: str | None


class VerifyResult(BaseModel):
    ok: bool
    leaves: int
    events: int
    checkpoints: int
    problem: Found | None


@router.get("/verify", response_model=VerifyResult, summary="Verify the store and the ledger")
async def verify(
    who: AuditorKey, audit: AuditOf, service: Service, request: Request
) -> VerifyResult:
    """Every leaf recomputed from the stored events and checked against the ledger and every
    signed checkpoint; the first event altered, deleted, inserted or reordered is named."""
    result: Verification = await run_in_threadpool(audit.verify)
    service.keys.record(who, request.url.path)
    problem = result.problem
    return VerifyResult(
        ok=result.ok,
        leaves=result.leaves,
        events=result.events,
        checkpoints=result.checkpoints,
        problem=None if problem is None else Found(**vars(problem)),
    )


@router.get("/proofs/inclusion", summary="An inclusion proof (RFC 9162 layout)")
async def inclusion(
    who: AuditorKey,
    audit: AuditOf,
    service: Service,
    request: Request,
    leaf: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    id: Annotated[str | None, Query(max_length=200)] = None,
    size: Size = None,
) -> dict[str, Any]:
    """By `leaf`, or by the agency event (`source` and `id`): `{"leafIdx", "treeSize", "root",
    "leafHash", "proof"}` with base64 hashes."""
    if (leaf is None) == (source is None or id is None):
        raise ReplayError("give leaf, or source and id")

    def prove() -> dict[str, Any]:
        index = leaf if leaf is not None else audit.leaf_of_event(str(source), str(id))
        return audit.prove_leaf(index, size)

    document = await run_in_threadpool(prove)
    service.keys.record(who, request.url.path)
    return document


@router.get("/proofs/consistency", summary="A consistency proof (RFC 9162 layout)")
async def consistency(
    who: AuditorKey,
    audit: AuditOf,
    service: Service,
    request: Request,
    size1: Annotated[int, Query(ge=1, le=2**62)],
    size2: Size = None,
) -> dict[str, Any]:
    """`{"size1", "size2", "root1", "root2", "proof"}` with base64 hashes."""
    document = await run_in_threadpool(audit.consistency, size1, size2)
    service.keys.record(who, request.url.path)
    return document


Month = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")]


@router.get("/replay", summary="A journey, the partnership or a question as at a past moment")
async def replay(
    who: AuditorKey,
    audit: AuditOf,
    service: Service,
    request: Request,
    as_of: Annotated[str | None, Query(description="RFC 3339, e.g. 2025-03-31T23:59:59Z")] = None,
    position: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    basis: Annotated[str, Query(pattern="^(record|event)$")] = "record",
    journey: Annotated[str | None, Query(max_length=64)] = None,
    partnership: Annotated[str | None, Query(max_length=100)] = None,
    question: Annotated[str | None, Query(max_length=40)] = None,
    by: Annotated[str, Query(max_length=200)] = "",
    from_: Annotated[str | None, Query(alias="from", pattern=r"^\d{4}-\d{2}$")] = None,
    to: Month = None,
    exact: bool = True,
) -> dict[str, Any]:
    """As `hub audit replay`: the record basis (what the hub had stored by then) or the event
    basis (what is now known to have happened by then). Auditors see exact figures over any
    span of whole months (`from`, `to`); with `exact=false`, a question's figures are
    controlled as commissioners get them, so its span must be one period of the grid (422
    otherwise)."""
    cut = Cut.asked(as_of, position, basis)
    cuts, period = parse_cuts(by), parse_period(from_, to)
    if question is not None and not exact and period is not None:
        # Controlled figures only for one period of the grid, as commissioners get them: a 422
        # saying how to ask, before the replay is built.
        span_period(*period)

    def rebuild() -> dict[str, Any]:
        return replay_document(
            service.runtime.app,
            service.runtime.record_keys,
            service.runtime.unit_keys,
            cut,
            journey=journey,
            partnership=partnership,
            question=question,
            place=lambda: service.place,
            by=cuts,
            period=period,
            exact=exact,
        )

    document = await run_in_threadpool(rebuild)
    service.keys.record(who, request.url.path, question)
    return document


@router.get("/trace/{slug}", summary="The stored events behind one exact figure")
async def trace(
    who: AuditorKey,
    audit: AuditOf,
    service: Service,
    request: Request,
    slug: str,
    cell: Annotated[str, Query(max_length=500, description="CUT=VALUE,... e.g. month=2025-03")],
    from_: Annotated[str | None, Query(alias="from", pattern=r"^\d{4}-\d{2}$")] = None,
    to: Month = None,
) -> dict[str, Any]:
    """As `hub audit trace`: each event with its leaf, agency, id, record reference and
    inclusion proof; per count, their number is the cell's exact figure."""
    period = parse_period(from_, to)
    place = service.place
    document = await run_in_threadpool(audit.trace, place, slug, cell_of(cell), period)
    service.keys.record(who, request.url.path, slug)
    return document
