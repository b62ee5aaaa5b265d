"""The HTTP API (`hub serve`): one router per role."""
