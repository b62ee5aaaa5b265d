"""API keys and the access log: who may call the hub, and what they read.

A key is shown once, when it is made (`hub.<id>.<secret>`); only the SHA-256 of its secret is
kept (the secret is 32 random bytes, so a fast hash is enough: there is nothing to guess), with
its role, its agency (agency keys), when it was made, last used and revoked. Every request that
reads figures or events is written to the access log: the key, role, route, question, cuts,
time and the store position of the answer; never the figures themselves.

    keys = KeyStore(Path("hub-data/access.sqlite"))
    token = keys.create("agency", agency="police-north").token   # give this to the agency
    principal = keys.verify(token)                               # None if unknown or revoked
"""

import hashlib
import hmac
import secrets
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

from schemas.base import format_rfc3339
from schemas.errors import HubError

Role = Literal["agency", "commissioner", "steward", "auditor"]
ROLES: tuple[str, ...] = get_args(Role)
PREFIX = "hub"


class CredentialError(HubError):
    """A key command refused: the message says which key or option and why."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, role and (agency keys) agency."""

    key_id: str
    role: Role
    agency: str | None


@dataclass(frozen=True)
class NewKey:
    principal: Principal
    token: str
    """The whole key, shown once: `hub.<id>.<secret>`."""


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    role: str
    agency: str | None
    created: str
    last_used: str | None
    revoked: str | None


@dataclass(frozen=True)
class Access:
    """One read on the record."""

    at: str
    key_id: str
    role: str
    route: str
    question: str | None
    cuts: str | None
    position: int | None


SCHEMA = """
create table if not exists keys (
    key_id text primary key, role text not null, agency text, secret_sha256 text not null,
    created text not null, last_used text, revoked text);
create table if not exists submissions (
    agency text not null, status text not null, n integer not null,
    primary key (agency, status));
create table if not exists access_log (
    seq integer primary key autoincrement, at text not null, key_id text not null,
    role text not null, route text not null, question text, cuts text, position integer);
"""


class KeyStore:
    """The keys and the access log, in one SQLite file of the data folder; thread-safe."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.path, self._clock = path, clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("pragma journal_mode=wal")
        self._db.executescript(SCHEMA)
        path.chmod(0o600)

    def _now(self) -> str:
        return format_rfc3339(self._clock())

    def create(self, role: str, agency: str | None = None) -> NewKey:
        """Make a key for `role` (an agency key names its agency); returns it once."""
        if role not in ROLES:
            raise CredentialError(f"--role {role!r}: choose one of {', '.join(ROLES)}")
        if (role == "agency") != (agency is not None):
            raise CredentialError(
                "an agency key needs --agency (the agency's slug); other roles take none"
            )
        key_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        with self._lock:
            self._db.execute(
                "insert into keys values (?, ?, ?, ?, ?, null, null)",
                (key_id, role, agency, _digest(secret), self._now()),
            )
        principal = Principal(key_id, role, agency)  # type: ignore[arg-type]
        return NewKey(principal, f"{PREFIX}.{key_id}.{secret}")

    def verify(self, token: str) -> Principal | None:
        """The principal of a valid, unrevoked key (its last use recorded); else None."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != PREFIX:
            return None
        _, key_id, secret = parts
        with self._lock:
            row = self._db.execute(
                "select role, agency, secret_sha256, revoked from keys where key_id = ?",
                (key_id,),
            ).fetchone()
            if row is None or row[3] is not None:
                return None
            if not hmac.compare_digest(row[2], _digest(secret)):
                return None
            self._db.execute(
                "update keys set last_used = ? where key_id = ?", (self._now(), key_id)
            )
        return Principal(key_id, row[0], row[1])

    def revoke(self, key_id: str) -> None:
        with self._lock:
            done = self._db.execute(
                "update keys set revoked = ? where key_id = ? and revoked is null",
                (self._now(), key_id),
            ).rowcount
        if not done:
            raise CredentialError(f"no unrevoked key {key_id!r}; `hub keys list` shows them")

    def all(self) -> list[KeyInfo]:
        with self._lock:
            rows = self._db.execute(
                "select key_id, role, agency, created, last_used, revoked from keys "
                "order by created, key_id"
            ).fetchall()
        return [KeyInfo(*row) for row in rows]

    def record(
        self,
        principal: Principal,
        route: str,
        question: str | None = None,
        cuts: str | None = None,
        position: int | None = None,
    ) -> None:
        """Put one read on the record (never the figures it returned)."""
        with self._lock:
            self._db.execute(
                "insert into access_log (at, key_id, role, route, question, cuts, position) "
                "values (?, ?, ?, ?, ?, ?, ?)",
                (self._now(), principal.key_id, principal.role, route, question, cuts, position),
            )

    def accesses(self, after: int = 0, limit: int = 1000) -> list[tuple[int, Access]]:
        with self._lock:
            rows = self._db.execute(
                "select seq, at, key_id, role, route, question, cuts, position from access_log "
                "where seq > ? order by seq limit ?",
                (after, limit),
            ).fetchall()
        return [(row[0], Access(*row[1:])) for row in rows]

    def count_submissions(self, agency: str, statuses: Iterable[str]) -> None:
        """Add one request's outcomes (accepted, duplicate, rejected) to the agency's counts."""
        counts = Counter(statuses)
        with self._lock:
            self._db.executemany(
                "insert into submissions values (?, ?, ?) "
                "on conflict (agency, status) do update set n = n + excluded.n",
                [(agency, status, n) for status, n in counts.items()],
            )

    def submissions(self, agency: str) -> dict[str, int]:
        """The agency's counts so far, by outcome."""
        with self._lock:
            rows = self._db.execute(
                "select status, n from submissions where agency = ?", (agency,)
            ).fetchall()
        return {"accepted": 0, "duplicate": 0, "rejected": 0} | dict(rows)

    def close(self) -> None:
        self._db.close()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
