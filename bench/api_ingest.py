"""Benchmark: agencies' events POSTed to a served hub on the embedded default, as an open loop.

A synthetic place is made in a temporary agencies' folder (under `--workdir`, removed at the
end, beside the hub's data folder, which gets the place file alone) and every agency's extract
is run through its connector: real agency events, cut into batches of 100 (`--batch`; each
agency's own), serialised once into a file there before any load and read back as they are
sent; each event is sent to the hub once, so it is accepted rather than
found a duplicate. The place is sized to the events the run needs (offered rate x seconds, and
the steps of (c)): the default run synthesises about 195,000 people, some minutes of setup.
`hub serve` then runs as a separate process (its worker thread applying the log, as served),
and a load generator here sends `POST /v1/events` (`application/cloudevents-batch+json`, each
batch with its agency's key) over loopback.

The load is an OPEN loop: batches are due on a fixed schedule (offered rate / batch size a
second), whether or not earlier answers have come back, and sent over at most `--connections`
connections. A batch that cannot start on time because every connection is busy waits, and its
latency is counted from when it was DUE, not from when it was sent: a hub falling behind shows
as growing latency, not as a gentler load. A batch not answered within `--timeout` of being due
is a timeout (one still waiting to start by then is not sent at all, and counted as a timeout).

Prints, in one run:
  (a) raw: the same batches, on the same schedule, POSTed to a minimal endpoint on the same
      server stack (uvicorn, as `hub serve` runs it, in a process of its own; a bare Starlette
      route, FastAPI's base, that reads the body, parses it with orjson and answers a small
      JSON): its accepted rate, p50 and p99 latency, the CPU its server used;
  (b) the hub: the offered rate, the accepted rate (events answered "accepted" per second, from
      the first batch due to the last answer), p50 and p99 latency (from due to answered),
      errors and timeouts, the CPU the server used; then, once the served hub's worker has
      applied the log, the AgencyEventRecorded events stored against the events accepted
      ("0 lost", or the difference; accepted as the hub counts them, `GET
      /v1/agency/submissions`, which also has batches that timed out here after it took them);
  (b)/(a): the accepted rates and the latencies;
  (c) the highest offered rate the hub sustains (accepted >= 95% of offered, p99 <= 250 ms):
      if (b) does not, the rate is halved (`--steps` times, `--step-seconds` each) until one
      does; and the target line "keeps up with 10,000 events/s at p99 <= 250 ms, 0 lost";
then how long the setup took and the peak memory.

    python bench/api_ingest.py                            # 10,000 events/s for 60 s
    python bench/api_ingest.py --seconds 10               # a quicker look
    python bench/api_ingest.py --rate 1000 --seconds 5    # a small check
"""

import argparse
import asyncio
import math
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx
import orjson
import uvicorn
from eventsourcing.utils import get_topic

from connectors.csv_connector import CsvConnector
from connectors.mapping import load_mapping
from connectors.pseudonym import load_pseudonymiser, new_key_file
from connectors.synth import synthesise
from hub.access.keys import KeyStore
from hub.bootstrap import Runtime, open_hub
from hub.domain.journey import Journey
from hub.settings import Settings
from schemas.place import load_place

EVENTS_PER_PERSON = 4.2  # the default synthetic place: 84,538 events for 20,000 people
PLACE_MARGIN = 1.05  # people vary; each agency's last part-batch is left out besides
BATCH_TYPE = "application/cloudevents-batch+json"
SUSTAINED_SHARE = 0.95
TARGET_P99 = 0.250
RECORDED_TOPIC = f"{get_topic(Journey)}.AgencyEventRecorded"  # the worker's record()


ASKED_TO_STOP = threading.Event()
"""Set on Ctrl-C or SIGTERM. A terminal's Ctrl-C reaches the servers too, so a server may
be gone before the KeyboardInterrupt is seen here: any failure after this is an interrupt."""


def on_stop_signal(signum: int, frame: object) -> None:
    ASKED_TO_STOP.set()
    raise KeyboardInterrupt


# -- the events -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One serialised batch in the spool file: whose, where, how many events."""

    agency: int
    offset: int
    length: int
    events: int


