"""Benchmark: the audit ledger on SQLite: its write cost, a full verify, inclusion proofs.

    python bench/ledger_verify.py                           # 1,000,000 events, 3 repeats
    python bench/ledger_verify.py --events 100000           # a quicker look
    python bench/ledger_verify.py --events 100000 --keep    # keep the store; run again to reuse it
    python bench/ledger_verify.py --events 200000 --keep --profile   # where verify's time goes

1. Builds a hub store (`hub.db` by `open_store`, so the ledger is written by the recorder `Hub`
   constructs, in the same transaction as the events) of at least `--events` stored events:
   journeys of a Started event and agency events shaped as `hub demo` stores them (their
   personal payload sealed by `hub.keys.sealing` where the domain seals it; 500-650 bytes of state
   each), 100 journeys (about 1,000 events) a transaction by `app.events.put`, as the worker
   saves. The same domain events are put, interleaved and timed apart, through
   eventsourcing's plain SQLiteProcessRecorder (no ledger, `plain.db`, deleted after): the
   ledger's write overhead. One checkpoint is signed at the end, as the worker signs them.
2. With the page cache warm, `--repeat` runs each (interleaved), medians quoted:
     baseline: plain `sqlite3` read of (rowid, originator_id, originator_version, topic, state)
               in rowid order and a plain `hashlib` RFC 9162 root over them (a stack of complete
               subtrees), leaves hashing the same canonical bytes as `hub.store.ledger.leaf_data`
               (so the roots must agree): the least work any verifier must do;
     verify:   `Audit(app, settings).verify()` (every leaf and subtree of the ledger recomputed,
               and the checkpoint), asserted to pass with the baseline's root.
   Ratio baseline / verify (target >= 0.5).
3. Inclusion proofs of `--proofs` random leaves, each timed alone: `Audit.prove_leaf(i)`, the
   bare `Ledger.inclusion(i, size)`, and a raw baseline (the proof's complete subtrees fetched by
   one plain `sqlite3` query on the ledger table and combined); medians (target <= 1 ms); every
   proof checked with `hub.store.merkle.verify_inclusion`. Then one journey at a time,
   `replay_journey` (record basis, at the last position) beside eventsourcing's plain
   `repository.get` of the same journey; medians and their ratio (target <= 2x).
4. Peak resident memory (ru_maxrss) of verify and of the baseline, each in a fresh interpreter,
   beside a bare interpreter with the same imports.
"""

import argparse
import cProfile
import hashlib
import importlib
import io
import json
import pstats
import random
import resource
import shutil
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from base64 import b64decode
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orjson
from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.utils import get_topic

from hub.audit.auditor import Audit
from hub.audit.replay import Cut, replay_journey
from hub.bootstrap import open_store, record_keys_of
from hub.domain.journey import Journey
from hub.settings import Settings
from hub.store.application import Hub
from hub.store.leaves import event_leaf
from hub.store.ledger import Ledger
from hub.store.merkle import verify_inclusion

JOURNEYS_PER_SAVE = 100
VERIFY_TARGET = 0.5
PROOF_TARGET_MS = 1.0
REPLAY_TARGET = 2.0
EVENTS_SQL = (
    "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
    "ORDER BY rowid"
)
MARKER = "bench.json"

# -- the synthetic store ---------------------------------------------------------------------

AGENCIES = tuple(
    f"urn:agency:{slug}"
    for slug in (
        "council-childrens",
        "council-adults",
        "council-early-help",
        "council-housing",
        "nhs-gp",
        "nhs-mental-health",
        "police-north",
        "probation",
        "schools",
        "dwp-jobcentre",
        "homes-trust",
        "youth-justice",
    )
)
LOCALITIES = ("ashfield", "eastwick", "greystone", "northgate", "pennyfields", "saltmarsh")
NEEDS = ("child-welfare", "domestic-abuse", "housing", "mental-health", "substance-use", "debt")
SERVICES = ("cs-child-protection", "eh-family-support", "ah-reablement", "mh-talking-therapy")
OUTCOMES = ("family-resilience", "stable-housing", "wellbeing", "school-attendance")
START = datetime(2024, 1, 1, tzinfo=UTC)


