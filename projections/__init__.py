"""DuckDB projections answering commissioners questions under disclosure control."""