@dataclass
class Spool:
    """Every batch the run may send, serialised once into one file, in sending order; the
    agencies' batches are interleaved in proportion so that any run sends a mix of them."""

    path: Path
    slots: list[Slot]
    headers: list[dict[str, str]]
    """Per agency: the content type and its key."""
    taken: int = 0
    _fd: int = -1

    def open(self) -> None:
        self._fd = os.open(self.path, os.O_RDONLY)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def body(self, slot: Slot) -> bytes:
        return os.pread(self._fd, slot.length, slot.offset)

    def take(self, n: int) -> list[Slot]:
        """The next `n` batches never sent to the hub."""
        if self.taken + n > len(self.slots):
            raise RuntimeError(
                f"the place gave {len(self.slots):,} batches, and this run needs "
                f"{self.taken + n:,}: raise PLACE_MARGIN"
            )
        slots = self.slots[self.taken : self.taken + n]
        self.taken += n
        return slots


def prepare(
    data_dir: Path, agencies: Path, batches: int, batch_size: int
) -> tuple[Spool, dict[str, tuple[float, str]]]:
    """A place sized for `batches` batches synthesised into the agencies' folder (the hub's
    data folder gets its place file alone), its extracts through their connectors into the
    spool (the agencies' too), one agency key each; and the stage times."""
    stages: dict[str, tuple[float, str]] = {}
    people = math.ceil((batches + 20) * batch_size * PLACE_MARGIN / EVENTS_PER_PERSON)
    print(f"synthesising {people:,} people ...", flush=True)
    start = time.perf_counter()
    synthesise(agencies, people=people, seed=2)
    stages["synthesis"] = (time.perf_counter() - start, f"{people:,} people")
    (data_dir / "place").mkdir(parents=True)
    shutil.copyfile(agencies / "place.toml", data_dir / "place" / "place.toml")
    place = load_place(data_dir / "place" / "place.toml")
    new_key_file(agencies / "place-key.toml")
    pseudonymiser = load_pseudonymiser(agencies / "place-key.toml")
    keys = KeyStore(data_dir / "access.sqlite")
    try:
        tokens = [keys.create("agency", agency.slug).token for agency in place.agencies]
    finally:
        keys.close()
    print(f"the {len(place.agencies)} agencies' extracts through their connectors ...", flush=True)
    start = time.perf_counter()
    spool_path = agencies / "batches.bin"
    placed: list[tuple[float, Slot]] = []
    offset = 0
    with spool_path.open("wb") as out:
        for index, agency in enumerate(place.agencies):
            mapping = load_mapping(agencies / "mappings" / f"{agency.slug}.toml", place)
            connector = CsvConnector(mapping, place, pseudonymiser)
            mine: list[Slot] = []
            pending: list[dict[str, object]] = []
            for read in connector.read(agencies / "extracts" / f"{agency.slug}.csv"):
                pending += read.events
                while len(pending) >= batch_size:
                    body = orjson.dumps(pending[:batch_size])
                    del pending[:batch_size]
                    out.write(body)
                    mine.append(Slot(index, offset, len(body), batch_size))
                    offset += len(body)
            placed += [((k + 0.5) / len(mine), slot) for k, slot in enumerate(mine)]
    placed.sort(key=lambda item: item[0])
    slots = [slot for _, slot in placed]
    stages["connectors"] = (
        time.perf_counter() - start,
        f"{len(slots) * batch_size:,} events in {len(slots):,} batches, {offset / 2**20:,.0f} MiB",
    )
    headers = [{"Content-Type": BATCH_TYPE, "Authorization": f"Bearer {t}"} for t in tokens]
    return Spool(spool_path, slots, headers), stages


# -- the servers ----------------------------------------------------------------------------


