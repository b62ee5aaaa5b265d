"""What auditors ask of one hub: signed checkpoints, verification, inclusion and consistency
proofs; used by `hub audit ...` and the auditor's API routes alike.

The signing key (Ed25519, named by the origin) and the checkpoint file (every signed checkpoint,
one after another, each followed by a blank line) live in the data folder's `audit/`:

    audit = Audit(app, settings, record_keys)
    audit.checkpoint()                       # sign the ledger's current size and root
    audit.verify([Path("copy-of-checkpoints.txt")]).problem
    audit.prove_leaf(5)                      # {"leafIdx": 5, "treeSize": ..., "proof": [...]}
"""

import base64
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from hub.audit.checkpoint import Checkpoint, CheckpointError
from hub.audit.checkpoint_file import CheckpointFile
from hub.audit.replay import Cut, ReplayError, replay_projections
from hub.audit.signed_note import verify_note
from hub.audit.signing_key import SigningKey
from hub.audit.verification import Verification
from hub.audit.verify import verify
from hub.keys.port import RecordKeys
from hub.settings import Settings, own_key
from hub.store.application import Hub
from hub.store.ledger import Ledger, LedgerError
from projections.lineage import lineage
from projections.questions import QUESTIONS, raw_answer
from projections.unit_keys import UnitKeys
from schemas.events import agency_slug, agency_urn
from schemas.place import Place


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _proof_json(proof: Sequence[bytes]) -> list[str] | None:
    # As the public RFC 9162 test vectors lay it out: an empty proof is null.
    return [b64(p) for p in proof] or None


def cell_of(text: str) -> dict[str, str]:
    """A figure's cell as written on the command line or in a URL: `CUT=VALUE,...`."""
    pairs = [part.split("=", 1) for part in text.split(",") if part]
    if not pairs or any(len(pair) != 2 for pair in pairs):
        raise ReplayError(
            f"cell {text!r}: write CUT=VALUE,... (e.g. month=2025-03,locality=x)", field="cell"
        )
    return {cut: value for cut, value in pairs}