def _hex(rng: random.Random) -> str:
    return rng.randbytes(32).hex()


def _referral(rng: random.Random) -> dict[str, Any]:
    return {"source": rng.choice(AGENCIES), "recordref": _hex(rng)}


def _data(event_type: str, rng: random.Random) -> dict[str, Any]:
    """The `data` of an agency event, shaped as the demo's are."""
    if event_type == "contact.recorded":
        return {
            "channel": rng.choice(("phone", "visit", "letter")),
            "need": rng.choice(NEEDS),
            "purpose": "welfare-check",
        }
    if event_type == "referral.made":
        return {
            "to_agency": rng.choice(AGENCIES),
            "urgency": rng.choice(("routine", "urgent")),
            "service": rng.choice(SERVICES),
            "need": rng.choice(NEEDS),
        }
    if event_type == "referral.accepted":
        return {"referral": _referral(rng)}
    if event_type == "referral.declined":
        return {
            "redirect_agency": rng.choice(AGENCIES),
            "referral": _referral(rng),
            "reason": "redirected",
        }
    if event_type == "service.started":
        return {"referral": _referral(rng), "service": rng.choice(SERVICES)}
    if event_type == "service.ended":
        return {
            "referral": _referral(rng),
            "reason": rng.choice(("completed", "disengaged")),
            "service": rng.choice(SERVICES),
        }
    if event_type == "assessment.completed":
        return {"domain": "safeguarding-risk", "level": rng.choice(("low", "medium", "high"))}
    if event_type == "outcome.recorded":
        return {
            "instrument": "outcomes-star",
            "value": float(rng.randrange(1, 11)),
            "reported_by": "practitioner",
            "outcome": rng.choice(OUTCOMES),
        }
    if event_type == "appointment.missed":
        return {"service": rng.choice(SERVICES)}
    return {"unit": _hex(rng), "role": "household"}


EVENT_TYPES = (
    "contact.recorded",
    "referral.made",
    "referral.accepted",
    "referral.declined",
    "service.started",
    "service.ended",
    "assessment.completed",
    "outcome.recorded",
    "appointment.missed",
    "supportunit.linked",
)


# Whether the store holds an agency event's personal payload (`locality`, `data`) sealed, as
# `hub.keys.sealing` seals it at ingest, or in clear (before sealing): the bench follows the domain.
SEALED = "sealed" in {f.name for f in fields(Journey.AgencyEventRecorded)}
# Whether it keeps the agency's key version (AgencyEventRecorded version 3 on).
KEYED = (
    {"keyversion": 1}
    if "keyversion" in {f.name for f in fields(Journey.AgencyEventRecorded)}
    else {}
)


def payload(source: str, event_id: str, personal: dict[str, Any]) -> dict[str, Any]:
    """The agency event's personal payload as `Journey.record` takes it: sealed under a fresh
    key of its record (each event here is its record's first), or in clear."""
    if not SEALED:
        return personal
    sealing = importlib.import_module("hub.keys.sealing")
    return {"sealed": sealing.seal(sealing.new_key(), source, event_id, personal)}


def journey(rng: random.Random) -> Journey:
    """One person's journey: Started, then 1 to 40 agency events (about 10 on average)."""
    at = START + timedelta(minutes=rng.randrange(700_000))
    person = Journey(_hex(rng), timestamp=at)
    recorded_at = START + timedelta(days=700, microseconds=rng.randrange(10**12))
    for _ in range(1 + min(int(rng.expovariate(1 / 9)), 39)):
        at += timedelta(minutes=rng.randrange(1, 20_000))
        event_type = rng.choice(EVENT_TYPES)
        recordref = _hex(rng)
        source, event_id = rng.choice(AGENCIES), f"{recordref}-v1"
        personal = {"locality": rng.choice(LOCALITIES), "data": _data(event_type, rng)}
        person.record(
            source=source,
            event_id=event_id,
            event_type=f"hub.{event_type}.v1",
            recordref=recordref,
            recordversion=1,
            recorded_at=recorded_at,
            timestamp=at,
            **KEYED,
            **payload(source, event_id, personal),
        )
    return person


