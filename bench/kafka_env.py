"""What `bench/ingest_kafka.py`'s modules share: the services the environment names, stopping
on a signal, the child processes (their CPU time read as they are reaped) and the clean-up.

    connection, pg = services()          # exits 2 saying what is missing
    process = start([sys.executable, "-m", "hub.cli", "worker"], env, out)
    cpu = reap(process)                  # CPU seconds (user + system) of its whole life
"""

import contextlib
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg
from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from psycopg import sql

from hub.bootstrap import postgres_connect
from hub.log.kafka_client import KafkaConnection
from schemas.errors import HubError

_CONFIG = os.environ.get("KAFKA_CLIENT_CONFIG")
CLIENT_CONFIG = Path(_CONFIG) if _CONFIG else None
"""The hub principal's client configuration on a secured broker (`<run>/hub.properties`)."""
ASKED_TO_STOP = threading.Event()
"""Set on Ctrl-C or SIGTERM: kafka-python's network code catches BaseException, so the
KeyboardInterrupt raised inside it can be lost; the loops here check this too."""
TICK = os.sysconf("SC_CLK_TCK")


def on_stop_signal(signum: int, frame: object) -> None:
    ASKED_TO_STOP.set()
    raise KeyboardInterrupt


def check_stop(_: int = 0) -> None:
    """Raise KeyboardInterrupt if asked to stop."""
    if ASKED_TO_STOP.is_set():
        raise KeyboardInterrupt


def kafka_connection(bootstrap: str) -> KafkaConnection:
    """The hub principal's connection the environment gives (its client configuration's TLS
    and SCRAM)."""
    if CLIENT_CONFIG is None:
        return KafkaConnection(bootstrap)
    return KafkaConnection.from_file(CLIENT_CONFIG, bootstrap)


def services() -> tuple[KafkaConnection, dict[str, str]]:
    """The connection to Kafka (KAFKA_BOOTSTRAP_SERVERS with the hub's client configuration
    KAFKA_CLIENT_CONFIG) and eventsourcing's POSTGRES_* settings, or exit 2 saying what is
    missing."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
    pg = {
        k: v for k, v in os.environ.items() if k.startswith("POSTGRES_") and k != "POSTGRES_SCHEMA"
    }
    problems = []
    if not bootstrap or CLIENT_CONFIG is None:
        problems.append(
            "KAFKA_BOOTSTRAP_SERVERS and KAFKA_CLIENT_CONFIG must be set (the agencies are "
            "enrolled on the secured broker): start one with `bash deploy/kafka/kafka.sh "
            "start` and export the address it prints and <run>/hub.properties"
        )
    missing = [k for k in ("POSTGRES_HOST", "POSTGRES_DBNAME", "POSTGRES_USER") if not pg.get(k)]
    if missing:
        problems.append(
            f"{', '.join(missing)} not set: start PostgreSQL with "
            "`bash deploy/postgres/postgres.sh start` and export the POSTGRES_* it prints "
            "(`set -a; . <run>/env; set +a`)"
        )
    if not problems:
        try:
            connection = kafka_connection(bootstrap)
            KafkaAdminClient(**connection.options(), bootstrap_timeout_ms=10_000).close()
        except (KafkaError, HubError) as error:
            problems.append(f"cannot reach Kafka at {bootstrap} ({error}): is the broker up?")
        try:
            postgres_connect(pg).close()
        except psycopg.Error as error:
            problems.append(f"cannot reach PostgreSQL ({str(error).strip()}): is it up?")
    if problems:
        print(
            "error: this benchmark needs a secured Kafka broker and PostgreSQL; "
            + "; ".join(problems),
            file=sys.stderr,
            flush=True,
        )
        os._exit(2)  # nothing made yet; a failed Kafka client's thread would hold up the exit
    return kafka_connection(bootstrap), pg


def start(command: list[str], env: dict[str, str], out: Path, cwd: Path = ROOT) -> "Child":
    """A child process, its standard output and error into `out`."""
    with out.open("wb") as sink:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT)
    return Child(process, out)


class Child:
    """A child process, its output file, and its CPU time once reaped (`reap`)."""

    def __init__(self, process: "subprocess.Popen[bytes]", out: Path) -> None:
        self.process, self.out, self.cpu = process, out, 0.0

    def output(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace") if self.out.exists() else ""

    def running(self) -> bool:
        """Whether it still runs (asked without reaping it: `reap` reads its CPU time then)."""
        if self.process.returncode is not None:
            return False
        found = os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return found is None

    def check(self, what: str) -> None:
        if not self.running():
            self.reap(0)
            raise RuntimeError(
                f"{what} (pid {self.process.pid}) exited with {self.process.returncode}:\n"
                + self.output()[-3000:]
            )

    def reap(self, timeout_s: float = 60) -> int:
        """Wait for it to end (killed after `timeout_s`), note its CPU seconds; its exit code."""
        if self.process.returncode is not None:
            return self.process.returncode
        deadline = time.monotonic() + timeout_s
        while True:
            pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
            if pid:
                self.process.returncode = os.waitstatus_to_exitcode(status)
                self.cpu = usage.ru_utime + usage.ru_stime
                return self.process.returncode
            if time.monotonic() > deadline:
                self.process.kill()
                deadline = float("inf")
            time.sleep(0.02)

    def stop(self, timeout_s: float = 60) -> int:
        """SIGTERM (a hub process finishes what it has in hand), then `reap`."""
        if self.running():
            self.process.terminate()
        return self.reap(timeout_s)


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy since boot (every core, /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / TICK


def _stat(pid: int) -> list[str]:
    """A process's /proc stat fields from the state on (field 3), or [] if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def process_cpu(pid: int | None, reaped: bool = False) -> float:
    """CPU seconds (user + system) of a running process, and with `reaped` of its children it
    has waited for, or 0."""
    fields = _stat(pid) if pid is not None else []
    if not fields:
        return 0.0
    return sum(int(x) for x in fields[11 : 15 if reaped else 13]) / TICK


