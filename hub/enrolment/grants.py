"""What each principal may do on the broker: the topics of a place and every agency's ACLs.

The broker denies whatever no ACL allows (`allow.everyone.if.no.acl.found=false`) and the hub
is its one super user, so the hub's own topics (`hub.events.v1`, `hub.events.rejected.v1`)
need no ACL at all: nobody else may touch them. An agency `A` gets exactly:

| resource | name | pattern | operations |
|---|---|---|---|
| topic | `hub.inbound.A.v1` | literal | WRITE, DESCRIBE |
| topic | `hub.receipts.A.v1` | literal | READ, DESCRIBE |
| group | `A` | literal | READ |
| group | `A.` | prefixed | READ |
| transactional id | `A.` | prefixed | WRITE, DESCRIBE |

A place's codes are lower-case letters, digits and hyphens, never a dot, so the prefix `A.`
cannot reach another agency's groups (`police-north.` is no prefix of `police-northwest.`).
A transactional producer (Kafka Connect's exactly-once source, Debezium) names its id `A.…`.
"""

from dataclasses import dataclass

from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)

from hub.settings import inbound_topic, receipts_topic

HUB_PRINCIPAL = "hub"
"""The hub's own user on the broker (`super.users=User:hub`)."""
RECEIPT_PARTITIONS = 1
"""An agency reads its receipts in the order the hub wrote them: one partition."""


@dataclass(frozen=True)
class Grant:
    """One ACL of an agency, as the table above lists it."""

    resource: ResourceType
    name: str
    pattern: ACLResourcePatternType
    operation: ACLOperation

    def acl(self, agency: str) -> ACL:
        return ACL(
            principal=principal(agency),
            host="*",
            operation=self.operation,
            permission_type=ACLPermissionType.ALLOW,
            resource_pattern=ResourcePattern(self.resource, self.name, self.pattern),
        )


def principal(agency: str) -> str:
    """The principal an agency's SCRAM user authenticates as."""
    return f"User:{agency}"


def grants(agency: str) -> list[Grant]:
    """Every ACL an agency holds; see the module docstring."""
    literal, prefixed = ACLResourcePatternType.LITERAL, ACLResourcePatternType.PREFIXED
    topic, group, txn = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID
    op = ACLOperation
    return [
        Grant(topic, inbound_topic(agency), literal, op.WRITE),
        Grant(topic, inbound_topic(agency), literal, op.DESCRIBE),
        Grant(topic, receipts_topic(agency), literal, op.READ),
        Grant(topic, receipts_topic(agency), literal, op.DESCRIBE),
        Grant(group, agency, literal, op.READ),
        Grant(group, f"{agency}.", prefixed, op.READ),
        Grant(txn, f"{agency}.", prefixed, op.WRITE),
        Grant(txn, f"{agency}.", prefixed, op.DESCRIBE),
    ]


def acls_of(agency: str | None = None) -> ACLFilter:
    """A filter matching every ACL of the agency's principal (None: of every principal),
    whatever it grants."""
    return ACLFilter(
        principal=None if agency is None else principal(agency),
        host=None,
        operation=ACLOperation.ANY,
        permission_type=ACLPermissionType.ANY,
        resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY),
    )
