"""The event log: a port (`EventLog`) and its adapters; only `schemas` and the standard library."""

from hub.log.authenticator import Authenticator
from hub.log.embedded import EmbeddedLog
from hub.log.port import (
    DEFAULT_PARTITIONS,
    EventLog,
    Headers,
    LogConsumer,
    LogEntry,
    LogError,
    LogRecord,
    Revoked,
    StartOf,
    partition_for,
)

__all__ = [
    "DEFAULT_PARTITIONS",
    "Authenticator",
    "EmbeddedLog",
    "EventLog",
    "Headers",
    "LogConsumer",
    "LogEntry",
    "LogError",
    "LogRecord",
    "Revoked",
    "StartOf",
    "partition_for",
]
