"""Ingest: agencies' events checked, keyed again with the hub's key, deduplicated, sealed and
appended to the log."""
