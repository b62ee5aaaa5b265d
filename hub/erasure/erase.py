"""Erasure: an agency's record made unreadable everywhere, while every stored event stays as it
was (the audit ledger still verifies).

Every event's personal payload was sealed at ingest under its record's key (`hub.keys.sealing`), so
erasing the record is deleting that key: every copy of its events (the log, the rejected log,
the event store, a Kafka segment nobody can edit) becomes ciphertext nobody can open. Then:
the key store is rewritten so the key's bytes remain nowhere in it (SQLite: secure_delete,
checkpoint, VACUUM; PostgreSQL: VACUUM FULL), the erasure itself is kept in the key's place
(which record, when, how many stored events: no payload), and the DuckDB projections are
deleted, to be loaded again without the record.

    done = runtime.erase("police-north", recordref)  # the recordref the agency sent
    done.events, done.erased_at
    erasures(runtime.record_keys)                    # every erasure made, oldest first

Erasing is idempotent: asked again, it scrubs again and answers what was erased then.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.keys.port import Record, RecordKeys
from hub.projection.answers import check_projections_free, drop_projections
from hub.settings import DataFolder
from hub.store.application import Hub
from schemas.errors import HubError
from schemas.events import agency_slug, agency_urn


class UnknownRecordError(HubError):
    """An erasure asked for a record the agency does not have."""

    status = 404
    field = "recordref"


@dataclass(frozen=True)
class Erasure:
    """What was erased: the agency's record (its hub-stage recordref, as stored), how many
    stored events it covered, and when."""

    agency: str
    recordref: str
    events: int
    erased_at: datetime
    repeated: bool = False
    """True when the record had been erased before (this call scrubbed again)."""


def erase(
    keys: RecordKeys,
    rekey: Callable[[str], str],
    app: Hub,
    folder: DataFolder,
    agency: str,
    recordref: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Erasure:
    """Erase one record of `agency` (its slug) from `keys`: `recordref` is the record's
    pseudonym as the agency sent it (`rekey` gives the hub's) or as the hub stores it; `app`'s
    store counts its events; `folder`'s projections are dropped. Raises UnknownRecordError if
    the agency has no such record, HubError if another process holds the projections open."""
    source = agency_urn(agency)
    candidates = [(source, rekey(recordref)), (source, recordref)]
    known = keys.lookup(candidates)
    record = next((c for c in candidates if c in known), None)
    if record is None:
        raise UnknownRecordError(
            f"agency {agency} has no record {recordref}: give the record's pseudonym as the "
            "agency sent it (the `recordref` of its events)"
        )
    repeated = known[record] is not None
    if not repeated:
        check_projections_free(folder.projections)  # before anything changes
        keys.erase(record, clock(), stored_events(app, record))
    keys.scrub()
    drop_projections(folder.projections)
    done = next(e for e in keys.erasures() if (e.source, e.recordref) == record)
    return Erasure(agency, record[1], done.events, done.erased_at, repeated)


def erasures(keys: RecordKeys) -> list[Erasure]:
    """Every erasure made, oldest first."""
    return [
        Erasure(agency_slug(e.source), e.recordref, e.events, e.erased_at) for e in keys.erasures()
    ]


def stored_events(app: Hub, record: Record) -> int:
    """How many stored events record an event of `record` (every version): the store's index
    of agency events answers (`hub.store.queries`)."""
    source, recordref = record
    return app.queries.record_event_count(source, recordref)
