"""The gateway: agencies' inbound topics into the hub's log, with a receipt for every event,
in Kafka transactions (`hub.gateway.gateway`)."""

from hub.gateway.gateway import Gateway, GatewayError

__all__ = ["Gateway", "GatewayError"]
