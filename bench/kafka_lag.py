"""The lag from an agency's publish to queryable, beside a live hub: a process of its own that
keeps the projections up to date, as a hub's would, and probes the path about once a second.

    with lag_sampler(settings, place_file, inbound, group) as (publishing, finish):
        publishing.set(); ...; publishing.clear()
        lags = finish()          # once the worker has caught up

A probe notes the time and the end offsets of the agencies' inbound topics (as the hub reads
them). It reaches the log when the gateway group's committed offsets have passed them (they are
committed in the gateway's transaction, with the events): then it notes the log's end offsets
(read_committed). It reaches the store when the store's positions have reached those, and it is
queryable when a projections catch-up begun after that has finished. Probes overlap, so a slow
stage gives late probes, not fewer.
"""

import contextlib
import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import queue
import resource
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from hub.bootstrap import open_hub, open_projections
from hub.settings import Settings
from schemas.place import load_place

Event = multiprocessing.synchronize.Event
PROBE_EVERY_S, LOOK_EVERY_S = 1.0, 0.1


@dataclass
class Lags:
    """Each probe's lag to the log (gateway), to the store, and to queryable; the CPU time."""

    gateway: list[float] = field(default_factory=list)
    store: list[float] = field(default_factory=list)
    queryable: list[float] = field(default_factory=list)
    cpu: float = 0.0  # the probing process's, every thread, its whole life


def sample_lag(
    settings_json: str,
    place_path: str,
    inbound: list[tuple[str, int]],
    group: str,
    ready: Event,
    publishing: Event,
    stop: Event,
    out: "multiprocessing.queues.Queue[tuple[Any, ...]]",
) -> None:
    """The probing process (see the module docstring); puts ("ok", Lags) or ("error", text).

    The probes are followed in the main thread, every 0.1 s; the projections catch up in a
    thread of their own (DuckDB's work is outside the GIL), so a long catch-up does not delay
    noticing a probe's arrival in the log or the store."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the benchmark stops it (Ctrl-C included)
    try:
        settings = Settings.model_validate_json(settings_json)
        connection = settings.kafka
        assert connection is not None
        tps = [TopicPartition(topic, p) for topic, p in inbound]
        ends_of = KafkaConsumer(**connection.options(), group_id=None, enable_auto_commit=False)
        admin = KafkaAdminClient(**connection.options())
        lags = Lags()
        with (
            contextlib.closing(ends_of),
            contextlib.closing(admin),
            open_hub(settings) as hub,
            open_projections(hub, load_place(Path(place_path))) as proj,
        ):
            to_log: list[tuple[float, dict[TopicPartition, int]]] = []
            to_store: list[tuple[float, dict[int, int]]] = []
            stored: list[float] = []  # probes in the store, for the next catch-up to finish
            lock, finished, failed = threading.Lock(), threading.Event(), []

            def catching_up() -> None:
                try:
                    while not finished.is_set():
                        with lock:
                            waiting = list(stored)
                            idle = not (to_log or to_store or stored)
                        if waiting or idle:  # as a live hub's: caught up whenever there is news
                            proj.catch_up()
                            done = time.monotonic()
                            with lock:
                                lags.queryable += [done - t0 for t0 in waiting]
                                del stored[: len(waiting)]
                        if not waiting:
                            finished.wait(LOOK_EVERY_S)
                except BaseException as error:
                    failed.append(error)

            thread = threading.Thread(target=catching_up, daemon=True)
            thread.start()
            ready.set()
            next_probe = 0.0
            while True:
                stopping = stop.is_set()  # set once the worker has caught up
                now = time.monotonic()
                if publishing.is_set() and now >= next_probe:
                    with lock:
                        to_log.append((now, ends_of.end_offsets(tps)))
                    next_probe = now + PROBE_EVERY_S
                if to_log:
                    done = admin.list_group_offsets({group: tps})[group]
                    at = {tp: (done[tp].offset if tp in done else -1) for tp in tps}
                    passed = [p for p in to_log if all(at[tp] >= e for tp, e in p[1].items())]
                    if passed:
                        log_ends, logged = hub.log.end_offsets(), time.monotonic()
                        lags.gateway += [logged - t0 for t0, _ in passed]
                        with lock:
                            to_store += [(t0, log_ends) for t0, _ in passed]
                            del to_log[: len(passed)]  # probes pass in order
                if to_store:
                    at_p = {p: hub.worker.next_offset(p) for p in range(hub.log.partitions)}
                    reached = [t0 for t0, e in to_store if all(at_p[p] >= e[p] for p in e)]
                    arrived = time.monotonic()
                    lags.store += [arrived - t0 for t0 in reached]
                    with lock:
                        stored += reached
                        del to_store[: len(reached)]
                if failed:
                    raise failed[0]
                if stopping and not (to_log or to_store):
                    break
                stop.wait(LOOK_EVERY_S)
            while stored and not failed:  # the last probes' catch-up
                time.sleep(0.05)
            finished.set()
            thread.join()
            if failed:
                raise failed[0]
            proj.catch_up()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        lags.cpu = usage.ru_utime + usage.ru_stime
        out.put(("ok", lags))
    except BaseException:
        out.put(("error", traceback.format_exc()))
        raise


@contextmanager
def lag_sampler(
    settings: Settings, place_path: Path, inbound: list[tuple[str, int]], group: str
) -> Iterator[tuple[Event, Callable[[], Lags], int | None]]:
    """The probing process: yields (publishing, finish, its pid); `finish()` stops it once its
    last catch-up is done and returns its Lags."""
    context = multiprocessing.get_context("spawn")  # no fork of a process with Kafka's threads
    ready, publishing, stop = context.Event(), context.Event(), context.Event()
    out: multiprocessing.queues.Queue[tuple[Any, ...]] = context.Queue()
    args = (settings.model_dump_json(), str(place_path), inbound, group, ready, publishing, stop)
    process = context.Process(target=sample_lag, args=(*args, out), name="projections")
    process.start()

    def result(timeout_s: float) -> tuple[Any, ...]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                got: tuple[Any, ...] = out.get(timeout=0.2)
                if got[0] == "error":
                    raise RuntimeError(f"the projections process failed:\n{got[1]}")
                return got
            if not process.is_alive() and out.empty():
                raise RuntimeError(f"the projections process exited with {process.exitcode}")
        raise RuntimeError(f"the projections process gave no result in {timeout_s:.0f} s")

    def finish() -> Lags:
        stop.set()
        lags: Lags = result(3600)[1]
        process.join()
        return lags

    try:
        while not ready.wait(0.2):
            if not process.is_alive():
                result(5)  # raises with its traceback
        yield publishing, finish, process.pid
    finally:
        stop.set()
        process.join(timeout=60)
        if process.is_alive():
            process.terminate()
            process.join()
