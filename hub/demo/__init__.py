"""The demo: a synthetic place through every stage of the hub."""
