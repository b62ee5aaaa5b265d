"""Agencies as principals of the secured broker: their topics, ACLs and SCRAM credentials."""