def raw_server(port: int) -> None:
    """(a)'s server, in a process of its own: the body read, parsed with orjson, counted."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def events(request: Request) -> Response:
        parsed = orjson.loads(await request.body())
        return Response(orjson.dumps({"accepted": len(parsed)}), media_type="application/json")

    async def health(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    app = Starlette(
        routes=[Route("/v1/events", events, methods=["POST"]), Route("/health", health)]
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")  # as `hub serve` does


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    output: Path
    url: str

    def check(self) -> None:
        if self.process.poll() is not None:
            tail = self.output.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(
                f"the {self.name} server (pid {self.process.pid}) exited with "
                f"{self.process.returncode}:\n{tail}"
            )

    def cpu_seconds(self) -> float | None:
        """The server process's user + system CPU so far (Linux's /proc), or None."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serving(name: str, argv: list[str], folder: Path) -> Iterator[Server]:
    """Start a server process, wait until its /health answers; SIGTERM it (then kill) on exit."""
    port = free_port()
    output = folder / f"{name}-server.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}  # the default hub
    with output.open("wb") as out:
        process = subprocess.Popen(
            [*argv, "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(name, process, output, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 120
        while True:
            server.check()
            try:
                if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {name} server did not answer /health in 120 s")
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the load -------------------------------------------------------------------------------


@dataclass
class Run:
    """What one open-loop run measured."""

    label: str
    rate: float
    seconds: float
    requests: int
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    latencies: list[float] = field(default_factory=list)
    """Per batch, from due to answered; inf for a timeout."""
    errors: Counter[str] = field(default_factory=Counter)
    timeouts: int = 0
    unsent: int = 0
    first_problem: str = ""
    elapsed: float = 0.0
    generator_late: float = 0.0
    generator_cpu: float = 0.0
    server_cpu: float | None = None
    stored: int | None = None
    """AgencyEventRecorded events the store gained."""
    taken: int | None = None
    """Events the hub counted accepted (its own count, GET /v1/agency/submissions): more than
    `accepted` where batches timed out here after the hub took them."""
    caught_up: float | None = None

    @property
    def accepted_rate(self) -> float:
        return self.accepted / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan

    @property
    def p50(self) -> float:
        return self.percentile(0.50)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)

    @property
    def sustained(self) -> bool:
        return self.accepted_rate >= SUSTAINED_SHARE * self.rate and self.p99 <= TARGET_P99

    def problems(self) -> str:
        found = [f"{n:,} {kind}" for kind, n in self.errors.most_common()]
        if self.timeouts:
            found.append(f"{self.timeouts:,} timeouts ({self.unsent:,} of them never sent)")
        if self.duplicate or self.rejected:
            found.append(f"{self.duplicate:,} events duplicate, {self.rejected:,} rejected")
        return "; ".join(found)


async def open_loop(
    url: str,
    spool: Spool,
    slots: list[Slot],
    run: Run,
    connections: int,
    timeout: float,
) -> None:
    """Send `slots` to `url`/v1/events, one due every batch/rate seconds, over `connections`
    connections; fills `run`."""
    interval = run.seconds / len(slots)
    target = f"{url}/v1/events"
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    queue: asyncio.Queue[tuple[Slot, float] | None] = asyncio.Queue()
    last_answer = 0.0

    async def send(client: httpx.AsyncClient) -> None:
        nonlocal last_answer
        while (item := await queue.get()) is not None:
            slot, due = item
            left = due + timeout - time.perf_counter()
            if left <= 0:  # already past its time: not sent, a timeout
                run.timeouts += 1
                run.unsent += 1
                run.latencies.append(math.inf)
                continue
            try:
                async with asyncio.timeout(left):
                    response = await client.post(
                        target, content=spool.body(slot), headers=spool.headers[slot.agency]
                    )
            except TimeoutError:
                run.timeouts += 1
                run.latencies.append(math.inf)
                continue
            except httpx.HTTPError as error:
                answered = time.perf_counter()
                run.errors[type(error).__name__] += 1
                run.first_problem = run.first_problem or f"{type(error).__name__}: {error}"
            else:
                answered = time.perf_counter()
                if response.status_code == 200:
                    counts = orjson.loads(response.content)
                    run.accepted += counts["accepted"]
                    run.duplicate += counts.get("duplicate", 0)
                    run.rejected += counts.get("rejected", 0)
                    if counts.get("rejected") and not run.first_problem:
                        bad = [e for e in counts["events"] if e["status"] == "rejected"]
                        run.first_problem = f"rejected: {bad[0]['field']}: {bad[0]['reason']}"
                else:
                    run.errors[f"HTTP {response.status_code}"] += 1
                    run.first_problem = run.first_problem or (
                        f"HTTP {response.status_code}: {response.text[:300]}"
                    )
                del response
            run.latencies.append(answered - due)
            last_answer = max(last_answer, answered)

    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        # Open the connections first, so the first batches do not pay for them.
        await asyncio.gather(*(client.get(f"{url}/health") for _ in range(connections)))
        senders = [asyncio.create_task(send(client)) for _ in range(connections)]
        cpu = time.process_time()
        start = time.perf_counter() + 0.05
        for index, slot in enumerate(slots):
            due = start + index * interval
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            run.generator_late = max(run.generator_late, time.perf_counter() - due)
            queue.put_nowait((slot, due))
        for _ in senders:
            queue.put_nowait(None)
        await asyncio.gather(*senders)
        run.generator_cpu = time.process_time() - cpu
        run.elapsed = max(last_answer, start + run.seconds) - start


def load(
    server: Server,
    spool: Spool,
    slots: list[Slot],
    label: str,
    rate: float,
    connections: int,
    timeout: float,
) -> Run:
    seconds = len(slots) * slots[0].events / rate
    print(
        f"{label}: {rate:,.0f} events/s for {seconds:,.0f} s ({len(slots):,} batches) ...",
        flush=True,
    )
    run = Run(label, rate, seconds, len(slots))
    before = server.cpu_seconds()
    asyncio.run(open_loop(server.url, spool, slots, run, connections, timeout))
    after = server.cpu_seconds()
    if before is not None and after is not None:
        run.server_cpu = after - before
    server.check()
    return run


# -- the store ------------------------------------------------------------------------------


def wait_applied(hub: Runtime, server: Server, patience_s: float = 900) -> float:
    """Until the served hub's worker has applied the whole log (and the log has stopped
    growing: a batch that timed out here may still be being taken there); the seconds taken."""
    start = time.monotonic()
    settled: tuple[dict[int, int], float] | None = None
    while True:
        server.check()
        ends = hub.log.end_offsets()
        lag = sum(end - hub.worker.next_offset(p) for p, end in ends.items())
        now = time.monotonic()
        if lag == 0 and settled is not None and ends == settled[0]:
            return settled[1] - start
        settled = (ends, now) if lag == 0 else None
        if now - start > patience_s:
            raise RuntimeError(f"the served worker still had {lag:,} entries to apply")
        time.sleep(0.1 if settled is None else 0.5)


def count_recorded(hub: Runtime, after: int) -> tuple[int, int]:
    """How many AgencyEventRecorded the store holds past notification `after`; and the store's
    last notification id."""
    recorder = hub.app.recorder
    stop = recorder.max_notification_id() or 0
    count, position = 0, after
    while position < stop:
        page = recorder.select_notifications(
            start=position + 1, limit=10_000, stop=stop, topics=[RECORDED_TOPIC]
        )
        if not page:
            break
        count += len(page)
        position = page[-1].id
    return count, stop


def taken_so_far(server: Server, spool: Spool) -> int:
    """The events the hub has counted accepted, over every agency (its own count)."""
    total = 0
    for headers in spool.headers:
        answer = httpx.get(
            f"{server.url}/v1/agency/submissions",
            headers={"Authorization": headers["Authorization"]},
            timeout=60,
        )
        answer.raise_for_status()
        total += int(answer.json()["accepted"])
    return total


def check_stored(
    hub: Runtime, server: Server, spool: Spool, run: Run, position: tuple[int, int]
) -> tuple[int, int]:
    """Wait for the worker, then note in `run` what the store gained and what the hub counted
    accepted; the new (store position, hub's count)."""
    run.caught_up = wait_applied(hub, server)
    run.stored, stored_at = count_recorded(hub, position[0])
    taken = taken_so_far(server, spool)
    run.taken = taken - position[1]
    return stored_at, taken


# -- the report -----------------------------------------------------------------------------


def ms(seconds: float) -> str:
    if math.isinf(seconds):
        return "timeout"
    if math.isnan(seconds):
        return "-"
    return f"{seconds * 1000:,.1f} ms"


def times(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if math.isfinite(a / b) else "-"


def lost(run: Run) -> str:
    """Stored against accepted: against the hub's own count, which also has the events of
    batches that timed out here after the hub took them (so always >= the answered count)."""
    stored, taken = run.stored or 0, run.taken if run.taken is not None else run.accepted
    if taken < run.accepted:
        return f"the hub counted {taken:,} accepted, fewer than answered: CHECK"
    if stored == taken:
        return "0 lost"
    if stored < taken:
        return f"{taken - stored:,} LOST"
    return f"{stored - taken:,} more stored than accepted: CHECK"


def row(label: str, run: Run) -> str:
    cpu = "" if run.server_cpu is None else f"{run.server_cpu / run.elapsed:5.2f} cores"
    return (
        f"  {label:31}: {run.accepted_rate:10,.0f} {ms(run.p50):>11} {ms(run.p99):>11} "
        f"{sum(run.errors.values()):7,} {run.timeouts:8,}   {cpu}"
    )


def report(
    raw: Run,
    hub: Run,
    steps: list[Run],
    args: argparse.Namespace,
    stages: dict[str, tuple[float, str]],
) -> list[str]:
    rate = args.rate
    lines = [
        f"\noffered {rate:,.0f} events/s for {args.seconds:,.0f} s: {hub.requests:,} batches of "
        f"{args.batch} real agency events, {rate / args.batch:,.1f} due a second on a fixed "
        f"schedule over {args.connections} connections (open loop: latency from when due)",
        f"  {'':31}  {'accepted/s':>10} {'p50':>11} {'p99':>11} {'errors':>7} {'timeouts':>8}"
        "   server CPU",
        row("(a) raw endpoint (orjson only)", raw),
        row("(b) hub POST /v1/events", hub),
        f"  {'(b)/(a) accepted rate':31}: {hub.accepted_rate / raw.accepted_rate:10.3f}",
        f"  {'(b)/(a) p50, p99':31}: {times(hub.p50, raw.p50):>10}, {times(hub.p99, raw.p99)}",
        f"  {'(b) accepted / stored':31}: {hub.accepted:,} accepted, {hub.stored or 0:,} "
        f"AgencyEventRecorded stored: {lost(hub)}",
        *(
            [
                f"  {'':31}  ({hub.taken:,} by the hub's own count: "
                f"{hub.taken - hub.accepted:,} in batches that timed out here after it took them)"
            ]
            if hub.taken is not None and hub.taken != hub.accepted
            else []
        ),
        f"  {'(b) worker caught up':31}: {hub.caught_up or 0:,.1f} s after the last answer",
    ]
    for label, run in (("(a)", raw), ("(b)", hub)):
        if run.problems():
            lines.append(f"  {label + ' problems':31}: {run.problems()}")
        if run.first_problem:
            lines.append(f"  {label + ' first problem':31}: {run.first_problem}")
        lines.append(
            f"  {label + ' load generator':31}: late by up to {ms(run.generator_late)}, "
            f"{run.generator_cpu / run.elapsed:.2f} cores"
        )
    lines.append(
        f"  (c) highest offered rate sustained (accepted >= {SUSTAINED_SHARE:.0%} of offered, "
        f"p99 <= {TARGET_P99 * 1000:.0f} ms):"
    )
    best: Run | None = None
    for run in [hub, *steps]:
        verdict = "sustained" if run.sustained else "not sustained"
        extra = f"; {run.problems()}" if run.problems() else ""
        lines.append(
            f"      {run.rate:10,.0f} events/s, {run.seconds:4,.0f} s: accepted "
            f"{run.accepted_rate:8,.0f}/s, p99 {ms(run.p99):>11}, {lost(run)}: {verdict}{extra}"
        )
        if run.sustained and best is None:
            best = run
    if best is None:
        lines.append(f"      -> none of these (down to {[hub, *steps][-1].rate:,.0f} events/s)")
    elif best is hub:
        lines.append(f"      -> {best.rate:,.0f} events/s (the highest tried)")
    else:
        lines.append(f"      -> {best.rate:,.0f} events/s")
    met = hub.sustained and lost(hub) == "0 lost"
    lines.append(
        f"  target: keeps up with {rate:,.0f} events/s at p99 <= {TARGET_P99 * 1000:.0f} ms, "
        f"0 lost: {'met' if met else 'NOT met'} (accepted {hub.accepted_rate:,.0f}/s, "
        f"p99 {ms(hub.p99)}, {lost(hub)})"
    )
    lines += [
        f"  {'setup: ' + stage:31}: {sec:7.1f} s   ({what})"
        for stage, (sec, what) in stages.items()
    ]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines += [
        f"  {'peak resident memory, benchmark':31}: {peak:7.0f} MiB",
        f"  {'peak resident memory, a server':31}: {children:7.0f} MiB   (the largest)",
    ]
    return lines


# -- the run --------------------------------------------------------------------------------


def batches_for(rate: float, seconds: float, batch: int) -> int:
    return round(rate * seconds / batch)


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rate", type=float, default=10_000, help="offered events a second (default 10,000)"
    )
    parser.add_argument("--seconds", type=float, default=60, help="length of (a) and (b) (60)")
    parser.add_argument("--connections", type=int, default=16, help="connections (default 16)")
    parser.add_argument("--batch", type=int, default=100, help="events a request (default 100)")
    parser.add_argument(
        "--steps", type=int, default=3, help="halvings of the rate tried in (c) (default 3)"
    )
    parser.add_argument(
        "--step-seconds",
        type=float,
        default=None,
        help="length of each step of (c) (default 20, or --seconds if shorter)",
    )
    parser.add_argument(
        "--timeout", type=float, default=10, help="seconds from due to a timeout (default 10)"
    )
    parser.add_argument(
        "--workdir", type=Path, default=ROOT / "bench-data", help="where the temp folder goes"
    )
    parser.add_argument("--raw-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw_server:
        return args
    if args.step_seconds is None:
        args.step_seconds = min(20.0, args.seconds)
    problems = [
        f"--{name.replace('_', '-')} must be a number more than 0, not {getattr(args, name):g}"
        for name in ("rate", "seconds", "step_seconds", "timeout")
        if not (math.isfinite(getattr(args, name)) and getattr(args, name) > 0)
    ]
    if args.connections < 1:
        problems.append(f"--connections must be at least 1, not {args.connections}")
    if not 1 <= args.batch <= 1000:
        problems.append(f"--batch must be from 1 to 1,000 (the hub's limit), not {args.batch}")
    if args.steps < 0:
        problems.append(f"--steps must be 0 or more, not {args.steps}")
    if not problems:
        for k in range(args.steps + 1):
            rate, seconds = args.rate / 2**k, args.seconds if k == 0 else args.step_seconds
            if batches_for(rate, seconds, args.batch) < 1:
                problems.append(
                    f"{rate:g} events/s for {seconds:g} s is less than one batch of "
                    f"{args.batch}: offer more, for longer, or fewer --steps"
                )
                break
    if problems:
        parser.error("; ".join(problems))
    return args


def main() -> None:
    args = options()
    if args.raw_server:  # (a)'s server, started by the benchmark itself
        raw_server(args.port)
        return
    for signum in (signal.SIGINT, signal.SIGTERM):  # (asyncio.run's own SIGINT handling
        signal.signal(signum, on_stop_signal)  # only cancels its task: not enough here)
    step_plan = [
        (args.rate / 2**k, batches_for(args.rate / 2**k, args.step_seconds, args.batch))
        for k in range(1, args.steps + 1)
    ]
    main_batches = batches_for(args.rate, args.seconds, args.batch)
    needed = main_batches + sum(n for _, n in step_plan)
    args.workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-api-", dir=args.workdir))
    data_dir = scratch / "hub-data"
    steps: list[Run] = []
    try:
        spool, stages = prepare(data_dir, scratch / "agencies", needed, args.batch)
        spool.open()
        try:
            raw_argv = [sys.executable, str(Path(__file__).resolve()), "--raw-server"]
            with serving("raw", raw_argv, scratch) as server:
                raw = load(
                    server,
                    spool,
                    spool.slots[:main_batches],
                    "(a) raw endpoint",
                    args.rate,
                    args.connections,
                    args.timeout,
                )
            hub_argv = [sys.executable, "-m", "hub.cli", "serve", "--data-dir", str(data_dir)]
            with (
                serving("hub", hub_argv, scratch) as server,
                open_hub(Settings(data_dir=data_dir, kafka_bootstrap=None, store="sqlite")) as hub,
            ):
                slots = spool.take(main_batches)
                hub_run = load(
                    server, spool, slots, "(b) the hub", args.rate, args.connections, args.timeout
                )
                position = check_stored(hub, server, spool, hub_run, (0, 0))
                for rate, n in step_plan:
                    if hub_run.sustained:
                        break  # no need to step down
                    run = load(
                        server,
                        spool,
                        spool.take(n),
                        "(c) the hub",
                        rate,
                        args.connections,
                        args.timeout,
                    )
                    position = check_stored(hub, server, spool, run, position)
                    steps.append(run)
                    if run.sustained:
                        break
                rejected = sum(hub.rejected.end_offsets().values())
        finally:
            spool.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    lines = report(raw, hub_run, steps, args, stages)
    if rejected:
        lines.append(f"  CHECK: the served worker put {rejected:,} entries in the rejected log")
    print("\n".join(lines))


if __name__ == "__main__":
    try:
        main()
    except BaseException as error:
        if not (isinstance(error, KeyboardInterrupt) or ASKED_TO_STOP.is_set()):
            raise
        print("interrupted: the servers stopped, the temp folder removed", file=sys.stderr)
        sys.exit(130)
