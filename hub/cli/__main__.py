"""`python -m hub.cli`: the `hub` command."""

import os

from hub.cli import main

os.environ.setdefault("COLUMNS", "120")
main()