class Audit:
    """The ledger of one store with its signing key and checkpoint file."""

    def __init__(self, app: Hub, settings: Settings, keys: RecordKeys) -> None:
        self.app, self.settings, self.keys = app, settings, keys
        self._unit_keys: UnitKeys | None = None
        self.ledger = Ledger(app.queries)
        folder = settings.folder
        self.key = SigningKey.load_or_create(folder.ledger_key, settings.audit_origin)
        self.file = CheckpointFile(folder.audit / "checkpoints.txt")
        # Every commissioner's answer asks for the latest checkpoint: read and checked again
        # only when the file has changed (its modification time and size).
        self._latest: tuple[tuple[int, int], tuple[str, Checkpoint] | None] | None = None

    @property
    def origin(self) -> str:
        return self.settings.audit_origin

    def checkpoint(self) -> str:
        """Sign the ledger's current size and root, append the note to the checkpoint file and
        return it (the latest one again when the ledger has not grown since)."""
        latest = self.latest()
        size = self.ledger.size()
        if latest is not None and latest[1].size == size:
            return latest[0]
        note = self.key.sign(Checkpoint(self.origin, size, self.ledger.root(size)))
        self.file.append(note)
        return note

    def latest(self) -> tuple[str, Checkpoint] | None:
        """The latest signed checkpoint (note and what it says), checked with the hub's key."""
        try:
            stat = self.file.path.stat()
        except FileNotFoundError:
            return None
        changed = (stat.st_mtime_ns, stat.st_size)
        if self._latest is None or self._latest[0] != changed:
            note = self.file.latest()
            signed = (note, verify_note(note, self.key.verifier_key())) if note else None
            self._latest = (changed, signed)
        return self._latest[1]

    def checkpoints(self, copies: Sequence[Path] = ()) -> list[tuple[str, Checkpoint]]:
        """Every checkpoint of the hub's own file and of `copies`, each checked with the hub's
        public key and labelled with its file and number; CheckpointError names a bad one."""
        found: list[tuple[str, Checkpoint]] = []
        for file in (self.file.path, *copies):
            if not file.exists():
                if file == self.file.path:
                    continue
                raise CheckpointError(f"{file}: no such checkpoint file")
            for number, note in enumerate(CheckpointFile(file).notes(), start=1):
                label = f"{file} checkpoint {number}"
                try:
                    checkpoint = verify_note(note, self.key.verifier_key())
                except CheckpointError as error:
                    raise CheckpointError(f"{label}: {error}") from None
                if checkpoint.origin != self.origin:
                    raise CheckpointError(
                        f"{label}: origin {checkpoint.origin!r} is not this hub's"
                    )
                found.append((label, checkpoint))
        return found

    def verify(
        self, copies: Sequence[Path] = (), progress: Callable[[int], None] | None = None
    ) -> Verification:
        """Recompute every leaf and subtree from the store and check them against the ledger
        and every checkpoint (the hub's own and `copies`); the result is kept as the last."""
        result = verify(self.ledger, self.checkpoints(copies), progress)
        problem = result.problem
        last = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "ok": result.ok,
            "leaves": result.leaves,
            "events": result.events,
            "checkpoints": result.checkpoints,
            "root": b64(result.root),
            "problem": None if problem is None else vars(problem),
        }
        self.last_path.write_bytes(orjson.dumps(last))
        return result

    @property
    def last_path(self) -> Path:
        return self.settings.folder.last_verify

    def last_verification(self) -> dict[str, Any] | None:
        """The last verification's result (when, ok, sizes, the problem found), if any."""
        if not self.last_path.exists():
            return None
        last: dict[str, Any] = orjson.loads(self.last_path.read_bytes())
        return last

    def _size(self, size: int | None) -> int:
        return self.ledger.size() if size is None else size

    def prove_leaf(self, index: int, size: int | None = None) -> dict[str, Any]:
        """The inclusion proof of leaf `index` in the tree of `size` leaves (default: now), laid
        out as the public RFC 9162 inclusion vectors are."""
        size, leaf, root, proof = self.ledger.proof_of(index, size)
        return {
            "leafIdx": index,
            "treeSize": size,
            "root": b64(root),
            "leafHash": b64(leaf),
            "proof": _proof_json(proof),
        }

    def leaf_of_event(self, source: str, event_id: str) -> int:
        """The leaf of the stored event recording agency event `event_id` of `source` (an
        agency slug or `urn:agency:` URN)."""
        urn = agency_urn(agency_slug(source))
        position = self.app.queries.position_of_event(urn, event_id)
        if position is None:
            raise LedgerError(f"no stored event records {urn} event {event_id}")
        return self.ledger.leaf_of(position)

    def consistency(self, size1: int, size2: int | None = None) -> dict[str, Any]:
        """The consistency proof between two tree sizes, laid out as the public RFC 9162
        consistency vectors are."""
        size2 = self._size(size2)
        proof = self.ledger.consistency(size1, size2)
        return {
            "size1": size1,
            "size2": size2,
            "root1": b64(self.ledger.root(size1)),
            "root2": b64(self.ledger.root(size2)),
            "proof": _proof_json(proof),
        }

    @property
    def unit_keys(self) -> UnitKeys:
        """The cell key method's unit keys, under the data folder's disclosure key (made on
        first use, like the hub's other own keys)."""
        if self._unit_keys is None:
            self._unit_keys = UnitKeys(
                own_key(self.settings.folder.disclosure_key, "disclosure key")
            )
        return self._unit_keys

    def trace(
        self,
        place: Place,
        slug: str,
        cell: Mapping[str, str],
        period: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """The stored events behind one exact figure of a question, each with its leaf and an
        inclusion proof in the ledger as it stands; per count, their number is the figure."""
        position = self.app.recorder.max_notification_id() or 0
        size = self.ledger.size()
        con = replay_projections(
            self.app, self.keys, self.unit_keys, place, Cut.at_position(position)
        )
        try:
            traced = lineage(con, slug, cell, period)
            q = QUESTIONS[slug]
            by = [cut for cut in q.cuts if any(col in cell for col in q.cuts[cut])]
            figures = {name: 0 for name in q.counts}
            for row in raw_answer(con, slug, by, period, place):
                if all(str(row[col]) == value for col, value in cell.items()):
                    figures = {name: int(row[name]) for name in q.counts}  # type: ignore[call-overload]
            details = {
                int(p): (str(e), str(a), str(r))
                for p, e, a, r in con.execute(
                    "select position, event_id, agency, recordref from facts"
                    " where list_contains($traced, position)",
                    {"traced": [at for at, _ in traced]},
                ).fetchall()
            }
        finally:
            con.close()
        events = []
        for at, measure in traced:
            leaf = self.ledger.leaf_of(at)
            event_id, agency, recordref = details[at]
            proof = self.prove_leaf(leaf, size)
            events.append(
                {
                    "leafIdx": leaf,
                    "position": at,
                    "agency": agency,
                    "id": event_id,
                    "recordref": recordref,
                    "counts": measure,
                    "leafHash": proof["leafHash"],
                    "proof": proof["proof"],
                }
            )
        return {
            "question": slug,
            "cell": dict(cell),
            "position": position,
            "treeSize": size,
            "root": b64(self.ledger.root(size)),
            "figures": figures,
            "events": events,
        }


class Checkpointer:
    """Signs a checkpoint as the hub goes: after `every` new leaves, or after `seconds` with
    any new leaf; the worker calls `tick` after each batch it saves."""

    def __init__(
        self, audit: Audit, every: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.audit, self.every, self.seconds, self.clock = audit, every, seconds, clock
        latest = audit.latest()
        self.signed = latest[1].size if latest else 0
        self.at = clock()

    def tick(self) -> None:
        size = self.audit.ledger.size()
        if size > self.signed and (
            size - self.signed >= self.every or self.clock() - self.at >= self.seconds
        ):
            self.audit.checkpoint()
            self.signed, self.at = size, self.clock()
