"""The projection updater and the answers: the store into DuckDB, asked under disclosure control."""