def tree_cpu(root: int | None) -> float:
    """CPU seconds of a server and its processes (PostgreSQL's postmaster and its backends):
    theirs while they run, the postmaster's reaped children's once they have ended."""
    if root is None:
        return 0.0
    total = process_cpu(root, reaped=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat(int(stat.parent.name))
        if fields and int(fields[1]) == root:
            total += sum(int(x) for x in fields[11:13]) / TICK
    return total


def broker_pid() -> int | None:
    """The dev broker's process, from `deploy/kafka/kafka.sh`'s run folder if it is named."""
    run = os.environ.get("HUB_KAFKA_RUN")
    with contextlib.suppress(OSError, ValueError):
        return int(Path(run, "kafka.pid").read_text().strip()) if run else None
    return None


def postmaster_pid(pg: dict[str, str]) -> int | None:
    """PostgreSQL's postmaster, where it runs on this machine (the parent of a backend)."""
    with contextlib.suppress(psycopg.Error, ValueError, TypeError), postgres_connect(pg) as con:
        row = con.execute("select pg_backend_pid()").fetchone()
        fields = _stat(int(row[0])) if row else []
        return int(fields[1]) if fields else None
    return None


class CpuMeter:
    """CPU seconds of named processes, PostgreSQL, this process and the whole machine."""

    def __init__(self, pids: dict[str, int | None], postmaster: int | None) -> None:
        self.pids, self.postmaster = pids, postmaster

    def sample(self) -> dict[str, float]:
        found = {name: process_cpu(pid) for name, pid in self.pids.items()}
        found["PostgreSQL"] = tree_cpu(self.postmaster)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        found["the benchmark itself"] = usage.ru_utime + usage.ru_stime
        found["machine (every core)"] = machine_busy()
        return found


def create_schema(pg: dict[str, str], schema: str) -> None:
    with postgres_connect(pg) as con:
        con.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def remove(
    connection: KafkaConnection,
    pg: dict[str, str],
    topics: list[str],
    groups: list[str],
    schemas: list[str],
) -> None:
    """Drop the run's PostgreSQL schemas and delete its topics and groups (what exists)."""
    try:
        with postgres_connect(pg) as con:
            for schema in schemas:
                con.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
    except psycopg.Error as error:
        print(f"could not drop the schemas {', '.join(schemas)}: {error}", file=sys.stderr)
    try:
        admin = KafkaAdminClient(**connection.options())
        try:
            existing = set(admin.list_topics())
            admin.delete_topics([t for t in topics if t in existing], raise_errors=False)
            left = set(groups)
            deadline = time.monotonic() + 30  # a static member (the gateway) is let go slowly
            while left and time.monotonic() < deadline:
                for group in sorted(left):
                    with contextlib.suppress(KafkaError):
                        said = admin.delete_groups([group]).get(group)
                        if said in {"OK", "GroupIdNotFoundError"}:
                            left.discard(group)
                if left:
                    time.sleep(1)
            if left:
                print(f"could not delete the groups {', '.join(sorted(left))}", file=sys.stderr)
        finally:
            admin.close()
    except KafkaError as error:
        print(f"could not delete the topics {', '.join(topics)}: {error}", file=sys.stderr)
