"""The hub: ingest, log, worker, aggregates, audit, API and CLI."""
