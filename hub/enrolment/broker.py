"""The hub's administration of the secured broker: a place's topics and ACLs, agencies'
credentials. Every call is made as the hub principal, the broker's one super user.

    with Broker(settings.kafka) as broker:
        broker.setup(place, settings)                       # idempotent
        broker.enrol(place, "police-north", Path("enrolled"))  # credential, ACLs, two files
        broker.revoke("police-north")                        # credential and ACLs deleted
        for row in broker.agencies(place): ...

Topics: `hub.inbound.<agency>.v1` (the partitions of the log) and `hub.receipts.<agency>.v1`
(one) for each agency of the place, and the hub's log and rejected log. ACLs: `grants.py`.
A credential is SCRAM-SHA-512 of a random password (8,192 iterations), made only at enrolment;
revoking deletes it and every ACL of the principal, and the broker's
`connections.max.reauth.ms` ends the agency's open connections within that time.
"""

import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from kafka import KafkaAdminClient
from kafka.admin import ScramMechanism, UserScramCredentialDeletion, UserScramCredentialUpsertion
from kafka.errors import KafkaError, TopicAlreadyExistsError

from hub.enrolment.client_files import check_free, write_client_files
from hub.enrolment.grants import (
    HUB_PRINCIPAL,
    RECEIPT_PARTITIONS,
    acls_of,
    grants,
    principal,
)
from hub.log.kafka_client import KafkaConnection
from hub.settings import Settings, inbound_topic, receipts_topic
from schemas.errors import HubError
from schemas.place import Place

ITERATIONS = 8192
MECHANISM = ScramMechanism.SCRAM_SHA_512


class BrokerError(HubError):
    """What the broker refused, or could not be asked."""

    status = 503
    field = "kafka"


@dataclass
class Setup:
    """What `setup` found and made."""

    made: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    acls: int = 0


@dataclass(frozen=True)
class AgencyOnBroker:
    """One agency as the broker knows it."""

    agency: str
    enrolled: bool
    acls: list[str]
    topics: list[str]


class Broker:
    """The hub principal's admin connection; see the module docstring."""

    def __init__(self, connection: KafkaConnection | None) -> None:
        if connection is None:
            raise BrokerError(
                "no Kafka: give --client-config (the hub's hub.properties, which "
                "`deploy/kafka/kafka.sh start` writes) or --kafka HOST:PORT"
            )
        self.connection = connection
        try:
            self._admin = KafkaAdminClient(**connection.options(), request_timeout_ms=30_000)
        except KafkaError as error:
            raise BrokerError(f"cannot reach {connection.describe()}: {error}") from error

    def setup(self, place: Place, settings: Settings) -> Setup:
        """Make what is missing of the place's topics and ACLs; change nothing there."""
        wanted = {settings.topic: settings.partitions, settings.rejected_topic: 1}
        for agency in sorted(place.agency_slugs):
            wanted[inbound_topic(agency)] = settings.partitions
            wanted[receipts_topic(agency)] = RECEIPT_PARTITIONS
        done = Setup()
        existing = set(self._call(self._admin.list_topics))
        for topic, partitions in wanted.items():
            if topic in existing:
                done.existing.append(topic)
                continue
            with contextlib.suppress(TopicAlreadyExistsError):  # made meanwhile: the same
                self._call(
                    self._admin.create_topics,
                    {topic: {"num_partitions": partitions, "replication_factor": -1}},
                )
            done.made.append(topic)
        for agency in sorted(place.agency_slugs):
            done.acls += self._grant(agency)
        return done

    def enrol(self, place: Place, agency: str, out: Path) -> tuple[Path, Path]:
        """Make the agency's credential and ACLs and write its two client configurations."""
        place.agency(agency)  # a PlaceError naming the known agencies
        if agency == HUB_PRINCIPAL:
            raise BrokerError(f"{agency!r} is the hub's own principal, not an agency")
        check_free(out, agency)
        if self._enrolled([agency]):
            raise BrokerError(
                f"{agency} is already enrolled: `hub agencies revoke {agency}` first to give "
                "it a new credential"
            )
        password = secrets.token_urlsafe(32)
        self._alter(UserScramCredentialUpsertion(agency, MECHANISM, password, ITERATIONS))
        try:
            paths = write_client_files(out, agency, password, self.connection)
        except BaseException:
            self._alter(UserScramCredentialDeletion(agency, MECHANISM))
            raise
        self._grant(agency)
        return paths

    def revoke(self, agency: str) -> tuple[bool, int]:
        """Delete the agency's credential and every ACL of its principal: (had a credential,
        ACLs deleted)."""
        if agency == HUB_PRINCIPAL:
            raise BrokerError("the hub's own principal cannot be revoked")
        had = bool(self._enrolled([agency]))
        if had:
            self._alter(UserScramCredentialDeletion(agency, MECHANISM))
        results = self._call(self._admin.delete_acls, [acls_of(agency)])
        deleted = 0
        for _filter, matched, error in results:
            if _failed(error):
                raise BrokerError(f"deleting the ACLs of {agency} failed: {error}")
            deleted += len(matched)
        return had, deleted

    def agencies(self, place: Place) -> list[AgencyOnBroker]:
        """Every agency of the place, and any other enrolled user, as the broker has them."""
        users = self._enrolled(None)
        acls, error = self._call(self._admin.describe_acls, acls_of())
        if _failed(error):
            raise BrokerError(f"listing the ACLs failed: {error}")
        topics = set(self._call(self._admin.list_topics))
        names = sorted(place.agency_slugs | (users - {HUB_PRINCIPAL}))
        rows = []
        for agency in names:
            held = [a for a in acls if a.principal == principal(agency)]
            mine = [t for t in (inbound_topic(agency), receipts_topic(agency)) if t in topics]
            described = sorted(_described(a) for a in held)
            rows.append(AgencyOnBroker(agency, agency in users, described, mine))
        return rows

    def _grant(self, agency: str) -> int:
        acls = [grant.acl(agency) for grant in grants(agency)]
        result = self._call(self._admin.create_acls, acls)
        failed = result.get("failed") or []
        if failed:
            first = failed[0]  # an error (class or instance), or an (ACL, error) pair
            error = first[-1] if isinstance(first, tuple) else first
            name = getattr(error, "__name__", type(error).__name__)
            raise BrokerError(f"granting the ACLs of {agency} failed: {name}")
        return len(acls)

    def _enrolled(self, users: list[str] | None) -> set[str]:
        """Which of `users` (None: any) has a SCRAM credential."""
        described = self._call(self._admin.describe_user_scram_credentials, users)
        return {user for user, info in described.items() if info.get("credential_infos")}

    def _alter(self, alteration: object) -> None:
        errors = self._call(self._admin.alter_user_scram_credentials, [alteration])
        problems = [message for message in errors.values() if message]
        if problems:
            raise BrokerError(f"the broker refused the credential change: {problems[0]}")

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except KafkaError as error:
            raise BrokerError(f"{self.connection.describe()}: {error}") from error

    def close(self) -> None:
        self._admin.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _failed(error: Any) -> bool:
    """Whether kafka-python's per-item error is one (its `NoError` has errno 0)."""
    return error is not None and int(getattr(error, "errno", 0) or 0) != 0


def _described(acl: Any) -> str:
    """One ACL for people: `WRITE literal topic hub.inbound.police-north.v1`."""
    pattern = acl.resource_pattern
    kind = pattern.resource_type.name.lower().replace("_", " ")
    return (
        f"{acl.operation.name} {pattern.pattern_type.name.lower()} {kind} {pattern.resource_name}"
    )
