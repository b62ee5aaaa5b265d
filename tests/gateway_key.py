"""The gateway key tests sign log entries with where no hub's data folder is at hand (ingest
built directly): a worker given `TEST_GATEWAY` applies what such an ingest appended."""

from hub.log import Authenticator

TEST_GATEWAY = Authenticator(b"the tests' own gateway key......")
