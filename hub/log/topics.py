"""An agency's two topics, and why the broker refused a client on one of them.

    inbound_topic("police-north")       # hub.inbound.police-north.v1: it writes its events here
    receipts_topic("police-north")      # hub.receipts.police-north.v1: it reads the answers here
    raise refused(error, connection, "write", inbound_topic(agency), agency)

`refused` turns what kafka-python raises into a `BrokerError` that says what to do: the broker's
ACLs let each agency's principal write only its own inbound topic and read only its own
receipts (`hub.enrolment.grants`), so a refusal there nearly always means another agency's
client configuration. A wrong password is no clearer in kafka-python than a bootstrap that
timed out, so that message names both causes. No message holds an event's content.
"""

from kafka.errors import (
    KafkaError,
    KafkaTimeoutError,
    SaslAuthenticationFailedError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)

from hub.log.kafka_client import KafkaConnection
from hub.log.port import LogError


def inbound_topic(agency: str) -> str:
    """The topic an agency publishes to as itself (its principal may write nothing else)."""
    return f"hub.inbound.{agency}.v1"


def receipts_topic(agency: str) -> str:
    """The topic the hub answers an agency's events on (only that agency may read it)."""
    return f"hub.receipts.{agency}.v1"


class BrokerError(LogError):
    """The broker refused or failed what an agency's client asked (not a configuration the
    client could not read: that is `ClientConfigError`)."""


def refused(
    error: KafkaError, connection: KafkaConnection, verb: str, topic: str, agency: str
) -> BrokerError:
    """The `BrokerError` for `error`, raised while trying to `verb` (write, read) `topic`."""
    principal = f" ({connection.username})" if connection.username else ""
    if isinstance(error, TopicAuthorizationFailedError):
        return BrokerError(
            f"this client configuration's principal{principal} may not {verb} {topic}: is it "
            f"agency {agency}'s?"
        )
    bootstrap = isinstance(error, KafkaTimeoutError) and "bootstrap" in str(error)
    if bootstrap or isinstance(error, SaslAuthenticationFailedError):
        return BrokerError(
            f"cannot connect to {connection.describe()} to {verb} {topic}: the broker refused "
            f"this client configuration's login, or cannot be reached at that address: is it "
            f"agency {agency}'s, with its current password?"
        )
    if isinstance(error, UnknownTopicOrPartitionError):
        return BrokerError(f"{topic} does not exist: `hub kafka setup` makes the place's topics")
    return BrokerError(f"could not {verb} {topic}: {type(error).__name__}: {error}")
