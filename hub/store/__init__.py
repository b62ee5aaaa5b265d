"""The event store: the eventsourcing application (journeys and partnerships), its recorders
with the audit ledger beside the events, and the ledger's reads."""