class PlainHub(Hub):
    """The hub's application on eventsourcing's plain SQLiteProcessRecorder: no ledger."""

    def construct_recorder(self) -> ApplicationRecorder:
        return self.factory.process_recorder()


def build(app: Hub, plain: Hub | None, events: int, seed: int) -> dict[str, Any]:
    """Save journeys to `app` (and the same domain events to `plain`, interleaved, so both see
    the same machine) until it holds at least `events` stored events, by `events.put` as the
    worker saves; the seconds of the whole build and of each store's puts alone."""
    rng = random.Random(seed)
    saved, step = 0, max(events // 10, 1)
    put_s, plain_s = 0.0, 0.0
    start = time.perf_counter()
    while saved < events:
        domain = [e for _ in range(JOURNEYS_PER_SAVE) for e in journey(rng).collect_events()]
        began = time.perf_counter()
        app.events.put(domain)
        put_s += time.perf_counter() - began
        if plain is not None:
            began = time.perf_counter()
            plain.events.put(domain)
            plain_s += time.perf_counter() - began
        before, saved = saved, saved + len(domain)
        if saved // step != before // step or saved >= events:
            took = time.perf_counter() - start
            print(
                f"  {saved:>10,} events  {took:7.1f} s;  put with the ledger"
                f" {saved / put_s:8,.0f} events/s"
                + (f", plain {saved / plain_s:8,.0f} events/s" if plain_s else ""),
                flush=True,
            )
    return {
        "events": saved,
        "build_s": time.perf_counter() - start,
        "ledger_s": put_s,
        "plain_s": plain_s or None,
    }


# -- the baselines ---------------------------------------------------------------------------


def baseline_root(db_path: Path) -> tuple[int, bytes]:
    """Plain sqlite3 and hashlib: the RFC 9162 root over every stored event (canonical leaves,
    as `leaf_data` makes them), by a stack of complete subtrees; (leaves, root)."""
    sha256 = hashlib.sha256
    head = struct.Struct(">16sQI").pack
    length = struct.Struct(">I").pack
    names: dict[str, bytes] = {}
    stack: list[bytes] = []
    n = 0
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        for _, originator, version, topic, state in db.execute(EVENTS_SQL):
            name = names.get(topic)
            if name is None:
                name = names[topic] = topic.encode()
            hashed = sha256(
                b"".join(
                    (
                        b"\x00",
                        head(bytes.fromhex(originator), version, len(name)),
                        name,
                        length(len(state)),
                        state,
                    )
                )
            ).digest()
            n += 1
            m = n
            while not m & 1:  # the new leaf completed a subtree: merge it into its left
                hashed = sha256(b"\x01" + stack.pop() + hashed).digest()
                m >>= 1
            stack.append(hashed)
    finally:
        db.close()
    if not stack:
        return 0, sha256(b"").digest()
    root = stack[-1]
    for left in reversed(stack[:-1]):
        root = sha256(b"\x01" + left + root).digest()
    return n, root


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def raw_inclusion(db: sqlite3.Connection, index: int, size: int) -> list[bytes]:
    """The inclusion proof of leaf `index` in the tree of `size` leaves, from the ledger table
    by one plain query: the RFC 9162 path's ranges, each split into complete subtrees."""
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()  # from the leaf up
    parts: list[list[tuple[int, int]]] = []  # per range, its complete subtrees (size, level)
    for first, last in ranges:
        keys = []
        while (n := last - first) & (n - 1):  # not a power of two: peel the left subtree off
            k = _split(n)
            keys.append((first + k, k.bit_length() - 1))
            first += k
        keys.append((last, n.bit_length() - 1))
        parts.append(keys)
    needed = list({key for keys in parts for key in keys})
    rows = db.execute(  # one primary-key probe a key
        f"WITH k(s, l) AS (VALUES {','.join(['(?, ?)'] * len(needed))}) "
        "SELECT size, level, hash FROM k JOIN hub_ledger ON size = s AND level = l",
        [v for key in needed for v in key],
    ).fetchall()
    stored = {(s, lv): h for s, lv, h in rows}
    proof = []
    for keys in parts:
        acc = stored[keys[-1]]
        for key in reversed(keys[:-1]):
            acc = hashlib.sha256(b"\x01" + stored[key] + acc).digest()
        proof.append(acc)
    return proof


# -- measuring -------------------------------------------------------------------------------


def warm(folder: Path) -> None:
    """Read the store's files through, so both readers start with the page cache warm."""
    for path in folder.glob("hub.db*"):
        with path.open("rb") as file:
            while file.read(1 << 24):
                pass


def peak_child(mode: str, folder: Path) -> float:
    """Peak resident memory (MiB) of a fresh interpreter running this script's `mode`."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--data-dir", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(out.splitlines()[-1])["peak_mib"])


def child(mode: str, folder: Path) -> None:
    if mode == "verify":
        settings = settings_of(folder)
        app = open_store(settings)
        assert Audit(app, settings, record_keys_of(app)).verify().ok
        app.close()
    elif mode == "baseline":
        baseline_root(folder / "hub.db")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_mib": peak}))


def settings_of(folder: Path) -> Settings:
    """The hub's settings for the store in `folder`: SQLite, whatever HUB_STORE says."""
    return Settings(data_dir=folder, store="sqlite")


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(run: Callable[[], object]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def profile_verify(audit: Audit, top: int = 25) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    audit.verify()
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    print("\ncProfile of one verify (by own time):")
    print(text.getvalue())


def prepare(folder: Path, events: int, keep: bool, seed: int, plain: bool) -> dict[str, Any]:
    """The built store in `folder` (reused when kept from an earlier run of the same size);
    what its build measured."""
    marker = folder / MARKER
    if keep and marker.exists():
        built: dict[str, Any] = json.loads(marker.read_text())
        if built["asked"] == events:
            print(f"reusing the store kept in {folder} ({built['events']:,} events)", flush=True)
            built["reused"] = True
            return built
    for name in ("hub.db", "hub.db-wal", "hub.db-shm", "plain.db", MARKER):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / "audit", ignore_errors=True)
    settings = settings_of(folder)
    print(
        f"building {folder / 'hub.db'} (with the ledger)"
        + (" and plain.db (eventsourcing's plain recorder, no ledger)" if plain else "")
        + " ...",
        flush=True,
    )
    app = open_store(settings)
    bare = (
        PlainHub(
            env={
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(folder / "plain.db"),
            }
        )
        if plain
        else None
    )
    try:
        built = {"asked": events, **build(app, bare, events, seed)}
        Audit(
            app, settings, record_keys_of(app)
        ).checkpoint()  # one signed checkpoint, as the worker signs them
    finally:
        app.close()
        if bare is not None:
            bare.close()
        for name in ("plain.db", "plain.db-wal", "plain.db-shm"):
            (folder / name).unlink(missing_ok=True)
    marker.write_text(json.dumps(built))
    built["reused"] = False
    return built


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="stored events, at least (default 1,000,000)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="the store's folder (default: bench-ledger-EVENTS under the temp folder)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the store afterwards, and reuse a kept one"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument(
        "--proofs", type=int, default=1000, help="random leaves to prove (default 1,000)"
    )
    parser.add_argument("--no-plain", action="store_true", help="skip the build without the ledger")
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of one verify"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--child", choices=("verify", "baseline", "imports"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    folder: Path = args.data_dir or Path(tempfile.gettempdir()) / f"bench-ledger-{args.events}"
    if args.child:
        child(args.child, folder)
        return

    made = not folder.exists()
    if (folder / "hub.db").exists() and not (folder / MARKER).exists():
        sys.exit(f"{folder} holds a hub.db this benchmark did not build; choose another --data-dir")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        built = prepare(folder, args.events, args.keep, args.seed, not args.no_plain)
        report(folder, built, args)
    finally:
        if args.keep:
            print(f"kept {folder}")
        elif made:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            for name in ("hub.db", "hub.db-wal", "hub.db-shm", MARKER):
                (folder / name).unlink(missing_ok=True)
            shutil.rmtree(folder / "audit", ignore_errors=True)


def report(folder: Path, built: dict[str, Any], args: argparse.Namespace) -> None:
    db_path = folder / "hub.db"
    settings = settings_of(folder)
    app = open_store(settings)
    audit = Audit(app, settings, record_keys_of(app))
    ledger = Ledger(app.queries)
    size = ledger.size()
    n = built["events"]
    assert size == n, f"the ledger has {size} leaves for {n} events"
    state_bytes = (
        sqlite3.connect(db_path)
        .execute("SELECT AVG(LENGTH(state)) FROM stored_events")
        .fetchone()[0]
    )
    mib = sum(p.stat().st_size for p in folder.glob("hub.db*")) / 2**20
    payloads = "sealed (hub.keys.sealing)" if SEALED else "in clear"
    print(
        f"\n{n:,} stored events, {state_bytes:.0f} bytes of state on average (agency payloads"
        f" {payloads}), {mib:,.0f} MiB"
    )

    # 2. a full verify beside the least work any verifier must do
    warm(folder)
    base_times: list[float] = []
    verify_times: list[float] = []
    base_root = b""
    print(f"timing the baseline and verify, {args.repeat} runs each (interleaved) ...")
    for run in range(args.repeat):
        seconds, (leaves, base_root) = timed(lambda: baseline_root(db_path))
        assert leaves == n
        base_times.append(seconds)
        seconds, result = timed(audit.verify)
        assert result.ok, result.problem
        assert (result.leaves, result.events, result.checkpoints) == (n, n, 1), result
        assert result.root == base_root, "verify's root differs from the baseline's"
        verify_times.append(seconds)
        print(f"  run {run + 1}: baseline {base_times[-1]:.2f} s, verify {seconds:.2f} s")
    assert ledger.root(size) == base_root, "the ledger's stored root differs from the baseline's"
    base_s, verify_s = statistics.median(base_times), statistics.median(verify_times)

    # 3. inclusion proofs, each timed alone
    rng = random.Random(args.seed)
    indexes = [rng.randrange(size) for _ in range(args.proofs)]
    raw_db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    raw_t: list[float] = []
    bare_t: list[float] = []
    prove_t: list[float] = []
    print(f"timing {args.proofs:,} inclusion proofs ...", flush=True)
    for i in indexes:
        seconds, raw = timed(partial(raw_inclusion, raw_db, i, size))
        raw_t.append(seconds)
        seconds, bare = timed(partial(ledger.inclusion, i, size))
        bare_t.append(seconds)
        seconds, proved = timed(partial(audit.prove_leaf, i))
        prove_t.append(seconds)
        assert raw == bare, f"leaf {i}: the raw proof differs from Ledger.inclusion's"
        leaf = b64decode(proved["leafHash"])
        assert b64decode(proved["root"]) == base_root
        assert [b64decode(p) for p in proved["proof"] or []] == bare
        verify_inclusion(i, size, leaf, bare, base_root)  # ProofError if it does not prove
    # and a sample of leaves checked against their stored events (the proof reaches the event)
    sample = indexes[:100]
    for i in sample:
        position, leaf = ledger.leaf(i)
        row = raw_db.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            "WHERE rowid = ?",
            [position],
        ).fetchone()
        assert event_leaf(StoredEvent(row[0], row[1], row[2], row[3])) == leaf
    # 3b. one journey replayed (record basis, at the last position) beside a plain repository get
    end = app.recorder.max_notification_id() or 0
    persons = [
        orjson.loads(row[0])["person"]
        for row in raw_db.execute(
            "SELECT state FROM stored_events WHERE topic = ? ORDER BY rowid LIMIT 100000",
            [get_topic(Journey.Started)],  # type: ignore[attr-defined]
        )
    ]
    chosen = [persons[rng.randrange(len(persons))] for _ in range(args.proofs)]
    get_t: list[float] = []
    replay_t: list[float] = []
    print(f"timing {len(chosen):,} journey replays beside repository gets ...", flush=True)
    for person in chosen:
        seconds, got = timed(partial(app.repository.get, Journey.create_id(person)))
        get_t.append(seconds)
        seconds, replayed = timed(partial(replay_journey, app, person, Cut.at_position(end)))
        replay_t.append(seconds)
        assert replayed is not None
        assert (replayed.version, replayed.applied) == (got.version, got.applied)
    raw_db.close()
    if args.profile:
        profile_verify(audit)
    app.close()

    # 4. peak memory, each in a fresh interpreter
    print("peak memory of verify and of the baseline, each in a fresh interpreter ...")
    peaks = {mode: peak_child(mode, folder) for mode in ("imports", "baseline", "verify")}

    ratio = base_s / verify_s
    raw_ms, bare_ms, prove_ms = median_ms(raw_t), median_ms(bare_t), median_ms(prove_t)
    ledger_s, plain_s = built["ledger_s"], built["plain_s"]
    when = " (built by an earlier run)" if built["reused"] else ""
    print(f"\nsummary: {n:,} stored events, medians of {args.repeat} runs{when}")
    print(f"  build (domain events + puts)       : {built['build_s']:9.1f} s")
    print(f"  events.put with the ledger         : {ledger_s:9.1f} s  {n / ledger_s:10,.0f} ev/s")
    if plain_s:
        print(f"  events.put, plain recorder         : {plain_s:9.1f} s  {n / plain_s:10,.0f} ev/s")
        print(f"  write rate with ledger / plain     : {plain_s / ledger_s:9.3f}")
        extra_us = (ledger_s - plain_s) / n * 1e6
        print(f"  the ledger's cost a stored event   : {extra_us:9.1f} us")
    print(f"  verify baseline (sqlite3 + hashlib): {base_s:9.2f} s  {n / base_s:10,.0f} ev/s")
    print(f"  Audit.verify()                     : {verify_s:9.2f} s  {n / verify_s:10,.0f} ev/s")
    print(
        f"  baseline / verify                  : {ratio:9.3f}"
        f"   (target >= {VERIFY_TARGET}: {'yes' if ratio >= VERIFY_TARGET else 'NO'})"
    )
    print(f"  root (verify = baseline = ledger)  : {base_root.hex()}")
    print(f"  inclusion proof, raw sqlite3       : {raw_ms:9.3f} ms median")
    print(f"  inclusion proof, Ledger.inclusion  : {bare_ms:9.3f} ms median")
    print(
        f"  inclusion proof, Audit.prove_leaf  : {prove_ms:9.3f} ms median"
        f"   (target <= {PROOF_TARGET_MS} ms: {'yes' if prove_ms <= PROOF_TARGET_MS else 'NO'})"
    )
    print(f"  Ledger.inclusion / raw             : {bare_ms / raw_ms:9.2f}")
    print(f"  proofs checked (verify_inclusion)  : {len(indexes):9,}")
    print(f"  leaves checked against their events: {len(sample):9,}")
    get_ms, replay_ms = median_ms(get_t), median_ms(replay_t)
    print(f"  journey, repository get            : {get_ms:9.3f} ms median")
    print(
        f"  journey, replay (record basis)     : {replay_ms:9.3f} ms median"
        f"   ({replay_ms / get_ms:.2f}x; target <= {REPLAY_TARGET}x: "
        f"{'yes' if replay_ms / get_ms <= REPLAY_TARGET else 'NO'})"
    )
    print(f"  peak memory, bare imports          : {peaks['imports']:9.0f} MiB")
    print(f"  peak memory, baseline              : {peaks['baseline']:9.0f} MiB")
    print(f"  peak memory, Audit.verify()        : {peaks['verify']:9.0f} MiB")


if __name__ == "__main__":
    main()
