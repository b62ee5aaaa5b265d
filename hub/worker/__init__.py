"""The worker: the log into the event store, exactly once; entries it cannot apply set aside."""
