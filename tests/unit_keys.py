"""The unit keys tests load facts with where no hub's disclosure key is at hand: exact
answers never depend on them, and controlled ones agree whenever both sides use these."""

from projections.unit_keys import UnitKeys

TEST_UNIT_KEYS = UnitKeys(b"the tests' own disclosure key..")
